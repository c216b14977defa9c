/**
 * The latency run kind: every CPU times its queue-cost batches, then measures queue-to-callback
 * latency per class (latency/cpu.ts), over the works of latency/pool.ts and the latency region.
 *
 * Its main-thread steps, between the machine's RUNNING and QUIESCE: wait until every CPU has
 * counted into READY (the queue-cost phase), set the warm-up's end and open GO, then let the
 * measuring loops run for the warm-up and the duration. Quiet means every work has run. A hang
 * (a lockup, works that never run) fails the run: a measurement has no findings to report.
 */
import { IRQ_WORK_CLAIMED } from '../kernel/flags.js';
import { W_FLAGS } from '../kernel/layout.js';
import type { KernelMemory, MemoryHandle } from '../kernel/memory.js';
import type { Machine, RunKind, RunOptionsOfMachine } from '../machine/machine.js';
import { findVariant } from '../variants/index.js';
import { classesFor } from './classes.js';
import { L_GO, L_READY, LatencyView, latencyRegion } from './layout.js';
import type { LatencyOptions } from './options.js';
import { initLatencyWorks, latencyWorks } from './pool.js';
import { collectRun, type LatencyRun } from './result.js';
import type { CpuLatencyResult, CpuLatencyTask } from './task.js';

/** How long the queue-cost phase may take per CPU (they take turns), ms. */
const COST_PHASE_MS_PER_CPU = 10_000;
const POLL_MS = 2;

/** A latency run on `machine` (which must have `o.cpus` CPUs). */
export function runLatency(machine: Machine, o: LatencyOptions, runOptions?: RunOptionsOfMachine): Promise<LatencyRun> {
  return machine.run(latencyRun(o), runOptions);
}

export function latencyRun(o: LatencyOptions): RunKind<CpuLatencyResult, LatencyRun> {
  const classes = classesFor(o.preemptRt, o.cpus);
  let runMs = 0;
  return {
    name: 'latency run',
    cpus: o.cpus,
    validate: () => void findVariant(o.variant),
    memory: {
      config: { nrWorks: latencyWorks(o.cpus), preemptRt: o.preemptRt, hz: o.hz, archHasIrqWorkInterrupt: true },
      regions: [latencyRegion(o.cpus)],
      init: initLatencyWorks,
    },
    cpuTask: (cpu: number, handle: MemoryHandle, lowPriority: boolean): CpuLatencyTask => ({
      program: 'latency',
      handle,
      cpu,
      lowPriority,
      variant: o.variant,
      classes: classes.map((c) => c.id),
      intervalNs: o.intervalUs * 1000,
      mode: o.mode,
      separateLazy: o.separateLazy,
      costRounds: o.costRounds,
      seed: o.seed,
    }),
    main: async (run) => {
      const view = new LatencyView(run.mem);
      const i32 = run.mem.i32;
      const deadline = performance.now() + COST_PHASE_MS_PER_CPU * o.cpus;
      while (!run.over() && Atomics.load(i32, view.control(L_READY)) < o.cpus) {
        if (performance.now() > deadline) return run.fail('not every CPU finished its queue-cost batches');
        await run.sleep(POLL_MS);
      }
      if (run.over()) return;
      const goMs = performance.now();
      view.recordFromNs = run.clock() + o.warmupMs * 1e6;
      Atomics.store(i32, view.control(L_GO), 1);
      Atomics.notify(i32, view.control(L_GO));
      await run.sleep(o.warmupMs + o.durationMs);
      runMs = Math.max(0, performance.now() - goMs - o.warmupMs);
    },
    isQuiet: allWorksIdle,
    drainMs: o.drainMs,
    stallMs: o.stallMs,
    hangs: 'failure',
    collect: ({ mem, results }) =>
      collectRun(new LatencyView(mem), o, classes, {
        warnings: results.flatMap((r) => r.warnings.map((what) => ({ cpu: r.cpu, what }))),
        maxClockSkewNs: Math.max(0, ...results.map((r) => Math.abs(r.clockSkewNs))),
        runMs,
      }),
  };
}

/** No work (measured, queue-cost or wakeup) is claimed: every queued callback has finished. */
function allWorksIdle(mem: KernelMemory): boolean {
  for (let w = 1; w < mem.layout.nrNodes; w++) {
    if (Atomics.load(mem.i32, mem.node(w) + W_FLAGS) & IRQ_WORK_CLAIMED) return false;
  }
  return true;
}
