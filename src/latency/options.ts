/** Options of one latency run, with their defaults in one place. */
import { availableParallelism } from 'node:os';
import { DEFAULT_VARIANT } from '../variants/index.js';
import type { TargetMode } from './measure-loop.js';

export interface LatencyOptions {
  /** Simulated CPUs; more than cores measures the OS scheduler, not the model. */
  cpus: number;
  preemptRt: boolean;
  /** What a CPU does between its own measurements: spin through interrupt points, or idle (NO_HZ). */
  mode: TargetMode;
  /** Each CPU queues each class once per interval (cyclictest's -i), µs. */
  intervalUs: number;
  /** Measured time, after the warm-up, ms. */
  durationMs: number;
  /** Measurements whose claim falls in the first warmupMs are not recorded (cold JIT), ms. */
  warmupMs: number;
  hz: number;
  variant: string;
  /** Queue-cost rounds per CPU before measuring (one batch of each kind per round). */
  costRounds: number;
  /** How long the outstanding works may take to run after the measuring ends, ms. */
  drainMs: number;
  /** A CPU that makes no progress for this long (and is not idle) fails the run, ms. */
  stallMs: number;
  /**
   * Measure the lazy class in windows of its own (classes.ts), so that each class shows its own
   * path. false: all classes at once, which shows how they meet on lazy_list instead.
   */
  separateLazy: boolean;
  /** Seed of the random queue moments of tick-waiting classes (measure-loop.ts). */
  seed: number;
}

export const DEFAULT_INTERVAL_US = 200;
export const DEFAULT_LATENCY_DURATION_S = 5;

export function defaultLatencyOptions(): LatencyOptions {
  return {
    cpus: availableParallelism(),
    preemptRt: true,
    mode: 'idle',
    intervalUs: DEFAULT_INTERVAL_US,
    durationMs: DEFAULT_LATENCY_DURATION_S * 1000,
    warmupMs: 200,
    hz: 1000,
    variant: DEFAULT_VARIANT,
    costRounds: 100,
    drainMs: 5000,
    stallMs: 10_000,
    separateLazy: true,
    seed: 1,
  };
}
