/** What the main thread sends each thread of the skeleton throughput baseline (skeleton-throughput.ts), and what comes back. */

export interface SkeletonThroughputTask {
  program: 'skeleton-throughput';
  sab: SharedArrayBuffer;
  /** This thread's number, 0 … threads-1. */
  thread: number;
  threads: number;
  /** Works each thread owns and queues (the cpu-bound preset's works per CPU). */
  worksPerThread: number;
  /** Share of queue operations that go to another thread's call-single queue (the preset's queueRemote share). */
  remoteShare: number;
  /** Lower this thread's OS priority first, as the measured machine's CPUs do (MachineOptions.lowPriority). */
  lowPriority: boolean;
}

export interface SkeletonThroughputResult {
  thread: number;
  /** Successful claims (fetch-or found PENDING clear), start to end. */
  claims: number;
  /** Claims that found the work still PENDING (nothing queued). */
  failedClaims: number;
  /** Works run (irq_work_single's steps done: the callback would have started), start to end. */
  runs: number;
  /** Works run from GO until this thread saw STOP: the measured window. */
  runsInWindow: number;
  /** Remote IPIs raised (the target's call-single queue was empty). */
  ipisSent: number;
  /** Self-IPIs raised (this thread's raised list was empty). */
  selfIpis: number;
  /** IPIs taken at this thread's interrupt points. */
  ipisTaken: number;
  /**
   * Time of the window spent in batches where most claims failed (the works were still on other
   * threads' lists: those threads were not running), ms.
   */
  stalledMs: number;
}
