import { describe, it, expect } from 'vitest';
import { LatencyHistogram } from '../src/stats/histogram.js';
import {
  formatHistogramBlock,
  formatThreadLine,
  parseHistogramBlock,
  toMicrosecondRows,
} from '../src/stats/cyclictest.js';

function histogramOf(values: number[]): LatencyHistogram {
  const h = LatencyHistogram.allocateShared();
  for (const v of values) h.record(v);
  return h;
}

/** Deterministic long-tailed ns latencies (an LCG: failures replay). */
function tailySamples(n: number, seed: number): number[] {
  let state = seed;
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const u = (state + 0.5) / 4294967296;
    samples.push(Math.round(300 + 2000 / Math.sqrt(u))); // Pareto-like: most 2-5 µs, a few huge
  }
  return samples;
}

describe('formatThreadLine', () => {
  it('matches a hand-checked cyclictest summary line', () => {
    const line = formatThreadLine({
      thread: 0, tid: 12345, priority: 99, intervalUs: 1000, cycles: 1000,
      minUs: 1, actUs: 2, avgUs: 3, maxUs: 10,
    });
    expect(line).toBe('T: 0 (12345) P:99 I:1000 C:   1000 Min:      1 Act:    2 Avg:    3 Max:      10');
  });

  it('rounds fractional microseconds and lets wide numbers overflow their field', () => {
    const line = formatThreadLine({
      thread: 12, tid: 7, priority: 0, intervalUs: 200, cycles: 123_456_789,
      minUs: 0.4, actUs: 2.5, avgUs: 3.49, maxUs: 123_456_789.6,
    });
    expect(line).toBe('T:12 (    7) P: 0 I:200 C:123456789 Min:      0 Act:    3 Avg:    3 Max:123456790');
  });
});

describe('formatHistogramBlock', () => {
  it('matches a hand-checked block, overflows reported as cyclictest does without cycle numbers', () => {
    const busy = histogramOf([500, 500, 1500, 10_000]);
    const idle = LatencyHistogram.allocateShared();
    const expected = [
      '# Histogram',
      '000000 000002\t000000',
      '000001 000001\t000000',
      '000002 000000\t000000',
      '000003 000000\t000000',
      '# Total: 000000003 000000000',
      '# Min Latencies: 00000 00000',
      '# Avg Latencies: 00003 00000',
      '# Max Latencies: 00010 00000',
      '# Histogram Overflows: 00001 00000',
      '# Histogram Overflow at cycle number:',
      '# Thread 0: # 00001 others',
      '# Thread 1:',
      '',
      '',
    ].join('\n');
    expect(formatHistogramBlock([busy, idle], 4)).toBe(expected);
  });

  it('parses back to the same per-µs counts, and rows plus overflows equal each count', () => {
    const columns = [tailySamples(50_000, 1), tailySamples(30_000, 2), []].map(histogramOf);
    const maxUs = 100;
    const parsed = parseHistogramBlock(formatHistogramBlock(columns, maxUs));
    expect(parsed.buckets).toHaveLength(maxUs);
    columns.forEach((h, column) => {
      const { rows, overflows } = toMicrosecondRows(h, maxUs);
      expect(parsed.buckets.map((row) => row[column])).toEqual(rows);
      expect(parsed.totals[column]).toBe(rows.reduce((sum, n) => sum + n, 0));
      expect(parsed.overflows[column]).toBe(overflows);
      expect(parsed.totals[column] + parsed.overflows[column]).toBe(h.count);
      expect(parsed.min[column]).toBe(Math.floor(h.min / 1000));
      expect(parsed.max[column]).toBe(Math.floor(h.max / 1000));
      expect(parsed.avg[column]).toBe(Math.floor(h.mean / 1000));
    });
    expect(parsed.overflows[0]).toBeGreaterThan(0);
  });

  it('apportions log-linear buckets into whole rows off by at most the straddling buckets', () => {
    const samples = tailySamples(100_000, 9);
    const h = histogramOf(samples);
    const maxUs = 50;
    const { rows, overflows } = toMicrosecondRows(h, maxUs);
    // Only a bucket that straddles a µs boundary is apportioned, so the error at a boundary is at
    // most that bucket's count plus the rounding (1/2).
    const straddling = (ns: number): number =>
      h.buckets().find((b) => b.fromNs < ns && ns < b.toNs)?.count ?? 0;
    const exactBetween = (fromNs: number, toNs: number): number =>
      samples.filter((v) => v >= fromNs && v < toNs).length;
    expect(rows.every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
    rows.forEach((n, us) => {
      const bound = straddling(us * 1000) + straddling((us + 1) * 1000) + 1;
      expect(Math.abs(n - exactBetween(us * 1000, (us + 1) * 1000))).toBeLessThanOrEqual(bound);
    });
    const overflowBound = straddling(maxUs * 1000) + 0.5;
    expect(Math.abs(overflows - exactBetween(maxUs * 1000, Infinity))).toBeLessThanOrEqual(overflowBound);
  });

  it('never puts samples outside [min, max] when one bucket straddles a µs boundary', () => {
    // 1010 ns lies in the bucket [992, 1024), which straddles 1 µs; all samples belong to row 1.
    const { rows } = toMicrosecondRows(histogramOf([1010, 1010, 1010]), 3);
    expect(rows).toEqual([0, 3, 0]);
  });

  it('is deterministic: the same histogram always gives the same text', () => {
    const h = histogramOf(tailySamples(5000, 4));
    expect(formatHistogramBlock([h], 20)).toBe(formatHistogramBlock([h], 20));
  });

  it('rejects a size that is not a positive whole number of µs', () => {
    expect(() => formatHistogramBlock([], 0)).toThrow(RangeError);
    expect(() => formatHistogramBlock([], 2.5)).toThrow(RangeError);
  });
});

describe('parseHistogramBlock', () => {
  it('reads cyclictest output with missing rows, tabs or spaces, and no Total line', () => {
    const text = [
      '# /dev/cpu_dma_latency set to 0us',
      '# Histogram',
      '000002 000004\t000001',
      '000003\t000010 000000',
      '# Min Latencies: 00002 00002',
      '# Avg Latencies: 00002 00002',
      '# Max Latencies: 00076 00002',
      '# Histogram Overflows: 00001 00000',
      '# Histogram Overflow at cycle number:',
      '# Thread 0: 00412',
      '# Thread 1:',
    ].join('\n');
    const parsed = parseHistogramBlock(text);
    expect(parsed.buckets).toEqual([[0, 0], [0, 0], [4, 1], [10, 0]]);
    expect(parsed.totals).toEqual([14, 1]);
    expect(parsed.overflows).toEqual([1, 0]);
    expect(parsed.max).toEqual([76, 2]);
  });

  it('refuses text without a "# Histogram" line', () => {
    expect(() => parseHistogramBlock('T: 0 (1) P:99 I:1000 C: 10')).toThrow(/# Histogram/);
  });
});
