/** Mutant: irq_work_needs_cpu ignores the lazy list — the tick stops with LAZY work pending. */
import { CPU_RAISED_LIST } from '../../kernel/layout.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class NeedsCpuIgnoresLazy extends Kernel {
  override irqWorkNeedsCpu(): boolean {
    return !this.llistEmpty(this.thisCpu(CPU_RAISED_LIST)) && !this.cfg.archHasIrqWorkInterrupt;
  }
}

export default defineMutant({
  name: 'needs-cpu-ignores-lazy',
  description: 'irq_work_needs_cpu ignores the lazy list (NO_HZ stops the tick)',
  expectedCheck: 'liveness',
  kernel: NeedsCpuIgnoresLazy,
});
