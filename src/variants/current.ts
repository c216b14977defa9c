/**
 * `current`: `merged` plus the 2026 fix 91840be8f710. irq_work_single() still touches the work
 * after clearing BUSY (rcuwait_wake_up), so an irq_work_sync() caller that then frees the work
 * raced with it. The fix: irq_workd runs its list inside an RCU read-side section (hardirq runs
 * are readers anyway), and irq_work_sync() waits for a grace period after its rcuwait, so the
 * executor is out of the work before the caller can free it.
 */
import { Cov } from '../kernel/coverage.js';
import { CPU_LAZY_LIST, Counter } from '../kernel/layout.js';
import { TASK_UNINTERRUPTIBLE } from '../kernel/cpu.js';
import { Kernel } from '../kernel/smpboot.js';
import { defineVariant } from './variant.js';

class CurrentKernel extends Kernel {
  /** run_irq_workd() with the fix: the list runs inside rcu_read_lock(). */
  override runIrqWorkd(_cpu: number): void {
    this.cover(Cov.currentRunIrqWorkd);
    this.rcuReadLock();
    this.irqWorkRunList(this.thisCpu(CPU_LAZY_LIST));
    this.rcuReadUnlock();
  }

  /** irq_work_sync() with the fix: a grace period after the rcuwait. */
  override irqWorkSync(work: number): void {
    this.count(Counter.syncs);
    this.hooks.syncStart(this.cpu.id, work);
    if (this.cpu.irqsDisabled()) {
      this.cover(Cov.currentSyncIrqsOff);
      this.cpu.warnOnce('irq_work_sync with irqs disabled');
    }
    this.cpu.mightSleep('irq_work_sync');
    if ((this.cfg.preemptRt && !this.irqWorkIsHard(work)) || !this.cfg.archHasIrqWorkInterrupt) {
      this.cover(Cov.currentSyncSleep);
      this.rcuwaitWaitEvent(work, () => !this.irqWorkIsBusy(work), TASK_UNINTERRUPTIBLE);
      // irq_work_single() touches the work after clearing BUSY, always inside a reader: once a
      // grace period has passed, it is done with the work.
      this.synchronizeRcu();
    } else {
      this.cover(Cov.currentSyncSpin);
      while (this.irqWorkIsBusy(work)) {
        this.cover(Cov.currentSyncSpinRelax);
        this.cpu.cpuRelax();
      }
    }
    this.hooks.syncEnd(this.cpu.id, work);
  }
}

export default defineVariant({
  name: 'current',
  description: 'merged plus the 2026 fix 91840be8f710 (RCU section in irq_workd, grace period in irq_work_sync)',
  kernel: CurrentKernel,
});
