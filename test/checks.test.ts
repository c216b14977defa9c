/**
 * The shadow checks of DESIGN §5 and the liveness scanner, driven through exact interleavings in
 * the single-thread harness: each check fires on the broken code it exists for, names the CPU,
 * the work and the context, and stays silent on the correct variant in the same script.
 *
 * The checks are installed the way the CPU worker installs them: per CPU, the execution shadow
 * (checks/shadow.ts) first, then the checks, each with that CPU's own CheckEnv.
 */
import { describe, expect, it } from 'vitest';
import { CPU_CHECKS, type Check } from '../src/checks/index.js';
import { shadowHooks } from '../src/checks/shadow.js';
import { ShadowView } from '../src/checks/shadow-layout.js';
import { Harness, type HarnessOptions } from '../src/harness/single-thread.js';
import { IRQ_WORK_BUSY, IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY, IRQ_WORK_PENDING } from '../src/kernel/flags.js';
import { combineHooks } from '../src/kernel/hooks.js';
import { CPU_IDLE_POLLING, CPU_IPI_PENDING, CPU_LAZY_LIST, CPU_TICKS, CPU_TICK_STOPPED } from '../src/kernel/layout.js';
import { LivenessScanner, type LivenessLimits } from '../src/race/liveness.js';
import { FUNC_REQUEUE } from '../src/workload/callbacks.js';

interface Finding {
  check: string;
  cpu: number;
  work: number;
  context: string;
  message: string;
}

interface Checked {
  h: Harness;
  findings: Finding[];
  /** Run `action` when `cpu` passes `site` during an execution of `work` (other works' executions pass by). */
  atRunOf(cpu: number, site: string, work: number, action: () => void): void;
}

/** A harness whose every CPU runs `checks` (all of them by default) and collects their findings. */
function checkedHarness(opts: HarnessOptions, checks: readonly Check[] = CPU_CHECKS): Checked {
  const findings: Finding[] = [];
  const running: number[] = [];
  // Built per CPU while the harness builds that CPU: the kernel's hooks are fixed from then on.
  const h = new Harness({
    ...opts,
    hooks: (cpu, mem) => {
      const id = cpu.id;
      const report = (check: string, work: number, message: string) =>
        findings.push({ check, cpu: id, work, context: cpu.contextName(), message });
      return combineHooks([
        shadowHooks(mem),
        ...checks.map((c) => c.hooks({ mem, cpu, report })),
        { singleStart: (_cpu, work) => (running[id] = work) },
      ]);
    },
  });
  const atRunOf = (cpu: number, site: string, work: number, action: () => void) => {
    const once = () => (running[cpu] === work ? action() : h.at(cpu, site, once));
    h.at(cpu, site, once);
  };
  return { h, findings, atRunOf };
}

const named = (findings: readonly Finding[], check: string) => findings.filter((f) => f.check === check);

/** Let `cpu` take its latched IPIs and run irq_workd if that woke it. */
function serve(h: Harness, cpu: number): void {
  h.cpu(cpu).takeInterrupts();
  if (h.cpu(cpu).irqWorkdRunnable()) h.cpu(cpu).runIrqWorkd();
}

/** Pretend the owner kfree()d the work: poison it, as the sync-free workload does. */
function free(h: Harness, work: number): void {
  new ShadowView(h.mem).markFreed(work);
}

