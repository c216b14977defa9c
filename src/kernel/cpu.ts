/**
 * The only door between the kernel model and "its" CPU. The kernel code (llist, smp, irq_work,
 * smpboot) calls these and nothing else of the outside world, so the same code runs inside a
 * worker thread (cpu/runtime.ts) and in the single-thread test harness (harness/).
 */

/** Task states (`TASK_RUNNING`, `TASK_INTERRUPTIBLE`, …); TASK_NONE: no such task (irq_workd on !RT). */
export const TASK_RUNNING = 0;
export const TASK_INTERRUPTIBLE = 1;
export const TASK_UNINTERRUPTIBLE = 2;
export const TASK_PARKED = 3;
export const TASK_NONE = -1;

/** The two tasks each simulated CPU has. A task is named by (cpu, kind). */
export const TASK_KIND_WORKLOAD = 0;
export const TASK_KIND_IRQWORKD = 1;

export interface TaskRef {
  cpu: number;
  kind: number;
}

export interface KernelCpu {
  /** smp_processor_id(). */
  readonly id: number;

  /**
   * The point between two shared-memory steps where the outside world may act: take pending
   * interrupts (irqs on), fire an NMI, run the tick, preempt to irq_workd, or (race mode) delay.
   * `site` names the point for traces and scripted interleavings; it must be a string constant.
   */
  interruptPoint(site?: string): void;
  /** cpu_relax() in a wait loop: an interrupt point that may also yield the core. */
  cpuRelax(): void;

  inNmi(): boolean;
  inHardirq(): boolean;
  irqsDisabled(): boolean;
  preemptDisable(): void;
  preemptEnable(): void;
  /** Which task runs now (for rcuwait and sleeping checks). */
  currentTask(): TaskRef;

  /** Monotonic time in ns, one clock for all CPUs. */
  nowNs(): number;

  /** arch_irq_work_raise(): the self-IPI (does nothing when the arch has no irq_work interrupt). */
  archIrqWorkRaise(): void;
  /** send_call_function_single_ipi(cpu): the remote IPI, skipped for a target that polls. */
  sendCallFunctionSingleIpi(cpu: number): void;
  /** tick_nohz_tick_stopped() of this CPU. */
  tickNohzTickStopped(): boolean;
  /** cpu_is_offline(cpu). */
  cpuIsOffline(cpu: number): boolean;

  /** set_current_state(state) for the running task. */
  setCurrentState(state: number): void;
  /** schedule(): the running task gives up the CPU until it is TASK_RUNNING again. */
  schedule(): void;
  /** wake_up_process(task): returns whether the task was woken (it was not running). */
  wakeUpProcess(task: TaskRef): boolean;

  /** rcu_read_lock() / rcu_read_unlock() of the running context (the nesting lives with the CPU). */
  rcuReadLock(): void;
  rcuReadUnlock(): void;

  /** might_sleep(): complain (once) when called where sleeping is not allowed. */
  mightSleep(where: string): void;

  /** WARN_ON_ONCE: the kernel's complaint, reported, never thrown. */
  warnOnce(what: string): void;
}

/** A task as one non-zero word (for `rcuwait.task`); 0 is "no task". */
export function taskToWord(task: TaskRef): number {
  return task.cpu * 2 + task.kind + 1;
}

export function taskFromWord(word: number): TaskRef {
  return { cpu: (word - 1) >> 1, kind: (word - 1) & 1 };
}
