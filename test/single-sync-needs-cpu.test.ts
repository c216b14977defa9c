import { describe, it, expect } from 'vitest';
import { Harness } from '../src/harness/single-thread.js';
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE, taskToWord } from '../src/kernel/cpu.js';
import {
  CSD_TYPE_IRQ_WORK,
  IRQ_WORK_BUSY,
  IRQ_WORK_CLAIMED,
  IRQ_WORK_HARD_IRQ,
  IRQ_WORK_LAZY,
} from '../src/kernel/flags.js';
import { CPU_TASK_STATE, W_IRQWAIT } from '../src/kernel/layout.js';
import { FUNC_FIRST_USER } from '../src/kernel/memory.js';

const FUNC_RECORD_FLAGS = FUNC_FIRST_USER + 10;

/** A work whose callback (on CPU `cpu`) records the work's flag word at call time. */
function flagRecordingWork(h: Harness, cpu: number, flags = 0): { work: number; seen: number[] } {
  const seen: number[] = [];
  h.k(cpu).registerFunc(FUNC_RECORD_FLAGS, (_k, work) => seen.push(h.flags(work)));
  return { work: h.newWork({ flags, func: FUNC_RECORD_FLAGS }), seen };
}

describe('irqWorkSingle', () => {
  it('clears PENDING before the callback runs, with BUSY still set', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const { work, seen } = flagRecordingWork(h, 0);
    h.k(0).irqWorkQueue(work);
    h.cpu(0).takeInterrupts();
    expect(seen).toEqual([IRQ_WORK_BUSY | CSD_TYPE_IRQ_WORK]);
  });

  it('clears BUSY after the callback returns', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    const { work } = flagRecordingWork(h, 0);
    h.k(0).irqWorkQueue(work);
    h.cpu(0).takeInterrupts();
    expect(h.flags(work) & IRQ_WORK_CLAIMED).toBe(0);
  });

  it('leaves BUSY set when the work was claimed again after the callback', () => {
    const h = new Harness({ cpus: 2, preemptRt: false });
    const w = h.newWork();
    let reclaimed = false;
    h.at(0, 'irq_work_single:after-func', () => (reclaimed = h.k(1).irqWorkClaim(w)));
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    expect(reclaimed).toBe(true);
    expect(h.flags(w)).toBe(IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
  });

  it('leaves the work claimed when its callback re-queued it', () => {
    const h = new Harness({ cpus: 1, preemptRt: false });
    h.k(0).registerFunc(FUNC_RECORD_FLAGS, (_k, work) => h.k(0).irqWorkQueue(work));
    const w = h.newWork({ func: FUNC_RECORD_FLAGS });
    let flagsAfterFirstRun = -1;
    h.at(0, 'irq_work_single:after-clear-busy', () => (flagsAfterFirstRun = h.flags(w)));
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    expect(flagsAfterFirstRun).toBe(IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
  });
});

describe('irqWorkNeedsCpu', () => {
  // irq_work_needs_cpu(): lazy non-empty, or raised non-empty on an arch without the interrupt.
  for (const arch of [true, false]) {
    for (const raised of [false, true]) {
      for (const lazy of [false, true]) {
        const expected = lazy || (raised && !arch);
        it(`is ${expected} with raised ${raised ? 'non-empty' : 'empty'}, lazy ${lazy ? 'non-empty' : 'empty'}, arch interrupt ${arch}`, () => {
          const h = new Harness({ cpus: 1, preemptRt: false, archHasIrqWorkInterrupt: arch });
          if (raised) h.k(0).irqWorkQueue(h.newWork({ flags: IRQ_WORK_HARD_IRQ }));
          if (lazy) h.k(0).irqWorkQueue(h.newWork({ flags: IRQ_WORK_LAZY }));
          expect(h.listNodes(0, 'raised').length > 0).toBe(raised);
          expect(h.listNodes(0, 'lazy').length > 0).toBe(lazy);
          expect(h.k(0).irqWorkNeedsCpu()).toBe(expected);
        });
      }
    }
  }
});

describe('irqWorkSync', () => {
  /** Where CPU 0's task was while CPU 1 ran the callback. */
  function watchWaiter(h: Harness, work: number) {
    const seen = { taskState: -1, irqwait: -1 };
    h.at(1, 'irq_work_single:after-func', () => {
      seen.taskState = h.mem.i32[h.mem.cpuBase(0) + CPU_TASK_STATE]!;
      seen.irqwait = h.mem.i32[h.mem.node(work) + W_IRQWAIT]!;
    });
    return seen;
  }
  const sleeping = { taskState: TASK_UNINTERRUPTIBLE, irqwait: taskToWord({ cpu: 0, kind: 0 }) };
  const spinning = { taskState: TASK_RUNNING, irqwait: 0 };

  it('returns at once for an idle work', () => {
    const h = new Harness({ cpus: 1 });
    const w = h.newWork();
    h.k(0).irqWorkSync(w);
    expect(h.flags(w)).toBe(0);
  });

  const cases = [
    { name: 'merged, RT, non-HARD: sleeps on the rcuwait until irq_workd ran it', variant: 'merged', preemptRt: true, arch: true, flags: 0, context: 'irq_workd', waiter: sleeping },
    { name: 'merged, non-RT, no arch interrupt: sleeps on the rcuwait until the IPI ran it', variant: 'merged', preemptRt: false, arch: false, flags: 0, context: 'hardirq', waiter: sleeping },
    { name: 'merged, RT, HARD_IRQ: spins until the hardirq ran it', variant: 'merged', preemptRt: true, arch: true, flags: IRQ_WORK_HARD_IRQ, context: 'hardirq', waiter: spinning },
    { name: 'v2, RT, non-HARD: spins until irq_workd ran it', variant: 'v2', preemptRt: true, arch: true, flags: 0, context: 'irq_workd', waiter: spinning },
  ];
  for (const c of cases) {
    it(`${c.name}, and returns only once BUSY is clear`, () => {
      const h = new Harness({ cpus: 2, variant: c.variant, preemptRt: c.preemptRt, archHasIrqWorkInterrupt: c.arch });
      const w = h.newWork({ flags: c.flags });
      const seen = watchWaiter(h, w);
      h.k(0).irqWorkQueueOn(w, 1);
      h.k(0).irqWorkSync(w);
      expect(h.flags(w) & IRQ_WORK_BUSY).toBe(0);
      expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: c.context }]);
      expect(seen).toEqual(c.waiter);
      expect(h.mem.i32[h.mem.cpuBase(0) + CPU_TASK_STATE]).toBe(TASK_RUNNING);
    });
  }
});
