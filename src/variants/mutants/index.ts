/** The mutant catalogue of `irqwork race --mutants all`: one broken function each. */
import busyNeverCleared from './busy-never-cleared.js';
import claimLoadStore from './claim-load-store.js';
import delAllReadClear from './del-all-read-clear.js';
import hardInThread from './hard-in-thread.js';
import ipiSkipped from './ipi-skipped.js';
import lazyInHardirq from './lazy-in-hardirq.js';
import needsCpuIgnoresLazy from './needs-cpu-ignores-lazy.js';
import noDyingFlush from './no-dying-flush.js';
import pendingClearedLate from './pending-cleared-late.js';
import syncNeverWoken from './sync-never-woken.js';
import syncNoWait from './sync-no-wait.js';
import tickNoWake from './tick-no-wake.js';
import type { Mutant } from './mutant.js';

export const MUTANTS: readonly Mutant[] = [
  claimLoadStore,
  delAllReadClear,
  tickNoWake,
  lazyInHardirq,
  busyNeverCleared,
  syncNoWait,
  ipiSkipped,
  needsCpuIgnoresLazy,
  hardInThread,
  pendingClearedLate,
  noDyingFlush,
  syncNeverWoken,
];

export type { CheckName, Mutant, MutantRun } from './mutant.js';
export { CHECK_NAMES } from './mutant.js';
