/**
 * A mutant is a deliberately broken variant: the race self-test proves each is detected. It
 * extends the merged kernel and overrides the one function it breaks, and it names the check
 * that is meant to catch it: a mutant found only by some other check means that check (or the
 * mutant) no longer does what the catalogue says, and the self-test fails on it.
 */
import { ALL_CHECKS } from '../../checks/index.js';
import type { KernelClass } from '../../kernel/smpboot.js';
import type { HotplugOptions } from '../../workload/hotplug.js';
import { defineVariant, type Variant } from '../variant.js';

/**
 * The names of the checks whose findings fail a run (src/checks/index.ts ALL_CHECKS, which types
 * its names as plain strings, less the informational `stranded`, which never fails a run and so
 * cannot detect a mutant). Spelled out here so that `expectedCheck` is checked by the compiler;
 * a name that ALL_CHECKS does not know (a check renamed) makes defineMutant throw when the
 * catalogue loads, and test/race.test.ts compares the two lists.
 */
export const CHECK_NAMES = [
  'one-list',
  'exactly-once',
  'context',
  'irqs-off',
  'sync',
  'use-after-free',
  'rcu',
  'contract',
  'liveness',
  'accounting',
  'kernel-warning',
  'offline',
] as const;

export type CheckName = (typeof CHECK_NAMES)[number];

/**
 * Run settings a mutant needs to be found at all, applied by the self-test over the command's
 * own: a mutant that breaks a step of CPU hotplug breaks nothing in a run without hotplug.
 */
export interface MutantRun {
  /** CPU hotplug on, at this schedule. */
  readonly hotplug?: HotplugOptions;
}

export interface Mutant extends Variant {
  /** The check meant to catch this mutant (the README's mutant table says why). */
  readonly expectedCheck: CheckName;
  /** Settings its self-test run needs (none: the command's settings as they are). */
  readonly run?: MutantRun;
}

export interface MutantSpec {
  name: string;
  description: string;
  expectedCheck: CheckName;
  run?: MutantRun;
  kernel: KernelClass;
}

export function defineMutant(spec: MutantSpec): Mutant {
  if (!ALL_CHECKS.some((c) => c.name === spec.expectedCheck)) {
    throw new Error(`mutant ${spec.name}: expectedCheck ${JSON.stringify(spec.expectedCheck)} is not a check of src/checks/index.ts`);
  }
  const { expectedCheck, run, ...variant } = spec;
  return Object.freeze({ ...defineVariant(variant), expectedCheck, ...(run ? { run: Object.freeze({ ...run }) } : {}) });
}
