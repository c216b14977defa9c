/**
 * use-after-free (KASAN style): after irq_work_sync() returns, the owner may free the work; the
 * kernel must not touch it again. The workload marks a freed work (S_ALLOC_STATE, S_FREE_GEN);
 * this check looks at every kernel access of a work that the hooks announce: claims and runs of
 * a freed work, and any touch by an execution that began before the work was freed.
 */
import type { Check } from './check.js';
import { S_FREE_GEN, ShadowView } from './shadow-layout.js';

export const useAfterFree: Check = {
  name: 'use-after-free',
  invariant: 'after irq_work_sync returns and the work is freed, nothing touches it',
  hooks: ({ mem, cpu, report }) => {
    const i32 = mem.i32;
    const genAtStart = new Int32Array(mem.layout.nrNodes);
    const shadow = new ShadowView(mem);
    const freed = (work: number) => shadow.isFreed(work);
    return {
      claim(_cpu, work) {
        if (freed(work)) report('use-after-free', work, `irq_work_claim on work ${work} after it was freed`);
      },
      singleStart(_cpu, work) {
        genAtStart[work] = Atomics.load(i32, shadow.word(work, S_FREE_GEN));
        if (freed(work)) report('use-after-free', work, `irq_work_single runs work ${work} after it was freed`);
      },
      touch(_cpu, work, what) {
        // Read before the access: if the work is already freed (or freed and reused since this
        // execution began), the access that follows is certainly after the free.
        const gen = Atomics.load(i32, shadow.word(work, S_FREE_GEN));
        if (freed(work) || gen !== genAtStart[work]) {
          report(
            'use-after-free',
            work,
            `${what} touches work ${work} in ${cpu.contextName()} after its owner's irq_work_sync returned and freed it`,
          );
        }
      },
    };
  },
};
