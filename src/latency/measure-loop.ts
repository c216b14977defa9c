/**
 * The measuring loop of one CPU, in task context: every `intervalNs`, for each class, queue the
 * CPU's work of that class (locally, or on the next CPU for remote classes) — but only once the
 * previous measurement of that class has finished (one outstanding per class; a class that is
 * still busy at its turn skips the period, as a late cyclictest thread does).
 *
 * Between turns the CPU either spins through interrupt points (`busy`: a running task, so an IPI
 * is taken at the next interrupt point) or idles (`idle`: CpuRuntime.idle, Atomics.wait with the
 * tick stopped when irq_work_needs_cpu() allows — NO_HZ). The turns of all classes on all CPUs are
 * spread evenly over the interval, so two measurements rarely share an IPI.
 */
import { PHASE_RUNNING, readPhase } from '../cpu/phase.js';
import type { CpuRuntime } from '../cpu/runtime.js';
import type { LatencyClass } from './classes.js';
import { classWork } from './pool.js';

export type TargetMode = 'busy' | 'idle';

export interface MeasurePlan {
  classes: readonly LatencyClass[];
  intervalNs: number;
  mode: TargetMode;
}

/** Interrupt points passed between two looks at the clock while spinning. */
const SPIN_POINTS = 32;

export function runMeasureLoop(rt: CpuRuntime, plan: MeasurePlan): void {
  const { k, cpu, i32 } = rt;
  const nrCpus = rt.mem.cfg.nrCpus;
  const target = (rt.id + 1) % nrCpus;
  const m = plan.classes.length;
  const works = plan.classes.map((c) => classWork(rt.mem, rt.id, c.slot));
  const remote = plan.classes.map((c) => c.remote);
  const due = new Float64Array(m);
  const startNs = cpu.nowNs();
  for (let j = 0; j < m; j++) due[j] = startNs + ((j * nrCpus + rt.id) / (nrCpus * m)) * plan.intervalNs;

  while (readPhase(i32) === PHASE_RUNNING) {
    let nextDueNs = Infinity;
    for (let j = 0; j < m; j++) {
      const now = cpu.nowNs();
      if (now >= due[j]!) {
        const work = works[j]!;
        if (!k.irqWorkIsBusy(work)) {
          if (remote[j]) k.irqWorkQueueOn(work, target);
          else k.irqWorkQueue(work);
          // The interrupt an IPI raises is taken right after the instruction that raised it.
          rt.interruptPoint();
        }
        while (due[j]! <= now) due[j]! += plan.intervalNs;
      }
      if (due[j]! < nextDueNs) nextDueNs = due[j]!;
    }
    if (plan.mode === 'idle') {
      rt.idle(() => readPhase(i32) !== PHASE_RUNNING, nextDueNs);
    } else {
      while (readPhase(i32) === PHASE_RUNNING) {
        for (let i = 0; i < SPIN_POINTS; i++) rt.interruptPoint();
        if (cpu.nowNs() >= nextDueNs) break;
      }
    }
  }
}