describe('one-list check', () => {
  /** CPU0 queues two non-hard works on CPU1's lazy_list, the second while the first is still there. */
  function queueTwoRemote(variant: string) {
    const { h, findings } = checkedHarness({ cpus: 2, preemptRt: true, variant });
    const first = h.newWork();
    const second = h.newWork();
    h.k(0).irqWorkQueueOn(first, 1);
    h.k(0).irqWorkQueueOn(second, 1);
    return { h, findings, first, second };
  }

  it("fires for v2's double add: the second work goes on call_single_queue while still on the lazy_list", () => {
    const { findings, second } = queueTwoRemote('v2');
    const oneList = named(findings, 'one-list');
    expect(oneList, JSON.stringify(findings)).toHaveLength(1);
    expect(oneList[0]).toMatchObject({ cpu: 0, work: second, context: 'task' });
    expect(oneList[0]!.message).toContain('cpu1.call_single_queue');
    expect(oneList[0]!.message).toContain('cpu1.lazy_list');
  });

  it('stays silent for merged in the same script, and after both works ran', () => {
    const { h, findings, first, second } = queueTwoRemote('merged');
    serve(h, 1);
    expect(h.ranOn(first)).toEqual([{ cpu: 1, work: first, context: 'irq_workd' }]);
    expect(h.ranOn(second)).toEqual([{ cpu: 1, work: second, context: 'irq_workd' }]);
    expect(findings).toEqual([]);
  });

  it('stays silent when a work is queued again after its list was taken (tag cleared by del_all)', () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    for (let i = 0; i < 3; i++) {
      h.k(0).irqWorkQueue(w);
      h.cpu(0).takeInterrupts();
    }
    expect(h.ranOn(w)).toHaveLength(3);
    expect(findings).toEqual([]);
  });
});

describe('exactly-once check', () => {
  it('fires when a node that already ran is run again', () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    expect(findings).toEqual([]);
    // The same node run a second time, with no claim in between (PENDING is clear).
    h.cpu(0).inHardirq(() => h.k(0).irqWorkSingle(w));
    const once = named(findings, 'exactly-once');
    expect(once).toHaveLength(1);
    expect(once[0]).toMatchObject({ cpu: 0, work: w, context: 'hardirq' });
  });

  it("fires for v2's double add once CPU1 has run both lists: the work runs from both", () => {
    const { h, findings } = checkedHarness({ cpus: 2, preemptRt: true, variant: 'v2' });
    const first = h.newWork();
    const second = h.newWork();
    h.k(0).irqWorkQueueOn(first, 1);
    h.k(0).irqWorkQueueOn(second, 1);
    serve(h, 1);
    expect(h.ranOn(second).length, JSON.stringify(h.executions)).toBeGreaterThanOrEqual(2);
    expect(named(findings, 'exactly-once').map((f) => f.work)).toContain(second);
  });

  it('stays silent for a callback that re-queues its own work (two claims, two runs)', () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: false });
    const w = h.newWork({ func: FUNC_REQUEUE, arg: 1 });
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    h.cpu(0).takeInterrupts();
    expect(h.ranOn(w)).toHaveLength(2);
    expect(h.claimedCount(w)).toBe(2);
    expect(findings).toEqual([]);
  });
});

describe('context check', () => {
  it("fires on RT for a non-hard work run in hardirq ('lazy-in-hardirq')", () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: true, variant: 'lazy-in-hardirq' });
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    serve(h, 0);
    expect(h.ranOn(w)).toEqual([{ cpu: 0, work: w, context: 'hardirq' }]);
    const ctx = named(findings, 'context');
    expect(ctx).toHaveLength(1);
    expect(ctx[0]).toMatchObject({ cpu: 0, work: w, context: 'hardirq' });
    expect(ctx[0]!.message).toMatch(/non-hard work \d+ runs in hardirq, expected irq_workd/);
  });

  it("fires on RT for a HARD_IRQ work run in irq_workd ('hard-in-thread')", () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: true, variant: 'hard-in-thread' });
    const w = h.newWork({ flags: IRQ_WORK_HARD_IRQ });
    h.k(0).irqWorkQueue(w);
    serve(h, 0);
    expect(h.ranOn(w)).toEqual([{ cpu: 0, work: w, context: 'irq_workd' }]);
    expect(named(findings, 'context')).toMatchObject([{ cpu: 0, work: w, context: 'irq_workd' }]);
  });

  for (const preemptRt of [true, false]) {
    it(`stays silent for merged (${preemptRt ? 'RT' : 'non-RT'}) running plain, HARD_IRQ and LAZY works`, () => {
      const { h, findings } = checkedHarness({ cpus: 2, preemptRt });
      const works = [0, IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY].map((flags) => h.newWork({ flags }));
      for (const w of works) h.k(0).irqWorkQueue(w);
      serve(h, 0);
      h.cpu(0).timerInterrupt(); // the LAZY work waits for the tick (non-RT) or irq_workd (RT)
      serve(h, 0);
      for (const w of works) expect(h.ranOn(w), `work ${w}`).toHaveLength(1);
      expect(findings).toEqual([]);
    });
  }
});

