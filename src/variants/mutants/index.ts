/** The mutant catalogue of `irqwork race --mutants all`: one broken function each. */
import type { Variant } from '../variant.js';
import busyNeverCleared from './busy-never-cleared.js';
import claimLoadStore from './claim-load-store.js';
import delAllReadClear from './del-all-read-clear.js';
import hardInThread from './hard-in-thread.js';
import ipiSkipped from './ipi-skipped.js';
import lazyInHardirq from './lazy-in-hardirq.js';
import needsCpuIgnoresLazy from './needs-cpu-ignores-lazy.js';
import syncNoWait from './sync-no-wait.js';
import tickNoWake from './tick-no-wake.js';

export const MUTANTS: readonly Variant[] = [
  claimLoadStore,
  delAllReadClear,
  tickNoWake,
  lazyInHardirq,
  busyNeverCleared,
  syncNoWait,
  ipiSkipped,
  needsCpuIgnoresLazy,
  hardInThread,
];
