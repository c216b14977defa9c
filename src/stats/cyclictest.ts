/**
 * Text in the formats cyclictest (rt-tests) prints, so existing scripts and plotting tools that
 * read cyclictest output can read ours. Formats follow print_stat() and print_hist() in
 * rt-tests src/cyclictest/cyclictest.c; the printf conversions are kept in comments.
 */

import type { LatencyHistogram } from './histogram.js';

const NS_PER_US = 1000;

/** printf("%<width>d") and, with zeroPad, printf("%0<width>d"), for an integer. */
function printfInt(value: number, width: number, zeroPad = false): string {
  const digits = String(Math.abs(value));
  const sign = value < 0 ? '-' : '';
  if (!zeroPad) return (sign + digits).padStart(width, ' ');
  return sign + digits.padStart(width - sign.length, '0');
}

export interface ThreadLineOptions {
  thread: number;
  tid: number;
  priority: number;
  intervalUs: number;
  cycles: number;
  minUs: number;
  actUs: number;
  avgUs: number;
  maxUs: number;
}

/**
 * One per-thread summary line:
 * "T:%2d (%5d) P:%2d I:%ld C:%7lu Min:%7ld Act:%5ld Avg:%5ld Max:%8ld".
 * Latencies are rounded to whole microseconds (cyclictest truncates its average; we round all of
 * them so that a 0.9 µs latency does not print as 0).
 */
export function formatThreadLine(opts: ThreadLineOptions): string {
  const r = Math.round;
  return (
    `T:${printfInt(r(opts.thread), 2)} (${printfInt(r(opts.tid), 5)}) ` +
    `P:${printfInt(r(opts.priority), 2)} I:${r(opts.intervalUs)} C:${printfInt(r(opts.cycles), 7)} ` +
    `Min:${printfInt(r(opts.minUs), 7)} Act:${printfInt(r(opts.actUs), 5)} ` +
    `Avg:${printfInt(r(opts.avgUs), 5)} Max:${printfInt(r(opts.maxUs), 8)}`
  );
}

export interface MicrosecondRows {
  /** rows[k] = samples in [k, k+1) µs, for k in 0 .. maxUs-1. */
  rows: number[];
  /** Samples at or above maxUs µs. rows summed plus overflows equals the histogram's count. */
  overflows: number;
}

/**
 * Re-bins a log-linear histogram into cyclictest's 1 µs buckets (cyclictest truncates a latency
 * to whole µs, so bucket k holds [k µs, k+1 µs)). Row k gets round(C(k+1)) - round(C(k)), where
 * C(k) = h.countBelow(k µs) apportions a straddling bucket linearly: because round(C) is
 * monotone and C(0) = 0, every row is a non-negative integer and the rows telescope to
 * round(C(maxUs)), so rows plus overflows add up to the count exactly, with no random choice.
 */
export function toMicrosecondRows(h: LatencyHistogram, maxUs: number): MicrosecondRows {
  const rows: number[] = [];
  let roundedBelow = 0;
  for (let us = 1; us <= maxUs; us++) {
    const next = Math.round(h.countBelow(us * NS_PER_US));
    rows.push(next - roundedBelow);
    roundedBelow = next;
  }
  return { rows, overflows: h.count - roundedBelow };
}

/** Whole microseconds, truncated the way cyclictest truncates a latency. */
function wholeUs(ns: number): number {
  return Math.floor(ns / NS_PER_US);
}

/**
 * The `-h maxUs` block cyclictest prints at the end of a run, one column per histogram.
 *
 * Row lines follow the real source ("%06d " then the columns, "%06lu" separated by tabs), which
 * differs from a tab after the index; parseHistogramBlock accepts either. Min / Avg / Max are
 * whole µs, truncated (the bucket a value falls in); an empty column prints zeroes.
 *
 * We keep no cycle numbers of overflows, so each "# Thread N:" line is what cyclictest itself
 * prints when it has kept none of them: nothing, or " # %05lu others" when there were overflows.
 * The block ends with an empty line, as cyclictest's does.
 */
