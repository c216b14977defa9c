/** What the main thread sends each CPU of a stress or race run, and what the CPU sends back. */
import type { CpuTaskBase } from '../machine/machine.js';
import type { ChaosOptions } from '../race/chaos.js';
import type { HotplugOptions } from '../workload/hotplug.js';
import type { WorkloadSpec } from '../workload/spec.js';

/** What a race run adds to a stress run, per CPU. */
export interface RaceTaskOptions {
  /** Shadow checks on (checks/). */
  checks: boolean;
  /** Per-CPU trace rings on (needs the memory's trace region). */
  trace: boolean;
  /** Chaos at interrupt points; null for none. */
  chaos: ChaosOptions | null;
  /** Findings kept with a trace per check and CPU (the rest are only counted). */
  maxFindingsPerCheck: number;
  /** Stutter (scftorture): every `everyMs` all CPUs stop the workload and idle for `idleMs`. */
  stutter: { everyMs: number; idleMs: number } | null;
}

export interface CpuTask extends CpuTaskBase {
  program: 'stress';
  variant: string;
  spec: WorkloadSpec;
  seed: number;
  nohz: boolean;
  /** Test hook: this CPU throws after so many ms of running (a crashing CPU). */
  failAfterMs?: number;
  race?: RaceTaskOptions;
  /** A trace ring for this CPU (race runs with trace, controlled schedules, --trace-out). */
  traceRing: boolean;
  /** Operations the workload performs at most, then the CPU only idles (shrinking). */
  opsLimit?: number;
  /** CPU hotplug phase: CPUs go offline and come back at random. */
  hotplug?: HotplugOptions;
}

/** A broken invariant: a violation in a stress run, a finding in a race run. */
export interface Violation {
  check: string;
  /** The CPU that saw it (-1: seen by the machine, not one CPU). */
  cpu: number;
  work: number;
  context: string;
  message: string;
  /** When, since the run started (race runs; virtual time under a controlled schedule). */
  atMs?: number;
  /** Controlled schedules: the step of the finding, and the run's digest then. */
  step?: number;
  digest?: string;
  /** The last events of every CPU, merged in time order (race runs with trace). */
  trace?: string[];
  /** Known, accepted behaviour worth showing (RT lazy work stranded by hotplug): does not fail a run. */
  info?: boolean;
}

export interface CpuTaskResult {
  cpu: number;
  warnings: string[];
  violations: Violation[];
  /** How often each check fired on this CPU (beyond the ones kept in `violations`). */
  counts: Record<string, number>;
  /** Operations the workload performed. */
  ops: number;
  /** Clock skew of this worker's calibrated clock against hrtime at the end, ns. */
  clockSkewNs: number;
  /** Runs with checks: this CPU's kernel branch coverage (kernel/coverage.ts, point × slot). */
  coverage?: Float64Array;
}
