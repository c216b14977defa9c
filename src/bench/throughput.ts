/**
 * CPU-bound throughput of the model against the protocol's own limit.
 *
 * The works/s scaling of works-scaling.ts runs the `local` workload, which mostly waits for
 * ticks (irq_work_sync of LAZY works sleeps until the tick has run them): its CPUs idle, and more
 * CPUs than cores fill the idle time — 16 simulated CPUs on 2 cores ran 15× the works of one.
 * That measures waiting, not the model. Here the workload is `cpu-bound` (workload/spec.ts:
 * local and remote queueing of plain and HARD_IRQ works from task and hardirq context, nothing
 * that sleeps or waits), so works/s is what the model pushes through the cores it gets, and it
 * is set against the skeleton throughput baseline (skeleton-throughput.ts): the protocol's bare
 * atomic steps on as many threads, with the preset's works per CPU and remote share.
 *
 * Both run at the lowest OS priority (MachineOptions.lowPriority), warmed up the same way
 * (works-scaling.ts's measureSteadyState). Beside each works/s figure: the cores the run had
 * (process CPU time / wall time — on a shared machine often far fewer than the machine has) and
 * works per CPU-second, the figure per core whatever the load left us.
 */
import { availableParallelism } from 'node:os';
import { Machine } from '../machine/machine.js';
import { PRESETS, worksPerCpu, type WorkloadSpec } from '../workload/spec.js';
import { runSkeletonOnMachine, type SkeletonRun } from './skeleton-throughput.js';
import { measureSteadyState, measureStressConfigs, median, type ConfigFigure, type SteadyState, type StressSample, type WarmupPlan } from './works-scaling.js';

export const CPU_BOUND_WORKLOAD = 'cpu-bound';

/** The skeleton warms up fast (one small loop); JMH-style all the same. */
export const SKELETON_WARMUP: WarmupPlan = { runMs: 200, settledRuns: 2, maxMs: 5000 };

/** The CPU count at which the model is set against the skeleton: each thread has its own core on a 2-core machine. */
export const VS_SKELETON_CPUS = 2;

/**
 * Above this share of stalled time the skeleton's threads did not run side by side. On an idle
 * machine the share stays near 0: a remote work waits one operation of its target at most.
 */
export const MAX_STALLED_SHARE = 0.5;

/** A works/s figure plus what the runs had of the machine. */
export interface ThroughputFigure extends ConfigFigure {
  /** Each measured run's process CPU time / wall time. */
  measuredCoresUsed: number[];
  /** Median of measuredCoresUsed. */
  coresUsed: number;
  /** Median over the measured runs of works/s ÷ cores used: works per CPU-second. */
  worksPerCpuSecond: number;
}

/** The model's executed works/s with the cpu-bound preset at one CPU count. */
export interface CpuBoundPoint {
  cpus: number;
  rt: ThroughputFigure | null;
  nort: ThroughputFigure | null;
  /**
   * A run (a warm-up run too) that failed its accounting check or crashed. A configuration whose
   * measured runs failed has no figure; one whose warm-up failed keeps a figure, to be read with care.
   */
  problems: string[];
}

/**
 * The skeleton baseline's works/s with T threads. The counts are summed over the measured runs,
 * `stalledShare` is their mean, and `conserved` holds only if every run (warm-up too) ran every
 * claimed work exactly once (the fields are SkeletonRun's, see skeleton-throughput.ts).
 */
export interface SkeletonThroughput
  extends ThroughputFigure,
    Pick<
      SkeletonRun,
      'threads' | 'worksPerThread' | 'remoteShare' | 'claims' | 'failedClaims' | 'runs' | 'ipisSent' | 'selfIpis' | 'ipisTaken' | 'stalledShare' | 'conserved' | 'problems'
    > {}

export interface ThroughputFigures {
  /** The machine's cores (availableParallelism()). */
  cores: number;
  /**
   * Model works/s (cpu-bound, 2 CPUs, PREEMPT_RT) ÷ skeleton works/s (2 threads). The skeleton
   * is the hard path of both configurations; RT's plain works take more protocol steps (the
   * lazy_list, waking irq_workd, the remote wakeup work), so this ratio holds what the RT change
   * costs as well as what the model adds. `…NonRt` is the model's own overhead over the same steps.
   */
  throughputVsSkeleton: number | null;
  throughputVsSkeletonNonRt: number | null;
  /** The same per CPU-second (each side's works/s ÷ the cores its runs had): less at the mercy of a loaded machine. */
  throughputVsSkeletonPerCpuSecond: number | null;
  throughputVsSkeletonPerCpuSecondNonRt: number | null;
  /**
   * Model works per CPU-second at 1 CPU ÷ the 1-thread skeleton's (RT, non-RT), when that was
   * measured: one core, local queueing only, no partner to wait for — what a core does through
   * the model against through the bare steps, whatever else the machine runs.
   */
  throughputVsSkeletonOneCpu: number | null;
  throughputVsSkeletonOneCpuNonRt: number | null;
  /** Model works/s at 2 CPUs ÷ at 1 CPU (RT, non-RT). */
  cpuBound2vs1: number | null;
  cpuBound2vs1NonRt: number | null;
  /** Model works/s at 64 CPUs ÷ at 2 CPUs (RT, non-RT). */
  cpuBound64vs2: number | null;
  cpuBound64vs2NonRt: number | null;
  /** Failed runs, a skeleton that lost or doubled a work, and every scaling ratio above the core count. */
  problems: string[];
}

