/**
 * A hunt under a controlled schedule: many short runs (iterations of `steps` steps, seeds seed,
 * seed+1, …) on one machine within a wall-clock budget. Each iteration is a deterministic function
 * of its arguments, so a finding names its iteration, and that iteration alone replays it.
 */
import type { Machine, RunOptionsOfMachine } from '../machine/machine.js';
import { DIGEST_SEED_A, DIGEST_SEED_B, foldLanes } from '../sched/digest.js';
import { digestHex } from '../sched/layout.js';
import type { RunOptions } from './options.js';
import { runStress, type RunResult } from './kind.js';

export interface HuntOptions {
  /** Wall-clock budget, ms: no iteration starts after it. */
  budgetMs: number;
  /** Iterations at most (Infinity: as many as the budget allows). */
  iterations: number;
  /** Stop at the first iteration with a finding. */
  stopOnFirst: boolean;
  /** Keep every event of the iteration that is reported (--trace-out, --save). */
  keepTrace: boolean;
}

export interface HuntResult {
  /** The iteration reported in full: the first with a finding, else the last. */
  reported: RunResult;
  /** Its number (0-based); its seed is the hunt's seed + this. */
  reportedIteration: number;
  /** The first iteration with a finding; null if none had one. */
  firstFindingIteration: number | null;
  iterations: number;
  /** Iterations with findings. */
  failingIterations: number[];
  /** Over all iterations. */
  steps: number;
  switches: number;
  executed: number;
  /** Every iteration's digest folded in order: same arguments and iteration count → same digest. */
  digest: string;
  wallMs: number;
  /** Time spent inside the runs (the schedule's points per second is steps / this). */
  runWallMs: number;
  /** Until the end of the first iteration with a finding, ms; null if none. */
  timeToFirstFindingMs: number | null;
  /** Findings of all iterations per check. */
  counts: Record<string, number>;
}

/** Iteration `i` of a hunt: the base options with seed + i, for the workload and the schedule. */
export function iterationOptions(base: RunOptions, i: number, keepTrace: boolean): RunOptions {
  const seed = (base.seed + i) >>> 0;
  return { ...base, seed, sched: { ...base.sched!, seed }, keepTrace };
}

/** `eachRun`: the machine's run options for each iteration (a progress line's). */
export async function runHunt(machine: Machine, base: RunOptions, hunt: HuntOptions, eachRun: () => RunOptionsOfMachine = () => ({})): Promise<HuntResult> {
  if (!base.sched) throw new Error('a hunt needs a controlled schedule');
  const start = performance.now();
  let reported: RunResult | null = null;
  let reportedIteration = 0;
  let firstFinding: number | null = null;
  let timeToFirst: number | null = null;
  const failing: number[] = [];
  const counts: Record<string, number> = {};
  let steps = 0;
  let switches = 0;
  let executed = 0;
  let runWallMs = 0;
  const lanes = Int32Array.of(DIGEST_SEED_A, DIGEST_SEED_B);
  let i = 0;
  for (; i < hunt.iterations && (i === 0 || performance.now() - start < hunt.budgetMs); i++) {
    const t0 = performance.now();
    const r = await runStress(machine, iterationOptions(base, i, hunt.keepTrace), eachRun());
    runWallMs += performance.now() - t0;
    const s = r.schedule!;
    steps += s.steps;
    switches += s.switches;
    executed += r.totals.executed;
    // The iteration's digest, as its two lanes, into the hunt's.
    foldLanes(lanes, 0, 1, parseInt(s.digest.slice(0, 8), 16) | 0);
    foldLanes(lanes, 0, 1, parseInt(s.digest.slice(8), 16) | 0);
    for (const [check, n] of Object.entries(r.counts)) counts[check] = (counts[check] ?? 0) + n;
    if (!r.ok) {
      failing.push(i);
      if (firstFinding === null) {
        firstFinding = i;
        timeToFirst = performance.now() - start;
        reported = r;
        reportedIteration = i;
      }
      if (hunt.stopOnFirst) {
        i++;
        break;
      }
    } else if (firstFinding === null) {
      reported = r;
      reportedIteration = i;
    }
  }
  return {
    reported: reported!,
    reportedIteration,
    firstFindingIteration: firstFinding,
    iterations: i,
    failingIterations: failing,
    steps,
    switches,
    executed,
    digest: digestHex(lanes[0]!, lanes[1]!),
    wallMs: performance.now() - start,
    runWallMs,
    timeToFirstFindingMs: timeToFirst,
    counts,
  };
}
