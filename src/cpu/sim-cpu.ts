/**
 * SimCpu: the CPU context model, implementing the kernel's KernelCpu interface.
 *
 * Contexts nest as on real hardware: task (the workload) < irq_workd (RT thread, preempts the
 * task) < hardirq (taken at interrupt points with irqs on) < NMI (at any interrupt point, even
 * with irqs off). The nesting, irqs-off and preempt counts are mirrored into the CPU's state line
 * of shared memory (owner writes, plain stores: other threads only read them for dumps).
 *
 * What differs between a worker and the single-thread harness is injected through the
 * constructor: what an interrupt point does (the driver), how a blocked task waits (schedule),
 * and where warnings go.
 */
import {
  TASK_INTERRUPTIBLE,
  TASK_KIND_IRQWORKD,
  TASK_KIND_WORKLOAD,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
  type KernelCpu,
  type TaskRef,
} from '../kernel/cpu.js';
import {
  Counter,
  CPU_CONTEXT,
  CPU_HARDIRQ_NESTING,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_IRQS_OFF,
  CPU_IRQWORKD_STATE,
  CPU_NMI_NESTING,
  CPU_ONLINE,
  CPU_PREEMPT_COUNT,
  CPU_RCU_READER,
  CPU_RCU_READER_SEQ,
  CPU_TASK_STATE,
  CPU_TICK_STOPPED,
  H_RCU_SEQ,
  IPI_CALL_FUNCTION_SINGLE,
  RCU_INSIDE,
  RCU_READER_SEQ_UNSET,
  IPI_IRQ_WORK,
  IPI_RESCHEDULE,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { COV_BUSY, COV_IDLE, COV_IDLE_NOHZ, coverageSlot } from '../kernel/coverage.js';
import type { Clock } from './clock.js';

/** What runs on the CPU now (CPU_CONTEXT). */
export const CTX_TASK = 0;
export const CTX_IRQWORKD = 1;
export const CTX_HARDIRQ = 2;
export const CTX_NMI = 3;
export const CTX_IDLE = 4;
export const CONTEXT_NAMES = ['task', 'irq_workd', 'hardirq', 'nmi', 'idle'] as const;
export type ContextName = (typeof CONTEXT_NAMES)[number];

export interface CpuEnv {
  clock: Clock;
  /** The running task sleeps until its state is TASK_RUNNING again. */
  schedule(cpu: SimCpu): void;
  /** A WARN_ON_ONCE / BUG_ON of the kernel code. */
  warn(cpu: SimCpu, what: string): void;
}

/** What the CPU does at the points where the kernel code lets the hardware in. */
export interface InterruptDriver {
  /** An interrupt point between two shared-memory steps (site names the place). */
  interruptPoint(site?: string): void;
  /** cpu_relax() in a wait loop. */
  cpuRelax(): void;
  /** Preemption became possible again: preempt_enable() brought the count to 0 where preemptible(). */
  preemptible(): void;
}

export interface SimCpuOptions {
  /** Number RCU readers from H_RCU_SEQ for the rcu check. Off without checks: every hardirq would
   *  otherwise bump one word shared by all CPUs. */
  rcuReaderSeq: boolean;
}

export class SimCpu implements KernelCpu {
  readonly i32: Int32Array;
  private readonly f64: Float64Array;
  readonly base: number;
  /** Float64 index of this CPU's first counter. */
  private readonly counterBase: number;
  /** The interrupt point (the driver's): a field, so the kernel's call costs one indirection. */
  readonly interruptPoint: (site?: string) => void;
  /** cpu_relax() (the driver's). */
  readonly cpuRelax: () => void;
  /** Called when preemption becomes possible again (the driver's). */
  private readonly onPreemptible: () => void;
  private readonly rcuReaderSeq: boolean;

  private nmiNesting = 0;
  private hardirqNesting = 0;
  /** irqs_disabled(); public for the runtime's interrupt-point fast path. */
  irqsOff = false;
  private preemptCount = 0;
  /** Which task runs when no interrupt does: TASK_KIND_WORKLOAD or TASK_KIND_IRQWORKD; -1 idle. */
  private taskKind = TASK_KIND_WORKLOAD;
  private readonly tasks: TaskRef[];
  private readonly warned = new Set<string>();

  constructor(
    readonly mem: KernelMemory,
    readonly id: number,
    readonly env: CpuEnv,
    driver: InterruptDriver,
    opts: SimCpuOptions = { rcuReaderSeq: false },
  ) {
    this.interruptPoint = (site) => driver.interruptPoint(site);
    this.cpuRelax = () => driver.cpuRelax();
    this.onPreemptible = () => driver.preemptible();
    this.rcuReaderSeq = opts.rcuReaderSeq;
    this.i32 = mem.i32;
    this.f64 = mem.f64;
    this.base = mem.cpuBase(id);
    this.counterBase = mem.counterIndex(id, 0);
    this.tasks = [
      { cpu: id, kind: TASK_KIND_WORKLOAD },
      { cpu: id, kind: TASK_KIND_IRQWORKD },
    ];
  }

  // ── context queries used by the kernel code ──────────────────────────────────
  inNmi(): boolean {
    return this.nmiNesting > 0;
  }
  inHardirq(): boolean {
    return this.hardirqNesting > 0;
  }
  irqsDisabled(): boolean {
    return this.irqsOff;
  }
  /** preemptible(): a task may be switched out here. */
  preemptible(): boolean {
    return this.preemptCount === 0 && !this.irqsOff && this.hardirqNesting === 0 && this.nmiNesting === 0;
  }
  currentTask(): TaskRef {
    return this.tasks[this.taskKind === TASK_KIND_IRQWORKD ? 1 : 0]!;
  }
  context(): number {
    if (this.nmiNesting) return CTX_NMI;
    if (this.hardirqNesting) return CTX_HARDIRQ;
    if (this.taskKind === TASK_KIND_IRQWORKD) return CTX_IRQWORKD;
    return this.taskKind < 0 ? CTX_IDLE : CTX_TASK;
  }
  contextName(): ContextName {
    return CONTEXT_NAMES[this.context()]!;
  }
  /**
   * Where a kernel coverage count belongs (kernel/coverage.ts): the context, and whether the CPU
   * is busy, idle with its tick running, or idle with it stopped — an interrupt that lands on
   * an idle CPU counts as idle. The context numbers are the coverage contexts' (same order).
   */
  coverageSlot(): number {
    const state = this.taskKind >= 0 ? COV_BUSY : this.i32[this.base + CPU_TICK_STOPPED] !== 0 ? COV_IDLE_NOHZ : COV_IDLE;
    return coverageSlot(this.context(), state);
  }
  nowNs(): number {
    return this.env.clock();
  }

  // ── context transitions used by the runtime, the workload and the harness ─────
  private publishContext(): void {
    const i32 = this.i32;
    const b = this.base;
    i32[b + CPU_CONTEXT] = this.context();
    i32[b + CPU_NMI_NESTING] = this.nmiNesting;
    i32[b + CPU_HARDIRQ_NESTING] = this.hardirqNesting;
    i32[b + CPU_IRQS_OFF] = this.irqsOff ? 1 : 0;
    i32[b + CPU_PREEMPT_COUNT] = this.preemptCount;
  }

  /** local_irq_save(): returns the previous state for localIrqRestore. */
  localIrqSave(): boolean {
    const was = this.irqsOff;
    this.irqsOff = true;
    this.publishContext();
    return was;
  }
  localIrqRestore(wasOff: boolean): void {
    this.irqsOff = wasOff;
    this.publishContext();
  }
  /** irq_enter(): hardirqs run with irqs off, and are RCU readers. Returns what hardirqExit needs. */
  hardirqEnter(): boolean {
    const was = this.irqsOff;
    this.irqsOff = true;
    this.hardirqNesting++;
    this.publishContext();
    this.rcuReadLock();
    return was;
  }
  hardirqExit(wasOff: boolean): void {
    this.rcuReadUnlock();
    this.hardirqNesting--;
    this.irqsOff = wasOff;
    this.publishContext();
  }
  /** nmi_enter(): may interrupt anything; maskable interrupts stay blocked until it returns. */
  nmiEnter(): boolean {
    const was = this.irqsOff;
    this.irqsOff = true;
    this.nmiNesting++;
    this.publishContext();
    this.rcuReadLock();
    return was;
  }
  nmiExit(wasOff: boolean): void {
    this.rcuReadUnlock();
    this.nmiNesting--;
    this.irqsOff = wasOff;
    this.publishContext();
  }

  // ── RCU read side (the grace-period side is kernel/rcu.ts) ────────────────────
  /** Depth of the readers open on this CPU: private, only "inside or not" is published. */
  private rcuNesting = 0;
  /** Outermost readers ended so far (published in CPU_RCU_READER's upper bits). */
  private rcuReadersEnded = 0;

  /**
   * rcu_read_lock(). The outermost reader sets the inside bit of CPU_RCU_READER; a nested one
   * publishes nothing (the word already says "inside"). With the rcu check's reader numbers, the
   * reader publishes MAX, then the inside bit, then its number, so that the check never compares
   * a stale number: a grace period that sees the bit sees either MAX or the true number.
   */
  rcuReadLock(): void {
    if (this.rcuNesting++ !== 0) return;
    const i32 = this.i32;
    const inside = (this.rcuReadersEnded * 2 + RCU_INSIDE) | 0;
    if (!this.rcuReaderSeq) {
      Atomics.store(i32, this.base + CPU_RCU_READER, inside);
      return;
    }
    Atomics.store(i32, this.base + CPU_RCU_READER_SEQ, RCU_READER_SEQ_UNSET);
    Atomics.store(i32, this.base + CPU_RCU_READER, inside);
    Atomics.store(i32, this.base + CPU_RCU_READER_SEQ, Atomics.add(i32, H_RCU_SEQ, 1));
  }

  /**
   * rcu_read_unlock(): leaving the outermost reader is the quiescent state synchronize_rcu waits
   * for — one seq-cst store clears the inside bit and counts it, after everything the reader did.
   */
  rcuReadUnlock(): void {
    if (--this.rcuNesting !== 0) return;
    this.rcuReadersEnded++;
    Atomics.store(this.i32, this.base + CPU_RCU_READER, (this.rcuReadersEnded * 2) | 0);
  }

  /** Context switch between the workload task, irq_workd and idle (-1). */
  switchTo(kind: number): number {
    const prev = this.taskKind;
    this.taskKind = kind;
    this.publishContext();
    return prev;
  }

  preemptDisable(): void {
    this.preemptCount++;
    this.i32[this.base + CPU_PREEMPT_COUNT] = this.preemptCount;
  }
  preemptEnable(): void {
    this.preemptCount--;
    this.i32[this.base + CPU_PREEMPT_COUNT] = this.preemptCount;
    // preempt_enable() is a preemption point: a woken irq_workd runs now. As in the kernel, only
    // where preemption is possible at all: its preempt_count includes the hardirq and NMI counts
    // (preempt_count_dec_and_test() never reaches 0 in a hardirq), and preempt_schedule() checks
    // preemptible(), irqs on included — so no call out of hardirq, NMI or irqs-off sections.
    if (this.preemptible()) this.onPreemptible();
  }

  // ── IPIs ─────────────────────────────────────────────────────────────────────
  /**
   * Latch an IPI on `target`, and wake it only if it says it is waiting. The bit is set before
   * the polling flag is read and the target publishes the flag before it waits (both seq-cst), so
   * either we see the flag and notify, or the target's Atomics.wait sees the bit and does not sleep.
   */
  raiseIpi(target: number, bit: number): void {
    const base = this.mem.cpuBase(target);
    Atomics.or(this.i32, base + CPU_IPI_PENDING, bit);
    if (Atomics.load(this.i32, base + CPU_IDLE_POLLING) !== 0) {
      Atomics.notify(this.i32, base + CPU_IPI_PENDING, 1);
      this.count(Counter.notifies);
    }
  }

  archIrqWorkRaise(): void {
    // Without an irq_work interrupt the arch's raise is empty: the next tick runs the raised list.
    if (!this.mem.cfg.archHasIrqWorkInterrupt) return;
    Atomics.or(this.i32, this.base + CPU_IPI_PENDING, IPI_IRQ_WORK);
    this.count(Counter.selfIpis);
  }

  sendCallFunctionSingleIpi(target: number): void {
    this.raiseIpi(target, IPI_CALL_FUNCTION_SINGLE);
    this.count(Counter.ipisSent);
  }

  tickNohzTickStopped(): boolean {
    return this.i32[this.base + CPU_TICK_STOPPED] !== 0;
  }

  cpuIsOffline(cpu: number): boolean {
    return Atomics.load(this.i32, this.mem.cpuBase(cpu) + CPU_ONLINE) === 0;
  }

  // ── a tiny scheduler: two tasks per CPU ───────────────────────────────────────
  taskStateWord(task: TaskRef): number {
    return this.mem.cpuBase(task.cpu) + (task.kind === TASK_KIND_IRQWORKD ? CPU_IRQWORKD_STATE : CPU_TASK_STATE);
  }

  setCurrentState(state: number): void {
    // set_current_state() is a store followed by a full barrier: Atomics.store is seq-cst.
    Atomics.store(this.i32, this.taskStateWord(this.currentTask()), state);
  }

  schedule(): void {
    if (Atomics.load(this.i32, this.taskStateWord(this.currentTask())) === TASK_RUNNING) return;
    this.env.schedule(this);
  }

  wakeUpProcess(task: TaskRef): boolean {
    const word = this.taskStateWord(task);
    for (;;) {
      const state = Atomics.load(this.i32, word);
      if (state !== TASK_INTERRUPTIBLE && state !== TASK_UNINTERRUPTIBLE) return false;
      if (Atomics.compareExchange(this.i32, word, state, TASK_RUNNING) === state) break;
    }
    // Tell the task's CPU to reschedule; for our own CPU the bit only makes the next interrupt
    // point look at the scheduler, no notify is needed since we are running.
    if (task.cpu === this.id) Atomics.or(this.i32, this.base + CPU_IPI_PENDING, IPI_RESCHEDULE);
    else this.raiseIpi(task.cpu, IPI_RESCHEDULE);
    return true;
  }

  mightSleep(where: string): void {
    // "BUG: sleeping function called from invalid context": atomic context or irqs off.
    if (this.preemptCount > 0 || this.irqsOff || this.hardirqNesting > 0 || this.nmiNesting > 0) {
      this.warnOnce(`BUG: sleeping function called from invalid context: ${where} in ${this.contextName()}`);
    }
  }

  warnOnce(what: string): void {
    if (this.warned.has(what)) return;
    this.warned.add(what);
    this.env.warn(this, what);
  }

  count(counter: number, by = 1): void {
    this.f64[this.counterBase + counter]! += by;
  }
}
