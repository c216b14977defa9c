/**
 * The machine: N simulated CPUs, one piscina worker thread each (minThreads = maxThreads = N,
 * one long task per worker), over one shared memory — the shared part of every kind of run, as
 * kernel/torture.c is for rcutorture's torture types. A run kind (src/stress, src/latency)
 * supplies its memory regions, its per-CPU program, its main-thread steps and its collector;
 * the machine does the rest, the same way for every kind:
 *
 *   lay out memory (kernel + machine region + the kind's regions) → one task per CPU
 *   → start barrier → RUNNING: the kind's main steps (watchdog and progress running)
 *   → QUIESCE until the kind says the machine is quiet (twice in a row) → STOP
 *   → every CPU home → the kind collects.
 *
 * A CPU that throws fails the run with its number (InternalError with a state dump). A CPU that
 * stops making progress (not idle, progress word frozen) trips the soft-lockup watchdog, and a
 * machine that does not quiesce in time is a hang too: for a kind whose hangs are findings
 * (stress, race) that is a finding about the kernel code, reported with a dump, and every CPU is
 * unwound with ABORT; for a measuring kind it fails the run. Only a CPU that does not come home
 * after that is the machine's own failure. A run never hangs.
 */
import { fileURLToPath } from 'node:url';
import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { monotonicClock, type Clock } from '../cpu/clock.js';
import { InternalError } from '../errors.js';
import type { KernelConfig } from '../kernel/config.js';
import { Counter, type ExtraRegion } from '../kernel/layout.js';
import { KernelMemory, type MemoryHandle } from '../kernel/memory.js';
import { workerFile, type WorkerLoader } from '../util/worker-bundle.js';
import { machineRegion, MachineControl, PHASE_ABORT, PHASE_QUIESCE, PHASE_RUNNING, PHASE_STOP } from './control.js';
import { stateDump } from './dump.js';
import { startWatchdog } from './watchdog.js';

const WORKER_TS = fileURLToPath(new URL('../../workers/cpu-worker.ts', import.meta.url));
const POLL_MS = 2;
const PROGRESS_MS = 250;

/** What every per-CPU task carries; a kind's task adds its program's arguments. */
export interface CpuTaskBase {
  /** Which per-CPU program the worker runs (workers/cpu-worker.ts). */
  program: string;
  handle: MemoryHandle;
  cpu: number;
  /** Lower this worker thread's OS priority first (MachineOptions.lowPriority). */
  lowPriority: boolean;
}

/** What the machine tells the caller while a run goes on. */
export interface RunProgress {
  /** Since RUNNING began, ms. */
  elapsedMs: number;
  /** Callbacks run so far, all CPUs. */
  executed: number;
  /** Findings so far (race checks and the machine's own). */
  findings: number;
}

/** A hang of the kernel code seen by the machine (soft lockup, or a machine that did not quiesce). */
export interface Hang {
  cpu: number;
  message: string;
  /** Since RUNNING began, ms. */
  atMs: number;
  dump: string;
}

/** The main thread's view of a run while its kind's main steps go on. */
export interface LiveRun {
  readonly mem: KernelMemory;
  readonly control: MachineControl;
  readonly clock: Clock;
  /** When RUNNING began, on the shared clock. */
  readonly runStartNs: number;
  /** The run is over for the main steps: failed, hung, aborted, or every CPU already returned. */
  over(): boolean;
  /** Sleeps, but no longer than the run lasts. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` every `ms` while the CPUs run (also while quiescing). */
  every(ms: number, fn: () => void): void;
  /** Fails the run (InternalError with a state dump); every CPU is aborted. */
  fail(message: string): void;
}

/** What the kind's collector gets once every CPU is home. */
export interface FinishedRun<CpuResult> {
  mem: KernelMemory;
  /** Each CPU's result, by CPU number. */
  results: CpuResult[];
  /** The RUNNING phase (the kind's main steps), ms. */
  runMs: number;
  /** Quiescing, ms. */
  drainMs: number;
  /** The machine went quiet after the main steps. */
  drained: boolean;
  /** The soft-lockup watchdog fired, or the machine did not quiesce (kinds whose hangs are findings). */
  hang: Hang | null;
}

