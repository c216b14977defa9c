/** Mutant: on RT, HARD_IRQ works go to the lazy list too and run in irq_workd. */
import { IRQ_WORK_LAZY } from '../../kernel/flags.js';
import { CPU_LAZY_LIST, CPU_RAISED_LIST } from '../../kernel/layout.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class HardInThread extends Kernel {
  override irqWorkQueueLocal(work: number): void {
    const lazyWork = (Atomics.load(this.i32, this.flagsOf(work)) & IRQ_WORK_LAZY) !== 0;
    const list = this.thisCpu(lazyWork || this.cfg.preemptRt ? CPU_LAZY_LIST : CPU_RAISED_LIST);
    if (!this.llistAdd(work, list)) return;
    if (!lazyWork || this.cpu.tickNohzTickStopped()) this.archIrqWorkRaise();
  }
}

export default defineMutant({
  name: 'hard-in-thread',
  description: 'on RT, HARD_IRQ works are queued to the lazy list (run in irq_workd)',
  expectedCheck: 'context',
  kernel: HardInThread,
});
