/**
 * A standalone SVG chart of latency histograms, for reports a browser can open directly.
 * Latencies span decades (sub-µs hand-offs to ms stalls), so the x axis is log-scale µs.
 *
 *   cdf        y = fraction of samples at or below x, linear 0..100 %
 *   tail       y = fraction of samples at or above x, log scale (1 - CDF): shows p99.9 and beyond
 *   histogram  y = samples per decade of latency, log scale; gaps between buckets drop to the floor.
 *              Raw bucket counts would jump at each power of two, where log-linear buckets double
 *              in width; dividing by the bucket's width in decades makes the area under the curve
 *              proportional to the samples, as a log x axis needs.
 */

import { summarize, type LatencyHistogram } from './histogram.js';

export type LatencyChartKind = 'cdf' | 'tail' | 'histogram';

export interface LatencySvgOptions {
  title: string;
  series: Array<{ label: string; histogram: LatencyHistogram }>;
  kind: LatencyChartKind;
  /** Canvas width (default 860); what exceeds the default widens the legend, for long labels. */
  widthPx?: number;
}

const WIDTH_PX = 860;
const HEIGHT_PX = 500;
const PLOT = { left: 80, right: 600, top: 50, bottom: 430 };
const LEGEND_LEFT_PX = 620;
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const NS_PER_US = 1000;
/** The smallest latency the x axis shows; a 0 ns sample is drawn there, since log(0) is not. */
const SMALLEST_SHOWN_US = 0.001;

type Point = [xUs: number, y: number];

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A coordinate with one decimal; never prints NaN or Infinity into the document. */
function px(value: number): string {
  return Number.isFinite(value) ? String(Math.round(value * 10) / 10) : '0';
}

function decadeLabel(exponent: number): string {
  if (exponent < -4 || exponent > 6) return `1e${exponent}`;
  return exponent < 0 ? (10 ** exponent).toFixed(-exponent) : String(10 ** exponent);
}

/** Representative x (µs) of a bucket: the middle of its integer ns values, kept on the axis. */
function bucketUs(fromNs: number, toNs: number): number {
  return Math.max((fromNs + (toNs - fromNs - 1) / 2) / NS_PER_US, SMALLEST_SHOWN_US);
}

function seriesPoints(h: LatencyHistogram, kind: LatencyChartKind): Point[] {
  const total = h.count;
  if (total === 0) return [];
  const buckets = h.buckets();
  const points: Point[] = [];
  let seen = 0;
  buckets.forEach(({ fromNs, toNs, count }, i) => {
    const xUs = bucketUs(fromNs, toNs);
    if (kind === 'cdf') {
      if (i === 0) points.push([xUs, 0]);
      seen += count;
      points.push([xUs, seen / total]);
    } else if (kind === 'tail') {
      points.push([xUs, (total - seen) / total]);
      seen += count;
    } else {
      const previous = buckets[i - 1];
      if (previous && previous.toNs !== fromNs) {
        points.push([bucketUs(previous.toNs, previous.toNs + 1), 0]);
        points.push([bucketUs(fromNs - 1, fromNs), 0]);
      }
      points.push([xUs, count / Math.log10(toNs / Math.max(fromNs, 0.5))]);
    }
  });
  // A single point draws nothing; a zero-length segment with round caps draws a dot.
  if (points.length === 1) points.push(points[0]);
  return points;
}

/** The decade range [10^lo, 10^hi] covering every series' samples. */
function xDecades(histograms: LatencyHistogram[]): [number, number] {
  const filled = histograms.filter((h) => h.count > 0);
  if (filled.length === 0) return [-1, 3];
  const lowestUs = Math.max(Math.min(...filled.map((h) => h.min)) / NS_PER_US, SMALLEST_SHOWN_US);
  const highestUs = Math.max(Math.max(...filled.map((h) => h.max)) / NS_PER_US, SMALLEST_SHOWN_US);
  const lo = Math.floor(Math.log10(lowestUs));
  const hi = Math.max(Math.ceil(Math.log10(highestUs)), lo + 1);
  return [lo, hi];
}

interface YAxis {
  toPx(y: number): number;
  ticks: Array<{ value: number; label: string }>;
  title: string;
}

