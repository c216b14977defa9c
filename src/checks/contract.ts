/**
 * contract: what irq_work_queue() promises when it returns false ("already pending"). The work
 * is PENDING, so its run has not begun: a callback of the work will start after this call and
 * will see what the caller wrote before it. (25269871db1a made the claim a fetch-or, a full
 * barrier even when it fails, to keep exactly this promise across CPUs: it pairs with the
 * barrier after irq_work_single() clears PENDING.) A run that begins after a claim, failed or
 * successful, sees the caller's data written before that claim.
 *
 * The caller's data: each queue attempt writes the next number of its work's sequence, plainly,
 * and every callback reads them (contract-layout.ts). The orderings the check relies on, with F
 * the work's flag word (every claim's fetch-or and irq_work_single's clear of PENDING are
 * Atomics on F, so they have one order):
 *
 * - A run R begins, for the promise, at its clear of PENDING, C_R; its callback comes after C_R on
 *   the same CPU. A failed claim's fetch-or saw PENDING set, so it came before the clear of that
 *   PENDING: its run begins after it. A claim that succeeds after C_R opens a new epoch, owed by
 *   the next run. The hooks cannot mark either order exactly: the claim hook runs after the
 *   fetch-or and another CPU may see what it writes late, and singleStart runs before C_R. So
 *   each rule below uses only orders that are certain, and lateness only makes it miss:
 *
 * 1. (online, claim hook) A claim that fails must have found PENDING in what its fetch-or
 *    returned; otherwise no run owes it anything.
 *
 * 2. (online, claim hook) A claim on CPU c that fails after c's own run R of the same work has
 *    started its callback, while no claim of that work has succeeded since R began: then the
 *    PENDING it saw is R's own, and R has begun — nothing will run after this call. Why this is
 *    certain in a correct kernel: R's callback (which marks SEEN first thing) runs after C_R on
 *    c, and the failed claim comes after the callback's start on c (no interrupt point between a
 *    claim's fetch-or and its hook, so the callback's mark cannot fall in between): C_R precedes
 *    the fetch-or in F's order. PENDING, cleared at C_R, was set again before the fetch-or, and
 *    only a successful claim S sets it. S counts itself (W_CLAIMED) right after its fetch-or;
 *    the count of R's own claim is exact at singleStart (PENDING still set: no newer claim can
 *    have succeeded). Is S's count visible here? If S ran on c, yes (program order). Otherwise
 *    S was announced in IN_FLIGHT before its fetch-or (every queue attempt of the workload is),
 *    so our load of IN_FLIGHT — after our fetch-or, after S's — counts S until S returned; once
 *    S's decrement is what we read, its count is visible too (release/acquire through the
 *    counter). So we speak only when no other CPU's attempt is in flight and W_CLAIMED, read
 *    after IN_FLIGHT, still says R's claim. Claims nobody announced (a test calling the kernel
 *    directly) come only from a single thread, where counts are always visible.
 *
 * 3. (online, singleStart → singleClearBusy) At singleStart, before C_R, the run takes REQ: the
 *    newest data number of the claims whose hooks it can already see. Each of those claims'
 *    fetch-or came before its hook, so before R began; a hook seen late is simply not counted.
 *    The callback must have read at least REQ. (The hook's compare-exchange and singleStart's
 *    load themselves order the data store before the callback's read, so this fires only when a
 *    run reads data older than what it demonstrably follows — a stale read no correct kernel on
 *    the model gives; the test fakes one by hiding a store from the executing CPU.)
 *
 * 4. (end of run, unansweredFailedClaims) After the machine quiesced — every list empty, no
 *    work claimed, every CPU home — each failed claim must have been answered by a callback that
 *    read its data number or a newer one. The failed claim's number is its CPU's own data word
 *    at the hook: written before the fetch-or (the hook follows the fetch-or with no interrupt
 *    point between, so nothing of this CPU wrote in between), and the word only goes forward. In
 *    a correct kernel the run that clears the PENDING it saw begins after the fetch-or, and its
 *    callback's plain read is ordered after the caller's plain store by exactly the two barriers
 *    of the promise (the fetch-or, and the clear's Atomics.store, a locked instruction on
 *    x86-64): it sees that number or a newer one. A run that did not drain, or was aborted,
 *    cannot judge this: the caller (stress/report.ts) asks only after a drained run.
 *
 * Rules 2 and 4 catch a kernel whose pending run has already begun (e.g. PENDING cleared only
 * after the callback, the mutant `pending-cleared-late`); rule 2 at once when the failed queue
 * comes from that run's own CPU (a callback re-queueing its own work), rule 4 for the last such
 * queue of each work from anywhere.
 */
