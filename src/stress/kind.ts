/**
 * The machine: N simulated CPUs, one piscina worker thread each (minThreads = maxThreads = N,
 * one long task per worker), over one shared memory.
 *
 * A run: lay out memory and the work pool → start one task per CPU → start barrier → RUNNING for
 * the duration → QUIESCE (workload stops, CPUs keep taking interrupts and ticks) until every list
 * is empty and no work is claimed → STOP → collect counters and check the accounting.
 * A CPU that throws fails the run with its number (InternalError with a per-CPU state dump). A
 * CPU that stops making progress (not idle, progress word frozen) trips the soft-lockup watchdog:
 * that is a finding about the kernel code (`liveness`, with the dump), and every CPU is unwound;
 * only a CPU that then does not come home is an InternalError. A run never hangs.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { PHASE_ABORT, PHASE_INIT, PHASE_QUIESCE, PHASE_RUNNING, PHASE_STOP, readPhase } from '../cpu/phase.js';
import { TASK_RUNNING } from '../kernel/cpu.js';
import { IRQ_WORK_CLAIMED } from '../kernel/flags.js';
import {
  CPU_CALL_SINGLE_QUEUE,
  CPU_IDLE_POLLING,
  CPU_IPI_PENDING,
  CPU_IRQWORKD_STATE,
  CPU_LAZY_LIST,
  CPU_ONLINE,
  CPU_PROGRESS,
  CPU_RAISED_LIST,
  CPU_TICKS,
  H_BARRIER,
  H_FINDINGS,
  H_PHASE,
  H_RUN_START_F64,
  IPI_CALL_FUNCTION_SINGLE,
  IPI_IRQ_WORK,
  IPI_STOP,
  W_FLAGS,
} from '../kernel/layout.js';
import { KernelMemory } from '../kernel/memory.js';
import { InternalError } from '../errors.js';
import { findVariant } from '../variants/index.js';
import { workerFile } from '../util/worker-bundle.js';
import { initPool, poolLayout } from '../workload/pool.js';
import { worksPerCpu } from '../workload/spec.js';
import { stateDump } from './dump.js';
import type { RaceOptions, RunOptions } from './options.js';
import { monotonicClock } from '../cpu/clock.js';
import { LivenessScanner } from '../race/liveness.js';
import { formatTrace, readTrace, traceRegion } from '../race/trace.js';
import { accountingViolations, collectCpuStats, totalsOf, type CpuStats, type Totals } from './report.js';
import type { CpuTask, CpuTaskResult, Violation } from './task.js';

const WORKER_TS = fileURLToPath(new URL('../../workers/cpu-worker.ts', import.meta.url));
const POLL_MS = 2;
const WATCHDOG_MS = 100;
const LIVENESS_SCAN_MS = 20;

export interface RunResult {
  options: RunOptions;
  perCpu: CpuStats[];
  totals: Totals;
  violations: Violation[];
  warnings: Array<{ cpu: number; what: string }>;
  /** Time the workload ran (RUNNING phase), ms. */
  runMs: number;
  /** Time quiescing took, ms. */
  drainMs: number;
  /** Every list emptied and no work stayed claimed after the workload stopped. */
  drained: boolean;
  executedPerSec: number;
  maxClockSkewNs: number;
  ok: boolean;
  /** How often each check fired (race runs and stress --check). */
  counts: Record<string, number>;
  /** When the first finding came, ms after the start; null when there was none. */
  timeToFirstFindingMs: number | null;
  /** State dump when the run did not drain (or when the watchdog saw a soft lockup). */
  dump?: string;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface MachineOptions {
  /**
   * Run the simulated CPUs' threads at the lowest OS priority (util/thread-priority.ts), so that
   * V8's compiler and GC threads and the main thread are never starved by them. For throughput
   * measurements with more CPUs than cores; a thread keeps it for the machine's life.
   */
  lowPriority: boolean;
}

export class Machine {
  private constructor(
    readonly cpus: number,
    private readonly pool: Piscina,
    readonly machineOptions: MachineOptions,
  ) {}

