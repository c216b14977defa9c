/**
 * One simulated CPU of a latency run, inside its worker: attach, build the CPU (the variant's
 * kernel on a SimCpu, with the latency recorder as its hooks), then
 *
 *   start barrier (H_BARRIER; main opens H_PHASE = RUNNING)
 *   → queue-cost batches, one CPU at a time (READY counts the CPUs done: CPU i goes when it is i),
 *     so that no other CPU's work shares the machine with a batch; wait for GO (so no CPU
 *     measures latency while another still runs its batches with irqs off)
 *   → measuring loop until QUIESCE → serve interrupts until STOP (so every outstanding work runs).
 */
import { threadId } from 'node:worker_threads';
import { clockSkewNs, monotonicClock } from '../cpu/clock.js';
import { PHASE_ABORT, PHASE_INIT, PHASE_QUIESCE, PHASE_RUNNING, readPhase, RunAborted } from '../cpu/phase.js';
import { CpuRuntime, scheduleByIdling } from '../cpu/runtime.js';
import type { SimCpu } from '../cpu/sim-cpu.js';
import { H_BARRIER, H_PHASE } from '../kernel/layout.js';
import { KernelMemory } from '../kernel/memory.js';
import { findVariant } from '../variants/index.js';
import { classById } from './classes.js';
import { L_GO, L_READY, LatencyView } from './layout.js';
import { runMeasureLoop } from './measure-loop.js';
import { FUNC_LATENCY_NOP } from './pool.js';
import { measureQueueCost } from './queue-cost.js';
import { latencyRecorder } from './recorder.js';
import type { CpuLatencyResult, CpuLatencyTask } from './task.js';

/** How long a blocked wait sleeps before it looks at the run phase again (ms). */
const LOOK_MS = 50;

export function runLatencyCpu(task: CpuLatencyTask): CpuLatencyResult {
  const mem = KernelMemory.attach(task.handle);
  const view = new LatencyView(mem);
  const i32 = mem.i32;
  const clock = monotonicClock();
  const warnings: string[] = [];

  let rt: CpuRuntime | undefined;
  const env = {
    clock,
    schedule: scheduleByIdling(() => rt!),
    warn: (_cpu: SimCpu, what: string) => {
      warnings.push(what);
    },
  };
  rt = new CpuRuntime(mem, task.cpu, findVariant(task.variant), env, latencyRecorder(mem, view, task.cpu, clock), {
    nohz: true,
  });
  rt.k.registerFunc(FUNC_LATENCY_NOP, () => {});
  rt.installInterruptPoint();
  rt.boot();
  Atomics.store(i32, view.threadIdWord(task.cpu), threadId);

  Atomics.add(i32, H_BARRIER, 1);
  while (readPhase(i32) === PHASE_INIT) Atomics.wait(i32, H_PHASE, PHASE_INIT, LOOK_MS);

  try {
    if (readPhase(i32) === PHASE_ABORT) throw new RunAborted();
    const ready = view.control(L_READY);
    for (let done = Atomics.load(i32, ready); done !== task.cpu; done = Atomics.load(i32, ready)) {
      if (readPhase(i32) === PHASE_ABORT) throw new RunAborted();
      Atomics.wait(i32, ready, done, LOOK_MS);
    }
    measureQueueCost(rt, view, task.costRounds);
    Atomics.add(i32, ready, 1);
    Atomics.notify(i32, ready);
    while (Atomics.load(i32, view.control(L_GO)) === 0) {
      if (readPhase(i32) === PHASE_ABORT) throw new RunAborted();
      Atomics.wait(i32, view.control(L_GO), 0, LOOK_MS);
    }

    rt.k.stampQueueTime = true;
    const classes = task.classes.map(classById);
    runMeasureLoop(rt, { classes, intervalNs: task.intervalNs, mode: task.mode, separateLazy: task.separateLazy });
    // Quiesce: queue nothing more; keep taking interrupts and ticks until every work has run.
    while (readPhase(i32) === PHASE_QUIESCE) rt.idle(() => readPhase(i32) !== PHASE_QUIESCE);
    if (readPhase(i32) === PHASE_RUNNING) throw new Error('latency cpu: measuring loop ended while running');
  } catch (e) {
    if (!(e instanceof RunAborted)) throw e;
  }
  return { cpu: task.cpu, warnings, clockSkewNs: clockSkewNs(clock) };
}
