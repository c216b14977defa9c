/**
 * The replay file: one iteration of a controlled hunt, with everything that decides it — variant,
 * configuration, workload, CPUs, seed, strategy, and the explicit list of scheduling decisions —
 * and what it found (the first finding, its step, and the digest there). `irqwork replay` runs it
 * again and checks that the same finding fires at the same step with the same digest; `irqwork
 * shrink` writes smaller ones. Versioned JSON: a reader refuses a version it does not know.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { ChaosOptions } from '../race/chaos.js';
import { DEFAULT_LIVENESS } from '../race/liveness.js';
import { findVariant } from '../variants/index.js';
import type { HotplugOptions } from '../workload/hotplug.js';
import { parseScenario, type WorkloadSpec } from '../workload/spec.js';
import { defaultRunOptions, type RunOptions } from './options.js';
import type { RunResult } from './kind.js';
import type { Violation } from './task.js';

export const REPLAY_FORMAT = 'irqwork-replay';
export const REPLAY_VERSION = 1;

export interface ReplayFinding {
  check: string;
  cpu: number;
  work: number;
  context: string;
  message: string;
  step: number;
  digest: string;
}

export interface ReplayFile {
  format: typeof REPLAY_FORMAT;
  version: typeof REPLAY_VERSION;
  variant: string;
  config: 'rt' | 'nort';
  cpus: number;
  hz: number;
  nohz: boolean;
  archHasIrqWorkInterrupt: boolean;
  workload: WorkloadSpec;
  /** The seed of the workload's and chaos' random streams (and of the strategy that decided). */
  seed: number;
  /** The race settings (null: a stress run without checks). */
  race: { chaos: ChaosOptions | null; stutter: { everyMs: number; idleMs: number } | null; maxFindingsPerCheck: number } | null;
  hotplug: HotplugOptions | null;
  schedule: { strategy: 'random' | 'pct'; depth: number; steps: number; drainSteps: number };
  /** Operations each CPU's workload performs at most (shrinking); null: no limit. */
  opsLimit: number[] | null;
  /** Every change of turn, [step, cpu]; the first, at step 0, names who starts. */
  decisions: Array<[number, number]>;
  finding: ReplayFinding;
  /** [step, digest] every 1024 steps up to the finding: where a replay that diverges went astray. */
  checkpoints: Array<[number, string]>;
}

/** The finding a replay must reproduce: the run's earliest failing one (by step). */
export function firstFinding(r: Pick<RunResult, 'violations'>): Violation | undefined {
  return r.violations.filter((v) => !v.info && v.step !== undefined).sort((a, b) => a.step! - b.step!)[0];
}

/** The replay file of a controlled run that found something. */
export function replayFileOf(r: RunResult): ReplayFile {
  const o = r.options;
  const s = o.sched;
  const f = firstFinding(r);
  if (!s || !r.schedule || !f) throw new Error('only a controlled run with a finding makes a replay file');
  const lost = r.schedule.overflowAt;
  if (lost !== null && lost <= f.step!) {
    throw new Error(`the run made more scheduling decisions before its finding than its log keeps (${r.schedule.decisions.length})`);
  }
  return {
    format: REPLAY_FORMAT,
    version: REPLAY_VERSION,
    variant: o.variant,
    config: o.preemptRt ? 'rt' : 'nort',
    cpus: o.cpus,
    hz: o.hz,
    nohz: o.nohz,
    archHasIrqWorkInterrupt: o.archHasIrqWorkInterrupt,
    workload: o.workload,
    seed: o.seed,
    race: o.race ? { chaos: o.race.chaos, stutter: o.race.stutter, maxFindingsPerCheck: o.race.maxFindingsPerCheck } : null,
    hotplug: o.hotplug ?? null,
    schedule: { strategy: s.mode, depth: s.depth, steps: s.steps, drainSteps: s.drainSteps },
    opsLimit: o.opsLimit ? [...o.opsLimit] : null,
    // Decisions after the finding do not matter to it (and a replay that stops at it makes others).
    decisions: r.schedule.decisions.filter(([step]) => step <= f.step!),
    finding: { check: f.check, cpu: f.cpu, work: f.work, context: f.context, message: f.message, step: f.step!, digest: f.digest! },
    checkpoints: r.schedule.checkpoints.filter(([step]) => step <= f.step!),
  };
}

/**
 * The run a replay file describes: its settings, following its decisions (strictly, or leniently
 * for shrinking), stopping at the first finding.
 */
export function replayRunOptions(file: ReplayFile, lenient: boolean, keepTrace: boolean): RunOptions {
  const d = defaultRunOptions();
  return {
    ...d,
    cpus: file.cpus,
    preemptRt: file.config === 'rt',
    archHasIrqWorkInterrupt: file.archHasIrqWorkInterrupt,
    variant: file.variant,
    durationMs: 0,
    workload: file.workload,
    seed: file.seed,
    hz: file.hz,
    nohz: file.nohz,
    drainMs: 2000,
    ...(file.hotplug ? { hotplug: file.hotplug } : {}),
    ...(file.race
      ? { race: { trace: true, chaos: file.race.chaos, stopOnFirst: true, liveness: DEFAULT_LIVENESS, maxFindingsPerCheck: file.race.maxFindingsPerCheck, stutter: file.race.stutter } }
      : {}),
    sched: {
      mode: file.schedule.strategy,
      seed: file.seed,
      depth: file.schedule.depth,
      steps: file.schedule.steps,
      drainSteps: file.schedule.drainSteps,
      stopOnFirst: true,
      replay: { decisions: file.decisions, lenient },
    },
    ...(file.opsLimit ? { opsLimit: file.opsLimit } : {}),
    keepTrace,
  };
}

