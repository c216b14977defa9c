/**
 * The known-bug zoo: irq_work's real bugs and accepted behaviours, each reproduced on the model
 * and, where upstream fixed it (or, for a bug found with the model, where the model has a fix),
 * shown gone in the fixed variant. A case is a declaration: the run that shows it, the check that
 * must fire, and the variant that must then be clean.
 */
import type { HotplugOptions } from '../workload/hotplug.js';
import { DEFAULT_HOTPLUG } from '../workload/hotplug.js';

export interface RaceCase {
  kind: 'race';
  name: string;
  reference: string;
  explanation: string;
  variant: string;
  preemptRt: boolean;
  workload: string;
  hotplug?: HotplugOptions;
  /** The case reproduces when any of these checks fires. */
  checks: string[];
  /**
   * The variant that fixes it, run the same way, which must come out clean: upstream's fix, or
   * the model's own for a bug upstream has not fixed (its reference says so); null: not fixed.
   */
  fixed: string | null;
}

export interface LatencyCase {
  kind: 'latency';
  name: string;
  reference: string;
  explanation: string;
  fixed: null;
}

export type ZooCase = RaceCase | LatencyCase;

export const ZOO: readonly ZooCase[] = [
  {
    kind: 'race',
    name: 'v2-double-add',
    reference: '[PATCH v2 3/4] (Oct 2021), fixed in b4c6f86ec2f6',
    explanation:
      'v2 irq_work_queue_on on RT: when the remote lazy_list is not empty, llist_add returns false and the else branch puts the same node on call_single_queue too',
    variant: 'v2',
    preemptRt: true,
    workload: 'remote',
    checks: ['one-list', 'exactly-once', 'context'],
    fixed: 'merged',
  },
  {
    kind: 'race',
    name: 'sync-free-uaf',
    reference: '91840be8f710 (2026)',
    explanation:
      'merged on RT: irq_work_single calls rcuwait_wake_up after clearing BUSY; the owner\'s irq_work_sync can return and free the work in between',
    variant: 'merged',
    preemptRt: true,
    workload: 'sync-free',
    checks: ['use-after-free'],
    fixed: 'current',
  },
  {
    kind: 'race',
    name: 'busy-never-cleared',
    reference: 'e9838bd51169',
    explanation: 'BUSY is never cleared on one path, so irq_work_sync spins forever (found as a soft lockup)',
    variant: 'busy-never-cleared',
    preemptRt: true,
    workload: 'mixed',
    checks: ['liveness'],
    fixed: 'merged',
  },
  {
    kind: 'race',
    name: 'stranded-lazy-hotplug',
    reference: 'known on RT; migration proposed 2022, rejected',
    explanation: 'on RT, lazy work on a CPU going offline stays on its lazy_list while irq_workd is parked, until the CPU returns',
    variant: 'merged',
    preemptRt: true,
    workload: 'lazy',
    // Offline more often than the default, so that a short budget strands some work reliably.
    hotplug: { ...DEFAULT_HOTPLUG, everyMs: 100 },
    checks: ['stranded'],
    fixed: null,
  },
  {
    kind: 'race',
    name: 'ipi-offline-flush',
    reference: '8d056c48e486 (2014)',
    explanation:
      'without the flush of call_single_queue in the dying step, works other CPUs queued on a CPU just before it went offline stay on its queue while it is offline ("IPI on offline CPU")',
    // The mutant is exactly the pre-fix dying step on the merged code: one copy of it, as for
    // busy-never-cleared.
    variant: 'no-dying-flush',
    // Non-RT: every remote work goes on call_single_queue itself (on RT, non-hard work goes on
    // the lazy_list and only the wakeup work on the queue).
    preemptRt: false,
    workload: 'remote',
    // A remote queue must land just before a CPU takes the hotplug write lock: offline often.
    hotplug: { everyMs: 20, offlineMs: 2 },
    checks: ['offline'],
    fixed: 'merged',
  },
  {
    kind: 'race',
    name: 'overlap-busy-aba',
    reference: 'none upstream (found with this model)',
    explanation:
      'a work queued again while its callback still runs on another CPU runs twice at once with one BUSY bit: one compare-exchange clears it while the other callback runs ' +
      "(the older one's, once the newer one has cleared PENDING and the word has its value again: an ABA; or the newer one's, finishing first), " +
      "so irq_work_sync returns while the work is in use; current's grace period covers the rcuwait sleep of RT, not the cpu_relax spin of HARD_IRQ works",
    // The latest upstream code, on the path its grace period does not cover: a HARD_IRQ work's
    // irq_work_sync spins on BUSY even on RT. (merged shows it on every path, v2 and non-RT too.)
    variant: 'current',
    preemptRt: true,
    // One HARD_IRQ work per CPU, queued by every CPU and synced by its owner; the preset asks for
    // the opt-in sync-overlap check, which the default checks leave out.
    workload: 'sync-overlap',
    checks: ['sync-overlap'],
    // Not fixed upstream: the model's fix, a count of executions in progress beside BUSY.
    fixed: 'busy-count',
  },
  {
    kind: 'latency',
    name: 'lazy-blocks-plain',
    reference: 'reported 2022, kept by design',
    explanation: 'on RT a plain work queued behind a LAZY one on the lazy_list raises no IPI and waits for the tick',
    fixed: null,
  },
];
