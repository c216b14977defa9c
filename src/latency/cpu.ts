/**
 * The latency program of one simulated CPU, inside its worker: the variant's kernel on a booted
 * CPU with the latency recorder as its hooks, then
 *
 *   start barrier (the machine opens RUNNING)
 *   → queue-cost batches, one CPU at a time (READY counts the CPUs done: CPU i goes when it is i),
 *     so that no other CPU's work shares the machine with a batch; wait for GO (so no CPU
 *     measures latency while another still runs its batches with irqs off)
 *   → measuring loop until QUIESCE (then the machine serves interrupts until every work has run).
 */
import { threadId } from 'node:worker_threads';
import { RunAborted } from '../cpu/run-control.js';
import { bootCpu, runProgram } from '../machine/boot.js';
import { PHASE_RUNNING } from '../machine/control.js';
import { Random } from '../util/random.js';
import { classById } from './classes.js';
import { L_GO, L_READY, LatencyView } from './layout.js';
import { runMeasureLoop } from './measure-loop.js';
import { FUNC_LATENCY_NOP } from './pool.js';
import { measureQueueCost } from './queue-cost.js';
import { latencyRecorder } from './recorder.js';
import type { CpuLatencyResult, CpuLatencyTask } from './task.js';

/** How long a blocked wait sleeps before it looks at the run again (ms). */
const LOOK_MS = 50;

export function runLatencyCpu(task: CpuLatencyTask): CpuLatencyResult {
  let view: LatencyView | undefined;
  const booted = bootCpu(task, {
    variant: task.variant,
    nohz: true,
    instrument: (cpu, mem) => {
      view = new LatencyView(mem);
      return { hooks: latencyRecorder(mem, view, cpu.id, () => cpu.nowNs()) };
    },
  });
  const { rt, control } = booted;
  const latency = view!;
  const i32 = rt.i32;
  rt.k.registerFunc(FUNC_LATENCY_NOP, () => {});
  Atomics.store(i32, latency.threadIdWord(task.cpu), threadId);

  /** Waits until `word` no longer holds what it held; an aborted run unwinds. */
  const waitFor = (word: number, done: (value: number) => boolean) => {
    for (let value = Atomics.load(i32, word); !done(value); value = Atomics.load(i32, word)) {
      if (control.aborted()) throw new RunAborted();
      Atomics.wait(i32, word, value, LOOK_MS);
    }
  };

  const clockSkewNs = runProgram(booted, () => {
    const ready = latency.control(L_READY);
    waitFor(ready, (done) => done === task.cpu);
    measureQueueCost(rt, latency, task.costRounds);
    Atomics.add(i32, ready, 1);
    Atomics.notify(i32, ready);
    waitFor(latency.control(L_GO), (go) => go !== 0);

    const classes = task.classes.map(classById);
    runMeasureLoop(rt, booted.running, {
      classes,
      intervalNs: task.intervalNs,
      mode: task.mode,
      separateLazy: task.separateLazy,
      rng: new Random(task.seed, task.cpu),
    });
    if (control.phase() === PHASE_RUNNING) throw new Error('latency cpu: measuring loop ended while running');
  });
  return { cpu: task.cpu, warnings: booted.warnings, clockSkewNs };
}