/** Reads and checks a replay file; a UsageError (one line) for anything that is not one. */
export function readReplayFile(path: string): ReplayFile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : e instanceof SyntaxError ? 'not JSON' : (e as Error).message;
    throw new UsageError(`${path}: not a replay file (${why})`);
  }
  return checkReplayFile(raw, path);
}

export function checkReplayFile(raw: unknown, path: string): ReplayFile {
  const bad = (why: string) => new UsageError(`${path}: not a replay file (${why})`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a JSON object');
  const f = raw as Record<string, unknown>;
  if (f.format !== REPLAY_FORMAT) throw bad(`"format" is not "${REPLAY_FORMAT}"`);
  if (f.version !== REPLAY_VERSION) throw bad(`version ${JSON.stringify(f.version)}, this irqwork reads version ${REPLAY_VERSION}`);
  const int = (v: unknown, name: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`"${name}" must be an integer in ${min}..${max}`);
    return v;
  };
  if (typeof f.variant !== 'string') throw bad('"variant" missing');
  try {
    findVariant(f.variant);
  } catch {
    throw bad(`unknown variant "${f.variant}"`);
  }
  if (f.config !== 'rt' && f.config !== 'nort') throw bad('"config" must be "rt" or "nort"');
  const cpus = int(f.cpus, 'cpus', 1, 256);
  int(f.hz, 'hz', 10, 10_000);
  int(f.seed, 'seed', 0, 0xffffffff);
  if (typeof f.nohz !== 'boolean' || typeof f.archHasIrqWorkInterrupt !== 'boolean') throw bad('"nohz" and "archHasIrqWorkInterrupt" must be booleans');
  let workload: WorkloadSpec;
  try {
    workload = parseScenario(f.workload, path);
  } catch (e) {
    throw bad(`workload: ${(e as Error).message}`);
  }
  // Every number the run will use: a NaN or negative one would stall virtual time.
  const num = (v: unknown, name: string, min: number, max: number): number => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw bad(`"${name}" must be a number in ${min}..${max}`);
    return v;
  };
  const obj = (v: unknown, name: string): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`"${name}" must be an object`);
    return v as Record<string, unknown>;
  };
  if (f.race !== null) {
    const race = obj(f.race, 'race');
    int(race.maxFindingsPerCheck, 'race.maxFindingsPerCheck', 1, 1_000_000);
    if (race.chaos !== null) {
      const c = obj(race.chaos, 'race.chaos');
      for (const k of ['taskDelayChance', 'irqDelayChance', 'nmiChance']) num(c[k], `race.chaos.${k}`, 0, 1);
      for (const k of ['taskDelayUs', 'irqDelayUs', 'tickJitterUs']) num(c[k], `race.chaos.${k}`, 0, 1e6);
    }
    if (race.stutter !== null) {
      const st = obj(race.stutter, 'race.stutter');
      num(st.everyMs, 'race.stutter.everyMs', 0.001, 1e6);
      num(st.idleMs, 'race.stutter.idleMs', 0, 1e6);
    }
  }
  if (f.hotplug !== null) {
    const h = obj(f.hotplug, 'hotplug');
    num(h.everyMs, 'hotplug.everyMs', 0.001, 1e6);
    num(h.offlineMs, 'hotplug.offlineMs', 0, 1e6);
  }
  const s = f.schedule as Record<string, unknown> | undefined;
  if (typeof s !== 'object' || s === null || (s.strategy !== 'random' && s.strategy !== 'pct')) throw bad('"schedule.strategy" must be "random" or "pct"');
  int(s.depth, 'schedule.depth', 1, 16);
  int(s.steps, 'schedule.steps', 1, 2 ** 30);
  int(s.drainSteps, 'schedule.drainSteps', 1, 2 ** 30);
  const pairs = (v: unknown, name: string, second: (x: unknown) => boolean): void => {
    if (!Array.isArray(v) || !v.every((p) => Array.isArray(p) && p.length === 2 && Number.isInteger(p[0]) && p[0] >= 0 && second(p[1]))) {
      throw bad(`"${name}" must be a list of [step, …] pairs`);
    }
  };
  pairs(f.decisions, 'decisions', (c) => Number.isInteger(c) && (c as number) >= 0 && (c as number) < cpus);
  pairs(f.checkpoints, 'checkpoints', (d) => typeof d === 'string' && /^[0-9a-f]{16}$/.test(d));
  if (f.opsLimit !== null && !(Array.isArray(f.opsLimit) && f.opsLimit.length === cpus && f.opsLimit.every((n) => Number.isInteger(n) && n >= 0))) {
    throw bad('"opsLimit" must be null or one count per CPU');
  }
  const fd = f.finding as Record<string, unknown> | undefined;
  if (typeof fd !== 'object' || fd === null || typeof fd.check !== 'string' || typeof fd.digest !== 'string' || typeof fd.message !== 'string') {
    throw bad('"finding" must name its check, message, step and digest');
  }
  int(fd.step, 'finding.step', 0, 2 ** 31);
  return { ...(raw as ReplayFile), workload };
}
