/**
 * Branch coverage of the kernel model (kernel/coverage.ts): a scripted interleaving on the
 * single-thread harness counts exactly the branches it takes, in the context and CPU state it
 * takes them; the collector leaves the branches a run's code or configuration lacks out of
 * `unreached`; and the table matches the coverage lines of the source.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTEXT_NAMES, CTX_HARDIRQ, CTX_IRQWORKD, CTX_TASK } from '../src/cpu/sim-cpu.js';
import { Harness } from '../src/harness/single-thread.js';
import {
  COV_BUSY,
  COV_IDLE_NOHZ,
  COV_SLOTS,
  COVERAGE_CONTEXTS,
  COVERAGE_POINTS,
  Cov,
  coverageSlot,
  pointReachable,
  type CoverageName,
} from '../src/kernel/coverage.js';
import { IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY } from '../src/kernel/flags.js';
import { CPU_TICK_STOPPED } from '../src/kernel/layout.js';
import { codeOf, coverageConfig, coverageReport, sumCoverage } from '../src/stress/coverage.js';
import { defaultRunOptions, type RunOptions } from '../src/stress/options.js';
import { findVariant } from '../src/variants/index.js';
import { REPO } from './support/cli.js';

/** What ran between two snapshots of one CPU's counts: `point@context/state` → count. */
function delta(before: Float64Array, after: Float64Array): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < after.length; i++) {
    const n = after[i]! - before[i]!;
    if (n === 0) continue;
    const p = COVERAGE_POINTS[Math.floor(i / COV_SLOTS)]!;
    const slot = i % COV_SLOTS;
    out[`${p.name}@${COVERAGE_CONTEXTS[Math.floor(slot / 3)]}/${['busy', 'idle', 'idle-nohz'][slot % 3]}`] = n;
  }
  return out;
}

/** Runs `step` and returns what CPU `cpu` counted meanwhile. */
function counted(h: Harness, cpu: number, step: () => void): Record<string, number> {
  const before = h.coverage(cpu).slice();
  step();
  return delta(before, h.coverage(cpu));
}

const at = (name: CoverageName, where: string) => `${name}@${where}`;

