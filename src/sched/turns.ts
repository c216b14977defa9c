/**
 * One CPU's side of a controlled schedule: the same worker threads run the same model on the same
 * shared memory, but only the CPU holding the turn runs; at each scheduling point it decides, by
 * the strategy whose state lies in the sched region, who runs next, and hands the turn over only
 * when that is another CPU (a seq-cst store to the next holder's GO word and a notify; then it
 * waits on its own). No main-thread round trip per decision.
 *
 * Virtual time: each step costs STEP_NS; when no CPU can run, time jumps to the earliest deadline
 * of a blocked CPU (its tick, the end of a sleep or stall), as in a discrete-event simulator. No
 * wall-clock reading decides anything; a wait for the turn only looks at the clock to notice an
 * aborted run.
 *
 * The schedule also ends the run, at fixed steps, so that the end is as deterministic as the rest:
 * after the step budget (or the first finding, with stop-on-first) the workload stops (QUIESCE);
 * when the machine is quiet, or everybody sleeps with no timer left, or the drain steps are spent,
 * the run stops (STOP); CPUs that are still asleep then have tasks nothing will wake, and the
 * schedule lets go (released) for the machine to report them as hung.
 */
import type { CpuScheduler } from '../cpu/scheduling.js';
import { CPU_IPI_PENDING } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { foldDigest, mix32 } from './digest.js';
import {
  C,
  CHECKPOINT_EVERY,
  END_ASLEEP,
  END_DRAINED,
  END_NOT_DRAINED,
  FLAG_LENIENT,
  FLAG_STOP_ON_FIRST,
  H,
  MODE_PCT,
  MODE_RANDOM,
  SchedView,
  STATE_BLOCKED,
  STATE_EXITED,
  STATE_RUNNABLE,
  STEP_NS,
  TURN_RELEASED,
} from './layout.js';

/** What the schedule does to the run around it (machine/boot.ts supplies it). */
export interface RunEnds {
  /** The workload must stop: QUIESCE, every CPU kicked. */
  quiesce(): void;
  /** The run is over: STOP, every CPU kicked. */
  stop(): void;
  /** Every list empty, nothing claimed, every CPU out of the workload. */
  quiet(): boolean;
  /** Findings so far (stop-on-first). */
  findings(): number;
  /** A task of `cpu` is blocked in D: only a wake-up, never its tick, ends that. */
  taskBlocked(cpu: number): boolean;
  aborted(): boolean;
  /** A CPU still ran LOCKUP_STEPS after STOP: report it, and abort the run. */
  lockup(message: string): void;
}

/** How long a CPU waiting for its turn sleeps before it looks for an aborted run, ms. */
const LOOK_MS = 50;
/** The schedule looks at the run's end, checkpoints and pct change points every so many steps. */
const EVENT_MASK = 63;
/** Steps a CPU may go on after STOP before it is called locked up (0.2 s of virtual time: 200 ticks at HZ 1000). */
const LOCKUP_STEPS = 200_000;

/** The most steps a stop-on-first run can take after its first finding (a tenth of both limits). */
export function maxStepsAfterFinding(drainSteps: number): number {
  return Math.ceil(drainSteps / 10) + LOCKUP_STEPS / 10 + 2 * (EVENT_MASK + 1);
}

const K_POINT = 0;
const K_YIELD = 1;
const K_BLOCK = 2;
const K_EXIT = 3;

export class Turns implements CpuScheduler {
  private readonly v: SchedView;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly stepIdx: number;
  private readonly vtimeIdx: number;
  private readonly turnWord: number;
  private readonly goWord: number;
  /** Each CPU's pending-IPI word (a blocked CPU with one latched can run). */
  private readonly pending: number[];
  private readonly n: number;
  private readonly mode: number;
  private readonly seed: number;
  private readonly chance: number;
  private readonly lenient: boolean;
  private readonly stopOnFirst: boolean;
  /** pct: the blocked CPUs above this one when it got the turn (only they can preempt it). */
  private higher: number[] = [];
  /** pct: this CPU's priority changed: look for the highest runnable CPU at the next point. */
  private pctDirty = false;
  private isReleased = false;
  /** This CPU has had its first turn (a CPU aborted before it never touches the schedule). */
  private entered = false;
  /**
   * The step count and virtual time, kept in fields while this CPU holds the turn (they are read
   * at every point) and published to the region when it hands the turn over, and every
   * EVENT_MASK+1 steps for the machine's watchdog.
   */
  private stepNow = 0;
  private vtime = 0;

