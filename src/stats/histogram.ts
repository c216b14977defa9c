/**
 * Log-linear latency histogram (the HdrHistogram idea) whose whole state lives in a caller-provided
 * Float64Array, so a worker can record into a view of a SharedArrayBuffer and the main thread can
 * read the same memory afterwards without copying.
 *
 * Storage layout, one float64 per slot (S = 2^subBucketBits):
 *
 *   slot 0          COUNT    number of recorded values
 *   slot 1          SUM_NS   running sum of the values, so the mean is exact
 *   slot 2          MIN_NS   smallest value; meaningless while COUNT == 0
 *   slot 3          MAX_NS   largest value;  meaningless while COUNT == 0
 *   slot 4 + i      count of bucket i, for i in 0 .. (41 - subBucketBits) * S - 1
 *
 * Buckets: values below 2S ns get one bucket per nanosecond. Above that, each power-of-two range
 * [2^e, 2^(e+1)) is cut into S equal sub-buckets of width 2^k, k = e - subBucketBits, so a bucket
 * is never wider than 1/S of its lower bound (1/32 ≈ 3 % for the default). For v >= S the index is
 * k * S + floor(v / 2^k). Values at or above 2^40 ns (about 18 minutes) land in the last bucket.
 *
 * "Empty" is COUNT == 0 rather than MIN = +Infinity, because a freshly allocated SharedArrayBuffer
 * is all zeroes: zeroed storage is then a valid empty histogram and wrapping never has to write.
 *
 * Concurrency: exactly one thread writes a given storage, with plain (non-Atomics) stores. That is
 * deliberate: the record() hot path stays a handful of float ops. A reader on another thread may
 * see a torn or half-updated state while the writer runs; read the totals only after the writer
 * has stopped and handed over (a finished piscina task or an Atomics handshake gives the needed
 * happens-before edge).
 */

export const DEFAULT_SUB_BUCKET_BITS = 5;
/** Values at or above this many nanoseconds share the last bucket. */
export const MAX_TRACKABLE_NS = 2 ** 40;

const COUNT = 0;
const SUM_NS = 1;
const MIN_NS = 2;
const MAX_NS = 3;
const HEADER_SLOTS = 4;
const TWO_POW_32 = 2 ** 32;
const HIGHEST_EXPONENT = 40;
const NS_PER_US = 1000;

export interface LatencyBucket {
  fromNs: number;
  /** Exclusive upper bound. */
  toNs: number;
  count: number;
}

/** Summary in microseconds (floats), the unit cyclictest reports in. */
export interface LatencySummary {
  count: number;
  min: number;
  avg: number;
  max: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

function checkSubBucketBits(subBucketBits: number): void {
  if (!Number.isInteger(subBucketBits) || subBucketBits < 1 || subBucketBits > 20) {
    throw new RangeError(`subBucketBits must be an integer from 1 to 20, got ${subBucketBits}`);
  }
}

function bucketCountFor(subBucketBits: number): number {
  return (HIGHEST_EXPONENT + 1 - subBucketBits) * 2 ** subBucketBits;
}

export class LatencyHistogram {
  readonly subBucketBits: number;
  readonly bucketCount: number;
  private readonly storage: Float64Array;
  private readonly subBucketCount: number;
  private readonly linearLimitNs: number;
  /** inversePowerOfTwo[k] = 2^-k; multiplying by it is exact, unlike a general division. */
  private readonly inversePowerOfTwo: Float64Array;

  /** Float64 slots a histogram with this resolution needs. */
  static storageLength(subBucketBits = DEFAULT_SUB_BUCKET_BITS): number {
    checkSubBucketBits(subBucketBits);
    return HEADER_SLOTS + bucketCountFor(subBucketBits);
  }

  /** A histogram on fresh SharedArrayBuffer storage, ready to hand to a worker. */
  static allocateShared(subBucketBits = DEFAULT_SUB_BUCKET_BITS): LatencyHistogram {
    const slots = LatencyHistogram.storageLength(subBucketBits);
    const buffer = new SharedArrayBuffer(slots * Float64Array.BYTES_PER_ELEMENT);
    return new LatencyHistogram(new Float64Array(buffer), subBucketBits);
  }

  /** Wraps storage as is (no reset), so several wrappers of one storage see the same data. */
  constructor(storage: Float64Array, subBucketBits = DEFAULT_SUB_BUCKET_BITS) {
    const needed = LatencyHistogram.storageLength(subBucketBits);
    if (storage.length < needed) {
      throw new RangeError(`histogram storage needs ${needed} float64 slots, got ${storage.length}`);
    }
    this.storage = storage;
    this.subBucketBits = subBucketBits;
    this.bucketCount = bucketCountFor(subBucketBits);
    this.subBucketCount = 2 ** subBucketBits;
    this.linearLimitNs = 2 * this.subBucketCount;
    this.inversePowerOfTwo = new Float64Array(HIGHEST_EXPONENT);
    for (let k = 0; k < HIGHEST_EXPONENT; k++) this.inversePowerOfTwo[k] = 2 ** -k;
  }

  reset(): void {
    this.storage.fill(0, 0, LatencyHistogram.storageLength(this.subBucketBits));
  }

  /** Hot path: no allocation, a few float ops and one bucket increment. */
  record(valueNs: number): void {
    const s = this.storage;
    // NaN and the small negatives that clock skew between threads can produce count as 0 ns;
    // a NaN would otherwise poison the running sum for good.
    const v = valueNs > 0 ? valueNs : 0;
    const countBefore = s[COUNT];
    if (countBefore === 0 || v < s[MIN_NS]) s[MIN_NS] = v;
    if (countBefore === 0 || v > s[MAX_NS]) s[MAX_NS] = v;
    s[COUNT] = countBefore + 1;
    s[SUM_NS] += v;
    s[HEADER_SLOTS + this.bucketIndex(v)] += 1;
  }

