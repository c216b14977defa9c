/**
 * The stress run's quiet test: nothing is left to do. The machine asks it while quiescing (main
 * thread); under a controlled schedule the CPU holding the turn asks it.
 */
import { IRQ_WORK_CLAIMED } from '../kernel/flags.js';
import { TASK_RUNNING } from '../kernel/cpu.js';
import {
  CPU_CALL_SINGLE_QUEUE,
  CPU_IPI_PENDING,
  CPU_IRQWORKD_STATE,
  CPU_LAZY_LIST,
  CPU_RAISED_LIST,
  IPI_CALL_FUNCTION_SINGLE,
  IPI_IRQ_WORK,
  W_FLAGS,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

/** Every list empty, no work claimed, no irq_workd runnable, no kernel IPI latched. */
export function isQuiet(mem: KernelMemory): boolean {
  const i32 = mem.i32;
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const b = mem.cpuBase(cpu);
    if (Atomics.load(i32, b + CPU_RAISED_LIST) || Atomics.load(i32, b + CPU_LAZY_LIST)) return false;
    if (Atomics.load(i32, b + CPU_CALL_SINGLE_QUEUE)) return false;
    if (Atomics.load(i32, b + CPU_IPI_PENDING) & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK)) return false;
    if (Atomics.load(i32, b + CPU_IRQWORKD_STATE) === TASK_RUNNING) return false;
  }
  for (let w = 1; w < mem.layout.nrNodes; w++) {
    if (Atomics.load(i32, mem.node(w) + W_FLAGS) & IRQ_WORK_CLAIMED) return false;
  }
  return true;
}
