/**
 * Chaos at interrupt points, the KCSAN idea: at a seeded random subset of the points between two
 * shared-memory steps, stall a little (longer in task context than in interrupts), so that
 * another CPU runs into the window; plus random NMIs and tick jitter. Each CPU draws from its own
 * seeded stream, so a seed fixes every CPU's choices — the OS still decides the real timing.
 */
import type { RuntimeProbes } from '../cpu/probes.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import type { Random } from '../util/random.js';

export interface ChaosOptions {
  /** Chance, per interrupt point in task / irq_workd context, of a delay, and its maximum. */
  taskDelayChance: number;
  taskDelayUs: number;
  /** The same in hardirq / NMI context (KCSAN uses shorter delays there). */
  irqDelayChance: number;
  irqDelayUs: number;
  /** Chance, per interrupt point, that an NMI fires (and queues a work, like perf). */
  nmiChance: number;
  /** Maximum random shift of each tick. */
  tickJitterUs: number;
}

export const DEFAULT_CHAOS: ChaosOptions = {
  taskDelayChance: 0.01,
  taskDelayUs: 80,
  irqDelayChance: 0.01,
  irqDelayUs: 20,
  nmiChance: 0.001,
  tickJitterUs: 100,
};

/** Below this a delay spins; above it the thread sleeps (other simulated CPUs need the core). */
const SPIN_LIMIT_US = 20;

/**
 * Chaos as the runtime's probes for one CPU: a stall (or a random NMI running `nmiAction`) at
 * slow interrupt points, and jitter on every tick as it is armed.
 */
export function chaosProbes(
  cpu: SimCpu,
  rng: Random,
  opts: ChaosOptions,
  nmiAction: () => void,
  /** Under a controlled schedule a stall lets the others run for that long in virtual time. */
  controlledStall: ((ns: number) => void) | null = null,
): Partial<RuntimeProbes> {
  const sleepWord = new Int32Array(new SharedArrayBuffer(4));
  return {
    atInterruptPoint: () => {
      const inIrq = cpu.inHardirq() || cpu.inNmi();
      const chance = inIrq ? opts.irqDelayChance : opts.taskDelayChance;
      if (chance > 0 && rng.next() < chance) {
        const us = rng.next() * (inIrq ? opts.irqDelayUs : opts.taskDelayUs);
        if (controlledStall !== null) controlledStall(us * 1000);
        else if (us < SPIN_LIMIT_US) {
          const until = cpu.nowNs() + us * 1000;
          while (cpu.nowNs() < until);
        } else {
          Atomics.wait(sleepWord, 0, 0, us / 1000);
        }
      }
      // NMIs do not nest; everything else they may interrupt.
      if (opts.nmiChance > 0 && !cpu.inNmi() && rng.next() < opts.nmiChance) nmiAction();
    },
    tickArmed: (ns) => (opts.tickJitterUs > 0 ? ns + (rng.next() - 0.5) * opts.tickJitterUs * 1000 : ns),
  };
}
