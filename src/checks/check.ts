/**
 * A shadow check: a named invariant of the protocol (the README's check table), watched through
 * the kernel model's hooks on every CPU. A check never changes kernel state; it keeps its own shadow words (a line per work
 * node in the shadow region, see shadow-layout.ts) and reports what breaks. No false positives: a
 * check that cannot be sure stays silent.
 */
import type { SimCpu } from '../cpu/sim-cpu.js';
import type { KernelHooks } from '../kernel/hooks.js';
import type { KernelMemory } from '../kernel/memory.js';

export interface CheckEnv {
  mem: KernelMemory;
  cpu: SimCpu;
  /** Report a broken invariant about `work` (0 if none) seen on this CPU now. */
  report(check: string, work: number, message: string): void;
}

export interface Check {
  readonly name: string;
  /** One line: the invariant. */
  readonly invariant: string;
  /** Hooks of this check on one CPU (called on that CPU only). */
  hooks(env: CheckEnv): Partial<KernelHooks>;
}
