/** Which task of a CPU is blocked for good, as the machine and a controlled schedule see it. */
import { TASK_UNINTERRUPTIBLE } from '../kernel/cpu.js';
import { CPU_IRQWORKD_STATE, CPU_TASK_STATE } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

/**
 * Which of `cpu`'s tasks is blocked in TASK_UNINTERRUPTIBLE (D), by the task state words of the
 * CPU block; null when none is. Words the CPU (or a waker) writes: Atomics.load.
 */
export function blockedTaskName(mem: KernelMemory, cpu: number): string | null {
  const b = mem.cpuBase(cpu);
  const task = Atomics.load(mem.i32, b + CPU_TASK_STATE) === TASK_UNINTERRUPTIBLE;
  const thread = Atomics.load(mem.i32, b + CPU_IRQWORKD_STATE) === TASK_UNINTERRUPTIBLE;
  return task && thread ? 'task and irq_workd' : task ? 'task' : thread ? 'irq_workd' : null;
}
