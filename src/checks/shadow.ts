/**
 * Shadow bookkeeping of executions, shared by the sync check and the liveness scanner (so it is
 * installed whenever checks are on, before the checks that read it):
 *   S_INFLIGHT       executions between irq_work_single's start and its end
 *   S_RUNNING_CLAIM  claim number of the execution that started last
 *   S_OVERLAP_CLAIM  claim number of an execution that started while another was in flight
 *   S_PASSED_CLAIM   claim number of the execution that last reached its BUSY clear
 *   S_LINKED         the list a completed llist_add published the node on (liveness)
 * (words of the shadow region, shadow-layout.ts).
 * An execution's claim number is W_CLAIMED when it starts: PENDING is still set then, so no
 * newer claim can have succeeded, and the claimer counted before linking the work.
 */
import type { KernelHooks } from '../kernel/hooks.js';
import { W_CLAIMED, W_NEXT } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { S_INFLIGHT, S_LINKED, S_OVERLAP_CLAIM, S_PASSED_CLAIM, S_RUNNING_CLAIM, ShadowView } from './shadow-layout.js';

export function shadowHooks(mem: KernelMemory): Partial<KernelHooks> {
  const i32 = mem.i32;
  const shadow = new ShadowView(mem);
  // Claim number of each work's execution on this CPU (one work never nests with itself on a CPU).
  const myClaim = new Int32Array(mem.layout.nrNodes);
  const maxNodes = mem.layout.nrNodes;
  return {
    listAdd(_cpu, head, work) {
      Atomics.store(i32, shadow.word(work, S_LINKED), head);
    },
    listDelAll(_cpu, head, first) {
      // The chain is ours now. Walk it as one-list does: stop at a node not published on this
      // head (a corrupted chain may run into other lists), never more nodes than exist.
      let node = first;
      for (let n = 0; node !== 0 && n < maxNodes; n++) {
        if (Atomics.compareExchange(i32, shadow.word(node, S_LINKED), head, 0) !== head) break;
        node = i32[mem.node(node) + W_NEXT]!;
      }
    },
    singleStart(_cpu, work) {
      const claim = Atomics.load(i32, mem.node(work) + W_CLAIMED);
      myClaim[work] = claim;
      const s = shadow.line(work);
      if (Atomics.add(i32, s + S_INFLIGHT, 1) > 0) Atomics.store(i32, s + S_OVERLAP_CLAIM, claim);
      Atomics.store(i32, s + S_RUNNING_CLAIM, claim);
    },
    singleClearBusy(_cpu, work) {
      Atomics.store(i32, shadow.word(work, S_PASSED_CLAIM), myClaim[work]!);
    },
    singleEnd(_cpu, work) {
      Atomics.sub(i32, shadow.word(work, S_INFLIGHT), 1);
    },
  };
}
