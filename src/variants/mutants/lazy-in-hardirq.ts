/** Mutant: the self-IPI runs the lazy list in hardirq on RT too (the seed's split undone). */
import { CPU_LAZY_LIST, CPU_RAISED_LIST } from '../../kernel/layout.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class LazyInHardirq extends Kernel {
  override irqWorkRun(): void {
    this.irqWorkRunList(this.thisCpu(CPU_RAISED_LIST));
    this.irqWorkRunList(this.thisCpu(CPU_LAZY_LIST));
  }
}

export default defineMutant({
  name: 'lazy-in-hardirq',
  description: 'irq_work_run runs the lazy list in hardirq even on RT',
  expectedCheck: 'context',
  kernel: LazyInHardirq,
});