describe('coverage: a scripted interleaving counts exactly the branches it takes', () => {
  it('RT queue_on to a remote CPU whose lazy_list is not empty: that branch once, in task context, busy', () => {
    const h = new Harness({ cpus: 2, preemptRt: true, coverage: true });
    const [a, b] = [h.newWork(), h.newWork()];
    // The first queue finds the remote lazy_list empty and queues the remote wakeup work.
    expect(counted(h, 0, () => h.k(0).irqWorkQueueOn(a, 1))).toEqual({
      [at('claimOk', 'task/busy')]: 2, // the work, then the wakeup work
      [at('llistAddEmpty', 'task/busy')]: 2, // the lazy_list, then call_single_queue
      [at('queueOnWakeupQueued', 'task/busy')]: 1,
      [at('callSingleQueueIpi', 'task/busy')]: 1,
    });
    // The second finds it not empty and returns: nothing else runs.
    expect(counted(h, 0, () => h.k(0).irqWorkQueueOn(b, 1))).toEqual({
      [at('claimOk', 'task/busy')]: 1,
      [at('llistAddNotEmpty', 'task/busy')]: 1,
      [at('queueOnLazyNotEmpty', 'task/busy')]: 1,
    });
    expect(h.listNodes(1, 'lazy')).toEqual([b, a]);
  });

  it('the remote CPU takes the IPI in hardirq and its irq_workd runs both works: counted on that CPU', () => {
    const h = new Harness({ cpus: 2, preemptRt: true, coverage: true });
    const [a, b] = [h.newWork(), h.newWork()];
    h.k(0).irqWorkQueueOn(a, 1);
    h.k(0).irqWorkQueueOn(b, 1);
    expect(counted(h, 1, () => h.cpu(1).takeInterrupts())).toEqual({
      [at('callSingleInterrupt', 'hardirq/busy')]: 1,
      [at('llistDelAllTook', 'hardirq/busy')]: 1,
      [at('flushIrqWork', 'hardirq/busy')]: 1,
      [at('irqWorkWake', 'hardirq/busy')]: 1,
      [at('wakeIrqWorkdWoke', 'hardirq/busy')]: 1,
      [at('singleBusyCleared', 'hardirq/busy')]: 1,
      [at('singleNoWake', 'hardirq/busy')]: 1, // the wakeup work is HARD_IRQ
    });
    expect(counted(h, 1, () => h.cpu(1).preemptionPoint())).toEqual({
      [at('threadFnRun', 'irq_workd/busy')]: 1,
      [at('runIrqWorkd', 'irq_workd/busy')]: 1,
      [at('runListTook', 'irq_workd/busy')]: 1,
      [at('llistDelAllTook', 'irq_workd/busy')]: 1,
      [at('singleBusyCleared', 'irq_workd/busy')]: 2,
      [at('rcuwaitWakeNone', 'irq_workd/busy')]: 2, // non-hard work on RT: rcuwait_wake_up, nobody waits
      [at('threadFnSleep', 'irq_workd/busy')]: 1,
    });
    expect(h.ranOn(a)).toEqual([{ cpu: 1, work: a, context: 'irq_workd' }]);
  });

  it('a LAZY work queued from a hardirq on an idle CPU whose tick is stopped raises: counted as hardirq, idle-nohz', () => {
    const h = new Harness({ cpus: 2, preemptRt: true, coverage: true, tickStopped: true });
    const w = h.newWork({ flags: IRQ_WORK_LAZY });
    const rt = h.cpu(0);
    rt.cpu.switchTo(-1); // the CPU is in its idle loop
    expect(counted(h, 0, () => rt.inHardirq(() => h.k(0).irqWorkQueue(w)))).toEqual({
      [at('claimOk', 'hardirq/idle-nohz')]: 1,
      [at('queueClaimed', 'hardirq/idle-nohz')]: 1,
      [at('llistAddEmpty', 'hardirq/idle-nohz')]: 1,
      [at('queueLocalLazyNohz', 'hardirq/idle-nohz')]: 1,
    });
    // The same queue with the tick running waits for the tick (no raise).
    h.mem.i32[h.mem.cpuBase(1) + CPU_TICK_STOPPED] = 0;
    const w2 = h.newWork({ flags: IRQ_WORK_LAZY });
    expect(counted(h, 1, () => h.k(1).irqWorkQueue(w2))[at('queueLocalLazyTick', 'task/busy')]).toBe(1);
    // And asking whether the idle CPU needs its tick, with lazy work waiting: idle context.
    expect(counted(h, 0, () => h.k(0).irqWorkNeedsCpu())).toEqual({ [at('needsCpuLazy', 'idle/idle-nohz')]: 1 });
  });

  it('slots: a count lands at coverageSlot(context, state) of the point', () => {
    const h = new Harness({ cpus: 1, preemptRt: false, coverage: true });
    const w = h.newWork({ flags: IRQ_WORK_HARD_IRQ });
    const before = h.coverage(0).slice();
    h.k(0).irqWorkQueue(w);
    expect(h.coverage(0)[Cov.queueLocalRaisedFirst * COV_SLOTS + coverageSlot(CTX_TASK, COV_BUSY)]! - before[Cov.queueLocalRaisedFirst * COV_SLOTS + coverageSlot(CTX_TASK, COV_BUSY)]!).toBe(1);
    h.cpu(0).takeInterrupts();
    expect(h.coverage(0)[Cov.irqWorkRunNoRt * COV_SLOTS + coverageSlot(CTX_HARDIRQ, COV_BUSY)]).toBe(1);
    expect(coverageSlot(CTX_IRQWORKD, COV_IDLE_NOHZ)).toBe(1 * 3 + 2);
  });

  it('the coverage contexts are the CPU context numbers', () => {
    expect([...COVERAGE_CONTEXTS]).toEqual([...CONTEXT_NAMES]);
  });

  it('a kernel built without a sink counts nothing and costs no sink', () => {
    const h = new Harness({ cpus: 2, preemptRt: true });
    const w = h.newWork();
    expect(h.k(0).irqWorkQueueOn(w, 1)).toBe(true);
    expect(() => h.coverage(0)).toThrow(/without coverage/);
  });
});

/** The run options of a race with these settings. */
function opts(o: Partial<RunOptions>): RunOptions {
  return { ...defaultRunOptions(), cpus: 4, ...o };
}

