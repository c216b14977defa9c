/**
 * The stress / race run kind: every CPU runs the workload (stress/cpu.ts) for the duration, with
 * the shadow checks, trace rings, chaos and stutter of a race run when `race` is set; then the
 * machine quiesces and the accounting is checked (every successful claim executed exactly once).
 *
 * What it brings to the machine: the work pool (and the trace region of race runs), the
 * liveness scanner and stop-on-first on the main thread, and the collector that turns counters,
 * the CPUs' findings and the machine's hangs into a RunResult.
 */
import type { ExtraRegion } from '../kernel/layout.js';
import { KernelMemory, type MemoryHandle } from '../kernel/memory.js';
import { MachineControl, PHASE_QUIESCE, PHASE_RUNNING } from '../machine/control.js';
import { stateDump } from '../machine/dump.js';
import type { FinishedRun, LiveRun, Machine, RunKind, RunOptionsOfMachine } from '../machine/machine.js';
import { contractRegion } from '../checks/contract-layout.js';
import { shadowRegion } from '../checks/shadow-layout.js';
import { hungTaskRegion, taskHistory } from '../race/hung-task.js';
import { LivenessScanner } from '../race/liveness.js';
import { formatTrace, readTrace, TRACE_ENTRIES, traceRegion, type TraceLine } from '../race/trace.js';
import { END_DRAINED, H, notDrainedWhy, SchedView, schedRegion, scheduleOutcome, STEP_NS, TURN_RELEASED, type ScheduleOutcome } from '../sched/layout.js';
import { initSchedule, schedSizes } from '../sched/settings.js';
import { isQuiet } from './quiet.js';
import { findVariant } from '../variants/index.js';
import { hotplugRegion } from '../workload/hotplug.js';
import { initPool, poolLayout } from '../workload/pool.js';
import { worksPerCpu } from '../workload/spec.js';
import { coverageConfig, coverageReport, sumCoverage, type CoverageReport } from './coverage.js';
import type { RaceOptions, RunOptions } from './options.js';
import { accountingViolations, collectCpuStats, contractViolations, totalsOf, type CpuStats, type Totals } from './report.js';
import type { CpuTask, CpuTaskResult, Violation } from './task.js';

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
  /** State dump when the run did not drain, the watchdog saw a soft lockup, or a task hung. */
  dump?: string;
  /** Runs with checks: which branches of the kernel code ran, and which reachable ones did not. */
  coverage?: CoverageReport;
  /** Controlled schedules: what the schedule did (steps, switches, digest, decisions). */
  schedule?: ScheduleOutcome;
  /** Every event the trace rings held at the end, in happening order (RunOptions.keepTrace). */
  trace?: TraceLine[];
  /** When the run began on the trace's clock, ns (0 under a controlled schedule: virtual time). */
  traceOriginNs: number;
  /** Operations each CPU's workload performed. */
  opsPerCpu: number[];
}

/**
 * A memory with the kernel layout of a run of `opts` and nothing else (no regions, never run): what
 * names list heads and the CPUs they belong to in a finished run's trace (histories, timelines).
 */
export function kernelLayoutOf(opts: RunOptions): KernelMemory {
  return KernelMemory.create({ ...stressRun(opts).memory.config, nrCpus: opts.cpus });
}

/** A stress (or race) run on `machine`. */
export function runStress(machine: Machine, opts: RunOptions, runOptions?: RunOptionsOfMachine): Promise<RunResult> {
  return machine.run(stressRun(opts), runOptions);
}

