/**
 * The stress / race program of one simulated CPU, inside its worker: the variant's kernel on a
 * booted CPU with the shadow checks, trace ring and chaos of a race run; then the workload in
 * task context (interrupts, ticks, irq_workd and NO_HZ idle come through the runtime), random
 * idling, stutter and CPU hotplug, until the run leaves RUNNING.
 */
import { CPU_CHECKS, optInChecks } from '../checks/index.js';
import { shadowHooks } from '../checks/shadow.js';
import { combineProbes } from '../cpu/probes.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import { newCoverageSink, type CoverageSink } from '../kernel/coverage.js';
import { combineHooks, type KernelHooks } from '../kernel/hooks.js';
import type { KernelMemory } from '../kernel/memory.js';
import { bootCpu, runProgram } from '../machine/boot.js';
import { chaosProbes } from '../race/chaos.js';
import { hungTaskHooks } from '../race/hung-task.js';
import { formatTrace, readTrace, TraceRing } from '../race/trace.js';
import { traceHooks, traceProbes } from '../race/trace-hooks.js';
import { Random } from '../util/random.js';
import { registerCallbacks } from '../workload/callbacks.js';
import { WorkloadDriver } from '../workload/driver.js';
import { HotplugDriver } from '../workload/hotplug.js';
import { isQuiet } from './quiet.js';
import type { CpuTask, CpuTaskResult, Violation } from './task.js';

export function runStressCpu(task: CpuTask): CpuTaskResult {
  const violations: Violation[] = [];
  const counts: Record<string, number> = {};
  const race = task.race;
  // Built with the CPU (instrument below), used by the checks' reports and the workload.
  let ring: TraceRing | null = null;
  let cpuOf: SimCpu | undefined;
  let memOf: KernelMemory | undefined;
  let driver: WorkloadDriver | undefined;
  let coverage: CoverageSink | undefined;

  const report = (check: string, work: number, message: string, info = false): void => {
    counts[check] = (counts[check] ?? 0) + 1;
    if (!info) booted.control.addFinding();
    if (counts[check]! > (race?.maxFindingsPerCheck ?? 20)) return;
    const startNs = booted.control.runStartNs;
    const sched = booted.sched;
    violations.push({
      check,
      cpu: task.cpu,
      work,
      context: cpuOf!.contextName(),
      message,
      atMs: startNs > 0 || sched ? (booted.clock() - startNs) / 1e6 : 0,
      // After the schedule let go, CPUs run in real time: such a finding has no place in the run.
      ...(sched && !sched.released() ? { step: sched.step(), digest: sched.digest() } : {}),
      trace: race?.trace ? formatTrace(memOf!, readTrace(memOf!, 12), startNs) : undefined,
      ...(info ? { info } : {}),
    });
  };

  const booted = bootCpu(task, {
    variant: task.variant,
    nohz: task.nohz,
    rcuReaderSeq: race?.checks === true,
    onWarning: (what) => report('kernel-warning', 0, what),
    isQuiet,
    onLockup: (message) => report('liveness', 0, message),
    instrument: (cpu, mem, sched) => {
      cpuOf = cpu;
      memOf = mem;
      const hooks: Array<Partial<KernelHooks>> = [];
      const probes = [];
      // The trace first: a check that fires in a hook then sees that hook's own event in the trace.
      if (task.traceRing) {
        ring = new TraceRing(mem, cpu, sched);
        hooks.push(traceHooks(ring));
        probes.push(traceProbes(ring));
      }
      if (race?.checks) {
        hooks.push(shadowHooks(mem));
        // What this CPU's tasks wait for, for the main thread's hung-task scanner.
        hooks.push(hungTaskHooks(mem, cpu));
        for (const check of CPU_CHECKS) hooks.push(check.hooks({ mem, cpu, report }));
        // And the opt-in checks the workload asks for (sync-overlap).
        for (const check of optInChecks(task.spec.checks)) hooks.push(check.hooks({ mem, cpu, report }));
      }
      if (race?.chaos) {
        // Random NMIs only while the workload runs: quiescing must be able to drain.
        const nmi = () => {
          if (booted.running()) driver?.nmi();
        };
        const stall = sched ? (ns: number) => booted.rt.pause(ns) : null;
        probes.push(chaosProbes(cpu, new Random(task.seed ^ 0x5eed, task.cpu), race.chaos, nmi, stall));
      }
      // With the checks, the kernel also counts its branches (a run says which paths it drove).
      if (race?.checks) coverage = newCoverageSink(() => cpu.coverageSlot());
      return { hooks: combineHooks(hooks), probes: combineProbes(probes), ...(coverage ? { coverage } : {}) };
    },
  });
  const { rt, clock } = booted;
  registerCallbacks(rt.k, rt.cpu, {
    ran: () => {},
    sleptInAtomic: (_cpu, work, context) => report('context', work, `"may sleep" callback of work ${work} ran in ${context}`),
  });
  const rng = new Random(task.seed, task.cpu);
  const hotplug = task.hotplug
    ? new HotplugDriver(
        rt,
        new Random(task.seed ^ 0x407, task.cpu),
        task.hotplug,
        (work, message) => report('stranded', work, message, true),
        (work, message) => report('offline', work, message),
        booted.running,
      )
    : null;
  driver = new WorkloadDriver(rt, task.spec, rng, { trace: ring, hotplug: hotplug !== null });
  const workload = driver;
  const idleNs = task.spec.idleUs * 1000;

  let ops = 0;
  const clockSkewNs = runProgram(booted, () => {
    const failAtNs = task.failAfterMs === undefined ? Infinity : clock() + task.failAfterMs * 1e6;
    const stutter = race?.stutter;
    let nextStutterNs = stutter ? booted.control.runStartNs + stutter.everyMs * 1e6 : Infinity;
    // The task sleeps until `untilNs` (or the run ends): the CPU idles, and the timer that ends
    // the sleep fires in hardirq on the still idle CPU and queues a work (workload.hardirq).
    const sleep = (untilNs: number) =>
      rt.idle(() => {
        if (!booted.running()) return true;
        if (clock() < untilNs) return false;
        workload.hardirq();
        return true;
      }, untilNs);
    const opsLimit = task.opsLimit ?? Infinity;
    while (booted.running()) {
      if (ops >= opsLimit) {
        // Shrinking: this CPU's share of the workload is done; it only takes interrupts now.
        rt.idle(() => !booted.running());
        break;
      }
      workload.step();
      ops++;
      rt.interruptPoint();
      if (rng.chance(task.spec.idleChance)) sleep(clock() + idleNs);
      if (nextStutterNs !== Infinity && clock() >= nextStutterNs) {
        // Stutter: every CPU pauses the workload at the same moments, so that work stranded on
        // an idle CPU has nobody left to rescue it by accident.
        sleep(nextStutterNs + stutter!.idleMs * 1e6);
        nextStutterNs += stutter!.everyMs * 1e6;
      }
      hotplug?.maybeCycle();
      if (failAtNs !== Infinity && clock() >= failAtNs) throw new Error(`injected failure on cpu${task.cpu}`);
    }
  });
  return { cpu: task.cpu, warnings: booted.warnings, violations, counts, clockSkewNs, ops, ...(coverage ? { coverage: coverage.counts } : {}) };
}
