/**
 * The shadow checks, by name. The machine-side checks (liveness, accounting) run in the main
 * thread: see race/liveness.ts and stress/report.ts; kernel WARN/BUG messages are reported as
 * `kernel-warning`, and "may sleep" callbacks in atomic context as `context`.
 */
import type { Check } from './check.js';
import { context } from './context.js';
import { exactlyOnce } from './exactly-once.js';
import { irqsOff } from './irqs-off.js';
import { oneList } from './one-list.js';
import { rcu } from './rcu.js';
import { sync } from './sync.js';
import { useAfterFree } from './use-after-free.js';

export const CPU_CHECKS: readonly Check[] = [oneList, exactlyOnce, context, irqsOff, sync, useAfterFree, rcu];

/** Every check name with its invariant, for the report (CPU checks first, then machine-side ones). */
export const ALL_CHECKS: ReadonlyArray<{ name: string; invariant: string; info?: boolean }> = [
  ...CPU_CHECKS.map((c) => ({ name: c.name, invariant: c.invariant })),
  { name: 'liveness', invariant: 'no work stays pending (or BUSY) while its CPU keeps running' },
  { name: 'accounting', invariant: 'after quiescing, claimed == executed for every work' },
  { name: 'kernel-warning', invariant: 'no WARN_ON_ONCE / BUG_ON of the kernel code fires' },
  { name: 'stranded', invariant: 'RT lazy work left on a CPU going offline (known, accepted: reported only)', info: true },
];

export type { Check, CheckEnv } from './check.js';
