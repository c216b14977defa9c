/**
 * Mutant: irq_work_single never wakes the irq_work_sync sleeper (the rcuwait_wake_up after the
 * BUSY clear is missing). On RT a sync of a non-hard work sleeps in TASK_UNINTERRUPTIBLE until
 * that wake-up: its task hangs in D state, with the condition it waits for already true.
 */
import { IRQ_WORK_BUSY, IRQ_WORK_PENDING } from '../../kernel/flags.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class SyncNeverWoken extends Kernel {
  override irqWorkSingle(work: number): void {
    const flagsWord = this.flagsOf(work);
    let flags = Atomics.load(this.i32, flagsWord);
    this.hooks.singleStart(this.cpu.id, work, flags);
    flags &= ~IRQ_WORK_PENDING;
    Atomics.store(this.i32, flagsWord, flags);
    this.cpu.interruptPoint('irq_work_single:after-clear-pending');
    this.accountExecuted(work);
    this.callFunc(work);
    this.cpu.interruptPoint('irq_work_single:after-func');
    this.hooks.singleClearBusy(this.cpu.id, work);
    Atomics.compareExchange(this.i32, flagsWord, flags, flags & ~IRQ_WORK_BUSY);
    this.cpu.interruptPoint('irq_work_single:after-clear-busy');
    // (the rcuwait_wake_up(&work->irqwait) of RT and of arches without an irq_work interrupt is missing)
    this.hooks.singleEnd(this.cpu.id, work);
  }
}

export default defineMutant({
  name: 'sync-never-woken',
  description: 'irq_work_single never wakes the irq_work_sync sleeper (no rcuwait_wake_up)',
  expectedCheck: 'liveness',
  kernel: SyncNeverWoken,
});
