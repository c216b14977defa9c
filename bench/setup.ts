/**
 * Kernel instances for the micro-benchmarks: KernelMemory plus, per CPU, the variant's kernel on a
 * SimCpu inside a CpuRuntime with the real interrupt-point fast path — everything on this thread,
 * driven by hand (an IPI is taken when the benchmark calls an interrupt point on its target).
 */
import { monotonicClock } from '../src/cpu/clock.js';
import { CpuRuntime } from '../src/cpu/runtime.js';
import { FUNC_FIRST_USER, KernelMemory } from '../src/kernel/memory.js';
import { findVariant } from '../src/variants/index.js';

export const FUNC_NOP = FUNC_FIRST_USER;

export interface BenchMachine {
  mem: KernelMemory;
  cpus: CpuRuntime[];
  /** The i-th pool work, initialised with `flags` and a callback that does nothing. */
  works(count: number, flags: number): number[];
}

export function benchMachine(opts: { cpus?: number; preemptRt?: boolean; nrWorks?: number } = {}): BenchMachine {
  const mem = KernelMemory.create({ nrCpus: opts.cpus ?? 1, nrWorks: opts.nrWorks ?? 1024, preemptRt: opts.preemptRt ?? true });
  const clock = monotonicClock();
  const env = {
    clock,
    schedule: () => {
      throw new Error('a micro-benchmark blocked');
    },
    warn: (_cpu: unknown, what: string) => {
      throw new Error(`kernel warning in a micro-benchmark: ${what}`);
    },
  };
  const cpus = Array.from({ length: mem.cfg.nrCpus }, (_, id) => {
    const rt = new CpuRuntime(mem, id, findVariant('merged').kernel, env, { nohz: false });
    rt.k.registerFunc(FUNC_NOP, () => {});
    rt.boot();
    // A new irq_workd checks for work once and goes to sleep.
    if (rt.irqWorkdRunnable()) rt.runIrqWorkd();
    return rt;
  });
  let next = 0;
  return {
    mem,
    cpus,
    works(count, flags) {
      return Array.from({ length: count }, () => {
        const work = mem.poolWork(next++);
        mem.initWork(work, flags, FUNC_NOP, 0);
        return work;
      });
    },
  };
}
