/** What the main thread sends each CPU worker, and what the worker sends back. */
import type { MemoryHandle } from '../kernel/memory.js';
import type { WorkloadSpec } from '../workload/spec.js';

export interface CpuTask {
  handle: MemoryHandle;
  cpu: number;
  variant: string;
  spec: WorkloadSpec;
  seed: number;
  nohz: boolean;
  /** Test hook: this CPU throws after so many ms of running (a crashing CPU). */
  failAfterMs?: number;
}

export interface Violation {
  check: string;
  cpu: number;
  work: number;
  context: string;
  message: string;
}

export interface CpuTaskResult {
  cpu: number;
  warnings: string[];
  violations: Violation[];
  /** Clock skew of this worker's calibrated clock against hrtime at the end, ns. */
  clockSkewNs: number;
}
