/**
 * `irqwork latency`: cyclictest for irq_work. Per latency class, a cyclictest line per CPU and a
 * percentile table; `-h US` histogram blocks (stdout or --histfile), --json, --svg; RT and non-RT
 * side by side with `--config both`. Exit 0 clean, 1 the kernel model warned, (2 bad usage, 3
 * internal failure: in cli.ts).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { formatHistogramBlocks } from './latency-histfile.js';
import { runLatency } from '../latency/kind.js';
import { Machine } from '../machine/machine.js';
import { DEFAULT_INTERVAL_US, DEFAULT_LATENCY_DURATION_S, defaultLatencyOptions, type LatencyOptions } from '../latency/options.js';
import { printOut } from './output.js';
import { CommandProgress } from './run-progress.js';
import { formatLatency, latencyJson, latencySvg } from './latency-output.js';
import type { LatencyRun } from '../latency/result.js';
import { DEFAULT_VARIANT, variantNames } from '../variants/index.js';
import { configFlag, cpusFlag, intFlag, positiveFlag, seedFlag, variantFlag, type Options } from './args.js';
import { checkOutputPath } from './output-path.js';

export const LATENCY_FLAGS: Options = {
  cpus: { type: 'string' },
  config: { type: 'string' },
  duration: { type: 'string' },
  busy: { type: 'boolean' },
  idle: { type: 'boolean' },
  histogram: { type: 'string', short: 'h' },
  histfile: { type: 'string' },
  json: { type: 'boolean' },
  svg: { type: 'string' },
  interval: { type: 'string' },
  hz: { type: 'string' },
  variant: { type: 'string' },
  'lazy-together': { type: 'boolean' },
  seed: { type: 'string' },
  help: { type: 'boolean' },
};

export const LATENCY_HELP = `usage: irqwork latency [options]

cyclictest for irq_work: every CPU periodically queues one work of each latency class and the CPU
that runs the callback records the time from the successful claim to the callback's start.
Classes: local hard, local lazy, remote hard; with PREEMPT_RT also local threaded and remote
threaded (non-HARD_IRQ works run in irq_workd). Remote classes queue on the next CPU.

  --cpus N            simulated CPUs, 1..256 (default: all cores; more CPUs than cores measures
                      the OS scheduler, not the model)
  --config C          rt, nort or both (side by side) (default rt)
  --duration S        seconds measured per configuration (default ${DEFAULT_LATENCY_DURATION_S})
  --idle              between measurements CPUs idle in Atomics.wait, tick stopped (NO_HZ) (default)
  --busy              between measurements CPUs spin through interrupt points
  -h, --histogram US  print cyclictest histogram blocks of US 1-µs buckets (one column per CPU)
  --histfile F        write the histogram blocks to F instead of stdout (needs -h)
  --json              one JSON object on stdout: per class and CPU count, min, avg, max, p50, p90,
                      p99, p999 (µs) and the histogram buckets
  --svg F             write a picture: CDF per class, log latency axis
  --interval US       period of each class's measurements, µs (default ${DEFAULT_INTERVAL_US}); the
                      local lazy class waits for the tick, so its samples come at random moments
                      instead, at least max(interval, one tick) apart (see docs/LATENCY.md)
  --seed N            seed of those random moments (default 1)
  --hz N              timer ticks per second, 10..10000 (default 1000)
  --variant NAME      kernel code version: ${variantNames().join(', ')} (default ${DEFAULT_VARIANT})
  --lazy-together     measure the lazy class at the same time as the others instead of in
                      windows of its own: shows how works meet on lazy_list (on RT a plain work
                      queued behind a pending LAZY work waits for the tick)
  --help              this text

exit: 0 clean, 1 the kernel model warned, 2 bad usage, 3 internal failure`;

type Values = Record<string, string | boolean | undefined>;

function parseLatencyFlags(argv: string[]): Values {
  try {
    return parseArgs({ args: argv, options: LATENCY_FLAGS, strict: true, allowPositionals: false }).values as Values;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`irqwork latency: ${msg}; see 'irqwork latency --help'`);
  }
}

export interface LatencyCli {
  options: LatencyOptions;
  configs: Array<'rt' | 'nort'>;
  histogramUs?: number;
  histfile?: string;
  json: boolean;
  svg?: string;
}

/** Every flag checked before any thread starts. */
export function latencyCliFromFlags(values: Values): LatencyCli {
  const d = defaultLatencyOptions();
  if (values.busy && values.idle) throw new UsageError('--busy and --idle exclude each other');
  const config = configFlag(values.config, ['rt', 'nort', 'both']);
  const histogramUs = values.histogram === undefined ? undefined : intFlag('histogram', values.histogram, 0, 1, 100_000);
  if (values.histfile !== undefined && histogramUs === undefined) throw new UsageError('--histfile needs -h US (the histogram size)');
  const options: LatencyOptions = {
    ...d,
    cpus: cpusFlag(values.cpus),
    mode: values.busy ? 'busy' : 'idle',
    durationMs: positiveFlag('duration', values.duration, DEFAULT_LATENCY_DURATION_S, 86_400) * 1000,
    intervalUs: intFlag('interval', values.interval, DEFAULT_INTERVAL_US, 10, 1_000_000),
    hz: intFlag('hz', values.hz, d.hz, 10, 10_000),
    variant: variantFlag(values.variant, DEFAULT_VARIANT),
    separateLazy: values['lazy-together'] !== true,
    seed: seedFlag(values.seed, d.seed),
  };
  return {
    options,
    configs: config === 'both' ? ['rt', 'nort'] : [config as 'rt' | 'nort'],
    histogramUs,
    // Output files last (every other flag's complaint comes first), but before any thread starts.
    histfile: checkOutputPath('histfile', values.histfile),
    json: values.json === true,
    svg: checkOutputPath('svg', values.svg),
  };
}

export async function latencyCommand(argv: string[]): Promise<number> {
  const values = parseLatencyFlags(argv);
  if (values.help) {
    console.log(LATENCY_HELP);
    return 0;
  }
  const cli = latencyCliFromFlags(values);
  const machine = Machine.start(cli.options.cpus);
  const progress = new CommandProgress('irqwork latency', cli.configs.length * (cli.options.warmupMs + cli.options.durationMs), false);
  const runs: LatencyRun[] = [];
  try {
    for (const config of cli.configs) {
      progress.setStage(`${config}, ${cli.options.cpus} CPUs`);
      runs.push(await runLatency(machine, { ...cli.options, preemptRt: config === 'rt' }, progress.run()));
    }
  } finally {
    progress.done();
    await machine.close();
  }
  const blocks = cli.histogramUs === undefined ? undefined : formatHistogramBlocks(runs, cli.histogramUs);
  if (blocks !== undefined && cli.histfile) writeFileSync(cli.histfile, blocks);
  if (cli.svg) {
    const title = `irq_work latency, ${cli.options.cpus} CPUs, ${cli.options.mode} targets: ${cli.configs.join(' vs ')}`;
    writeFileSync(cli.svg, latencySvg(runs, title));
  }
  if (cli.json) {
    const doc = latencyJson(runs, machine.loader);
    if (blocks !== undefined && !cli.histfile) doc.cyclictestHistogram = blocks;
    await printOut(JSON.stringify(doc, null, 2));
  } else {
    const text = formatLatency(runs, machine.loader);
    await printOut(blocks !== undefined && !cli.histfile ? `${text}\n\n${blocks.trimEnd()}` : text);
  }
  return runs.some((r) => r.warnings.length > 0) ? 1 : 0;
}