export interface RunKind<CpuResult, Result> {
  /** How messages name the run ("latency run: …"); empty for the default stress run. */
  readonly name: string;
  readonly cpus: number;
  /** Checks the run's arguments (a usage error rejects run() before any thread is bothered). */
  validate(): void;
  /** The kernel's configuration and the kind's extra regions; `init` lays out its works. */
  readonly memory: { config: Partial<KernelConfig>; regions: ExtraRegion[]; init(mem: KernelMemory): void };
  /** The task of CPU `cpu`: its program and arguments. */
  cpuTask(cpu: number, handle: MemoryHandle, lowPriority: boolean): CpuTaskBase;
  /** Main-thread steps while RUNNING; resolving ends the phase. */
  main(run: LiveRun): Promise<void>;
  /** Nothing is left to do: every queued callback has run. */
  isQuiet(mem: KernelMemory): boolean;
  /** How long quiescing may take. */
  readonly drainMs: number;
  /** A CPU whose progress word does not move for this long (and is not idle) is locked up. */
  readonly stallMs: number;
  /** A hang of the kernel code is a finding (stress, race) or fails the run (measurements). */
  readonly hangs: 'finding' | 'failure';
  collect(run: FinishedRun<CpuResult>): Result;
}

export interface MachineOptions {
  /**
   * Run the simulated CPUs' threads at the lowest OS priority (util/thread-priority.ts), so that
   * V8's compiler and GC threads and the main thread are never starved by them. For throughput
   * measurements with more CPUs than cores; a thread keeps it for the machine's life.
   */
  lowPriority: boolean;
}

