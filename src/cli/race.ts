/**
 * `irqwork race`: a stress run with every shadow check on, chaos at interrupt points, trace
 * rings and stutter, that ends with a clean bill or readable, reproducible findings.
 * `--mutants all` is the self-test: every deliberately broken variant must be found by the check
 * it names as the one meant to catch it, and the unmutated variant must stay clean.
 */
import { checksOfRun } from '../checks/index.js';
import { UsageError } from '../errors.js';
import { checkRunFits, Machine } from '../machine/machine.js';
import { runStress, stressRun, type RunResult } from '../stress/kind.js';
import { CommandProgress } from './run-progress.js';
import { defaultRunOptions, type RaceOptions, type RunOptions } from '../stress/options.js';
import { DEFAULT_CHAOS } from '../race/chaos.js';
import { DEFAULT_LIVENESS } from '../race/liveness.js';
import { DEFAULT_HOTPLUG } from '../workload/hotplug.js';
import { randomSeed } from '../util/random.js';
import { DEFAULT_VARIANT, findMutant, MUTANTS, mutantNames, variantNames } from '../variants/index.js';
import type { CheckName, Mutant } from '../variants/mutants/index.js';
import { DEFAULT_WORKLOAD, loadWorkload, PRESET_NAMES } from '../workload/spec.js';
import { configFlag, cpusFlag, intFlag, parseFlags, positiveFlag, seedFlag, variantFlag, type Options } from './args.js';
import { runHunt, type HuntResult } from '../stress/hunt.js';
import { huntJson, huntSummary } from './hunt-output.js';
import { replayFileOf, firstFinding } from '../stress/replay-file.js';
import { checkOutputPath } from './output-path.js';
import { SCHED_FLAGS, SCHED_HELP, schedArgs, schedFlags } from './sched-flags.js';
import { traceOutOptions, writeTraceOut } from './trace-out.js';
import { writeFileSync } from 'node:fs';
import { configJson } from './stress.js';
import { coverageJson, formatCoverage } from './coverage-output.js';
import { table } from '../util/table.js';

/** The flags of `irqwork race` (a reproduce command parses back with these). */
export const RACE_FLAGS: Options = {
  variant: { type: 'string' },
  config: { type: 'string' },
  cpus: { type: 'string' },
  budget: { type: 'string' },
  seed: { type: 'string' },
  workload: { type: 'string' },
  hz: { type: 'string' },
  'stop-on-first': { type: 'boolean' },
  'no-chaos': { type: 'boolean' },
  hotplug: { type: 'boolean' },
  mutants: { type: 'string' },
  mutant: { type: 'string' },
  'budget-per': { type: 'string' },
  json: { type: 'boolean' },
  save: { type: 'string' },
  'trace-out': { type: 'string' },
  ...SCHED_FLAGS,
};

