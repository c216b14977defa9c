/**
 * The layout of the one SharedArrayBuffer that holds all kernel state.
 *
 * Everything is addressed in 32-bit words of an Int32Array (`i32`); float64 fields (timestamps,
 * counters) are read through a Float64Array (`f64`) over the same buffer at word/2. A "line" is
 * 16 words = 64 bytes, one cache line: blocks written by different CPUs never share a line.
 *
 *   word 0 ┌──────────────────────────────────────────────────────────────────────────┐
 *          │ header (1 line): magic, layout version, nrCpus, nrWorks, config bits, hz,  │
 *          │   RCU sequence                          written by the main thread / all    │
 *   16     ├──────────────────────────────────────────────────────────────────────────┤
 *          │ CPU 0 block, CPU_BLOCK_LINES lines:                                       │
 *          │   line 0  raised_list head            local CPU adds; local CPU deletes   │
 *          │   line 1  lazy_list head              local + remote (RT queue_on) add    │
 *          │   line 2  call_single_queue head      remote CPUs add; local CPU flushes  │
 *          │   line 3  ipiPending, idlePolling     senders set bits; owner clears      │
 *          │   line 4  context and sched state     owner writes (others read in dumps) │
 *          │             context, nmi/hardirq nesting, irqs-off, preempt count,          │
 *          │             tick stopped, task state, irq_workd state, online, progress,    │
 *          │             ticks, RCU reader state (inside + readers ended) / sequence     │
 *          │   line 5-6  counters, 16 × float64    owner writes, main reads after stop │
 *          ├──────────────────────────────────────────────────────────────────────────┤
 *          │ CPU 1 block … CPU n-1 block                                               │
 *          ├──────────────────────────────────────────────────────────────────────────┤
 *          │ work nodes, one line each; index 0 is the null "pointer" (never used),   │
 *          │   1 .. nrCpus      the per-CPU wakeup works (irq_work_wakeup, HARD_IRQ)  │
 *          │   nrCpus+1 ..      the work pool                                         │
 *          │   struct irq_work + accounting: next, a_flags, func, irqwait, homeCpu,   │
 *          │     claimed, executed, arg, 8 spare                                      │
 *          ├──────────────────────────────────────────────────────────────────────────┤
 *          │ extra regions requested by the harness (the checks' shadow lines, trace  │
 *          │   rings, histograms), each line-aligned; the kernel model never touches  │
 *          │   them                                                                   │
 *          └──────────────────────────────────────────────────────────────────────────┘
 *
 * Node "pointers" are node indices; 0 is NULL. A list head word holds the index of the first node.
 */
import { Errors } from '../errors.js';
import type { KernelConfig } from './config.js';

export const WORDS_PER_LINE = 16;
export const LAYOUT_MAGIC = 0x69727177; // "irqw"
export const LAYOUT_VERSION = 2;

// ── header words ──────────────────────────────────────────────────────────────
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_NR_CPUS = 2;
export const H_NR_WORKS = 3;
export const H_CONFIG_BITS = 4;
export const H_HZ = 5;
/** RCU sequence: readers and grace periods take numbers from it, so the rcu check can order them. */
export const H_RCU_SEQ = 11;
export const HEADER_LINES = 1;

export const CONFIG_BIT_PREEMPT_RT = 1;
export const CONFIG_BIT_ARCH_IRQ_WORK = 2;

// ── per-CPU block, offsets from the block's first word ─────────────────────────
export const CPU_RAISED_LIST = 0 * WORDS_PER_LINE;
export const CPU_LAZY_LIST = 1 * WORDS_PER_LINE;
export const CPU_CALL_SINGLE_QUEUE = 2 * WORDS_PER_LINE;
/** IPI bits pending for this CPU (IPI_* below). Senders fetch-or, the owner exchanges with 0. */
export const CPU_IPI_PENDING = 3 * WORDS_PER_LINE;
/** 1 while the owner is (about to be) blocked in Atomics.wait on CPU_IPI_PENDING. */
export const CPU_IDLE_POLLING = CPU_IPI_PENDING + 1;
const STATE_LINE = 4 * WORDS_PER_LINE;
/** What runs now: CTX_* of cpu/sim-cpu.ts. */
export const CPU_CONTEXT = STATE_LINE + 0;
export const CPU_NMI_NESTING = STATE_LINE + 1;
export const CPU_HARDIRQ_NESTING = STATE_LINE + 2;
export const CPU_IRQS_OFF = STATE_LINE + 3;
export const CPU_PREEMPT_COUNT = STATE_LINE + 4;
/** tick_nohz_tick_stopped() of this CPU. */
export const CPU_TICK_STOPPED = STATE_LINE + 5;
/** State of the CPU's ordinary task (the workload): TASK_* of kernel/cpu.ts. */
export const CPU_TASK_STATE = STATE_LINE + 6;
/** State of the CPU's irq_workd thread; TASK_NONE when there is no thread (non-RT). */
export const CPU_IRQWORKD_STATE = STATE_LINE + 7;
export const CPU_ONLINE = STATE_LINE + 8;
/** Progress of the CPU in its own terms (interrupt points passed with irqs on), wraps at 2^31. */
export const CPU_PROGRESS = STATE_LINE + 9;
/** Ticks taken, for liveness checks measured in the CPU's own time. */
export const CPU_TICKS = STATE_LINE + 10;
/**
 * This CPU's RCU reader state, one word so that ending a reader is one store: bit 0 is set while
 * the CPU is inside a reader (an rcu_read_lock section, a hardirq or an NMI; the nesting depth
 * itself stays private to the CPU), the bits above count the outermost readers that have ended
 * (the quiescent states synchronize_rcu waits for). Only the owner writes it.
 */
