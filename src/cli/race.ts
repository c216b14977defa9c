/**
 * `irqwork race`: a stress run with every shadow check on, chaos at interrupt points, trace
 * rings and stutter, that ends with a clean bill or readable, reproducible findings.
 * `--mutants all` is the self-test: every deliberately broken variant must be found and the
 * unmutated variant must stay clean.
 */
import { ALL_CHECKS } from '../checks/index.js';
import { UsageError } from '../errors.js';
import { Machine, type RunResult } from '../machine/machine.js';
import { defaultRunOptions, type RaceOptions, type RunOptions } from '../machine/options.js';
import { DEFAULT_CHAOS } from '../race/chaos.js';
import { DEFAULT_LIVENESS } from '../race/liveness.js';
import { DEFAULT_HOTPLUG } from '../workload/hotplug.js';
import { randomSeed } from '../util/random.js';
import { DEFAULT_VARIANT, findMutant, MUTANTS, mutantNames, variantNames } from '../variants/index.js';
import { DEFAULT_WORKLOAD, loadWorkload, PRESET_NAMES } from '../workload/spec.js';
import { configFlag, cpusFlag, intFlag, parseFlags, positiveFlag, seedFlag, variantFlag, type Options } from './args.js';
import { configJson } from './stress.js';
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
};

const HELP = `usage: irqwork race [options]
       irqwork race --mutants all [--budget-per S] [options]
       irqwork race --mutant NAME [--budget-per S] [options]

A race hunt: the stress machine with every shadow check on, seeded chaos delays and NMIs at
interrupt points, per-CPU trace rings and stutter. Ends with [OK] per check, or findings that
name the check, CPU, work and context, show every CPU's last events, and print the command that
reruns them (same seed: same per-CPU random choices; the OS still varies the real timing).

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

  --mutants all       self-test: run every mutant (and the unmutated variant) and report
                      which were detected; mutants: ${mutantNames().join(', ')}
  --mutant NAME       run one mutant the same way
  --budget-per S      seconds per mutant (default 30; each stops at its first finding)

exit: 0 clean (self-test: every mutant found, variant clean), 1 finding(s), 2 bad usage,
3 internal failure`;

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
  const mutants = values.mutants === 'all' ? MUTANTS : values.mutant !== undefined ? [findMutant(String(values.mutant))] : null;

  const machine = Machine.start(opts.cpus);
  try {
    if (mutants) return await selfTestRun(machine, opts, mutants.map((m) => m.name), values.mutants === 'all', !!values.json);
    const result = await machine.run(opts);
    if (values.json) console.log(JSON.stringify(raceJson(result), null, 2));
    else console.log(formatRace(result));
    return result.ok ? 0 : 1;
  } finally {
    await machine.close();
  }
}

/** The command line that reruns `o` exactly (same seed, same settings). */
export function reproduceCommand(o: RunOptions): string {
  const r = o.race;
  const parts = [
    'npx irqwork race',
    `--variant ${o.variant}`,
    `--config ${o.preemptRt ? 'rt' : 'nort'}`,
    `--cpus ${o.cpus}`,
    `--budget ${o.durationMs / 1000}`,
    `--seed ${o.seed}`,
    `--workload ${o.workload.name}`,
  ];
  if (o.hz !== 1000) parts.push(`--hz ${o.hz}`);
  if (r?.stopOnFirst) parts.push('--stop-on-first');
  if (r && !r.chaos) parts.push('--no-chaos');
  if (o.hotplug) parts.push('--hotplug');
  return parts.join(' ');
}

