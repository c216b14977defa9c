/**
 * After a run with checks: the kernel's branch coverage (kernel/coverage.ts) summed over the CPUs,
 * as rows per point, context and CPU state, and the branches the run could have reached and did
 * not — those whose code ran in this run (the base kernel's or the variant's override) and whose
 * configuration the run had.
 */
import {
  COV_SLOTS,
  COVERAGE_CONTEXTS,
  COVERAGE_CPU_STATES,
  COVERAGE_POINTS,
  pointReachable,
  type CoverageConfig,
} from '../kernel/coverage.js';
import { Kernel, type KernelClass } from '../kernel/smpboot.js';
import { findVariant, MUTANTS, variantNames } from '../variants/index.js';
import type { RunOptions } from './options.js';

export interface CoverageRow {
  /** The kernel function. */
  function: string;
  branch: string;
  /** The point's short name (`Cov.…`), as in `unreached`. */
  point: string;
  context: (typeof COVERAGE_CONTEXTS)[number];
  cpuState: (typeof COVERAGE_CPU_STATES)[number];
  count: number;
}

export interface CoverageReport {
  /** Every (point, context, CPU state) that ran, in the order of the points. */
  rows: CoverageRow[];
  /** Points this run could reach and never did, by name. */
  unreached: string[];
  /** How many points this run could reach, and how many it reached. */
  reachable: number;
  reached: number;
  /** Points this run's code or configuration does not have (not counted as unreached). */
  notReachable: number;
}

/** The CPUs' counts added up; null when no CPU sent any (a run without checks). */
export function sumCoverage(perCpu: ReadonlyArray<Float64Array | undefined>): Float64Array | null {
  let sum: Float64Array | null = null;
  for (const counts of perCpu) {
    if (!counts) continue;
    sum ??= new Float64Array(counts.length);
    for (let i = 0; i < counts.length; i++) sum[i]! += counts[i]!;
  }
  return sum;
}

/**
 * Whose code runs `method` in kernel class `kernel`: 'base' when it is the base kernel's
 * (src/kernel), else the name of the variant (or mutant) whose class defines it.
 */
export function codeOf(kernel: KernelClass, method: string): string {
  let proto: object | null = kernel.prototype;
  while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, method)) proto = Object.getPrototypeOf(proto) as object | null;
  if (proto === null) return 'none';
  // Kernel and the classes it extends are the base kernel.
  if (proto === Kernel.prototype || Object.prototype.isPrototypeOf.call(proto, Kernel.prototype)) return 'base';
  const owner = [...variantNames().map(findVariant), ...MUTANTS].find((v) => v.kernel.prototype === proto);
  return owner?.name ?? (proto as { constructor: { name: string } }).constructor.name;
}

/** What run options `o` say about which branches exist to be reached. */
export function coverageConfig(o: Pick<RunOptions, 'preemptRt' | 'archHasIrqWorkInterrupt' | 'nohz' | 'hotplug' | 'cpus' | 'variant'>): CoverageConfig {
  const kernel = findVariant(o.variant).kernel;
  return {
    preemptRt: o.preemptRt,
    archHasIrqWorkInterrupt: o.archHasIrqWorkInterrupt,
    nohz: o.nohz,
    hotplug: o.hotplug !== undefined,
    cpus: o.cpus,
    codeOf: (method) => codeOf(kernel, method),
  };
}

/** The report of summed counts `counts` for a run with configuration `cfg`. */
export function coverageReport(counts: Float64Array, cfg: CoverageConfig): CoverageReport {
  const rows: CoverageRow[] = [];
  const unreached: string[] = [];
  let reachable = 0;
  let reached = 0;
  for (const p of COVERAGE_POINTS) {
    let total = 0;
    for (let slot = 0; slot < COV_SLOTS; slot++) {
      const count = counts[p.id * COV_SLOTS + slot]!;
      if (count === 0) continue;
      total += count;
      rows.push({
        function: p.fn,
        branch: p.branch,
        point: p.name,
        context: COVERAGE_CONTEXTS[Math.floor(slot / COVERAGE_CPU_STATES.length)]!,
        cpuState: COVERAGE_CPU_STATES[slot % COVERAGE_CPU_STATES.length]!,
        count,
      });
    }
    if (!pointReachable(p, cfg)) continue;
    reachable++;
    if (total > 0) reached++;
    else unreached.push(p.name);
  }
  return { rows, unreached, reachable, reached, notReachable: COVERAGE_POINTS.length - reachable };
}

/** `function: branch (point)` of a point, by name: for the human report. */
export function describePoint(name: string): string {
  const p = COVERAGE_POINTS.find((x) => x.name === name);
  return p ? `${p.fn}: ${p.branch} (${p.name}${p.variant ? `, ${p.variant}` : ''})` : name;
}