const HELP = `usage: irqwork race [options]
       irqwork race --mutants all [--budget-per S] [options]
       irqwork race --mutant NAME [--budget-per S] [options]

A race hunt: the stress machine with every shadow check on, seeded chaos delays and NMIs at
interrupt points, per-CPU trace rings and stutter. Ends with [OK] per check, or findings that
name the check, CPU, work and context, show every CPU's last events, and print the command that
reruns them (same seed: same per-CPU random choices; the OS still varies the real timing —
with --sched random|pct the same run exactly, which --save keeps for irqwork replay); and with
the branches of the kernel code the run could have reached and never did.

  --variant NAME      ${variantNames().join(', ')} or a mutant (default ${DEFAULT_VARIANT})
  --config rt|nort    PREEMPT_RT or not (default rt)
  --cpus N            simulated CPUs, 1..256 (default 4)
  --budget S          seconds of hunting (default 10)
  --seed N            seed (default: random, printed)
  --workload W        ${PRESET_NAMES.join(', ')} or a JSON scenario file (default ${DEFAULT_WORKLOAD})
  --hz N              timer ticks per second (default 1000)
  --stop-on-first     end at the first finding
  --no-chaos          no delays, NMIs or tick jitter (checks only)
  --hotplug           CPU hotplug phase (RT lazy work stranded on a CPU going offline is
                      reported as 'stranded', known and accepted, without failing the run)
  --json              one JSON object on stdout
  --trace-out T.json  write the run's events (with --sched: the reported iteration's) in the
                      Chrome trace format, for ui.perfetto.dev or chrome://tracing

${SCHED_HELP}
  --save F            controlled: write the first finding's iteration as a replay file
                      (irqwork replay F, irqwork shrink F)

  --mutants all       self-test: run every mutant (and the unmutated variant) and report
                      which were detected, by which check, beside the check meant to catch
                      each; mutants: ${mutantNames().join(', ')}
  --mutant NAME       run one mutant the same way
  --budget-per S      seconds per mutant (default 30; each stops at its first finding)
                      (a mutant of a hotplug step runs with CPU hotplug on, on its own schedule)

A mutant found only by another check than its expected one counts as not detected.

exit: 0 clean (self-test: every mutant found by its expected check, variant clean),
1 finding(s), 2 bad usage, 3 internal failure`;

/** The race settings of `irqwork race` (and of the zoo and the tests). */
export function raceOptions(stopOnFirst: boolean, chaos = true): RaceOptions {
  return {
    trace: true,
    chaos: chaos ? DEFAULT_CHAOS : null,
    stopOnFirst,
    liveness: DEFAULT_LIVENESS,
    maxFindingsPerCheck: 3,
    stutter: { everyMs: 1500, idleMs: 500 },
  };
}

