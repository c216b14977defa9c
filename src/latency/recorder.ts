/**
 * The sample, as two kernel hooks. At a successful claim of a measured work (the `claim` hook,
 * which runs before the work is put on a list), the claiming CPU stamps the clock into the
 * latency region. At irq_work_single()'s entry (the `singleStart` hook, before PENDING is cleared,
 * so the stamp still belongs to the claim that queued this run), the CPU that runs the callback
 * reads the clock, subtracts the stamp and records the difference into its own histogram of the
 * work's class.
 *
 * Hot path: a clock read, a few loads and LatencyHistogram.record — no allocation. The stamp was
 * written before the llist_add() that published the work, and we read it after the llist_del_all()
 * that took it, so the list's seq-cst exchange orders the two. Other works (wakeup works, the
 * queue-cost batches) are neither stamped nor recorded.
 */
import type { Clock } from '../cpu/clock.js';
import { NO_HOOKS, type KernelHooks } from '../kernel/hooks.js';
import type { KernelMemory } from '../kernel/memory.js';
import type { LatencyHistogram } from '../stats/histogram.js';
import { NR_CLASS_SLOTS } from './classes.js';
import type { LatencyView } from './layout.js';
import { classWork } from './pool.js';

export function latencyRecorder(mem: KernelMemory, view: LatencyView, cpu: number, clock: Clock): KernelHooks {
  const f64 = mem.f64;
  const firstWork = classWork(mem, 0, 0);
  const measuredWorks = mem.cfg.nrCpus * NR_CLASS_SLOTS;
  const histograms: LatencyHistogram[] = [];
  for (let slot = 0; slot < NR_CLASS_SLOTS; slot++) histograms.push(view.classHistogram(cpu, slot));
  const actBase = view.actIndex(cpu, 0);
  const stampBase = view.stampIndex;

  const claim = (_cpu: number, work: number, ok: boolean): void => {
    const index = work - firstWork;
    if (!ok || index < 0 || index >= measuredWorks) return;
    f64[stampBase + index] = clock();
  };

  const singleStart = (_cpu: number, work: number): void => {
    const nowNs = clock();
    const index = work - firstWork;
    // Wakeup works and queue-cost works are not measured.
    if (index < 0 || index >= measuredWorks) return;
    const stampNs = f64[stampBase + index]!;
    // Claims made during the warm-up (cold JIT) are not recorded.
    if (stampNs < view.recordFromNs) return;
    const slot = index % NR_CLASS_SLOTS;
    const latencyNs = nowNs - stampNs;
    histograms[slot]!.record(latencyNs);
    f64[actBase + slot] = latencyNs;
  };
  return { ...NO_HOOKS, claim, singleStart };
}
