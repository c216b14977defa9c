/** Mutant: on RT the tick does not wake irq_workd — LAZY works wait for a wake-up that never comes. */
import { CPU_LAZY_LIST, CPU_RAISED_LIST } from '../../kernel/layout.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class TickNoWake extends Kernel {
  override irqWorkTick(): void {
    const raised = this.thisCpu(CPU_RAISED_LIST);
    if (!this.llistEmpty(raised) && !this.cfg.archHasIrqWorkInterrupt) this.irqWorkRunList(raised);
    if (!this.cfg.preemptRt) this.irqWorkRunList(this.thisCpu(CPU_LAZY_LIST));
    // (RT: the wake_irq_workd() is missing)
  }
}

export default defineMutant({
  name: 'tick-no-wake',
  description: 'irq_work_tick on RT never wakes irq_workd',
  expectedCheck: 'liveness',
  kernel: TickNoWake,
});
