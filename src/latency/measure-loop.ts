/**
 * The measuring loop of one CPU, in task context: every `intervalNs`, for each class, queue the
 * CPU's work of that class (locally, or on the next CPU for remote classes) — but only once the
 * previous measurement of that class has finished (one outstanding per class; a class that is
 * still busy at its turn skips the period, as a late cyclictest thread does). With `separateLazy`
 * (the default), also only in the class's windows (classes.ts: the lazy class is measured apart)
 * and never while a work whose list it would share is still pending (a safety net for windows the
 * OS stretched).
 *
 * Between turns the CPU either spins through interrupt points (`busy`: a running task, so an IPI
 * is taken at the next interrupt point) or idles (`idle`: CpuRuntime.idle, Atomics.wait with the
 * tick stopped when irq_work_needs_cpu() allows — NO_HZ). Every CPU has a turn per class slot
 * (five, on RT and non-RT alike), and the turns of all CPUs are spread evenly over the interval,
 * so two measurements rarely share an IPI.
 *
 * A class whose callback waits for the tick (LatencyClass.waitsForTick) is the exception: its next
 * turn comes at a random moment, max(interval, tick) plus a seeded uniform draw over one tick
 * after the previous turn. The gap is at least a tick, so the previous sample has run by then (a
 * LAZY work waits for one tick at most) and the turn is not skipped; and the draw spans a whole
 * tick, so the turn's phase against the tick is uniform and independent of the last sample — the
 * distribution a LAZY work queued at a random moment has. On a fixed interval shorter than a tick,
 * a turn could only succeed right after the tick that ran the previous sample, and every sample
 * would wait almost a whole tick.
 */
import type { CpuRuntime } from '../cpu/runtime.js';
import type { Random } from '../util/random.js';
import { tickPeriodNs } from '../kernel/config.js';
import { classById, LATENCY_CLASSES, LAZY_GUARD_TICKS, WINDOW_TICKS, type LatencyClass } from './classes.js';
import { classWork } from './pool.js';

export type TargetMode = 'busy' | 'idle';

export interface MeasurePlan {
  classes: readonly LatencyClass[];
  intervalNs: number;
  mode: TargetMode;
  /** Windows and lazy_list blockers on (see classes.ts); off, every class is queued at its turn. */
  separateLazy: boolean;
  /** Seeded stream of this CPU for the random turns of tick-waiting classes. */
  rng: Random;
}

/** Interrupt points passed between two looks at the clock while spinning. */
const SPIN_POINTS = 32;

/** Works that must be idle before `c` is queued by `cpu`: those it would share lazy_list with. */
function blockersOf(rt: CpuRuntime, c: LatencyClass, target: number, previous: number): number[] {
  const work = (cpu: number, id: LatencyClass['id']) => classWork(rt.mem, cpu, classById(id).slot);
  switch (c.id) {
    case 'localLazy':
      return [work(rt.id, 'localHard'), work(rt.id, 'localThreaded'), ...(previous !== rt.id ? [work(previous, 'remoteThreaded')] : [])];
    case 'localHard':
    case 'localThreaded':
      return [work(rt.id, 'localLazy')];
    case 'remoteThreaded':
      return [work(target, 'localLazy')];
    case 'remoteHard':
      return [];
  }
}

/** Measures until `running()` turns false (the run leaves RUNNING). */
export function runMeasureLoop(rt: CpuRuntime, running: () => boolean, plan: MeasurePlan): void {
  const { k, cpu } = rt;
  const nrCpus = rt.mem.cfg.nrCpus;
  const target = (rt.id + 1) % nrCpus;
  const previous = (rt.id + nrCpus - 1) % nrCpus;
  const tickNs = tickPeriodNs(rt.mem.cfg);
  const windowNs = WINDOW_TICKS * tickNs;
  const lazyGuardNs = LAZY_GUARD_TICKS * tickNs;
  // One turn per class slot, measured in this run or not: the CPU wakes at the same times on RT
  // and non-RT, so that both idle equally long between turns (how deep a CPU has gone idle shows
  // in the latency of what it does next).
  const turns = LATENCY_CLASSES;
  const m = turns.length;
  const measured = turns.map((c) => plan.classes.some((p) => p.id === c.id));
  const works = turns.map((c) => classWork(rt.mem, rt.id, c.slot));
  const remote = turns.map((c) => c.remote);
  const windows = turns.map((c) => c.window);
  const blockers = turns.map((c) => blockersOf(rt, c, target, previous));
  const randomTurn = turns.map((c) => c.waitsForTick);
  const randomGapNs = Math.max(plan.intervalNs, tickNs);
  const due = new Float64Array(m);
  const startNs = cpu.nowNs();
  for (let j = 0; j < m; j++) due[j] = startNs + ((j * nrCpus + rt.id) / (nrCpus * m)) * plan.intervalNs;

  const mayQueue = (j: number, now: number): boolean => {
    if (!measured[j]) return false;
    if (!plan.separateLazy) return !k.irqWorkIsBusy(works[j]!);
    const window = windows[j];
    if (window !== 'any') {
      const inLazyWindow = Math.floor(now / windowNs) % 2 === 0;
      if (window === 'main' && inLazyWindow) return false;
      if (window === 'lazy' && (!inLazyWindow || windowNs - (now % windowNs) < lazyGuardNs)) return false;
    }
    if (k.irqWorkIsBusy(works[j]!)) return false;
    for (const w of blockers[j]!) if (k.irqWorkIsBusy(w)) return false;
    return true;
  };

  while (running()) {
    let nextDueNs = Infinity;
    for (let j = 0; j < m; j++) {
      const now = cpu.nowNs();
      if (now >= due[j]!) {
        if (mayQueue(j, now)) {
          if (remote[j]) k.irqWorkQueueOn(works[j]!, target);
          else k.irqWorkQueue(works[j]!);
          // The interrupt an IPI raises is taken right after the instruction that raised it.
          rt.interruptPoint();
        }
        if (randomTurn[j]) due[j] = now + randomGapNs + plan.rng.next() * tickNs;
        else while (due[j]! <= now) due[j]! += plan.intervalNs;
      }
      if (due[j]! < nextDueNs) nextDueNs = due[j]!;
    }
    if (plan.mode === 'idle') {
      rt.idle(() => !running(), nextDueNs);
    } else {
      while (running()) {
        for (let i = 0; i < SPIN_POINTS; i++) rt.interruptPoint();
        if (cpu.nowNs() >= nextDueNs) break;
      }
    }
  }
}