describe('irqs-off check', () => {
  it('fires when a list is run with irqs enabled in task context', () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: false });
    h.k(0).irqWorkQueue(h.newWork({ flags: IRQ_WORK_LAZY }));
    h.k(0).irqWorkRunList(h.mem.cpuBase(0) + CPU_LAZY_LIST);
    const off = named(findings, 'irqs-off');
    expect(off).toHaveLength(1);
    expect(off[0]).toMatchObject({ cpu: 0, work: 0, context: 'task' });
    expect(off[0]!.message).toContain('cpu0.lazy_list');
  });

  it("stays silent for RT's irq_workd running the lazy list with irqs on", () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: true });
    const w = h.newWork({ flags: IRQ_WORK_LAZY });
    h.k(0).irqWorkQueue(w);
    h.cpu(0).timerInterrupt();
    serve(h, 0);
    expect(h.ranOn(w)).toEqual([{ cpu: 0, work: w, context: 'irq_workd' }]);
    expect(findings).toEqual([]);
  });
});

describe('sync check', () => {
  /** CPU0 queues a work on CPU1 and syncs on it before CPU1 has taken its IPI. */
  function syncOnPendingWork(variant: string) {
    const { h, findings } = checkedHarness({ cpus: 2, preemptRt: true, variant });
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 1);
    h.k(0).irqWorkSync(w);
    const busyAtReturn = (h.flags(w) & IRQ_WORK_BUSY) !== 0;
    return { h, findings, w, busyAtReturn };
  }

  it("fires for 'sync-no-wait' when the work queued before the sync is still pending", () => {
    const { findings, w, busyAtReturn } = syncOnPendingWork('sync-no-wait');
    expect(busyAtReturn).toBe(true); // the sync did return on a BUSY (indeed PENDING) work
    expect(named(findings, 'sync')).toMatchObject([{ cpu: 0, work: w, context: 'task' }]);
  });

  it("stays silent for merged's sync in the same script (it waits until irq_workd ran the work)", () => {
    const { h, findings, w, busyAtReturn } = syncOnPendingWork('merged');
    expect(busyAtReturn).toBe(false);
    expect(h.ranOn(w)).toEqual([{ cpu: 1, work: w, context: 'irq_workd' }]);
    expect(findings).toEqual([]);
  });

  it("fires for 'sync-no-wait' when the sync returns while the callback is still running", () => {
    const { h, findings, atRunOf } = checkedHarness({ cpus: 2, preemptRt: true, variant: 'sync-no-wait' });
    const w = h.newWork();
    atRunOf(1, 'irq_work_single:after-func', w, () => h.k(0).irqWorkSync(w));
    h.k(0).irqWorkQueueOn(w, 1);
    serve(h, 1);
    const sync = named(findings, 'sync');
    expect(sync).toHaveLength(1);
    expect(sync[0]).toMatchObject({ cpu: 0, work: w });
    expect(sync[0]!.message).toContain(`irq_work_sync(work ${w}) returned`);
  });

  it('stays silent for a sync on an idle work and for a sync after the work ran', () => {
    const { h, findings } = checkedHarness({ cpus: 2, preemptRt: true });
    const w = h.newWork();
    h.k(0).irqWorkSync(w);
    h.k(0).irqWorkQueueOn(w, 1);
    serve(h, 1);
    h.k(0).irqWorkSync(w);
    expect(findings).toEqual([]);
  });
});

