/** Options of one machine run, with their defaults in one place. */
import { availableParallelism } from 'node:os';
import type { ChaosOptions } from '../race/chaos.js';
import type { LivenessLimits } from '../race/liveness.js';
import type { Schedule } from '../sched/settings.js';
import type { HotplugOptions } from '../workload/hotplug.js';
import type { WorkloadSpec } from '../workload/spec.js';
import { PRESETS, DEFAULT_WORKLOAD } from '../workload/spec.js';
import { DEFAULT_VARIANT } from '../variants/index.js';

export interface RunOptions {
  cpus: number;
  preemptRt: boolean;
  archHasIrqWorkInterrupt: boolean;
  variant: string;
  durationMs: number;
  workload: WorkloadSpec;
  seed: number;
  hz: number;
  /** NO_HZ idle (stop the tick in idle when allowed). */
  nohz: boolean;
  /** A CPU whose progress word does not move for this long (and is not idle) is stalled. */
  stallMs: number;
  /** How long quiescing may take before the still-claimed works are reported. */
  drainMs: number;
  /** Test hook: make one CPU throw. */
  failCpu?: { cpu: number; afterMs: number };
  /** CPU hotplug phase (CPUs go offline and return at random); off when undefined. */
  hotplug?: HotplugOptions;
  /** Shadow checks (race runs, or `stress --check`); off when undefined. */
  race?: RaceOptions;
  /** A controlled schedule (src/sched): the run is a function of its arguments; free mode when undefined. */
  sched?: Schedule;
  /** Trace ring entries per CPU (a power of two; default TRACE_ENTRIES): replays keep whole runs. */
  traceEntries?: number;
  /** Keep every event the trace rings hold in the result (replay histories, --trace-out). */
  keepTrace?: boolean;
  /** Shrinking: how many operations each CPU's workload performs at most (by CPU; none: no limit). */
  opsLimit?: readonly number[];
}

export interface RaceOptions {
  /** Trace rings, so that each finding shows every CPU's last events. */
  trace: boolean;
  /** Chaos at interrupt points; null for none (stress --check). */
  chaos: ChaosOptions | null;
  /** End the run at the first finding. */
  stopOnFirst: boolean;
  liveness: LivenessLimits;
  maxFindingsPerCheck: number;
  /** Stutter: every `everyMs` all CPUs idle for `idleMs`, so stranded work shows (null: off). */
  stutter: { everyMs: number; idleMs: number } | null;
}

export function defaultRunOptions(): RunOptions {
  return {
    cpus: availableParallelism(),
    preemptRt: true,
    archHasIrqWorkInterrupt: true,
    variant: DEFAULT_VARIANT,
    durationMs: 5000,
    workload: PRESETS[DEFAULT_WORKLOAD]!,
    seed: 1,
    hz: 1000,
    nohz: true,
    stallMs: 10_000,
    drainMs: 5_000,
  };
}