export async function raceCommand(argv: string[]): Promise<number> {
  const values = parseFlags('race', argv, RACE_FLAGS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const d = defaultRunOptions();
  const selfTest = values.mutants !== undefined || values.mutant !== undefined;
  if (values.mutants !== undefined && values.mutants !== 'all') {
    throw new UsageError(`--mutants takes only 'all' (or use --mutant NAME), got ${JSON.stringify(values.mutants)}`);
  }
  if (!selfTest && values['budget-per'] !== undefined) throw new UsageError('--budget-per goes with --mutants all or --mutant NAME');
  const budgetS = positiveFlag(selfTest ? 'budget-per' : 'budget', selfTest ? values['budget-per'] : values.budget, selfTest ? 30 : 10, 86_400);
  const opts: RunOptions = {
    ...d,
    cpus: cpusFlag(values.cpus, 4),
    preemptRt: configFlag(values.config) === 'rt',
    variant: variantFlag(values.variant, DEFAULT_VARIANT),
    durationMs: budgetS * 1000,
    workload: loadWorkload(typeof values.workload === 'string' ? values.workload : DEFAULT_WORKLOAD),
    seed: seedFlag(values.seed, randomSeed()),
    hz: intFlag('hz', values.hz, d.hz, 10, 10_000),
    drainMs: 2000,
    race: raceOptions(selfTest || !!values['stop-on-first'], !values['no-chaos']),
    hotplug: values.hotplug ? DEFAULT_HOTPLUG : undefined,
  };
  const mutants = values.mutants === 'all' ? MUTANTS : values.mutant !== undefined ? [mutantFlag(String(values.mutant))] : null;
  const { schedule, iterations } = schedFlags(values, opts.seed, opts.race!.stopOnFirst);
  if (values.save !== undefined && !schedule) throw new UsageError('--save needs a controlled schedule (--sched random or --sched pct): only those replay');
  if (values.save !== undefined && mutants) throw new UsageError('--save goes with a single hunt, not with --mutants or --mutant');
  if (values['trace-out'] !== undefined && mutants) throw new UsageError('--trace-out goes with a single run, not with --mutants or --mutant');
  const savePath = checkOutputPath('save', values.save);
  const traceOut = checkOutputPath('trace-out', values['trace-out']);
  if (schedule) opts.sched = schedule;
  if (traceOut) Object.assign(opts, traceOutOptions(opts));
  // Too big for the shared-memory limit (many CPUs, long traces): one line now, not after start-up.
  checkRunFits(stressRun(opts));

  const machine = Machine.start(opts.cpus);
  const withBaseline = values.mutants === 'all';
  const runs = mutants ? mutants.length + (withBaseline ? 1 : 0) : 1;
  const progress = new CommandProgress('irqwork race', runs * opts.durationMs);
  try {
    if (mutants) return await selfTestRun(machine, opts, mutants, withBaseline, !!values.json, progress, iterations);
    if (schedule) return await controlledRace(machine, opts, iterations, { json: !!values.json, savePath, traceOut }, progress);
    const result = await runStress(machine, opts, progress.run());
    progress.done();
    if (traceOut) writeTraceOut(traceOut, result);
    if (values.json) console.log(JSON.stringify(raceJson(result), null, 2));
    else console.log(formatRace(result));
    return result.ok ? 0 : 1;
  } finally {
    progress.done();
    await machine.close();
  }
}

/** `--mutant NAME`: the catalogue entry (with its expected check), or the usage error listing the mutants. */
function mutantFlag(name: string): Mutant {
  findMutant(name); // throws for an unknown name
  return MUTANTS.find((m) => m.name === name)!;
}

/** The command line that reruns `o` exactly (same seed, same settings). */
export function reproduceCommand(o: RunOptions): string {
  const r = o.race;
  const parts = [
    'npx irqwork race',
    `--variant ${o.variant}`,
    `--config ${o.preemptRt ? 'rt' : 'nort'}`,
    `--cpus ${o.cpus}`,
    ...(o.sched ? [] : [`--budget ${o.durationMs / 1000}`]),
    `--seed ${o.seed}`,
    `--workload ${o.workload.name}`,
  ];
  if (o.hz !== 1000) parts.push(`--hz ${o.hz}`);
  // A controlled run is one iteration of its hunt: its own seed, alone.
  if (o.sched) parts.push(...schedArgs(o.sched, 1));
  if (r?.stopOnFirst) parts.push('--stop-on-first');
  if (r && !r.chaos) parts.push('--no-chaos');
  if (o.hotplug) parts.push('--hotplug');
  return parts.join(' ');
}

export function raceJson(r: RunResult): Record<string, unknown> {
  return {
    command: 'race',
    config: configJson(r.options),
    checks: checksOfRun(r.options.workload.checks).map((c) => ({
      name: c.name,
      invariant: c.invariant,
      count: r.counts[c.name] ?? 0,
      ok: !!c.info || !r.counts[c.name],
      ...(c.info ? { info: true } : {}),
    })),
    findings: r.violations.map((v) => ({ ...v, seed: r.options.seed, atMs: v.atMs ?? null, trace: v.trace ?? [] })),
    timeToFirstFindingMs: r.timeToFirstFindingMs,
    reproduce: reproduceCommand(r.options),
    totals: r.totals,
    executedPerSec: Math.round(r.executedPerSec),
    runMs: Math.round(r.runMs),
    ...coverageJson(r.coverage),
    ok: r.ok,
  };
}

export function formatRace(r: RunResult): string {
  const o = r.options;
  const out: string[] = [];
  out.push(
    `irqwork race: variant ${o.variant}, ${o.preemptRt ? 'PREEMPT_RT' : 'non-RT'}, ${o.cpus} CPUs, workload ${o.workload.name}, ` +
      `${o.sched ? `${o.sched.mode} schedule, ${r.schedule?.steps ?? 0} steps` : `${(r.runMs / 1000).toFixed(1)} s`}${o.race?.chaos ? ', chaos on' : ', chaos off'}, seed ${o.seed}`,
  );
  out.push(`executed ${r.totals.executed} works (${Math.round(r.executedPerSec)}/s) under checks`);
  out.push('');
  for (const c of checksOfRun(o.workload.checks)) {
    const n = r.counts[c.name] ?? 0;
    if (c.info && !o.hotplug) continue;
    const status = n === 0 ? '[OK]    ' : c.info ? '[INFO]  ' : '[FAILED]';
    out.push(`${status} ${c.name.padEnd(15)} ${String(n).padStart(7)}  ${c.invariant}`);
  }
  if (r.coverage) out.push('', ...formatCoverage(r.coverage));
  if (r.violations.length === 0) {
    out.push('', 'no findings.');
    return out.join('\n');
  }
  if (r.timeToFirstFindingMs !== null && !o.sched) out.push('', `first finding after ${r.timeToFirstFindingMs.toFixed(1)} ms`);
  const shown = new Set<string>();
  for (const v of r.violations) {
    if (shown.has(v.check)) continue; // one per check in the human report; all in --json
    shown.add(v.check);
    out.push('');
    out.push(
      `${v.info ? '---' : '!!!'} [${v.check}] ${v.cpu >= 0 ? `cpu${v.cpu}` : 'machine'}${v.work ? `, work ${v.work}` : ''}, context ${v.context}` +
        `${v.step !== undefined ? `, step ${v.step}` : ''}${v.atMs !== undefined ? `, at ${v.atMs.toFixed(1)} ms${o.sched ? ' (virtual)' : ''}` : ''}: ${v.message}`,
    );
    if (v.trace?.length) {
      out.push('    last events of every CPU (µs since start):');
      for (const line of v.trace) out.push(`      ${line}`);
    }
  }
  out.push('', `reproduce: ${reproduceCommand(o)}`);
  return out.join('\n');
}

/**
 * How a mutant's run ended, against the check meant to catch it: `expected` (that check fired),
 * `other` (only other checks fired: the mutant was noticed, but not where the catalogue says, so
 * the check it names may be broken), `none` (nothing fired within the budget).
 */
export type CaughtBy = 'expected' | 'other' | 'none';

export interface MutantVerdict {
  caughtBy: CaughtBy;
  /** Only a find by the expected check counts for the self-test's exit code. */
  detected: boolean;
  /** The expected check if it fired, else the check of the first finding; null if none. */
  check: string | null;
  /** Every check that fired, in order of its first finding. */
  checks: string[];
  /** When `check` first fired, ms after the start; null if nothing fired. */
  timeMs: number | null;
}

export function classifyMutantRun(
  expectedCheck: CheckName,
  r: Pick<RunResult, 'violations' | 'timeToFirstFindingMs' | 'runMs'>,
): MutantVerdict {
  // Informational findings (stranded lazy work) never fail a run, so they cannot detect a mutant.
  const failing = r.violations.filter((v) => !v.info).sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity));
  const checks = [...new Set(failing.map((v) => v.check))];
  const first = failing.find((v) => v.check === expectedCheck) ?? failing[0];
  if (first === undefined) return { caughtBy: 'none', detected: false, check: null, checks, timeMs: null };
  const caughtBy = first.check === expectedCheck ? 'expected' : 'other';
  return {
    caughtBy,
    detected: caughtBy === 'expected',
    check: first.check,
    checks,
    // Machine-side findings (accounting) carry no time: the first finding's time, else the run's.
    timeMs: first.atMs ?? r.timeToFirstFindingMs ?? r.runMs,
  };
}

