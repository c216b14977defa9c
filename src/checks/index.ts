/**
 * The shadow checks, by name. The machine-side checks (liveness, accounting) run in the main
 * thread: see race/liveness.ts and stress/report.ts; kernel WARN/BUG messages are reported as
 * `kernel-warning`, and "may sleep" callbacks in atomic context as `context`; a CPU going
 * offline (workload/hotplug.ts) reports `offline` and `stranded` itself.
 */
import type { Check } from './check.js';
import { context } from './context.js';
import { contract } from './contract.js';
import { exactlyOnce } from './exactly-once.js';
import { irqsOff } from './irqs-off.js';
import { oneList } from './one-list.js';
import { rcu } from './rcu.js';
import { sync } from './sync.js';
import { syncOverlap } from './sync-overlap.js';
import { useAfterFree } from './use-after-free.js';

export const CPU_CHECKS: readonly Check[] = [oneList, exactlyOnce, context, irqsOff, sync, useAfterFree, rcu, contract];

/**
 * Every check name with its invariant, for the report (CPU checks first, then machine-side ones).
 * `contract` is both: its end-of-run half runs in stress/report.ts under the same name.
 */
export const ALL_CHECKS: ReadonlyArray<{ name: string; invariant: string; info?: boolean }> = [
  ...CPU_CHECKS.map((c) => ({ name: c.name, invariant: c.invariant })),
  { name: 'liveness', invariant: 'no work stays pending (or BUSY) while its CPU keeps running' },
  { name: 'accounting', invariant: 'after quiescing, claimed == executed for every work' },
  { name: 'kernel-warning', invariant: 'no WARN_ON_ONCE / BUG_ON of the kernel code fires' },
  { name: 'offline', invariant: 'a CPU going offline leaves no non-lazy work behind (smpcfd_dying_cpu flushes it)' },
  { name: 'stranded', invariant: 'RT lazy work left on a CPU going offline (known, accepted: reported only)', info: true },
];

/**
 * Checks that run only where a workload asks for them (WorkloadSpec.checks: the `sync-overlap`
 * preset, or `"checks"` in a scenario file), on top of CPU_CHECKS. `sync-overlap` watches a
 * property every variant up to `current` lacks (irq_work_sync returns while an overlapping
 * execution still runs): in the default checks it would flag every run that re-queues a work
 * from another CPU and syncs it. Not in ALL_CHECKS, which lists the checks of every race run.
 */
export const OPT_IN_CHECKS: readonly Check[] = [syncOverlap];

/** The opt-in checks named in `names` (a workload's `checks`), in OPT_IN_CHECKS order. */
export function optInChecks(names: readonly string[] | undefined): Check[] {
  return names ? OPT_IN_CHECKS.filter((c) => names.includes(c.name)) : [];
}

/** The checks of a race run whose workload asks for `names`: ALL_CHECKS, then those opt-in ones (for its report). */
export function checksOfRun(names: readonly string[] | undefined): ReadonlyArray<{ name: string; invariant: string; info?: boolean }> {
  return [...ALL_CHECKS, ...optInChecks(names).map((c) => ({ name: c.name, invariant: c.invariant }))];
}

export type { Check, CheckEnv } from './check.js';