  constructor(
    mem: KernelMemory,
    readonly me: number,
    private readonly ends: RunEnds,
  ) {
    const v = (this.v = new SchedView(mem));
    this.i32 = v.i32;
    this.f64 = v.f64;
    this.stepIdx = (v.base + H.STEP_F64) / 2;
    this.vtimeIdx = (v.base + H.VTIME_F64) / 2;
    this.turnWord = v.base + H.TURN;
    this.goWord = v.cpuWord(me, C.GO);
    this.n = v.nrCpus;
    this.pending = Array.from({ length: this.n }, (_, cpu) => mem.cpuBase(cpu) + CPU_IPI_PENDING);
    this.mode = v.get(H.MODE);
    this.seed = v.get(H.SEED);
    this.chance = v.get(H.SWITCH_CHANCE) >>> 0;
    this.lenient = (v.get(H.FLAGS) & FLAG_LENIENT) !== 0;
    this.stopOnFirst = (v.get(H.FLAGS) & FLAG_STOP_ON_FIRST) !== 0;
  }

  // ── what the CPU runtime calls ────────────────────────────────────────────────
  point(): void {
    this.schedule(K_POINT);
  }
  relax(): void {
    this.schedule(K_YIELD);
  }
  wait(untilNs: number, wakeOnIpi: boolean): void {
    if (this.isReleased) return;
    // A NaN deadline would make every time jump a no-op that still counts as one: never wake.
    if (Number.isNaN(untilNs)) throw new Error(`cpu${this.me}: a wait until NaN (virtual time ${this.vtime} ns)`);
    const v = this.v;
    this.i32[v.cpuWord(this.me, C.STATE)] = STATE_BLOCKED;
    this.i32[v.cpuWord(this.me, C.WAKE_ON_IPI)] = wakeOnIpi ? 1 : 0;
    v.setDeadline(this.me, untilNs);
    this.schedule(K_BLOCK);
  }
  nowNs(): number {
    return this.vtime;
  }
  released(): boolean {
    return this.isReleased;
  }
  /** The run's digest so far (a finding's `digest`). */
  digest(): string {
    return this.v.digest();
  }
  /** The current step (a finding's `step`). */
  step(): number {
    return this.stepNow;
  }
  /**
   * An event of this CPU (trace ring): folds (step, CPU·context·event, work) into the digest and
   * returns its place in the run. After the schedule let go, events no longer count (0).
   */
  stamp(step: number, head: number, work: number): number {
    if (this.isReleased) return 0;
    const v = this.v;
    foldDigest(v, step);
    foldDigest(v, head);
    foldDigest(v, work);
    const seq = v.get(H.EVENT_SEQ) + 1;
    v.set(H.EVENT_SEQ, seq);
    return seq;
  }

  /** After the start barrier: wait for the first turn. */
  enter(): void {
    this.awaitTurn();
    this.entered = true;
  }

  /** The CPU's program is over: it never runs again; the turn goes on. */
  exit(): void {
    if (this.isReleased || !this.entered) return;
    this.i32[this.v.cpuWord(this.me, C.STATE)] = STATE_EXITED;
    this.schedule(K_EXIT);
  }

  // ── the decision at each point ────────────────────────────────────────────────
  private schedule(kind: number): void {
    if (this.isReleased) return;
    const step = ++this.stepNow;
    this.vtime += STEP_NS;
    if ((step & EVENT_MASK) === 0) {
      this.events(step);
      if (this.isReleased) return;
    }
    let next: number;
    if (kind === K_POINT) next = this.atPoint(step);
    else if (kind === K_YIELD) next = this.atYield(step);
    else next = this.atBlock(step, kind === K_EXIT);
    if (this.isReleased) return;
    if (next !== this.me) this.handTo(next, step, kind === K_EXIT);
    else if (kind === K_EXIT) this.release(); // nobody can ever run again
  }