export interface MutantRow extends MutantVerdict {
  mutant: string;
  expectedCheck: CheckName;
  description: string;
}

/** One line of the self-test: the mutant, its expected check, and what its run found. */
export function mutantRow(m: Mutant, r: Pick<RunResult, 'violations' | 'timeToFirstFindingMs' | 'runMs'>): MutantRow {
  return { mutant: m.name, expectedCheck: m.expectedCheck, description: m.description, ...classifyMutantRun(m.expectedCheck, r) };
}

/** A row of `--json`'s `mutants` (the description stays in the human table). */
export function mutantJson(r: MutantRow): Record<string, unknown> {
  return {
    mutant: r.mutant,
    detected: r.detected,
    check: r.check,
    expectedCheck: r.expectedCheck,
    caughtBy: r.caughtBy,
    checks: r.checks,
    timeMs: r.timeMs === null ? null : Math.round(r.timeMs),
  };
}

/** The self-test's "detected" cell: a find by another check is not a detection. */
function detectedCell(r: MutantRow): string {
  return r.caughtBy === 'expected' ? 'yes' : r.caughtBy === 'other' ? 'NO (other check)' : 'NO';
}

/** The human table of the self-test, and a line for each mutant found by another check. */
export function formatMutantRows(rows: readonly MutantRow[]): string {
  const out = [
    table(
      ['mutant', 'detected', 'check', 'expected check', 'time', 'what is broken'],
      rows.map((r) => [
        r.mutant,
        detectedCell(r),
        r.check ?? '-',
        r.expectedCheck,
        r.timeMs === null ? '-' : `${r.timeMs.toFixed(0)} ms`,
        r.description,
      ]),
      'llllrl',
    ),
  ];
  for (const r of rows.filter((x) => x.caughtBy === 'other')) {
    const all = r.checks.length > 1 ? ` (checks that fired: ${r.checks.join(', ')})` : '';
    out.push(`!!! ${r.mutant}: found by ${r.check}, expected ${r.expectedCheck}${all}`);
  }
  return out.join('\n');
}

