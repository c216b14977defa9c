/** How race and stress show a hunt under a controlled schedule: its summary line and JSON fields. */
import type { HuntResult } from '../stress/hunt.js';
import type { RunOptions } from '../stress/options.js';

/** What `--json` adds for a hunt: the schedule, the digest, and where the findings were. */
export function huntJson(h: HuntResult, opts: RunOptions): Record<string, unknown> {
  const s = opts.sched!;
  return {
    sched: { mode: s.mode, ...(s.mode === 'pct' ? { depth: s.depth } : {}), seed: opts.seed, steps: s.steps, switches: h.switches },
    digest: h.digest,
    iterations: h.iterations,
    reportedIteration: h.reportedIteration,
    iterationDigest: h.reported.schedule!.digest,
    failingIterations: h.failingIterations,
    stepsRun: h.steps,
    pointsPerSec: Math.round(h.steps / (h.runWallMs / 1000)),
    executed: h.executed,
    wallMs: Math.round(h.wallMs),
    timeToFirstFindingMs: h.timeToFirstFindingMs === null ? null : Math.round(h.timeToFirstFindingMs),
    countsAllIterations: h.counts,
  };
}

/** One line: the iterations, steps, switches and works, points per second, and the digest. */
export function huntSummary(h: HuntResult, opts: RunOptions): string {
  const s = opts.sched!;
  return (
    `${s.mode} hunt: ${h.iterations} iteration(s) of ${s.steps} steps${s.mode === 'pct' ? `, depth ${s.depth}` : ''}, seeds ${opts.seed}..${opts.seed + h.iterations - 1}: ` +
    `${h.steps} steps, ${h.switches} switches, ${h.executed} works in ${(h.wallMs / 1000).toFixed(1)} s ` +
    `(${Math.round(h.steps / (h.runWallMs / 1000))} points/s); digest ${h.digest}`
  );
}
