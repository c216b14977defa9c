/**
 * One monotonic clock for all CPUs. performance.now() is cheap but each worker counts from its
 * own time origin; process.hrtime is CLOCK_MONOTONIC, the same in every thread but allocates.
 * So each thread calibrates once: nowNs = performance.now() in ns + (hrtime − performance.now()).
 */
import { performance } from 'node:perf_hooks';

export type Clock = () => number;

function calibrate(): number {
  // Take the tightest of many samples (after a warm-up), so neither a preemption between the two
  // reads nor the first slow calls skew us.
  let best = Infinity;
  let offsetNs = 0;
  for (let i = 0; i < 200; i++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint());
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offsetNs = hr - ((before + after) / 2) * 1e6;
    }
  }
  return offsetNs;
}

/** The shared monotonic clock of this thread, in ns. */
export function monotonicClock(): Clock {
  const offsetNs = calibrate();
  return () => performance.now() * 1e6 + offsetNs;
}

/** How far this thread's calibrated clock is from hrtime right now (for the skew check), in ns. */
export function clockSkewNs(clock: Clock): number {
  let best = Infinity;
  let skew = 0;
  for (let i = 0; i < 50; i++) {
    const before = clock();
    const hr = Number(process.hrtime.bigint());
    const after = clock();
    if (after - before < best) {
      best = after - before;
      skew = (before + after) / 2 - hr;
    }
  }
  return skew;
}

/** A clock a test moves by hand. */
export function manualClock(startNs = 0): Clock & { advance(ns: number): void; set(ns: number): void } {
  let now = startNs;
  const clock = (() => now) as Clock & { advance(ns: number): void; set(ns: number): void };
  clock.advance = (ns) => {
    now += ns;
  };
  clock.set = (ns) => {
    now = ns;
  };
  return clock;
}
