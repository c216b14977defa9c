/**
 * The variant registry. To add a variant: write `src/variants/NAME.ts` that default-exports
 * `defineVariant({ name, description, kernel: class extends Kernel { override … } })`,
 * and add it to the list below.
 */
import { Errors } from '../errors.js';
import busyCount from './busy-count.js';
import current from './current.js';
import merged from './merged.js';
import { MUTANTS } from './mutants/index.js';
import v2 from './v2.js';
import type { Variant } from './variant.js';

export const DEFAULT_VARIANT = 'merged';

const VARIANTS: readonly Variant[] = [merged, v2, current, busyCount];

/** The real (non-mutant) variants, by name. */
export function variantNames(): string[] {
  return VARIANTS.map((v) => v.name);
}

export function mutantNames(): string[] {
  return MUTANTS.map((v) => v.name);
}

/** A variant or a mutant, by name (mutants are variants too: `--variant claim-load-store` works). */
export function findVariant(name: string): Variant {
  const v = VARIANTS.find((x) => x.name === name) ?? MUTANTS.find((x) => x.name === name);
  if (!v) throw Errors.unknownVariant(name, variantNames());
  return v;
}

export function findMutant(name: string): Variant {
  const v = MUTANTS.find((x) => x.name === name);
  if (!v) throw Errors.unknownMutant(name, mutantNames());
  return v;
}

export { MUTANTS };

export type { Variant } from './variant.js';
