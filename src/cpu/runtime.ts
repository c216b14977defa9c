/**
 * CpuRuntime: one simulated CPU at work — the kernel code of a variant on a SimCpu, plus what
 * the hardware and the scheduler do around it: taking IPIs in hardirq context, the timer tick,
 * preempting the task for a woken irq_workd, and the NO_HZ idle loop.
 *
 * A worker drives it in real time (machine/boot.ts); the single-thread harness drives the same
 * methods by hand (RuntimeOptions.manualInterruptPoint). Everything that observes or perturbs it
 * (check hooks, trace, chaos, the run's abort) comes in through the constructor.
 */
import { TASK_KIND_IRQWORKD, TASK_RUNNING, TASK_NONE } from '../kernel/cpu.js';
import { tickPeriodNs } from '../kernel/config.js';
import type { CoverageSink } from '../kernel/coverage.js';
import { NO_HOOKS, type KernelHooks } from '../kernel/hooks.js';
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
import type { Kernel, KernelClass } from '../kernel/smpboot.js';
import { ContextEdge, NO_PROBES, type RuntimeProbes } from './probes.js';
import { NEVER_ABORTED, RunAborted, type RunControl } from './run-control.js';
import type { CpuScheduler } from './scheduling.js';
import { SimCpu, type CpuEnv, type InterruptDriver } from './sim-cpu.js';

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

export interface Instruments {
  hooks?: KernelHooks;
  probes?: RuntimeProbes;
  /** Where the kernel counts its branches (kernel/coverage.ts); none: it does not count. */
  coverage?: CoverageSink;
}