/**
 * The run of mutant `m` in the self-test: the command's settings, with the mutant as the variant
 * and whatever the mutant needs to be found at all (CPU hotplug for a broken hotplug step).
 */
export function mutantRunOptions(base: RunOptions, m: Mutant): RunOptions {
  return { ...base, variant: m.name, ...(m.run?.hotplug ? { hotplug: m.run.hotplug } : {}) };
}

/**
 * The self-test passes when every mutant was found by its expected check (a find by another
 * check does not count) and the unmutated variant, if it ran (`baselineClean` not null), is clean.
 */
export function selfTestPassed(rows: readonly MutantRow[], baselineClean: boolean | null): boolean {
  return rows.every((r) => r.detected) && baselineClean !== false;
}

/**
 * One run of the self-test: a free run of the budget, or under a controlled schedule a hunt of as
 * many iterations as the budget allows (stopping at the first finding when `stopOnFirst`), shown
 * as its reported iteration with the hunt's wall time to the first finding.
 */
async function selfTestOne(machine: Machine, o: RunOptions, progress: CommandProgress, iterations: number): Promise<RunResult> {
  if (!o.sched) return runStress(machine, o, progress.run());
  const h = await runHunt(machine, o, { budgetMs: o.durationMs, iterations, stopOnFirst: o.race!.stopOnFirst, keepTrace: false }, () => progress.run());
  const violations = h.reported.violations.map((v) => (v.info ? v : { ...v, atMs: h.timeToFirstFindingMs ?? h.wallMs }));
  return { ...h.reported, violations, timeToFirstFindingMs: h.timeToFirstFindingMs, runMs: h.wallMs, ok: h.failingIterations.length === 0 };
}

