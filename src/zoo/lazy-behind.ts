/**
 * The zoo's latency case: on PREEMPT_RT a plain work queued behind a LAZY one on the same
 * lazy_list gets no self-IPI (llist_add finds the list non-empty) and waits for the tick.
 * Measured on one real-time CPU (no workers needed): the local threaded latency of a plain work
 * alone, then with a LAZY work queued just before it.
 */
import { monotonicClock } from '../cpu/clock.js';
import { CpuRuntime } from '../cpu/runtime.js';
import { IRQ_WORK_LAZY } from '../kernel/flags.js';
import { NO_HOOKS } from '../kernel/hooks.js';
import { KernelMemory } from '../kernel/memory.js';
import { Random } from '../util/random.js';
import { findVariant } from '../variants/index.js';
import { FUNC_FIRST_USER } from '../kernel/memory.js';

export interface LazyBehindResult {
  aloneP50Us: number;
  behindLazyP50Us: number;
  samples: number;
  tickUs: number;
}

const FUNC_MEASURE = FUNC_FIRST_USER + 20;
const FUNC_NOTHING = FUNC_FIRST_USER + 21;

export function measureLazyBehind(variant = 'merged', samples = 100, hz = 1000, seed = 1): LazyBehindResult {
  const mem = KernelMemory.create({ nrCpus: 1, nrWorks: 2, preemptRt: true, hz });
  const clock = monotonicClock();
  // The queue moment of the plain work: stamped at its successful claim (one CPU, one thread).
  let queuedNs = 0;
  const rt = new CpuRuntime(mem, 0, findVariant(variant).kernel, { clock, schedule: () => {}, warn: () => {} }, {
    nohz: false,
    instrument: () => ({
      hooks: {
        ...NO_HOOKS,
        claim: (_cpu, work, ok) => {
          if (ok && work === plain) queuedNs = clock();
        },
      },
    }),
  });
  const plain = mem.poolWork(0);
  const lazy = mem.poolWork(1);
  mem.initWork(plain, 0, FUNC_MEASURE, 0);
  mem.initWork(lazy, IRQ_WORK_LAZY, FUNC_NOTHING, 0);
  let latencyNs = -1;
  rt.k.registerFunc(FUNC_MEASURE, (_k, work) => {
    if (work === plain) latencyNs = clock() - queuedNs;
  });
  rt.k.registerFunc(FUNC_NOTHING, () => {});
  rt.boot();

  // Each sample starts at a random moment within a tick after the previous one has finished: the
  // previous LAZY work ran at a tick, and starting right after it would make every plain work
  // behind a LAZY one wait almost a whole tick (its queue moment phase-locked to the tick).
  const rng = new Random(seed, 0);
  const tickNs = 1e9 / hz;
  const measure = (withLazy: boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < samples; i++) {
      const startAt = clock() + rng.next() * tickNs;
      while (clock() < startAt) rt.interruptPoint();
      latencyNs = -1;
      if (withLazy) rt.k.irqWorkQueue(lazy);
      rt.k.irqWorkQueue(plain);
      const deadline = clock() + 50e6; // a tick is at most 100 ms at HZ 10
      while (latencyNs < 0 && clock() < deadline) rt.interruptPoint();
      if (latencyNs >= 0) out.push(latencyNs / 1000);
      // Let the LAZY work (if any) finish before the next sample.
      while (rt.k.irqWorkIsBusy(lazy) && clock() < deadline) rt.interruptPoint();
    }
    return out.sort((a, b) => a - b);
  };
  const p50 = (xs: number[]) => (xs.length ? xs[Math.floor(xs.length / 2)]! : NaN);
  const alone = measure(false);
  const behind = measure(true);
  return { aloneP50Us: p50(alone), behindLazyP50Us: p50(behind), samples, tickUs: 1e6 / hz };
}