export const CPU_RCU_READER = STATE_LINE + 11;
// STATE_LINE + 12 is free (it held a separate quiescent-state count).
/** Bit 0 of CPU_RCU_READER: inside a reader. */
export const RCU_INSIDE = 1;
/** Sequence number (H_RCU_SEQ) taken when the current outermost reader began; MAX while it is being set. */
export const CPU_RCU_READER_SEQ = STATE_LINE + 13;
/** What CPU_RCU_READER_SEQ shows while a starting reader's number is not yet set. */
export const RCU_READER_SEQ_UNSET = 0x7fffffff;
/** First word of the counter lines (float64 slots, see Counter). */
export const CPU_COUNTERS = 5 * WORDS_PER_LINE;
export const CPU_BLOCK_LINES = 7;
export const CPU_BLOCK_WORDS = CPU_BLOCK_LINES * WORDS_PER_LINE;

/** IPI kinds, bits of CPU_IPI_PENDING. */
export const IPI_CALL_FUNCTION_SINGLE = 1; // remote: flush call_single_queue
export const IPI_IRQ_WORK = 2; // self: arch_irq_work_raise()
export const IPI_RESCHEDULE = 4; // a task on this CPU was woken
// Higher bits are not the kernel's: a harness may set one to wake an idle CPU (machine/control.ts).

/** Per-CPU counters, float64 slots of the counter lines (owner writes only). */
export const Counter = {
  queueCalls: 0,
  claimed: 1,
  executedHardirq: 2,
  executedIrqWorkd: 3,
  executedOther: 4,
  ipisSent: 5,
  ipisReceived: 6,
  notifies: 7,
  selfIpis: 8,
  irqWorkdWakeups: 9,
  ticks: 10,
  idleNs: 11,
  tickStops: 12,
  interruptPoints: 13,
  syncs: 14,
  requeues: 15,
} as const;
export type CounterName = keyof typeof Counter;
export const COUNTER_NAMES = Object.keys(Counter) as CounterName[];

// ── work nodes ────────────────────────────────────────────────────────────────
export const WORK_NODE_WORDS = WORDS_PER_LINE;
export const W_NEXT = 0;
export const W_FLAGS = 1;
export const W_FUNC = 2;
/** rcuwait of the work: the waiting task id, 0 when none. */
export const W_IRQWAIT = 3;
export const W_HOME_CPU = 4;
/** Successful claims of this work (accounting: must equal W_EXECUTED after quiescing). */
export const W_CLAIMED = 5;
export const W_EXECUTED = 6;
/** Argument word of the workload's callbacks (e.g. a re-queue request). */
export const W_ARG = 7;

export interface ExtraRegion {
  name: string;
  words: number;
}

export interface Layout {
  readonly totalWords: number;
  readonly cpuBase: number;
  readonly worksBase: number;
  readonly nrNodes: number;
  readonly extra: Readonly<Record<string, { base: number; words: number }>>;
}

function alignLine(words: number): number {
  return Math.ceil(words / WORDS_PER_LINE) * WORDS_PER_LINE;
}

export function computeLayout(cfg: KernelConfig, extra: readonly ExtraRegion[] = []): Layout {
  const cpuBase = HEADER_LINES * WORDS_PER_LINE;
  const worksBase = cpuBase + cfg.nrCpus * CPU_BLOCK_WORDS;
  const nrNodes = 1 + cfg.nrCpus + cfg.nrWorks;
  let next = worksBase + nrNodes * WORK_NODE_WORDS;
  const regions: Record<string, { base: number; words: number }> = {};
  for (const region of extra) {
    regions[region.name] = { base: next, words: region.words };
    next += alignLine(region.words);
  }
  const totalWords = next;
  if (totalWords * 4 > cfg.maxMemoryBytes) throw Errors.memoryTooSmall(totalWords * 4, cfg.maxMemoryBytes);
  return { totalWords, cpuBase, worksBase, nrNodes, extra: regions };
}
