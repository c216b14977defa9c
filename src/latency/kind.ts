/**
 * The latency machine: N simulated CPUs, one piscina worker each (minThreads = maxThreads = N),
 * running workers/latency-worker.ts over one shared memory with a latency region.
 *
 * A run: lay out memory and the works → one task per CPU → start barrier → RUNNING: every CPU times
 * its queue-cost batches and counts into READY → GO (recording starts after the warm-up) → the
 * measuring loops run for the duration → QUIESCE (nothing more is queued; CPUs serve interrupts
 * until every work has run) → STOP → read the histograms. A CPU that throws, a start that does not
 * come, or works that never run abort every CPU and raise InternalError with a state dump.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { monotonicClock } from '../cpu/clock.js';
import { PHASE_ABORT, PHASE_QUIESCE, PHASE_RUNNING, PHASE_STOP } from '../cpu/phase.js';
import { InternalError } from '../errors.js';
import { IRQ_WORK_CLAIMED } from '../kernel/flags.js';
import { CPU_IPI_PENDING, H_BARRIER, H_PHASE, IPI_STOP, W_FLAGS } from '../kernel/layout.js';
import { KernelMemory } from '../kernel/memory.js';
import { stateDump } from '../machine/dump.js';
import { findVariant } from '../variants/index.js';
import { classesFor } from './classes.js';
import { L_GO, L_READY, LatencyView, latencyRegion } from './layout.js';
import type { LatencyOptions } from './options.js';
import { initLatencyWorks, latencyWorks } from './pool.js';
import { collectRun, type LatencyRun } from './result.js';
import type { CpuLatencyResult, CpuLatencyTask } from './task.js';
import { workerFile, type WorkerLoader } from '../util/worker-bundle.js';

export const LATENCY_WORKER_TS = fileURLToPath(new URL('../../workers/latency-worker.ts', import.meta.url));
const POLL_MS = 2;
/** How long a finished run may take for its CPUs to come home. */
const STOP_TIMEOUT_MS = 10_000;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class LatencyMachine {
  private readonly clock = monotonicClock();

  private constructor(
    readonly threads: number,
    readonly pool: Piscina,
    /** How the worker code was loaded (worker-bundle.ts). */
    readonly loader: WorkerLoader,
  ) {}

  /** Starts the worker threads (once; runs with this many CPUs reuse them). */
  static start(threads: number): LatencyMachine {
    const worker = workerFile(LATENCY_WORKER_TS);
    const pool = new Piscina({
      filename: worker.filename,
      minThreads: threads,
      maxThreads: threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
    return new LatencyMachine(threads, pool, worker.loader);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  async run(o: LatencyOptions): Promise<LatencyRun> {
    if (o.cpus !== this.threads) throw new Error(`latency machine has ${this.threads} threads, run asks for ${o.cpus} CPUs`);
    findVariant(o.variant);
    const mem = KernelMemory.create(
      { nrCpus: o.cpus, nrWorks: latencyWorks(o.cpus), preemptRt: o.preemptRt, hz: o.hz, archHasIrqWorkInterrupt: true },
      [latencyRegion(o.cpus)],
    );
    initLatencyWorks(mem);
    const view = new LatencyView(mem);
    const i32 = mem.i32;
    const classes = classesFor(o.preemptRt, o.cpus);

    let failure: InternalError | null = null;
    const fail = (message: string) => {
      if (failure) return;
      failure = new InternalError(message, stateDump(mem));
      Atomics.store(i32, H_PHASE, PHASE_ABORT);
      kickAll(mem);
    };
    const results: CpuLatencyResult[] = [];
    const allSettled = Promise.all(
      Array.from({ length: o.cpus }, (_, cpu) => {
        const task: CpuLatencyTask = {
          kind: 'cpu',
          handle: mem.handle,
          cpu,
          variant: o.variant,
          classes: classes.map((c) => c.id),
          intervalNs: o.intervalUs * 1000,
          mode: o.mode,
          separateLazy: o.separateLazy,
          costRounds: o.costRounds,
        };
        return this.pool.run(task).then(
          (r: CpuLatencyResult) => void (results[cpu] = r),
          (e: unknown) => fail(`latency cpu${cpu} failed: ${e instanceof Error ? e.message : String(e)}`),
        );
      }),
    );

    // Start barrier, then the queue-cost phase, then GO.
    const startDeadline = Date.now() + 30_000 + 1000 * o.cpus;
    const waitFor = async (what: string, done: () => boolean) => {
      while (!done() && !failure) {
        if (Date.now() > startDeadline) fail(`latency run: ${what}`);
        await sleep(POLL_MS);
      }
    };
    await waitFor('not every CPU started', () => Atomics.load(i32, H_BARRIER) >= o.cpus);
    if (!failure) {
      Atomics.store(i32, H_PHASE, PHASE_RUNNING);
      Atomics.notify(i32, H_PHASE);
    }
    await waitFor('not every CPU finished its queue-cost batches', () => Atomics.load(i32, view.control(L_READY)) >= o.cpus);
    const goMs = performance.now();
    if (!failure) {
      view.recordFromNs = this.clock() + o.warmupMs * 1e6;
      Atomics.store(i32, view.control(L_GO), 1);
      Atomics.notify(i32, view.control(L_GO));
      await Promise.race([sleep(o.warmupMs + o.durationMs), allSettled]);
    }
    const runMs = Math.max(0, performance.now() - goMs - o.warmupMs);

    // Quiesce: nothing more is queued; every outstanding work must still run.
    if (!failure) {
      Atomics.store(i32, H_PHASE, PHASE_QUIESCE);
      kickAll(mem);
      const drainStart = performance.now();
      let quietTwice = 0;
      while (!failure && quietTwice < 2) {
        quietTwice = allWorksIdle(mem) ? quietTwice + 1 : 0;
        if (performance.now() - drainStart > o.drainMs) fail(`latency run: works still claimed ${o.drainMs} ms after the measuring ended`);
        await sleep(POLL_MS);
      }
      if (!failure) {
        Atomics.store(i32, H_PHASE, PHASE_STOP);
        kickAll(mem);
      }
    }
    const finished = await Promise.race([allSettled.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (!finished) fail('latency run: a CPU did not stop after the run ended');
    if (failure) {
      if (!finished) await this.pool.destroy().catch(() => {});
      throw failure;
    }
    return collectRun(view, o, classes, {
      warnings: results.flatMap((r) => r.warnings.map((what) => ({ cpu: r.cpu, what }))),
      maxClockSkewNs: Math.max(0, ...results.map((r) => Math.abs(r.clockSkewNs))),
      runMs,
    });
  }
}

/** Wake every CPU so that it looks at the run phase. */
function kickAll(mem: KernelMemory): void {
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const word = mem.cpuBase(cpu) + CPU_IPI_PENDING;
    Atomics.or(mem.i32, word, IPI_STOP);
    Atomics.notify(mem.i32, word);
  }
}

/** No work (measured, queue-cost or wakeup) is claimed: every queued callback has finished. */
function allWorksIdle(mem: KernelMemory): boolean {
  for (let w = 1; w < mem.layout.nrNodes; w++) {
    if (Atomics.load(mem.i32, mem.node(w) + W_FLAGS) & IRQ_WORK_CLAIMED) return false;
  }
  return true;
}
