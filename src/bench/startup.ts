/**
 * Part (e) of `irqwork bench`: how long a machine of N simulated CPUs takes to be ready to run,
 * and how much memory each CPU costs.
 *
 * Ready-to-run time is Machine.start(n) until every CPU of a first short stress run has reached
 * the start barrier: N worker threads started, the worker code loaded in each, each CPU's kernel
 * built and booted. RSS per CPU is (process RSS at that moment − RSS before Machine.start) / n.
 * The CPU time of the whole process over the same span is reported beside the wall time: on a
 * shared machine the wall time says as much about the other load as about the start-up.
 *
 * A 1-CPU machine runs first, so that every measured point starts the same way: the worker bundle
 * already built by this process and its code cache written (util/worker-bundle.ts), as for any
 * start after the first one of a code version.
 */
import { Machine } from '../machine/machine.js';
import { runStress } from '../stress/kind.js';
import { defaultRunOptions } from '../stress/options.js';
import type { CodeCacheUse } from '../util/worker-bundle.js';

/** The first run's length: short, the figure ends at its start barrier. */
const FIRST_RUN_MS = 100;

export interface StartupPoint {
  cpus: number;
  /** Machine.start(cpus) until every CPU of the first run had reached the start barrier, ms. */
  readyMs: number;
  /** CPU time of the whole process (every thread) over the same span, ms. */
  cpuMs: number;
  /** (RSS at the barrier − RSS before Machine.start) / cpus, MiB. */
  rssPerCpuMb: number;
  /** How many workers found the bundle's code cache and used it (all zero with the tsx fallback). */
  codeCache: Record<CodeCacheUse, number>;
}

export interface StartupFigures {
  points: StartupPoint[];
  /** Ready-to-run time of 64 and 256 CPUs, ms; null when not measured (--quick: no 256). */
  cpus64Ms: number | null;
  cpus256Ms: number | null;
  /** RSS per CPU of the largest point, MiB. */
  rssPerCpuMb: number;
}

/** One machine of `cpus` CPUs: started, one short run, closed. */
export async function measureStartupPoint(cpus: number): Promise<StartupPoint> {
  const rssBefore = process.memoryUsage().rss;
  const cpuBefore = process.cpuUsage();
  const machine = Machine.start(cpus);
  const seen: { atBarrier?: { ms: number; rss: number; cpu: NodeJS.CpuUsage } } = {};
  try {
    await runStress(
      machine,
      { ...defaultRunOptions(), cpus, durationMs: FIRST_RUN_MS, seed: 1 },
      { onBarrier: (ms) => void (seen.atBarrier = { ms, rss: process.memoryUsage().rss, cpu: process.cpuUsage(cpuBefore) }) },
    );
  } finally {
    await machine.close().catch(() => {});
  }
  const b = seen.atBarrier;
  if (b === undefined) throw new Error(`${cpus} CPUs: the start barrier was never reached`);
  return {
    cpus,
    readyMs: Math.round(b.ms - machine.startedMs),
    cpuMs: Math.round((b.cpu.user + b.cpu.system) / 1000),
    rssPerCpuMb: Math.round(((b.rss - rssBefore) / cpus / 2 ** 20) * 100) / 100,
    codeCache: { ...machine.codeCache },
  };
}

/** Start-up figures for each CPU count in `points` (ascending), after a 1-CPU warm-up. */
export async function measureStartup(points: number[]): Promise<StartupFigures> {
  await measureStartupPoint(1);
  const measured: StartupPoint[] = [];
  for (const cpus of points) measured.push(await measureStartupPoint(cpus));
  const at = (cpus: number) => measured.find((p) => p.cpus === cpus)?.readyMs ?? null;
  return {
    points: measured,
    cpus64Ms: at(64),
    cpus256Ms: at(256),
    rssPerCpuMb: measured[measured.length - 1]!.rssPerCpuMb,
  };
}