  private atPoint(step: number): number {
    if (this.mode === MODE_RANDOM) {
      if (mix32(this.seed, step, 1) >= this.chance) return this.me;
      return this.pick(step, false);
    }
    if (this.mode === MODE_PCT) {
      if (this.pctDirty) return this.highestRunnable(true);
      const higher = this.higher;
      for (let i = 0; i < higher.length; i++) if (this.wakeable(higher[i]!)) return this.highestRunnable(true);
      return this.me;
    }
    return this.follow(step, true);
  }

  private atYield(step: number): number {
    if (this.mode === MODE_RANDOM) return this.pick(step, false);
    if (this.mode === MODE_PCT) {
      // A spinner drops below everyone, or it would spin above the CPU it waits for forever.
      const lowest = this.v.get(H.PCT_LOWEST) - 1;
      this.v.set(H.PCT_LOWEST, lowest);
      this.i32[this.v.cpuWord(this.me, C.PRIO)] = lowest;
      return this.highestRunnable(true);
    }
    return this.follow(step, true);
  }

  /** This CPU blocks (or exits): someone else runs; if nobody can, time jumps or the run ends. */
  private atBlock(step: number, exiting: boolean): number {
    const me = this.me;
    if (!exiting && this.wakeable(me)) {
      this.i32[this.v.cpuWord(me, C.STATE)] = STATE_RUNNABLE;
      return me;
    }
    for (;;) {
      const next = this.mode === MODE_RANDOM ? this.pick(step, !exiting) : this.mode === MODE_PCT ? this.highestRunnable(!exiting) : this.follow(step, !exiting);
      if (next >= 0 && (next !== me || !exiting)) {
        if (next === me) this.i32[this.v.cpuWord(me, C.STATE)] = STATE_RUNNABLE;
        return next;
      }
      if (this.timeJump()) continue;
      if (!this.allAsleep(step)) return me;
    }
  }

  /**
   * Random: a uniformly chosen CPU that can run, other than this one (with `withMe`, this one
   * counts only when nobody else can run); this one if none; −1 if not even this one can.
   */
  private pick(step: number, withMe: boolean): number {
    let count = 0;
    for (let c = 0; c < this.n; c++) if (c !== this.me && this.runnable(c)) count++;
    if (count === 0) return withMe ? (this.runnable(this.me) ? this.me : -1) : this.me;
    let k = mix32(this.seed, step, 2) % count;
    for (let c = 0; c < this.n; c++) {
      if (c === this.me || !this.runnable(c)) continue;
      if (k-- === 0) return c;
    }
    return this.me;
  }

  /** pct: the highest-priority CPU that can run (this one only if `withMe`); −1 if none. */
  private highestRunnable(withMe: boolean): number {
    this.pctDirty = false;
    let best = -1;
    let bestPrio = -Infinity;
    for (let c = 0; c < this.n; c++) {
      if (c === this.me && !withMe) continue;
      if (!this.runnable(c)) continue;
      const prio = this.i32[this.v.cpuWord(c, C.PRIO)]!;
      if (prio > bestPrio) {
        bestPrio = prio;
        best = c;
      }
    }
    if (best === this.me) this.findHigher();
    return best;
  }

  /** pct: the blocked CPUs above this one now (only they can preempt it until it hands over). */
  private findHigher(): void {
    const i32 = this.i32;
    const mine = i32[this.v.cpuWord(this.me, C.PRIO)]!;
    this.higher = [];
    for (let c = 0; c < this.n; c++) {
      if (c !== this.me && i32[this.v.cpuWord(c, C.STATE)] === STATE_BLOCKED && i32[this.v.cpuWord(c, C.PRIO)]! > mine) this.higher.push(c);
    }
  }

  /**
   * Replay: the recorded decision at this step, if there is one; otherwise this CPU goes on if it
   * can (`withMe`). A decision that cannot be taken is a divergence: the first is noted, and the
   * lowest-numbered CPU that can run goes on instead (lenient replays continue quietly that way).
   */
  private follow(step: number, withMe: boolean): number {
    const v = this.v;
    const cursor = v.get(H.CURSOR);
    const recorded = cursor < v.get(H.NFOLLOW) ? this.i32[v.followAt + 2 * cursor]! : Infinity;
    const anyone = this.firstRunnable(withMe);
    if (anyone < 0) return -1; // nobody can run before time jumps: the decision waits for that
    if (recorded < step) {
      this.diverged(recorded);
      v.set(H.CURSOR, cursor + 1);
      return this.follow(step, withMe);
    }
    if (recorded === step) {
      v.set(H.CURSOR, cursor + 1);
      const cpu = this.i32[v.followAt + 2 * cursor + 1]!;
      if (cpu >= 0 && cpu < this.n && (cpu === this.me ? withMe && this.runnable(cpu) : this.runnable(cpu))) return cpu;
      this.diverged(step);
      return anyone;
    }
    if (withMe && this.runnable(this.me)) return this.me;
    // The recording switched nowhere here, yet this CPU cannot go on.
    this.diverged(step);
    return anyone;
  }

