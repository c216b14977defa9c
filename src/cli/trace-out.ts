/**
 * `--trace-out T.json` of race, stress and replay: the run's events in the Chrome trace format
 * (ui.perfetto.dev, chrome://tracing). A run that writes one keeps bigger trace rings: a
 * controlled run its whole length (up to MAX_ENTRIES events per CPU), a free run its last
 * FREE_ENTRIES events per CPU.
 */
import { writeFileSync } from 'node:fs';
import { chromeTrace } from '../race/chrome-trace.js';
import { traceEntriesFor } from '../race/trace.js';
import { maxStepsAfterFinding } from '../sched/turns.js';
import { kernelLayoutOf, type RunResult } from '../stress/kind.js';
import type { RunOptions } from '../stress/options.js';

const MAX_ENTRIES = 1 << 18;
const FREE_ENTRIES = 1 << 16;

/** What a run that writes a trace file needs: every event kept, rings big enough. */
export function traceOutOptions(o: RunOptions): Pick<RunOptions, 'keepTrace' | 'traceEntries'> {
  // A controlled run: its steps and a usual drain (a run that drains long keeps its last events).
  const entries = o.sched ? traceEntriesFor(Math.min(MAX_ENTRIES, o.sched.steps + maxStepsAfterFinding(o.sched.drainSteps))) : FREE_ENTRIES;
  return { keepTrace: true, traceEntries: Math.max(entries, o.traceEntries ?? 0) };
}

export function writeTraceOut(path: string, r: RunResult): void {
  const o = r.options;
  // Only the kernel's layout names list heads: a memory of the same configuration, no regions.
  const layout = kernelLayoutOf(o);
  const trace = chromeTrace(r.trace ?? [], {
    nrCpus: o.cpus,
    originNs: r.traceOriginNs,
    controlled: o.sched !== undefined,
    describeHead: (head) => layout.describeHead(head),
    metadata: {
      variant: o.variant,
      config: o.preemptRt ? 'rt' : 'nort',
      cpus: o.cpus,
      workload: o.workload.name,
      seed: o.seed,
      ...(o.sched ? { sched: o.sched.mode, steps: r.schedule?.steps, digest: r.schedule?.digest } : {}),
    },
  });
  writeFileSync(path, JSON.stringify(trace));
}
