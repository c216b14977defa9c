/**
 * lib/llist.c and include/linux/llist.h: the lock-less singly linked list.
 *
 * Any number of CPUs may add concurrently (compare-exchange on the head); deleting is only ever
 * "take the whole list" (exchange the head with NULL), which needs no lock either. There is no
 * llist_del_first here: with several deleters it has the ABA problem, and irq_work never uses it.
 *
 * A head is a word holding the first node's index (0 = empty); `next` is a word of each node.
 */
import { KernelBase } from './base.js';
import { Cov } from './coverage.js';

export abstract class Llist extends KernelBase {
  /** llist_add(): links `node` in front; returns whether the list was empty before. */
  llistAdd(node: number, head: number): boolean {
    const i32 = this.i32;
    const next = this.nextOf(node);
    this.hooks.listLink(this.cpu.id, head, node);
    // READ_ONCE(head->first): a plain read is enough, the compare-exchange below checks it.
    let first = i32[head]!;
    for (;;) {
      // Plain store, like the kernel's `new_last->next = first`: nobody can see the node before the
      // compare-exchange below publishes it, and that seq-cst exchange orders this store before it.
      i32[next] = first;
      this.cpu.interruptPoint('llist_add:before-cmpxchg');
      const seen = Atomics.compareExchange(i32, head, first, node);
      if (seen === first) break;
      this.cover(Cov.llistAddRetry);
      first = seen;
    }
    this.hooks.listAdd(this.cpu.id, head, node, first === 0);
    this.cover(first === 0 ? Cov.llistAddEmpty : Cov.llistAddNotEmpty);
    return first === 0;
  }

  /** llist_del_all(): takes the whole chain; the exchange pairs with the adders' compare-exchange. */
  llistDelAll(head: number): number {
    const first = Atomics.exchange(this.i32, head, 0);
    this.hooks.listDelAll(this.cpu.id, head, first);
    this.cover(first !== 0 ? Cov.llistDelAllTook : Cov.llistDelAllEmpty);
    return first;
  }

  /** llist_empty(): a racy peek (READ_ONCE), as in the kernel; only a hint. */
  llistEmpty(head: number): boolean {
    return Atomics.load(this.i32, head) === 0;
  }

  /** llist_next(). A plain read: the chain was handed to us by llist_del_all's exchange. */
  llistNext(node: number): number {
    return this.i32[this.nextOf(node)]!;
  }

  /** llist_reverse_order(): the chain taken by del_all is newest first; this makes it oldest first. */
  llistReverseOrder(first: number): number {
    let reversed = 0;
    while (first !== 0) {
      // Not a step other CPUs can see; an interrupt point all the same, so that a chain corrupted
      // into a cycle (the v2 bug can do that) is a lockup the watchdog can see and unwind, as
      // the kernel's NMI watchdog would report it, rather than a silent endless loop.
      this.cpu.interruptPoint('llist_reverse_order');
      const next = this.llistNext(first);
      this.i32[this.nextOf(first)] = reversed;
      reversed = first;
      first = next;
    }
    return reversed;
  }
}
