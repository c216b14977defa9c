/**
 * `v2`: the seed patch exactly as posted (Oct 2021, "[PATCH v2 3/4] irq_work: Handle some
 * irq_work in a per-CPU thread on PREEMPT_RT"), on the base it was posted against: v5.15 plus
 * patch 2/4 of the same series (merged as 810979682ccc, "irq_work_sync() may sleep when the arch
 * has no irq_work interrupt").
 *
 * Differs from `merged` in three functions:
 * - irq_work_queue_on(): when the add to the remote lazy_list finds it non-empty, llist_add()
 *   returns false and the `else` branch queues the *same node* on call_single_queue too —
 *   one node on two lists (the bug reviewers caught on the list);
 * - irq_work_single() and irq_work_sync(): the rcuwait is used only when the arch has no
 *   irq_work interrupt; the RT half of the condition came with patch 4/4 (09089db79859).
 */
import { IRQ_WORK_BUSY, IRQ_WORK_HARD_IRQ, IRQ_WORK_PENDING } from '../kernel/flags.js';
import { TASK_UNINTERRUPTIBLE } from '../kernel/cpu.js';
import { Cov } from '../kernel/coverage.js';
import { Counter, CPU_LAZY_LIST } from '../kernel/layout.js';
import { Kernel } from '../kernel/smpboot.js';
import { defineVariant } from './variant.js';

class V2Kernel extends Kernel {
  /** irq_work_queue_on() as in the seed. */
  override irqWorkQueueOn(work: number, cpu: number): boolean {
    this.count(Counter.queueCalls);
    if (this.cpu.cpuIsOffline(cpu)) {
      this.cover(Cov.v2QueueOnOffline);
      this.cpu.warnOnce(`irq_work_queue_on: cpu${cpu} is offline`);
    }
    if (!this.irqWorkClaim(work)) {
      this.cover(Cov.v2QueueOnPending);
      return false;
    }

    this.cpu.preemptDisable();
    if (cpu !== this.cpu.id) {
      if (this.cpu.inNmi()) {
        this.cover(Cov.v2QueueOnRemoteNmi);
        this.cpu.warnOnce('irq_work_queue_on: remote queue from NMI');
      }
      if (
        this.cfg.preemptRt &&
        !(Atomics.load(this.i32, this.flagsOf(work)) & IRQ_WORK_HARD_IRQ) &&
        this.llistAdd(work, this.perCpu(CPU_LAZY_LIST, cpu))
      ) {
        this.cpu.interruptPoint('irq_work_queue_on:after-lazy-add');
        const wakeWork = this.mem.wakeupWork(cpu); // per_cpu(irq_work_pending, cpu)
        if (this.irqWorkClaim(wakeWork)) {
          this.cover(Cov.v2QueueOnWakeupQueued);
          this.smpCallSingleQueue(cpu, wakeWork);
        } else this.cover(Cov.v2QueueOnWakeupPending);
      } else {
        // Reached also when the lazy_list add above returned false: the node is already linked
        // on the remote lazy_list, and now goes on call_single_queue as well. (For the coverage
        // count, the HARD_IRQ bit, fixed at init, tells the two apart: a plain read.)
        this.cover(this.cfg.preemptRt && !this.irqWorkIsHard(work) ? Cov.v2QueueOnDoubleAdd : Cov.v2QueueOnDirect);
        this.smpCallSingleQueue(cpu, work);
      }
    } else {
      this.cover(Cov.v2QueueOnLocal);
      this.irqWorkQueueLocal(work);
    }
    this.cpu.preemptEnable();
    return true;
  }

  /** irq_work_single() before 09089db79859: wakes the rcuwait only without an arch interrupt. */
  override irqWorkSingle(work: number): void {
    const flagsWord = this.flagsOf(work);
    let flags = Atomics.load(this.i32, flagsWord);
    this.hooks.singleStart(this.cpu.id, work, flags);
    flags &= ~IRQ_WORK_PENDING;
    Atomics.store(this.i32, flagsWord, flags); // atomic_set + smp_mb()
    this.cpu.interruptPoint('irq_work_single:after-clear-pending');
    this.accountExecuted(work);
    this.callFunc(work);
    this.cpu.interruptPoint('irq_work_single:after-func');
    this.hooks.singleClearBusy(this.cpu.id, work);
    const seen = Atomics.compareExchange(this.i32, flagsWord, flags, flags & ~IRQ_WORK_BUSY);
    this.cover(seen === flags ? Cov.v2SingleBusyCleared : Cov.v2SingleBusyKept);
    this.cpu.interruptPoint('irq_work_single:after-clear-busy');
    if (!this.cfg.archHasIrqWorkInterrupt) this.rcuwaitWakeUp(work);
    else this.cover(Cov.v2SingleNoWake);
    this.hooks.singleEnd(this.cpu.id, work);
  }

  /** irq_work_sync() before 09089db79859: sleeps only without an arch interrupt, else spins. */
  override irqWorkSync(work: number): void {
    this.count(Counter.syncs);
    this.hooks.syncStart(this.cpu.id, work);
    if (this.cpu.irqsDisabled()) {
      this.cover(Cov.v2SyncIrqsOff);
      this.cpu.warnOnce('irq_work_sync with irqs disabled');
    }
    this.cpu.mightSleep('irq_work_sync');
    if (!this.cfg.archHasIrqWorkInterrupt) {
      this.cover(Cov.v2SyncSleep);
      this.rcuwaitWaitEvent(work, () => !this.irqWorkIsBusy(work), TASK_UNINTERRUPTIBLE);
    } else {
      this.cover(Cov.v2SyncSpin);
      while (this.irqWorkIsBusy(work)) {
        this.cover(Cov.v2SyncSpinRelax);
        this.cpu.cpuRelax();
      }
    }
    this.hooks.syncEnd(this.cpu.id, work);
  }
}

export default defineVariant({
  name: 'v2',
  description: 'the seed patch as posted (Oct 2021): RT remote queue can put one node on two lists',
  kernel: V2Kernel,
});