export interface RuntimeOptions {
  /** NO_HZ idle: stop the tick in idle when irq_work_needs_cpu() allows it. */
  nohz: boolean;
  /**
   * The kernel's hooks (checks, trace, latency recorder) and the runtime's probes (trace, chaos),
   * built for this CPU in one call, so that what they share (a trace ring) is built once; they
   * may ask the CPU for its context.
   */
  instrument?: (cpu: SimCpu) => Instruments;
  /** Where the CPU learns that the run was aborted. */
  control?: RunControl;
  /** Number RCU readers for the rcu check (SimCpuOptions.rcuReaderSeq). */
  rcuReaderSeq?: boolean;
  /**
   * The single-thread harness: interrupt points only call this (a test scripts what happens at
   * each named site); cpu_relax() is the site 'cpu_relax'; nothing preempts by itself.
   * Without it, interrupt points are the real-time ones of a worker.
   */
  manualInterruptPoint?: (site: string | undefined) => void;
  /**
   * A controlled schedule (src/sched): every interrupt point, cpu_relax() and wait is a
   * scheduling point, and the CPU's clock (its env's) is the schedule's virtual time.
   * Without it the CPU runs in real time, the OS deciding who runs when.
   */
  sched?: CpuScheduler;
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
  private nextTickNs = 0;
  /** When the tick was first armed: a restarted tick goes back on this grid. */
  private tickOriginNs = 0;
  private relaxSpins = 0;
  private clockCountdown = CLOCK_CHECK_EVERY;
  private readonly probes: RuntimeProbes;
  /** Chaos at slow interrupt points (probes.atInterruptPoint), null when off: read on the fast path. */
  private readonly atInterruptPoint: ((site: string | undefined) => void) | null;
  private readonly control: RunControl;
  /** probes.contextEdge, null when nobody listens (read on hot paths). */
  private readonly contextEdge: ((edge: number) => void) | null;
  private readonly sched: CpuScheduler | null;
  /** What pause() waits on in free mode: nobody ever notifies it. */
  private readonly pauseWord = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    readonly mem: KernelMemory,
    readonly id: number,
    kernel: KernelClass,
    env: CpuEnv,
    readonly opts: RuntimeOptions = { nohz: true },
  ) {
    const manual = opts.manualInterruptPoint;
    const sched = (this.sched = opts.sched ?? null);
    this.interruptPoint = sched ? (site) => this.controlledInterruptPoint(sched, site) : (site) => this.freeInterruptPoint(site);
    const driver: InterruptDriver = manual
      ? { interruptPoint: manual, cpuRelax: () => manual('cpu_relax'), preemptible: () => {} }
      : {
          interruptPoint: this.interruptPoint,
          cpuRelax: () => this.cpuRelax(),
          preemptible: () => this.preemptionPoint(),
        };
    this.cpu = new SimCpu(mem, id, env, driver, { rcuReaderSeq: opts.rcuReaderSeq ?? false });
    const instruments = opts.instrument?.(this.cpu) ?? {};
    this.probes = instruments.probes ?? NO_PROBES;
    this.atInterruptPoint = this.probes.atInterruptPoint;
    this.contextEdge = this.probes.contextEdge;
    this.control = opts.control ?? NEVER_ABORTED;
    this.k = new kernel(mem, this.cpu, instruments.hooks ?? NO_HOOKS, instruments.coverage ?? null);
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
    this.nextTickNs = this.probes.tickArmed(this.tickOriginNs + this.periodNs);
  }

  /** A context edge for whoever listens (the trace); nothing, not even a call, when nobody does. */
  private edge(edge: number): void {
    if (this.contextEdge !== null) this.contextEdge(edge);
  }

  /** Whether the run this CPU belongs to was aborted: unwind (RunAborted). */
  private checkAborted(): void {
    if (this.control.aborted()) throw new RunAborted();
  }

  /**
   * cpu_relax() in a wait loop (irq_work_sync spinning on BUSY, synchronize_rcu): an interrupt
   * point, and after a long spin a short wait on the pending-IPI word — what a VM's pause-loop
   * exiting does for a vCPU spinning on a descheduled one. With more simulated CPUs than cores,
   * the CPU we spin for may be waiting for our core.
   */
  private cpuRelax(): void {
    const sched = this.sched;
    if (sched !== null && !sched.released()) {
      // Controlled: a spin lets the schedule run someone else (the CPU spun for) at once.
      sched.relax();
      this.clockCountdown--;
      this.slowInterruptPoint('cpu_relax');
      return;
    }
    this.interruptPoint('cpu_relax');
    if (++this.relaxSpins < PAUSE_LOOP_SPINS) return;
    this.relaxSpins = 0;
    Atomics.store(this.i32, this.pollingWord, 1);
    Atomics.wait(this.i32, this.pendingWord, 0, PAUSE_LOOP_WAIT_MS);
    Atomics.store(this.i32, this.pollingWord, 0);
  }

  /**
   * The interrupt point (the kernel's, through SimCpu, and the workload's between operations).
   * Chosen once, at construction, so that free mode pays nothing for controlled schedules:
   * free, or a scheduling point followed by the free one.
   */
  readonly interruptPoint: (site?: string) => void;

  /** Controlled: every interrupt point is a scheduling point; the rest is as in free mode, on the virtual clock. */
  private controlledInterruptPoint(sched: CpuScheduler, site: string | undefined): void {
    if (!sched.released()) sched.point();
    this.freeInterruptPoint(site);
  }

  /**
   * The interrupt point in free mode. Fast path: one Atomics.load of the pending-IPI word and a
   * countdown; everything else happens only when an IPI is pending or the clock is due for a look.
   */
  private freeInterruptPoint(site?: string): void {
    // With irqs off no IPI can be taken here, so the pending word need not even be read: only
    // the countdown (tick, abort) and chaos matter then.
    if (--this.clockCountdown > 0 && this.atInterruptPoint === null && (this.cpu.irqsOff || Atomics.load(this.i32, this.pendingWord) === 0)) {
      return;
    }
    this.slowInterruptPoint(site);
  }

  private slowInterruptPoint(site: string | undefined): void {
    if (this.atInterruptPoint !== null) this.atInterruptPoint(site);
    if (this.clockCountdown <= 0) {
      this.clockCountdown = CLOCK_CHECK_EVERY;
      this.cpu.count(Counter.interruptPoints, CLOCK_CHECK_EVERY);
      if (!this.cpu.irqsDisabled()) this.i32[this.progressWord]! += 1;
      this.checkAborted();
      if (!this.cpu.irqsDisabled() && this.cpu.nowNs() >= this.nextTickNs) this.timerInterrupt();
    }
    if (this.cpu.irqsDisabled()) return;
    this.takeInterrupts();
    this.preemptionPoint();
  }

  /** Takes every pending IPI in hardirq context; does nothing with irqs off (they stay latched). */
  takeInterrupts(): void {
    if (this.cpu.irqsDisabled()) return;
    const bits = Atomics.exchange(this.i32, this.pendingWord, 0);
    if (bits === 0) return;
    if (bits & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK)) {
      this.probes.ipiTaken(bits);
      const was = this.cpu.hardirqEnter();
      if (bits & IPI_CALL_FUNCTION_SINGLE) {
        this.cpu.count(Counter.ipisReceived);
        this.k.genericSmpCallFunctionSingleInterrupt();
      }
      if (bits & IPI_IRQ_WORK) this.k.irqWorkRun();
      this.edge(ContextEdge.irqExit);
      this.cpu.hardirqExit(was);
    }
    // IPI_RESCHEDULE needs no handler: the woken task's state word already says TASK_RUNNING.
    // Other bits are the machine's kick: it only wakes an idle CPU so that it looks at its run.
  }

  /** The timer interrupt: tick_sched_timer → update_process_times → irq_work_tick. */
  timerInterrupt(): void {
    const now = this.cpu.nowNs();
    // Missed ticks (the OS descheduled us) are not replayed one by one: like a tickless kernel
    // catching up jiffies, one tick runs and the next is due one period from now.
    this.nextTickNs = this.probes.tickArmed(Math.max(this.nextTickNs + this.periodNs, now + 1));
    const was = this.cpu.hardirqEnter();
    this.probes.tick();
    this.cpu.count(Counter.ticks);
    this.i32[this.ticksWord]! += 1;
    this.k.irqWorkTick();
    this.edge(ContextEdge.irqExit);
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
    this.edge(ContextEdge.threadRun);
    while (this.irqWorkdRunnable()) this.k.smpbootThreadFn();
    this.edge(ContextEdge.threadSleep);
    this.cpu.switchTo(prev);
  }

  /** A hardirq of the workload (e.g. a timer of its own): `fn` runs in hardirq context. */
  inHardirq(fn: () => void): void {
    const was = this.cpu.hardirqEnter();
    this.edge(ContextEdge.workloadIrq);
    fn();
    this.edge(ContextEdge.irqExit);
    this.cpu.hardirqExit(was);
  }

  /** An NMI: `fn` runs in NMI context, whatever was running. */
  inNmi(fn: () => void): void {
    const was = this.cpu.nmiEnter();
    this.probes.nmi();
    fn();
    this.edge(ContextEdge.nmiExit);
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
    this.edge(ContextEdge.idleEnter);
    const startNs = cpu.nowNs();
    while (!done()) {
      this.checkAborted();
      // A runnable irq_workd keeps the CPU out of idle (do_idle leaves on need_resched): run it
      // before waiting. It can be runnable here without a pending IPI, e.g. just unparked by this
      // CPU coming back online; waiting first could sleep with the tick stopped and never run it.
      if (this.irqWorkdRunnable()) {
        this.restartTick();
        this.runIrqWorkd();
        continue;
      }
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
      if (this.sched !== null && !this.sched.released()) this.sched.wait(deadline, true);
      else if (timeoutMs > 0) Atomics.wait(this.i32, this.pendingWord, 0, timeoutMs);
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
    this.edge(ContextEdge.idleExit);
    cpu.switchTo(prev);
  }

  /** tick_nohz_idle_exit(): restart a stopped tick, back on its grid (tick_nohz_restart). */
  private restartTick(): void {
    if (!this.tickStopped()) return;
    this.setTickStopped(false);
    this.nextTickNs = this.probes.tickArmed(this.nextTickOnGrid());
  }

  /** A CPU coming back online: its tick resumes at the next point of its grid. */
  rearmTick(): void {
    this.nextTickNs = this.probes.tickArmed(this.nextTickOnGrid());
  }

  /** The first tick of the CPU's grid after now. */
  private nextTickOnGrid(): number {
    const sinceOrigin = this.cpu.nowNs() - this.tickOriginNs;
    return this.tickOriginNs + (Math.floor(sinceOrigin / this.periodNs) + 1) * this.periodNs;
  }

  /**
   * The CPU does nothing for `ns` and takes no interrupt (a chaos stall, an offline CPU): real
   * time in free mode, virtual time under a controlled schedule (other CPUs run meanwhile).
   */
  pause(ns: number): void {
    if (this.sched !== null && !this.sched.released()) this.sched.wait(this.cpu.nowNs() + ns, false);
    else Atomics.wait(this.pauseWord, 0, 0, ns / 1e6);
  }

  /** Whether this CPU has an irq_workd thread at all (RT), parked or not. */
  hasIrqWorkd(): boolean {
    return Atomics.load(this.i32, this.irqWorkdWord) !== TASK_NONE;
  }
}
