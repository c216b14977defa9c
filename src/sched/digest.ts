/**
 * The run's digest: a 64-bit hash (two 32-bit lanes) of its whole event sequence, folded in as
 * the events happen. Under a controlled schedule only the turn holder folds, so the sequence and
 * with it the digest are a function of the run's arguments alone.
 */
import { H, type SchedView } from './layout.js';

/** The lanes' starting values (FNV offset basis and a second odd constant). */
export const DIGEST_SEED_A = 0x811c9dc5 | 0;
export const DIGEST_SEED_B = 0x2545f491 | 0;

/** Folds one 32-bit word into the run's digest. */
export function foldDigest(v: SchedView, word: number): void {
  foldLanes(v.i32, v.base + H.DIGEST_A, v.base + H.DIGEST_B, word);
}

/** Folds `word` into the two lanes at `a` and `b` of `i32` (the region's, or a hunt's own). */
export function foldLanes(i32: Int32Array, a: number, b: number, word: number): void {
  i32[a] = Math.imul(i32[a]! ^ word, 0x01000193);
  let x = (i32[b]! + Math.imul(word, 0x9e3779b1)) | 0;
  x = Math.imul(x ^ (x >>> 15), 0x85ebca6b);
  i32[b] = x ^ (x >>> 13);
}

/** A 32-bit mix of (seed, step) in [0, 2^32): the random strategy's coin, with no state to keep. */
export function mix32(seed: number, step: number, salt: number): number {
  let z = (seed ^ Math.imul(step | 0, 0x9e3779b9) ^ Math.imul(salt, 0x632be5ab)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}
