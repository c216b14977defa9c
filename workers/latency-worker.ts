/**
 * The latency machine's worker: one simulated CPU of a latency run (src/latency/cpu-task.ts), one
 * side of a raw hand-off baseline (src/bench/handoff.ts), or nothing at all (the piscina.run()
 * round-trip baseline), by the task's `kind`.
 *
 * No top-level await here: piscina loads this file with require() under tsx.
 */
import { runLatencyCpu } from '../src/latency/cpu-task.js';
import { runHandoff } from '../src/bench/handoff.js';
import type { CpuLatencyResult, HandoffResult, LatencyWorkerTask } from '../src/latency/task.js';

export default function latencyWorker(
  task: LatencyWorkerTask,
): CpuLatencyResult | HandoffResult | Promise<HandoffResult> | number {
  switch (task.kind) {
    case 'cpu':
      return runLatencyCpu(task);
    case 'handoff':
      return runHandoff(task);
    case 'noop':
      return 0;
  }
}
