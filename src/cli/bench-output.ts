/**
 * What `irqwork bench` prints: the raw figures of each part side by side, and the ratios between
 * them (each with the target it is held against, if any), as text, JSON and a picture.
 */
import { formatNumber, table } from '../util/table.js';
import type { LatencyHistogram } from '../stats/histogram.js';
import { renderLatencySvg } from '../stats/svg.js';
import type { BenchResult } from '../bench/run.js';
import { classById, LATENCY_CLASSES, type LatencyClass, type LatencyClassId } from '../latency/classes.js';
import { classResult, queueCostJson, roundSummary, runJson, summaryJson, type LatencyRun } from '../latency/result.js';
import { summarize } from '../stats/histogram.js';
import { LEGEND_WIDE_SVG_PX } from './latency-output.js';
import type { ConfigFigure } from '../bench/works-scaling.js';
import type { StartupFigures } from '../bench/startup.js';

const NS_PER_US = 1000;

/** What each ratio compares, and the target it is held against (if any). */
export const RATIO_NOTES: Record<string, { what: string; target?: string }> = {
  queueVsFloor: { what: 'irq_work_queue (claim succeeds) / bare or+cmpxchg pair', target: '≤ 3' },
  queuePendingVsFloor: { what: 'irq_work_queue (already pending) / bare or+cmpxchg pair' },
  remoteBusyVsSpin: { what: 'remote hard → busy CPU p50 / busy-spin one-way p50', target: '≤ 2' },
  skeletonVsSpin: { what: 'irq_work skeleton one-way p50 / busy-spin one-way p50: what the protocol itself costs' },
  remoteBusyVsSkeleton: { what: 'remote hard → busy CPU p50 / irq_work skeleton p50: what the model adds to it' },
  remoteIdleVsNotify: { what: 'remote hard → idle CPU p50 / notify→wait back to back p50 (unlike: the target slept longer)' },
  remoteIdleVsNotifyIdle: { what: 'remote hard → idle CPU p50 / notify→wait p50 after sleeping the same interval', target: '≤ 1.2' },
  postMessageVsRemoteBusy: { what: 'postMessage one-way p50 / remote hard → busy CPU p50' },
  postMessageVsRemoteIdle: { what: 'postMessage one-way p50 / remote hard → idle CPU p50' },
  piscinaRunVsRemoteIdle: { what: 'piscina.run() round trip p50 / remote hard → idle CPU p50' },
  tickBound2vs1: { what: 'tick-bound works/s (local workload, mostly waiting), 2 CPUs / 1 CPU, RT' },
  tickBound2vs1NonRt: { what: 'tick-bound works/s, 2 CPUs / 1 CPU, non-RT' },
  tickBound64vs2: { what: 'tick-bound works/s, 64 CPUs / 2 CPUs, RT' },
  tickBound64vs2NonRt: { what: 'tick-bound works/s, 64 CPUs / 2 CPUs, non-RT' },
  throughputVsSkeleton: { what: 'cpu-bound works/s at 2 CPUs, RT / skeleton throughput on 2 threads', target: '≥ 0.5' },
  throughputVsSkeletonNonRt: { what: 'the same, non-RT' },
  cpuBound2vs1: { what: 'cpu-bound works/s, 2 CPUs / 1 CPU, RT', target: '≥ 1.8' },
  cpuBound2vs1NonRt: { what: 'cpu-bound works/s, 2 CPUs / 1 CPU, non-RT' },
  cpuBound64vs2: { what: 'cpu-bound works/s, 64 CPUs / 2 CPUs, RT', target: '≥ 0.8' },
  cpuBound64vs2NonRt: { what: 'cpu-bound works/s, 64 CPUs / 2 CPUs, non-RT' },
};

function p50(h: LatencyHistogram | undefined): number | null {
  return h && h.count > 0 ? h.percentile(50) : null;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a == null || b == null || b === 0) return null;
  return Math.round((a / b) * 1000) / 1000;
}

function classHistogram(run: LatencyRun, id: LatencyClassId): LatencyHistogram | undefined {
  return classResult(run, id)?.all;
}

