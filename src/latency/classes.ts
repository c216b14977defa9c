/**
 * The latency classes (docs/LATENCY.md): which kind of work is queued how, and which path it takes to
 * its callback. Each measuring CPU owns one work per class (one outstanding measurement per class,
 * like cyclictest's one measurement per period).
 *
 * How non-RT is classified: without PREEMPT_RT a plain work takes exactly the path of a HARD_IRQ
 * work (raised_list + self-IPI locally, call_single_queue + IPI remotely, run in hardirq), so the
 * two "threaded" classes do not exist there and are not measured; the hard classes are measured
 * with the same HARD_IRQ works on both configs. When RT is compared with non-RT, a threaded class
 * is set against the hard class of the same locality: that is where the same plain work runs on a
 * non-RT kernel, so the ratio is what the RT change costs a plain work.
 *
 * The lazy class is measured in windows of its own. A pending LAZY work shares lazy_list with the
 * others: every irq_work self-IPI runs it early (non-RT) or hands it to irq_workd early (RT), and on
 * RT a plain work queued behind it finds the list non-empty and raises nothing (it waits for the
 * tick — a known, accepted property of the merged code). Measured together, each class would
 * show the other's path. So time is cut into windows of WINDOW_TICKS ticks on the shared clock:
 * even windows measure `lazy`-window classes, odd ones `main`-window classes; `any` runs in both.
 */
import { IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY } from '../kernel/flags.js';

export type LatencyClassId = 'localHard' | 'localLazy' | 'localThreaded' | 'remoteHard' | 'remoteThreaded';

export interface LatencyClass {
  id: LatencyClassId;
  /** Index of the class's work and histogram in the per-CPU blocks (fixed, config-independent). */
  slot: number;
  /** Human name, as printed. */
  name: string;
  /** Queued with irq_work_queue_on() on the next CPU (else irq_work_queue() on the own CPU). */
  remote: boolean;
  /** The work's flag bits (IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY or none). */
  flags: number;
  /** Only PREEMPT_RT has this class. */
  rtOnly: boolean;
  /** The non-RT class a plain work of this class falls into (for RT / non-RT ratios). */
  nonRtCounterpart: LatencyClassId;
  /** Which windows the class is measured in (see above). */
  window: 'lazy' | 'main' | 'any';
  /**
   * The callback waits for the tick (a LAZY work). Its samples must not be phase-locked to the
   * tick: a sample can only be queued once the previous one ran — right after a tick — so on a
   * fixed interval every sample would start just after a tick and wait almost a whole one. Its
   * queue moments are drawn at random instead (measure-loop.ts).
   */
  waitsForTick: boolean;
}

/** Length of a measuring window, in ticks. */
export const WINDOW_TICKS = 5;
/** A LAZY work is queued only this many ticks or more before its window ends, so it runs inside it. */
export const LAZY_GUARD_TICKS = 2;

export const LATENCY_CLASSES: readonly LatencyClass[] = [
  { id: 'localHard', slot: 0, name: 'local hard', remote: false, flags: IRQ_WORK_HARD_IRQ, rtOnly: false, nonRtCounterpart: 'localHard', window: 'main', waitsForTick: false },
  { id: 'localLazy', slot: 1, name: 'local lazy', remote: false, flags: IRQ_WORK_LAZY, rtOnly: false, nonRtCounterpart: 'localLazy', window: 'lazy', waitsForTick: true },
  { id: 'localThreaded', slot: 2, name: 'local threaded', remote: false, flags: 0, rtOnly: true, nonRtCounterpart: 'localHard', window: 'main', waitsForTick: false },
  // The remote IPI's handler runs only call_single_queue, never lazy_list: no conflict.
  { id: 'remoteHard', slot: 3, name: 'remote hard', remote: true, flags: IRQ_WORK_HARD_IRQ, rtOnly: false, nonRtCounterpart: 'remoteHard', window: 'any', waitsForTick: false },
  { id: 'remoteThreaded', slot: 4, name: 'remote threaded', remote: true, flags: 0, rtOnly: true, nonRtCounterpart: 'remoteHard', window: 'main', waitsForTick: false },
];

/** Number of class slots per CPU (histograms, works). */
export const NR_CLASS_SLOTS = LATENCY_CLASSES.length;

/** Classes measured on a configuration; the remote ones need a second CPU. */
export function classesFor(preemptRt: boolean, nrCpus: number): LatencyClass[] {
  return LATENCY_CLASSES.filter((c) => (preemptRt || !c.rtOnly) && (nrCpus > 1 || !c.remote));
}

export function classById(id: LatencyClassId): LatencyClass {
  return LATENCY_CLASSES.find((c) => c.id === id)!;
}

/** The path from queue call to callback, in kernel terms. */
export function classPath(c: LatencyClass, preemptRt: boolean): string {
  switch (c.id) {
    case 'localHard':
      return 'irq_work_queue(HARD_IRQ) → raised_list → self-IPI → hardirq';
    case 'localLazy':
      return preemptRt
        ? 'irq_work_queue(LAZY) → lazy_list → tick → wake irq_workd → irq_workd'
        : 'irq_work_queue(LAZY) → lazy_list → tick (hardirq)';
    case 'localThreaded':
      return 'irq_work_queue(plain) → lazy_list → self-IPI → wake irq_workd → irq_workd';
    case 'remoteHard':
      return 'irq_work_queue_on(HARD_IRQ, next cpu) → call_single_queue → IPI → hardirq';
    case 'remoteThreaded':
      return 'irq_work_queue_on(plain, next cpu) → remote lazy_list + wakeup work → IPI → irq_workd';
  }
}

/** Whether the callback runs in irq_workd (SCHED_FIFO 1) rather than hardirq. */
export function runsInThread(c: LatencyClass, preemptRt: boolean): boolean {
  return preemptRt && c.flags !== IRQ_WORK_HARD_IRQ;
}

/** cyclictest's P: column — the priority of the context the callback runs in (hardirq: 99). */
export function classPriority(c: LatencyClass, preemptRt: boolean): number {
  return runsInThread(c, preemptRt) ? 1 : 99;
}
