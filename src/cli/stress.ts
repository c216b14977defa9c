/**
 * `irqwork stress`: many CPUs hammering the irq_work API, with per-CPU figures, totals and the
 * accounting check. Exit 0 clean, 1 a violation, (2 bad usage, 3 internal failure: in cli.ts).
 */
import { checkRunFits, Machine } from '../machine/machine.js';
import { runStress, stressRun, type RunResult } from '../stress/kind.js';
import { CommandProgress } from './run-progress.js';
import { defaultRunOptions, type RunOptions } from '../stress/options.js';
import { randomSeed } from '../util/random.js';
import { DEFAULT_VARIANT, variantNames } from '../variants/index.js';
import { DEFAULT_WORKLOAD, loadWorkload, PRESET_NAMES } from '../workload/spec.js';
import { configFlag, cpusFlag, intFlag, parseFlags, positiveFlag, seedFlag, variantFlag, type Options } from './args.js';
import { percent, table } from '../util/table.js';
import { DEFAULT_LIVENESS } from '../race/liveness.js';
import { DEFAULT_HOTPLUG } from '../workload/hotplug.js';
import { coverageJson, formatCoverage } from './coverage-output.js';
import { runHunt, type HuntResult } from '../stress/hunt.js';
import { huntJson, huntSummary } from './hunt-output.js';
import { checkOutputPath } from './output-path.js';
import { SCHED_FLAGS, SCHED_HELP, schedFlags } from './sched-flags.js';
import { traceOutOptions, writeTraceOut } from './trace-out.js';

export const STRESS_FLAGS: Options = {
  cpus: { type: 'string' },
  config: { type: 'string' },
  variant: { type: 'string' },
  duration: { type: 'string' },
  workload: { type: 'string' },
  seed: { type: 'string' },
  hz: { type: 'string' },
  'periodic-tick': { type: 'boolean' },
  'arch-no-irq-work': { type: 'boolean' },
  check: { type: 'boolean' },
  hotplug: { type: 'boolean' },
  json: { type: 'boolean' },
  'trace-out': { type: 'string' },
  ...SCHED_FLAGS,
};

export const STRESS_HELP = `usage: irqwork stress [options]

Runs N simulated CPUs (one worker thread each) hammering irq_work_queue / irq_work_queue_on /
irq_work_sync from task, hardirq and NMI context, then quiesces and checks that every claimed
work was executed exactly once.

  --cpus N            simulated CPUs, 1..256 (default: all cores)
  --config rt|nort    PREEMPT_RT or not (default rt)
  --variant NAME      kernel code version: ${variantNames().join(', ')} (default ${DEFAULT_VARIANT})
  --duration S        seconds of workload (default 5)
  --workload W        ${PRESET_NAMES.join(', ')} or a JSON scenario file (default ${DEFAULT_WORKLOAD})
  --seed N            seed of the per-CPU random streams (default: random, printed)
  --hz N              timer ticks per second, 10..10000 (default 1000)
  --periodic-tick     never stop the tick in idle (no NO_HZ)
  --arch-no-irq-work  the arch has no irq_work self-IPI: the tick runs the raised list
  --check             shadow checks, traces and branch coverage on (as in 'irqwork race',
                      without chaos)
  --hotplug           CPU hotplug phase: CPUs (not cpu0) go offline and come back at random
  --json              one JSON object on stdout
  --trace-out T.json  write the run's events (with --sched: the reported iteration's) in the
                      Chrome trace format, for ui.perfetto.dev or chrome://tracing

${SCHED_HELP}
                      (with --sched, --duration is the budget of the whole hunt; the report
                      shows its first iteration with a violation, else its last)

exit: 0 clean, 1 violation found, 2 bad usage, 3 internal failure (crash, hang)`;

/** Flags common to stress-like commands → RunOptions. */
export function runOptionsFromFlags(values: Record<string, string | boolean | undefined>): RunOptions {
  const d = defaultRunOptions();
  return {
    ...d,
    cpus: cpusFlag(values.cpus),
    preemptRt: configFlag(values.config) === 'rt',
    variant: variantFlag(values.variant, DEFAULT_VARIANT),
    durationMs: positiveFlag('duration', values.duration, d.durationMs / 1000, 86_400) * 1000,
    workload: loadWorkload(typeof values.workload === 'string' ? values.workload : DEFAULT_WORKLOAD),
    seed: seedFlag(values.seed, randomSeed()),
    hz: intFlag('hz', values.hz, d.hz, 10, 10_000),
    nohz: !values['periodic-tick'],
    archHasIrqWorkInterrupt: !values['arch-no-irq-work'],
    hotplug: values.hotplug ? DEFAULT_HOTPLUG : undefined,
    race: values.check
      ? { trace: true, chaos: null, stopOnFirst: false, liveness: DEFAULT_LIVENESS, maxFindingsPerCheck: 3, stutter: null }
      : undefined,
  };
}

