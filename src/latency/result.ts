/**
 * What a latency run yields: per class, each CPU's histogram (of the callbacks that ran on that
 * CPU) and their merge; the queue-cost histograms merged over the CPUs; and the JSON shape of it.
 */
import { LatencyHistogram, summarize, type LatencySummary } from '../stats/histogram.js';
import { classPath, type LatencyClass, type LatencyClassId } from './classes.js';
import { COST_CLAIM_OK, COST_FLOOR, COST_PENDING, type LatencyView } from './layout.js';
import type { LatencyOptions } from './options.js';

export interface CpuClassResult {
  cpu: number;
  /** The worker thread's id (cyclictest's tid column). */
  tid: number;
  histogram: LatencyHistogram;
  /** The last latency recorded (cyclictest's Act), ns. */
  actNs: number;
}

export interface ClassResult {
  cls: LatencyClass;
  path: string;
  perCpu: CpuClassResult[];
  all: LatencyHistogram;
}

export interface QueueCost {
  floor: LatencyHistogram;
  claimOk: LatencyHistogram;
  pending: LatencyHistogram;
}

export interface LatencyRun {
  options: LatencyOptions;
  classes: ClassResult[];
  queueCost: QueueCost;
  warnings: Array<{ cpu: number; what: string }>;
  maxClockSkewNs: number;
  /** Measured time (after the warm-up), ms. */
  runMs: number;
}

/** A histogram on private (non-shared) storage. */
export function emptyHistogram(): LatencyHistogram {
  return new LatencyHistogram(new Float64Array(LatencyHistogram.storageLength()));
}

export function mergeAll(histograms: readonly LatencyHistogram[]): LatencyHistogram {
  const out = emptyHistogram();
  for (const h of histograms) out.mergeFrom(h);
  return out;
}

/** Reads a finished run's results out of the shared memory. */
export function collectRun(
  view: LatencyView,
  options: LatencyOptions,
  classes: readonly LatencyClass[],
  extra: Omit<LatencyRun, 'options' | 'classes' | 'queueCost'>,
): LatencyRun {
  const cpus = Array.from({ length: options.cpus }, (_, cpu) => cpu);
  const tids = cpus.map((cpu) => view.i32[view.threadIdWord(cpu)]!);
  const classResults = classes.map((cls) => {
    const perCpu = cpus.map((cpu) => ({
      cpu,
      tid: tids[cpu]!,
      histogram: view.classHistogram(cpu, cls.slot),
      actNs: view.f64[view.actIndex(cpu, cls.slot)]!,
    }));
    return { cls, path: classPath(cls, options.preemptRt), perCpu, all: mergeAll(perCpu.map((p) => p.histogram)) };
  });
  const cost = (kind: number) => mergeAll(cpus.map((cpu) => view.costHistogram(cpu, kind)));
  return {
    options,
    classes: classResults,
    queueCost: { floor: cost(COST_FLOOR), claimOk: cost(COST_CLAIM_OK), pending: cost(COST_PENDING) },
    ...extra,
  };
}

export function classResult(run: LatencyRun, id: LatencyClassId): ClassResult | undefined {
  return run.classes.find((c) => c.cls.id === id);
}

// ── JSON ──────────────────────────────────────────────────────────────────────

export interface BucketJson {
  fromNs: number;
  toNs: number;
  count: number;
}

export type SummaryJson = LatencySummary & { buckets: BucketJson[] };

/** count, min, avg, max, p50, p90, p99, p999 in µs, plus the non-empty log-linear buckets (ns). */
export function summaryJson(h: LatencyHistogram): SummaryJson {
  return { ...roundSummary(summarize(h)), buckets: h.buckets() };
}

/** µs to the ns, so JSON stays readable. */
export function roundSummary(s: LatencySummary): LatencySummary {
  const r = (us: number) => Math.round(us * 1000) / 1000;
  return { count: s.count, min: r(s.min), avg: r(s.avg), max: r(s.max), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), p999: r(s.p999) };
}

/** Median ns per call of each queue-cost kind. */
export function queueCostJson(c: QueueCost): Record<string, number> {
  const p50 = (h: LatencyHistogram) => Math.round(h.percentile(50) * 10) / 10;
  return { floorNs: p50(c.floor), claimOkNs: p50(c.claimOk), pendingNs: p50(c.pending), batches: c.floor.count };
}

export function runJson(run: LatencyRun): Record<string, unknown> {
  const classes: Record<string, unknown> = {};
  for (const c of run.classes) {
    classes[c.cls.id] = {
      name: c.cls.name,
      path: c.path,
      perCpu: c.perCpu.map((p) => ({ cpu: p.cpu, tid: p.tid, act: Math.round(p.actNs) / 1000, ...summaryJson(p.histogram) })),
      all: summaryJson(c.all),
    };
  }
  return {
    config: run.options.preemptRt ? 'rt' : 'nort',
    runMs: Math.round(run.runMs),
    queueCost: queueCostJson(run.queueCost),
    maxClockSkewNs: Math.round(run.maxClockSkewNs),
    warnings: run.warnings,
    classes,
  };
}