export function stressRun(opts: RunOptions): RunKind<CpuTaskResult, RunResult> {
  const race = opts.race;
  // Seen by the main thread during the run (the liveness scanner).
  const mainFindings: Violation[] = [];
  const regions: ExtraRegion[] = [
    ...(race ? [shadowRegion({ nrCpus: opts.cpus, nrWorks: opts.cpus * worksPerCpu(opts.workload) })] : []),
    ...(race ? [contractRegion({ nrCpus: opts.cpus, nrWorks: opts.cpus * worksPerCpu(opts.workload) })] : []),
    ...(race?.trace || opts.sched || opts.traceEntries ? [traceRegion(opts.cpus, opts.traceEntries ?? TRACE_ENTRIES)] : []),
    ...(opts.sched ? [schedRegion(schedSizes(opts.cpus, opts.sched))] : []),
    ...(race ? [hungTaskRegion(opts.cpus)] : []),
    ...(opts.hotplug ? [hotplugRegion()] : []),
  ];
  return {
    name: '',
    cpus: opts.cpus,
    validate: () => void findVariant(opts.variant),
    memory: {
      config: {
        nrWorks: opts.cpus * worksPerCpu(opts.workload),
        preemptRt: opts.preemptRt,
        archHasIrqWorkInterrupt: opts.archHasIrqWorkInterrupt,
        hz: opts.hz,
      },
      regions,
      init: (mem) => {
        initPool(mem, poolLayout(opts.workload, opts.cpus, mem));
        if (opts.sched) initSchedule(mem, opts.sched);
      },
    },
    cpuTask: (cpu: number, handle: MemoryHandle, lowPriority: boolean): CpuTask => ({
      program: 'stress',
      ...(opts.sched ? { controlled: true } : {}),
      handle,
      cpu,
      lowPriority,
      variant: opts.variant,
      spec: opts.workload,
      seed: opts.seed,
      nohz: opts.nohz,
      failAfterMs: opts.failCpu?.cpu === cpu ? opts.failCpu.afterMs : undefined,
      hotplug: opts.hotplug && (opts.sched ? fitToSteps(opts.hotplug, 'everyMs', 'offlineMs', opts.sched.steps) : opts.hotplug),
      traceRing: !!(race?.trace || opts.sched || opts.traceEntries),
      ...(opts.opsLimit?.[cpu] !== undefined ? { opsLimit: opts.opsLimit[cpu] } : {}),
      race: race && {
        checks: true,
        trace: race.trace,
        chaos: race.chaos,
        maxFindingsPerCheck: race.maxFindingsPerCheck,
        stutter: race.stutter && (opts.sched ? fitToSteps(race.stutter, 'everyMs', 'idleMs', opts.sched.steps) : race.stutter),
      },
    }),
    main: async (run) => {
      if (opts.sched) {
        // The schedule runs the run and ends it; the liveness of a controlled run is judged at its
        // end, when nobody can run any more (a mid-run scan by the clock would be a guess).
        while (!run.over() && Atomics.load(run.mem.i32, new SchedView(run.mem).base + H.TURN) !== TURN_RELEASED) await run.sleep(2);
        return;
      }
      if (race) run.every(LIVENESS_SCAN_MS, livenessScan(run, race, mainFindings));
      if (!race?.stopOnFirst) return run.sleep(opts.durationMs);
      const endMs = performance.now() + opts.durationMs;
      while (!run.over() && run.control.findings() === 0 && performance.now() < endMs) await run.sleep(Math.min(10, endMs - performance.now()));
    },
    isQuiet,
    drainMs: opts.drainMs,
    stallMs: opts.stallMs,
    hangs: 'finding',
    ...(opts.sched
      ? {
          controlled: {
            drained: (mem) => new SchedView(mem).get(H.END) === END_DRAINED,
            step: (mem) => {
              const v = new SchedView(mem);
              return Atomics.load(v.i32, v.base + H.TURN) === TURN_RELEASED ? NaN : v.getF64(H.STEP_F64);
            },
            notDrainedWhy: (mem) => notDrainedWhy(new SchedView(mem).get(H.END)),
            // Published by the turn holder every 64 steps and when it lets go: a hang seen after
            // the schedule let go is timed by where it stopped.
            virtualMs: (mem) => new SchedView(mem).getF64(H.VTIME_F64) / 1e6,
          },
        }
      : {}),
    collect: (run) => collectStress(run, opts, mainFindings),
  };
}

/**
 * A period of CPU hotplug or stutter (and the span it lasts) shrunk, both by the same factor, to a
 * quarter of a controlled run's virtual length: at 1 µs a step, an iteration of 20 000 steps lasts
 * 20 ms of virtual time, and the free mode's periods (hundreds of ms) would never come round.
 */
