/**
 * A variant is a version of the kernel code: a name, one line saying what it is, and a Kernel
 * subclass that overrides only the functions that differ. Historical versions, a user's patch
 * idea, and the deliberately broken mutants of the race self-test are all variants.
 */
import type { KernelClass } from '../kernel/smpboot.js';

export interface Variant {
  /** Name on the command line (`--variant NAME`). */
  readonly name: string;
  /** One line: what this version is. */
  readonly description: string;
  /** The kernel code of this version. */
  readonly kernel: KernelClass;
}

export function defineVariant(v: Variant): Variant {
  return Object.freeze({ ...v });
}