describe('use-after-free check', () => {
  /**
   * CPU0 queues a work on CPU1; right after CPU1's irq_work_single cleared BUSY, the owner's
   * irq_work_sync sees it clear, returns, and the owner frees the work.
   */
  function freeRightAfterBusyClear(preemptRt: boolean) {
    const { h, findings, atRunOf } = checkedHarness({ cpus: 2, preemptRt });
    const w = h.newWork();
    let syncReturnedOnIdle = false;
    atRunOf(1, 'irq_work_single:after-clear-busy', w, () => {
      h.k(0).irqWorkSync(w); // BUSY is clear: returns at once
      syncReturnedOnIdle = (h.flags(w) & IRQ_WORK_BUSY) === 0;
      free(h, w);
    });
    h.k(0).irqWorkQueueOn(w, 1);
    serve(h, 1);
    expect(syncReturnedOnIdle).toBe(true);
    return { findings, w };
  }

  it("fires on RT when irq_work_single's rcuwait_wake_up touches the work its owner freed", () => {
    const { findings, w } = freeRightAfterBusyClear(true);
    const uaf = named(findings, 'use-after-free');
    expect(uaf).toHaveLength(1);
    expect(uaf[0]).toMatchObject({ cpu: 1, work: w, context: 'irq_workd' });
    expect(uaf[0]!.message).toContain('rcuwait_wake_up');
  });

  it('stays silent without RT (arch interrupt: no rcuwait_wake_up after the BUSY clear)', () => {
    const { findings } = freeRightAfterBusyClear(false);
    expect(findings).toEqual([]);
  });

  it('stays silent when the work is freed only after irq_work_single is done with it', () => {
    const { h, findings } = checkedHarness({ cpus: 2, preemptRt: true });
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 1);
    h.k(0).irqWorkSync(w);
    free(h, w);
    expect(h.ranOn(w)).toHaveLength(1);
    expect(findings).toEqual([]);
  });

  it('fires when a freed work is claimed again', () => {
    const { h, findings } = checkedHarness({ cpus: 1, preemptRt: false });
    const w = h.newWork();
    free(h, w);
    h.k(0).irqWorkQueue(w);
    expect(named(findings, 'use-after-free').map((f) => f.message)).toContain(`irq_work_claim on work ${w} after it was freed`);
  });
});

