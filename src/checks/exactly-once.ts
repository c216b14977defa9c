/**
 * exactly-once: every successful claim is executed once. Online half: irq_work_single only ever
 * runs a work that is PENDING (the claim that put it on a list set PENDING, and only this
 * execution clears it), so running a work that is not PENDING runs one claim twice. The other
 * half — claimed == executed after quiescing — is the machine's accounting check.
 */
import { IRQ_WORK_PENDING } from '../kernel/flags.js';
import type { Check } from './check.js';

export const exactlyOnce: Check = {
  name: 'exactly-once',
  invariant: 'every successful claim is executed exactly once',
  hooks: ({ report }) => ({
    singleStart(_cpu, work, flags) {
      if (!(flags & IRQ_WORK_PENDING)) {
        report('exactly-once', work, `work ${work} runs although it is not PENDING: one claim executed twice`);
      }
    },
  }),
};
