/**
 * The checks' shadow state of the work nodes: an extra region of kernel/layout.ts named "shadow",
 * one line per node, at the node's own index (line 0, like node 0, is never used). The kernel
 * model never reads or writes it, and runs without checks do not have it. Offsets are words from
 * the node's shadow line; every access is an Atomics operation (several CPUs write one line).
 *
 *   +0     ┌────────────────────────────────────────────────────────────────────────────┐
 *          │ line 0: unused (node 0 is the null "pointer")                              │
 *   +16    ├────────────────────────────────────────────────────────────────────────────┤
 *          │ shadow line of node 1 (then 2 … nrNodes-1: wakeup works, then the pool)    │
 *          │   0 OWNER_TAG      list head the node is on  set by the linking CPU,       │
 *          │                                              cleared by the CPU taking     │
 *          │                                              its chain (one-list hooks)    │
 *          │   1 ALLOC_STATE    ALLOC_LIVE / _FREED       the work's owner (workload)   │
 *          │   2 INFLIGHT       executions in flight      executing CPUs (shadow.ts)    │
 *          │   3 RUNNING_CLAIM  claim that started last   executing CPU (shadow.ts)     │
 *          │   4 OVERLAP_CLAIM  claim run overlapped      executing CPU (shadow.ts)     │
 *          │   5 FREE_GEN       frees so far              the work's owner (workload)   │
 *          │   6 PASSED_CLAIM   claim past BUSY clear     executing CPU (shadow.ts)     │
 *          │   7 BUSY_PASSED    executions that reached   executing CPUs (sync-overlap, │
 *          │                    their BUSY clear, ever    only when that check is on)   │
 *          │   8 LINKED         list a completed llist_add executing/linking CPU and the  │
 *          │                    published it on           CPU taking its chain (shadow.ts)│
 *          │   9-15 spare                                                               │
 *          ├────────────────────────────────────────────────────────────────────────────┤
 *          │ … shadow line of node nrNodes-1                                            │
 *          └────────────────────────────────────────────────────────────────────────────┘
 *
 * Readers: the one-list check (OWNER_TAG), the sync check (INFLIGHT and the claim numbers), the
 * use-after-free check (ALLOC_STATE, FREE_GEN), the sync-overlap check (BUSY_PASSED, INFLIGHT,
 * the claim numbers), and the liveness scanner in the main thread (LINKED, INFLIGHT).
 */
import { WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export const SHADOW_REGION = 'shadow';
/** Words of one node's shadow state: one line, so it shares no cache line with another node's. */
export const SHADOW_NODE_WORDS = WORDS_PER_LINE;

/** The list head word the node is on, 0 when on none (one-list check). */
export const S_OWNER_TAG = 0;
/** Allocation state for use-after-free checks: ALLOC_* below. */
export const S_ALLOC_STATE = 1;
/** Executions between irq_work_single's start and its end, after its BUSY clear (sync check, liveness). */
export const S_INFLIGHT = 2;
/** Claim number of the execution that started last (sync check). */
export const S_RUNNING_CLAIM = 3;
/** Claim number of an execution that started while another was still in flight. */
export const S_OVERLAP_CLAIM = 4;
/** Free generation: bumped on every free, so a finding can tell which life of the work was touched. */
export const S_FREE_GEN = 5;
/** Claim number of the execution that last reached its BUSY clear (sync check). */
export const S_PASSED_CLAIM = 6;
/** Executions that reached their BUSY clear since the work was set up, kept by the sync-overlap check. */
export const S_BUSY_PASSED = 7;
/**
 * The list head word the node was published on by a completed llist_add (its compare-exchange
 * succeeded), 0 when on none; kept by checks/shadow.ts for the liveness scanner. Unlike
 * S_OWNER_TAG, set before the compare-exchange, it never names a list the node is not on yet: a
 * queuer the OS deschedules between the two would otherwise look like a lost IPI.
 */
export const S_LINKED = 8;

export const ALLOC_LIVE = 0;
export const ALLOC_FREED = 1;

/** The extra region a run with checks asks KernelMemory.create for: one line per work node. */
export function shadowRegion(cfg: { nrCpus: number; nrWorks: number }): ExtraRegion {
  // The nodes of kernel/layout.ts: the null node, one wakeup work per CPU, then the pool.
  const nrNodes = 1 + cfg.nrCpus + cfg.nrWorks;
  return { name: SHADOW_REGION, words: nrNodes * SHADOW_NODE_WORDS };
}

/** Typed access to the region, from a CPU worker, the main thread or a test. */
export class ShadowView {
  /** First word of the region (the unused line of node 0). */
  readonly base: number;
  readonly i32: Int32Array;

  constructor(mem: KernelMemory) {
    const region = mem.layout.extra[SHADOW_REGION];
    if (!region) throw new Error('shared memory has no shadow region (checks need shadowRegion)');
    if (region.words < mem.layout.nrNodes * SHADOW_NODE_WORDS) {
      throw new Error(`shadow region has ${region.words} words, ${mem.layout.nrNodes} nodes need more`);
    }
    this.base = region.base;
    this.i32 = mem.i32;
  }

  /** The view of `mem`'s shadow region, or undefined when the run has none (checks off). */
  static find(mem: KernelMemory): ShadowView | undefined {
    return mem.layout.extra[SHADOW_REGION] ? new ShadowView(mem) : undefined;
  }

  /** First word of node `work`'s shadow line: add S_* offsets to it. */
  line(work: number): number {
    return this.base + work * SHADOW_NODE_WORDS;
  }

  /** Word index of shadow field `field` (S_*) of node `work`. */
  word(work: number, field: number): number {
    return this.base + work * SHADOW_NODE_WORDS + field;
  }

  isFreed(work: number): boolean {
    return Atomics.load(this.i32, this.line(work) + S_ALLOC_STATE) === ALLOC_FREED;
  }

  /** kfree(work), KASAN style: a new free generation, and the work poisoned. */
  markFreed(work: number): void {
    const line = this.line(work);
    Atomics.add(this.i32, line + S_FREE_GEN, 1);
    Atomics.store(this.i32, line + S_ALLOC_STATE, ALLOC_FREED);
  }

  /** The work is allocated again (its free generation is kept: it tells the lives apart). */
  markLive(work: number): void {
    Atomics.store(this.i32, this.line(work) + S_ALLOC_STATE, ALLOC_LIVE);
  }
}
