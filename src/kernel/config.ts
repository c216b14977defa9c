/**
 * The kernel configuration of one model instance: the Kconfig choices (PREEMPT_RT, whether the
 * architecture has an irq_work self-interrupt), HZ, and the sizes that fix the memory layout.
 * Defaults live here and only here.
 */
import { Errors } from '../errors.js';

export interface KernelConfig {
  /** Number of simulated CPUs (NR_CPUS). */
  nrCpus: number;
  /** Number of works in the pool (excluding the per-CPU wakeup works). */
  nrWorks: number;
  /** CONFIG_PREEMPT_RT. */
  preemptRt: boolean;
  /** arch_irq_work_has_interrupt(): false means `arch_irq_work_raise` does nothing and the tick runs the raised list. */
  archHasIrqWorkInterrupt: boolean;
  /** CONFIG_HZ: ticks per second. */
  hz: number;
  /** Upper bound on the SharedArrayBuffer, so a runaway size is an error, not an allocation. */
  maxMemoryBytes: number;
}

export const MAX_CPUS = 256;
export const MAX_WORKS = 1 << 20;

export const DEFAULT_KERNEL_CONFIG: KernelConfig = {
  nrCpus: 2,
  nrWorks: 64,
  preemptRt: true,
  archHasIrqWorkInterrupt: true,
  hz: 1000,
  maxMemoryBytes: 256 * 1024 * 1024,
};

/** Fills defaults and rejects what cannot run, with a message naming the setting. */
export function makeKernelConfig(partial: Partial<KernelConfig> = {}): KernelConfig {
  const cfg: KernelConfig = { ...DEFAULT_KERNEL_CONFIG, ...partial };
  if (!Number.isInteger(cfg.nrCpus) || cfg.nrCpus < 1 || cfg.nrCpus > MAX_CPUS) {
    throw Errors.cpusOutOfRange(cfg.nrCpus, MAX_CPUS);
  }
  if (!Number.isInteger(cfg.nrWorks) || cfg.nrWorks < 1 || cfg.nrWorks > MAX_WORKS) {
    throw Errors.worksOutOfRange(cfg.nrWorks, MAX_WORKS);
  }
  if (!Number.isInteger(cfg.hz) || cfg.hz < 10 || cfg.hz > 10000) throw Errors.hzOutOfRange(cfg.hz);
  if (!Number.isSafeInteger(cfg.maxMemoryBytes) || cfg.maxMemoryBytes < 4096) {
    throw Errors.memoryLimit(cfg.maxMemoryBytes);
  }
  return cfg;
}

/** TICK_NSEC for this configuration. */
export function tickPeriodNs(cfg: KernelConfig): number {
  return Math.round(1e9 / cfg.hz);
}
