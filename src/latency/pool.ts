/**
 * The works of a latency run. Pool order (derived from the CPU count alone, so the main thread
 * that initialises them and every CPU that queues them agree without talking):
 *
 *   cpu 0: one work per class slot, cpu 1: …, cpu n-1: …     (measured works)
 *   cpu 0: COST_BATCH works, cpu 1: …                          (queue-cost batches, HARD_IRQ)
 *
 * A measured work "belongs" to the CPU that queues it; its latency is recorded by the CPU that
 * runs its callback.
 */
import { IRQ_WORK_HARD_IRQ } from '../kernel/flags.js';
import { FUNC_FIRST_USER, type KernelMemory } from '../kernel/memory.js';
import { LATENCY_CLASSES, NR_CLASS_SLOTS } from './classes.js';

/** Callback of every latency work: nothing; the sample is taken at irq_work_single()'s entry. */
export const FUNC_LATENCY_NOP = FUNC_FIRST_USER;
/** queue calls between two clock reads in the queue-cost phase (and works per CPU for it). */
export const COST_BATCH = 1000;

export function latencyWorks(nrCpus: number): number {
  return nrCpus * (NR_CLASS_SLOTS + COST_BATCH);
}

/** The measured work that `cpu` queues for class `slot`. */
export function classWork(mem: KernelMemory, cpu: number, slot: number): number {
  return mem.poolWork(cpu * NR_CLASS_SLOTS + slot);
}

/** The i-th queue-cost work of `cpu`. */
export function costWork(mem: KernelMemory, cpu: number, i: number): number {
  return mem.poolWork(mem.cfg.nrCpus * NR_CLASS_SLOTS + cpu * COST_BATCH + i);
}

/** init_irq_work() for every work of a latency run. */
export function initLatencyWorks(mem: KernelMemory): void {
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    for (const c of LATENCY_CLASSES) mem.initWork(classWork(mem, cpu, c.slot), c.flags, FUNC_LATENCY_NOP, cpu);
    for (let i = 0; i < COST_BATCH; i++) mem.initWork(costWork(mem, cpu, i), IRQ_WORK_HARD_IRQ, FUNC_LATENCY_NOP, cpu);
  }
}
