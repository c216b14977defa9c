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
 * unwound with ABORT; for a measuring kind it fails the run. So is a hung task: a run that ends
 * (STOP, or quiescing gave up) with a task still blocked in TASK_UNINTERRUPTIBLE, which nothing
 * will wake and which would keep its CPU from ever coming home. Only a CPU that does not come home
 * after ABORT (or one that ignores STOP with no task blocked) is the machine's own failure. A run
 * never hangs.
 */
import { fileURLToPath } from 'node:url';
import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { monotonicClock, type Clock } from '../cpu/clock.js';
import { CTX_IDLE } from '../cpu/sim-cpu.js';
import { InternalError } from '../errors.js';
import { makeKernelConfig, type KernelConfig } from '../kernel/config.js';
import {
  Counter,
  CPU_CONTEXT,
  CPU_IPI_PENDING,
  IPI_CALL_FUNCTION_SINGLE,
  IPI_IRQ_WORK,
  IPI_RESCHEDULE,
  computeLayout,
  type ExtraRegion,
} from '../kernel/layout.js';
import { KernelMemory, type MemoryHandle } from '../kernel/memory.js';
import { isWorkerLoadReport, workerFile, type CodeCacheUse, type WorkerLoader } from '../util/worker-bundle.js';
import { machineRegion, MachineControl, PHASE_ABORT, PHASE_QUIESCE, PHASE_RUNNING, PHASE_STOP } from './control.js';
import { stateDump } from './dump.js';
import { blockedTaskName } from './blocked-task.js';
import { startStepWatchdog, startWatchdog } from './watchdog.js';

const WORKER_TS = fileURLToPath(new URL('../../workers/cpu-worker.ts', import.meta.url));
const POLL_MS = 2;
const PROGRESS_MS = 250;
/**
 * After STOP, how long every CPU that has not come home must be seen idling with a task blocked
 * (at every look, POLL_MS apart) before it is called hung: one look is a sample of several CPUs'
 * words at different instants, a run of them over this long is not.
 */
const HUNG_SETTLE_MS = 50;

/** What every per-CPU task carries; a kind's task adds its program's arguments. */
export interface CpuTaskBase {
  /** Which per-CPU program the worker runs (workers/cpu-worker.ts). */
  program: string;
  /** The run follows a controlled schedule (src/sched): the kind's memory has its region. */
  controlled?: boolean;
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

/**
 * A hang of the kernel code seen by the machine: a soft lockup, a machine that did not quiesce,
 * or a hung task (a task still blocked in TASK_UNINTERRUPTIBLE when the run ended).
 */
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
  /**
   * Tasks still blocked in TASK_UNINTERRUPTIBLE when the run ended, one per CPU (kinds whose hangs
   * are findings): after STOP with nobody left to wake them, or when quiescing gave up. Their CPUs
   * were unwound with ABORT.
   */
  hungTasks: Hang[];
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
  /**
   * A run under a controlled schedule (src/sched) ends itself at fixed steps: the CPUs set
   * QUIESCE and STOP, so the machine does not quiesce it by the clock. `drained` says whether the
   * schedule found the machine quiet; `step` is its step count, which the wall-clock watchdog
   * watches instead of each CPU's progress (a CPU waiting for its turn makes none), NaN once the
   * schedule has let go; `notDrainedWhy` says why a run that stopped did not drain.
   */
  readonly controlled?: {
    drained(mem: KernelMemory): boolean;
    step(mem: KernelMemory): number;
    notDrainedWhy(mem: KernelMemory): string;
    /** Virtual time now, ms: what the machine's own findings (hangs, hung tasks) are timed by. */
    virtualMs(mem: KernelMemory): number;
  };
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
  /**
   * Called once, the moment every CPU has reached the start barrier (before RUNNING opens), with
   * `performance.now()` of that moment: how long a machine takes to be ready to run is
   * Machine.startedMs to this (the bench's start-up figure).
   */
  onBarrier?: (atMs: number) => void;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Checks a run's arguments and that its memory fits the shared-memory limit, without allocating
 * it: a command calls this before it starts any thread, so bad input is one line (UsageError).
 */
export function checkRunFits(kind: RunKind<unknown, unknown>): void {
  kind.validate();
  computeLayout(makeKernelConfig({ ...kind.memory.config, nrCpus: kind.cpus }), [machineRegion(kind.cpus), ...kind.memory.regions]);
}

export class Machine {
  private constructor(
    readonly cpus: number,
    private readonly pool: Piscina,
    readonly machineOptions: MachineOptions,
    /** How the worker code was loaded (util/worker-bundle.ts). */
    readonly loader: WorkerLoader,
    /** When start() was called, `performance.now()` (before bundling and the pool's threads). */
    readonly startedMs: number,
  ) {}

