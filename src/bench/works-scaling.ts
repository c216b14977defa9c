/**
 * Part (c) of `irqwork bench`: executed works/s of the stress machine at one CPU count, RT and
 * non-RT, in the steady state.
 *
 * Every simulated CPU is its own V8 isolate and JIT-compiles its own copy of the model, on V8's
 * few background compiler threads. With more CPUs than cores, a run that starts cold measures
 * how fast those compiles get done, not the model (util/thread-priority.ts has the figures). So,
 * as a JMH-style benchmark does, each point first warms up: the machine's CPU threads run at the
 * lowest OS priority (the compiler threads go first), and short runs repeat until the figure
 * stops improving; then MEASURED_RUNS runs are measured and the median is the figure. The first
 * run's figure is kept beside it: cold on a fresh machine; on one that has run another workload
 * before (bench/run.ts measures cpu-bound, then tick-bound), the first run of this one. Many
 * CPUs on few cores warm up in a ramp with dips (docs/LATENCY.md), which is why a run must beat
 * the best by NEW_BEST and `settledRuns` runs in a row must fail to before the warm-up ends.
 */
import type { Machine } from '../machine/machine.js';
import { runStress } from '../stress/kind.js';
import { defaultRunOptions } from '../stress/options.js';
import { PRESETS, type WorkloadSpec } from '../workload/spec.js';

/**
 * Workload of the works/s scaling: `local` — every CPU queues on itself (task and hardirq context)
 * and syncs its own works. It measures how the model's own paths scale with CPUs. `mixed` adds
 * remote queue_on and NMIs, where a CPU waits on others' IPIs and irq_workd: with more CPUs than
 * cores that measures how fast the OS reschedules the waited-for worker, not the model.
 */
export const WORKS_WORKLOAD = 'local';

export interface WarmupPlan {
  /** Length of one warm-up run, ms. */
  runMs: number;
  /** Warm-up ends after this many runs in a row without a new best (by more than NEW_BEST). */
  settledRuns: number;
  /** … or after this long in all, settled or not, ms. */
  maxMs: number;
}

/** A run beats the best so far only if it is this much faster (run-to-run noise is below it). */
const NEW_BEST = 1.1;
/** Runs measured after the warm-up; their median is the figure. */
const MEASURED_RUNS = 3;

export interface ConfigFigure {
  /** Executed works/s: the median of the measured runs after the warm-up. */
  worksPerSec: number;
  /** Each measured run's figure. */
  measuredWorksPerSec: number[];
  /** The first warm-up run's figure: a cold JIT on a fresh machine (the key keeps its name). */
  coldWorksPerSec: number;
  warmupRuns: number;
  warmupMs: number;
  /** The warm-up stopped at maxMs, still improving: the figure may be low. */
  warmupCapped: boolean;
}

export interface WorksPoint {
  cpus: number;
  rt: ConfigFigure | null;
  nort: ConfigFigure | null;
  /** A run that failed its accounting check or crashed: its figure is not trusted. */
  problems: string[];
}

/** What one run gives the warm-up: its figure, and whatever else the caller keeps of it. */
export interface RunSample {
  /** Executed works/s of the run. */
  worksPerSec: number;
}

export interface SteadyState<S extends RunSample> {
  figure: ConfigFigure;
  /** The measured runs' samples, in the order they ran. */
  measured: S[];
}

/**
 * The JMH-style measurement of one configuration (the file's comment says why): warm-up runs of
 * `warmup.runMs` until `settledRuns` in a row bring no new best by NEW_BEST (or `maxMs` passed),
 * then MEASURED_RUNS runs of `durationMs`; the figure is their median. A run that throws ends it.
 */
export async function measureSteadyState<S extends RunSample>(
  run: (ms: number) => Promise<S>,
  durationMs: number,
  warmup: WarmupPlan,
): Promise<SteadyState<S>> {
  const startedMs = Date.now();
  const cold = (await run(warmup.runMs)).worksPerSec;
  let best = cold;
  let runs = 1;
  let sinceBest = 0;
  while (sinceBest < warmup.settledRuns && Date.now() - startedMs < warmup.maxMs) {
    const figure = (await run(warmup.runMs)).worksPerSec;
    runs++;
    if (figure > best * NEW_BEST) sinceBest = 0;
    else sinceBest++;
    best = Math.max(best, figure);
  }
  const warmupMs = Date.now() - startedMs;
  const measured: S[] = [];
  for (let i = 0; i < MEASURED_RUNS; i++) measured.push(await run(durationMs));
  const measuredWorksPerSec = measured.map((m) => m.worksPerSec);
  return {
    figure: {
      worksPerSec: median(measuredWorksPerSec),
      measuredWorksPerSec,
      coldWorksPerSec: cold,
      warmupRuns: runs,
      warmupMs,
      warmupCapped: sinceBest < warmup.settledRuns,
    },
    measured,
  };
}

/**
 * Measured runs further apart than this (fastest ÷ slowest) were not in a steady state: the JIT
 * was still warming up (a 64-CPU tick-bound point once measured 635k, 773k and 1046k works/s
 * after its warm-up rule had settled) or the OS gave the runs very unequal shares of the cores.
 * Back-to-back runs of a settled point are within 1.25× of each other on this kind of machine.
 */
