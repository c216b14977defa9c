/**
 * A small RCU (kernel/rcu/): readers are rcu_read_lock sections and every hardirq / NMI (the CPU
 * tracks them: cpu.rcuReadLock). synchronize_rcu() waits until every online CPU that was inside a
 * reader when the grace period began has ended it (a CPU outside any reader — in a task between
 * sections, idle — is in a quiescent state already).
 */
import { CPU_ONLINE, CPU_RCU_READER, H_RCU_SEQ, RCU_INSIDE } from './layout.js';
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
      // One word says both whether the CPU is inside a reader and how many readers it has ended:
      // if it is inside, any later value means that reader has ended (only its end writes next).
      const readerWord = this.perCpu(CPU_RCU_READER, cpu);
      const seen = Atomics.load(i32, readerWord);
      if ((seen & RCU_INSIDE) === 0) {
        this.cover(Cov.gpCpuQuiet);
        continue;
      }
      this.cover(Cov.gpCpuReader);
      while (Atomics.load(i32, readerWord) === seen && Atomics.load(i32, this.perCpu(CPU_ONLINE, cpu)) !== 0) {
        this.cpu.cpuRelax();
      }
    }
    this.hooks.gracePeriodEnd(this.cpu.id, gpSeq);
  }
}