  /** Starts the worker threads (once; reuse the machine for several runs with the same CPU count). */
  static start(cpus: number, machineOptions: MachineOptions = { lowPriority: false }): Machine {
    const startedMs = performance.now();
    const worker = workerFile(WORKER_TS);
    const options = {
      filename: worker.filename,
      workerData: worker.workerData,
      minThreads: cpus,
      maxThreads: cpus,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    };
    let pool: Piscina;
    try {
      pool = new Piscina({ ...options, execArgv: worker.execArgv });
    } catch (e) {
      // Given explicitly, a worker refuses some of the parent's flags (V8 flags such as
      // --max-old-space-size, which apply to the whole process anyway). The first worker throws
      // before any thread starts; then the workers inherit the flags, tsx's preloads included.
      if ((e as { code?: unknown }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw e;
      pool = new Piscina(options);
    }
    const machine = new Machine(cpus, pool, machineOptions, worker.loader, startedMs);
    pool.on('message', (m: unknown) => {
      if (isWorkerLoadReport(m)) machine.codeCache[m.irqworkWorkerLoad.codeCache]++;
    });
    return machine;
  }

  /**
   * How the workers found the bundle's code cache, as each reported once it had loaded
   * (util/worker-loader.ts): all zero with the tsx fallback.
   */
  readonly codeCache: Record<CodeCacheUse, number> = { accepted: 0, rejected: 0, absent: 0 };

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
    const mem = KernelMemory.create({ ...kind.memory.config, nrCpus: kind.cpus }, [machineRegion(kind.cpus), ...kind.memory.regions]);
    kind.memory.init(mem);
    const control = new MachineControl(mem);
    const clock = monotonicClock();

    let failure: InternalError | null = null;
    let hang: Hang | null = null;
    const hungTasks: Hang[] = [];
    let cpusHome = false;
    const home = new Array<boolean>(kind.cpus).fill(false);
    const fail = (message: string) => {
      if (failure) return;
      failure = new InternalError(`${what}${message}`, stateDump(mem));
      control.setPhase(PHASE_ABORT);
    };
    const results: CpuResult[] = [];
    void Promise.all(
      Array.from({ length: kind.cpus }, (_, cpu) =>
        this.pool.run(kind.cpuTask(cpu, mem.handle, this.machineOptions.lowPriority)).then(
          (r: CpuResult) => void (results[cpu] = r),
          (e: unknown) => fail(`cpu${cpu} failed: ${e instanceof Error ? e.message : String(e)}`),
        ).finally(() => void (home[cpu] = true)),
      ),
    ).then(() => void (cpusHome = true));

    // Start barrier: every CPU has attached and built its kernel; open the run for all at once.
    // The deadline is generous (256 CPUs: 286 s) against start-up times on a loaded 2-core box
    // (docs/LATENCY.md, bench (e)); the watchdog starts only below, so start-up never eats
    // into its stall margin.
    const barrierDeadline = Date.now() + 30_000 + 1000 * kind.cpus;
    while (control.cpusAtBarrier() < kind.cpus && !failure) {
      if (Date.now() > barrierDeadline) fail(`only ${control.cpusAtBarrier()} of ${kind.cpus} CPUs started`);
      await sleep(POLL_MS);
    }
    if (!failure) runOptions.onBarrier?.(performance.now());
    const runStartNs = clock();
    const wallSinceStartMs = () => (clock() - runStartNs) / 1e6;
    // The machine's own findings are timed as the CPUs' are: virtual time under a controlled schedule.
    const sinceStartMs = () => (kind.controlled ? kind.controlled.virtualMs(mem) : wallSinceStartMs());
    const hung = (cpu: number, message: string) => {
      if (failure || hang) return;
      if (kind.hangs === 'failure') return fail(message);
      hang = { cpu, message, atMs: sinceStartMs(), dump: stateDump(mem) };
      control.addFinding();
      control.setPhase(PHASE_ABORT);
    };
    // Tasks blocked as the run ends: findings (the CPUs are unwound with ABORT by the caller), or a
    // failed measuring run.
    const hungAtEnd = (cpus: number[], why: string) => {
      if (failure || cpus.length === 0) return;
      const which = (cpu: number) => `cpu${cpu}'s ${blockedTaskName(mem, cpu) ?? 'task'}`;
      if (kind.hangs === 'failure') return fail(`hung task at the end of the run: ${cpus.map(which).join(', ')} blocked in TASK_UNINTERRUPTIBLE ${why}`);
      const atMs = sinceStartMs();
      const dump = stateDump(mem);
      for (const cpu of cpus) {
        hungTasks.push({ cpu, message: `hung task at the end of the run: ${which(cpu)} blocked in TASK_UNINTERRUPTIBLE (D) ${why}`, atMs, dump });
        control.addFinding();
      }
    };
    const away = () => home.flatMap((h, cpu) => (h ? [] : [cpu]));
    /** Waits until every CPU is home (true) or `ms` have passed (false), calling `look` at each poll. */
    const comeHome = async (ms: number, look: () => void = () => {}): Promise<boolean> => {
      const until = performance.now() + ms;
      while (!cpusHome) {
        if (performance.now() >= until) return false;
        look();
        await sleep(POLL_MS);
      }
      return true;
    };
    // Under a controlled schedule a stall of the step count is a worker that stopped answering:
    // the machine's failure, not a finding (the schedule finds lockups of the model itself).
    const timers: NodeJS.Timeout[] = [
      kind.controlled
        ? startStepWatchdog(control, kind.stallMs, () => kind.controlled!.step(mem), (m) => fail(m))
        : startWatchdog(mem, control, kind.stallMs, hung),
    ];
    if (runOptions.onProgress) {
      const report = runOptions.onProgress;
      timers.push(setInterval(() => report({ elapsedMs: wallSinceStartMs(), executed: executedSoFar(mem), findings: control.findings() }), PROGRESS_MS));
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
      // A controlled run's clock is virtual time, which starts at 0.
      control.runStartNs = kind.controlled ? 0 : runStartNs;
      control.setPhase(PHASE_RUNNING);
      await kind.main(live);
    }
    const runMs = performance.now() - startMs;

    // Quiesce: the kind produces nothing more; the CPUs serve interrupts until it is quiet.
    let drained = false;
    const drainStart = performance.now();
    if (kind.controlled && !failure && !hang) {
      // The schedule has stopped the run (or let go of CPUs that nothing will wake).
      drained = kind.controlled.drained(mem);
      if (!drained) {
        if (kind.hangs === 'finding') hungAtEnd(away().filter((cpu) => blockedTaskName(mem, cpu) !== null), 'when the run stopped');
        hung(-1, `the machine did not quiesce: ${kind.controlled.notDrainedWhy(mem)}`);
      }
    } else if (!failure && !hang) {
      control.setPhase(PHASE_QUIESCE);
      let quietTwice = 0;
      // Quiet counts only once no CPU can still claim of its own accord: each has left RUNNING,
      // or sleeps with its task blocked (it claims nothing until woken, and leaves RUNNING then).
      const allLeft = () => home.every((h, cpu) => h || control.hasLeftRunning(cpu) || blockedTaskName(mem, cpu) !== null);
      // drainMs counts from the moment every CPU has left RUNNING: how long the lists take to
      // drain once nothing new comes. Before that a CPU may simply not have been scheduled yet
      // (many busy threads on few cores); the soft-lockup watchdog's stallMs bounds that wait.
      let allLeftAt = -1;
      const limitMs = () => (allLeftAt < 0 ? kind.stallMs + kind.drainMs : allLeftAt - drainStart + kind.drainMs);
      while (!failure && !hang && performance.now() - drainStart < limitMs()) {
        const left = allLeft();
        if (left && allLeftAt < 0) allLeftAt = performance.now();
        quietTwice = left && kind.isQuiet(mem) ? quietTwice + 1 : 0;
        if (quietTwice >= 2) {
          drained = true;
          break;
        }
        await sleep(POLL_MS);
      }
      if (!drained) {
        // A task still blocked now ends the run blocked: ABORT (hung) will unwind it, so report it
        // first, with the state it hung in.
        if (kind.hangs === 'finding') hungAtEnd(away().filter((cpu) => blockedTaskName(mem, cpu) !== null), 'when quiescing gave up');
        const notLeft = home.flatMap((h, cpu) => (h || control.hasLeftRunning(cpu) || blockedTaskName(mem, cpu) !== null ? [] : [cpu]));
        hung(
          -1,
          notLeft.length
            ? `the machine did not quiesce: ${notLeft.map((c) => `cpu${c}`).join(', ')} still in the workload ${Math.round(performance.now() - drainStart)} ms after it ended`
            : `the machine did not quiesce within ${kind.drainMs} ms: works still claimed or lists not empty`,
        );
      }
    }
    const drainMs = performance.now() - drainStart;
    // A run that hung may have CPUs stuck waiting for a lost work (a sync that never returns):
    // ABORT (already set) unwinds them.
    if (!failure && !hang) control.setPhase(PHASE_STOP);
    // Every CPU must come home. After STOP one whose task stays blocked in TASK_UNINTERRUPTIBLE
    // never will: STOP does not end a sleep, only a wake-up does. The kind said the machine was
    // quiet, so nothing is left to run that could wake it; and a wake-up still on its way comes
    // from a CPU running kernel code (between making the sleeper's condition true and waking it),
    // which is neither home nor in its idle loop. So once every CPU still away idles with a task
    // blocked and no IPI latched, and stays so for HUNG_SETTLE_MS, nobody is left to wake them:
    // hung tasks, unwound with ABORT.
    let settledSince = -1;
    const lookForHungTasks = () => {
      if (failure || hang || hungTasks.length > 0 || control.phase() !== PHASE_STOP) return;
      const stuck = away();
      if (stuck.length === 0 || !stuck.every((cpu) => sleepsBlocked(mem, cpu))) {
        settledSince = -1;
        return;
      }
      const now = performance.now();
      if (settledSince < 0) settledSince = now;
      if (now - settledSince < HUNG_SETTLE_MS) return;
      hungAtEnd(stuck, 'after the run ended: its CPU idles, every other CPU is home or idles with a task blocked too, nobody is left to wake it');
      if (!failure) control.setPhase(PHASE_ABORT);
    };
    const abortedBefore = control.aborted();
    let finished = await comeHome(kind.stallMs + 2000, lookForHungTasks);
    if (!finished && !failure && control.phase() === PHASE_STOP) {
      // Still away long after STOP: tasks blocked now are hung whatever else their CPUs do; a CPU
      // away without one ignored STOP, which is the model's failure, not the kernel's.
      const blocked = away().filter((cpu) => blockedTaskName(mem, cpu) !== null);
      if (blocked.length === away().length) {
        hungAtEnd(blocked, `still ${kind.stallMs + 2000} ms after the run ended`);
        if (!failure) control.setPhase(PHASE_ABORT);
      }
    }
    // After ABORT every CPU unwinds at its next look; one that still does not come home is ours.
    if (!finished && !failure && !abortedBefore && control.aborted()) finished = await comeHome(kind.stallMs + 2000);
    for (const t of timers) clearInterval(t);
    if (!finished) fail(control.aborted() ? 'a CPU did not come home after the run was aborted' : 'a CPU did not stop after the run ended');
    if (failure) {
      if (!finished) await this.pool.destroy().catch(() => {});
      throw failure;
    }
    return kind.collect({ mem, results, runMs, drainMs, drained, hang, hungTasks });
  }
}

/**
 * `cpu` has a task blocked and sleeps: it is in its idle loop (no interrupt, no irq_workd, no task
 * running on it) with no kernel IPI latched, so only another CPU can give it something to do.
 */
function sleepsBlocked(mem: KernelMemory, cpu: number): boolean {
  const b = mem.cpuBase(cpu);
  return (
    blockedTaskName(mem, cpu) !== null &&
    Atomics.load(mem.i32, b + CPU_CONTEXT) === CTX_IDLE &&
    (Atomics.load(mem.i32, b + CPU_IPI_PENDING) & (IPI_CALL_FUNCTION_SINGLE | IPI_IRQ_WORK | IPI_RESCHEDULE)) === 0
  );
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
