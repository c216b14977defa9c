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
 * (cold) run's figure is kept beside it. Many CPUs on few cores warm up in a ramp with dips
 * (docs/LATENCY.md), which is why a run must beat the best by NEW_BEST and `settledRuns` runs in a row
 * must fail to before the warm-up ends.
 */
import { Machine } from '../machine/machine.js';
import { runStress } from '../stress/kind.js';
import { defaultRunOptions } from '../stress/options.js';
import { PRESETS } from '../workload/spec.js';

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
  /** The first warm-up run's figure: a cold JIT. */
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

/** Executed works/s with `cpus` CPUs, RT and non-RT (one machine, warm-up then the measured runs, each). */
export async function measureWorks(cpus: number, durationMs: number, warmup: WarmupPlan): Promise<WorksPoint> {
  const point: WorksPoint = { cpus, rt: null, nort: null, problems: [] };
  const machine = Machine.start(cpus, { lowPriority: true });
  try {
    for (const preemptRt of [true, false]) {
      const config = preemptRt ? 'rt' : 'nort';
      const run = async (ms: number): Promise<number> => {
        const r = await runStress(machine, { ...defaultRunOptions(), cpus, preemptRt, workload: PRESETS[WORKS_WORKLOAD]!, durationMs: ms, seed: 1 });
        if (!r.ok) throw new Error(`${r.violations.length} violation(s), first: ${r.violations[0]?.message ?? 'the run did not drain'}`);
        return r.executedPerSec;
      };
      try {
        const startedMs = Date.now();
        const cold = await run(warmup.runMs);
        let best = cold;
        let runs = 1;
        let sinceBest = 0;
        while (sinceBest < warmup.settledRuns && Date.now() - startedMs < warmup.maxMs) {
          const figure = await run(warmup.runMs);
          runs++;
          if (figure > best * NEW_BEST) sinceBest = 0;
          else sinceBest++;
          best = Math.max(best, figure);
        }
        const warmupMs = Date.now() - startedMs;
        const measured: number[] = [];
        for (let i = 0; i < MEASURED_RUNS; i++) measured.push(await run(durationMs));
        point[config] = {
          worksPerSec: [...measured].sort((a, b) => a - b)[MEASURED_RUNS >> 1]!,
          measuredWorksPerSec: measured,
          coldWorksPerSec: cold,
          warmupRuns: runs,
          warmupMs,
          warmupCapped: sinceBest < warmup.settledRuns,
        };
      } catch (e) {
        point.problems.push(`${config}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
  } finally {
    await machine.close().catch(() => {});
  }
  return point;
}