export function formatHistogramBlock(columns: LatencyHistogram[], maxUs: number): string {
  if (!Number.isInteger(maxUs) || maxUs < 1) {
    throw new RangeError(`histogram size must be a positive whole number of µs, got ${maxUs}`);
  }
  const rebinned = columns.map((h) => toMicrosecondRows(h, maxUs));
  const zeroPadded = (values: number[], width: number): string =>
    values.map((v) => ` ${printfInt(v, width, true)}`).join('');

  const lines = ['# Histogram'];
  for (let us = 0; us < maxUs; us++) {
    const counts = rebinned.map((column) => printfInt(column.rows[us], 6, true));
    lines.push(`${printfInt(us, 6, true)} ${counts.join('\t')}`);
  }
  const totals = rebinned.map((column) => column.rows.reduce((sum, n) => sum + n, 0));
  lines.push(`# Total:${zeroPadded(totals, 9)}`);
  lines.push(`# Min Latencies:${zeroPadded(columns.map((h) => wholeUs(h.min)), 5)}`);
  lines.push(`# Avg Latencies:${zeroPadded(columns.map((h) => wholeUs(h.mean)), 5)}`);
  lines.push(`# Max Latencies:${zeroPadded(columns.map((h) => wholeUs(h.max)), 5)}`);
  lines.push(`# Histogram Overflows:${zeroPadded(rebinned.map((c) => c.overflows), 5)}`);
  lines.push('# Histogram Overflow at cycle number:');
  rebinned.forEach((column, thread) => {
    const others = column.overflows > 0 ? ` # ${printfInt(column.overflows, 5, true)} others` : '';
    lines.push(`# Thread ${thread}:${others}`);
  });
  return lines.join('\n') + '\n\n';
}

export interface ParsedHistogramBlock {
  /** buckets[row][column]; rows missing from the text are zero. */
  buckets: number[][];
  totals: number[];
  overflows: number[];
  min: number[];
  avg: number[];
  max: number[];
}

const FOOTER_FIELDS: Array<[string, 'totals' | 'min' | 'avg' | 'max' | 'overflows']> = [
  ['# Total:', 'totals'],
  ['# Min Latencies:', 'min'],
  ['# Avg Latencies:', 'avg'],
  ['# Max Latencies:', 'max'],
  ['# Histogram Overflows:', 'overflows'],
];

function numbersAfterColon(line: string): number[] {
  const rest = line.slice(line.indexOf(':') + 1).trim();
  return rest === '' ? [] : rest.split(/\s+/).map(Number);
}

/**
 * Reads a histogram block back: ours or cyclictest's (any whitespace between fields, rows may be
 * missing, "# Total:" may be absent in old versions — then totals are summed from the rows).
 */
export function parseHistogramBlock(text: string): ParsedHistogramBlock {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((line) => line.trim() === '# Histogram');
  if (start < 0) throw new Error('no "# Histogram" line: this is not a cyclictest histogram block');

  const parsed: ParsedHistogramBlock = {
    buckets: [], totals: [], overflows: [], min: [], avg: [], max: [],
  };
  const rowsByIndex = new Map<number, number[]>();
  let columnCount = 0;
  let rowCount = 0;
  for (const line of lines.slice(start + 1)) {
    const trimmed = line.trim();
    if (/^\d+\s/.test(trimmed)) {
      const [index, ...counts] = trimmed.split(/\s+/).map(Number);
      rowsByIndex.set(index, counts);
      columnCount = Math.max(columnCount, counts.length);
      rowCount = Math.max(rowCount, index + 1);
      continue;
    }
    const field = FOOTER_FIELDS.find(([prefix]) => trimmed.startsWith(prefix));
    if (field) parsed[field[1]] = numbersAfterColon(trimmed);
  }

  for (let row = 0; row < rowCount; row++) {
    const counts = rowsByIndex.get(row) ?? [];
    parsed.buckets.push(Array.from({ length: columnCount }, (_, column) => counts[column] ?? 0));
  }
  if (parsed.totals.length === 0) {
    parsed.totals = Array.from({ length: columnCount }, (_, column) =>
      parsed.buckets.reduce((sum, counts) => sum + counts[column], 0),
    );
  }
  return parsed;
}
