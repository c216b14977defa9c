/**
 * include/linux/rcuwait.h and kernel/exit.c's rcuwait_wake_up(): a single-waiter wait slot.
 * irq_work keeps one in each work (`work->irqwait`, our W_IRQWAIT) for irq_work_sync().
 */
import { taskFromWord, taskToWord, TASK_RUNNING } from './cpu.js';
import { W_IRQWAIT } from './layout.js';
import { Rcu } from './rcu.js';
import { Cov } from './coverage.js';

export abstract class Rcuwait extends Rcu {
  /** rcuwait_wait_event(w, condition, state): sleep until `condition()` holds. */
  rcuwaitWaitEvent(work: number, condition: () => boolean, state: number): void {
    const slot = this.nodeWord(work, W_IRQWAIT);
    // prepare_to_rcuwait(): publish ourselves before testing the condition, so a waker that makes
    // the condition true after our test is bound to see us (seq-cst store pairs with its load).
    Atomics.store(this.i32, slot, taskToWord(this.cpu.currentTask()));
    for (;;) {
      // set_current_state() carries a full barrier: the state is visible before we test.
      this.cpu.setCurrentState(state);
      if (condition()) break;
      this.cover(Cov.rcuwaitWaitSleep);
      this.hooks.rcuwaitSleep(this.cpu.id, work);
      this.cpu.schedule();
    }
    // finish_rcuwait()
    this.cover(Cov.rcuwaitWaitDone);
    Atomics.store(this.i32, slot, 0);
    this.cpu.setCurrentState(TASK_RUNNING);
    this.hooks.rcuwaitDone(this.cpu.id, work);
  }

  /** rcuwait_wake_up(w): wake the waiter, if there is one. */
  rcuwaitWakeUp(work: number): boolean {
    // The smp_mb() of rcuwait_wake_up orders the caller's condition change before this load;
    // Atomics.load is seq-cst, which gives the same.
    this.hooks.touch(this.cpu.id, work, 'rcuwait_wake_up');
    const task = Atomics.load(this.i32, this.nodeWord(work, W_IRQWAIT));
    if (task === 0) {
      this.cover(Cov.rcuwaitWakeNone);
      return false;
    }
    const woke = this.cpu.wakeUpProcess(taskFromWord(task));
    this.cover(woke ? Cov.rcuwaitWakeWoke : Cov.rcuwaitWakeAwake);
    return woke;
  }
}