export const STEADY_SPREAD = 1.5;

/** Why a configuration's measured runs do not make a steady-state figure, or null if they do. */
export function unsteadyProblem(measuredWorksPerSec: readonly number[]): string | null {
  const lo = Math.min(...measuredWorksPerSec);
  const hi = Math.max(...measuredWorksPerSec);
  if (hi <= 0 || (lo > 0 && hi / lo <= STEADY_SPREAD)) return null;
  const apart = lo > 0 ? `${(Math.round((hi / lo) * 100) / 100).toString()}× apart` : 'one run did nothing';
  return `measured runs ${Math.round(lo)}–${Math.round(hi)} works/s (${apart}): not a steady state, the figure is not to be trusted`;
}

/** The middle value (the upper middle of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** One stress run as the warm-up sees it. */
export interface StressSample extends RunSample {
  /** CPU time of the whole process during the run / its wall time: how many cores the run had. */
  coresUsed: number;
}

export interface StressConfigsOptions {
  /**
   * Warm both configurations up once, figures dropped, before measuring either. With many CPUs
   * on few cores the JIT ramp is slow and flat for a while (each worker tiers up on its own), so
   * the first configuration's warm-up can settle on a cold plateau while the second one's goes on
   * to finish the compiles both share — the first figure is then cold, the second warm. The
   * figures' warm-up runs and time include this pass; their cold figure is its first run.
   */
  warmBothFirst?: boolean;
}

/**
 * Executed works/s of `machine` (started with MachineOptions.lowPriority, so that its CPU
 * threads run at the lowest OS priority), all its CPUs, with `workload`, RT then non-RT, each
 * measured in the steady state (measureSteadyState); `figureOf` turns each configuration's
 * measurement into its figure. A run that fails (accounting, crash) ends its configuration's
 * pass with a line in `problems` (one per configuration); a configuration whose measuring pass
 * failed has no figure. A figure whose measured runs are too far apart (unsteadyProblem) keeps
 * its figure and gets a line in `problems` too. The caller owns the machine: one machine can
 * measure several workloads, and the later ones then start from the JIT state the earlier ones
 * left (bench/run.ts).
 */
export async function measureStressConfigs<F>(
  machine: Machine,
  workload: WorkloadSpec,
  durationMs: number,
  warmup: WarmupPlan,
  figureOf: (s: SteadyState<StressSample>) => F,
  options: StressConfigsOptions = {},
): Promise<{ rt: F | null; nort: F | null; problems: string[] }> {
  const out: { rt: F | null; nort: F | null; problems: string[] } = { rt: null, nort: null, problems: [] };
  const pre: Partial<Record<'rt' | 'nort', { cold: number; runs: number; ms: number }>> = {};
  const cpus = machine.cpus;
  for (const pass of options.warmBothFirst ? ['warm', 'measure'] : ['measure']) {
    for (const preemptRt of [true, false]) {
      const config = preemptRt ? 'rt' : 'nort';
      const run = async (ms: number): Promise<StressSample> => {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const r = await runStress(machine, { ...defaultRunOptions(), cpus, preemptRt, workload, durationMs: ms, seed: 1 });
        const wallMs = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (!r.ok) throw new Error(`${r.violations.length} violation(s), first: ${r.violations[0]?.message ?? 'the run did not drain'}`);
        // The whole call (start barrier, drain, collect too): close to the run for runs of 0.2 s and more.
        return { worksPerSec: r.executedPerSec, coresUsed: (cpu.user + cpu.system) / 1000 / wallMs };
      };
      try {
        if (pass === 'warm') {
          // Its "measured" runs are short warm-up runs too.
          const startedMs = Date.now();
          const f = (await measureSteadyState(run, warmup.runMs, warmup)).figure;
          pre[config] = { cold: f.coldWorksPerSec, runs: f.warmupRuns + f.measuredWorksPerSec.length, ms: Date.now() - startedMs };
          continue;
        }
        const s = await measureSteadyState(run, durationMs, warmup);
        const first = pre[config];
        if (first) {
          s.figure.coldWorksPerSec = first.cold;
          s.figure.warmupRuns += first.runs;
          s.figure.warmupMs += first.ms;
        }
        out[config] = figureOf(s);
        const unsteady = unsteadyProblem(s.figure.measuredWorksPerSec);
        if (unsteady !== null) out.problems.push(`${config}: ${unsteady}`);
      } catch (e) {
        if (!out.problems.some((p) => p.startsWith(`${config}:`))) out.problems.push(`${config}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  }
  return out;
}

/** Tick-bound executed works/s of `machine` (all its CPUs), RT and non-RT (warm-up then the measured runs, each). */
export async function measureWorks(machine: Machine, durationMs: number, warmup: WarmupPlan): Promise<WorksPoint> {
  return { cpus: machine.cpus, ...(await measureStressConfigs(machine, PRESETS[WORKS_WORKLOAD]!, durationMs, warmup, (s) => s.figure)) };
}
