/**
 * liveness, checked from the main thread (it needs a view of every CPU): no work stays pending on
 * a list while the CPU that should run it keeps running, and no work stays BUSY with nothing
 * running it (an irq_work_sync on it would never return).
 *
 * Time is measured in the target CPU's own progress (ticks it took), not wall time: with more
 * simulated CPUs than cores the OS deschedules workers, just as a hypervisor preempts vCPUs.
 * One case needs no clock at all: a CPU asleep in idle with its tick stopped and no IPI latched
 * sleeps until someone sends one, so a work on its list then is stranded (lost IPI); we only wait
 * `idlePendingMs` to let a sender that is between its list add and its IPI finish.
 * Reported with a state dump, like the kernel's csd-lock and soft-lockup detectors.
 *
 * Each scan also looks for hung tasks (race/hung-task.ts): a task asleep in irq_work_sync that
 * nothing will wake, when the run records what its tasks wait for.
 */
import { IRQ_WORK_BUSY, IRQ_WORK_PENDING } from '../kernel/flags.js';
import {
  CPU_BLOCK_WORDS,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_TICKS,
  CPU_TICK_STOPPED,
  W_CLAIMED,
  W_FLAGS,
} from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { S_INFLIGHT, S_LINKED, ShadowView } from '../checks/shadow-layout.js';
import { DEFAULT_HUNG_TASK, HungTaskScanner, type HungTaskLimits } from './hung-task.js';

export interface LivenessLimits {
  /** Ticks of the target CPU a work may stay pending on its list. */
  pendingTicks: number;
  /** Wall time a work may stay pending on the list of a CPU asleep with its tick stopped and no IPI latched. */
  idlePendingMs: number;
  /** Scans in a row that must see a work BUSY with nothing running it. */
  stuckBusyScans: number;
  /** Hung tasks (DEFAULT_HUNG_TASK when not given). */
  hungTask?: HungTaskLimits;
}

export const DEFAULT_LIVENESS: LivenessLimits = { pendingTicks: 200, idlePendingMs: 300, stuckBusyScans: 3, hungTask: DEFAULT_HUNG_TASK };

interface Seen {
  claim: number;
  owner: number;
  ticks0: number;
  idleSinceMs: number;
  busyScans: number;
}

export interface LivenessFinding {
  cpu: number;
  work: number;
  message: string;
  /** A hung task on `cpu` (its history is that CPU's trace), not a stuck work. */
  hungTask?: true;
}

export class LivenessScanner {
  private readonly seen = new Map<number, Seen>();
  private readonly reported = new Set<number>();
  private readonly shadow: ShadowView;
  private readonly hungTasks: HungTaskScanner | undefined;

  constructor(
    private readonly mem: KernelMemory,
    private readonly limits: LivenessLimits = DEFAULT_LIVENESS,
  ) {
    this.shadow = new ShadowView(mem);
    this.hungTasks = HungTaskScanner.find(mem, this.shadow, limits.hungTask ?? DEFAULT_HUNG_TASK);
  }

  /** One scan over every work; returns new findings (each work is reported once). */
  scan(nowMs: number): LivenessFinding[] {
    const { mem, limits, shadow } = this;
    const i32 = mem.i32;
    const out: LivenessFinding[] = [];
    for (let w = 1; w < mem.layout.nrNodes; w++) {
      if (this.reported.has(w)) continue;
      const n = mem.node(w);
      const flags = Atomics.load(i32, n + W_FLAGS);
      const claim = Atomics.load(i32, n + W_CLAIMED);
      if (!(flags & IRQ_WORK_BUSY)) {
        this.seen.delete(w);
        continue;
      }
      const sh = shadow.line(w);
      // The list the node was published on (not merely about to be: see S_LINKED).
      const owner = Atomics.load(i32, sh + S_LINKED);
      let s = this.seen.get(w);
      if (!s || s.claim !== claim || s.owner !== owner) {
        s = { claim, owner, ticks0: owner ? this.ticksOf(owner) : 0, idleSinceMs: -1, busyScans: 0 };
        this.seen.set(w, s);
      }
      if (flags & IRQ_WORK_PENDING) {
        if (!owner) continue; // claimed, not linked yet, or taken off its list and about to run
        const cpu = this.cpuOf(owner);
        const ticks = this.ticksOf(owner) - s.ticks0;
        const b = mem.cpuBase(cpu);
        const asleepForGood =
          Atomics.load(i32, b + CPU_IDLE_POLLING) !== 0 &&
          Atomics.load(i32, b + CPU_TICK_STOPPED) !== 0 &&
          Atomics.load(i32, b + CPU_IPI_PENDING) === 0;
        if (asleepForGood) {
          if (s.idleSinceMs < 0) s.idleSinceMs = nowMs;
        } else s.idleSinceMs = -1;
        if (ticks >= limits.pendingTicks) {
          out.push(this.finding(w, cpu, `work ${w} pending on ${mem.describeHead(owner)} for ${ticks} ticks of cpu${cpu} (lost IPI or wake-up?)`));
        } else if (s.idleSinceMs >= 0 && nowMs - s.idleSinceMs >= limits.idlePendingMs) {
          out.push(this.finding(w, cpu, `work ${w} pending on ${mem.describeHead(owner)} for ${Math.round(nowMs - s.idleSinceMs)} ms while cpu${cpu} sleeps in idle, tick stopped, no IPI sent (lost IPI)`));
        }
      } else if (Atomics.load(i32, sh + S_INFLIGHT) === 0) {
        // BUSY without PENDING and no execution in flight: nobody will ever clear BUSY.
        if (++s.busyScans >= limits.stuckBusyScans) {
          out.push(this.finding(w, -1, `work ${w} stays BUSY with no execution in flight: irq_work_sync on it never returns`));
        }
      } else s.busyScans = 0;
    }
    if (this.hungTasks) {
      for (const f of this.hungTasks.scan(nowMs)) out.push({ cpu: f.cpu, work: f.work, message: f.message, hungTask: true });
    }
    return out;
  }

  private finding(work: number, cpu: number, message: string): LivenessFinding {
    this.reported.add(work);
    return { cpu, work, message };
  }

  private cpuOf(headWord: number): number {
    return Math.floor((headWord - this.mem.layout.cpuBase) / CPU_BLOCK_WORDS);
  }

  private ticksOf(headWord: number): number {
    return this.mem.i32[this.mem.cpuBase(this.cpuOf(headWord)) + CPU_TICKS]!;
  }
}
