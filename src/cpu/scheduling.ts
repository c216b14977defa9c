/**
 * A controlled schedule, as the CPU runtime sees it (the implementation is src/sched): only one
 * simulated CPU runs between two scheduling points, and the schedule decides which. The runtime
 * calls it at every place where a real CPU could be overtaken by another: each interrupt point,
 * each cpu_relax() of a spin, and each wait (idle, a sleeping task, a chaos stall, an offline
 * CPU). Without one (free mode) the OS decides, in real time.
 */
export interface CpuScheduler {
  /** An interrupt point: one step of virtual time; another CPU may run before this one goes on. */
  point(): void;
  /** cpu_relax() in a spin: one step, and the schedule prefers another CPU (the one spun for). */
  relax(): void;
  /**
   * Sleep until virtual time reaches `untilNs` (Infinity: no timeout) or, when `wakeOnIpi`, until
   * this CPU's pending-IPI word is non-zero; other CPUs run meanwhile. Returns at once when the
   * condition already holds. One step.
   */
  wait(untilNs: number, wakeOnIpi: boolean): void;
  /** Virtual time now, ns. */
  nowNs(): number;
  /**
   * The schedule has let go (the run was aborted, or it ended with CPUs that nothing will wake):
   * from now on the CPU runs and waits in real time, as in free mode, so that it can unwind.
   */
  released(): boolean;
}
