/**
 * kernel/irq_work.c as merged in v5.16 (the PREEMPT_RT series b4c6f86ec2f6, 09089db79859,
 * 810979682ccc) — the `merged` variant, and the base every other variant overrides.
 *
 * Per-CPU state of this file (in the CPU block of layout.ts):
 *   raised_list  works to run from the irq_work self-IPI (hardirq)
 *   lazy_list    LAZY works (run from the tick) and, on PREEMPT_RT, every non-HARD_IRQ work
 *                (run by irq_workd)
 *   irq_workd    the per-CPU thread "irq_work/N" (RT only; CPU_IRQWORKD_STATE)
 *   irq_work_wakeup  a HARD_IRQ work per CPU whose callback wakes that CPU's irq_workd
 *
 * Functions appear in the order of the C file; each names the kernel function it models.
 */
import {
  TASK_KIND_IRQWORKD,
  TASK_NONE,
  TASK_RUNNING,
  TASK_UNINTERRUPTIBLE,
} from './cpu.js';
import {
  CSD_TYPE_IRQ_WORK,
  IRQ_WORK_BUSY,
  IRQ_WORK_CLAIMED,
  IRQ_WORK_HARD_IRQ,
  IRQ_WORK_LAZY,
  IRQ_WORK_PENDING,
} from './flags.js';
import {
  Counter,
  CPU_IRQWORKD_STATE,
  CPU_LAZY_LIST,
  CPU_RAISED_LIST,
  IPI_IRQ_WORK,
} from './layout.js';
import { FUNC_IRQ_WORK_WAKE } from './memory.js';
import { Cov } from './coverage.js';
import { Smp } from './smp.js';

export class IrqWork extends Smp {
  constructor(...args: ConstructorParameters<typeof Smp>) {
    super(...args);
    this.registerFunc(FUNC_IRQ_WORK_WAKE, (k) => (k as IrqWork).irqWorkWake());
  }

  // ── include/linux/irq_work.h helpers ─────────────────────────────────────────

  /** irq_work_is_pending() */
  irqWorkIsPending(work: number): boolean {
    return (Atomics.load(this.i32, this.flagsOf(work)) & IRQ_WORK_PENDING) !== 0;
  }

  /** irq_work_is_busy(). An Atomics.load, unlike the kernel's plain atomic_read(): irq_work_sync()
   *  spins on it, and a plain read in a JavaScript loop is not guaranteed to see a new value. */
  irqWorkIsBusy(work: number): boolean {
    return (Atomics.load(this.i32, this.flagsOf(work)) & IRQ_WORK_BUSY) !== 0;
  }

  /** irq_work_is_hard(): atomic_read() is a plain load; HARD_IRQ is set at init and never changes. */
  irqWorkIsHard(work: number): boolean {
    return (this.i32[this.flagsOf(work)]! & IRQ_WORK_HARD_IRQ) !== 0;
  }

  // ── kernel/irq_work.c ────────────────────────────────────────────────────────

  /** wake_irq_workd(): wake this CPU's thread if it has something to do. */
  wakeIrqWorkd(): void {
    const hasThread = this.i32[this.thisCpu(CPU_IRQWORKD_STATE)] !== TASK_NONE;
    if (!this.llistEmpty(this.thisCpu(CPU_LAZY_LIST)) && hasThread) {
      if (this.cpu.wakeUpProcess({ cpu: this.cpu.id, kind: TASK_KIND_IRQWORKD })) {
        this.cover(Cov.wakeIrqWorkdWoke);
        this.count(Counter.irqWorkdWakeups);
        this.hooks.irqWorkdWoken(this.cpu.id);
      } else this.cover(Cov.wakeIrqWorkdAwake);
    } else this.cover(Cov.wakeIrqWorkdNothing);
  }

  /** irq_work_wake(): callback of the per-CPU wakeup work, runs in hardirq on the target CPU. */
  irqWorkWake(): void {
    this.cover(Cov.irqWorkWake);
    this.wakeIrqWorkd();
  }

  /** irq_workd_should_run() */
  irqWorkdShouldRun(_cpu: number): boolean {
    return !this.llistEmpty(this.thisCpu(CPU_LAZY_LIST));
  }