function rtVsNonRtKey(id: LatencyClassId, mode: 'idle' | 'busy'): string {
  return `rtVsNonRt${id[0]!.toUpperCase()}${id.slice(1)}${mode === 'busy' ? 'Busy' : ''}`;
}

/** p50 of a class on RT and of its non-RT counterpart, in one target mode. */
function rtAndNonRtP50(b: BenchResult, c: LatencyClass, mode: 'idle' | 'busy'): [number | null, number | null] {
  const [rt, nort] = mode === 'idle' ? [b.latency.rtIdle, b.latency.nortIdle] : [b.latency.rtBusy, b.latency.nortBusy];
  return [p50(classHistogram(rt, c.id)), p50(classHistogram(nort, c.nonRtCounterpart))];
}

export function benchRatios(b: BenchResult): Record<string, number | null> {
  const remoteBusy = p50(classHistogram(b.latency.rtBusy, 'remoteHard'));
  const remoteIdle = p50(classHistogram(b.latency.rtIdle, 'remoteHard'));
  const works = (cpus: number, config: 'rt' | 'nort') => b.works.find((w) => w.cpus === cpus)?.[config]?.worksPerSec ?? null;
  const ratios: Record<string, number | null> = {
    queueVsFloor: ratio(p50(b.queueCost.claimOk), p50(b.queueCost.floor)),
    queuePendingVsFloor: ratio(p50(b.queueCost.pending), p50(b.queueCost.floor)),
    remoteBusyVsSpin: ratio(remoteBusy, p50(b.handoff.spin.histogram)),
    skeletonVsSpin: ratio(p50(b.handoff.skeleton.histogram), p50(b.handoff.spin.histogram)),
    remoteBusyVsSkeleton: ratio(remoteBusy, p50(b.handoff.skeleton.histogram)),
    remoteIdleVsNotify: ratio(remoteIdle, p50(b.handoff.notify.histogram)),
    remoteIdleVsNotifyIdle: ratio(remoteIdle, p50(b.handoff.notifyIdle.histogram)),
    postMessageVsRemoteBusy: ratio(p50(b.handoff.port.histogram), remoteBusy),
    postMessageVsRemoteIdle: ratio(p50(b.handoff.port.histogram), remoteIdle),
    piscinaRunVsRemoteIdle: ratio(p50(b.handoff.piscinaRun), remoteIdle),
    tickBound2vs1: ratio(works(2, 'rt'), works(1, 'rt')),
    tickBound2vs1NonRt: ratio(works(2, 'nort'), works(1, 'nort')),
    tickBound64vs2: ratio(works(64, 'rt'), works(2, 'rt')),
    tickBound64vs2NonRt: ratio(works(64, 'nort'), works(2, 'nort')),
  };
  const t = b.throughput.figures;
  for (const key of ['throughputVsSkeleton', 'throughputVsSkeletonNonRt', 'cpuBound2vs1', 'cpuBound2vs1NonRt', 'cpuBound64vs2', 'cpuBound64vs2NonRt'] as const) {
    ratios[key] = t[key] === null ? null : Math.round(t[key]! * 1000) / 1000;
  }
  // (d) idle targets (as `irqwork latency` runs by default), then busy ones. A threaded class is
  // set against the non-RT hard class of the same locality (where the same plain work runs
  // without PREEMPT_RT).
  for (const mode of ['idle', 'busy'] as const) {
    for (const c of LATENCY_CLASSES) ratios[rtVsNonRtKey(c.id, mode)] = ratio(...rtAndNonRtP50(b, c, mode));
  }
  return ratios;
}

function summaryRow(label: string, h: LatencyHistogram): Array<string | number> {
  if (h.count === 0) return [label, 0, '-', '-', '-', '-', '-'];
  return [label, h.count, ...[50, 90, 99, 99.9].map((p) => h.percentile(p) / NS_PER_US), h.max / NS_PER_US];
}

function fmtRatio(r: number | null): string {
  return r === null ? 'n/a' : `${formatNumber(r)}×`;
}

function worksJson(f: ConfigFigure | null): Record<string, number | number[] | boolean> | null {
  if (f === null) return null;
  return {
    worksPerSec: Math.round(f.worksPerSec),
    measuredWorksPerSec: f.measuredWorksPerSec.map(Math.round),
    coldWorksPerSec: Math.round(f.coldWorksPerSec),
    warmupRuns: f.warmupRuns,
    warmupMs: Math.round(f.warmupMs),
    warmupCapped: f.warmupCapped,
  };
}