import { IRQ_WORK_PENDING } from '../kernel/flags.js';
import { W_CLAIMED } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import type { Check } from './check.js';
import { ContractView, UNSEEN } from './contract-layout.js';

export const contract: Check = {
  name: 'contract',
  invariant: 'a queue that fails (already pending) is answered by a callback that starts after it and sees its data',
  hooks: ({ mem, report }) => {
    const i32 = mem.i32;
    const view = new ContractView(mem);
    // Per work, on this CPU: W_CLAIMED when this CPU's latest run of it began (0: none yet), and
    // REQ then. A work never runs nested inside itself on one CPU, so one entry per work suffices.
    const runClaim = new Int32Array(mem.layout.nrNodes);
    const reqAtStart = new Int32Array(mem.layout.nrNodes);
    return {
      claim(self, work, ok, oldFlags) {
        // The per-CPU wakeup works have no caller and no data: the kernel queues them itself.
        if (mem.isWakeupWork(work)) return;
        const n = view.ownData(work, self);
        if (n > 0) view.raiseReq(work, n);
        if (ok) return;
        if (!(oldFlags & IRQ_WORK_PENDING)) {
          report('contract', work, `irq_work_queue(work ${work}) failed although its fetch-or found it not PENDING: no run owes this call`);
          return;
        }
        if (n > 0) view.recordFailed(work, self, n);
        // Rule 2. IN_FLIGHT before W_CLAIMED: see the header.
        const claim = runClaim[work]!;
        if (claim === 0 || view.seen(work, self) === UNSEEN) return;
        if (view.othersInFlight(work, self) !== 0) return;
        if (Atomics.load(i32, mem.node(work) + W_CLAIMED) !== claim) return;
        report(
          'contract',
          work,
          `irq_work_queue(work ${work}) returned false (already pending), but the PENDING it found is claim #${claim}'s, whose ` +
            `run on this CPU has already started its callback: no run of the work begins after this call`,
        );
      },
      singleStart(self, work) {
        if (mem.isWakeupWork(work)) return;
        // Exact: PENDING is still set, so no claim newer than the one being run can have succeeded.
        runClaim[work] = Atomics.load(i32, mem.node(work) + W_CLAIMED);
        reqAtStart[work] = view.req(work);
        view.markUnseen(work, self);
      },
      singleClearBusy(self, work) {
        if (mem.isWakeupWork(work)) return;
        const seen = view.seen(work, self);
        if (seen === UNSEEN || seen >= reqAtStart[work]!) return;
        report(
          'contract',
          work,
          `the callback of work ${work} (claim #${runClaim[work]}) read data #${seen}, but a claim made before its run began ` +
            `had written #${reqAtStart[work]}`,
        );
      },
    };
  },
};

/** A work whose newest failed claim no callback answered (rule 4). */
export interface UnansweredClaim {
  work: number;
  /** The CPU of that failed claim. */
  cpu: number;
  /** Its data number. */
  failed: number;
  /** The newest data number any callback of the work read (0: none). */
  seen: number;
}

/**
 * Rule 4, the end-of-run judgement: only meaningful once the machine has quiesced (nothing
 * pending, every CPU home); before that a failed claim may simply still be waiting for its run.
 * Empty when the memory has no contract region.
 */
export function unansweredFailedClaims(mem: KernelMemory): UnansweredClaim[] {
  const view = ContractView.find(mem);
  if (!view) return [];
  const out: UnansweredClaim[] = [];
  for (let work = mem.firstPoolWork; work < mem.layout.nrNodes; work++) {
    const failed = view.newestFailed(work);
    if (failed.n === 0) continue;
    const seen = view.newestSeen(work);
    if (failed.n > seen) out.push({ work, cpu: failed.cpu, failed: failed.n, seen });
  }
  return out;
}

/** One line for a finding of rule 4. */
export function describeUnanswered(u: UnansweredClaim): string {
  return (
    `irq_work_queue(work ${u.work}) on cpu${u.cpu} returned false (already pending) after its caller wrote data #${u.failed}, ` +
    `but no callback of the work read that number or a newer one afterwards (the newest any callback read is #${u.seen}): ` +
    `the run it was promised had begun before the call, or read stale data`
  );
}