/**
 * The share of the workload's operations that are irq_work_queue_on (the skeleton's remote share).
 * The driver's queue_on names the caller's own CPU now and then (its local path), so the model
 * queues remotely a little less than this: the skeleton, if anything, crosses cores more often.
 */
export function remoteShareOf(spec: WorkloadSpec): number {
  const w = spec.weights;
  const total = w.queueTask + w.queueHardirq + w.queueNmi + w.queueRemote + w.sync + w.syncFree;
  return total === 0 ? 0 : w.queueRemote / total;
}

function throughputFigure(s: SteadyState<StressSample | SkeletonRun>): ThroughputFigure {
  const measuredCoresUsed = s.measured.map((m) => m.coresUsed);
  return {
    ...s.figure,
    measuredCoresUsed,
    coresUsed: median(measuredCoresUsed),
    worksPerCpuSecond: median(s.measured.map((m) => (m.coresUsed > 0 ? m.worksPerSec / m.coresUsed : 0))),
  };
}

/**
 * Executed works/s of the model with the cpu-bound preset on `machine` (all its CPUs, low
 * priority), RT and non-RT, each warmed up (both first, when there are more CPUs than cores).
 */
export async function measureCpuBound(machine: Machine, durationMs: number, warmup: WarmupPlan): Promise<CpuBoundPoint> {
  // More CPUs than cores: warm both configurations before measuring either (StressConfigsOptions).
  const warmBothFirst = machine.cpus > availableParallelism();
  return { cpus: machine.cpus, ...(await measureStressConfigs(machine, PRESETS[CPU_BOUND_WORKLOAD]!, durationMs, warmup, throughputFigure, { warmBothFirst })) };
}

/**
 * Works/s of the skeleton baseline on `threads` threads (a machine of its own, its threads at the
 * lowest OS priority like the measured model's CPUs), with the cpu-bound preset's works per CPU
 * and remote share; warmed up, then the median of the measured runs.
 */
export async function measureSkeletonThroughput(threads: number, durationMs: number, warmup: WarmupPlan = SKELETON_WARMUP): Promise<SkeletonThroughput> {
  const spec = PRESETS[CPU_BOUND_WORKLOAD]!;
  const opts = { worksPerThread: worksPerCpu(spec), remoteShare: remoteShareOf(spec) };
  const problems: string[] = [];
  const machine = Machine.start(threads, { lowPriority: true });
  try {
    const s = await measureSteadyState(
      async (ms) => {
        const run = await runSkeletonOnMachine(machine, ms, opts);
        for (const p of run.problems) if (problems.length < 10) problems.push(p);
        return run;
      },
      durationMs,
      warmup,
    );
    const sum = (f: (r: SkeletonRun) => number) => s.measured.reduce((a, r) => a + f(r), 0);
    return {
      ...throughputFigure(s),
      threads,
      ...opts,
      claims: sum((r) => r.claims),
      failedClaims: sum((r) => r.failedClaims),
      runs: sum((r) => r.runs),
      ipisSent: sum((r) => r.ipisSent),
      selfIpis: sum((r) => r.selfIpis),
      ipisTaken: sum((r) => r.ipisTaken),
      stalledShare: sum((r) => r.stalledShare) / s.measured.length,
      conserved: problems.length === 0,
      problems,
    };
  } finally {
    await machine.close().catch(() => {});
  }
}

/** A point of a works/s scaling (cpu-bound here, works-scaling.ts's too): works/s per configuration, if measured. */
type ConfigLike = { worksPerSec: number; coresUsed?: number } | null;
type PointLike = { cpus: number; rt: ConfigLike; nort: ConfigLike };

/**
 * The benchmark's own sanity rule. With C cores and CPU-bound work, n CPUs can do at most
 * min(n, C) / min(m, C) times the works of m < n CPUs, and so never more than C times. A scaling
 * ratio above C means the figure measures waiting (CPUs that idle while they wait, their idle
 * time filled by more CPUs), not the model: a bug in the benchmark. One line per ratio above C,
 * over every pair of points and both configurations; it names the cores each run had, since on
 * a machine others load, more threads also win a larger share of the cores.
 */
