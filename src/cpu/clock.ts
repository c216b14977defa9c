/**
 * One monotonic clock for all CPUs. performance.now() is cheap but each worker counts from its
 * own time origin; process.hrtime is CLOCK_MONOTONIC, the same in every thread but allocates.
 * So each thread calibrates once: nowNs = performance.now() in ns + (hrtime − performance.now()).
 */
import { performance } from 'node:perf_hooks';

export type Clock = () => number;

function calibrate(): number {
  // Take the tightest of a few samples, so a preemption between the two reads does not skew us.
  let best = Infinity;
  let offsetNs = 0;
  for (let i = 0; i < 5; i++) {
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
  return clock() - Number(process.hrtime.bigint());
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