function yAxisFor(kind: LatencyChartKind, histograms: LatencyHistogram[], ys: number[]): YAxis {
  const heightPx = PLOT.bottom - PLOT.top;
  if (kind === 'cdf') {
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((value) => ({ value, label: `${value * 100} %` }));
    return { toPx: (y) => PLOT.bottom - y * heightPx, ticks, title: 'samples at or below (%)' };
  }
  const largestCount = Math.max(1, ...histograms.map((h) => h.count));
  const decades = Math.max(1, Math.ceil(Math.log10(largestCount)));
  // A loop, not Math.min(...ys): many CPUs times ~1000 buckets could overflow the call stack.
  let lowestY = Infinity;
  let highestY = 0;
  for (const y of ys) {
    if (y > 0 && y < lowestY) lowestY = y;
    if (y > highestY) highestY = y;
  }
  const lowestLog = highestY > 0 ? Math.log10(lowestY) : 0;
  const highestLog = highestY > 0 ? Math.log10(highestY) : 1;
  // tail: 10^-decades .. 1, since the rarest sample is 1/count. histogram: the floor sits half
  // a decade under the lowest density, so the empty gaps drawn there stay below every bucket.
  const [loLog, hiLog] =
    kind === 'tail'
      ? [-decades, 0]
      : [Math.floor(lowestLog) - 0.5, Math.max(Math.ceil(highestLog), Math.floor(lowestLog) + 1)];
  const toPx = (y: number): number => {
    const clamped = Math.min(Math.max(Math.log10(Math.max(y, 1e-300)), loLog), hiLog);
    return PLOT.bottom - ((clamped - loLog) / (hiLog - loLog)) * heightPx;
  };
  const ticks: YAxis['ticks'] = [];
  for (let e = Math.ceil(loLog); e <= hiLog; e++) ticks.push({ value: 10 ** e, label: decadeLabel(e) });
  const title = kind === 'tail' ? 'fraction of samples at or above' : 'samples per decade of latency';
  return { toPx, ticks, title };
}

/** Renders the chart as a complete SVG document. */
export function renderLatencySvg(opts: LatencySvgOptions): string {
  const widthPx = Math.max(WIDTH_PX, opts.widthPx ?? WIDTH_PX);
  const histograms = opts.series.map((s) => s.histogram);
  const [loDecade, hiDecade] = xDecades(histograms);
  const xToPx = (xUs: number): number =>
    PLOT.left +
    ((Math.log10(Math.max(xUs, 10 ** loDecade)) - loDecade) / (hiDecade - loDecade)) *
      (PLOT.right - PLOT.left);
  const pointsPerSeries = histograms.map((h) => seriesPoints(h, opts.kind));
  const yAxis = yAxisFor(opts.kind, histograms, pointsPerSeries.flat().map(([, y]) => y));

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${HEIGHT_PX}" ` +
      `viewBox="0 0 ${widthPx} ${HEIGHT_PX}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(opts.title)}</title>`,
    `<rect width="${widthPx}" height="${HEIGHT_PX}" fill="white"/>`,
    `<text x="${widthPx / 2}" y="28" text-anchor="middle" font-size="16">${escapeXml(opts.title)}</text>`,
  ];
  for (let e = loDecade; e <= hiDecade; e++) {
    const x = px(xToPx(10 ** e));
    out.push(`<line x1="${x}" y1="${PLOT.top}" x2="${x}" y2="${PLOT.bottom}" stroke="#ddd"/>`);
    out.push(`<text x="${x}" y="${PLOT.bottom + 18}" text-anchor="middle">${decadeLabel(e)}</text>`);
  }
  for (const tick of yAxis.ticks) {
    const y = px(yAxis.toPx(tick.value));
    out.push(`<line x1="${PLOT.left}" y1="${y}" x2="${PLOT.right}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${PLOT.left - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${tick.label}</text>`);
  }
  out.push(
    `<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" ` +
      `height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#333"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 40}" text-anchor="middle">latency (µs, log scale)</text>`,
    `<text transform="translate(20 ${(PLOT.top + PLOT.bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yAxis.title)}</text>`,
  );

  opts.series.forEach(({ label, histogram }, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const points = pointsPerSeries[i];
    if (points.length > 0) {
      const coords = points.map(([xUs, y]) => `${px(xToPx(xUs))},${px(yAxis.toPx(y))}`).join(' ');
      out.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="1.5" stroke-linejoin="round" ` +
          `stroke-linecap="round" points="${coords}"/>`,
      );
    }
    const s = summarize(histogram);
    const detail = s.count === 0 ? 'no samples' : `n=${s.count}, p99=${s.p99.toPrecision(3)} µs`;
    const y = PLOT.top + 10 + i * 20;
    out.push(
      `<rect x="${LEGEND_LEFT_PX}" y="${y - 5}" width="14" height="4" fill="${colour}"/>`,
      `<text x="${LEGEND_LEFT_PX + 20}" y="${y}" dominant-baseline="middle">${escapeXml(label)} (${detail})</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
