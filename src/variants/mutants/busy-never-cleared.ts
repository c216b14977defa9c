/** Mutant: irq_work_single never clears BUSY (e9838bd51169's kind of bug) — irq_work_sync hangs. */
import { IRQ_WORK_PENDING } from '../../kernel/flags.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class BusyNeverCleared extends Kernel {
  override irqWorkSingle(work: number): void {
    const flagsWord = this.flagsOf(work);
    let flags = Atomics.load(this.i32, flagsWord);
    this.hooks.singleStart(this.cpu.id, work, flags);
    flags &= ~IRQ_WORK_PENDING;
    Atomics.store(this.i32, flagsWord, flags);
    this.cpu.interruptPoint('irq_work_single:after-clear-pending');
    this.accountExecuted(work);
    this.callFunc(work);
    this.cpu.interruptPoint('irq_work_single:after-func');
    // (the compare-exchange that clears BUSY is missing)
    if ((this.cfg.preemptRt && !this.irqWorkIsHard(work)) || !this.cfg.archHasIrqWorkInterrupt) this.rcuwaitWakeUp(work);
    this.hooks.singleEnd(this.cpu.id, work);
  }
}

export default defineMutant({
  name: 'busy-never-cleared',
  description: 'irq_work_single never clears BUSY',
  expectedCheck: 'liveness',
  kernel: BusyNeverCleared,
});