describe('coverage: the collector', () => {
  const zero = new Float64Array(COVERAGE_POINTS.length * COV_SLOTS);

  it('unreached omits what the configuration does not have', () => {
    const rt = coverageReport(zero, coverageConfig(opts({ preemptRt: true }))).unreached;
    const nort = coverageReport(zero, coverageConfig(opts({ preemptRt: false }))).unreached;
    // RT-only branches: unreached on RT, not even reachable on non-RT — and the other way round.
    for (const name of ['queueOnLazyNotEmpty', 'queueLocalRtLazyFirst', 'wakeIrqWorkdWoke', 'threadFnRun', 'rcuwaitWakeWoke']) {
      expect(rt).toContain(name);
      expect(nort).not.toContain(name);
    }
    for (const name of ['queueOnRemoteNoRt', 'tickNoRtLazy', 'irqWorkRunNoRt']) {
      expect(nort).toContain(name);
      expect(rt).not.toContain(name);
    }
    // The no-arch-interrupt paths only with --arch-no-irq-work; hotplug paths only with --hotplug.
    for (const u of [rt, nort]) for (const name of ['tickRunsRaised', 'needsCpuRaised', 'dyingCpu', 'llistDelAllEmpty', 'parkSleeping']) expect(u).not.toContain(name);
    const noArch = coverageReport(zero, coverageConfig(opts({ preemptRt: false, archHasIrqWorkInterrupt: false }))).unreached;
    expect(noArch).toEqual(expect.arrayContaining(['tickRunsRaised', 'needsCpuRaised', 'rcuwaitWakeWoke']));
    expect(noArch).not.toContain('syncSpin');
    expect(noArch).not.toContain('irqWorkRunNoRt'); // no self-IPI: irq_work_run runs only from the dying step
    const hotplug = coverageReport(zero, coverageConfig(opts({ preemptRt: true, hotplug: { everyMs: 300, offlineMs: 20 } }))).unreached;
    expect(hotplug).toEqual(expect.arrayContaining(['dyingCpu', 'llistDelAllEmpty', 'parkSleeping', 'unparkWoke']));
    // No NO_HZ: nothing asks irq_work_needs_cpu, and the tick never stops.
    const periodic = coverageReport(zero, coverageConfig(opts({ preemptRt: true, nohz: false }))).unreached;
    expect(periodic).not.toContain('needsCpuNo');
    expect(periodic).not.toContain('queueLocalLazyNohz');
    // One CPU: no remote queue.
    expect(coverageReport(zero, coverageConfig(opts({ preemptRt: true, cpus: 1 }))).unreached).not.toContain('callSingleQueueIpi');
  });

  it('unreached never lists a branch no clean run reaches (WARN paths, excluded cases)', () => {
    for (const rt of [true, false]) {
      const u = coverageReport(zero, coverageConfig(opts({ preemptRt: rt, hotplug: { everyMs: 300, offlineMs: 20 } }))).unreached;
      for (const p of COVERAGE_POINTS.filter((x) => x.never)) expect(u).not.toContain(p.name);
    }
  });

  it("a variant's own points count only in runs of that variant; the base function's points not where it is overridden", () => {
    const merged = coverageReport(zero, coverageConfig(opts({ variant: 'merged' }))).unreached;
    const v2 = coverageReport(zero, coverageConfig(opts({ variant: 'v2' }))).unreached;
    const current = coverageReport(zero, coverageConfig(opts({ variant: 'current' }))).unreached;
    expect(merged).toContain('queueOnLazyNotEmpty');
    expect(merged).not.toContain('v2QueueOnDoubleAdd');
    expect(v2).toContain('v2QueueOnDoubleAdd');
    expect(v2).not.toContain('queueOnLazyNotEmpty');
    expect(v2).toContain('queueLocalRtLazyFirst'); // v2 calls the base __irq_work_queue_local
    expect(v2).not.toContain('rcuwaitWakeWoke'); // v2 wakes the rcuwait only without an arch interrupt
    expect(current).toEqual(expect.arrayContaining(['currentSyncSleep', 'currentRunIrqWorkd', 'gpCpuReader']));
    expect(current).not.toContain('syncSleep');
    expect(merged).not.toContain('gpCpuReader'); // only current's irq_work_sync waits for a grace period
  });

  it('codeOf names whose code runs a method', () => {
    expect(codeOf(findVariant('merged').kernel, 'irqWorkQueueOn')).toBe('base');
    expect(codeOf(findVariant('v2').kernel, 'irqWorkQueueOn')).toBe('v2');
    expect(codeOf(findVariant('v2').kernel, 'irqWorkQueueLocal')).toBe('base');
    expect(codeOf(findVariant('current').kernel, 'irqWorkSync')).toBe('current');
    expect(codeOf(findVariant('current').kernel, 'llistAdd')).toBe('base');
    expect(codeOf(findVariant('sync-no-wait').kernel, 'irqWorkSync')).toBe('sync-no-wait');
  });

  it('counts are summed over the CPUs, and a reached point leaves unreached', () => {
    const a = zero.slice();
    const b = zero.slice();
    a[Cov.queueOnLazyNotEmpty * COV_SLOTS + coverageSlot(CTX_TASK, COV_BUSY)] = 2;
    b[Cov.queueOnLazyNotEmpty * COV_SLOTS + coverageSlot(CTX_TASK, COV_BUSY)] = 3;
    b[Cov.queueLocalLazyNohz * COV_SLOTS + coverageSlot(CTX_HARDIRQ, COV_IDLE_NOHZ)] = 1;
    const sum = sumCoverage([a, undefined, b])!;
    const report = coverageReport(sum, coverageConfig(opts({ preemptRt: true })));
    expect(report.rows).toEqual([
      { function: '__irq_work_queue_local', branch: expect.any(String), point: 'queueLocalLazyNohz', context: 'hardirq', cpuState: 'idle-nohz', count: 1 },
      { function: 'irq_work_queue_on', branch: expect.any(String), point: 'queueOnLazyNotEmpty', context: 'task', cpuState: 'busy', count: 5 },
    ]);
    expect(report.unreached).not.toContain('queueOnLazyNotEmpty');
    expect(report.reached).toBe(2);
    expect(report.reachable).toBe(report.unreached.length + 2);
    expect(report.reachable + report.notReachable).toBe(COVERAGE_POINTS.length);
    expect(sumCoverage([undefined])).toBeNull();
  });
});

