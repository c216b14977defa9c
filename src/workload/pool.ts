/**
 * Which work of the pool is what: per CPU, `plain` works, then `lazy`, then `hard`, each with its
 * callback. Derived from the workload alone, so the main thread (which initialises the works) and
 * every worker (which picks among them) agree without talking.
 */
import { IRQ_WORK_HARD_IRQ, IRQ_WORK_LAZY } from '../kernel/flags.js';
import type { KernelMemory } from '../kernel/memory.js';
import { FUNC_COUNT, FUNC_MAY_SLEEP, FUNC_REQUEUE } from './callbacks.js';
import { worksPerCpu, type WorkloadSpec } from './spec.js';

export type WorkKind = 'plain' | 'lazy' | 'hard';

export interface PoolWork {
  work: number;
  home: number;
  kind: WorkKind;
  flags: number;
  func: number;
}

/**
 * The works whose home is `home`, in pool order. Kind, flags and callback depend only on a work's
 * place within its CPU's block, never on the CPU: the j-th work of every block is alike.
 */
export function cpuPoolLayout(spec: WorkloadSpec, home: number, mem: Pick<KernelMemory, 'poolWork'>): PoolWork[] {
  const out: PoolWork[] = [];
  let i = home * worksPerCpu(spec);
  for (const kind of ['plain', 'lazy', 'hard'] as const) {
    const n = spec.works[kind];
    const maySleep = kind === 'hard' ? 0 : Math.round(n * spec.maySleepShare);
    const requeue = Math.round(n * spec.requeueShare);
    for (let j = 0; j < n; j++) {
      const func = j < maySleep ? FUNC_MAY_SLEEP : j < maySleep + requeue ? FUNC_REQUEUE : FUNC_COUNT;
      const flags = kind === 'lazy' ? IRQ_WORK_LAZY : kind === 'hard' ? IRQ_WORK_HARD_IRQ : 0;
      out.push({ work: mem.poolWork(i++), home, kind, flags, func });
    }
  }
  return out;
}

/**
 * Every work of the pool, CPU by CPU (the pool's order: the i-th entry is mem.poolWork(i)). For
 * the main thread, which initialises them once per run; a worker needs only its own CPU's block
 * (cpuPoolLayout): with 64 CPUs and the cpu-bound workload (2048 works per CPU) the whole pool is
 * 131k objects, and building it in every worker at every run kept the machine from its start
 * barrier for most of a second.
 */
export function poolLayout(spec: WorkloadSpec, nrCpus: number, mem: Pick<KernelMemory, 'poolWork'>): PoolWork[] {
  const out: PoolWork[] = [];
  for (let home = 0; home < nrCpus; home++) out.push(...cpuPoolLayout(spec, home, mem));
  return out;
}

/** init_irq_work() for every work of the pool. */
export function initPool(mem: KernelMemory, pool: readonly PoolWork[]): void {
  for (const w of pool) mem.initWork(w.work, w.flags, w.func, w.home);
}
