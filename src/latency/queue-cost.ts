/**
 * The cost of the `irq_work_queue()` call itself, timed in batches of COST_BATCH calls between two
 * clock reads (a clock read costs more than a queue call), each batch recorded as ns per call:
 *
 *   floor     a bare Atomics.or + Atomics.compareExchange pair on one word of this CPU — the two
 *             atomics a claim and its release cannot do without;
 *   claimOk   irq_work_queue() of COST_BATCH distinct idle HARD_IRQ works: each claim succeeds and
 *             the work goes on raised_list (the first one raises the self-IPI);
 *   pending   irq_work_queue() of the same works again while they are still pending: each claim
 *             fails and the call returns false.
 *
 * The two queue batches run inside one hardirq section (as from an interrupt handler), so no
 * callback runs between the calls; the works run when the section ends. These works are not
 * measured ones, so the latency recorder's claim hook only range-checks them (no clock read).
 */
import type { CpuRuntime } from '../cpu/runtime.js';
import { IRQ_WORK_CLAIMED } from '../kernel/flags.js';
import { COST_CLAIM_OK, COST_FLOOR, COST_PENDING, type LatencyView } from './layout.js';
import { COST_BATCH, costWork } from './pool.js';

export function measureQueueCost(rt: CpuRuntime, view: LatencyView, rounds: number): void {
  const { k, cpu, i32 } = rt;
  const clock = () => cpu.nowNs();
  const floor = view.costHistogram(rt.id, COST_FLOOR);
  const claimOk = view.costHistogram(rt.id, COST_CLAIM_OK);
  const pending = view.costHistogram(rt.id, COST_PENDING);
  const floorWord = view.floorWord(rt.id);
  const first = costWork(rt.mem, rt.id, 0);
  const last = costWork(rt.mem, rt.id, COST_BATCH - 1);

  for (let round = 0; round < rounds; round++) {
    let t0 = clock();
    for (let i = 0; i < COST_BATCH; i++) {
      Atomics.or(i32, floorWord, IRQ_WORK_CLAIMED);
      Atomics.compareExchange(i32, floorWord, IRQ_WORK_CLAIMED, 0);
    }
    floor.record((clock() - t0) / COST_BATCH);

    rt.inHardirq(() => {
      t0 = clock();
      for (let w = first; w <= last; w++) k.irqWorkQueue(w);
      const t1 = clock();
      for (let w = first; w <= last; w++) k.irqWorkQueue(w);
      const t2 = clock();
      claimOk.record((t1 - t0) / COST_BATCH);
      pending.record((t2 - t1) / COST_BATCH);
    });
    // Out of the hardirq section: the latched self-IPI runs the batch (newest first). Wait until
    // it has, so the next round finds every work idle again.
    while (k.irqWorkIsBusy(first) || k.irqWorkIsBusy(last)) rt.interruptPoint();
  }
}
