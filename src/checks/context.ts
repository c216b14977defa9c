/**
 * context: where a callback may run. On PREEMPT_RT a HARD_IRQ work runs in hardirq and every other
 * work in irq_workd; without RT everything runs in hardirq. Never in NMI or a plain task.
 * ("May sleep" callbacks in atomic context are reported under this check by the callbacks.)
 */
import { CTX_HARDIRQ, CTX_IRQWORKD } from '../cpu/sim-cpu.js';
import { IRQ_WORK_HARD_IRQ } from '../kernel/flags.js';
import type { Check } from './check.js';

export const context: Check = {
  name: 'context',
  invariant: 'on RT non-hard work runs only in irq_workd, hard work only in hardirq; non-RT all in hardirq',
  hooks: ({ mem, cpu, report }) => ({
    singleStart(_cpu, work, flags) {
      const hard = (flags & IRQ_WORK_HARD_IRQ) !== 0;
      const want = mem.cfg.preemptRt && !hard ? CTX_IRQWORKD : CTX_HARDIRQ;
      const now = cpu.context();
      if (now !== want) {
        const kind = hard ? 'HARD_IRQ' : 'non-hard';
        report(
          'context',
          work,
          `${kind} work ${work} runs in ${cpu.contextName()}, expected ${want === CTX_IRQWORKD ? 'irq_workd' : 'hardirq'}` +
            `${mem.cfg.preemptRt ? ' (PREEMPT_RT)' : ''}`,
        );
      }
    },
  }),
};