describe('LivenessScanner', () => {
  const LIMITS: LivenessLimits = { pendingTicks: 5, idlePendingMs: 300, stuckBusyScans: 3 };

  it('reports a work left PENDING on the lazy_list of a CPU whose ticks went past the limit (tick-no-wake)', () => {
    const { h } = checkedHarness({ cpus: 2, preemptRt: true, variant: 'tick-no-wake' });
    const scanner = new LivenessScanner(h.mem, LIMITS);
    const w = h.newWork({ flags: IRQ_WORK_LAZY });
    h.k(1).irqWorkQueue(w);
    expect(h.listNodes(1, 'lazy')).toEqual([w]);
    expect(scanner.scan(0)).toEqual([]);
    for (let t = 1; t < LIMITS.pendingTicks; t++) {
      h.cpu(1).timerInterrupt();
      expect(scanner.scan(t), `after ${t} ticks`).toEqual([]);
    }
    h.cpu(1).timerInterrupt();
    const found = scanner.scan(LIMITS.pendingTicks);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ cpu: 1, work: w });
    expect(found[0]!.message).toContain('cpu1.lazy_list');
    expect(found[0]!.message).toContain(`${LIMITS.pendingTicks} ticks of cpu1`);
    // Each work is reported once.
    h.cpu(1).timerInterrupt();
    expect(scanner.scan(100)).toEqual([]);
  });

  it('reports a work on the list of a CPU asleep in idle with its tick stopped and no IPI latched', () => {
    const { h } = checkedHarness({ cpus: 2, preemptRt: true });
    const scanner = new LivenessScanner(h.mem, LIMITS);
    const w = h.newWork();
    h.k(0).irqWorkQueueOn(w, 1);
    // The IPI was lost: CPU1 sleeps for good (nothing latched, tick stopped, waiting in idle).
    const b = h.mem.cpuBase(1);
    Atomics.store(h.mem.i32, b + CPU_IPI_PENDING, 0);
    Atomics.store(h.mem.i32, b + CPU_TICK_STOPPED, 1);
    Atomics.store(h.mem.i32, b + CPU_IDLE_POLLING, 1);
    expect(scanner.scan(1000)).toEqual([]);
    expect(scanner.scan(1000 + LIMITS.idlePendingMs - 1)).toEqual([]);
    const found = scanner.scan(1000 + LIMITS.idlePendingMs);
    // Stranded: the work on CPU1's lazy_list, and the wake-up work on its call_single_queue.
    expect(found.map((f) => f.work).sort((a, b) => a - b)).toEqual([h.mem.wakeupWork(1), w].sort((a, b) => a - b));
    for (const f of found) {
      expect(f.cpu).toBe(1);
      expect(f.message).toMatch(/sleeps in idle, tick stopped, no IPI sent/);
    }
    expect(found.find((f) => f.work === w)!.message).toContain('cpu1.lazy_list');
  });

  it('reports a BUSY work with no execution in flight after stuckBusyScans scans (busy-never-cleared)', () => {
    const { h } = checkedHarness({ cpus: 1, preemptRt: false, variant: 'busy-never-cleared' });
    const scanner = new LivenessScanner(h.mem, LIMITS);
    const w = h.newWork();
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    expect(h.ranOn(w)).toHaveLength(1);
    expect(h.flags(w) & (IRQ_WORK_BUSY | IRQ_WORK_PENDING)).toBe(IRQ_WORK_BUSY);
    for (let i = 1; i < LIMITS.stuckBusyScans; i++) expect(scanner.scan(i), `scan ${i}`).toEqual([]);
    const found = scanner.scan(LIMITS.stuckBusyScans);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ cpu: -1, work: w });
    expect(found[0]!.message).toContain('stays BUSY with no execution in flight');
  });

  it('stays silent for a BUSY work whose callback is still running, however many scans', () => {
    const { h } = checkedHarness({ cpus: 1, preemptRt: false });
    const scanner = new LivenessScanner(h.mem, LIMITS);
    const w = h.newWork();
    const seen: unknown[] = [];
    h.at(0, 'irq_work_single:after-func', () => {
      for (let i = 0; i < 3 * LIMITS.stuckBusyScans; i++) seen.push(...scanner.scan(i));
    });
    h.k(0).irqWorkQueue(w);
    h.cpu(0).takeInterrupts();
    expect(h.ranOn(w)).toHaveLength(1);
    expect(seen).toEqual([]);
  });

  it('stays silent for a work that is simply pending briefly, then runs', () => {
    const { h } = checkedHarness({ cpus: 2, preemptRt: true });
    const scanner = new LivenessScanner(h.mem, LIMITS);
    const w = h.newWork({ flags: IRQ_WORK_LAZY });
    h.k(1).irqWorkQueue(w);
    const seen: unknown[] = [];
    seen.push(...scanner.scan(0));
    for (let t = 1; t < LIMITS.pendingTicks; t++) {
      // Ticks of a CPU that is busy elsewhere: irq_workd is woken but has not run yet.
      h.mem.i32[h.mem.cpuBase(1) + CPU_TICKS]! += 1;
      seen.push(...scanner.scan(t));
    }
    serve(h, 1);
    h.cpu(1).timerInterrupt();
    serve(h, 1);
    expect(h.ranOn(w)).toHaveLength(1);
    for (let t = 0; t < 3 * LIMITS.pendingTicks; t++) {
      h.cpu(1).timerInterrupt();
      seen.push(...scanner.scan(100 + t));
    }
    expect(seen).toEqual([]);
  });
});
