/**
 * One simulated CPU: a piscina task that runs until the main thread ends the run.
 * Attaches to the shared memory, builds its CPU (kernel code of the variant on a SimCpu),
 * waits at the start barrier, then runs the workload in task context with interrupts, ticks,
 * irq_workd and NO_HZ idle, and finally keeps serving interrupts while the machine quiesces.
 *
 * No top-level await here: piscina loads this file with require() under tsx.
 */
import { clockSkewNs, monotonicClock } from '../src/cpu/clock.js';
import { PHASE_INIT, PHASE_QUIESCE, PHASE_RUNNING, readPhase, RunAborted } from '../src/cpu/phase.js';
import { CpuRuntime } from '../src/cpu/runtime.js';
import type { SimCpu } from '../src/cpu/sim-cpu.js';
import { TASK_RUNNING } from '../src/kernel/cpu.js';
import { H_BARRIER, H_PHASE } from '../src/kernel/layout.js';
import { KernelMemory } from '../src/kernel/memory.js';
import type { CpuTask, CpuTaskResult, Violation } from '../src/machine/task.js';
import { Random } from '../src/util/random.js';
import { findVariant } from '../src/variants/index.js';
import { registerCallbacks } from '../src/workload/callbacks.js';
import { WorkloadDriver } from '../src/workload/driver.js';
import { poolLayout } from '../src/workload/pool.js';

export default function runCpu(task: CpuTask): CpuTaskResult {
  const mem = KernelMemory.attach(task.handle);
  const i32 = mem.i32;
  const clock = monotonicClock();
  const warnings: string[] = [];
  const violations: Violation[] = [];

  let rt: CpuRuntime | undefined;
  const env = {
    clock,
    // schedule() of the workload task: the CPU idles (taking interrupts, running irq_workd)
    // until the task is woken.
    schedule: (cpu: SimCpu) => {
      const word = cpu.taskStateWord(cpu.currentTask());
      rt!.idle(() => Atomics.load(i32, word) === TASK_RUNNING);
    },
    warn: (cpu: SimCpu, what: string) => {
      warnings.push(what);
      violations.push({ check: 'kernel-warning', cpu: cpu.id, work: 0, context: cpu.contextName(), message: what });
    },
  };
  rt = new CpuRuntime(mem, task.cpu, findVariant(task.variant), env, undefined, { nohz: task.nohz });
  registerCallbacks(rt.k, rt.cpu, {
    ran: () => {},
    sleptInAtomic: (cpu, work, context) =>
      violations.push({ check: 'context', cpu, work, context, message: `"may sleep" callback of work ${work} ran in ${context}` }),
  });
  rt.installInterruptPoint();
  rt.boot();
  const rng = new Random(task.seed, task.cpu);
  const driver = new WorkloadDriver(rt, task.spec, poolLayout(task.spec, mem.cfg.nrCpus, mem), rng);
  const idleNs = task.spec.idleUs * 1000;

  // Start barrier: count in, then wait for the main thread to open the run.
  Atomics.add(i32, H_BARRIER, 1);
  while (readPhase(i32) === PHASE_INIT) Atomics.wait(i32, H_PHASE, PHASE_INIT, 50);

  const failAtNs = task.failAfterMs === undefined ? Infinity : clock() + task.failAfterMs * 1e6;
  try {
    while (readPhase(i32) === PHASE_RUNNING) {
      driver.step();
      rt.interruptPoint();
      if (rng.chance(task.spec.idleChance)) rt.idle(() => readPhase(i32) !== PHASE_RUNNING, clock() + idleNs);
      if (failAtNs !== Infinity && clock() >= failAtNs) throw new Error(`injected failure on cpu${task.cpu}`);
    }
    // Quiesce: no more operations; keep taking interrupts (and ticks) until the lists drain.
    while (readPhase(i32) === PHASE_QUIESCE) rt.idle(() => readPhase(i32) !== PHASE_QUIESCE);
  } catch (e) {
    if (!(e instanceof RunAborted)) throw e;
  }
  return { cpu: task.cpu, warnings, violations, clockSkewNs: clockSkewNs(clock) };
}
