/**
 * Hung tasks, the kernel's khungtaskd for the model: a task blocked in TASK_UNINTERRUPTIBLE
 * (D state) in irq_work_sync() — rcuwait_wait_event() on the work's rcuwait — that nothing will
 * wake. Checked from the main thread, beside the liveness scanner (race/liveness.ts runs it).
 *
 * What a task waits for is recorded where it starts to sleep: the kernel reports each sleep of
 * rcuwait_wait_event() and its end through the named hooks rcuwaitSleep / rcuwaitDone, and
 * hungTaskHooks() writes them into the harness's "hung-task" region (one line per CPU):
 *
 *   +0  ┌──────────────────────────────────────────────────────────────────────────────┐
 *       │ CPU 0 line: one slot of SLOT_WORDS per task kind (workload task, irq_workd):   │
 *       │   SEQ     sequence: odd while the owner rewrites the slot; +2 per sleep or end  │
 *       │   WORK    the work whose irq_work_sync the task sleeps in; 0: not waiting       │
 *       │   TICKS0  the CPU's tick count (CPU_TICKS) when this sleep began               │
 *       │                                        the CPU itself writes, the scanner reads │
 *  +16  ├──────────────────────────────────────────────────────────────────────────────┤
 *       │ CPU 1 line … CPU n-1 line                                                      │
 *       └──────────────────────────────────────────────────────────────────────────────┘
 *
 * SEQ is a seqlock and, at the same time, khungtaskd's switch count: a task woken and asleep
 * again is a new sleep, and its clock starts over.
 *
 * Two verdicts, both measured in the sleeping task's own CPU's time (the OS deschedules workers
 * as a hypervisor preempts vCPUs, so wall time proves nothing):
 *
 *  - lost wake-up: the condition the task waits for was seen to hold (the work not BUSY, and no
 *    execution of it in flight: the executor that cleared BUSY has passed its rcuwait_wake_up),
 *    and the same sleep is still asleep `wakeTicks` later. In a correct kernel the executor wakes
 *    the sleeper before it leaves irq_work_single, so no later look can find that sleep still
 *    asleep in idle (see scanTask for the order of the reads);
 *  - hung task: the same sleep has lasted `hungTicks`, whatever it waits for.
 *
 * "Its own time" for a CPU whose only task sleeps: its idle loop still takes ticks (CPU_TICKS
 * moves) unless NO_HZ stopped the tick. While it sleeps with the tick stopped and no IPI latched,
 * nothing but another CPU can end that sleep, and the time it sleeps is its own: the scanner
 * counts it at HZ, as a tickless kernel catches up jiffies when the CPU wakes.
 */
