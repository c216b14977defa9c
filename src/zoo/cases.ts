/**
 * The known-bug zoo: irq_work's real bugs and accepted behaviours, each reproduced on the model
 * and, where upstream fixed it, shown gone in the fixed variant. A case is a declaration: the
 * run that shows it, the check that must fire, and the variant that must then be clean.
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
  /** The variant in which upstream fixed it (run the same way, must be clean); null: not fixed. */
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
    kind: 'latency',
    name: 'lazy-blocks-plain',
    reference: 'reported 2022, kept by design',
    explanation: 'on RT a plain work queued behind a LAZY one on the lazy_list raises no IPI and waits for the tick',
    fixed: null,
  },
];
