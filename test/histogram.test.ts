import { describe, it, expect } from 'vitest';
import {
  LatencyHistogram,
  MAX_TRACKABLE_NS,
  summarize,
} from '../src/stats/histogram.js';

/** Deterministic uniform [0, 1) generator (mulberry32), so failures replay. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integer ns latencies, log-normal around ~2 µs with a long tail. */
function logNormalSamples(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    samples.push(Math.round(Math.exp(7.6 + 1.2 * gaussian)));
  }
  return samples;
}

function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p * sorted.length) / 100) - 1)];
}

function histogramOf(values: number[]): LatencyHistogram {
  const h = LatencyHistogram.allocateShared();
  for (const v of values) h.record(v);
  return h;
}

describe('LatencyHistogram', () => {
  it('needs 4 header slots plus (41 - bits) * 2^bits buckets of storage', () => {
    expect(LatencyHistogram.storageLength()).toBe(4 + 36 * 32);
    expect(LatencyHistogram.storageLength(3)).toBe(4 + 38 * 8);
    expect(() => new LatencyHistogram(new Float64Array(10))).toThrow(RangeError);
  });

  it('keeps count, min, max and mean exact', () => {
    const h = histogramOf([1234, 7, 999_999, 50_000, 3]);
    expect(h.count).toBe(5);
    expect(h.min).toBe(3);
    expect(h.max).toBe(999_999);
    expect(h.mean).toBe((1234 + 7 + 999_999 + 50_000 + 3) / 5);
  });

  it('reports zeroes, not NaN or Infinity, when empty', () => {
    const h = LatencyHistogram.allocateShared();
    expect([h.count, h.min, h.max, h.mean, h.percentile(50), h.countBelow(100)]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Object.values(summarize(h)).every(Number.isFinite)).toBe(true);
  });

  it('tracks a new minimum above the old one after reset', () => {
    const h = histogramOf([5, 10]);
    h.reset();
    expect(h.count).toBe(0);
    h.record(800);
    h.record(900);
    expect([h.min, h.max, h.mean]).toEqual([800, 900, 850]);
    expect(h.buckets().reduce((sum, b) => sum + b.count, 0)).toBe(2);
  });

  it('tiles the value range with contiguous buckets no wider than 1/32 of their start', () => {
    const h = LatencyHistogram.allocateShared();
    for (let i = 0; i < h.bucketCount - 1; i++) {
      expect(h.bucketToNs(i)).toBe(h.bucketFromNs(i + 1));
    }
    for (let i = 64; i < h.bucketCount; i++) {
      expect(h.bucketToNs(i) - h.bucketFromNs(i)).toBeLessThanOrEqual(h.bucketFromNs(i) / 32);
    }
    expect(h.bucketToNs(h.bucketCount - 1)).toBe(MAX_TRACKABLE_NS);
  });

  it('puts every value in the bucket whose range contains it', () => {
    const h = LatencyHistogram.allocateShared();
    const random = seededRandom(7);
    const edges = [0, 1, 63, 64, 65, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 39, MAX_TRACKABLE_NS - 1];
    const values = [...edges, ...Array.from({ length: 5000 }, () => Math.floor(2 ** (random() * 40)))];
    for (const v of values) {
      const i = h.bucketIndex(v);
      expect(h.bucketFromNs(i)).toBeLessThanOrEqual(v);
      expect(h.bucketToNs(i)).toBeGreaterThan(v);
    }
  });

  it('counts values beyond 2^40 ns in the last bucket and keeps their exact max', () => {
    const h = histogramOf([2 ** 45]);
    expect(h.buckets()).toEqual([{ fromNs: h.bucketFromNs(h.bucketCount - 1), toNs: MAX_TRACKABLE_NS, count: 1 }]);
    expect(h.max).toBe(2 ** 45);
    expect(h.percentile(99)).toBe(2 ** 45);
  });

  it('records NaN and negative values as 0 ns so the mean stays finite', () => {
    const h = histogramOf([NaN, -5, 10]);
    expect([h.count, h.min, h.max]).toEqual([3, 0, 10]);
    expect(h.mean).toBeCloseTo(10 / 3);
  });

  it('gives exact percentiles for values below 64 ns (one bucket per ns)', () => {
    const values = Array.from({ length: 60 }, (_, i) => i + 1);
    const h = histogramOf(values);
    for (const p of [1, 10, 50, 90, 99]) expect(h.percentile(p)).toBe(exactPercentile(values, p));
    expect(h.percentile(0)).toBe(1);
    expect(h.percentile(100)).toBe(60);
  });

  it('gives ordered percentiles within 1.6 % of the exact ones for a long-tailed distribution', () => {
    const samples = logNormalSamples(200_000, 42);
    const h = histogramOf(samples);
    const sorted = [...samples].sort((a, b) => a - b);
    const ps = [1, 10, 50, 90, 99, 99.9, 99.99];
    const estimates = ps.map((p) => h.percentile(p));
    ps.forEach((p, i) => {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(estimates[i] - exact) / exact).toBeLessThanOrEqual(1 / 64 + 1e-9);
    });
    expect([...estimates].sort((a, b) => a - b)).toEqual(estimates);
    expect(h.min).toBe(sorted[0]);
    expect(h.max).toBe(sorted[sorted.length - 1]);
  });

  it('gives percentiles within 1.6 % for a uniform distribution over 1 µs .. 1 ms', () => {
    const random = seededRandom(3);
    const samples = Array.from({ length: 100_000 }, () => 1000 + Math.floor(random() * 999_000));
    const h = histogramOf(samples);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const p of [5, 25, 50, 75, 95, 99.9]) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThanOrEqual(1 / 64 + 1e-9);
    }
  });

  it('merges by adding counts, sums and buckets and widening min / max', () => {
    const a = histogramOf([100, 200, 300]);
    const b = histogramOf([5, 5000]);
    const empty = LatencyHistogram.allocateShared();
    a.mergeFrom(b);
    a.mergeFrom(empty);
    expect([a.count, a.min, a.max, a.mean]).toEqual([5, 5, 5000, 5605 / 5]);
    expect(a.buckets().reduce((sum, x) => sum + x.count, 0)).toBe(5);
    empty.mergeFrom(b);
    expect([empty.count, empty.min, empty.max]).toEqual([2, 5, 5000]);
    expect(() => a.mergeFrom(LatencyHistogram.allocateShared(4))).toThrow(RangeError);
  });

  it('lives entirely in its SharedArrayBuffer view: a second wrapper sees the same data', () => {
    const buffer = new SharedArrayBuffer(8 * (LatencyHistogram.storageLength() + 16));
    const view = new Float64Array(buffer, 8 * 16, LatencyHistogram.storageLength());
    const writer = new LatencyHistogram(view);
    writer.record(1500);
    writer.record(2500);
    const reader = new LatencyHistogram(new Float64Array(buffer, 8 * 16, LatencyHistogram.storageLength()));
    expect([reader.count, reader.min, reader.max, reader.mean]).toEqual([2, 1500, 2500, 2000]);
    expect(reader.buckets()).toEqual(writer.buckets());
    expect(new Float64Array(buffer, 0, 16).every((slot) => slot === 0)).toBe(true);
    expect(LatencyHistogram.allocateShared().count).toBe(0);
  });

  it('returns only non-empty buckets, in increasing order, that add up to the count', () => {
    const samples = logNormalSamples(10_000, 5);
    const buckets = histogramOf(samples).buckets();
    expect(buckets.every((b) => b.count > 0)).toBe(true);
    expect(buckets.every((b, i) => i === 0 || buckets[i - 1].toNs <= b.fromNs)).toBe(true);
    expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(10_000);
  });

  it('estimates countBelow exactly at bucket edges and monotonically in between', () => {
    const samples = logNormalSamples(20_000, 11);
    const h = histogramOf(samples);
    for (const b of h.buckets()) {
      expect(h.countBelow(b.toNs)).toBe(samples.filter((v) => v < b.toNs).length);
    }
    let previous = 0;
    for (let ns = 0; ns <= 100_000; ns += 97) {
      const below = h.countBelow(ns);
      expect(below).toBeGreaterThanOrEqual(previous);
      previous = below;
    }
    expect(h.countBelow(h.min)).toBe(0);
    expect(h.countBelow(h.max + 1)).toBe(20_000);
  });

  it('summarizes in microseconds', () => {
    const s = summarize(histogramOf([1000, 2000, 3000, 4000]));
    expect(s).toMatchObject({ count: 4, min: 1, max: 4, avg: 2.5 });
    expect(s.p50).toBeCloseTo(2, 1);
    // 4000 ns lies in the 64 ns wide bucket [3968, 4032): its middle, clamped to max, is 3999.5.
    expect(s.p999).toBe(3.9995);
  });
});