export async function stressCommand(argv: string[]): Promise<number> {
  const values = parseFlags('stress', argv, STRESS_FLAGS);
  if (values.help) {
    console.log(STRESS_HELP);
    return 0;
  }
  const opts = runOptionsFromFlags(values);
  const { schedule, iterations } = schedFlags(values, opts.seed, false);
  const traceOut = checkOutputPath('trace-out', values['trace-out']);
  if (schedule) opts.sched = schedule;
  if (traceOut) Object.assign(opts, traceOutOptions(opts));
  // Too big for the shared-memory limit (many CPUs, long traces): one line now, not after start-up.
  checkRunFits(stressRun(opts));
  const machine = Machine.start(opts.cpus);
  const progress = new CommandProgress('irqwork stress', opts.durationMs, opts.race !== undefined);
  let result: RunResult;
  let hunt: HuntResult | null = null;
  try {
    if (schedule) {
      hunt = await runHunt(machine, opts, { budgetMs: opts.durationMs, iterations, stopOnFirst: false, keepTrace: traceOut !== undefined }, () => progress.run());
      result = hunt.reported;
    } else result = await runStress(machine, opts, progress.run());
  } finally {
    progress.done();
    await machine.close();
  }
  if (traceOut) writeTraceOut(traceOut, result);
  const ok = hunt ? hunt.failingIterations.length === 0 : result.ok;
  if (values.json) console.log(JSON.stringify({ ...stressJson(result), ...(hunt ? { ...huntJson(hunt, opts), ok } : {}) }, null, 2));
  else console.log([...(hunt ? [huntSummary(hunt, opts), ''] : []), formatStress(result)].join('\n'));
  return ok ? 0 : 1;
}

/** The settings of a run, as printed in JSON and in the human header. */
export function configJson(o: RunOptions): Record<string, unknown> {
  return {
    cpus: o.cpus,
    config: o.preemptRt ? 'rt' : 'nort',
    variant: o.variant,
    durationS: o.durationMs / 1000,
    workload: o.workload.name,
    seed: o.seed,
    hz: o.hz,
    nohz: o.nohz,
    archHasIrqWorkInterrupt: o.archHasIrqWorkInterrupt,
    checks: o.race !== undefined,
    hotplug: o.hotplug !== undefined,
  };
}

export function stressJson(r: RunResult): Record<string, unknown> {
  return {
    command: 'stress',
    config: configJson(r.options),
    totals: r.totals,
    executedPerSec: Math.round(r.executedPerSec),
    runMs: Math.round(r.runMs),
    drainMs: Math.round(r.drainMs),
    maxClockSkewNs: Math.round(r.maxClockSkewNs),
    perCpu: r.perCpu,
    violations: r.violations,
    ...(r.options.race ? { checkCounts: r.counts } : {}),
    ...coverageJson(r.coverage),
    warnings: r.warnings,
    ok: r.ok,
    ...(r.dump ? { dump: r.dump } : {}),
  };
}

export function formatStress(r: RunResult): string {
  const o = r.options;
  const out: string[] = [];
  out.push(
    `irqwork stress: ${o.cpus} CPUs, ${o.preemptRt ? 'PREEMPT_RT' : 'non-RT'}, variant ${o.variant}, workload ${o.workload.name}, ` +
      `${(r.runMs / 1000).toFixed(1)} s, HZ ${o.hz}${o.nohz ? ', NO_HZ idle' : ''}, seed ${o.seed}`,
  );
  out.push('');
  const rows = r.perCpu.map((c) => [
    `cpu${c.cpu}`,
    c.queueCalls,
    c.claimed,
    c.executedHardirq,
    c.executedIrqWorkd,
    c.executedOther,
    c.ipisSent,
    c.ipisReceived,
    c.selfIpis,
    c.irqWorkdWakeups,
    c.ticks,
    percent(c.idleShare),
  ]);
  const t = r.totals;
  rows.push([
    'total',
    t.queueCalls,
    t.claimed,
    t.executedHardirq,
    t.executedIrqWorkd,
    t.executedOther,
    t.ipisSent,
    t.ipisReceived,
    t.selfIpis,
    t.irqWorkdWakeups,
    t.ticks,
    percent(r.perCpu.reduce((s, c) => s + c.idleShare, 0) / Math.max(1, r.perCpu.length)),
  ]);
  out.push(
    table(
      ['', 'queue calls', 'claimed', 'exec hardirq', 'exec irq_workd', 'exec other', 'IPIs sent', 'IPIs recv', 'self-IPIs', 'irq_workd wakeups', 'ticks', 'idle'],
      rows,
    ),
  );
  out.push('');
  out.push(
    `executed ${t.executed} works (${Math.round(r.executedPerSec)} works/s); claimed ${t.claimed}; quiesced in ${r.drainMs.toFixed(1)} ms`,
  );
  const infos = r.violations.filter((v) => v.info);
  const failures = r.violations.filter((v) => !v.info);
  for (const v of infos.slice(0, 5)) out.push(`[${v.check}] (known, accepted behaviour) ${v.message}`);
  if (infos.length > 5) out.push(`  … and ${infos.length - 5} more ${infos[0]!.check} reports`);
  if (failures.length === 0) out.push('accounting: claimed == executed for every work. OK');
  else {
    out.push(`!!! ${failures.length} violation(s):`);
    for (const v of failures.slice(0, 20)) {
      out.push(`  [${v.check}]${v.cpu >= 0 ? ` cpu${v.cpu}` : ''}${v.work ? ` work ${v.work}` : ''}: ${v.message}`);
    }
    if (failures.length > 20) out.push(`  … and ${failures.length - 20} more (see --json)`);
    if (r.dump) out.push('', 'state when quiescing gave up:', r.dump);
  }
  if (r.coverage) out.push('', ...formatCoverage(r.coverage));
  return out.join('\n');
}
