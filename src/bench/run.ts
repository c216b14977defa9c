/**
 * `irqwork bench` in one run, so that every figure is compared with peers measured on the same
 * machine at the same time:
 *
 *   (a) queue cost against the floor (from the latency runs' queue-cost batches)
 *   (b) remote hard latency to a busy and to an idle CPU, against raw hand-offs between two of the
 *       same worker threads: busy-spin, the irq_work skeleton (the protocol's bare atomics),
 *       notify→wait, postMessage, piscina.run()
 *   (c) executed works/s of the stress machine for 1 … 64 CPUs, RT and non-RT
 *   (d) RT / non-RT latency per class
 *
 * Latency runs use 2 CPUs: "to a busy CPU" needs each spinner on its own core, and the baselines
 * are two-thread hand-offs too.
 */
import { availableParallelism, loadavg } from 'node:os';
import { measureHandoff, measurePiscinaRun, type HandoffMeasurement } from './baselines.js';
import type { LatencyHistogram } from '../stats/histogram.js';
import { runLatency } from '../latency/kind.js';
import { Machine } from '../machine/machine.js';
import { defaultLatencyOptions, type LatencyOptions } from '../latency/options.js';
import { mergeAll, type LatencyRun, type QueueCost } from '../latency/result.js';
import type { WorkerLoader } from '../util/worker-bundle.js';
import { measureWorks, WORKS_WORKLOAD, type WarmupPlan, type WorksPoint } from './works-scaling.js';

export const LATENCY_CPUS = 2;

export interface BenchOptions {
  quick: boolean;
  /** Tells the user what is being measured now. */
  progress: (message: string) => void;
}

export interface BenchSettings {
  quick: boolean;
  cores: number;
  /** The 1-minute load average when the bench started and when it ended (its own threads count too). */
  loadAverage1m: { start: number; end: number };
  latencyCpus: number;
  latencyDurationMs: number;
  intervalUs: number;
  handoffSamples: Record<'spin' | 'skeleton' | 'notify' | 'port' | 'piscinaRun', number>;
  worksWorkload: string;
  worksDurationMs: number;
  worksWarmup: WarmupPlan;
  worksPoints: number[];
  workerLoader: WorkerLoader;
}

export interface BenchResult {
  settings: BenchSettings;
  queueCost: QueueCost;
  latency: { rtBusy: LatencyRun; rtIdle: LatencyRun; nortBusy: LatencyRun; nortIdle: LatencyRun };
  handoff: {
    spin: HandoffMeasurement;
    skeleton: HandoffMeasurement;
    /** notify → wait back to back: the receiver has only just gone to sleep. */
    notify: HandoffMeasurement;
    /** notify → wait after the receiver slept the latency runs' interval, as an idle target does. */
    notifyIdle: HandoffMeasurement;
    port: HandoffMeasurement;
    piscinaRun: LatencyHistogram;
  };
  works: WorksPoint[];
}

const FULL_POINTS = [1, 2, 4, 8, 16, 32, 64];
const QUICK_POINTS = [1, 2, 4];

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const { quick, progress } = opts;
  const loadAtStart = loadavg()[0]!;
  const latencyOptions: LatencyOptions = {
    ...defaultLatencyOptions(),
    cpus: LATENCY_CPUS,
    durationMs: quick ? 400 : 2000,
    warmupMs: quick ? 100 : 200,
    costRounds: quick ? 30 : 200,
  };
  const handoffSamples = quick
    ? { spin: 2000, skeleton: 2000, notify: 300, port: 300, piscinaRun: 200 }
    : { spin: 20_000, skeleton: 20_000, notify: 3000, port: 3000, piscinaRun: 2000 };
  const worksPoints = quick ? QUICK_POINTS : FULL_POINTS;
  const worksDurationMs = quick ? 200 : 700;
  const worksWarmup: WarmupPlan = quick ? { runMs: 200, settledRuns: 1, maxMs: 2000 } : { runMs: 500, settledRuns: 3, maxMs: 40_000 };

  const machine = Machine.start(LATENCY_CPUS);
  let latency: BenchResult['latency'];
  let handoff: BenchResult['handoff'];
  try {
    const run = (preemptRt: boolean, mode: LatencyOptions['mode']) => {
      progress(`latency ${preemptRt ? 'rt' : 'nort'}, ${mode} targets, ${latencyOptions.durationMs / 1000} s …`);
      return runLatency(machine, { ...latencyOptions, preemptRt, mode });
    };
    // The first run in fresh workers meets a cold JIT beyond its warm-up; run one and drop it.
    progress('warming up the workers …');
    await runLatency(machine, { ...latencyOptions, durationMs: latencyOptions.durationMs / 4, preemptRt: true, mode: 'busy' });
    await runLatency(machine, { ...latencyOptions, durationMs: latencyOptions.durationMs / 4, preemptRt: false, mode: 'idle' });
    latency = {
      rtBusy: await run(true, 'busy'),
      rtIdle: await run(true, 'idle'),
      nortBusy: await run(false, 'busy'),
      nortIdle: await run(false, 'idle'),
    };
    progress('hand-off baselines: busy-spin, irq_work skeleton, notify→wait, postMessage, piscina.run() …');
    handoff = {
      spin: await measureHandoff(machine, 'spin', handoffSamples.spin),
      skeleton: await measureHandoff(machine, 'skeleton', handoffSamples.skeleton),
      notify: await measureHandoff(machine, 'notify', handoffSamples.notify),
      // Under the model's idle-mode conditions: the receiver sleeps as long between samples.
      notifyIdle: await measureHandoff(machine, 'notify', handoffSamples.notify, latencyOptions.intervalUs),
      port: await measureHandoff(machine, 'port', handoffSamples.port, latencyOptions.intervalUs),
      piscinaRun: await measurePiscinaRun(machine, handoffSamples.piscinaRun),
    };
  } finally {
    await machine.close();
  }

  const works: WorksPoint[] = [];
  for (const cpus of worksPoints) {
    progress(`works/s, ${cpus} CPU${cpus > 1 ? 's' : ''}, rt and nort …`);
    works.push(await measureWorks(cpus, worksDurationMs, worksWarmup));
  }

  const runs = Object.values(latency);
  return {
    settings: {
      quick,
      cores: availableParallelism(),
      loadAverage1m: { start: Math.round(loadAtStart * 100) / 100, end: Math.round(loadavg()[0]! * 100) / 100 },
      latencyCpus: LATENCY_CPUS,
      latencyDurationMs: latencyOptions.durationMs,
      intervalUs: latencyOptions.intervalUs,
      handoffSamples,
      worksWorkload: WORKS_WORKLOAD,
      worksDurationMs,
      worksWarmup,
      worksPoints,
      workerLoader: machine.loader,
    },
    queueCost: {
      floor: mergeAll(runs.map((r) => r.queueCost.floor)),
      claimOk: mergeAll(runs.map((r) => r.queueCost.claimOk)),
      pending: mergeAll(runs.map((r) => r.queueCost.pending)),
    },
    latency,
    handoff,
    works,
  };
}
