/**
 * The callbacks (`work->func`) the harness gives its works, by function id (W_FUNC).
 * Ids below FUNC_FIRST_USER belong to the kernel (irq_work_wake).
 */
import type { KernelBase } from '../kernel/base.js';
import type { Kernel } from '../kernel/smpboot.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import { Counter, W_ARG } from '../kernel/layout.js';
import { FUNC_FIRST_USER, FUNC_IRQ_WORK_WAKE } from '../kernel/memory.js';
import { ContractView } from '../checks/contract-layout.js';

/** Counts, nothing else. */
export const FUNC_COUNT = FUNC_FIRST_USER;
/** Re-queues itself on the CPU it runs on, once per request left in W_ARG by the queuer. */
export const FUNC_REQUEUE = FUNC_FIRST_USER + 1;
/** "May sleep": takes a sleeping lock on RT, so it must never run in hardirq or NMI context. */
export const FUNC_MAY_SLEEP = FUNC_FIRST_USER + 2;

export const FUNC_NAMES: Record<number, string> = {
  [FUNC_IRQ_WORK_WAKE]: 'irq_work_wake',
  [FUNC_COUNT]: 'count',
  [FUNC_REQUEUE]: 'requeue',
  [FUNC_MAY_SLEEP]: 'may-sleep',
};

export interface CallbackSink {
  /** Every callback start: which CPU ran which work in which context. */
  ran(cpu: number, work: number, context: string): void;
  /** A "may sleep" callback ran where sleeping is forbidden. */
  sleptInAtomic(cpu: number, work: number, context: string): void;
}

/**
 * Registers the workload callbacks on one CPU's kernel. In runs with checks (the memory has the
 * contract region) every callback first reads the data its callers wrote before queueing it
 * (checks/contract-layout.ts), and a re-queue writes new data like any other caller.
 */
export function registerCallbacks(k: KernelBase, cpu: SimCpu, sink: CallbackSink): void {
  const callerData = ContractView.find(k.mem);
  k.registerFunc(FUNC_COUNT, (_k, work) => {
    callerData?.callbackReads(work, cpu.id);
    sink.ran(cpu.id, work, cpu.contextName());
  });
  k.registerFunc(FUNC_REQUEUE, (kk, work) => {
    callerData?.callbackReads(work, cpu.id);
    sink.ran(cpu.id, work, cpu.contextName());
    // The queuer sets W_ARG before queueing; taking it with an exchange makes each request
    // re-queue once, so the chain ends when the workload stops. Re-queueing from the callback is
    // what irq_work allows: PENDING is already clear, so the claim succeeds (unless another
    // CPU's claim got in first — then that claim's run comes after this call and answers it).
    if (Atomics.exchange(kk.i32, kk.nodeWord(work, W_ARG), 0) !== 0) {
      kk.count(Counter.requeues);
      callerData?.beforeQueue(work, cpu.id);
      (kk as Kernel).irqWorkQueue(work);
      callerData?.afterQueue(work, cpu.id);
    }
  });
  k.registerFunc(FUNC_MAY_SLEEP, (_k, work) => {
    callerData?.callbackReads(work, cpu.id);
    const context = cpu.contextName();
    sink.ran(cpu.id, work, context);
    // Only PREEMPT_RT turns spinlock_t into a sleeping lock; elsewhere this callback is fine anywhere.
    if (k.cfg.preemptRt && (cpu.inHardirq() || cpu.inNmi() || cpu.irqsDisabled())) {
      sink.sleptInAtomic(cpu.id, work, context);
    }
  });
}