  get count(): number { return this.storage[COUNT]; }
  /** Smallest value in ns; 0 when empty. */
  get min(): number { return this.count === 0 ? 0 : this.storage[MIN_NS]; }
  /** Largest value in ns; 0 when empty. */
  get max(): number { return this.count === 0 ? 0 : this.storage[MAX_NS]; }
  /** Exact mean in ns; 0 when empty. */
  get mean(): number { return this.count === 0 ? 0 : this.storage[SUM_NS] / this.count; }

  /**
   * Value (ns) at percentile p (0..100): the representative value of the bucket holding the
   * sample of rank ceil(p% of count), clamped to [min, max]. 0 when empty.
   */
  percentile(p: number): number {
    const total = this.count;
    if (total === 0) return 0;
    if (p <= 0) return this.min;
    if (p >= 100) return this.max;
    // (p * total) / 100 rather than (p / 100) * total: 0.99 * 100 is not exactly 99 in floats.
    const rank = Math.max(1, Math.ceil((p * total) / 100));
    let seen = 0;
    for (let i = 0; i < this.bucketCount; i++) {
      seen += this.storage[HEADER_SLOTS + i];
      if (seen >= rank) return this.clampToRange(this.representativeNs(i));
    }
    return this.max;
  }

  /**
   * Estimated number of values below ns (a real number). Buckets wholly below count fully; a
   * bucket that straddles ns counts the fraction of its integer values below ns, after narrowing
   * the bucket to [min, max] — so the estimate is exact at bucket edges, never exceeds the count
   * and never puts samples outside the recorded range.
   */
  countBelow(ns: number): number {
    const total = this.count;
    if (total === 0 || ns <= this.min) return 0;
    if (ns > this.max) return total;
    const lowestNs = Math.floor(this.min);
    const highestEndNs = Math.floor(this.max) + 1;
    let below = 0;
    for (let i = 0; i < this.bucketCount; i++) {
      const bucketCount = this.storage[HEADER_SLOTS + i];
      if (bucketCount === 0) continue;
      const fromNs = Math.max(this.bucketFromNs(i), lowestNs);
      const toNs = Math.min(this.bucketToNs(i), highestEndNs);
      if (toNs <= ns) below += bucketCount;
      else if (fromNs >= ns) break;
      else below += (bucketCount * (ns - fromNs)) / (toNs - fromNs);
    }
    return below;
  }

  /** Adds other's samples to this one; both must use the same subBucketBits. */
  mergeFrom(other: LatencyHistogram): void {
    if (other.subBucketBits !== this.subBucketBits) {
      throw new RangeError(
        `cannot merge histograms with subBucketBits ${other.subBucketBits} and ${this.subBucketBits}`,
      );
    }
    if (other.count === 0) return;
    const s = this.storage;
    const wasEmpty = s[COUNT] === 0;
    if (wasEmpty || other.min < s[MIN_NS]) s[MIN_NS] = other.min;
    if (wasEmpty || other.max > s[MAX_NS]) s[MAX_NS] = other.max;
    s[COUNT] += other.count;
    s[SUM_NS] += other.storage[SUM_NS];
    for (let i = HEADER_SLOTS; i < HEADER_SLOTS + this.bucketCount; i++) s[i] += other.storage[i];
  }

  /** Non-empty buckets in increasing order. */
  buckets(): LatencyBucket[] {
    const result: LatencyBucket[] = [];
    for (let i = 0; i < this.bucketCount; i++) {
      const count = this.storage[HEADER_SLOTS + i];
      if (count > 0) result.push({ fromNs: this.bucketFromNs(i), toNs: this.bucketToNs(i), count });
    }
    return result;
  }

  /** Index of the bucket that holds valueNs (valueNs >= 0). */
  bucketIndex(valueNs: number): number {
    if (valueNs < this.linearLimitNs) return Math.floor(valueNs);
    if (valueNs >= MAX_TRACKABLE_NS) return this.bucketCount - 1;
    const high = Math.floor(valueNs / TWO_POW_32);
    const log2 = high > 0 ? 63 - Math.clz32(high) : 31 - Math.clz32(valueNs >>> 0);
    const k = log2 - this.subBucketBits;
    return k * this.subBucketCount + Math.floor(valueNs * this.inversePowerOfTwo[k]);
  }

  bucketFromNs(index: number): number {
    if (index < this.linearLimitNs) return index;
    const k = Math.floor(index / this.subBucketCount) - 1;
    return (index - k * this.subBucketCount) * 2 ** k;
  }

  bucketToNs(index: number): number {
    if (index < this.linearLimitNs) return index + 1;
    const k = Math.floor(index / this.subBucketCount) - 1;
    return (index - k * this.subBucketCount + 1) * 2 ** k;
  }

  /** Middle of the integer values a bucket holds: its lower edge for a 1 ns bucket. */
  private representativeNs(index: number): number {
    const fromNs = this.bucketFromNs(index);
    return fromNs + (this.bucketToNs(index) - fromNs - 1) / 2;
  }

  private clampToRange(ns: number): number {
    return Math.min(Math.max(ns, this.min), this.max);
  }
}

/** count, min, avg, max and the usual percentiles, in microseconds. */
export function summarize(h: LatencyHistogram): LatencySummary {
  return {
    count: h.count,
    min: h.min / NS_PER_US,
    avg: h.mean / NS_PER_US,
    max: h.max / NS_PER_US,
    p50: h.percentile(50) / NS_PER_US,
    p90: h.percentile(90) / NS_PER_US,
    p99: h.percentile(99) / NS_PER_US,
    p999: h.percentile(99.9) / NS_PER_US,
  };
}
