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
 */
import { clockSkewNs, monotonicClock, type Clock } from '../cpu/clock.js';
import type { Instruments } from '../cpu/runtime.js';
import { RunAborted } from '../cpu/run-control.js';
import { CpuRuntime, scheduleByIdling } from '../cpu/runtime.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import { KernelMemory } from '../kernel/memory.js';
import { lowerThisThreadPriority } from '../util/thread-priority.js';
import { findVariant } from '../variants/index.js';
import { MachineControl, PHASE_QUIESCE, PHASE_RUNNING } from './control.js';
import type { CpuTaskBase } from './machine.js';

/** How long a CPU waiting at the barrier sleeps before it looks at the phase again (ms). */
const LOOK_MS = 50;

export interface BootOptions {
  variant: string;
  /** NO_HZ idle. */
  nohz: boolean;
  /** The kernel's hooks and the runtime's probes for this CPU (checks, trace, chaos, recorder). */
  instrument?: (cpu: SimCpu, mem: KernelMemory) => Instruments;
  /** Number RCU readers for the rcu check. */
  rcuReaderSeq?: boolean;
  /** A WARN_ON_ONCE of the kernel code (also collected in BootedCpu.warnings). */
  onWarning?: (what: string) => void;
}

/** One booted CPU inside its worker. */
export interface BootedCpu {
  readonly mem: KernelMemory;
  readonly control: MachineControl;
  readonly rt: CpuRuntime;
  readonly clock: Clock;
  readonly warnings: string[];
  /** The workload's phase is on: RUNNING. */
  running(): boolean;
}

export function bootCpu(task: CpuTaskBase, opts: BootOptions): BootedCpu {
  if (task.lowPriority) lowerThisThreadPriority();
  const mem = KernelMemory.attach(task.handle);
  const control = new MachineControl(mem);
  const clock = monotonicClock();
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
    ...(instrument ? { instrument: (cpu: SimCpu) => instrument(cpu, mem) } : {}),
  });
  rt.boot();
  return { mem, control, rt, clock, warnings, running: () => control.phase() === PHASE_RUNNING };
}

/**
 * Runs the kind's program on a booted CPU: start barrier, `body` while the run is on (it returns
 * when the phase leaves RUNNING), then interrupts served until the machine is quiet. An aborted
 * run unwinds from anywhere. Returns the worker clock's skew against the shared clock, ns.
 */
export function runProgram(booted: BootedCpu, body: () => void): number {
  const { control, rt } = booted;
  control.passBarrier(LOOK_MS);
  try {
    if (control.aborted()) throw new RunAborted();
    body();
    control.leaveRunning(rt.id);
    // Quiesce: no more operations; keep taking interrupts (and ticks) until the lists drain.
    while (control.phase() === PHASE_QUIESCE) rt.idle(() => control.phase() !== PHASE_QUIESCE);
  } catch (e) {
    if (!(e instanceof RunAborted)) throw e;
  }
  return clockSkewNs(booted.clock);
}