function fitToSteps<K extends string, T extends Record<K, number>>(o: T, period: K, span: K, steps: number): T {
  const quarterMs = (steps * STEP_NS) / 1e6 / 4;
  if (o[period] <= quarterMs) return o;
  const f = quarterMs / o[period];
  return { ...o, [period]: o[period] * f, [span]: o[span] * f };
}

/** The liveness scanner of race runs, every few ms from the main thread. */
function livenessScan(run: LiveRun, race: RaceOptions, out: Violation[]): () => void {
  const scanner = new LivenessScanner(run.mem, race.liveness);
  return () => {
    const phase = run.control.phase();
    if (phase !== PHASE_RUNNING && phase !== PHASE_QUIESCE) return;
    for (const f of scanner.scan(performance.now())) {
      run.control.addFinding();
      out.push({
        check: 'liveness',
        cpu: f.cpu,
        work: f.work,
        context: '-',
        message: f.message,
        atMs: (run.clock() - run.runStartNs) / 1e6,
        // A hung task's history is its own CPU's events since its sync began; a stuck work's, every CPU's last ones.
        trace: race.trace
          ? [
              ...(f.hungTask ? taskHistory(run.mem, f.cpu, f.work, run.runStartNs) : formatTrace(run.mem, readTrace(run.mem, 12), run.runStartNs)),
              '',
              ...stateDump(run.mem).split('\n'),
            ]
          : undefined,
      });
    }
  };
}

function collectStress(run: FinishedRun<CpuTaskResult>, opts: RunOptions, mainFindings: Violation[]): RunResult {
  const { mem, results, runMs, drainMs, drained, hang, hungTasks } = run;
  const perCpu = collectCpuStats(mem, runMs * 1e6);
  const totals = totalsOf(perCpu);
  // Seen by the machine itself: liveness during the run, then hangs, draining and accounting.
  const machineSeen: Violation[] = [...mainFindings];
  if (hang && hang.cpu >= 0) {
    // A soft lockup says it all; the run was cut short, so no accounting.
    machineSeen.push({ check: 'liveness', cpu: hang.cpu, work: 0, context: '-', message: hang.message, atMs: hang.atMs, trace: hang.dump.split('\n') });
  } else if (!drained) {
    machineSeen.push({ check: 'liveness', cpu: -1, work: 0, context: '-', message: hang?.message ?? 'the machine did not quiesce' });
  } else {
    machineSeen.push(...accountingViolations(mem, totals));
    // Drained: nothing is pending any more, so every run a failed claim was promised has come.
    machineSeen.push(...contractViolations(mem));
  }
  // Tasks the run ended with still blocked (the machine unwound their CPUs): each with its history.
  const runStartNs = new MachineControl(mem).runStartNs;
  for (const t of hungTasks) {
    const history = opts.race?.trace ? taskHistory(mem, t.cpu, 0, runStartNs) : [];
    machineSeen.push({ check: 'liveness', cpu: t.cpu, work: 0, context: '-', message: t.message, atMs: t.atMs, trace: [...history, ...(history.length ? [''] : []), ...t.dump.split('\n')] });
  }
  const schedule = opts.sched ? scheduleOutcome(mem) : undefined;
  // What the machine saw, it saw at the end of the run: under a controlled schedule, its last step.
  if (schedule) for (const v of machineSeen) Object.assign(v, { step: v.step ?? schedule.steps, digest: v.digest ?? schedule.digest });
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
  const coverageCounts = sumCoverage(results.map((r) => r?.coverage));
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
    dump: hang?.dump ?? hungTasks[0]?.dump,
    ...(coverageCounts ? { coverage: coverageReport(coverageCounts, coverageConfig(opts)) } : {}),
    ...(schedule ? { schedule } : {}),
    ...(opts.keepTrace ? { trace: readTrace(mem, Infinity) } : {}),
    opsPerCpu: results.map((r) => r?.ops ?? 0),
    traceOriginNs: runStartNs,
  };
}
