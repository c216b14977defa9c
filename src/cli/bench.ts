/**
 * `irqwork bench`: queue cost against its floor, remote latency against raw hand-offs, works/s
 * scaling of the stress machine, RT / non-RT per latency class — in one run, with ratios.
 * Exit 0 (2 bad usage, 3 internal failure: in cli.ts).
 */
import { writeFileSync } from 'node:fs';
import { runBench, type BenchResult } from '../bench/run.js';
import { WORKS_WORKLOAD } from '../bench/works-scaling.js';
import { benchJson, benchSvg, formatBench } from './bench-output.js';
import { printOut } from './output.js';
import { CommandProgress } from './run-progress.js';
import { parseFlags, type Options } from './args.js';
import { checkOutputPath } from './output-path.js';

export const BENCH_FLAGS: Options = {
  json: { type: 'boolean' },
  svg: { type: 'string' },
  quick: { type: 'boolean' },
};

export const BENCH_HELP = `usage: irqwork bench [--json] [--svg F] [--quick]

Measures in one run, side by side, and prints the ratios between them:
  (a) irq_work_queue() cost (claim succeeds / already pending) against the floor, a bare
      Atomics.or + Atomics.compareExchange pair, timed in batches of 1000 calls
  (b) remote hard queue→callback latency to a busy and to an idle CPU against raw hand-offs
      between two workers: busy-spin, the irq_work skeleton (the protocol's bare atomic steps),
      Atomics.notify→wait back to back and after sleeping as long as an idle target does,
      postMessage (one-way), piscina.run() (round trip)
  (c) tick-bound works/s of the stress machine (workload ${WORKS_WORKLOAD}: mostly waiting for
      ticks) at 1, 2 and 64 CPUs, RT and non-RT, each after a warm-up with the CPU threads at low
      OS priority (the first run is shown beside it); (c) and (f) share one machine per CPU count
  (d) RT / non-RT latency p50 per class
  (e) start-up: ready-to-run time of 64 and 256 CPUs, CPU time and RSS per CPU
  (f) CPU-bound throughput (workload cpu-bound) at 1, 2 and 64 CPUs against the skeleton
      throughput baseline (the bare atomic steps per work on 1 and 2 threads)

  --json    one JSON object on stdout, with a "ratios" object beside the raw figures
  --svg F   write a picture: CDF of the remote latencies and the hand-off baselines
  --quick   fewer and shorter points, start-up of 16 CPUs only (for tests)

A live progress line goes to stderr when it is a terminal. Takes just under a minute on 2 idle cores (--quick: about 13 s).`;

export async function benchCommand(argv: string[]): Promise<number> {
  const values = parseFlags('bench', argv, BENCH_FLAGS);
  if (values.help) {
    console.log(BENCH_HELP);
    return 0;
  }
  const svg = checkOutputPath('svg', values.svg); // before the minute-long run, not after it
  const progress = new CommandProgress('irqwork bench', undefined, false);
  let result: BenchResult;
  try {
    result = await runBench({ quick: values.quick === true, progress: (stage) => progress.setStage(stage) });
  } finally {
    progress.done();
  }
  if (svg) writeFileSync(svg, benchSvg(result));
  await printOut(values.json ? JSON.stringify(benchJson(result), null, 2) : formatBench(result));
  return 0;
}
