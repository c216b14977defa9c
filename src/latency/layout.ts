/**
 * The latency harness's region of the shared memory: an extra region of kernel/layout.ts named
 * "latency", which the kernel model never touches. Offsets are words from the region's base (which
 * is line-aligned, so even offsets are float64-aligned).
 *
 *   +0     ┌────────────────────────────────────────────────────────────────────────────┐
 *          │ control line                        main thread writes, CPUs read (Atomics)  │
 *          │   0 READY      CPUs done with the queue-cost phase (each CPU adds 1); CPU i │
 *          │                times its batches when READY is i (one CPU at a time)         │
 *          │   1 GO         0 until the main thread opens the measuring phase             │
 *          │   2-3 RECORD_FROM_NS (float64): claims stamped earlier are JIT warm-up       │
 *   +16    ├────────────────────────────────────────────────────────────────────────────┤
 *          │ queue stamps: float64 per measured work (pool order, see pool.ts), when its │
 *          │   last successful claim was made; the claiming CPU writes it before the     │
 *          │   llist_add() that publishes the work, the running CPU reads it after the    │
 *          │   llist_del_all() that took it (the list's exchange orders the two)          │
 *          ├────────────────────────────────────────────────────────────────────────────┤
 *          │ CPU 0 block                         only CPU 0 writes (plain stores)          │
 *          │   line 0   THREAD_ID, FLOOR_WORD (the bare or + cmpxchg pair's own word)     │
 *          │   line 1   ACT_NS[class] float64 × 5: last latency recorded per class        │
 *          │   then     HISTOGRAMS: 5 latency histograms (one per class slot, recorded by │
 *          │            the CPU that runs the callback), then 3 queue-cost histograms     │
 *          │            (ns per call: floor, claim succeeds, already pending); each one   │
 *          │            LatencyHistogram storage, padded to whole lines                   │
 *          ├────────────────────────────────────────────────────────────────────────────┤
 *          │ CPU 1 block … CPU n-1 block                                                  │
 *          └────────────────────────────────────────────────────────────────────────────┘
 *
 * A histogram is written only by its CPU (see stats/histogram.ts); the main thread reads it after
 * that CPU's piscina task has returned, which orders the reads after every write.
 */
import { WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import { LatencyHistogram } from '../stats/histogram.js';
import { NR_CLASS_SLOTS } from './classes.js';

export const LATENCY_REGION = 'latency';

export const L_READY = 0;
export const L_GO = 1;
export const L_RECORD_FROM_NS_F64 = 2;
const CONTROL_WORDS = WORDS_PER_LINE;
const STAMPS = CONTROL_WORDS;

function stampWords(nrCpus: number): number {
  return Math.ceil((nrCpus * NR_CLASS_SLOTS * 2) / WORDS_PER_LINE) * WORDS_PER_LINE;
}

const C_THREAD_ID = 0;
const C_FLOOR_WORD = 1;
const C_ACT_NS_F64 = WORDS_PER_LINE;
const C_HISTOGRAMS = 2 * WORDS_PER_LINE;

/** The queue-cost histograms, after the class histograms. */
export const COST_FLOOR = 0;
export const COST_CLAIM_OK = 1;
export const COST_PENDING = 2;
export const COST_KINDS = ['floor', 'claimOk', 'pending'] as const;
export type CostKind = (typeof COST_KINDS)[number];

const HISTOGRAM_SLOTS = LatencyHistogram.storageLength();
const HISTOGRAM_WORDS = Math.ceil((HISTOGRAM_SLOTS * 2) / WORDS_PER_LINE) * WORDS_PER_LINE;
const CPU_WORDS = C_HISTOGRAMS + (NR_CLASS_SLOTS + COST_KINDS.length) * HISTOGRAM_WORDS;

/** The extra region a latency run asks KernelMemory.create for. */
export function latencyRegion(nrCpus: number): ExtraRegion {
  return { name: LATENCY_REGION, words: CONTROL_WORDS + stampWords(nrCpus) + nrCpus * CPU_WORDS };
}

/** Typed access to the region, from the main thread or a CPU worker. */
export class LatencyView {
  readonly base: number;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  /** Float64 index of the first measured work's queue stamp. */
  readonly stampIndex: number;
  private readonly cpusBase: number;

  constructor(readonly mem: KernelMemory) {
    const region = mem.layout.extra[LATENCY_REGION];
    if (!region) throw new Error('shared memory has no latency region');
    this.base = region.base;
    this.stampIndex = (region.base + STAMPS) / 2;
    this.cpusBase = region.base + STAMPS + stampWords(mem.cfg.nrCpus);
    this.i32 = mem.i32;
    this.f64 = mem.f64;
  }

  /** Word index of a control word (L_*). */
  control(off: number): number {
    return this.base + off;
  }

  get recordFromNs(): number {
    return this.f64[(this.base + L_RECORD_FROM_NS_F64) / 2]!;
  }

  set recordFromNs(ns: number) {
    this.f64[(this.base + L_RECORD_FROM_NS_F64) / 2] = ns;
  }

  private cpuBase(cpu: number): number {
    return this.cpusBase + cpu * CPU_WORDS;
  }

  threadIdWord(cpu: number): number {
    return this.cpuBase(cpu) + C_THREAD_ID;
  }

  floorWord(cpu: number): number {
    return this.cpuBase(cpu) + C_FLOOR_WORD;
  }

  /** Float64 index of the last latency of a class slot on `cpu`. */
  actIndex(cpu: number, slot: number): number {
    return (this.cpuBase(cpu) + C_ACT_NS_F64) / 2 + slot;
  }

  private histogramAt(cpu: number, index: number): LatencyHistogram {
    const word = this.cpuBase(cpu) + C_HISTOGRAMS + index * HISTOGRAM_WORDS;
    return new LatencyHistogram(new Float64Array(this.mem.sab, word * 4, HISTOGRAM_SLOTS));
  }

  /** The latency histogram of a class slot, for callbacks that ran on `cpu`. */
  classHistogram(cpu: number, slot: number): LatencyHistogram {
    return this.histogramAt(cpu, slot);
  }

  /** A queue-cost histogram (COST_*) of `cpu`, ns per call. */
  costHistogram(cpu: number, kind: number): LatencyHistogram {
    return this.histogramAt(cpu, NR_CLASS_SLOTS + kind);
  }
}
