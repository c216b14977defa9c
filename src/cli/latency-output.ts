/**
 * The human report of `irqwork latency`: a header, the queue cost, per class a cyclictest line per
 * CPU, and a percentile table with RT and non-RT side by side; plus the JSON document and the
 * picture (CDF per class, log x).
 */
import { formatNumber, table } from '../util/table.js';
import { formatThreadLine } from '../stats/cyclictest.js';
import type { LatencyHistogram } from '../stats/histogram.js';
import { renderLatencySvg } from '../stats/svg.js';
import { classById, classPriority, LATENCY_CLASSES, type LatencyClass } from '../latency/classes.js';
import type { LatencyRun } from '../latency/result.js';
import { queueCostJson, runJson } from '../latency/result.js';
import type { WorkerLoader } from '../util/worker-bundle.js';

const NS_PER_US = 1000;
/** Pictures are wider than the renderer's default, so that labels like "rt remote threaded" fit. */
export const LEGEND_WIDE_SVG_PX = 1000;

export function configName(run: LatencyRun): 'rt' | 'nort' {
  return run.options.preemptRt ? 'rt' : 'nort';
}

function header(runs: readonly LatencyRun[], loader: WorkerLoader): string {
  const o = runs[0]!.options;
  const configs = runs.map((r) => (r.options.preemptRt ? 'PREEMPT_RT' : 'non-RT')).join(' and ');
  const mode = o.mode === 'idle' ? 'idle targets (NO_HZ idle in Atomics.wait)' : 'busy targets (spinning through interrupt points)';
  return (
    `irqwork latency: ${o.cpus} CPUs, ${configs}, ${mode}, interval ${o.intervalUs} µs, ` +
    `${(runs[0]!.runMs / 1000).toFixed(1)} s measured after ${o.warmupMs} ms warm-up, HZ ${o.hz}, variant ${o.variant}` +
    `${o.separateLazy ? '' : ', lazy class measured together with the others'}` +
    `${loader === 'tsx' ? ', worker code through tsx (slow path)' : ''}`
  );
}

function queueCostLine(run: LatencyRun): string {
  const c = queueCostJson(run.queueCost);
  return (
    `queue cost [${configName(run)}], ns per irq_work_queue() call (median of ${c.batches} batches of 1000 calls, all CPUs): ` +
    `claim succeeds ${formatNumber(c.claimOkNs!)}, already pending ${formatNumber(c.pendingNs!)}; ` +
    `floor (Atomics.or + compareExchange) ${formatNumber(c.floorNs!)} → ${formatNumber(c.claimOkNs! / c.floorNs!)}× floor`
  );
}

function cyclictestLines(run: LatencyRun): string[] {
  const out: string[] = [];
  const rt = run.options.preemptRt;
  for (const c of run.classes) {
    out.push('', `${c.cls.name} [${configName(run)}]: ${c.path}`);
    for (const p of c.perCpu) {
      const h = p.histogram;
      out.push(
        formatThreadLine({
          thread: p.cpu,
          tid: p.tid,
          priority: classPriority(c.cls, rt),
          intervalUs: run.options.intervalUs,
          cycles: h.count,
          minUs: h.min / NS_PER_US,
          actUs: p.actNs / NS_PER_US,
          avgUs: h.mean / NS_PER_US,
          maxUs: h.max / NS_PER_US,
        }),
      );
    }
  }
  return out;
}

const PERCENTILE_COLUMNS: Array<[string, (h: LatencyHistogram) => number]> = [
  ['p50', (h) => h.percentile(50)],
  ['p90', (h) => h.percentile(90)],
  ['p99', (h) => h.percentile(99)],
  ['p99.9', (h) => h.percentile(99.9)],
  ['max', (h) => h.max],
];

function percentileCells(h: LatencyHistogram | undefined): Array<string | number> {
  if (!h) return ['-', ...PERCENTILE_COLUMNS.map(() => '-')];
  return [h.count, ...PERCENTILE_COLUMNS.map(([, f]) => f(h) / NS_PER_US)];
}

function histogramOf(run: LatencyRun | undefined, c: LatencyClass): LatencyHistogram | undefined {
  return run?.classes.find((r) => r.cls.id === c.id)?.all;
}

/** Percentiles of every class, µs; with RT and non-RT, side by side with the RT/non-RT p50 ratio. */
function percentileTable(runs: readonly LatencyRun[]): string[] {
  const rt = runs.find((r) => r.options.preemptRt);
  const nort = runs.find((r) => !r.options.preemptRt);
  const both = rt !== undefined && nort !== undefined;
  const columns = ['count', ...PERCENTILE_COLUMNS.map(([name]) => name)];
  const head = ['class', ...runs.flatMap((r) => columns.map((col) => (runs.length > 1 ? `${configName(r)} ${col}` : col)))];
  if (both) head.push('rt/nort p50');
  const rows: Array<Array<string | number>> = [];
  let footnote = false;
  for (const c of LATENCY_CLASSES) {
    if (!runs.some((r) => histogramOf(r, c))) continue;
    const row: Array<string | number> = [c.name, ...runs.flatMap((r) => percentileCells(histogramOf(r, c)))];
    if (both) {
      const mine = histogramOf(rt, c);
      const theirs = histogramOf(nort, classById(c.nonRtCounterpart));
      const starred = c.nonRtCounterpart !== c.id;
      footnote ||= starred;
      row.push(mine && theirs && theirs.count > 0 ? `${formatNumber(mine.percentile(50) / theirs.percentile(50))}${starred ? '*' : ''}` : '-');
    }
    rows.push(row);
  }
  const out = ['', 'latency percentiles, µs (all CPUs merged):', table(head, rows)];
  if (footnote) out.push('* against the non-RT hard class of the same locality: where the same plain work runs without PREEMPT_RT');
  return out;
}

export function formatLatency(runs: readonly LatencyRun[], loader: WorkerLoader): string {
  const out = [header(runs, loader)];
  for (const run of runs) out.push(queueCostLine(run));
  for (const run of runs) out.push(...cyclictestLines(run));
  out.push(...percentileTable(runs));
  for (const run of runs) for (const w of run.warnings) out.push(`!!! [${configName(run)}] cpu${w.cpu}: ${w.what}`);
  return out.join('\n');
}

export function latencyJson(runs: readonly LatencyRun[], loader: WorkerLoader): Record<string, unknown> {
  const o = runs[0]!.options;
  const results: Record<string, unknown> = {};
  for (const run of runs) results[configName(run)] = runJson(run);
  return {
    command: 'latency',
    settings: {
      cpus: o.cpus,
      configs: runs.map(configName),
      mode: o.mode,
      intervalUs: o.intervalUs,
      durationS: o.durationMs / 1000,
      warmupMs: o.warmupMs,
      separateLazy: o.separateLazy,
      hz: o.hz,
      variant: o.variant,
      workerLoader: loader,
      unit: 'µs (buckets: ns)',
    },
    results,
  };
}

/** CDF per class (and per configuration), log x. */
export function latencySvg(runs: readonly LatencyRun[], title: string): string {
  const series = runs.flatMap((run) =>
    run.classes.map((c) => ({ label: runs.length > 1 ? `${configName(run)} ${c.cls.name}` : c.cls.name, histogram: c.all })),
  );
  return renderLatencySvg({ title, kind: 'cdf', series, widthPx: LEGEND_WIDE_SVG_PX });
}
