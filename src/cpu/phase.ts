/**
 * The run phase word (header H_PHASE), written by the main thread, read by every CPU worker.
 * INIT → RUNNING (start barrier passed) → QUIESCE (workload stops, CPUs keep taking interrupts
 * until every list drains) → STOP. ABORT at any time ends every CPU at its next look.
 */
import { H_PHASE } from '../kernel/layout.js';

export const PHASE_INIT = 0;
export const PHASE_RUNNING = 1;
export const PHASE_QUIESCE = 2;
export const PHASE_STOP = 3;
export const PHASE_ABORT = 4;

export function readPhase(i32: Int32Array): number {
  return Atomics.load(i32, H_PHASE);
}

/** Thrown inside a CPU when the run is aborted, to unwind whatever it was doing. */
export class RunAborted extends Error {
  override readonly name = 'RunAborted';
}