export function raceJson(r: RunResult): Record<string, unknown> {
  return {
    command: 'race',
    config: configJson(r.options),
    checks: ALL_CHECKS.map((c) => ({
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
    ok: r.ok,
  };
}

export function formatRace(r: RunResult): string {
  const o = r.options;
  const out: string[] = [];
  out.push(
    `irqwork race: variant ${o.variant}, ${o.preemptRt ? 'PREEMPT_RT' : 'non-RT'}, ${o.cpus} CPUs, workload ${o.workload.name}, ` +
      `${(r.runMs / 1000).toFixed(1)} s${o.race?.chaos ? ', chaos on' : ', chaos off'}, seed ${o.seed}`,
  );
  out.push(`executed ${r.totals.executed} works (${Math.round(r.executedPerSec)}/s) under checks`);
  out.push('');
  for (const c of ALL_CHECKS) {
    const n = r.counts[c.name] ?? 0;
    if (c.info && !o.hotplug) continue;
    const status = n === 0 ? '[OK]    ' : c.info ? '[INFO]  ' : '[FAILED]';
    out.push(`${status} ${c.name.padEnd(15)} ${String(n).padStart(7)}  ${c.invariant}`);
  }
  if (r.violations.length === 0) {
    out.push('', 'no findings.');
    return out.join('\n');
  }
  if (r.timeToFirstFindingMs !== null) out.push('', `first finding after ${r.timeToFirstFindingMs.toFixed(1)} ms`);
  const shown = new Set<string>();
  for (const v of r.violations) {
    if (shown.has(v.check)) continue; // one per check in the human report; all in --json
    shown.add(v.check);
    out.push('');
    out.push(
      `${v.info ? '---' : '!!!'} [${v.check}] ${v.cpu >= 0 ? `cpu${v.cpu}` : 'machine'}${v.work ? `, work ${v.work}` : ''}, context ${v.context}` +
        `${v.atMs !== undefined ? `, at ${v.atMs.toFixed(1)} ms` : ''}: ${v.message}`,
    );
    if (v.trace?.length) {
      out.push('    last events of every CPU (µs since start):');
      for (const line of v.trace) out.push(`      ${line}`);
    }
  }
  out.push('', `reproduce: ${reproduceCommand(o)}`);
  return out.join('\n');
}

interface MutantRow {
  mutant: string;
  detected: boolean;
  check: string | null;
  timeMs: number | null;
  description: string;
}

async function selfTestRun(machine: Machine, base: RunOptions, names: string[], withBaseline: boolean, json: boolean): Promise<number> {
  const rows: MutantRow[] = [];
  const tty = process.stderr.isTTY;
  for (const name of names) {
    if (tty) process.stderr.write(`\r${name}…`.padEnd(40));
    const r = await machine.run({ ...base, variant: name });
    const first = [...r.violations].sort((a, b) => (a.atMs ?? Infinity) - (b.atMs ?? Infinity))[0];
    rows.push({
      mutant: name,
      detected: !r.ok,
      check: first?.check ?? null,
      timeMs: r.ok ? null : (r.timeToFirstFindingMs ?? r.runMs),
      description: findMutant(name).description,
    });
  }
  let baseline: RunResult | null = null;
  if (withBaseline) {
    if (tty) process.stderr.write(`\r${base.variant} (unmutated)…`.padEnd(40));
    baseline = await machine.run({ ...base, race: { ...base.race!, stopOnFirst: false } });
  }
  if (tty) process.stderr.write('\r'.padEnd(41) + '\r');
  const allDetected = rows.every((r) => r.detected);
  const ok = allDetected && (baseline === null || baseline.ok);
  if (json) {
    console.log(
      JSON.stringify(
        {
          command: 'race',
          config: { ...configJson(base), budgetPerS: base.durationMs / 1000 },
          mutants: rows.map(({ mutant, detected, check, timeMs }) => ({ mutant, detected, check, timeMs })),
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
        `workload ${base.workload.name}, up to ${base.durationMs / 1000} s each, seed ${base.seed}\n`,
    );
    console.log(
      table(
        ['mutant', 'detected', 'check', 'time', 'what is broken'],
        rows.map((r) => [r.mutant, r.detected ? 'yes' : 'NO', r.check ?? '-', r.timeMs === null ? '-' : `${r.timeMs.toFixed(0)} ms`, r.description]),
        'lllrl',
      ),
    );
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
