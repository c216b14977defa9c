/**
 * `irqwork bench` in one run, so that every figure is compared with peers measured on the same
 * machine at the same time:
 *
 *   (a) queue cost against the floor (from the latency runs' queue-cost batches)
 *   (b) remote hard latency to a busy and to an idle CPU, against raw hand-offs between two of the
 *       same worker threads: busy-spin, the irq_work skeleton (the protocol's bare atomics),
 *       notify→wait, postMessage, piscina.run()
 *   (c) tick-bound works/s: the stress machine with the `local` workload (mostly waiting for
 *       ticks) at 1, 2 and 64 CPUs, RT and non-RT
 *   (d) RT / non-RT latency per class
 *   (e) start-up: time until a machine of 64 / 256 CPUs is ready to run, memory per CPU
 *       (measured first, before any other part has started and closed its machines)
 *   (f) CPU-bound throughput: the `cpu-bound` workload at 1, 2 and 64 CPUs against the skeleton
 *       throughput baseline (the protocol's bare atomic steps on 1 and 2 threads)
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
import { measureStartup, type StartupFigures } from './startup.js';
import {
  measureCpuBound,
  measureSkeletonThroughput,
  throughputFigures,
  type CpuBoundPoint,
  type SkeletonThroughput,
  type ThroughputFigures,
} from './throughput.js';

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
  /** CPU counts of the start-up figures (e). */
  startupPoints: number[];
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
  startup: StartupFigures;
  throughput: {
    cpuBound: CpuBoundPoint[];
    skeleton: SkeletonThroughput | null;
    skeletonOneThread: SkeletonThroughput | null;
    figures: ThroughputFigures;
  };
  /** What makes a figure untrustworthy: failed runs, scaling ratios above the core count. */
  problems: string[];
}

/** CPU counts of (c) and (f): the ratios need 1, 2 and 64. */
const FULL_POINTS = [1, 2, 64];
const QUICK_POINTS = [1, 2];
/** Start-up (e): 64 and 256; --quick only 16, so that it stays a few seconds. */
const STARTUP_POINTS = [64, 256];
const QUICK_STARTUP_POINTS = [16];

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const { quick, progress } = opts;
  const loadAtStart = loadavg()[0]!;
  const latencyOptions: LatencyOptions = {
    ...defaultLatencyOptions(),
    cpus: LATENCY_CPUS,
    durationMs: quick ? 300 : 600,
    warmupMs: quick ? 100 : 200,
    costRounds: quick ? 30 : 150,
  };
  const handoffSamples = quick
    ? { spin: 2000, skeleton: 2000, notify: 300, port: 300, piscinaRun: 200 }
    : { spin: 10_000, skeleton: 10_000, notify: 1500, port: 1500, piscinaRun: 1000 };
  const worksPoints = quick ? QUICK_POINTS : FULL_POINTS;
  const worksDurationMs = quick ? 150 : 200;
  const worksWarmup: WarmupPlan = quick ? { runMs: 100, settledRuns: 1, maxMs: 600 } : { runMs: 200, settledRuns: 2, maxMs: 6000 };

  // Start-up first: RSS before and after is cleanest while no other part's machines have come and gone.
  const startupPoints = quick ? QUICK_STARTUP_POINTS : STARTUP_POINTS;
  progress(`start-up of ${startupPoints.join(' and ')} CPUs …`);
  const startup = await measureStartup(startupPoints);

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
  const cpuBound: CpuBoundPoint[] = [];
  for (const cpus of worksPoints) {
    // One machine per CPU count measures both workloads, cpu-bound first: the tick-bound
    // warm-up then starts from the JIT state the first left, instead of 64 fresh isolates
    // compiling the same model again (its warm-up rule still decides when it is warm).
    let machine = Machine.start(cpus, { lowPriority: true });
    const where = `${cpus} CPU${cpus > 1 ? 's' : ''}`;
    try {
      progress(`cpu-bound works/s, ${where}, rt and nort …`);
      const point = await measureCpuBound(machine, worksDurationMs, worksWarmup);
      cpuBound.push(point);
      if (point.rt === null || point.nort === null) {
        // A failed run may have left the machine unusable (one whose CPUs did not come home has
        // its threads destroyed): the tick-bound figure gets a machine of its own, so that it
        // reports its own runs rather than the cpu-bound failure again.
        await machine.close().catch(() => {});
        machine = Machine.start(cpus, { lowPriority: true });
      }
      progress(`tick-bound works/s, ${where}, rt and nort …`);
      works.push(await measureWorks(machine, worksDurationMs, worksWarmup));
    } finally {
      await machine.close().catch(() => {});
    }
  }
  progress('skeleton throughput, 1 and 2 threads …');
  const skeletonOneThread = quick ? null : await measureSkeletonThroughput(1, worksDurationMs);
  const skeleton = await measureSkeletonThroughput(2, worksDurationMs);
  const figures = throughputFigures({ cpuBound, skeleton, skeletonOneThread });
  const cores = availableParallelism();
  const problems = [
    // The tick-bound figure measures waiting by design (its name says so): no scaling rule for it,
    // only its failed runs and unsteady figures count.
    ...works.flatMap((w) => w.problems.map((p) => `tick-bound ${w.cpus} CPUs, ${p}`)),
    ...figures.problems,
  ];

  const runs = Object.values(latency);
  return {
    settings: {
      quick,
      cores,
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
      startupPoints,
    },
    queueCost: {
      floor: mergeAll(runs.map((r) => r.queueCost.floor)),
      claimOk: mergeAll(runs.map((r) => r.queueCost.claimOk)),
      pending: mergeAll(runs.map((r) => r.queueCost.pending)),
    },
    latency,
    handoff,
    works,
    startup,
    throughput: { cpuBound, skeleton, skeletonOneThread, figures },
    problems,
  };
}
