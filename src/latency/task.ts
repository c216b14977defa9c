/** What the main thread sends a latency worker (workers/latency-worker.ts), and what comes back. */
import type { MessagePort } from 'node:worker_threads';
import type { MemoryHandle } from '../kernel/memory.js';
import type { LatencyClassId } from './classes.js';
import type { TargetMode } from './measure-loop.js';

/** One simulated CPU of a latency run. */
export interface CpuLatencyTask {
  kind: 'cpu';
  handle: MemoryHandle;
  cpu: number;
  variant: string;
  classes: LatencyClassId[];
  intervalNs: number;
  mode: TargetMode;
  /** Lazy class in windows of its own (see options.ts). */
  separateLazy: boolean;
  /** Rounds of queue-cost batches before measuring. */
  costRounds: number;
}

export interface CpuLatencyResult {
  cpu: number;
  warnings: string[];
  clockSkewNs: number;
}

export type HandoffMechanism = 'spin' | 'skeleton' | 'notify' | 'port';

/** One side of a raw hand-off baseline between two workers (see handoff.ts). */
export interface HandoffTask {
  kind: 'handoff';
  role: 'sender' | 'receiver';
  mechanism: HandoffMechanism;
  sab: SharedArrayBuffer;
  samples: number;
  /** MessagePort mechanism: this side's end of the channel (transferred). */
  port?: MessagePort;
}

export interface HandoffResult {
  /** Samples not taken (notify: the receiver was not yet asleep when woken). */
  skipped: number;
}

/** Does nothing: the piscina.run() round-trip baseline. */
export interface NoopTask {
  kind: 'noop';
}

export type LatencyWorkerTask = CpuLatencyTask | HandoffTask | NoopTask;
