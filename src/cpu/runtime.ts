/**
 * CpuRuntime: one simulated CPU at work — the kernel code of a variant on a SimCpu, plus what
 * the hardware and the scheduler do around it: taking IPIs in hardirq context, the timer tick,
 * preempting the task for a woken irq_workd, and the NO_HZ idle loop.
 *
 * The worker (workers/cpu-worker.ts) drives it in real time; the single-thread harness drives
 * the same methods by hand.
 */
import { TASK_KIND_IRQWORKD, TASK_RUNNING, TASK_NONE } from '../kernel/cpu.js';
import { tickPeriodNs } from '../kernel/config.js';
import type { KernelHooks } from '../kernel/hooks.js';
import {
  Counter,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_IRQWORKD_STATE,
  CPU_PROGRESS,
  CPU_TICKS,
  CPU_TICK_STOPPED,
  IPI_CALL_FUNCTION_SINGLE,
  IPI_IRQ_WORK,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import type { Kernel } from '../kernel/smpboot.js';
import type { Variant } from '../variants/variant.js';
import { PHASE_ABORT, readPhase, RunAborted } from './phase.js';
import { SimCpu, type CpuEnv } from './sim-cpu.js';
import { TraceEvent, type TraceRing } from '../race/trace.js';

/** How many interrupt points pass between two looks at the clock (tick due?) on the fast path. */
const CLOCK_CHECK_EVERY = 64;
/** cpu_relax() calls in a row before a spinning CPU gives its core away for a moment. */
const PAUSE_LOOP_SPINS = 256;
/** How long it gives it away at most (an IPI ends the wait at once). */
const PAUSE_LOOP_WAIT_MS = 0.05;

/**
 * schedule() of a task in a worker: the CPU idles (taking interrupts, running irq_workd) until the
 * task is woken. `rt` is read lazily because the env is built before the runtime that uses it.
 */
export function scheduleByIdling(rt: () => CpuRuntime): CpuEnv['schedule'] {
  return (cpu) => {
    const word = cpu.taskStateWord(cpu.currentTask());
    rt().idle(() => Atomics.load(cpu.i32, word) === TASK_RUNNING);
  };
}

export interface RuntimeOptions {
  /** NO_HZ idle: stop the tick in idle when irq_work_needs_cpu() allows it. */
  nohz: boolean;
}

export class CpuRuntime {
  readonly cpu: SimCpu;
  readonly k: Kernel;
  readonly i32: Int32Array;
  private readonly pendingWord: number;
  private readonly pollingWord: number;
  private readonly irqWorkdWord: number;
  private readonly progressWord: number;
  private readonly ticksWord: number;
  readonly periodNs: number;
  nextTickNs = 0;
  /** When the tick was first armed: a restarted tick goes back on this grid. */
  private tickOriginNs = 0;
  private relaxSpins = 0;
  private clockCountdown = CLOCK_CHECK_EVERY;
  /** Event trace of this CPU (race runs); null when off. */
  trace: TraceRing | null = null;
  /** Extra work at every slow interrupt point (chaos delays, NMIs); null when off. */
  chaos: ((site: string | undefined) => void) | null = null;

  constructor(
    readonly mem: KernelMemory,
    readonly id: number,
    variant: Variant,
    env: CpuEnv,
    hooks: KernelHooks | undefined,
    readonly opts: RuntimeOptions = { nohz: true },
  ) {
    this.cpu = new SimCpu(mem, id, env);
    this.k = new variant.kernel(mem, this.cpu, hooks);
    this.i32 = mem.i32;
    const base = mem.cpuBase(id);
    this.pendingWord = base + CPU_IPI_PENDING;
    this.pollingWord = base + CPU_IDLE_POLLING;
    this.irqWorkdWord = base + CPU_IRQWORKD_STATE;
    this.progressWord = base + CPU_PROGRESS;
    this.ticksWord = base + CPU_TICKS;
    this.periodNs = tickPeriodNs(mem.cfg);
  }

  /** Boot: create irq_workd (RT) and arm the tick. */
  boot(): void {
    this.k.irqWorkInitThreads();
    this.tickOriginNs = this.cpu.nowNs();
    this.nextTickNs = this.tickOriginNs + this.periodNs;
  }

  /** Installs the real-time interrupt point (worker mode). */
  installInterruptPoint(): void {
    this.cpu.interruptPoint = (site) => this.interruptPoint(site);
    this.cpu.onPreemptible = () => this.preemptionPoint();
    this.cpu.cpuRelax = () => this.cpuRelax();
  }

  /**
   * cpu_relax() in a wait loop (irq_work_sync spinning on BUSY, synchronize_rcu): an interrupt
   * point, and after a long spin a short wait on the pending-IPI word — what a VM's pause-loop
   * exiting does for a vCPU spinning on a descheduled one. With more simulated CPUs than cores,
   * the CPU we spin for may be waiting for our core.
   */
  private cpuRelax(): void {
    this.interruptPoint('cpu_relax');
    if (++this.relaxSpins < PAUSE_LOOP_SPINS) return;
    this.relaxSpins = 0;
    Atomics.store(this.i32, this.pollingWord, 1);
    Atomics.wait(this.i32, this.pendingWord, 0, PAUSE_LOOP_WAIT_MS);
    Atomics.store(this.i32, this.pollingWord, 0);
  }

  /**
   * The interrupt point. Fast path: one Atomics.load of the pending-IPI word and a countdown;
   * everything else happens only when an IPI is pending or the clock is due for a look.
   */
  interruptPoint(site?: string): void {
    // With irqs off no IPI can be taken here, so the pending word need not even be read: only
    // the countdown (tick, abort) and chaos matter then.
    if (--this.clockCountdown > 0 && this.chaos === null && (this.cpu.irqsOff || Atomics.load(this.i32, this.pendingWord) === 0)) {
      return;
    }
    this.slowInterruptPoint(site);
  }

  private slowInterruptPoint(site: string | undefined): void {
    if (this.chaos !== null) this.chaos(site);
    if (this.clockCountdown <= 0) {
      this.clockCountdown = CLOCK_CHECK_EVERY;
      this.cpu.count(Counter.interruptPoints, CLOCK_CHECK_EVERY);
      if (!this.cpu.irqsDisabled()) this.i32[this.progressWord]! += 1;
      if (readPhase(this.i32) === PHASE_ABORT) throw new RunAborted();
      if (!this.cpu.irqsDisabled() && this.cpu.nowNs() >= this.nextTickNs) this.timerInterrupt();
    }
    if (this.cpu.irqsDisabled()) return;
    this.takeInterrupts();
    this.preemptionPoint();
    // A preemption point outside any RCU reader is a quiescent state.
    if (this.cpu.preemptible()) this.cpu.rcuNoteQs();
  }

  /** Takes every pending IPI in hardirq context; does nothing with irqs off (they stay latched). */
  takeInterrupts(): void {
    if (this.cpu.irqsDisabled()) return;
    const bits = Atomics.exchange(this.i32, this.pendingWord, 0);
    if (bits === 0) return;
    if (this.trace !== null && bits & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK)) this.trace.record(TraceEvent.ipiTaken, 0, bits);
    if (bits & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK)) {
      const was = this.cpu.hardirqEnter();
      if (bits & IPI_CALL_FUNCTION_SINGLE) {
        this.cpu.count(Counter.ipisReceived);
        this.k.genericSmpCallFunctionSingleInterrupt();
      }
      if (bits & IPI_IRQ_WORK) this.k.irqWorkRun();
      this.cpu.hardirqExit(was);
    }
    // IPI_RESCHEDULE needs no handler: the woken task's state word already says TASK_RUNNING.
    // IPI_STOP only wakes an idle CPU so that it looks at the run phase.
  }

  /** The timer interrupt: tick_sched_timer → update_process_times → irq_work_tick. */
  timerInterrupt(): void {
    const now = this.cpu.nowNs();
    // Missed ticks (the OS descheduled us) are not replayed one by one: like a tickless kernel
    // catching up jiffies, one tick runs and the next is due one period from now.
    this.nextTickNs = Math.max(this.nextTickNs + this.periodNs, now + 1);
    const was = this.cpu.hardirqEnter();
    this.trace?.record(TraceEvent.tick, 0);
    this.cpu.count(Counter.ticks);
    this.i32[this.ticksWord]! += 1;
    this.k.irqWorkTick();
    this.cpu.hardirqExit(was);
  }

  irqWorkdRunnable(): boolean {
    return Atomics.load(this.i32, this.irqWorkdWord) === TASK_RUNNING;
  }

  /**
   * A preemption point in task context: run irq_workd if it was woken (it outranks the task).
   * Its state word is read plainly, as preempt_enable() reads need_resched: this CPU wakes its own
   * irq_workd, and a wake-up from elsewhere (unpark) comes with IPI_RESCHEDULE, whose exchange in
   * takeInterrupts orders the read after it.
   */
  preemptionPoint(): void {
    if (!this.cpu.preemptible() || this.cpu.currentTask().kind === TASK_KIND_IRQWORKD) return;
    if (this.i32[this.irqWorkdWord] === TASK_RUNNING) this.runIrqWorkd();
  }

  /** Switch to irq_workd and let it loop until it sleeps (smpboot_thread_fn returns). */
  runIrqWorkd(): void {
    const prev = this.cpu.switchTo(TASK_KIND_IRQWORKD);
    while (this.irqWorkdRunnable()) this.k.smpbootThreadFn();
    this.cpu.switchTo(prev);
  }

  /** A hardirq of the workload (e.g. a timer of its own): `fn` runs in hardirq context. */
  inHardirq(fn: () => void): void {
    const was = this.cpu.hardirqEnter();
    fn();
    this.cpu.hardirqExit(was);
  }

  /** An NMI: `fn` runs in NMI context, whatever was running. */
  inNmi(fn: () => void): void {
    const was = this.cpu.nmiEnter();
    this.trace?.record(TraceEvent.nmi, 0);
    fn();
    this.cpu.nmiExit(was);
  }

  tickStopped(): boolean {
    return this.i32[this.mem.cpuBase(this.id) + CPU_TICK_STOPPED] !== 0;
  }

  private setTickStopped(stopped: boolean): void {
    this.i32[this.mem.cpuBase(this.id) + CPU_TICK_STOPPED] = stopped ? 1 : 0;
  }

  /**
   * The idle loop (do_idle), worker mode: until `done()` holds or `untilNs` passes (if ≥ 0); an
   * aborted run throws RunAborted. Stops the tick when allowed (tick_nohz_idle_stop_tick asks
   * irq_work_needs_cpu), then Atomics.wait on the pending-IPI word until an IPI, the next tick,
   * or `untilNs`. Interrupts taken in idle run with the tick still stopped, as in the kernel;
   * the tick restarts when idle ends.
   */
  idle(done: () => boolean, untilNs = -1): void {
    const cpu = this.cpu;
    const prev = cpu.switchTo(-1);
    const startNs = cpu.nowNs();
    while (!done()) {
      if (readPhase(this.i32) === PHASE_ABORT) throw new RunAborted();
      cpu.rcuNoteQs(); // idle is an extended quiescent state
      let now = cpu.nowNs();
      if (untilNs >= 0 && now >= untilNs) break;
      if (!this.tickStopped() && this.opts.nohz && !this.k.irqWorkNeedsCpu()) {
        this.setTickStopped(true);
        cpu.count(Counter.tickStops);
      }
      let deadline = this.tickStopped() ? Infinity : this.nextTickNs;
      if (untilNs >= 0) deadline = Math.min(deadline, untilNs);
      const timeoutMs = deadline === Infinity ? Infinity : Math.max(0, (deadline - now) / 1e6);
      // Publish "I am waiting" before the wait checks the word (see SimCpu.raiseIpi).
      Atomics.store(this.i32, this.pollingWord, 1);
      if (timeoutMs > 0) Atomics.wait(this.i32, this.pendingWord, 0, timeoutMs);
      Atomics.store(this.i32, this.pollingWord, 0);
      now = cpu.nowNs();
      this.takeInterrupts();
      if (!this.tickStopped() && now >= this.nextTickNs) this.timerInterrupt();
      if (this.irqWorkdRunnable()) {
        this.restartTick();
        this.runIrqWorkd();
      }
    }
    this.restartTick();
    cpu.count(Counter.idleNs, cpu.nowNs() - startNs);
    cpu.switchTo(prev);
  }

  /** tick_nohz_idle_exit(): restart a stopped tick, back on its grid (tick_nohz_restart). */
  private restartTick(): void {
    if (!this.tickStopped()) return;
    this.setTickStopped(false);
    this.nextTickNs = this.nextTickOnGrid();
  }

  /** The first tick of the CPU's grid after now. */
  nextTickOnGrid(): number {
    const sinceOrigin = this.cpu.nowNs() - this.tickOriginNs;
    return this.tickOriginNs + (Math.floor(sinceOrigin / this.periodNs) + 1) * this.periodNs;
  }

  /** Whether this CPU has an irq_workd thread at all (RT), parked or not. */
  hasIrqWorkd(): boolean {
    return Atomics.load(this.i32, this.irqWorkdWord) !== TASK_NONE;
  }
}
