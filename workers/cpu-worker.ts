/**
 * The machine's one worker file: every piscina thread runs what its task's `program` names —
 * one simulated CPU of a stress/race run or of a latency run, one side of a raw hand-off baseline
 * of the bench, one thread of the skeleton throughput baseline, or nothing at all (the
 * piscina.run() round-trip baseline). A new run kind adds its program here.
 *
 * No top-level await here: piscina loads this file with require() under tsx.
 */
import { runHandoff } from '../src/bench/handoff.js';
import type { HandoffResult, HandoffTask, NoopTask } from '../src/bench/handoff-task.js';
import { runSkeletonThroughput } from '../src/bench/skeleton-throughput.js';
import type { SkeletonThroughputResult, SkeletonThroughputTask } from '../src/bench/skeleton-throughput-task.js';
import { runLatencyCpu } from '../src/latency/cpu.js';
import type { CpuLatencyResult, CpuLatencyTask } from '../src/latency/task.js';
import { runStressCpu } from '../src/stress/cpu.js';
import type { CpuTask, CpuTaskResult } from '../src/stress/task.js';

export type WorkerTask = CpuTask | CpuLatencyTask | HandoffTask | SkeletonThroughputTask | NoopTask;

export default function cpuWorker(
  task: WorkerTask,
): CpuTaskResult | CpuLatencyResult | HandoffResult | Promise<HandoffResult> | SkeletonThroughputResult | number {
  switch (task.program) {
    case 'stress':
      return runStressCpu(task);
    case 'latency':
      return runLatencyCpu(task);
    case 'handoff':
      return runHandoff(task);
    case 'skeleton-throughput':
      return runSkeletonThroughput(task);
    case 'noop':
      return 0;
  }
}
