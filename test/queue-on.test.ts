import { describe, it, expect } from 'vitest';
import { Harness } from '../src/harness/single-thread.js';
import { CSD_TYPE_IRQ_WORK, IRQ_WORK_CLAIMED, IRQ_WORK_HARD_IRQ } from '../src/kernel/flags.js';
import { Counter, IPI_CALL_FUNCTION_SINGLE } from '../src/kernel/layout.js';

const ipisSent = (h: Harness, cpu: number) => h.mem.f64[h.mem.counterIndex(cpu, Counter.ipisSent)];
const ipiPending = (h: Harness, cpu: number) => (h.pendingIpis(cpu) & IPI_CALL_FUNCTION_SINGLE) !== 0;

/** CPU 1 takes its IPIs in hardirq, then lets a woken irq_workd run. */
function runRemote(h: Harness): void {
  h.cpu(1).takeInterrupts();
  h.cpu(1).preemptionPoint();
}

describe('irqWorkQueueOn to a remote CPU', () => {
  const direct = [
    { name: 'non-RT plain work', preemptRt: false, flags: 0 },
    { name: 'RT HARD_IRQ work', preemptRt: true, flags: IRQ_WORK_HARD_IRQ },
  ];
  for (const c of direct) {
    it(`${c.name} goes on the remote call_single_queue with an IPI`, () => {
      const h = new Harness({ cpus: 2, preemptRt: c.preemptRt });
      const w = h.newWork({ flags: c.flags });
      expect(h.k(0).irqWorkQueueOn(w, 1)).toBe(true);
      expect(h.listNodes(1, 'callSingle')).toEqual([w]);
      expect(h.listNodes(1, 'lazy')).toEqual([]);
      expect(ipiPending(h, 1)).toBe(true);
      expect(ipisSent(h, 0)).toBe(1);
    });

    it(`${c.name}: a second queue_on while call_single_queue is non-empty sends no new IPI`, () => {
      const h = new Harness({ cpus: 2, preemptRt: c.preemptRt });
      const [a, b] = [h.newWork({ flags: c.flags }), h.newWork({ flags: c.flags })];
      h.k(0).irqWorkQueueOn(a, 1);
      h.k(0).irqWorkQueueOn(b, 1);
      expect(h.listNodes(1, 'callSingle')).toEqual([b, a]);
      expect(ipisSent(h, 0)).toBe(1);
    });

    it(`${c.name} runs in hardirq on the remote CPU`, () => {
      const h = new Harness({ cpus: 2, preemptRt: c.preemptRt });
      const w = h.newWork({ flags: c.flags });
      h.k(0).irqWorkQueueOn(w, 1);
      runRemote(h);
      expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: 'hardirq' }]);
    });
  }

  it('RT non-HARD work goes on the remote lazy_list and the remote wakeup work on call_single_queue', () => {
    const h = new Harness({ cpus: 2, preemptRt: true });
    const w = h.newWork();
    const wake = h.mem.wakeupWork(1);
    h.k(0).irqWorkQueueOn(w, 1);
    expect(h.listNodes(1, 'lazy')).toEqual([w]);
    expect(h.listNodes(1, 'callSingle')).toEqual([wake]);
    expect(h.flags(wake)).toBe(IRQ_WORK_CLAIMED | IRQ_WORK_HARD_IRQ | CSD_TYPE_IRQ_WORK);
    expect(ipiPending(h, 1)).toBe(true);
  });

  it('RT non-HARD work runs in the remote irq_workd after the wakeup work ran in hardirq', () => {
    const h = new Harness({ cpus: 2, preemptRt: true });
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 1);
    h.cpu(1).takeInterrupts();
    expect(h.ranOn(w)).toEqual([]);
    expect(h.cpu(1).irqWorkdRunnable()).toBe(true);
    h.cpu(1).preemptionPoint();
    expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: 'irq_workd' }]);
  });

  it('RT: a remote queue while the wakeup work is still pending adds no second wakeup, and the work still runs', () => {
    const h = new Harness({ cpus: 2, preemptRt: true });
    const [a, b] = [h.newWork(), h.newWork()];
    h.k(0).irqWorkQueueOn(a, 1);
    h.cpu(1).timerInterrupt(); // the tick wakes irq_workd before the IPI is taken
    h.cpu(1).runIrqWorkd(); // runs a; the wakeup work is still pending on call_single_queue
    h.k(0).irqWorkQueueOn(b, 1);
    expect(h.listNodes(1, 'lazy')).toEqual([b]);
    expect(h.listNodes(1, 'callSingle')).toEqual([h.mem.wakeupWork(1)]);
    expect(ipisSent(h, 0)).toBe(1);
    runRemote(h);
    expect(h.ranOn(b)).toEqual([{ cpu: 1, work: b, context: 'irq_workd' }]);
  });

  it('reports the remote IPI through the ipiSent hook', () => {
    const sent: number[][] = [];
    const h = new Harness({ cpus: 2, preemptRt: false, hooks: { ipiSent: (cpu, target, kind) => sent.push([cpu, target, kind]) } });
    h.k(0).irqWorkQueueOn(h.newWork(), 1);
    expect(sent).toEqual([[0, 1, IPI_CALL_FUNCTION_SINGLE]]);
  });

  describe('RT, remote lazy_list already non-empty', () => {
    function queueTwo(variant: string) {
      const h = new Harness({ cpus: 2, preemptRt: true, variant });
      const [first, second] = [h.newWork(), h.newWork()];
      h.k(0).irqWorkQueueOn(first, 1);
      h.k(0).irqWorkQueueOn(second, 1);
      return { h, first, second };
    }

    it('v2: the second work is on both the lazy_list and call_single_queue, the first is lost', () => {
      const { h, first, second } = queueTwo('v2');
      expect(h.listNodes(1, 'lazy')).toContain(second);
      expect(h.listNodes(1, 'callSingle')).toContain(second);
      // Its `next` was rewritten by the call_single_queue add, so the first work fell off.
      expect(h.listNodes(1, 'lazy')).not.toContain(first);
    });

    it('v2: the second work runs in hardirq and again in irq_workd; the first never runs', () => {
      const { h, first, second } = queueTwo('v2');
      runRemote(h);
      expect(h.ranOn(second).map((e) => e.context)).toEqual(['hardirq', 'irq_workd']);
      expect(h.ranOn(first)).toEqual([]);
      expect(h.executedCount(second)).toBeGreaterThan(h.claimedCount(second));
    });

    it('merged: each work is on exactly one list and none is lost', () => {
      const { h, first, second } = queueTwo('merged');
      expect(h.listNodes(1, 'lazy')).toEqual([second, first]);
      expect(h.listNodes(1, 'callSingle')).toEqual([h.mem.wakeupWork(1)]);
    });

    it('merged: each work runs once, in irq_workd', () => {
      const { h, first, second } = queueTwo('merged');
      runRemote(h);
      expect(h.ranOn(first)).toEqual([{ cpu: 1, work: first, context: 'irq_workd' }]);
      expect(h.ranOn(second)).toEqual([{ cpu: 1, work: second, context: 'irq_workd' }]);
      expect(h.executedCount(first)).toBe(h.claimedCount(first));
      expect(h.executedCount(second)).toBe(h.claimedCount(second));
    });
  });

  it('warns when a remote queue comes from NMI', () => {
    const h = new Harness({ cpus: 2, preemptRt: false });
    const w = h.newWork();
    h.cpu(0).inNmi(() => h.k(0).irqWorkQueueOn(w, 1));
    expect(h.warnings).toEqual([{ cpu: 0, what: expect.stringMatching(/NMI/) }]);
  });

  it('to its own CPU queues locally (raised_list, self-IPI), not on call_single_queue', () => {
    const h = new Harness({ cpus: 2, preemptRt: false });
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 0);
    expect(h.listNodes(0, 'raised')).toEqual([w]);
    expect(h.listNodes(0, 'callSingle')).toEqual([]);
    expect(ipisSent(h, 0)).toBe(0);
  });
});