  /** Starts the worker threads (once; reuse the machine for several runs with the same CPU count). */
  static start(cpus: number, machineOptions: MachineOptions = { lowPriority: false }): Machine {
    const pool = new Piscina({
      // Bundled, not loaded through tsx's CommonJS transform (see util/worker-bundle.ts).
      filename: workerFile(WORKER_TS).filename,
      minThreads: cpus,
      maxThreads: cpus,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
    return new Machine(cpus, pool, machineOptions);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }

  async run(opts: RunOptions): Promise<RunResult> {
    if (opts.cpus !== this.cpus) throw new Error(`machine has ${this.cpus} CPUs, run asks for ${opts.cpus}`);
    findVariant(opts.variant); // a bad name is a usage error before any thread is bothered
    const race = opts.race;
    const mem = KernelMemory.create(
      {
        nrCpus: opts.cpus,
        nrWorks: opts.cpus * worksPerCpu(opts.workload),
        preemptRt: opts.preemptRt,
        archHasIrqWorkInterrupt: opts.archHasIrqWorkInterrupt,
        hz: opts.hz,
      },
      race?.trace ? [traceRegion(opts.cpus)] : [],
    );
    initPool(mem, poolLayout(opts.workload, opts.cpus, mem));
    const i32 = mem.i32;

    let failure: InternalError | null = null;
    const fail = (message: string) => {
      if (failure) return;
      failure = new InternalError(message, stateDump(mem));
      Atomics.store(i32, H_PHASE, PHASE_ABORT);
      this.kickAll(mem);
    };
    const results: Array<CpuTaskResult | undefined> = [];
    const settled = Array.from({ length: opts.cpus }, (_, cpu) => {
      const task: CpuTask = {
        handle: mem.handle,
        cpu,
        variant: opts.variant,
        spec: opts.workload,
        seed: opts.seed,
        nohz: opts.nohz,
        failAfterMs: opts.failCpu?.cpu === cpu ? opts.failCpu.afterMs : undefined,
        hotplug: opts.hotplug,
        lowPriority: this.machineOptions.lowPriority,
        race: race && {
          checks: true,
          trace: race.trace,
          chaos: race.chaos,
          maxFindingsPerCheck: race.maxFindingsPerCheck,
          stutter: race.stutter,
        },
      };
      return this.pool.run(task).then(
        (r: CpuTaskResult) => {
          results[cpu] = r;
        },
        (e: unknown) => fail(`cpu${cpu} failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    });
    const allSettled = Promise.all(settled);

    // Start barrier: every CPU has attached and built its kernel; open the run for all at once.
    const barrierDeadline = Date.now() + 30_000 + 1000 * opts.cpus;
    while (Atomics.load(i32, H_BARRIER) < opts.cpus && !failure) {
      if (Date.now() > barrierDeadline) fail(`only ${Atomics.load(i32, H_BARRIER)} of ${opts.cpus} CPUs started`);
      await sleep(POLL_MS);
    }
    const clock = monotonicClock();
    const machineFindings: Violation[] = [];
    const runStartNs = clock();
    // A soft lockup is the kernel code's hang (e.g. a cycle in a corrupted list run with irqs
    // off), not ours: report it with a dump and unwind every CPU with ABORT. Only if a CPU then
    // does not come home is it our failure.
    let lockedUp = false;
    let lockupDump: string | undefined;
    const softLockup = (cpu: number, message: string) => {
      if (failure || lockedUp) return;
      lockedUp = true;
      lockupDump = stateDump(mem);
      machineFindings.push({
        check: 'liveness',
        cpu,
        work: 0,
        context: '-',
        message,
        atMs: (clock() - runStartNs) / 1e6,
        trace: lockupDump.split('\n'),
      });
      Atomics.store(i32, H_PHASE, PHASE_ABORT);
      this.kickAll(mem);
    };
    const watchdog = this.startWatchdog(mem, opts, softLockup);
    const liveness = race ? this.startLiveness(mem, race, runStartNs, clock, machineFindings) : undefined;
    const startNs = performance.now();
    if (!failure) {
      mem.f64[H_RUN_START_F64 / 2] = runStartNs;
      Atomics.store(i32, H_PHASE, PHASE_RUNNING);
      Atomics.notify(i32, H_PHASE);
    }
    await this.runFor(opts, mem, allSettled);
    const runMs = performance.now() - startNs;

    // Quiesce: stop the workload, let every list drain.
    let drained = false;
    const drainStart = performance.now();
    if (!failure && !lockedUp) {
      Atomics.store(i32, H_PHASE, PHASE_QUIESCE);
      this.kickAll(mem);
      let quietTwice = 0;
      while (!failure && performance.now() - drainStart < opts.drainMs) {
        quietTwice = isQuiet(mem) ? quietTwice + 1 : 0;
        if (quietTwice >= 2) {
          drained = true;
          break;
        }
        await sleep(POLL_MS);
      }
    }
    const drainMs = performance.now() - drainStart;
    const dump = lockedUp ? lockupDump : drained || failure ? undefined : stateDump(mem);
    if (!failure && !lockedUp) {
      // A run that did not drain may have CPUs stuck waiting for a lost work (a sync that never
      // returns): ABORT unwinds them. That is a finding about the kernel code, not our failure.
      Atomics.store(i32, H_PHASE, drained ? PHASE_STOP : PHASE_ABORT);
      this.kickAll(mem);
    }
    // Every CPU must come home; one that does not is stuck where the watchdog will see it.
    const finished = await Promise.race([allSettled.then(() => true), sleep(opts.stallMs + 2000).then(() => false)]);
    clearInterval(watchdog);
    if (liveness) clearInterval(liveness);
    if (!finished) fail('a CPU did not stop after the run ended');
    if (failure) {
      if (!finished) await this.pool.destroy().catch(() => {});
      throw failure;
    }

    const perCpu = collectCpuStats(mem, runMs * 1e6);
    const totals = totalsOf(perCpu);
    // Seen by the machine itself: liveness during the run, then draining and accounting.
    const machineSeen: Violation[] = [...machineFindings];
    if (lockedUp) {
      // The soft-lockup finding says it all; the run was cut short, so no accounting.
    } else if (!drained) {
      machineSeen.push({
        check: 'liveness',
        cpu: -1,
        work: 0,
        context: '-',
        message: `the machine did not quiesce within ${opts.drainMs} ms: lists not empty or works still claimed`,
      });
    } else {
      machineSeen.push(...accountingViolations(mem, totals));
    }
    const violations: Violation[] = [];
    for (const r of results) if (r) violations.push(...r.violations);
    violations.push(...machineSeen);
    // How often each check fired: the CPUs' own counts (they keep only the first few with a
    // trace) plus everything the machine saw.
    const counts: Record<string, number> = {};
    for (const r of results) for (const [check, n] of Object.entries(r?.counts ?? {})) counts[check] = (counts[check] ?? 0) + n;
    for (const v of machineSeen) counts[v.check] = (counts[v.check] ?? 0) + 1;
    const firstAt = violations.filter((v) => !v.info).map((v) => v.atMs).filter((t): t is number => t !== undefined);
    const warnings = results.flatMap((r) => (r ? r.warnings.map((what) => ({ cpu: r.cpu, what })) : []));
    return {
      options: opts,
      perCpu,
      totals,
      violations,
      warnings,
      runMs,
      drainMs,
      drained,
      executedPerSec: totals.executed / (runMs / 1000),
      maxClockSkewNs: Math.max(0, ...results.map((r) => Math.abs(r?.clockSkewNs ?? 0))),
      ok: violations.every((v) => v.info),
      counts,
      timeToFirstFindingMs: firstAt.length ? Math.min(...firstAt) : null,
      dump,
    };
  }

  /** Let the workload run for the duration; a race run with stopOnFirst ends at the first finding. */
  private async runFor(opts: RunOptions, mem: KernelMemory, allSettled: Promise<unknown>): Promise<void> {
    let done = false;
    void allSettled.then(() => (done = true));
    const endMs = performance.now() + opts.durationMs;
    while (!done && performance.now() < endMs) {
      if (opts.race?.stopOnFirst && Atomics.load(mem.i32, H_FINDINGS) > 0) return;
      if (readPhase(mem.i32) === PHASE_ABORT) return;
      await sleep(Math.min(10, Math.max(0, endMs - performance.now())));
    }
  }

  /** The liveness scanner of race runs, every few ms from the main thread. */
  private startLiveness(
    mem: KernelMemory,
    race: RaceOptions,
    runStartNs: number,
    clock: () => number,
    out: Violation[],
  ): NodeJS.Timeout {
    const scanner = new LivenessScanner(mem, race.liveness);
    return setInterval(() => {
      const phase = readPhase(mem.i32);
      if (phase !== PHASE_RUNNING && phase !== PHASE_QUIESCE) return;
      for (const f of scanner.scan(performance.now())) {
        Atomics.add(mem.i32, H_FINDINGS, 1);
        out.push({
          check: 'liveness',
          cpu: f.cpu,
          work: f.work,
          context: '-',
          message: f.message,
          atMs: (clock() - runStartNs) / 1e6,
          trace: race.trace ? [...formatTrace(mem, readTrace(mem, 12), runStartNs), '', ...stateDump(mem).split('\n')] : undefined,
        });
      }
    }, LIVENESS_SCAN_MS);
  }

  /** Wake every CPU so that it looks at the run phase. */
  private kickAll(mem: KernelMemory): void {
    for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
      const word = mem.cpuBase(cpu) + CPU_IPI_PENDING;
      Atomics.or(mem.i32, word, IPI_STOP);
      Atomics.notify(mem.i32, word);
    }
  }

  /**
   * Soft-lockup watchdog: a CPU that is not idle and whose progress (interrupt points passed
   * with irqs on, plus ticks) has not moved for stallMs is stuck. (A worker the OS does not run
   * for stallMs looks the same; the 10 s default keeps that apart on a loaded 2-core machine.)
   */
  private startWatchdog(mem: KernelMemory, opts: RunOptions, lockup: (cpu: number, m: string) => void): NodeJS.Timeout {
    const last = Array.from({ length: opts.cpus }, () => ({ progress: -1, sinceMs: performance.now() }));
    return setInterval(() => {
      const phase = readPhase(mem.i32);
      if (phase === PHASE_INIT || phase === PHASE_ABORT) return;
      const now = performance.now();
      for (let cpu = 0; cpu < opts.cpus; cpu++) {
        const b = mem.cpuBase(cpu);
        const progress = (mem.i32[b + CPU_PROGRESS]! + mem.i32[b + CPU_TICKS]!) | 0;
        // Idle and offline CPUs make no progress by design.
        const idle = Atomics.load(mem.i32, b + CPU_IDLE_POLLING) !== 0 || Atomics.load(mem.i32, b + CPU_ONLINE) === 0;
        const seen = last[cpu]!;
        if (progress !== seen.progress || idle) {
          seen.progress = progress;
          seen.sinceMs = now;
        } else if (now - seen.sinceMs > opts.stallMs) {
          lockup(cpu, `watchdog: BUG: soft lockup - cpu${cpu} stuck for ${Math.round(now - seen.sinceMs)} ms, making no progress with irqs on`);
          return;
        }
      }
    }, WATCHDOG_MS);
  }
}

/** Every list empty, no work claimed, no irq_workd runnable, no kernel IPI latched. */
function isQuiet(mem: KernelMemory): boolean {
  const i32 = mem.i32;
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const b = mem.cpuBase(cpu);
    if (Atomics.load(i32, b + CPU_RAISED_LIST) || Atomics.load(i32, b + CPU_LAZY_LIST)) return false;
    if (Atomics.load(i32, b + CPU_CALL_SINGLE_QUEUE)) return false;
    if (Atomics.load(i32, b + CPU_IPI_PENDING) & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK)) return false;
    if (Atomics.load(i32, b + CPU_IRQWORKD_STATE) === TASK_RUNNING) return false;
  }
  for (let w = 1; w < mem.layout.nrNodes; w++) {
    if (Atomics.load(i32, mem.node(w) + W_FLAGS) & IRQ_WORK_CLAIMED) return false;
  }
  return true;
}
