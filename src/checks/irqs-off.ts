/**
 * irqs-off: irq_work_run_list() runs with irqs disabled, except the RT thread running its lazy
 * list (the rule the seed relaxes BUG_ON for).
 */
import { CTX_IRQWORKD } from '../cpu/sim-cpu.js';
import type { Check } from './check.js';

export const irqsOff: Check = {
  name: 'irqs-off',
  invariant: 'a list is run with irqs off, except the lazy list in irq_workd on RT',
  hooks: ({ mem, cpu, report }) => ({
    runList(_cpu, head) {
      if (cpu.irqsDisabled()) return;
      if (mem.cfg.preemptRt && cpu.context() === CTX_IRQWORKD) return;
      report('irqs-off', 0, `${mem.describeHead(head)} is run with irqs enabled in ${cpu.contextName()}`);
    },
  }),
};