async function selfTestRun(
  machine: Machine,
  base: RunOptions,
  mutants: readonly Mutant[],
  withBaseline: boolean,
  json: boolean,
  progress: CommandProgress,
  iterations: number,
): Promise<number> {
  const rows: MutantRow[] = [];
  for (const m of mutants) {
    progress.setStage(m.name);
    rows.push(mutantRow(m, await selfTestOne(machine, mutantRunOptions(base, m), progress, iterations)));
  }
  let baseline: RunResult | null = null;
  if (withBaseline) {
    progress.setStage(`${base.variant} (unmutated)`);
    const clean = { ...base, race: { ...base.race!, stopOnFirst: false }, ...(base.sched ? { sched: { ...base.sched, stopOnFirst: false } } : {}) };
    baseline = await selfTestOne(machine, clean, progress, iterations);
  }
  progress.done();
  const ok = selfTestPassed(rows, baseline === null ? null : baseline.ok);
  if (json) {
    console.log(
      JSON.stringify(
        {
          command: 'race',
          config: { ...configJson(base), budgetPerS: base.durationMs / 1000 },
          mutants: rows.map(mutantJson),
          baseline: baseline && { variant: base.variant, clean: baseline.ok, counts: baseline.counts, runMs: Math.round(baseline.runMs) },
          ok,
        },
        null,
        2,
      ),
    );
  } else {
    console.log(
      `irqwork race self-test: ${rows.length} mutant(s), ${base.preemptRt ? 'PREEMPT_RT' : 'non-RT'}, ${base.cpus} CPUs, ` +
        `workload ${base.workload.name}, up to ${base.durationMs / 1000} s each, seed ${base.seed}` +
          `${base.sched ? `, ${base.sched.mode} schedule (${base.sched.steps} steps per iteration)` : ''}\n`,
    );
    console.log(formatMutantRows(rows));
    if (baseline) {
      console.log(
        `\nunmutated ${base.variant}: ${baseline.ok ? 'clean' : `NOT clean (${Object.entries(baseline.counts).map(([k, n]) => `${k} ${n}`).join(', ')})`} ` +
          `over ${(baseline.runMs / 1000).toFixed(1)} s`,
      );
    }
    console.log(ok ? '\nself-test passed.' : '\n!!! self-test FAILED.');
  }
  return ok ? 0 : 1;
}

interface ControlledOutputs {
  json: boolean;
  savePath: string | undefined;
  traceOut: string | undefined;
}

/** `irqwork race --sched random|pct`: a hunt of controlled iterations, the first finding's in full. */
async function controlledRace(machine: Machine, opts: RunOptions, iterations: number, out: ControlledOutputs, progress: CommandProgress): Promise<number> {
  const keepTrace = out.traceOut !== undefined;
  const h = await runHunt(machine, opts, { budgetMs: opts.durationMs, iterations, stopOnFirst: opts.race!.stopOnFirst, keepTrace }, () => {
    progress.setStage(`iteration ${progress.runs}`);
    return progress.run();
  });
  progress.done();
  const r = h.reported;
  if (out.traceOut) writeTraceOut(out.traceOut, r);
  let saved: string | null = null;
  if (out.savePath && !r.ok && firstFinding(r)) {
    // A run that cannot be saved still reports its findings; the reason is one line on stderr.
    try {
      writeFileSync(out.savePath, JSON.stringify(replayFileOf(r), null, 1) + '\n');
      saved = out.savePath;
    } catch (e) {
      console.error(`irqwork race: not saved to ${out.savePath}: ${(e as Error).message}`);
    }
  }
  if (out.json) console.log(JSON.stringify({ ...raceJson(r), ...huntJson(h, opts), saved, ok: h.failingIterations.length === 0 }, null, 2));
  else console.log(formatHunt(h, opts, saved));
  return h.failingIterations.length === 0 ? 0 : 1;
}

export function formatHunt(h: HuntResult, opts: RunOptions, saved: string | null): string {
  const lines = [huntSummary(h, opts)];
  if (h.firstFindingIteration !== null) {
    lines.push(
      `first finding in iteration ${h.firstFindingIteration} (seed ${h.reported.options.seed}) after ${(h.timeToFirstFindingMs! / 1000).toFixed(2)} s; ` +
        `iterations with findings: ${h.failingIterations.length}`,
    );
  }
  lines.push('', formatRace(h.reported));
  if (saved) lines.push(`saved: ${saved}  (irqwork replay ${saved}; irqwork shrink ${saved})`);
  return lines.join('\n');
}
