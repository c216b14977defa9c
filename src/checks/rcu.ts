/**
 * rcu: no grace period ends while a reader that began before it is still inside. Readers and
 * grace periods take numbers from one sequence (H_RCU_SEQ, an int32 that wraps, compared as
 * such); a reader still shows its number (or MAX while it is being set, which we skip) when the
 * grace period ends.
 */
import { CPU_RCU_READER, CPU_RCU_READER_SEQ, RCU_INSIDE, RCU_READER_SEQ_UNSET } from '../kernel/layout.js';
import type { Check } from './check.js';

export const rcu: Check = {
  name: 'rcu',
  invariant: 'no grace period ends while a reader that began before it is still inside',
  hooks: ({ mem, report }) => ({
    gracePeriodEnd(self, gpSeq) {
      for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
        if (cpu === self) continue;
        const b = mem.cpuBase(cpu);
        if ((Atomics.load(mem.i32, b + CPU_RCU_READER) & RCU_INSIDE) === 0) continue;
        const readerSeq = Atomics.load(mem.i32, b + CPU_RCU_READER_SEQ);
        if (readerSeq === RCU_READER_SEQ_UNSET) continue; // a reader just starting: after the GP began
        // The sequence is an int32 that wraps: compare by the sign of the difference.
        if (((readerSeq - gpSeq) | 0) < 0) {
          report('rcu', 0, `grace period #${gpSeq} ended while cpu${cpu}'s reader #${readerSeq}, begun before it, is still inside`);
        }
      }
    },
  }),
};
