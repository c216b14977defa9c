/** The kernel branch coverage of a run with checks (`race`, `stress --check`), human and JSON. */
import { describePoint, type CoverageReport } from '../stress/coverage.js';

/** A summary line, then every reachable branch the run never reached. */
export function formatCoverage(c: CoverageReport): string[] {
  const others = c.notReachable ? ` (${c.notReachable} more not reachable with this variant and configuration)` : '';
  if (c.unreached.length === 0) return [`coverage: all ${c.reachable} reachable kernel branches reached${others}`];
  return [
    `coverage: ${c.reached} of ${c.reachable} reachable kernel branches reached${others}; never reached:`,
    ...c.unreached.map((name) => `  ${describePoint(name)}`),
  ];
}

/** `coverage` (one row per point, context and CPU state that ran) and `unreached` (point names). */
export function coverageJson(c: CoverageReport | undefined): Record<string, unknown> {
  return c ? { coverage: c.rows, unreached: c.unreached } : {};
}
