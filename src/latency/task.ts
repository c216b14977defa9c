/** What the main thread sends each CPU of a latency run, and what comes back. */
import type { CpuTaskBase } from '../machine/machine.js';
import type { LatencyClassId } from './classes.js';
import type { TargetMode } from './measure-loop.js';

/** One simulated CPU of a latency run. */
export interface CpuLatencyTask extends CpuTaskBase {
  program: 'latency';
  variant: string;
  classes: LatencyClassId[];
  intervalNs: number;
  mode: TargetMode;
  /** Lazy class in windows of its own (see options.ts). */
  separateLazy: boolean;
  /** Rounds of queue-cost batches before measuring. */
  costRounds: number;
  /** Seed of the random turns of tick-waiting classes (each CPU its own stream). */
  seed: number;
}

export interface CpuLatencyResult {
  cpu: number;
  warnings: string[];
  clockSkewNs: number;
}
