/** irq_work_claim(): one fetch-or; succeeds on an idle work, fails on a pending one. */
import { bench, describe } from 'vitest';
import { IRQ_WORK_CLAIMED, IRQ_WORK_HARD_IRQ } from '../src/kernel/flags.js';
import { W_FLAGS } from '../src/kernel/layout.js';
import { benchMachine } from './setup.js';

const BATCH = 1000;
const m = benchMachine();
const k = m.cpus[0]!.k;
const i32 = m.mem.i32;
const works = m.works(BATCH, IRQ_WORK_HARD_IRQ);
const pending = m.works(1, IRQ_WORK_HARD_IRQ)[0]!;
k.irqWorkClaim(pending);
const flagWords = works.map((w) => m.mem.node(w) + W_FLAGS);
const floorWord = m.mem.node(pending) + W_FLAGS + 1;

describe('irq_work_claim', () => {
  bench('claim succeeds ×1000 (then a plain reset of each flag word)', () => {
    for (let i = 0; i < BATCH; i++) k.irqWorkClaim(works[i]!);
    // Make the works idle again, as irq_work_single() would; not a kernel path.
    for (let i = 0; i < BATCH; i++) i32[flagWords[i]!] = IRQ_WORK_HARD_IRQ;
  });

  bench('claim fails, already pending ×1000', () => {
    for (let i = 0; i < BATCH; i++) k.irqWorkClaim(pending);
  });

  bench('floor: Atomics.or + Atomics.compareExchange ×1000', () => {
    for (let i = 0; i < BATCH; i++) {
      Atomics.or(i32, floorWord, IRQ_WORK_CLAIMED);
      Atomics.compareExchange(i32, floorWord, IRQ_WORK_CLAIMED, 0);
    }
  });
});
