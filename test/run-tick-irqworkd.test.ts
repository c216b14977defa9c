import { describe, it, expect } from 'vitest';
import { Harness } from '../src/harness/single-thread.js';
import { IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY } from '../src/kernel/flags.js';
import { IPI_IRQ_WORK } from '../src/kernel/layout.js';
import { FUNC_FIRST_USER } from '../src/kernel/memory.js';

const contexts = (h: Harness, work: number) => h.ranOn(work).map((e) => e.context);

const FUNC_REQUEUE_N = FUNC_FIRST_USER + 10;

/** A work on CPU 0 whose callback re-queues it `times` times; returns the contexts it ran in. */
function selfRequeueing(h: Harness, times: number): { work: number; ranIn: string[] } {
  const ranIn: string[] = [];
  let left = times;
  h.k(0).registerFunc(FUNC_REQUEUE_N, (_k, work) => {
    ranIn.push(h.cpu(0).cpu.contextName());
    if (left-- > 0) expect(h.k(0).irqWorkQueue(work)).toBe(true);
  });
  return { work: h.newWork({ func: FUNC_REQUEUE_N }), ranIn };
}

describe('non-RT: everything runs in hardirq', () => {
  it('the self-IPI runs both the raised_list and the lazy_list in hardirq', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const [raised, lazy] = [h.newWork(), h.newWork({ flags: IRQ_WORK_LAZY })];
    h.k(0).irqWorkQueue(raised);
    h.k(0).irqWorkQueue(lazy);
    h.cpu(0).takeInterrupts();
    expect(contexts(h, raised)).toEqual(['hardirq']);
    expect(contexts(h, lazy)).toEqual(['hardirq']);
    expect(h.listNodes(0, 'raised')).toEqual([]);
    expect(h.listNodes(0, 'lazy')).toEqual([]);
  });

  it('the tick runs the lazy_list in hardirq', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const w = h.newWork({ flags: IRQ_WORK_LAZY });
    h.k(0).irqWorkQueue(w);
    h.cpu(0).timerInterrupt();
    expect(contexts(h, w)).toEqual(['hardirq']);
  });

  it('the tick leaves the raised_list to the self-IPI when the arch has an irq_work interrupt', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    h.cpu(0).timerInterrupt();
    expect(h.ranOn(w)).toEqual([]);
    expect(h.listNodes(0, 'raised')).toEqual([w]);
  });

  it('a callback that re-queues itself twice runs three times, claimed == executed', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const { work: w, ranIn } = selfRequeueing(h, 2);
    h.k(0).irqWorkQueue(w);
    for (let i = 0; i < 10 && h.pendingIpis(0) & IPI_IRQ_WORK; i++) h.cpu(0).takeInterrupts();
    expect(ranIn).toEqual(['hardirq', 'hardirq', 'hardirq']);
    expect(h.claimedCount(w)).toBe(3);
    expect(h.executedCount(w)).toBe(3);
  });
});

describe('RT: HARD_IRQ in hardirq, the rest in irq_workd', () => {
  it('the self-IPI runs a HARD_IRQ work in hardirq and only wakes irq_workd for the lazy_list', () => {
    const h = new Harness({ cpus: 1, preemptRt: true });
    const [hard, threaded] = [h.newWork({ flags: IRQ_WORK_HARD_IRQ }), h.newWork()];
    h.k(0).irqWorkQueue(hard);
    h.k(0).irqWorkQueue(threaded);
    h.cpu(0).takeInterrupts();
    expect(contexts(h, hard)).toEqual(['hardirq']);
    expect(h.ranOn(threaded)).toEqual([]);
    expect(h.cpu(0).irqWorkdRunnable()).toBe(true);
    h.cpu(0).preemptionPoint();
    expect(contexts(h, threaded)).toEqual(['irq_workd']);
  });

  it('the tick wakes irq_workd for a LAZY work instead of running it', () => {
    const h = new Harness({ cpus: 1, preemptRt: true });
    const w = h.newWork({ flags: IRQ_WORK_LAZY });
    h.k(0).irqWorkQueue(w);
    h.cpu(0).timerInterrupt();
    expect(h.ranOn(w)).toEqual([]);
    expect(h.cpu(0).irqWorkdRunnable()).toBe(true);
    h.cpu(0).runIrqWorkd();
    expect(contexts(h, w)).toEqual(['irq_workd']);
  });

  it('irq_workd goes back to sleep once the lazy_list is empty', () => {
    const h = new Harness({ cpus: 1, preemptRt: true });
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    h.cpu(0).preemptionPoint();
    expect(h.listNodes(0, 'lazy')).toEqual([]);
    expect(h.cpu(0).irqWorkdRunnable()).toBe(false);
  });

  it('the tick with an empty lazy_list does not wake irq_workd', () => {
    const h = new Harness({ cpus: 1, preemptRt: true });
    h.cpu(0).timerInterrupt();
    expect(h.cpu(0).irqWorkdRunnable()).toBe(false);
  });

  it('a callback that re-queues itself twice runs three times in irq_workd, claimed == executed', () => {
    const h = new Harness({ cpus: 1, preemptRt: true });
    const { work: w, ranIn } = selfRequeueing(h, 2);
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    h.cpu(0).preemptionPoint();
    expect(ranIn).toEqual(['irq_workd', 'irq_workd', 'irq_workd']);
    expect(h.claimedCount(w)).toBe(3);
    expect(h.executedCount(w)).toBe(3);
  });
});

describe('no irq_workd without PREEMPT_RT', () => {
  it('non-RT has no irq_workd thread', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    expect(h.cpu(0).hasIrqWorkd()).toBe(false);
    expect(new Harness({ cpus: 1, preemptRt: true }).cpu(0).hasIrqWorkd()).toBe(true);
  });
});
