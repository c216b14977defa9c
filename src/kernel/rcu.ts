/**
 * A small RCU (kernel/rcu/): readers are rcu_read_lock sections and every hardirq / NMI (the CPU
 * tracks them: cpu.rcuReadLock); a CPU passes a quiescent state when its outermost reader ends,
 * in idle, and at preemption points outside any reader. synchronize_rcu() waits until every
 * online CPU that was inside a reader when the grace period began has passed one.
 */
import { CPU_ONLINE, CPU_RCU_NESTING, CPU_RCU_QS, H_RCU_SEQ } from './layout.js';
import { Llist } from './llist.js';
import { Cov } from './coverage.js';

export abstract class Rcu extends Llist {
  /** rcu_read_lock() */
  rcuReadLock(): void {
    this.cpu.rcuReadLock();
  }

  /** rcu_read_unlock() */
  rcuReadUnlock(): void {
    this.cpu.rcuReadUnlock();
  }

  /** synchronize_rcu(): returns after a full grace period. Spins with interrupt points (see FIDELITY). */
  synchronizeRcu(): void {
    this.cpu.mightSleep('synchronize_rcu');
    const i32 = this.i32;
    const gpSeq = Atomics.add(i32, H_RCU_SEQ, 1);
    for (let cpu = 0; cpu < this.cfg.nrCpus; cpu++) {
      if (cpu === this.cpu.id) continue; // we are in a quiescent state ourselves
      // Quiescent-state count first, nesting second: if the reader we see ends in between, its
      // end bumped the count after our read, and we wait for nothing more than that.
      const qsWord = this.perCpu(CPU_RCU_QS, cpu);
      const qs0 = Atomics.load(i32, qsWord);
      if (Atomics.load(i32, this.perCpu(CPU_RCU_NESTING, cpu)) === 0) {
        this.cover(Cov.gpCpuQuiet);
        continue;
      }
      this.cover(Cov.gpCpuReader);
      while (Atomics.load(i32, qsWord) === qs0 && Atomics.load(i32, this.perCpu(CPU_ONLINE, cpu)) !== 0) {
        this.cpu.cpuRelax();
      }
    }
    this.hooks.gracePeriodEnd(this.cpu.id, gpSeq);
  }
}