export function formatBench(b: BenchResult): string {
  const s = b.settings;
  const r = benchRatios(b);
  const out: string[] = [];
  out.push(
    `irqwork bench${s.quick ? ' --quick' : ''}: ${s.cores} cores, load average ${s.loadAverage1m.start} at the start, ` +
      `${s.loadAverage1m.end} at the end (its own threads included); ` +
      `latency runs ${s.latencyCpus} CPUs × ${s.latencyDurationMs / 1000} s each; works/s: workload ${s.worksWorkload}, ` +
      `median of 3 runs of ${s.worksDurationMs / 1000} s per point after a warm-up; worker code ${s.workerLoader === 'bundle' ? 'bundled' : 'through tsx (slow path)'}`,
  );

  const cost = queueCostJson(b.queueCost);
  out.push('', `(a) queue cost, ns per call (median of ${cost.batches} batches of 1000 calls)`);
  out.push(
    table(
      ['what', 'ns/call', 'vs floor'],
      [
        ['floor: Atomics.or + Atomics.compareExchange', cost.floorNs!, '1×'],
        ['irq_work_queue(), claim succeeds', cost.claimOkNs!, fmtRatio(r.queueVsFloor!)],
        ['irq_work_queue(), already pending', cost.pendingNs!, fmtRatio(r.queuePendingVsFloor!)],
      ],
    ),
  );

  const h = b.handoff;
  out.push('', '(b) remote hard queue → callback (PREEMPT_RT) against raw hand-offs between two workers, µs');
  out.push(
    table(
      ['what', 'count', 'p50', 'p90', 'p99', 'p99.9', 'max'],
      [
        summaryRow('remote hard → busy CPU', classHistogram(b.latency.rtBusy, 'remoteHard')!),
        summaryRow('remote hard → idle CPU', classHistogram(b.latency.rtIdle, 'remoteHard')!),
        summaryRow('busy-spin one-way', h.spin.histogram),
        summaryRow('irq_work skeleton one-way (bare atomics)', h.skeleton.histogram),
        summaryRow(`Atomics.notify → wait one-way, back to back${h.notify.skipped ? ` (${h.notify.skipped} skipped)` : ''}`, h.notify.histogram),
        summaryRow(
          `Atomics.notify → wait one-way, after ${s.intervalUs} µs asleep${h.notifyIdle.skipped ? ` (${h.notifyIdle.skipped} skipped)` : ''}`,
          h.notifyIdle.histogram,
        ),
        summaryRow(`MessagePort postMessage one-way, after ${s.intervalUs} µs idle`, h.port.histogram),
        summaryRow('piscina.run() round trip', h.piscinaRun),
      ],
    ),
  );

  out.push(
    '',
    `(c) tick-bound works/s: stress machine, workload ${s.worksWorkload} (its CPUs mostly wait for ticks: this measures waiting, ` +
      'not the model), after a warm-up (first: its first run on the machine, which ran (f) before it)',
  );
  const base = b.works.find((w) => w.cpus === 1);
  const figure = (f: ConfigFigure | null) => (f === null ? 'failed' : Math.round(f.worksPerSec));
  const first = (f: ConfigFigure | null) => (f === null ? '' : `${Math.round(f.coldWorksPerSec)}`);
  const warmup = (f: ConfigFigure | null) =>
    f === null ? '' : `${formatNumber(f.warmupMs / 1000)} s${f.warmupCapped ? ' (capped)' : ''}`;
  out.push(
    table(
      ['CPUs', 'rt works/s', 'nort works/s', 'rt vs 1 CPU', 'nort vs 1 CPU', 'rt first', 'nort first', 'rt warm-up', 'nort warm-up'],
      b.works.map((w) => [
        w.cpus,
        figure(w.rt),
        figure(w.nort),
        fmtRatio(ratio(w.rt?.worksPerSec ?? null, base?.rt?.worksPerSec)),
        fmtRatio(ratio(w.nort?.worksPerSec ?? null, base?.nort?.worksPerSec)),
        first(w.rt),
        first(w.nort),
        warmup(w.rt),
        warmup(w.nort),
      ]),
    ),
  );
  for (const w of b.works) for (const p of w.problems) out.push(`!!! ${w.cpus} CPUs ${p}`);

  out.push('', '(d) RT / non-RT, latency p50 per class, µs');
  const us = (ns: number | null) => (ns === null ? '-' : ns / NS_PER_US);
  out.push(
    table(
      ['class', 'idle: rt', 'nort', 'rt / nort', 'busy: rt', 'nort', 'rt / nort'],
      LATENCY_CLASSES.map((c) => {
        const counterpart = classById(c.nonRtCounterpart);
        const label = c.nonRtCounterpart === c.id ? c.name : `${c.name} (nort: ${counterpart.name})`;
        const [idleRt, idleNort] = rtAndNonRtP50(b, c, 'idle');
        const [busyRt, busyNort] = rtAndNonRtP50(b, c, 'busy');
        return [
          label,
          us(idleRt),
          us(idleNort),
          fmtRatio(r[rtVsNonRtKey(c.id, 'idle')]!),
          us(busyRt),
          us(busyNort),
          fmtRatio(r[rtVsNonRtKey(c.id, 'busy')]!),
        ];
      }),
    ),
  );
  out.push(
    'With idle targets, how long a CPU idled before a measurement shows in it (the first instructions',
    "after a wake-up run cold), and RT's extra classes wake the CPUs more often: compare the same path",
    '(local hard, remote hard) across configurations to see how much of a ratio is that.',
  );

  out.push('', ...formatStartup(b.startup));
  out.push('', ...formatThroughput(b));
  if (b.problems.length) out.push('', 'problems (figures not to be trusted):', ...b.problems.map((p) => `!!! ${p}`));

  out.push('', 'ratios (target: what the model is held to)');
  const rows = Object.entries(r).map(([name, value]) => [
    name,
    fmtRatio(value),
    RATIO_NOTES[name]?.target ?? '',
    RATIO_NOTES[name]?.what ?? `RT p50 / non-RT p50 (${name.endsWith('Busy') ? 'busy' : 'idle'} targets)`,
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const [name, value, target, what] of rows) {
    out.push(`${name!.padEnd(widths[0]!)}  ${value!.padStart(widths[1]!)}  ${target!.padEnd(widths[2]!)}  ${what}`);
  }
  return out.join('\n');
}

function formatThroughput(b: BenchResult): string[] {
  const t = b.throughput;
  const fig = (f: { worksPerSec: number; coresUsed: number; worksPerCpuSecond: number } | null) =>
    f === null ? ['failed', '', ''] : [Math.round(f.worksPerSec), formatNumber(f.coresUsed), Math.round(f.worksPerCpuSecond)];
  const rows: Array<Array<string | number>> = t.cpuBound.flatMap((p) => [
    [`model, ${p.cpus} CPU${p.cpus > 1 ? 's' : ''}, rt`, ...fig(p.rt)],
    [`model, ${p.cpus} CPU${p.cpus > 1 ? 's' : ''}, nort`, ...fig(p.nort)],
  ]);
  for (const sk of [t.skeletonOneThread, t.skeleton]) {
    if (sk) rows.push([`skeleton, ${sk.threads} thread${sk.threads > 1 ? 's' : ''}`, ...fig(sk)]);
  }
  return [
    '(f) CPU-bound throughput: workload cpu-bound (no sleeping waits) against the protocol\'s bare atomic steps per work',
    table(['what', 'works/s', 'cores used', 'works per CPU-second'], rows),
  ];
}

/** Start-up targets (docs/LATENCY.md): ready-to-run ms for 64 and 256 CPUs, MiB of RSS per CPU. */
const STARTUP_TARGETS = { cpus64Ms: 2000, cpus256Ms: 8000, rssPerCpuMb: 12 };

function formatStartup(s: StartupFigures): string[] {
  return [
    '(e) start-up: Machine.start(N) until every CPU of a first run stands at the start barrier',
    table(
      ['CPUs', 'ready ms', 'target', 'CPU time ms', 'RSS / CPU MiB'],
      s.points.map((p) => [
        p.cpus,
        p.readyMs,
        p.cpus === 64 ? `≤ ${STARTUP_TARGETS.cpus64Ms}` : p.cpus === 256 ? `≤ ${STARTUP_TARGETS.cpus256Ms}` : '',
        p.cpuMs,
        p.rssPerCpuMb,
      ]),
    ),
    `RSS per CPU (${s.points[s.points.length - 1]!.cpus} CPUs): ${s.rssPerCpuMb} MiB, target ≤ ${STARTUP_TARGETS.rssPerCpuMb}. ` +
      'CPU time is every thread of the process: on a shared machine, ready ms also measures the other load.',
  ];
}

function startupJson(s: StartupFigures): Record<string, unknown> {
  return { cpus64Ms: s.cpus64Ms, cpus256Ms: s.cpus256Ms, rssPerCpuMb: s.rssPerCpuMb, targets: STARTUP_TARGETS, points: s.points };
}

function handoffJson(h: LatencyHistogram, skipped?: number): Record<string, unknown> {
  return { ...roundSummary(summarize(h)), ...(skipped ? { skipped } : {}), buckets: summaryJson(h).buckets };
}

export function benchJson(b: BenchResult): Record<string, unknown> {
  return {
    command: 'bench',
    settings: b.settings,
    ratios: benchRatios(b),
    queueCost: queueCostJson(b.queueCost),
    remote: {
      busy: summaryJson(classHistogram(b.latency.rtBusy, 'remoteHard')!),
      idle: summaryJson(classHistogram(b.latency.rtIdle, 'remoteHard')!),
    },
    handoff: {
      spinOneWay: handoffJson(b.handoff.spin.histogram),
      skeletonOneWay: handoffJson(b.handoff.skeleton.histogram),
      notifyWaitOneWay: handoffJson(b.handoff.notify.histogram, b.handoff.notify.skipped),
      notifyWaitIdleOneWay: handoffJson(b.handoff.notifyIdle.histogram, b.handoff.notifyIdle.skipped),
      postMessageOneWay: handoffJson(b.handoff.port.histogram),
      piscinaRunRoundTrip: handoffJson(b.handoff.piscinaRun),
    },
    works: b.works.map((w) => ({ cpus: w.cpus, rt: worksJson(w.rt), nort: worksJson(w.nort), problems: w.problems })),
    startup: startupJson(b.startup),
    throughput: {
      cpuBound: b.throughput.cpuBound,
      skeleton: b.throughput.skeleton,
      skeletonOneThread: b.throughput.skeletonOneThread,
      figures: b.throughput.figures,
    },
    problems: b.problems,
    latency: {
      rtBusy: runJson(b.latency.rtBusy),
      rtIdle: runJson(b.latency.rtIdle),
      nortBusy: runJson(b.latency.nortBusy),
      nortIdle: runJson(b.latency.nortIdle),
    },
    units: { latency: 'µs (buckets: ns)', queueCost: 'ns per call', works: 'executed works per second', startup: 'ms; RSS in MiB per CPU' },
  };
}

export function benchSvg(b: BenchResult): string {
  return renderLatencySvg({
    title: `irq_work remote hard latency vs raw hand-offs (${b.settings.cores} cores)`,
    kind: 'cdf',
    widthPx: LEGEND_WIDE_SVG_PX,
    series: [
      { label: 'remote hard → busy CPU', histogram: classHistogram(b.latency.rtBusy, 'remoteHard')! },
      { label: 'remote hard → idle CPU', histogram: classHistogram(b.latency.rtIdle, 'remoteHard')! },
      { label: 'busy-spin one-way', histogram: b.handoff.spin.histogram },
      { label: 'irq_work skeleton one-way', histogram: b.handoff.skeleton.histogram },
      { label: 'notify → wait one-way, back to back', histogram: b.handoff.notify.histogram },
      { label: 'notify → wait one-way, after sleeping', histogram: b.handoff.notifyIdle.histogram },
      { label: 'postMessage one-way', histogram: b.handoff.port.histogram },
      { label: 'piscina.run() round trip', histogram: b.handoff.piscinaRun },
    ],
  });
}
