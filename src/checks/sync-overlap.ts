/**
 * sync-overlap: irq_work_sync() returns only when no execution of the work that was claimed
 * before the sync began is still in progress — "ensures the entry is not currently in use", in
 * the words of the kernel's doc comment — overlapping executions included.
 *
 * Executions overlap when a work is queued again while its callback still runs on another CPU
 * (PENDING is clear, so the claim succeeds). BUSY is one bit for all of them, and whichever
 * execution's compare-exchange finds the flag word at the value it expects clears it: the newer
 * one when it finishes first, or the older one once the newer one has cleared PENDING (the word
 * has the older one's value again: an ABA). Either way BUSY goes while a callback still runs,
 * and irq_work_sync returns. The `sync` check stays silent when executions overlap, on purpose;
 * this check speaks exactly there.
 *
 * The condition, per work: when the sync returns, fewer executions have reached their BUSY clear
 * (S_BUSY_PASSED, ever) than claims had been made when the sync began (W_CLAIMED). Every claim
 * is run exactly once (the exactly-once and accounting checks hold that), so some claim made
 * before the sync began has an execution that has not reached its BUSY clear yet: its callback is
 * running (or has just returned), or it has not started. No false positive:
 *  - W_CLAIMED is counted by the claimer after its fetch-or succeeded, so a count read at the
 *    sync's start is a claim made before it (a plain increment seen late only lowers the count);
 *  - an execution counts itself in singleClearBusy, before its compare-exchange. If its BUSY
 *    clear let the sync return, that count came before the clear, the clear before the sync's
 *    load of BUSY, and that load before our load of the count (all seq-cst Atomics), so we see
 *    it. A count we do not see is of an execution that had not reached its BUSY clear when the
 *    sync returned: one still in progress, exactly what the finding says;
 *  - executions of claims made after the sync began only raise the count: they can hide a
 *    finding, never make one.
 * A correct irq_work_sync sees BUSY clear only when no claim is pending and no execution is in
 * progress, so every claim made so far has been counted by then.
 *
 * Opt-in (checks/index.ts OPT_IN_CHECKS): irq_work allows overlapping executions, and every
 * variant up to `current` lets BUSY go while one still runs, so this fires in merged and current
 * whenever a workload re-queues a work during its callback from another CPU and syncs it (the
 * default `mixed` does). It runs only where a workload asks for it (the `sync-overlap` preset,
 * or `"checks": ["sync-overlap"]` in a scenario file), like the zoo's other accepted behaviours.
 */
import { IRQ_WORK_HARD_IRQ } from '../kernel/flags.js';
import { W_CLAIMED, W_FLAGS } from '../kernel/layout.js';
import type { Check } from './check.js';
import { S_BUSY_PASSED, S_INFLIGHT, ShadowView } from './shadow-layout.js';

export const syncOverlap: Check = {
  name: 'sync-overlap',
  invariant: 'irq_work_sync returns only when no execution of a claim made before it began is still in progress (overlapping executions too)',
  hooks: ({ mem, report }) => {
    const i32 = mem.i32;
    const shadow = new ShadowView(mem);
    // irq_work_sync may sleep: only a task calls it, and a task's syncs do not nest.
    let claimedAtSyncStart = 0;
    return {
      singleClearBusy(_cpu, work) {
        // Before the compare-exchange that may clear BUSY (see above): counted first, cleared after.
        Atomics.add(i32, shadow.word(work, S_BUSY_PASSED), 1);
      },
      syncStart(_cpu, work) {
        // Written by claimers on other CPUs with a plain increment: Atomics.load takes whatever
        // count is there now, and a late one only makes the check miss.
        claimedAtSyncStart = Atomics.load(i32, mem.node(work) + W_CLAIMED);
      },
      syncEnd(_cpu, work) {
        const passed = Atomics.load(i32, shadow.word(work, S_BUSY_PASSED));
        if (passed >= claimedAtSyncStart) return;
        // Read after the verdict, for the message only (it may have changed since).
        const inFlight = Atomics.load(i32, shadow.word(work, S_INFLIGHT));
        // HARD_IRQ is set at init and never changes: a plain read is right.
        const hard = (i32[mem.node(work) + W_FLAGS]! & IRQ_WORK_HARD_IRQ) !== 0;
        report(
          'sync-overlap',
          work,
          `irq_work_sync(work ${work}${hard ? ', HARD_IRQ' : ''}) returned while the work was still in use: ` +
            `${claimedAtSyncStart} claims made before the sync began, only ${passed} executions past their BUSY clear ` +
            `when it returned (${inFlight} in flight just after)`,
        );
      },
    };
  },
};
