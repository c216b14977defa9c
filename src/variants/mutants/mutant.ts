/**
 * A mutant is a deliberately broken variant: the race self-test proves each is detected. It
 * extends the merged kernel and overrides the one function it breaks.
 */
import type { KernelClass } from '../../kernel/smpboot.js';
import { defineVariant, type Variant } from '../variant.js';

export function defineMutant(name: string, description: string, kernel: KernelClass): Variant {
  return defineVariant({ name, description, kernel });
}
