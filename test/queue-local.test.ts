import { describe, it, expect } from 'vitest';
import { Harness } from '../src/harness/single-thread.js';
import { IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY } from '../src/kernel/flags.js';
import { Counter, IPI_IRQ_WORK } from '../src/kernel/layout.js';

const selfIpis = (h: Harness, cpu: number) => h.mem.f64[h.mem.counterIndex(cpu, Counter.selfIpis)];
const selfIpiPending = (h: Harness, cpu: number) => (h.pendingIpis(cpu) & IPI_IRQ_WORK) !== 0;

/** __irq_work_queue_local's choice of list, and whether it raises with the tick running. */
const TABLE = [
  { name: 'none', flags: 0, rt: false, list: 'raised', raise: true },
  { name: 'none', flags: 0, rt: true, list: 'lazy', raise: true },
  { name: 'LAZY', flags: IRQ_WORK_LAZY, rt: false, list: 'lazy', raise: false },
  { name: 'LAZY', flags: IRQ_WORK_LAZY, rt: true, list: 'lazy', raise: false },
  { name: 'HARD_IRQ', flags: IRQ_WORK_HARD_IRQ, rt: false, list: 'raised', raise: true },
  { name: 'HARD_IRQ', flags: IRQ_WORK_HARD_IRQ, rt: true, list: 'raised', raise: true },
  { name: 'LAZY|HARD_IRQ', flags: IRQ_WORK_LAZY | IRQ_WORK_HARD_IRQ, rt: false, list: 'lazy', raise: false },
  { name: 'LAZY|HARD_IRQ', flags: IRQ_WORK_LAZY | IRQ_WORK_HARD_IRQ, rt: true, list: 'lazy', raise: false },
] as const;

describe('irqWorkQueue on this CPU', () => {
  for (const row of TABLE) {
    const other = row.list === 'lazy' ? 'raised' : 'lazy';
    it(`${row.name} on ${row.rt ? 'RT' : 'non-RT'} goes to ${row.list}_list and ${row.raise ? 'raises' : 'does not raise'} the self-IPI (tick running)`, () => {
      const h = new Harness({ cpus: 1, preemptRt: row.rt });
      const w = h.newWork({ flags: row.flags });
      expect(h.k(0).irqWorkQueue(w)).toBe(true);
      expect(h.listNodes(0, row.list)).toEqual([w]);
      expect(h.listNodes(0, other)).toEqual([]);
      expect(selfIpiPending(h, 0)).toBe(row.raise);
    });
  }

  it('returns false and queues nothing when the work is already pending', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    expect(h.k(0).irqWorkQueue(w)).toBe(false);
    expect(h.listNodes(0, 'raised')).toEqual([w]);
  });

  for (const rt of [false, true]) {
    it(`LAZY with the tick stopped raises the self-IPI (${rt ? 'RT' : 'non-RT'})`, () => {
      const h = new Harness({ cpus: 1, preemptRt: rt, tickStopped: true });
      const w = h.newWork({ flags: IRQ_WORK_LAZY });
      h.k(0).irqWorkQueue(w);
      expect(h.listNodes(0, 'lazy')).toEqual([w]);
      expect(selfIpiPending(h, 0)).toBe(true);
    });
  }

  it('adding to a non-empty raised_list raises no second self-IPI', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const [a, b] = [h.newWork(), h.newWork()];
    h.k(0).irqWorkQueue(a);
    h.k(0).irqWorkQueue(b);
    expect(h.listNodes(0, 'raised')).toEqual([b, a]);
    expect(selfIpis(h, 0)).toBe(1);
  });

  it('adding a LAZY work to a non-empty lazy_list raises nothing even with the tick stopped', () => {
    const h = new Harness({ cpus: 1, preemptRt: false, tickStopped: true });
    const [a, b] = [h.newWork({ flags: IRQ_WORK_LAZY }), h.newWork({ flags: IRQ_WORK_LAZY })];
    h.k(0).irqWorkQueue(a);
    h.k(0).irqWorkQueue(b);
    expect(h.listNodes(0, 'lazy')).toEqual([b, a]);
    expect(selfIpis(h, 0)).toBe(1);
  });

  it('reports the self-IPI through the ipiSent hook', () => {
    const sent: number[][] = [];
    const h = new Harness({ cpus: 1, preemptRt: false, hooks: { ipiSent: (cpu, target, kind) => sent.push([cpu, target, kind]) } });
    h.k(0).irqWorkQueue(h.newWork());
    expect(sent).toEqual([[0, 0, IPI_IRQ_WORK]]);
  });

  it('without an arch irq_work interrupt no self-IPI is raised and the tick runs the raised_list', () => {
    const h = new Harness({ cpus: 1, preemptRt: false, archHasIrqWorkInterrupt: false });
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    expect(h.listNodes(0, 'raised')).toEqual([w]);
    expect(selfIpiPending(h, 0)).toBe(false);
    expect(selfIpis(h, 0)).toBe(0);
    h.cpu(0).timerInterrupt();
    expect(h.ranOn(w)).toEqual([{ cpu: 0, work: w, context: 'hardirq' }]);
    expect(h.listNodes(0, 'raised')).toEqual([]);
  });
});
