/**
 * A per-CPU state dump, in the spirit of the kernel's soft-lockup and csd-lock reports: what each
 * CPU was doing, its lists (node by node with flags), pending IPIs, irq_workd and tick state, and
 * every work that is still claimed.
 */
import { CONTEXT_NAMES } from '../cpu/sim-cpu.js';
import { TASK_INTERRUPTIBLE, TASK_NONE, TASK_PARKED, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from '../kernel/cpu.js';
import { describeFlags, IRQ_WORK_CLAIMED } from '../kernel/flags.js';
import {
  CPU_CALL_SINGLE_QUEUE,
  CPU_CONTEXT,
  CPU_HARDIRQ_NESTING,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_IRQS_OFF,
  CPU_IRQWORKD_STATE,
  CPU_LAZY_LIST,
  CPU_NMI_NESTING,
  CPU_ONLINE,
  CPU_PREEMPT_COUNT,
  CPU_PROGRESS,
  CPU_RAISED_LIST,
  CPU_TASK_STATE,
  CPU_TICKS,
  CPU_TICK_STOPPED,
  W_CLAIMED,
  W_EXECUTED,
  W_FLAGS,
  W_HOME_CPU,
  W_NEXT,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export function taskStateName(state: number): string {
  switch (state) {
    case TASK_RUNNING:
      return 'running';
    case TASK_INTERRUPTIBLE:
      return 'sleeping';
    case TASK_UNINTERRUPTIBLE:
      return 'sleeping (D)';
    case TASK_PARKED:
      return 'parked';
    case TASK_NONE:
      return 'none';
    default:
      return `state ${state}`;
  }
}

/** The nodes of a list from its head, with a guard against cycles (a broken list is exactly what a dump is for). */
export function walkList(mem: KernelMemory, head: number, limit = 64): { nodes: number[]; truncated: boolean; cycle: boolean } {
  const nodes: number[] = [];
  const seen = new Set<number>();
  let node = Atomics.load(mem.i32, head);
  while (node !== 0) {
    if (seen.has(node)) return { nodes, truncated: false, cycle: true };
    if (nodes.length >= limit) return { nodes, truncated: true, cycle: false };
    seen.add(node);
    nodes.push(node);
    node = Atomics.load(mem.i32, mem.node(node) + W_NEXT);
  }
  return { nodes, truncated: false, cycle: false };
}

function describeList(mem: KernelMemory, head: number): string {
  const { nodes, truncated, cycle } = walkList(mem, head);
  if (nodes.length === 0) return 'empty';
  const items = nodes.map((n) => `w${n}(${describeFlags(Atomics.load(mem.i32, mem.node(n) + W_FLAGS))})`);
  return items.join(' → ') + (truncated ? ' → …' : '') + (cycle ? ' → (cycle!)' : '');
}

export function stateDump(mem: KernelMemory): string {
  const i32 = mem.i32;
  const lines: string[] = [];
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const b = mem.cpuBase(cpu);
    const ctx = CONTEXT_NAMES[i32[b + CPU_CONTEXT]!] ?? `ctx ${i32[b + CPU_CONTEXT]}`;
    lines.push(
      `cpu${cpu}: ${i32[b + CPU_ONLINE] ? 'online' : 'offline'} ctx=${ctx} nmi=${i32[b + CPU_NMI_NESTING]} ` +
        `hardirq=${i32[b + CPU_HARDIRQ_NESTING]} irqs_off=${i32[b + CPU_IRQS_OFF]} preempt=${i32[b + CPU_PREEMPT_COUNT]} ` +
        `task=${taskStateName(i32[b + CPU_TASK_STATE]!)} irq_workd=${taskStateName(i32[b + CPU_IRQWORKD_STATE]!)} ` +
        `tick=${i32[b + CPU_TICK_STOPPED] ? 'stopped' : 'running'} ticks=${i32[b + CPU_TICKS]} progress=${i32[b + CPU_PROGRESS]} ` +
        `ipi_pending=0x${Atomics.load(i32, b + CPU_IPI_PENDING).toString(16)} polling=${i32[b + CPU_IDLE_POLLING]}`,
    );
    lines.push(`  raised_list:       ${describeList(mem, b + CPU_RAISED_LIST)}`);
    lines.push(`  lazy_list:         ${describeList(mem, b + CPU_LAZY_LIST)}`);
    lines.push(`  call_single_queue: ${describeList(mem, b + CPU_CALL_SINGLE_QUEUE)}`);
  }
  const claimed: string[] = [];
  for (let w = 1; w < mem.layout.nrNodes; w++) {
    const n = mem.node(w);
    const flags = Atomics.load(i32, n + W_FLAGS);
    if (flags & IRQ_WORK_CLAIMED) {
      claimed.push(
        `w${w}${mem.isWakeupWork(w) ? ' (wakeup)' : ''} home=cpu${i32[n + W_HOME_CPU]} ${describeFlags(flags)} ` +
          `claimed=${i32[n + W_CLAIMED]} executed=${i32[n + W_EXECUTED]}`,
      );
    }
  }
  lines.push(claimed.length ? `claimed works:\n  ${claimed.join('\n  ')}` : 'claimed works: none');
  return lines.join('\n');
}
