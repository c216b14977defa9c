/**
 * CPU-bound throughput (src/bench/throughput.ts): the skeleton throughput baseline conserves
 * works and reports a rate, the cpu-bound preset runs clean and never waits, and the scaling
 * rule flags a ratio the cores cannot give. One 2-thread Machine for the whole file (the skeleton
 * and the stress runs take turns on it); short runs; no assertion on how fast anything is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRQ_WORK_BUSY } from '../src/kernel/flags.js';
import { Machine } from '../src/machine/machine.js';
import { conservationProblems, runSkeletonOnMachine, skeletonBuffer, SkeletonLayout } from '../src/bench/skeleton-throughput.js';
import {
  CPU_BOUND_WORKLOAD,
  remoteShareOf,
  scalingProblems,
  throughputFigures,
  type CpuBoundPoint,
  type SkeletonThroughput,
  type ThroughputFigure,
} from '../src/bench/throughput.js';
import { unsteadyProblem } from '../src/bench/works-scaling.js';
import { runStress } from '../src/stress/kind.js';
import { defaultRunOptions } from '../src/stress/options.js';
import { PRESETS, worksPerCpu } from '../src/workload/spec.js';

const CPUS = 2;
const preset = PRESETS[CPU_BOUND_WORKLOAD]!;
let machine: Machine;

beforeAll(() => {
  machine = Machine.start(CPUS);
});

afterAll(async () => {
  await machine.close();
});

describe('skeleton throughput baseline', () => {
  it('runs on 2 threads for ~200 ms, reports a positive rate, and runs every claimed work exactly once', async () => {
    const run = await runSkeletonOnMachine(machine, 200, { worksPerThread: worksPerCpu(preset), remoteShare: remoteShareOf(preset) });
    expect(run.threads).toBe(CPUS);
    expect(run.windowMs).toBeGreaterThanOrEqual(190);
    expect(run.worksPerSec).toBeGreaterThan(0);
    expect(run.problems).toEqual([]);
    expect(run.conserved).toBe(true);
    expect(run.claims).toBeGreaterThan(0);
    expect(run.runs).toBe(run.claims);
    // Both paths were taken: self-IPIs for local queueing, remote IPIs for the other thread's queue.
    expect(run.selfIpis).toBeGreaterThan(0);
    expect(run.ipisSent).toBeGreaterThan(0);
    expect(run.ipisTaken).toBeGreaterThan(0);
    expect(run.stalledShare).toBeGreaterThanOrEqual(0);
    expect(run.stalledShare).toBeLessThanOrEqual(1);
  }, 30_000);

  it('the conservation check sees a lost run, a doubled run and a work left claimed', () => {
    const layout = new SkeletonLayout(2, 4);
    const sab = skeletonBuffer(layout);
    expect(conservationProblems(sab, layout, 0, 0)).toEqual([]);
    const i32 = new Int32Array(sab);
    // Node words: next, flags, claimed, executed.
    i32[layout.node(1) + 2] = 3; // claimed 3, executed 0: lost
    i32[layout.node(6) + 3] = 1; // executed once, never claimed: doubled
    i32[layout.node(8) + 1] = IRQ_WORK_BUSY; // still BUSY
    const problems = conservationProblems(sab, layout, 3, 1);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/^work 1: claimed 3, executed 0/);
    expect(problems[1]).toMatch(/^work 6: claimed 0, executed 1/);
    expect(problems[2]).toMatch(/^work 8: .*flags 0x2/);
    expect(problems[3]).toBe('in total: claimed 3, run 1');
  });
});

describe('the cpu-bound preset', () => {
  it('never waits: no LAZY works, no sync, no idling, no NMIs; local and remote, task and hardirq, plain and HARD_IRQ', () => {
    expect(preset.works.lazy).toBe(0);
    expect(preset.works.plain).toBeGreaterThan(0);
    expect(preset.works.hard).toBeGreaterThan(0);
    expect(preset.weights.sync).toBe(0);
    expect(preset.weights.syncFree).toBe(0);
    expect(preset.weights.queueNmi).toBe(0);
    expect(preset.idleChance).toBe(0);
    expect(preset.weights.queueTask).toBeGreaterThan(0);
    expect(preset.weights.queueHardirq).toBeGreaterThan(0);
    expect(preset.weights.queueRemote).toBeGreaterThan(0);
    expect(remoteShareOf(preset)).toBe(0.25);
  });

  it.each([
    ['rt', true],
    ['nort', false],
  ])('runs clean on %s: accounting OK, works run in the expected contexts, no sync', async (_name, preemptRt) => {
    const r = await runStress(machine, { ...defaultRunOptions(), cpus: CPUS, preemptRt, workload: preset, durationMs: 300, seed: 7 });
    expect(r.violations).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.drained).toBe(true);
    expect(r.totals.executed).toBeGreaterThan(0);
    expect(r.totals.executed).toBe(r.totals.claimed);
    expect(r.totals.syncs).toBe(0);
    expect(r.totals.ipisSent).toBeGreaterThan(0);
    expect(r.totals.executedHardirq).toBeGreaterThan(0);
    if (preemptRt) expect(r.totals.executedIrqWorkd).toBeGreaterThan(0);
    else expect(r.totals.executedIrqWorkd).toBe(0);
  }, 30_000);
});

describe('throughput figures', () => {
  const fig = (worksPerSec: number, coresUsed = 1): ThroughputFigure => ({
    worksPerSec,
    measuredWorksPerSec: [worksPerSec, worksPerSec, worksPerSec],
    coldWorksPerSec: worksPerSec,
    warmupRuns: 1,
    warmupMs: 0,
    warmupCapped: false,
    measuredCoresUsed: [coresUsed, coresUsed, coresUsed],
    coresUsed,
    worksPerCpuSecond: worksPerSec / coresUsed,
  });
  const point = (cpus: number, rt: number, nort: number): CpuBoundPoint => ({ cpus, rt: fig(rt), nort: fig(nort), problems: [] });
  const skeleton = (worksPerSec: number): SkeletonThroughput => ({
    ...fig(worksPerSec),
    threads: 2,
    worksPerThread: 128,
    remoteShare: 0.25,
    claims: 1,
    failedClaims: 0,
    runs: 1,
    ipisSent: 0,
    selfIpis: 0,
    ipisTaken: 0,
    stalledShare: 0,
    conserved: true,
    problems: [],
  });

  it('measured runs more than 1.5× apart are not a steady state; closer ones are', () => {
    expect(unsteadyProblem([900, 1000, 1100])).toBeNull();
    expect(unsteadyProblem([1000, 1000, 1500])).toBeNull();
    const rising = unsteadyProblem([635_417, 772_701, 1_046_279]);
    expect(rising).toMatch(/^measured runs 635417–1046279 works\/s \(1\.65× apart\): not a steady state/);
    expect(unsteadyProblem([0, 1000, 1000])).toMatch(/one run did nothing/);
    expect(unsteadyProblem([0, 0, 0])).toBeNull();
  });

  it('a scaling ratio above the core count is a problem; one at or below it is not', () => {
    // 16 CPUs ran 15× the works of 1 on 2 cores: the figure measures waiting.
    const waiting = scalingProblems('local', [point(1, 100, 100), point(16, 1500, 150)], 2);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatch(/^local rt: 16 CPUs ran 15× the works\/s of 1 on 2 cores/);
    expect(waiting[0]).toMatch(/measures waiting/);
    expect(scalingProblems('local', [point(1, 100, 100), point(2, 200, 190), point(64, 190, 200)], 2)).toEqual([]);
    // Every pair counts, not only against the smallest point; on 4 cores 3× is fine.
    expect(scalingProblems('x', [point(1, 100, 100), point(2, 40, 100), point(64, 130, 100)], 2)).toHaveLength(1);
    expect(scalingProblems('x', [point(1, 100, 100), point(4, 300, 300)], 4)).toEqual([]);
  });

  it('computes the ratios and lists the problems', () => {
    const f = throughputFigures({ cpuBound: [point(1, 100, 300), point(2, 190, 580), point(64, 170, 500)], skeleton: skeleton(1000), cores: 2 });
    expect(f.cores).toBe(2);
    expect(f.throughputVsSkeleton).toBeCloseTo(0.19);
    expect(f.throughputVsSkeletonNonRt).toBeCloseTo(0.58);
    expect(f.throughputVsSkeletonPerCpuSecond).toBeCloseTo(0.19);
    expect(f.throughputVsSkeletonOneCpu).toBeNull();
    const one = throughputFigures({ cpuBound: [point(1, 100, 300)], skeleton: null, skeletonOneThread: { ...skeleton(400), threads: 1 }, cores: 2 });
    expect(one.throughputVsSkeletonOneCpu).toBeCloseTo(0.25);
    expect(one.throughputVsSkeletonOneCpuNonRt).toBeCloseTo(0.75);
    expect(one.throughputVsSkeleton).toBeNull();
    expect(f.cpuBound2vs1).toBeCloseTo(1.9);
    expect(f.cpuBound2vs1NonRt).toBeCloseTo(580 / 300);
    expect(f.cpuBound64vs2).toBeCloseTo(170 / 190);
    expect(f.problems).toEqual([]);

    const bad = throughputFigures({
      cpuBound: [point(1, 100, 300), { ...point(2, 500, 580), problems: ['rt: 1 violation(s)'] }],
      skeleton: { ...skeleton(1000), conserved: false, problems: ['in total: claimed 3, run 2'] },
      cores: 2,
    });
    expect(bad.cpuBound2vs1).toBe(5);
    expect(bad.cpuBound64vs2).toBeNull();
    expect(bad.throughputVsSkeleton).toBeNull();
    expect(bad.problems).toEqual([
      'cpu-bound 2 CPUs, rt: 1 violation(s)',
      'skeleton 2 threads: a claimed work did not run exactly once: in total: claimed 3, run 2',
      expect.stringMatching(/^cpu-bound rt: 2 CPUs ran 5× the works\/s of 1 on 2 cores \(the runs had 1 and 1 cores\)/),
    ]);

    // A skeleton whose threads took turns instead of running side by side.
    const stalled = throughputFigures({ cpuBound: [point(2, 190, 580)], skeleton: { ...skeleton(300), stalledShare: 0.9 }, cores: 2 });
    expect(stalled.throughputVsSkeleton).toBeCloseTo(190 / 300);
    expect(stalled.problems).toEqual([expect.stringMatching(/^skeleton 2 threads: 90% of their time their works were stuck/)]);
  });
});