export function scalingProblems(label: string, points: readonly PointLike[], cores: number): string[] {
  const out: string[] = [];
  const sorted = [...points].sort((a, b) => a.cpus - b.cpus);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i + 1; j < sorted.length; j++) {
      const lo = sorted[i]!;
      const hi = sorted[j]!;
      if (hi.cpus === lo.cpus) continue;
      for (const config of ['rt', 'nort'] as const) {
        const r = ratio(hi[config]?.worksPerSec, lo[config]?.worksPerSec);
        if (r === null || r <= cores) continue;
        const had = (p: PointLike) => p[config]?.coresUsed;
        const coresNote =
          had(hi) !== undefined && had(lo) !== undefined ? ` (the runs had ${round2(had(hi)!)} and ${round2(had(lo)!)} cores)` : '';
        out.push(
          `${label} ${config}: ${hi.cpus} CPUs ran ${round2(r)}× the works/s of ${lo.cpus} on ${cores} cores${coresNote} — ` +
            'more than the cores allow: the figure measures waiting, not the model (a bug in the benchmark)',
        );
      }
    }
  }
  return out;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return a / b;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The figures of this part of the bench from its measurements: the model against the skeleton
 * at VS_SKELETON_CPUS, and the cpu-bound scaling ratios (null where a point was not measured).
 */
export function throughputFigures(input: {
  cpuBound: readonly CpuBoundPoint[];
  /** The skeleton with VS_SKELETON_CPUS threads. */
  skeleton: SkeletonThroughput | null;
  /** The skeleton with one thread (optional). */
  skeletonOneThread?: SkeletonThroughput | null;
  cores?: number;
}): ThroughputFigures {
  const cores = input.cores ?? availableParallelism();
  const at = (cpus: number) => input.cpuBound.find((p) => p.cpus === cpus);
  const works = (cpus: number, config: 'rt' | 'nort') => at(cpus)?.[config]?.worksPerSec;
  const perCpuS = (cpus: number, config: 'rt' | 'nort') => at(cpus)?.[config]?.worksPerCpuSecond;
  const sk = input.skeleton;
  const problems: string[] = [];
  for (const p of input.cpuBound) for (const q of p.problems) problems.push(`cpu-bound ${p.cpus} CPUs, ${q}`);
  if (sk && !sk.conserved) problems.push(`skeleton ${sk.threads} threads: a claimed work did not run exactly once: ${sk.problems.join('; ')}`);
  if (sk && sk.threads !== VS_SKELETON_CPUS) problems.push(`skeleton measured with ${sk.threads} threads, not ${VS_SKELETON_CPUS}: no model/skeleton ratio`);
  if (sk && sk.stalledShare > MAX_STALLED_SHARE) {
    problems.push(
      `skeleton ${sk.threads} threads: ${Math.round(sk.stalledShare * 100)}% of their time their works were stuck on the other thread's list ` +
        `(the runs had ${round2(sk.coresUsed)} cores): they seldom ran at the same time, the figure is the OS scheduler's, ` +
        'and the model/skeleton ratios are not to be trusted',
    );
  }
  const skOk = sk && sk.conserved && sk.threads === VS_SKELETON_CPUS ? sk : null;
  const sk1 = input.skeletonOneThread ?? null;
  if (sk1 && !sk1.conserved) problems.push(`skeleton 1 thread: a claimed work did not run exactly once: ${sk1.problems.join('; ')}`);
  const sk1Ok = sk1 && sk1.conserved && sk1.threads === 1 ? sk1 : null;
  problems.push(...scalingProblems('cpu-bound', input.cpuBound, cores));
  return {
    cores,
    throughputVsSkeleton: ratio(works(VS_SKELETON_CPUS, 'rt'), skOk?.worksPerSec),
    throughputVsSkeletonNonRt: ratio(works(VS_SKELETON_CPUS, 'nort'), skOk?.worksPerSec),
    throughputVsSkeletonPerCpuSecond: ratio(perCpuS(VS_SKELETON_CPUS, 'rt'), skOk?.worksPerCpuSecond),
    throughputVsSkeletonPerCpuSecondNonRt: ratio(perCpuS(VS_SKELETON_CPUS, 'nort'), skOk?.worksPerCpuSecond),
    throughputVsSkeletonOneCpu: ratio(perCpuS(1, 'rt'), sk1Ok?.worksPerCpuSecond),
    throughputVsSkeletonOneCpuNonRt: ratio(perCpuS(1, 'nort'), sk1Ok?.worksPerCpuSecond),
    cpuBound2vs1: ratio(works(2, 'rt'), works(1, 'rt')),
    cpuBound2vs1NonRt: ratio(works(2, 'nort'), works(1, 'nort')),
    cpuBound64vs2: ratio(works(64, 'rt'), works(2, 'rt')),
    cpuBound64vs2NonRt: ratio(works(64, 'nort'), works(2, 'nort')),
    problems,
  };
}
