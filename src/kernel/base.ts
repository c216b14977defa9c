/**
 * KernelBase: what every kernel file of the model shares — the memory, the configuration, the
 * CPU it runs on, the check hooks, the callback table, and per-CPU addressing (`per_cpu()`,
 * `this_cpu_ptr()`). The model's own bookkeeping (claimed / executed counts, branch coverage)
 * lives here too, so the kernel functions carry one line of it each, not a copy.
 */
import type { KernelConfig } from './config.js';
import { COV_SLOTS, type CoverageSink } from './coverage.js';
import { TASK_KIND_IRQWORKD, type KernelCpu } from './cpu.js';
import { NO_HOOKS, type KernelHooks } from './hooks.js';
import { Counter, W_CLAIMED, W_EXECUTED, W_FLAGS, W_FUNC, W_NEXT } from './layout.js';
import type { KernelMemory } from './memory.js';

/** An irq_work callback: `work->func(work)`. Runs on `k`'s CPU. */
export type IrqWorkFunc = (k: KernelBase, work: number) => void;

export abstract class KernelBase {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly cfg: KernelConfig;
  /** Word index of this CPU's block: `this_cpu_ptr()`. */
  readonly thisCpuBase: number;
  /** Float64 index of this CPU's first counter. */
  private readonly counterBase: number;
  /** Callback table, indexed by a node's W_FUNC. */
  readonly funcs: IrqWorkFunc[] = [];

  constructor(
    readonly mem: KernelMemory,
    readonly cpu: KernelCpu,
    readonly hooks: KernelHooks = NO_HOOKS,
    coverage: CoverageSink | null = null,
  ) {
    this.i32 = mem.i32;
    this.f64 = mem.f64;
    this.cfg = mem.cfg;
    this.thisCpuBase = mem.cpuBase(cpu.id);
    this.counterBase = mem.counterIndex(cpu.id, 0);
    if (coverage) {
      // A kernel built with a sink counts: this own `cover` hides the empty one of the class.
      const { counts, slot } = coverage;
      this.cover = (point) => {
        counts[point * COV_SLOTS + slot()]! += 1;
      };
    }
  }

  /** `per_cpu(var, cpu)` for a per-CPU word at offset `off` of the CPU block. */
  perCpu(off: number, cpu: number): number {
    return this.mem.cpuBase(cpu) + off;
  }

  /** `this_cpu_ptr(&var)`. */
  thisCpu(off: number): number {
    return this.thisCpuBase + off;
  }

  /** Address of a node field. */
  nodeWord(work: number, field: number): number {
    return this.mem.node(work) + field;
  }

  /** `work->node.a_flags` address. */
  flagsOf(work: number): number {
    return this.mem.node(work) + W_FLAGS;
  }

  /** `node->next` address. */
  nextOf(node: number): number {
    return this.mem.node(node) + W_NEXT;
  }

  registerFunc(id: number, fn: IrqWorkFunc): void {
    this.funcs[id] = fn;
  }

  /** Calls `work->func(work)`. */
  callFunc(work: number): void {
    const fn = this.funcs[this.i32[this.mem.node(work) + W_FUNC]!];
    if (fn) fn(this, work);
  }

  // ── model bookkeeping (not kernel code) ──────────────────────────────────────

  /**
   * A branch of a kernel function ran (`point` is `Cov.…` of coverage.ts). Counted only by a
   * kernel built with a coverage sink (runs with checks), whose constructor replaces this with
   * its own; for every other kernel it stays empty, and an empty method costs nothing inlined —
   * even a null test at each of the many branches measurably slowed the hot paths.
   */
  cover(_point: number): void {}

  count(counter: number, by = 1): void {
    this.f64[this.counterBase + counter]! += by;
  }

  /**
   * A claim succeeded: the work now owes one execution. Runs before the work is put on a list,
   * so whoever takes it off the list sees the count (the list's exchange orders them).
   */
  accountClaim(work: number): void {
    const node = this.mem.node(work);
    // A plain increment: successful claims of one work are serialised by PENDING (the next one
    // can only succeed after an execution cleared it, and that execution took the work off a
    // list after this claim linked it), so no two claimers ever race on this word.
    this.i32[node + W_CLAIMED]!++;
    this.count(Counter.claimed);
  }

  /** The callback is about to run: one owed execution paid, counted by context. */
  accountExecuted(work: number): void {
    Atomics.add(this.i32, this.mem.node(work) + W_EXECUTED, 1);
    const cpu = this.cpu;
    if (cpu.inHardirq() && !cpu.inNmi()) this.count(Counter.executedHardirq);
    else if (!cpu.inNmi() && cpu.currentTask().kind === TASK_KIND_IRQWORKD) this.count(Counter.executedIrqWorkd);
    else this.count(Counter.executedOther);
  }
}
