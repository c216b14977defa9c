/**
 * What a controlled schedule is made of, and how the main thread sets one up before a run: the
 * strategy and its seed, the step budget, and for a replay the decisions to follow.
 *
 * pct (Burckhardt et al., ASPLOS 2010): every CPU gets a random priority; the highest-priority
 * CPU that can run runs; at depth−1 random steps (the change points) the CPU running then drops
 * below every initial priority. A bug that needs d ordering constraints is found with probability
 * at least 1/(n·k^(d−1)) per run, n CPUs and k steps. A CPU spinning in cpu_relax() drops to the
 * lowest priority too, or it would spin forever above the CPU it waits for.
 *
 * random: at each point, with a seeded chance (one of SWITCH_CHANCES), the turn goes to a
 * uniformly chosen other CPU that can run.
 */
import { DIGEST_SEED_A, DIGEST_SEED_B } from './digest.js';
import { Random } from '../util/random.js';
import {
  C,
  CHECKPOINT_EVERY,
  FLAG_LENIENT,
  FLAG_STOP_ON_FIRST,
  H,
  MAX_CHANGES,
  MODE_PCT,
  MODE_RANDOM,
  MODE_REPLAY,
  SchedView,
  STATE_RUNNABLE,
} from './layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export type SchedMode = 'free' | 'random' | 'pct';
export const SCHED_MODES: readonly SchedMode[] = ['free', 'random', 'pct'];

/** Chances of a switch per point in random mode; a run's seed picks one. */
export const SWITCH_CHANCES = [1 / 16, 1 / 256, 1 / 4096] as const;

export interface Schedule {
  /** The strategy that made the decisions (a replay follows them instead). */
  mode: 'random' | 'pct';
  seed: number;
  /** pct: the bug depth it aims at (depth − 1 change points). */
  depth: number;
  /** Steps the workload runs for. */
  steps: number;
  /** Steps quiescing may take before the run is called not drained. */
  drainSteps: number;
  stopOnFirst: boolean;
  /** Replay: follow these (step, cpu) decisions instead of the strategy. */
  replay?: { decisions: ReadonlyArray<readonly [number, number]>; lenient: boolean };
}

/** How many decisions and checkpoints the region keeps for a run of `steps`. */
export function schedSizes(nrCpus: number, s: Pick<Schedule, 'steps' | 'drainSteps' | 'replay'>) {
  const steps = s.steps + s.drainSteps;
  return {
    nrCpus,
    decisionCap: Math.max(1024, Math.min(1 << 22, steps), (s.replay?.decisions.length ?? 0) + 1),
    checkpointCap: Math.ceil((steps * 2) / CHECKPOINT_EVERY) + 16,
  };
}

/** The chance of a switch per point of a random run with `seed`. */
export function switchChance(seed: number): number {
  return SWITCH_CHANCES[(seed >>> 0) % SWITCH_CHANCES.length]!;
}

/** Main thread, before the run: lays out the schedule and gives the first turn. */
export function initSchedule(mem: KernelMemory, s: Schedule): SchedView {
  const sizes = schedSizes(mem.cfg.nrCpus, s);
  const v = SchedView.init(mem, sizes.decisionCap, sizes.checkpointCap);
  const n = v.nrCpus;
  v.set(H.MODE, s.replay ? MODE_REPLAY : s.mode === 'pct' ? MODE_PCT : MODE_RANDOM);
  v.set(H.FLAGS, (s.replay?.lenient ? FLAG_LENIENT : 0) | (s.stopOnFirst ? FLAG_STOP_ON_FIRST : 0));
  v.set(H.SEED, s.seed | 0);
  v.set(H.SWITCH_CHANCE, Math.floor(switchChance(s.seed) * 2 ** 32) | 0);
  v.set(H.END_STEP, s.steps);
  v.set(H.DRAIN_STEPS, s.drainSteps);
  v.set(H.QUIESCE_STEP, -1);
  v.set(H.STOP_STEP, -1);
  v.set(H.DIVERGED_AT, -1);
  v.set(H.DIGEST_A, DIGEST_SEED_A);
  v.set(H.DIGEST_B, DIGEST_SEED_B);
  v.setF64(H.STEP_F64, 0);
  v.setF64(H.VTIME_F64, 0);
  for (let cpu = 0; cpu < n; cpu++) {
    v.i32[v.cpuWord(cpu, C.STATE)] = STATE_RUNNABLE;
    v.setDeadline(cpu, Infinity);
  }

  // pct: distinct priorities depth..depth+n−1 in a random order; change points 1..depth−1 below.
  const rng = new Random(s.seed, 0x9c7);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  order.forEach((cpu, rank) => void (v.i32[v.cpuWord(cpu, C.PRIO)] = s.depth + rank));
  const changes = new Set<number>();
  const nChanges = Math.min(MAX_CHANGES, Math.max(0, s.depth - 1), s.steps);
  while (changes.size < nChanges) changes.add(1 + rng.below(s.steps));
  const sorted = [...changes].sort((a, b) => a - b);
  sorted.forEach((step, i) => v.set(H.PCT_CHANGES + i, step));
  v.set(H.PCT_NCHANGES, sorted.length);
  v.set(H.PCT_NEXT, 0);
  v.set(H.PCT_LOWEST, 1);

  // Replay: the recorded decisions; the first (step 0) names who starts.
  let first = s.mode === 'pct' ? order[n - 1]! : rng.below(n);
  if (s.replay) {
    const d = s.replay.decisions;
    for (let i = 0; i < d.length; i++) {
      v.i32[v.followAt + 2 * i] = d[i]![0];
      v.i32[v.followAt + 2 * i + 1] = d[i]![1];
    }
    v.set(H.NFOLLOW, d.length);
    const atZero = d.length > 0 && d[0]![0] === 0 && d[0]![1] >= 0 && d[0]![1] < n;
    v.set(H.CURSOR, atZero ? 1 : 0);
    if (atZero) first = d[0]![1];
  }
  v.i32[v.decisionsAt] = 0;
  v.i32[v.decisionsAt + 1] = first;
  v.set(H.NDECISIONS, 1);
  Atomics.store(v.i32, v.base + H.TURN, first);
  Atomics.store(v.i32, v.cpuWord(first, C.GO), 1);
  return v;
}
