/**
 * How a CPU learns that its run was aborted. The machine that owns the run phase implements
 * RunControl; the runtime asks it at its slow interrupt points and in idle, and unwinds whatever
 * the CPU was doing by throwing RunAborted. The single-thread harness and the micro-benchmarks
 * are never aborted (NEVER_ABORTED).
 */
export interface RunControl {
  aborted(): boolean;
}

export const NEVER_ABORTED: RunControl = { aborted: () => false };

/** Thrown inside a CPU when the run is aborted, to unwind whatever it was doing. */
export class RunAborted extends Error {
  override readonly name = 'RunAborted';
}
