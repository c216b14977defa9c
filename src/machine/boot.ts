/**
 * The worker side of the machine, shared by every kind of run: attach to the shared memory,
 * build this CPU (the variant's kernel on a CpuRuntime, with whatever instruments the kind brings),
 * boot it, and then run the kind's program between the start barrier and the end of the run:
 *
 *   bootCpu(task, …)  →  runProgram(cpu, body)
 *                          start barrier (count in, wait for RUNNING)
 *                          body()               the kind's work while RUNNING
 *                          serve interrupts     while QUIESCE: every list drains
 *                        an aborted run unwinds from anywhere (RunAborted) and returns normally.
 *
 * Under a controlled schedule (task.controlled) the CPU's clock is the schedule's virtual time,
 * it waits for its first turn after the barrier and gives the turn away for good at the end, and
 * the schedule itself moves the run from RUNNING to QUIESCE and STOP at fixed steps.
 */
import { clockSkewNs, monotonicClock, type Clock } from '../cpu/clock.js';
import type { Instruments } from '../cpu/runtime.js';
import { RunAborted } from '../cpu/run-control.js';
import { CpuRuntime, scheduleByIdling } from '../cpu/runtime.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import { KernelMemory } from '../kernel/memory.js';
import { lowerThisThreadPriority } from '../util/thread-priority.js';
import { findVariant } from '../variants/index.js';
import { Turns, type RunEnds } from '../sched/turns.js';
import { MachineControl, PHASE_ABORT, PHASE_QUIESCE, PHASE_RUNNING, PHASE_STOP } from './control.js';
import { blockedTaskName } from './blocked-task.js';
import type { CpuTaskBase } from './machine.js';

/** How long a CPU waiting at the barrier sleeps before it looks at the phase again (ms). */
const LOOK_MS = 50;

export interface BootOptions {
  variant: string;
  /** NO_HZ idle. */
  nohz: boolean;
  /** The kernel's hooks and the runtime's probes for this CPU (checks, trace, chaos, recorder). */
  instrument?: (cpu: SimCpu, mem: KernelMemory, sched: Turns | null) => Instruments;
  /** Number RCU readers for the rcu check. */
  rcuReaderSeq?: boolean;
  /** A WARN_ON_ONCE of the kernel code (also collected in BootedCpu.warnings). */
  onWarning?: (what: string) => void;
  /** Controlled schedules: nothing is left to do (the kind's quiet test, from any CPU). */
  isQuiet?: (mem: KernelMemory) => boolean;
  /** Controlled schedules: the schedule saw a CPU run on long after STOP (a finding). */
  onLockup?: (message: string) => void;
}

/** One booted CPU inside its worker. */
export interface BootedCpu {
  readonly mem: KernelMemory;
  readonly control: MachineControl;
  readonly rt: CpuRuntime;
  readonly clock: Clock;
  readonly warnings: string[];
  /** The controlled schedule's side of this CPU; null in free mode. */
  readonly sched: Turns | null;
  /** The workload's phase is on: RUNNING. */
  running(): boolean;
}

export function bootCpu(task: CpuTaskBase, opts: BootOptions): BootedCpu {
  if (task.lowPriority) lowerThisThreadPriority();
  const mem = KernelMemory.attach(task.handle);
  const control = new MachineControl(mem);
  const sched = task.controlled ? new Turns(mem, task.cpu, runEnds(mem, control, opts)) : null;
  const clock = sched ? () => sched.nowNs() : monotonicClock();
  const warnings: string[] = [];
  let rt: CpuRuntime | undefined;
  const env = {
    clock,
    schedule: scheduleByIdling(() => rt!),
    warn: (_cpu: SimCpu, what: string) => {
      warnings.push(what);
      opts.onWarning?.(what);
    },
  };
  const instrument = opts.instrument;
  rt = new CpuRuntime(mem, task.cpu, findVariant(opts.variant).kernel, env, {
    nohz: opts.nohz,
    control,
    rcuReaderSeq: opts.rcuReaderSeq ?? false,
    ...(sched ? { sched } : {}),
    ...(instrument ? { instrument: (cpu: SimCpu) => instrument(cpu, mem, sched) } : {}),
  });
  rt.boot();
  return { mem, control, rt, clock, warnings, sched, running: () => control.phase() === PHASE_RUNNING };
}

/** How a controlled schedule ends the run: through the machine's phases, as the main thread would. */
function runEnds(mem: KernelMemory, control: MachineControl, opts: BootOptions): RunEnds {
  const isQuiet = opts.isQuiet ?? (() => true);
  return {
    quiesce: () => control.setPhase(PHASE_QUIESCE),
    stop: () => control.setPhase(PHASE_STOP),
    // Quiet counts once no CPU can claim of its own accord (as the machine's own quiesce test).
    quiet: () => {
      for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) if (!control.hasLeftRunning(cpu) && blockedTaskName(mem, cpu) === null) return false;
      return isQuiet(mem);
    },
    findings: () => control.findings(),
    taskBlocked: (cpu) => blockedTaskName(mem, cpu) !== null,
    aborted: () => control.aborted(),
    lockup: (message) => {
      opts.onLockup?.(message);
      control.setPhase(PHASE_ABORT);
    },
  };
}

/**
 * Runs the kind's program on a booted CPU: start barrier, `body` while the run is on (it returns
 * when the phase leaves RUNNING), then interrupts served until the machine is quiet. An aborted
 * run unwinds from anywhere. Returns the worker clock's skew against the shared clock, ns.
 */
export function runProgram(booted: BootedCpu, body: () => void): number {
  const { control, rt } = booted;
  control.passBarrier(LOOK_MS);
  const sched = booted.sched;
  try {
    if (control.aborted()) throw new RunAborted();
    sched?.enter();
    body();
    control.leaveRunning(rt.id);
    // Quiesce: no more operations; keep taking interrupts (and ticks) until the lists drain.
    while (control.phase() === PHASE_QUIESCE) rt.idle(() => control.phase() !== PHASE_QUIESCE);
  } catch (e) {
    if (!(e instanceof RunAborted)) throw e;
  } finally {
    sched?.exit();
  }
  return sched ? 0 : clockSkewNs(booted.clock);
}