  /** irq_work_claim(): one fetch-or; fails only if the work was already PENDING. */
  irqWorkClaim(work: number): boolean {
    this.cpu.interruptPoint('irq_work_claim');
    const oldFlags = Atomics.or(this.i32, this.flagsOf(work), IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
    // Already pending: whoever set PENDING will run the work after our call. Atomics.or is a full
    // barrier, pairing with the one after PENDING is cleared in irq_work_single(), so what we
    // wrote before the call is visible to that run of the callback.
    const ok = (oldFlags & IRQ_WORK_PENDING) === 0;
    this.cover(ok ? Cov.claimOk : Cov.claimPending);
    if (ok) this.accountClaim(work);
    this.hooks.claim(this.cpu.id, work, ok, oldFlags);
    return ok;
  }

  /** arch_irq_work_raise(): the self-IPI (a no-op when the arch has none: the tick runs the work). */
  archIrqWorkRaise(): void {
    this.cpu.archIrqWorkRaise();
    if (this.cfg.archHasIrqWorkInterrupt) this.hooks.ipiSent(this.cpu.id, this.cpu.id, IPI_IRQ_WORK);
  }

  /** __irq_work_queue_local(): the work is claimed and preemption is off. */
  irqWorkQueueLocal(work: number): void {
    // atomic_read() is a plain load in the kernel too; we own the claim, and LAZY / HARD_IRQ
    // never change while the work is claimed.
    const workFlags = this.i32[this.flagsOf(work)]!;
    let lazyWork = false;
    let rtLazyWork = false;
    if (workFlags & IRQ_WORK_LAZY) lazyWork = true;
    else if (this.cfg.preemptRt && !(workFlags & IRQ_WORK_HARD_IRQ)) rtLazyWork = true;

    const list = this.thisCpu(lazyWork || rtLazyWork ? CPU_LAZY_LIST : CPU_RAISED_LIST);
    // Not the first on the list: whoever added the first has raised (or the tick will come).
    if (!this.llistAdd(work, list)) {
      this.cover(lazyWork ? Cov.queueLocalLazyNotFirst : rtLazyWork ? Cov.queueLocalRtLazyNotFirst : Cov.queueLocalRaisedNotFirst);
      return;
    }

    this.cpu.interruptPoint('irq_work_queue_local:before-raise');
    // A LAZY work waits for the tick, unless the tick is stopped (NO_HZ): then nothing would run it.
    if (!lazyWork || this.cpu.tickNohzTickStopped()) {
      this.cover(lazyWork ? Cov.queueLocalLazyNohz : rtLazyWork ? Cov.queueLocalRtLazyFirst : Cov.queueLocalRaisedFirst);
      this.archIrqWorkRaise();
    } else this.cover(Cov.queueLocalLazyTick);
  }

  /** irq_work_queue(): queue on this CPU; false if it was already pending. */
  irqWorkQueue(work: number): boolean {
    this.count(Counter.queueCalls);
    if (!this.irqWorkClaim(work)) {
      this.cover(Cov.queuePending);
      return false;
    }
    this.cover(Cov.queueClaimed);
    this.cpu.preemptDisable();
    this.irqWorkQueueLocal(work);
    this.cpu.preemptEnable();
    return true;
  }

  /** irq_work_queue_on(): queue on `cpu`; may be re-queued while its callback still runs. */
  irqWorkQueueOn(work: number, cpu: number): boolean {
    this.count(Counter.queueCalls);
    // All work should have been flushed before going offline.
    if (this.cpu.cpuIsOffline(cpu)) {
      this.cover(Cov.queueOnOffline);
      this.cpu.warnOnce(`irq_work_queue_on: cpu${cpu} is offline`);
    }
    if (!this.irqWorkClaim(work)) {
      this.cover(Cov.queueOnPending);
      return false;
    }

    this.cpu.preemptDisable();
    if (cpu !== this.cpu.id) {
      // The arch's remote IPI send/receive is not NMI safe.
      if (this.cpu.inNmi()) {
        this.cover(Cov.queueOnRemoteNmi);
        this.cpu.warnOnce('irq_work_queue_on: remote queue from NMI');
      }

      // On RT a non-HARD_IRQ work goes on the remote lazy_list, and the remote CPU's HARD_IRQ
      // wakeup work is queued instead, so that the remote hardirq wakes the remote irq_workd.
      let node = work;
      if (this.cfg.preemptRt && !this.irqWorkIsHard(work)) {
        // Not first on the remote lazy_list: its first adder already arranged the wake-up.
        if (!this.llistAdd(work, this.perCpu(CPU_LAZY_LIST, cpu))) {
          this.cover(Cov.queueOnLazyNotEmpty);
          this.cpu.preemptEnable();
          return true;
        }
        this.cpu.interruptPoint('irq_work_queue_on:after-lazy-add');
        node = this.mem.wakeupWork(cpu);
        // Already pending: a wake-up is on its way and will find our work on the lazy_list.
        if (!this.irqWorkClaim(node)) {
          this.cover(Cov.queueOnWakeupPending);
          this.cpu.preemptEnable();
          return true;
        }
        this.cover(Cov.queueOnWakeupQueued);
      } else this.cover(this.cfg.preemptRt ? Cov.queueOnRemoteHard : Cov.queueOnRemoteNoRt);
      this.smpCallSingleQueue(cpu, node);
    } else {
      this.cover(Cov.queueOnLocal);
      this.irqWorkQueueLocal(work);
    }
    this.cpu.preemptEnable();
    return true;
  }

  /** irq_work_needs_cpu(): asked before the tick is stopped. */
  irqWorkNeedsCpu(): boolean {
    const raisedEmpty = this.llistEmpty(this.thisCpu(CPU_RAISED_LIST));
    const lazyEmpty = this.llistEmpty(this.thisCpu(CPU_LAZY_LIST));
    if ((raisedEmpty || this.cfg.archHasIrqWorkInterrupt) && lazyEmpty) {
      this.cover(Cov.needsCpuNo);
      return false;
    }
    this.cover(lazyEmpty ? Cov.needsCpuRaised : Cov.needsCpuLazy);
    // All work should have been flushed before going offline.
    if (this.cpu.cpuIsOffline(this.cpu.id)) {
      this.cover(Cov.needsCpuOffline);
      this.cpu.warnOnce('irq_work_needs_cpu: this cpu is offline');
    }
    return true;
  }

  /** irq_work_single(): run one claimed work taken off a list. */
  irqWorkSingle(work: number): void {
    const flagsWord = this.flagsOf(work);
    let flags = Atomics.load(this.i32, flagsWord);
    this.hooks.singleStart(this.cpu.id, work, flags);
    // Clear PENDING: from here the work may be claimed and queued again. PENDING acts as our
    // lock, so a plain store suffices in the kernel (atomic_set); Atomics.store is also the
    // smp_mb() that follows it, pairing with the fetch-or in irq_work_claim().
    flags &= ~IRQ_WORK_PENDING;
    Atomics.store(this.i32, flagsWord, flags);
    this.cpu.interruptPoint('irq_work_single:after-clear-pending');

    this.accountExecuted(work);
    this.callFunc(work);
    this.cpu.interruptPoint('irq_work_single:after-func');

    // Clear BUSY, unless someone claimed the work meanwhile (then flags no longer match and the
    // new owner's run will clear it).
    this.hooks.singleClearBusy(this.cpu.id, work);
    const seen = Atomics.compareExchange(this.i32, flagsWord, flags, flags & ~IRQ_WORK_BUSY);
    this.cover(seen === flags ? Cov.singleBusyCleared : Cov.singleBusyKept);
    this.cpu.interruptPoint('irq_work_single:after-clear-busy');

    if ((this.cfg.preemptRt && !this.irqWorkIsHard(work)) || !this.cfg.archHasIrqWorkInterrupt) {
      this.rcuwaitWakeUp(work);
    } else this.cover(Cov.singleNoWake);
    this.hooks.singleEnd(this.cpu.id, work);
  }

  /** irq_work_run_list(): take a whole list and run each work. */
  irqWorkRunList(list: number): void {
    // On RT the lazy list runs in irq_workd, preemptible with irqs on; everything else must
    // run with irqs off.
    this.hooks.runList(this.cpu.id, list);
    if (!this.cpu.irqsDisabled() && !this.cfg.preemptRt) {
      this.cover(Cov.runListIrqsOn);
      this.cpu.warnOnce('BUG: irq_work_run_list with irqs enabled');
    }
    if (this.llistEmpty(list)) {
      this.cover(Cov.runListEmpty);
      return;
    }
    this.cover(Cov.runListTook);

    let node = this.llistDelAll(list);
    this.cpu.interruptPoint('irq_work_run_list:after-del-all');
    while (node !== 0) {
      // llist_for_each_entry_safe: the callback may re-queue the work, which rewrites `next`.
      const next = this.llistNext(node);
      this.irqWorkSingle(node);
      node = next;
    }
  }

  /** irq_work_run(): the self-IPI handler (hotplug also calls it). */
  irqWorkRun(): void {
    this.cover(this.cfg.preemptRt ? Cov.irqWorkRunRt : Cov.irqWorkRunNoRt);
    this.irqWorkRunList(this.thisCpu(CPU_RAISED_LIST));
    if (!this.cfg.preemptRt) this.irqWorkRunList(this.thisCpu(CPU_LAZY_LIST));
    else this.wakeIrqWorkd();
  }

  /** irq_work_tick(): from the timer tick. */
  irqWorkTick(): void {
    const raised = this.thisCpu(CPU_RAISED_LIST);
    if (!this.llistEmpty(raised) && !this.cfg.archHasIrqWorkInterrupt) {
      this.cover(Cov.tickRunsRaised);
      this.irqWorkRunList(raised);
    }
    this.cover(this.cfg.preemptRt ? Cov.tickRtWake : Cov.tickNoRtLazy);
    if (!this.cfg.preemptRt) this.irqWorkRunList(this.thisCpu(CPU_LAZY_LIST));
    else this.wakeIrqWorkd();
  }

  /** irq_work_sync(): return once the work is not in use (BUSY clear). */
  irqWorkSync(work: number): void {
    this.count(Counter.syncs);
    this.hooks.syncStart(this.cpu.id, work);
    if (this.cpu.irqsDisabled()) {
      this.cover(Cov.syncIrqsOff);
      this.cpu.warnOnce('irq_work_sync with irqs disabled');
    }
    this.cpu.mightSleep('irq_work_sync');
    if ((this.cfg.preemptRt && !this.irqWorkIsHard(work)) || !this.cfg.archHasIrqWorkInterrupt) {
      // The work runs in a thread (or from the tick): sleep instead of spinning.
      this.cover(Cov.syncSleep);
      this.rcuwaitWaitEvent(work, () => !this.irqWorkIsBusy(work), TASK_UNINTERRUPTIBLE);
    } else {
      this.cover(Cov.syncSpin);
      while (this.irqWorkIsBusy(work)) {
        this.cover(Cov.syncSpinRelax);
        this.cpu.cpuRelax();
      }
    }
    this.hooks.syncEnd(this.cpu.id, work);
  }

  /** run_irq_workd(): the thread function of irq_workd. */
  runIrqWorkd(_cpu: number): void {
    this.cover(Cov.runIrqWorkd);
    this.irqWorkRunList(this.thisCpu(CPU_LAZY_LIST));
  }

  /** irq_workd_setup(): sched_set_fifo_low(current) — irq_workd outranks every normal task. */
  irqWorkdSetup(_cpu: number): void {
    // The model's scheduler always prefers a runnable irq_workd to the task (cpu/runtime.ts).
  }

  /** irq_work_init_threads(): on RT, create this CPU's irq_workd (smpboot_register_percpu_thread). */
  irqWorkInitThreads(): void {
    if (!this.cfg.preemptRt) {
      this.cover(Cov.initThreadsNoRt);
      return;
    }
    this.cover(Cov.initThreadsRt);
    this.irqWorkdSetup(this.cpu.id);
    // A new smpboot thread starts runnable, checks thread_should_run() and goes to sleep.
    Atomics.store(this.i32, this.thisCpu(CPU_IRQWORKD_STATE), TASK_RUNNING);
  }
}