  private firstRunnable(withMe: boolean): number {
    for (let c = 0; c < this.n; c++) if ((c !== this.me || withMe) && this.runnable(c)) return c;
    return -1;
  }

  private diverged(step: number): void {
    if (this.v.get(H.DIVERGED_AT) < 0 && !this.lenient) this.v.set(H.DIVERGED_AT, step);
  }

  private runnable(cpu: number): boolean {
    const state = this.i32[this.v.cpuWord(cpu, C.STATE)];
    return state === STATE_RUNNABLE || (state === STATE_BLOCKED && this.wakeable(cpu));
  }

  /** A blocked CPU whose timer has come, or (if it waits for one) with an IPI latched. */
  private wakeable(cpu: number): boolean {
    const v = this.v;
    if (this.i32[v.cpuWord(cpu, C.STATE)] !== STATE_BLOCKED) return false;
    if (v.deadline(cpu) <= this.vtime) return true;
    return this.i32[v.cpuWord(cpu, C.WAKE_ON_IPI)] !== 0 && Atomics.load(this.i32, this.pending[cpu]!) !== 0;
  }

  /**
   * Nobody can run: virtual time jumps to the earliest deadline. False if there is none. Once the
   * run has stopped, a CPU whose task is blocked in D waits only for a wake-up: its tick would
   * wake the CPU for ever (with a periodic tick) and never end the task's sleep.
   */
  private timeJump(): boolean {
    const stopped = this.v.get(H.STOP_STEP) >= 0;
    let earliest = Infinity;
    for (let c = 0; c < this.n; c++) {
      if (this.i32[this.v.cpuWord(c, C.STATE)] !== STATE_BLOCKED || (stopped && this.ends.taskBlocked(c))) continue;
      earliest = Math.min(earliest, this.v.deadline(c));
    }
    if (earliest === Infinity) return false;
    this.vtime = Math.max(this.vtime, earliest);
    return true;
  }

  /**
   * Every CPU sleeps with no timer left: the run cannot go on by itself. RUNNING: the workload's
   * tasks are all blocked, so it stops (QUIESCE). QUIESCE: the run stops, drained or not. Already
   * stopped: what still sleeps has a task nothing will wake; the schedule lets go (false).
   */
  private allAsleep(step: number): boolean {
    const v = this.v;
    if (v.get(H.QUIESCE_STEP) < 0) this.beginQuiesce(step);
    else if (v.get(H.STOP_STEP) < 0) this.stop(step, END_ASLEEP);
    else {
      this.release();
      return false;
    }
    return true;
  }

  // ── what happens at fixed steps ───────────────────────────────────────────────
  private events(step: number): void {
    const v = this.v;
    this.publish();
    if (this.ends.aborted()) {
      this.release();
      return;
    }
    if (step % CHECKPOINT_EVERY === 0) {
      const n = v.get(H.NCHECKPOINTS);
      if (n < v.get(H.CHECKPOINT_CAP)) {
        const at = v.checkpointsAt + 3 * n;
        this.i32[at] = step;
        this.i32[at + 1] = v.get(H.DIGEST_A);
        this.i32[at + 2] = v.get(H.DIGEST_B);
        v.set(H.NCHECKPOINTS, n + 1);
      }
    }
    const quiesceStep = v.get(H.QUIESCE_STEP);
    const stopStep = v.get(H.STOP_STEP);
    if (quiesceStep < 0) {
      if (step >= v.get(H.END_STEP) || (this.stopOnFirst && this.ends.findings() > 0)) this.beginQuiesce(step);
    } else if (stopStep < 0) {
      if (this.ends.quiet() || step - quiesceStep >= this.drainSteps()) this.stop(step, END_NOT_DRAINED);
    } else if (step - stopStep > this.lockupSteps()) {
      this.ends.lockup(`soft lockup: cpu${this.me} still runs ${this.lockupSteps()} steps after the run stopped`);
      this.release();
      return;
    }
    if (this.mode === MODE_PCT) {
      const next = v.get(H.PCT_NEXT);
      if (next < v.get(H.PCT_NCHANGES) && step >= v.get(H.PCT_CHANGES + next)) {
        // The i-th change point drops the running CPU to priority depth−1−i: below every initial one.
        this.i32[v.cpuWord(this.me, C.PRIO)] = v.get(H.PCT_NCHANGES) - next;
        v.set(H.PCT_NEXT, next + 1);
        this.pctDirty = true;
      }
    }
  }