export interface RunOptionsOfMachine {
  /** Called every PROGRESS_MS while the CPUs run. */
  onProgress?: (p: RunProgress) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Machine {
  private constructor(
    readonly cpus: number,
    private readonly pool: Piscina,
    readonly machineOptions: MachineOptions,
    /** How the worker code was loaded (util/worker-bundle.ts). */
    readonly loader: WorkerLoader,
  ) {}

  /** Starts the worker threads (once; reuse the machine for several runs with the same CPU count). */
  static start(cpus: number, machineOptions: MachineOptions = { lowPriority: false }): Machine {
    const worker = workerFile(WORKER_TS);
    const pool = new Piscina({
      filename: worker.filename,
      minThreads: cpus,
      maxThreads: cpus,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
    return new Machine(cpus, pool, machineOptions, worker.loader);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  /** One task on one of the machine's threads, outside any run (the bench's hand-off baselines). */
  runTask<T>(task: unknown, transferList: TransferListItem[] = []): Promise<T> {
    return this.pool.run(task, { transferList });
  }

  async run<CpuResult, Result>(kind: RunKind<CpuResult, Result>, runOptions: RunOptionsOfMachine = {}): Promise<Result> {
    if (kind.cpus !== this.cpus) throw new Error(`machine has ${this.cpus} CPUs, run asks for ${kind.cpus}`);
    kind.validate();
    const what = kind.name ? `${kind.name}: ` : '';
    const mem = KernelMemory.create({ ...kind.memory.config, nrCpus: kind.cpus }, [machineRegion(), ...kind.memory.regions]);
    kind.memory.init(mem);
    const control = new MachineControl(mem);
    const clock = monotonicClock();

    let failure: InternalError | null = null;
    let hang: Hang | null = null;
    let cpusHome = false;
    const fail = (message: string) => {
      if (failure) return;
      failure = new InternalError(`${what}${message}`, stateDump(mem));
      control.setPhase(PHASE_ABORT);
    };
    const results: CpuResult[] = [];
    const allSettled = Promise.all(
      Array.from({ length: kind.cpus }, (_, cpu) =>
        this.pool.run(kind.cpuTask(cpu, mem.handle, this.machineOptions.lowPriority)).then(
          (r: CpuResult) => void (results[cpu] = r),
          (e: unknown) => fail(`cpu${cpu} failed: ${e instanceof Error ? e.message : String(e)}`),
        ),
      ),
    ).then(() => void (cpusHome = true));

    // Start barrier: every CPU has attached and built its kernel; open the run for all at once.
    const barrierDeadline = Date.now() + 30_000 + 1000 * kind.cpus;
    while (control.cpusAtBarrier() < kind.cpus && !failure) {
      if (Date.now() > barrierDeadline) fail(`only ${control.cpusAtBarrier()} of ${kind.cpus} CPUs started`);
      await sleep(POLL_MS);
    }
    const runStartNs = clock();
    const sinceStartMs = () => (clock() - runStartNs) / 1e6;
    const hung = (cpu: number, message: string) => {
      if (failure || hang) return;
      if (kind.hangs === 'failure') return fail(message);
      hang = { cpu, message, atMs: sinceStartMs(), dump: stateDump(mem) };
      control.addFinding();
      control.setPhase(PHASE_ABORT);
    };
    const timers: NodeJS.Timeout[] = [startWatchdog(mem, control, kind.stallMs, hung)];
    if (runOptions.onProgress) {
      const report = runOptions.onProgress;
      timers.push(setInterval(() => report({ elapsedMs: sinceStartMs(), executed: executedSoFar(mem), findings: control.findings() }), PROGRESS_MS));
    }
    const over = () => failure !== null || hang !== null || cpusHome || control.aborted();
    const live: LiveRun = {
      mem,
      control,
      clock,
      runStartNs,
      over,
      sleep: async (ms) => {
        const until = performance.now() + ms;
        while (!over() && performance.now() < until) await sleep(Math.min(10, Math.max(0, until - performance.now())));
      },
      every: (ms, fn) => void timers.push(setInterval(fn, ms)),
      fail,
    };

    const startMs = performance.now();
    if (!failure) {
      control.runStartNs = runStartNs;
      control.setPhase(PHASE_RUNNING);
      await kind.main(live);
    }
    const runMs = performance.now() - startMs;

    // Quiesce: the kind produces nothing more; the CPUs serve interrupts until it is quiet.
    let drained = false;
    const drainStart = performance.now();
    if (!failure && !hang) {
      control.setPhase(PHASE_QUIESCE);
      let quietTwice = 0;
      while (!failure && !hang && performance.now() - drainStart < kind.drainMs) {
        quietTwice = kind.isQuiet(mem) ? quietTwice + 1 : 0;
        if (quietTwice >= 2) {
          drained = true;
          break;
        }
        await sleep(POLL_MS);
      }
      if (!drained) hung(-1, `the machine did not quiesce within ${kind.drainMs} ms: works still claimed or lists not empty`);
    }
    const drainMs = performance.now() - drainStart;
    // A run that hung may have CPUs stuck waiting for a lost work (a sync that never returns):
    // ABORT (already set) unwinds them.
    if (!failure && !hang) control.setPhase(PHASE_STOP);
    // Every CPU must come home; one that does not is stuck where the watchdog will see it.
    const finished = await Promise.race([allSettled.then(() => true), sleep(kind.stallMs + 2000).then(() => false)]);
    for (const t of timers) clearInterval(t);
    if (!finished) fail('a CPU did not stop after the run ended');
    if (failure) {
      if (!finished) await this.pool.destroy().catch(() => {});
      throw failure;
    }
    return kind.collect({ mem, results, runMs, drainMs, drained, hang });
  }
}

/** Callbacks run so far on every CPU (the owners' counters, read racily: a progress figure). */
function executedSoFar(mem: KernelMemory): number {
  let n = 0;
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    n += mem.f64[mem.counterIndex(cpu, Counter.executedHardirq)]!;
    n += mem.f64[mem.counterIndex(cpu, Counter.executedIrqWorkd)]!;
    n += mem.f64[mem.counterIndex(cpu, Counter.executedOther)]!;
  }
  return n;
}
