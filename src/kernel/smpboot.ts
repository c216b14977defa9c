/**
 * kernel/smpboot.c's smpboot_thread_fn(), the loop of every per-CPU hotplug thread, here
 * specialised to irq_workd (thread_should_run = irq_workd_should_run, thread_fn = run_irq_workd).
 *
 * `Kernel` is the top of the model's class chain (base → llist → rcu → rcuwait → smp → irq_work →
 * smpboot); a variant extends it and overrides only the functions that differ.
 */
import { TASK_INTERRUPTIBLE, TASK_PARKED, TASK_RUNNING } from './cpu.js';
import { IrqWork } from './irq_work.js';
import { CPU_IRQWORKD_STATE } from './layout.js';
import { Cov } from './coverage.js';

export class Kernel extends IrqWork {
  /**
   * smpboot_thread_fn() for irq_workd. In the kernel it loops forever and sleeps in schedule();
   * here the thread runs as a nested call on its CPU, so "schedule() while not TASK_RUNNING"
   * is a return. A wake-up that lands after we set TASK_INTERRUPTIBLE makes the thread
   * TASK_RUNNING again, and the CPU's scheduler calls us again — exactly when the kernel's
   * schedule() would not have slept.
   */
  smpbootThreadFn(): void {
    for (;;) {
      this.cpu.setCurrentState(TASK_INTERRUPTIBLE);
      this.cpu.preemptDisable();
      if (!this.irqWorkdShouldRun(this.cpu.id)) {
        this.cover(Cov.threadFnSleep);
        this.cpu.preemptEnable(); // preempt_enable_no_resched()
        return; // schedule()
      }
      this.cover(Cov.threadFnRun);
      this.cpu.setCurrentState(TASK_RUNNING); // __set_current_state(TASK_RUNNING)
      this.cpu.preemptEnable();
      this.runIrqWorkd(this.cpu.id);
    }
  }

  /**
   * smpboot_park_threads(): CPU going down — park this CPU's irq_workd. It parks at the top of
   * its loop without looking at its list: RT lazy work left there stays until the CPU returns.
   * (Called from the dying CPU's task context, so the thread is not in the middle of a run.)
   */
  smpbootParkThreads(): void {
    const word = this.thisCpu(CPU_IRQWORKD_STATE);
    const state = Atomics.load(this.i32, word);
    this.cover(state === TASK_INTERRUPTIBLE ? Cov.parkSleeping : state === TASK_RUNNING ? Cov.parkRunnable : Cov.parkNoThread);
    if (state === TASK_RUNNING || state === TASK_INTERRUPTIBLE) Atomics.store(this.i32, word, TASK_PARKED);
  }

  /** smpboot_unpark_threads(): CPU back up — the thread runs again and looks at its list. */
  smpbootUnparkThreads(): void {
    const was = Atomics.compareExchange(this.i32, this.thisCpu(CPU_IRQWORKD_STATE), TASK_PARKED, TASK_RUNNING);
    this.cover(was === TASK_PARKED ? Cov.unparkWoke : Cov.unparkNoThread);
  }
}

/** The constructor type every variant exports. */
export type KernelClass = new (...args: ConstructorParameters<typeof Kernel>) => Kernel;
