/** The schedule flags of `irqwork race` and `irqwork stress`: --sched, --steps, --depth, --iterations. */
import { UsageError } from '../errors.js';
import { SCHED_MODES, type Schedule, type SchedMode } from '../sched/settings.js';
import { intFlag, type Options } from './args.js';

export const SCHED_FLAGS: Options = {
  sched: { type: 'string' },
  steps: { type: 'string' },
  depth: { type: 'string' },
  iterations: { type: 'string' },
};

export const DEFAULT_STEPS = 20_000;
export const DEFAULT_DEPTH = 3;
/** Steps quiescing may take (200 ms of virtual time: 200 ticks at HZ 1000). */
export const DRAIN_STEPS = 200_000;

export const SCHED_HELP = `  --sched MODE        free (default: the OS schedules the CPU threads, real time), or a
                      controlled schedule: only one CPU runs between two interrupt points and
                      a seeded strategy picks which, in virtual time; the run is a function of
                      its arguments. random: switch at a point with a seeded chance; pct:
                      priorities with depth−1 change points (Burckhardt et al. 2010)
  --steps N           controlled: steps (interrupt points) per iteration (default ${DEFAULT_STEPS})
  --depth D           pct: the bug depth aimed at, 1..16 (default ${DEFAULT_DEPTH})
  --iterations N      controlled: iterations at most (seeds seed, seed+1, …; default: as many as
                      the budget allows)`;

export interface SchedChoice {
  /** The schedule of the first iteration (its seed is replaced per iteration); undefined: free. */
  schedule: Schedule | undefined;
  iterations: number;
}

export function schedFlags(values: Record<string, string | boolean | undefined>, seed: number, stopOnFirst: boolean): SchedChoice {
  const mode = (values.sched ?? 'free') as SchedMode;
  if (!SCHED_MODES.includes(mode)) throw new UsageError(`--sched must be one of ${SCHED_MODES.join(', ')}, got ${JSON.stringify(values.sched)}`);
  if (mode === 'free') {
    for (const flag of ['steps', 'depth', 'iterations']) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --sched random or --sched pct`);
    }
    return { schedule: undefined, iterations: 1 };
  }
  if (mode !== 'pct' && values.depth !== undefined) throw new UsageError('--depth goes with --sched pct');
  return {
    schedule: {
      mode,
      seed,
      depth: intFlag('depth', values.depth, DEFAULT_DEPTH, 1, 16),
      steps: intFlag('steps', values.steps, DEFAULT_STEPS, 100, 100_000_000),
      drainSteps: DRAIN_STEPS,
      stopOnFirst,
    },
    iterations: values.iterations === undefined ? Infinity : intFlag('iterations', values.iterations, 1, 1, 1_000_000_000),
  };
}

/** The flags that give `s` again (a reproduce command). */
export function schedArgs(s: Schedule, iterations: number): string[] {
  const out = [`--sched ${s.mode}`];
  if (s.mode === 'pct') out.push(`--depth ${s.depth}`);
  out.push(`--steps ${s.steps}`);
  if (iterations !== Infinity) out.push(`--iterations ${iterations}`);
  return out;
}