  private beginQuiesce(step: number): void {
    this.v.set(H.QUIESCE_STEP, step);
    this.ends.quiesce();
  }

  /** `notDrained`: why, if the machine is not quiet now (END_NOT_DRAINED or END_ASLEEP). */
  private stop(step: number, notDrained: number): void {
    this.v.set(H.STOP_STEP, step);
    this.v.set(H.END, this.ends.quiet() ? END_DRAINED : notDrained);
    this.ends.stop();
  }

  /**
   * Steps quiescing may take. A stop-on-first run that already has its finding only needs the
   * end-of-run checks, not a full drain of what the bug may have broken (a corrupted list can
   * keep a CPU busy for ever): it gets a tenth.
   */
  private drainSteps(): number {
    const steps = this.v.get(H.DRAIN_STEPS);
    return this.stopOnFirst && this.ends.findings() > 0 ? Math.ceil(steps / 10) : steps;
  }

  private lockupSteps(): number {
    return this.stopOnFirst && this.ends.findings() > 0 ? LOCKUP_STEPS / 10 : LOCKUP_STEPS;
  }

  // ── handing the turn over ─────────────────────────────────────────────────────
  private handTo(next: number, step: number, exiting: boolean): void {
    const v = this.v;
    const i32 = this.i32;
    const n = v.get(H.NDECISIONS);
    if (n < v.get(H.DECISION_CAP)) {
      i32[v.decisionsAt + 2 * n] = step;
      i32[v.decisionsAt + 2 * n + 1] = next;
      v.set(H.NDECISIONS, n + 1);
    } else if (v.get(H.OVERFLOW) === 0) v.set(H.OVERFLOW, step);
    v.set(H.SWITCHES, v.get(H.SWITCHES) + 1);
    foldDigest(v, 0x7e000000 | next);
    this.publish();
    i32[v.cpuWord(next, C.STATE)] = STATE_RUNNABLE;
    Atomics.store(i32, this.turnWord, next);
    Atomics.store(i32, this.goWord, 0);
    const go = v.cpuWord(next, C.GO);
    Atomics.store(i32, go, 1);
    Atomics.notify(i32, go);
    if (!exiting) this.awaitTurn();
  }

  private awaitTurn(): void {
    const i32 = this.i32;
    while (Atomics.load(i32, this.goWord) === 0) {
      if (Atomics.load(i32, this.turnWord) === TURN_RELEASED || this.ends.aborted()) {
        this.isReleased = true;
        return;
      }
      Atomics.wait(i32, this.goWord, 0, LOOK_MS);
    }
    if (Atomics.load(i32, this.turnWord) === TURN_RELEASED) {
      this.isReleased = true;
      return;
    }
    this.stepNow = this.f64[this.stepIdx]!;
    this.vtime = this.f64[this.vtimeIdx]!;
    if (this.mode === MODE_PCT) this.findHigher();
  }

  /** The step count and virtual time into the region (plain: the turn orders them, see layout.ts). */
  private publish(): void {
    this.f64[this.stepIdx] = this.stepNow;
    this.f64[this.vtimeIdx] = this.vtime;
  }

  /** Let go: every CPU runs and waits in real time from now on (see CpuScheduler.released). */
  private release(): void {
    if (!this.isReleased) this.publish();
    this.isReleased = true;
    const i32 = this.i32;
    Atomics.store(i32, this.turnWord, TURN_RELEASED);
    for (let c = 0; c < this.n; c++) Atomics.notify(i32, this.v.cpuWord(c, C.GO));
  }
}
