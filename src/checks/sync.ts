/**
 * sync: irq_work_sync() returns only once the work is idle.
 *
 * With concurrent re-queueing, "idle" is slippery (the kernel clears BUSY from whichever execution
 * finishes with the flags unchanged, so overlapping executions of one work can clear it early).
 * So the check only speaks when it is sure that BUSY stayed set through the whole sync: either
 * the last claim made before the sync began has not started running when the sync returns, or
 * its execution R has not yet reached its BUSY clear, no claim happened since R's, and no other
 * execution of the work was still in flight when R started (so nobody else could have cleared
 * BUSY in between).
 *
 * The shadow words it reads are kept by checks/shadow.ts.
 */
import { W_CLAIMED } from '../kernel/layout.js';
import type { Check } from './check.js';
import { S_INFLIGHT, S_OVERLAP_CLAIM, S_PASSED_CLAIM, S_RUNNING_CLAIM, ShadowView } from './shadow-layout.js';

export const sync: Check = {
  name: 'sync',
  invariant: 'irq_work_sync returns only when the work is idle',
  hooks: ({ mem, report }) => {
    const i32 = mem.i32;
    const shadow = new ShadowView(mem);
    let claimedAtSyncStart = 0;
    return {
      syncStart(_cpu, work) {
        claimedAtSyncStart = Atomics.load(i32, mem.node(work) + W_CLAIMED);
      },
      syncEnd(_cpu, work) {
        const n = mem.node(work);
        const s = shadow.line(work);
        const running = Atomics.load(i32, s + S_RUNNING_CLAIM);
        // Case 1: the last claim made before the sync began has not even started running. Its
        // PENDING has been set since before the sync, and BUSY cannot be cleared while PENDING is
        // set (the clearing compare-exchange expects PENDING clear), so BUSY was set all along.
        if (
          claimedAtSyncStart > 0 &&
          running < claimedAtSyncStart &&
          Atomics.load(i32, n + W_CLAIMED) === claimedAtSyncStart
        ) {
          report(
            'sync',
            work,
            `irq_work_sync(work ${work}) returned while claim #${claimedAtSyncStart}, queued before the sync began, ` +
              `had not even started (PENDING and BUSY set all along)`,
          );
          return;
        }
        // Case 2: the execution of such a claim is still before its BUSY clear.
        if (running === 0 || running > claimedAtSyncStart) return;
        if (Atomics.load(i32, s + S_PASSED_CLAIM) >= running) return;
        if (Atomics.load(i32, s + S_INFLIGHT) === 0) return;
        if (Atomics.load(i32, n + W_CLAIMED) !== running) return;
        if (Atomics.load(i32, s + S_OVERLAP_CLAIM) === running) return;
        report(
          'sync',
          work,
          `irq_work_sync(work ${work}) returned while the callback of claim #${running}, queued before the sync began, ` +
            `had not finished (BUSY was set all along)`,
        );
      },
    };
  },
};