describe('coverage: the table and the source agree', () => {
  const files = (dir: string) => readdirSync(join(REPO, dir)).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f));
  const uses = new Map<string, string[]>();
  for (const file of [...files('src/kernel'), 'src/variants/v2.ts', 'src/variants/current.ts']) {
    const lines = readFileSync(join(REPO, file), 'utf8').split('\n').filter((l) => l.includes('this.cover('));
    for (const m of lines.join('\n').matchAll(/\bCov\.(\w+)/g)) uses.set(m[1]!, [...(uses.get(m[1]!) ?? []), file]);
  }

  it('every point is counted somewhere, in its own file, and every counted name is a point', () => {
    for (const p of COVERAGE_POINTS) {
      const where = uses.get(p.name) ?? [];
      expect(where.length, `${p.name} is never counted`).toBeGreaterThan(0);
      for (const file of where) {
        if (p.variant) expect(file).toBe(`src/variants/${p.variant}.ts`);
        else expect(file.startsWith('src/kernel/'), `${p.name} in ${file}`).toBe(true);
      }
    }
    for (const name of uses.keys()) expect(COVERAGE_POINTS.some((p) => p.name === name), name).toBe(true);
  });

  it('names are unique and every `never` point says why', () => {
    expect(new Set(COVERAGE_POINTS.map((p) => p.name)).size).toBe(COVERAGE_POINTS.length);
    for (const p of COVERAGE_POINTS.filter((x) => x.never !== undefined)) expect(p.never!.length).toBeGreaterThan(20);
    // A never point is unreachable whatever the configuration.
    const cfg = { preemptRt: true, archHasIrqWorkInterrupt: true, nohz: true, hotplug: true, cpus: 4, codeOf: () => 'base' };
    for (const p of COVERAGE_POINTS.filter((x) => x.never !== undefined && !x.variant)) expect(pointReachable(p, cfg)).toBe(false);
  });
});
