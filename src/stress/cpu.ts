/**
 * One simulated CPU: a piscina task that runs until the main thread ends the run.
 * Attaches to the shared memory, builds its CPU (kernel code of the variant on a SimCpu, with the
 * shadow checks, trace and chaos of a race run), waits at the start barrier, then runs the
 * workload in task context with interrupts, ticks, irq_workd and NO_HZ idle, and finally keeps
 * serving interrupts while the machine quiesces.
 *
 * No top-level await here: piscina loads this file with require() under tsx.
 */
import { CPU_CHECKS } from '../src/checks/index.js';
import { shadowHooks } from '../src/checks/shadow.js';
import { clockSkewNs, monotonicClock } from '../src/cpu/clock.js';
import { PHASE_INIT, PHASE_QUIESCE, PHASE_RUNNING, readPhase, RunAborted } from '../src/cpu/phase.js';
import { CpuRuntime, scheduleByIdling } from '../src/cpu/runtime.js';
import type { SimCpu } from '../src/cpu/sim-cpu.js';
import { combineHooks, type KernelHooks } from '../src/kernel/hooks.js';
import { H_BARRIER, H_FINDINGS, H_PHASE, H_RUN_START_F64 } from '../src/kernel/layout.js';
import { KernelMemory } from '../src/kernel/memory.js';
import type { CpuTask, CpuTaskResult, Violation } from '../src/machine/task.js';
import { installChaos } from '../src/race/chaos.js';
import { formatTrace, readTrace, TraceRing } from '../src/race/trace.js';
import { traceHooks } from '../src/race/trace-hooks.js';
import { Random } from '../src/util/random.js';
import { lowerThisThreadPriority } from '../src/util/thread-priority.js';
import { findVariant } from '../src/variants/index.js';
import { registerCallbacks } from '../src/workload/callbacks.js';
import { WorkloadDriver } from '../src/workload/driver.js';
import { HotplugDriver } from '../src/workload/hotplug.js';
import { poolLayout } from '../src/workload/pool.js';

export default function runCpu(task: CpuTask): CpuTaskResult {
  if (task.lowPriority) lowerThisThreadPriority();
  const mem = KernelMemory.attach(task.handle);
  const i32 = mem.i32;
  const clock = monotonicClock();
  const warnings: string[] = [];
  const violations: Violation[] = [];
  const counts: Record<string, number> = {};
  const race = task.race;

  let rt: CpuRuntime | undefined;
  const report = (check: string, work: number, message: string, info = false): void => {
    counts[check] = (counts[check] ?? 0) + 1;
    if (!info) Atomics.add(i32, H_FINDINGS, 1);
    if (counts[check]! > (race?.maxFindingsPerCheck ?? 20)) return;
    const startNs = mem.f64[H_RUN_START_F64 / 2]!;
    violations.push({
      check,
      cpu: task.cpu,
      work,
      context: rt!.cpu.contextName(),
      message,
      atMs: startNs > 0 ? (clock() - startNs) / 1e6 : 0,
      trace: race?.trace ? formatTrace(mem, readTrace(mem, 12), startNs) : undefined,
      ...(info ? { info } : {}),
    });
  };
  const env = {
    clock,
    schedule: scheduleByIdling(() => rt!),
    warn: (_cpu: SimCpu, what: string) => {
      warnings.push(what);
      report('kernel-warning', 0, what);
    },
  };
  rt = new CpuRuntime(mem, task.cpu, findVariant(task.variant), env, undefined, { nohz: task.nohz });
  const listeners: Array<Partial<KernelHooks>> = [];
  // The trace first: a check that fires in a hook then sees that hook's own event in the trace.
  if (race?.trace) {
    rt.trace = new TraceRing(mem, rt.cpu);
    listeners.push(traceHooks(rt.trace));
  }
  if (race?.checks) {
    rt.cpu.rcuReaderSeq = true;
    listeners.push(shadowHooks(mem));
    for (const check of CPU_CHECKS) listeners.push(check.hooks({ mem, cpu: rt.cpu, report }));
  }
  if (listeners.length) rt.k.hooks = combineHooks(listeners);
  registerCallbacks(rt.k, rt.cpu, {
    ran: () => {},
    sleptInAtomic: (_cpu, work, context) => report('context', work, `"may sleep" callback of work ${work} ran in ${context}`),
  });
  rt.installInterruptPoint();
  rt.boot();
  const rng = new Random(task.seed, task.cpu);
  const driver = new WorkloadDriver(rt, task.spec, poolLayout(task.spec, mem.cfg.nrCpus, mem), rng);
  if (race?.chaos) installChaos(rt, new Random(task.seed ^ 0x5eed, task.cpu), race.chaos, () => {
      // Random NMIs only while the workload runs: quiescing must be able to drain.
      if (readPhase(i32) === PHASE_RUNNING) driver.nmi();
    });
  const idleNs = task.spec.idleUs * 1000;
  const hotplug = task.hotplug
    ? new HotplugDriver(rt, new Random(task.seed ^ 0x407, task.cpu), task.hotplug, (work, message) =>
        report('stranded', work, message, true),
      )
    : null;
  if (hotplug) driver.hotplug = true;

  // Start barrier: count in, then wait for the main thread to open the run.
  Atomics.add(i32, H_BARRIER, 1);
  while (readPhase(i32) === PHASE_INIT) Atomics.wait(i32, H_PHASE, PHASE_INIT, 50);

  const failAtNs = task.failAfterMs === undefined ? Infinity : clock() + task.failAfterMs * 1e6;
  const stutter = race?.stutter;
  let nextStutterNs = stutter ? mem.f64[H_RUN_START_F64 / 2]! + stutter.everyMs * 1e6 : Infinity;
  try {
    while (readPhase(i32) === PHASE_RUNNING) {
      driver.step();
      rt.interruptPoint();
      if (rng.chance(task.spec.idleChance)) rt.idle(() => readPhase(i32) !== PHASE_RUNNING, clock() + idleNs);
      if (nextStutterNs !== Infinity && clock() >= nextStutterNs) {
        // Stutter: every CPU pauses the workload at the same moments, so that work stranded on
        // an idle CPU has nobody left to rescue it by accident.
        rt.idle(() => readPhase(i32) !== PHASE_RUNNING, nextStutterNs + stutter!.idleMs * 1e6);
        nextStutterNs += stutter!.everyMs * 1e6;
      }
      hotplug?.maybeCycle();
      if (failAtNs !== Infinity && clock() >= failAtNs) throw new Error(`injected failure on cpu${task.cpu}`);
    }
    // Quiesce: no more operations; keep taking interrupts (and ticks) until the lists drain.
    while (readPhase(i32) === PHASE_QUIESCE) rt.idle(() => readPhase(i32) !== PHASE_QUIESCE);
  } catch (e) {
    if (!(e instanceof RunAborted)) throw e;
  }
  return { cpu: task.cpu, warnings, violations, counts, clockSkewNs: clockSkewNs(clock) };
}