import { TASK_KIND_IRQWORKD, TASK_KIND_WORKLOAD, TASK_UNINTERRUPTIBLE, type TaskRef } from '../kernel/cpu.js';
import type { KernelHooks } from '../kernel/hooks.js';
import { IRQ_WORK_BUSY } from '../kernel/flags.js';
import {
  CPU_CONTEXT,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_IRQWORKD_STATE,
  CPU_TASK_STATE,
  CPU_TICKS,
  CPU_TICK_STOPPED,
  W_FLAGS,
  WORDS_PER_LINE,
  type ExtraRegion,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { CTX_IDLE } from '../cpu/sim-cpu.js';
import { S_INFLIGHT, type ShadowView } from '../checks/shadow-layout.js';
import { formatTrace, readTrace, TRACE_ENTRIES } from './trace.js';

export const HUNG_TASK_REGION = 'hung-task';
const SLOT_WORDS = 4;
const SEQ = 0;
const WORK = 1;
const TICKS0 = 2;

export interface HungTaskLimits {
  /** Ticks of the sleeper's CPU a sleep may last after its condition was seen to hold. */
  wakeTicks: number;
  /** Ticks of the sleeper's CPU any sleep in irq_work_sync may last. */
  hungTicks: number;
}

export const DEFAULT_HUNG_TASK: HungTaskLimits = { wakeTicks: 20, hungTicks: 5000 };

export function hungTaskRegion(nrCpus: number): ExtraRegion {
  return { name: HUNG_TASK_REGION, words: nrCpus * WORDS_PER_LINE };
}

/** The word index of (cpu, task kind)'s slot in `mem`'s hung-task region, or -1 without one. */
function slotOf(mem: KernelMemory, cpu: number, kind: number): number {
  const region = mem.layout.extra[HUNG_TASK_REGION];
  return region ? region.base + cpu * WORDS_PER_LINE + kind * SLOT_WORDS : -1;
}

/** The CPU a task sleeps on, as the hooks need it: which CPU, and which of its tasks runs. */
export interface SleeperCpu {
  readonly id: number;
  currentTask(): TaskRef;
}

/**
 * The hooks of one CPU that record what its tasks wait for (nothing without the region). Only
 * this CPU writes its line; the SEQ bumps around each rewrite let the scanner tell a torn read.
 */
export function hungTaskHooks(mem: KernelMemory, cpu: SleeperCpu): Partial<KernelHooks> {
  if (slotOf(mem, cpu.id, 0) < 0) return {};
  const i32 = mem.i32;
  const ticksWord = mem.cpuBase(cpu.id) + CPU_TICKS;
  const write = (work: number) => {
    const slot = slotOf(mem, cpu.id, cpu.currentTask().kind);
    Atomics.add(i32, slot + SEQ, 1);
    Atomics.store(i32, slot + WORK, work);
    // Our own tick counter (only this CPU writes it): a plain read is the current value.
    Atomics.store(i32, slot + TICKS0, i32[ticksWord]!);
    Atomics.add(i32, slot + SEQ, 1);
  };
  return {
    rcuwaitSleep: (_cpu, work) => write(work),
    rcuwaitDone: () => write(0),
  };
}

export interface HungTaskFinding {
  cpu: number;
  /** TASK_KIND_WORKLOAD or TASK_KIND_IRQWORKD. */
  kind: number;
  work: number;
  message: string;
}

/** What the scanner remembers of one sleep. */
interface Sleep {
  seq: number;
  /** Ticks of the sleep's CPU accounted for while its tick was stopped (see the file comment). */
  stoppedTicks: number;
  lastMs: number;
  /** Asleep with the tick stopped and no IPI latched at the last look. */
  lastAsleep: boolean;
  /** Own ticks when the condition was first seen to hold; -1 not yet. */
  holdsAt: number;
  reported: boolean;
}

const KINDS = [TASK_KIND_WORKLOAD, TASK_KIND_IRQWORKD] as const;
const STATE_WORD = [CPU_TASK_STATE, CPU_IRQWORKD_STATE] as const;

export class HungTaskScanner {
  private readonly sleeps = new Map<number, Sleep>();

  constructor(
    private readonly mem: KernelMemory,
    /** The checks' shadow state (executions in flight); without it only the `hungTicks` verdict is given. */
    private readonly shadow: ShadowView | undefined,
    private readonly limits: HungTaskLimits = DEFAULT_HUNG_TASK,
  ) {
    if (!mem.layout.extra[HUNG_TASK_REGION]) throw new Error('shared memory has no hung-task region (hungTaskRegion)');
  }

  /** The scanner of `mem`, or undefined when the run records no waits. */
  static find(mem: KernelMemory, shadow: ShadowView | undefined, limits?: HungTaskLimits): HungTaskScanner | undefined {
    return mem.layout.extra[HUNG_TASK_REGION] ? new HungTaskScanner(mem, shadow, limits) : undefined;
  }

  /** One look at every task; returns new findings (each sleep is reported once). */
  scan(nowMs: number): HungTaskFinding[] {
    const out: HungTaskFinding[] = [];
    for (let cpu = 0; cpu < this.mem.cfg.nrCpus; cpu++) {
      for (const kind of KINDS) {
        const f = this.scanTask(cpu, kind, nowMs);
        if (f) out.push(f);
      }
    }
    return out;
  }

  private scanTask(cpu: number, kind: number, nowMs: number): HungTaskFinding | null {
    const { mem, limits } = this;
    const i32 = mem.i32;
    const key = cpu * 2 + kind;
    const slot = slotOf(mem, cpu, kind);
    const b = mem.cpuBase(cpu);
    // Every word here is written by the sleeper's CPU (or, for the task state, by its waker):
    // Atomics.load throughout. The order matters. The record is read between two looks at SEQ
    // (a seqlock). The task state is read before and after the CPU's context: a task seen in D
    // both times, with the same SEQ, was in D all along, and its CPU in its idle loop in between
    // means the task really sleeps (not in the instant between its wake-up and rcuwaitDone,
    // which it spends in task context).
    const seq = Atomics.load(i32, slot + SEQ);
    const work = Atomics.load(i32, slot + WORK);
    const ticks0 = Atomics.load(i32, slot + TICKS0);
    const state1 = Atomics.load(i32, b + STATE_WORD[kind]!);
    const idle = Atomics.load(i32, b + CPU_CONTEXT) === CTX_IDLE;
    const state2 = Atomics.load(i32, b + STATE_WORD[kind]!);
    if (seq & 1 || Atomics.load(i32, slot + SEQ) !== seq) return null; // being rewritten: look next time
    if (work === 0 || state1 !== TASK_UNINTERRUPTIBLE || state2 !== TASK_UNINTERRUPTIBLE) {
      this.sleeps.delete(key);
      return null;
    }
    let s = this.sleeps.get(key);
    if (!s || s.seq !== seq) {
      s = { seq, stoppedTicks: 0, lastMs: nowMs, lastAsleep: false, holdsAt: -1, reported: false };
      this.sleeps.set(key, s);
    }
    if (s.reported) return null;

    // Its own time: ticks taken since the sleep began, plus the time it slept with its tick stopped.
    const asleep =
      Atomics.load(i32, b + CPU_IDLE_POLLING) !== 0 &&
      Atomics.load(i32, b + CPU_TICK_STOPPED) !== 0 &&
      Atomics.load(i32, b + CPU_IPI_PENDING) === 0;
    if (s.lastAsleep && asleep) s.stoppedTicks += ((nowMs - s.lastMs) * mem.cfg.hz) / 1000;
    s.lastAsleep = asleep;
    s.lastMs = nowMs;
    const ownTicks = Math.floor(((Atomics.load(i32, b + CPU_TICKS) - ticks0) | 0) + s.stoppedTicks);

    // The condition of irq_work_sync: BUSY clear. Read before the executions in flight: an
    // executor that cleared BUSY stays in flight until after its rcuwait_wake_up, so BUSY clear
    // and then nothing in flight means every wake-up owed to this sleep has been made.
    const busy = (Atomics.load(i32, mem.node(work) + W_FLAGS) & IRQ_WORK_BUSY) !== 0;
    const holds = !busy && this.shadow !== undefined && Atomics.load(i32, this.shadow.word(work, S_INFLIGHT)) === 0;
    if (holds && s.holdsAt < 0) s.holdsAt = ownTicks;
    if (!idle) return null;

    const what = `cpu${cpu}'s ${kind === TASK_KIND_IRQWORKD ? `irq_work/${cpu}` : 'task'} blocked in irq_work_sync(work ${work})`;
    const since = `TASK_UNINTERRUPTIBLE since tick ${ticks0} of cpu${cpu}, ${ownTicks} ticks of its own`;
    if (s.holdsAt >= 0 && ownTicks - s.holdsAt >= limits.wakeTicks) {
      s.reported = true;
      return {
        cpu,
        kind,
        work,
        message:
          `hung task: ${what}, ${since}: the condition it waits for already holds (work ${work} was seen not BUSY with ` +
          `no execution in flight ${ownTicks - s.holdsAt} ticks ago) and nobody is left to wake it (lost rcuwait wake-up)`,
      };
    }
    if (ownTicks >= limits.hungTicks) {
      s.reported = true;
      return {
        cpu,
        kind,
        work,
        message:
          `hung task: ${what}, ${since} (limit ${limits.hungTicks}), never woken; ` +
          (holds ? 'the condition it waits for already holds' : `work ${work} is still BUSY`),
      };
    }
    return null;
  }
}

/** Lines of a task's history shown at most (besides the line where its sync began). */
const HISTORY_LINES = 32;

/**
 * The history of a task blocked on `cpu`: that CPU's trace ring from its last irq_work_sync of
 * `work` on (what it did, then what its idle loop did while it slept), or its last events when
 * the ring has gone past that point. Empty when the run has no trace rings.
 */
export function taskHistory(mem: KernelMemory, cpu: number, work: number, originNs: number): string[] {
  const lines = readTrace(mem, TRACE_ENTRIES).filter((l) => l.cpu === cpu);
  if (lines.length === 0) return [];
  let start = -1;
  for (let k = lines.length - 1; k >= 0; k--) {
    if (lines[k]!.event === 'syncStart' && (work === 0 || lines[k]!.work === work)) {
      start = k;
      break;
    }
  }
  const head = `cpu${cpu}'s events${start >= 0 ? ` since its irq_work_sync(work ${lines[start]!.work})` : ''}:`;
  if (start < 0) return [head, ...formatTrace(mem, lines.slice(-HISTORY_LINES), originNs)];
  const since = lines.slice(start);
  if (since.length <= HISTORY_LINES + 1) return [head, ...formatTrace(mem, since, originNs)];
  const [first] = formatTrace(mem, [since[0]!], originNs);
  return [head, first!, '        …', ...formatTrace(mem, since.slice(-HISTORY_LINES), originNs)];
}
