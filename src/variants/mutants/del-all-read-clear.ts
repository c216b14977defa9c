/** Mutant: llist_del_all as a read of the head, then a store of NULL — an add in between is lost. */
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class DelAllReadClear extends Kernel {
  override llistDelAll(head: number): number {
    const first = Atomics.load(this.i32, head);
    this.cpu.interruptPoint('llist_del_all:between-read-and-clear');
    Atomics.store(this.i32, head, 0);
    this.hooks.listDelAll(this.cpu.id, head, first);
    return first;
  }
}

export default defineMutant({
  name: 'del-all-read-clear',
  description: 'llist_del_all reads the head, then clears it (not one exchange)',
  expectedCheck: 'liveness',
  kernel: DelAllReadClear,
});
