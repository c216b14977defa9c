/**
 * The schedule's region of the shared memory: whose turn it is, the step count and virtual time,
 * the strategy's state, the event digest, and the log of scheduling decisions.
 *
 *   +0   ┌─────────────────────────────────────────────────────────────────────────────┐
 *        │ header: mode, flags, step (f64), virtual time (f64), digest, counters,       │
 *        │         the run's end steps, PCT change points                               │
 *   +64  ├─────────────────────────────────────────────────────────────────────────────┤
 *        │ per CPU, 8 words each:                                                       │
 *        │   STATE  runnable / blocked / exited      GO    1 while it holds the turn    │
 *        │   WAKE_ON_IPI  PRIO (pct)                 DEADLINE (f64) of a blocked CPU    │
 *        ├─────────────────────────────────────────────────────────────────────────────┤
 *        │ decisions: (step, cpu) of every change of turn, in order; then, for a replay, │
 *        │ the recorded decisions it follows                                            │
 *        ├─────────────────────────────────────────────────────────────────────────────┤
 *        │ checkpoints: (step, digest) every CHECKPOINT_EVERY steps                     │
 *        └─────────────────────────────────────────────────────────────────────────────┘
 *
 * Only the CPU that holds the turn writes the header, the per-CPU words, the decisions and the
 * checkpoints, and only it reads them for decisions, so they are plain words: a turn is handed
 * over with a seq-cst store to the next holder's GO word, which it reads with Atomics before it
 * touches anything (the store–load pair orders every plain write of the old holder before every
 * read of the new). Other threads look only at GO (their own), TURN (Atomics: has the schedule
 * let go?), and, racily, the step count (the machine's watchdog) and the results after the run.
 */
import { WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export const SCHED_REGION = 'sched';

/** Virtual cost of one step (interrupt point), ns: a tick at HZ 1000 is 1000 steps. */
export const STEP_NS = 1000;

export const MODE_RANDOM = 1;
export const MODE_PCT = 2;
/** Follow a recorded list of decisions (irqwork replay). */
export const MODE_REPLAY = 3;

/** Flag: replay leniently: a decision that cannot be taken is replaced, not a divergence (shrink). */
export const FLAG_LENIENT = 1;
/** Flag: the run ends at its first finding. */
export const FLAG_STOP_ON_FIRST = 2;

export const STATE_RUNNABLE = 0;
export const STATE_BLOCKED = 1;
export const STATE_EXITED = 2;

/** How the schedule ended the run (END word). */
export const END_NONE = 0;
/** Quiescing found the machine quiet: STOP. */
export const END_DRAINED = 1;
/** Quiescing ran out of steps: STOP, not drained. */
export const END_NOT_DRAINED = 2;
/** Every CPU slept with no timer left and work was still left: STOP, not drained. */
export const END_ASLEEP = 3;

/** Why a controlled run that stopped did not drain, for its liveness finding. */
export function notDrainedWhy(end: number): string {
  return end === END_ASLEEP
    ? 'every CPU sleeps with no timer left, and works are still claimed or lists not empty (lost IPIs or wake-ups)'
    : 'quiescing ran out of drain steps: works still claimed or lists not empty';
}

/** The schedule let go (aborted, or CPUs nothing will wake): every CPU runs freely. */
export const TURN_RELEASED = -1;

const HEADER_WORDS = 64;
export const H = {
  MODE: 0,
  FLAGS: 1,
  SWITCHES: 2,
  TURN: 3,
  STEP_F64: 4,
  VTIME_F64: 6,
  DIGEST_A: 8,
  DIGEST_B: 9,
  SEED: 10,
  /** Random mode: chance of a switch per point, in parts per 2^32 (unsigned). */
  SWITCH_CHANCE: 11,
  /** The step at which the workload stops (the budget). */
  END_STEP: 12,
  /** The step at which quiescing began; -1 before. */
  QUIESCE_STEP: 13,
  /** Steps quiescing may take. */
  DRAIN_STEPS: 14,
  END: 15,
  /** Replay: the first step at which the recorded decisions could not be followed; -1: none. */
  DIVERGED_AT: 17,
  NDECISIONS: 18,
  DECISION_CAP: 19,
  /** Replay: the next recorded decision to follow. */
  CURSOR: 20,
  /** The step of the first decision the log had no room for (0: none): a replay of the run
   *  can reach no further than the step before it. */
  OVERFLOW: 21,
  NCHECKPOINTS: 22,
  CHECKPOINT_CAP: 23,
  /** The step at which STOP was set; -1 before. */
  STOP_STEP: 25,
  PCT_NCHANGES: 26,
  PCT_NEXT: 27,
  /** Lowest priority handed out so far (pct: yields go below it). */
  PCT_LOWEST: 28,
  /** Replay: how many recorded decisions there are to follow. */
  NFOLLOW: 29,
  /** Events recorded so far (their global sequence numbers). */
  EVENT_SEQ: 30,
  /** PCT change points (steps), up to MAX_CHANGES. */
  PCT_CHANGES: 32,
} as const;
export const MAX_CHANGES = 16;
export const CHECKPOINT_EVERY = 1024;

const CPU_WORDS = 8;
export const C = { STATE: 0, WAKE_ON_IPI: 1, PRIO: 2, GO: 3, DEADLINE_F64: 4 } as const;

export interface SchedSizes {
  nrCpus: number;
  decisionCap: number;
  checkpointCap: number;
}

function words(s: SchedSizes): { cpus: number; decisions: number; checkpoints: number; total: number } {
  const cpus = HEADER_WORDS;
  const decisions = cpus + s.nrCpus * CPU_WORDS;
  const checkpoints = decisions + s.decisionCap * 4;
  return { cpus, decisions, checkpoints, total: checkpoints + s.checkpointCap * 3 };
}

export function schedRegion(s: SchedSizes): ExtraRegion {
  return { name: SCHED_REGION, words: words(s).total };
}

/** The schedule's words, from a CPU worker or the main thread. */
export class SchedView {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly base: number;
  readonly nrCpus: number;
  private readonly cpusAt: number;
  readonly decisionsAt: number;
  readonly followAt: number;
  readonly checkpointsAt: number;

  constructor(readonly mem: KernelMemory) {
    const region = mem.layout.extra[SCHED_REGION];
    if (!region) throw new Error('shared memory has no sched region');
    // Regions start on a line, so the float64 words of the header are 8-byte aligned.
    if (region.base % WORDS_PER_LINE !== 0) throw new Error('sched region is not line-aligned');
    this.i32 = mem.i32;
    this.f64 = mem.f64;
    this.base = region.base;
    this.nrCpus = mem.cfg.nrCpus;
    const w = words({ nrCpus: this.nrCpus, decisionCap: 0, checkpointCap: 0 });
    this.cpusAt = region.base + w.cpus;
    this.decisionsAt = region.base + w.decisions;
    this.followAt = this.decisionsAt + this.get(H.DECISION_CAP) * 2;
    this.checkpointsAt = this.followAt + this.get(H.DECISION_CAP) * 2;
  }

  /** Main thread, before the run: the sizes the region was made for. */
  static init(mem: KernelMemory, decisionCap: number, checkpointCap: number): SchedView {
    const region = mem.layout.extra[SCHED_REGION]!;
    mem.i32[region.base + H.DECISION_CAP] = decisionCap;
    mem.i32[region.base + H.CHECKPOINT_CAP] = checkpointCap;
    return new SchedView(mem);
  }

  get(h: number): number {
    return this.i32[this.base + h]!;
  }
  set(h: number, v: number): void {
    this.i32[this.base + h] = v;
  }
  getF64(h: number): number {
    return this.f64[(this.base + h) / 2]!;
  }
  setF64(h: number, v: number): void {
    this.f64[(this.base + h) / 2] = v;
  }

  /** Word index of CPU `cpu`'s field. */
  cpuWord(cpu: number, field: number): number {
    return this.cpusAt + cpu * CPU_WORDS + field;
  }
  deadline(cpu: number): number {
    return this.f64[this.cpuWord(cpu, C.DEADLINE_F64) / 2]!;
  }
  setDeadline(cpu: number, ns: number): void {
    this.f64[this.cpuWord(cpu, C.DEADLINE_F64) / 2] = ns;
  }

  decisions(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const n = this.get(H.NDECISIONS);
    for (let i = 0; i < n; i++) out.push([this.i32[this.decisionsAt + 2 * i]!, this.i32[this.decisionsAt + 2 * i + 1]!]);
    return out;
  }

  checkpoints(): Array<[number, string]> {
    const out: Array<[number, string]> = [];
    const n = this.get(H.NCHECKPOINTS);
    for (let i = 0; i < n; i++) {
      const at = this.checkpointsAt + 3 * i;
      out.push([this.i32[at]!, digestHex(this.i32[at + 1]!, this.i32[at + 2]!)]);
    }
    return out;
  }

  digest(): string {
    return digestHex(this.get(H.DIGEST_A), this.get(H.DIGEST_B));
  }
}

/** The digest's two 32-bit lanes as 16 hex digits. */
export function digestHex(a: number, b: number): string {
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** What a controlled run's schedule did, read after the run. */
export interface ScheduleOutcome {
  /** Steps taken, workload and quiescing. */
  steps: number;
  switches: number;
  digest: string;
  /** Every change of turn, (step, cpu); the first names who started. */
  decisions: Array<[number, number]>;
  /** The step of the first decision the log had no room for; null if it kept them all. */
  overflowAt: number | null;
  /** (step, digest) every CHECKPOINT_EVERY steps. */
  checkpoints: Array<[number, string]>;
  /** Replay: the first step at which the recorded decisions could not be followed; null if none. */
  divergedAt: number | null;
  /** Virtual time at the end, ns. */
  virtualNs: number;
}

export function scheduleOutcome(mem: KernelMemory): ScheduleOutcome {
  const v = new SchedView(mem);
  const diverged = v.get(H.DIVERGED_AT);
  return {
    steps: v.getF64(H.STEP_F64),
    switches: v.get(H.SWITCHES),
    digest: v.digest(),
    decisions: v.decisions(),
    overflowAt: v.get(H.OVERFLOW) === 0 ? null : v.get(H.OVERFLOW),
    checkpoints: v.checkpoints(),
    divergedAt: diverged < 0 ? null : diverged,
    virtualNs: v.getF64(H.VTIME_F64),
  };
}
