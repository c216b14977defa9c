/**
 * Mutant: irq_work_single clears PENDING only after the callback has returned (together with
 * BUSY), not before calling it. While the callback runs the work still looks pending, so
 * irq_work_queue() returns false ("already pending") — but the run it counts on has already
 * begun, and its callback may have read the caller's data before the caller wrote it. That queue
 * is lost: no run follows it. A callback that re-queues its own work loses every re-queue this
 * way. Nothing hangs, and every successful claim still runs exactly once.
 */
import { IRQ_WORK_CLAIMED } from '../../kernel/flags.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class PendingClearedLate extends Kernel {
  override irqWorkSingle(work: number): void {
    const flagsWord = this.flagsOf(work);
    const flags = Atomics.load(this.i32, flagsWord);
    this.hooks.singleStart(this.cpu.id, work, flags);
    // (the clear of PENDING before the callback is missing)
    this.cpu.interruptPoint('irq_work_single:before-func');
    this.accountExecuted(work);
    this.callFunc(work);
    this.cpu.interruptPoint('irq_work_single:after-func');
    this.hooks.singleClearBusy(this.cpu.id, work);
    // PENDING and BUSY at once: no claim can have succeeded meanwhile, PENDING was set all along.
    Atomics.and(this.i32, flagsWord, ~IRQ_WORK_CLAIMED);
    this.cpu.interruptPoint('irq_work_single:after-clear-busy');
    if ((this.cfg.preemptRt && !this.irqWorkIsHard(work)) || !this.cfg.archHasIrqWorkInterrupt) this.rcuwaitWakeUp(work);
    this.hooks.singleEnd(this.cpu.id, work);
  }
}

export default defineMutant({
  name: 'pending-cleared-late',
  description: 'irq_work_single clears PENDING only after the callback returns',
  expectedCheck: 'contract',
  kernel: PendingClearedLate,
});
