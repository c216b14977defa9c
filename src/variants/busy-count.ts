/**
 * `busy-count`: `current` plus a fix for the BUSY of overlapping executions (the zoo's
 * overlap-busy-aba). A work queued again while its callback still runs on another CPU runs twice
 * at once, and BUSY is one bit for both: whichever execution's compare-exchange finds the flag
 * word at the value it expects clears it — the newer one when it finishes first, or the older one
 * once the newer one has cleared PENDING (an ABA) — and irq_work_sync returns while the other
 * callback still runs.
 *
 * The fix counts executions in progress in the flag word's spare bits (8 and up: irq_work's flags
 * are bits 0-3, the csd type bits 4-7), so that BUSY means "a claim is pending or some execution
 * is in progress", which is what irq_work_sync's doc comment promises:
 *
 *   irq_work_claim()   unchanged: one fetch-or of PENDING | BUSY (and the csd type)
 *   irq_work_single()  start: one atomic add turns our PENDING into one more execution in
 *                      progress (BUSY stays set); it replaces atomic_set + smp_mb(), and is as
 *                      fully ordered as they are
 *                      end: a compare-exchange loop takes our execution off the count and clears
 *                      BUSY only when it was the last one and no claim is pending
 *   irq_work_sync()    unchanged (current's: spin, or rcuwait and a grace period)
 *
 * In C:
 *
 *   hard = irq_work_is_hard(work);          (HARD_IRQ never changes: read while PENDING is ours)
 *   flags = atomic_add_return(IRQ_WORK_RUNNING_ONE - IRQ_WORK_PENDING, &work->node.a_flags);
 *   ... work->func(work) ...
 *   flags = atomic_read(&work->node.a_flags);
 *   do {
 *           new = flags - IRQ_WORK_RUNNING_ONE;
 *           if (!(new & (IRQ_WORK_RUNNING_MASK | IRQ_WORK_PENDING)))
 *                   new &= ~IRQ_WORK_BUSY;
 *   } while (!atomic_try_cmpxchg(&work->node.a_flags, &flags, new));
 *   if (!(new & IRQ_WORK_BUSY) && ((rt && !hard) || !arch_irq_work_has_interrupt()))
 *           rcuwait_wake_up(&work->irqwait);
 *
 * Cost: the start's locked add takes the place of the smp_mb() (itself a locked instruction on
 * x86); the end's loop is the compare-exchange that is already there, retried only when a claim
 * or another execution of the same work changed the word in between. Only the execution that
 * clears BUSY wakes the sleeper (no one else can satisfy its condition), so on the spin path no
 * execution touches the work after the sync can return, and on the rcuwait path the one that
 * does is inside current's RCU section.
 *
 * Why not a generation bumped by each claim, so that an older execution's compare-exchange no
 * longer matches? It stops only one of the two orders: the newer execution, finishing first,
 * still finds the word at its own value and clears BUSY while the older callback runs.
 */
import { IRQ_WORK_BUSY, IRQ_WORK_HARD_IRQ, IRQ_WORK_PENDING } from '../kernel/flags.js';
import current from './current.js';
import { defineVariant } from './variant.js';

/** One execution in progress, in the count held in bits 8-30 of the flag word. */
export const IRQ_WORK_RUNNING_ONE = 0x100;
/** The count of executions in progress (never near 2^23: at most one per CPU context). */
export const IRQ_WORK_RUNNING_MASK = 0x7fffff00;

class BusyCountKernel extends current.kernel {
  /** irq_work_single() with the count: BUSY is cleared by the last execution out. */
  override irqWorkSingle(work: number): void {
    const flagsWord = this.flagsOf(work);
    // For the hook and the HARD_IRQ bit only: the add below is a read-modify-write, so an
    // execution ending elsewhere meanwhile (it changes the count) loses nothing. None of them can
    // clear BUSY before our add (our PENDING is set) or after it (our execution is counted).
    const flags = Atomics.load(this.i32, flagsWord);
    this.hooks.singleStart(this.cpu.id, work, flags);
    // Whether a sync of this work sleeps (and so needs waking), decided now, while the work is
    // surely ours: HARD_IRQ never changes, and reading it after our BUSY clear (as the base code's
    // irq_work_is_hard() does) would read a work whose owner may already have synced and freed it.
    const syncSleeps = (this.cfg.preemptRt && (flags & IRQ_WORK_HARD_IRQ) === 0) || !this.cfg.archHasIrqWorkInterrupt;
    // PENDING (set, and ours) becomes one execution in progress: subtracting the bit clears it
    // without a borrow. From here the work may be claimed and queued again; BUSY stays set.
    // A seq-cst read-modify-write: the full barrier that pairs with the fetch-or in
    // irq_work_claim(), as atomic_set + smp_mb() do in the base code.
    Atomics.add(this.i32, flagsWord, IRQ_WORK_RUNNING_ONE - IRQ_WORK_PENDING);
    this.cpu.interruptPoint('irq_work_single:after-clear-pending');

    this.accountExecuted(work);
    this.callFunc(work);
    this.cpu.interruptPoint('irq_work_single:after-func');

    this.hooks.singleClearBusy(this.cpu.id, work);
    // One execution fewer. Claims (fetch-or) and other executions (add, this loop) of the same
    // work change the word concurrently, so retry until our compare-exchange wins. BUSY goes only
    // with the last execution out and no claim pending: a pending claim's execution, or one still
    // running on another CPU, will clear it.
    let old = Atomics.load(this.i32, flagsWord);
    let next: number;
    for (;;) {
      next = old - IRQ_WORK_RUNNING_ONE;
      if ((next & (IRQ_WORK_RUNNING_MASK | IRQ_WORK_PENDING)) === 0) next &= ~IRQ_WORK_BUSY;
      const seen = Atomics.compareExchange(this.i32, flagsWord, old, next);
      if (seen === old) break;
      old = seen;
    }
    this.cpu.interruptPoint('irq_work_single:after-clear-busy');

    // Only the clear of BUSY can satisfy an irq_work_sync sleeper: an execution that merely
    // left the count wakes nobody, and touches the work no more.
    if ((next & IRQ_WORK_BUSY) === 0 && syncSleeps) this.rcuwaitWakeUp(work);
    this.hooks.singleEnd(this.cpu.id, work);
  }
}

export default defineVariant({
  name: 'busy-count',
  description: 'current plus a count of executions in progress in the flag word: BUSY is cleared by the last one out (overlap-busy-aba)',
  kernel: BusyCountKernel,
});
