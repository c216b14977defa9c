/**
 * Workloads, scftorture-style: each CPU repeatedly picks a weighted random operation over a pool
 * of works of each kind. A workload is data — a preset below or a JSON scenario file — and the
 * driver (workload/driver.ts) that runs it lives elsewhere.
 */
import { readFileSync } from 'node:fs';
import { OPT_IN_CHECKS } from '../checks/index.js';
import { Errors } from '../errors.js';

export interface OperationWeights {
  /** irq_work_queue() of a random work from task context. */
  queueTask: number;
  /** irq_work_queue() from a (timer) hardirq of the workload. */
  queueHardirq: number;
  /** irq_work_queue() from an NMI. */
  queueNmi: number;
  /** irq_work_queue_on() a random other CPU (one call in 16: this CPU itself), from task context. */
  queueRemote: number;
  /** irq_work_sync() of one of this CPU's own works. */
  sync: number;
  /** irq_work_sync(), then free the work (poison it), then re-initialise and reuse it. */
  syncFree: number;
}

export interface WorkloadSpec {
  name: string;
  description: string;
  weights: OperationWeights;
  /** Works per CPU of each kind: plain (no flag), LAZY, HARD_IRQ. */
  works: { plain: number; lazy: number; hard: number };
  /** Share of plain and LAZY works whose callback "may sleep" (never HARD_IRQ ones). */
  maySleepShare: number;
  /** Share of works whose callback re-queues the work once per outside queue. */
  requeueShare: number;
  /** After each operation, the chance that the task sleeps for `idleUs` (the CPU idles). */
  idleChance: number;
  idleUs: number;
  /** Each CPU queues only its own works (always so with a syncFree weight). */
  privateWorks?: boolean;
  /** Opt-in checks (checks/index.ts OPT_IN_CHECKS) this workload's race runs add to the default ones. */
  checks?: readonly string[];
}

const base: Omit<WorkloadSpec, 'name' | 'description' | 'weights'> = {
  works: { plain: 4, lazy: 2, hard: 2 },
  maySleepShare: 0.25,
  requeueShare: 0.25,
  idleChance: 0.002,
  idleUs: 100,
};

const noOps: OperationWeights = { queueTask: 0, queueHardirq: 0, queueNmi: 0, queueRemote: 0, sync: 0, syncFree: 0 };

export const PRESETS: Readonly<Record<string, WorkloadSpec>> = {
  mixed: {
    ...base,
    name: 'mixed',
    description: 'local from task, hardirq and NMI, remote queue_on, sync; all three kinds of work',
    weights: { ...noOps, queueTask: 4, queueHardirq: 2, queueNmi: 1, queueRemote: 3, sync: 1 },
  },
  local: {
    ...base,
    name: 'local',
    description: 'each CPU queues its own works on itself from task and hardirq context, and syncs them',
    weights: { ...noOps, queueTask: 6, queueHardirq: 2, sync: 1 },
    privateWorks: true,
  },
  remote: {
    ...base,
    name: 'remote',
    description: 'mostly irq_work_queue_on another CPU (call_single_queue, RT wakeup work)',
    weights: { ...noOps, queueTask: 1, queueRemote: 8, sync: 1 },
  },
  nmi: {
    ...base,
    name: 'nmi',
    description: 'mostly irq_work_queue from NMI context (the perf use case)',
    weights: { ...noOps, queueTask: 2, queueHardirq: 1, queueNmi: 6, sync: 1 },
  },
  lazy: {
    ...base,
    name: 'lazy',
    description: 'mostly LAZY works (tick-driven), some remote',
    works: { plain: 1, lazy: 6, hard: 1 },
    weights: { ...noOps, queueTask: 6, queueRemote: 2, sync: 1 },
  },
  // Throughput per core (src/bench/throughput.ts): nothing in it waits for a tick, a sleep or
  // another CPU. No LAZY works and no irq_work_sync (both wait for ticks or for irq_workd); no
  // NMIs (their queue path is the task one, and a remote queue from NMI is a kernel warning).
  // Private works, as many per CPU as a scenario may ask for: a work queued on a CPU the OS has
  // descheduled stays PENDING until that CPU runs again (with 64 CPUs on 2 cores, most remote
  // targets are not running), and a queuer with few works would spend the rest of its time slice
  // finding them all busy — the figure would measure the OS scheduler, not the model. With 2048
  // a CPU outlasts a time slice; with 512, 64 CPUs on 2 cores did half the works per CPU-second.
  'cpu-bound': {
    ...base,
    name: 'cpu-bound',
    description: 'queue own plain and HARD_IRQ works locally (task, hardirq) and on other CPUs; nothing sleeps or waits',
    works: { plain: 1024, lazy: 0, hard: 1024 },
    maySleepShare: 0,
    requeueShare: 0,
    idleChance: 0,
    weights: { ...noOps, queueTask: 4, queueHardirq: 2, queueRemote: 2 },
    privateWorks: true,
  },
  'sync-free': {
    ...base,
    name: 'sync-free',
    description: 'sync, then free and reuse a work (use-after-free hunt; not part of mixed)',
    weights: { ...noOps, queueTask: 2, queueRemote: 4, syncFree: 3 },
  },
  // The overlap of two executions of one work (the zoo's overlap-busy-aba), as small as it gets:
  // one HARD_IRQ work per CPU, which every CPU queues, here or on another CPU, so that it is
  // often queued again while its callback still runs elsewhere; its owner syncs it meanwhile.
  // HARD_IRQ, because that irq_work_sync spins on BUSY on RT too, where current's grace period
  // does not help. (`"works": { "plain": 1, "hard": 0 }` in a scenario file takes the rcuwait
  // sleep of RT instead.) Few works: the fewer there are, the more often executions overlap.
  'sync-overlap': {
    ...base,
    name: 'sync-overlap',
    description: 'every CPU queues every work, here or on another CPU, while its owner syncs it; asks for the sync-overlap check',
    works: { plain: 0, lazy: 0, hard: 1 },
    maySleepShare: 0,
    requeueShare: 0,
    weights: { ...noOps, queueTask: 3, queueRemote: 3, sync: 2 },
    checks: ['sync-overlap'],
  },
};

export const DEFAULT_WORKLOAD = 'mixed';
export const PRESET_NAMES = Object.keys(PRESETS);

/** A preset by name, or a JSON scenario file by path. */
export function loadWorkload(nameOrFile: string): WorkloadSpec {
  const preset = PRESETS[nameOrFile];
  if (preset) return preset;
  if (!/\.json$/i.test(nameOrFile)) throw Errors.unknownWorkload(nameOrFile, PRESET_NAMES);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(nameOrFile, 'utf8'));
  } catch (e) {
    throw Errors.unreadableScenario(nameOrFile, (e as Error).message.split('\n')[0]!);
  }
  return parseScenario(raw, nameOrFile);
}

const TOP_FIELDS = [
  'name',
  'description',
  'extends',
  'weights',
  'works',
  'maySleepShare',
  'requeueShare',
  'idleChance',
  'idleUs',
  'privateWorks',
  'checks',
];

/** Validates a scenario object; every error names the field. Unset fields come from `extends` (default mixed). */
export function parseScenario(raw: unknown, file: string): WorkloadSpec {
  const bad = (field: string, what: string) => Errors.badScenario(file, field, what);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('(top level)', 'must be a JSON object');
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!TOP_FIELDS.includes(key)) throw bad(key, `is unknown; allowed: ${TOP_FIELDS.join(', ')}`);

  const parentName = obj.extends ?? DEFAULT_WORKLOAD;
  if (typeof parentName !== 'string' || !PRESETS[parentName]) throw bad('extends', `must be one of ${PRESET_NAMES.join(', ')}`);
  const parent = PRESETS[parentName]!;
  const num = (field: string, value: unknown, max: number): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max) {
      throw bad(field, `must be a number from 0 to ${max}`);
    }
    return value;
  };
  const int = (field: string, value: unknown, max: number): number => {
    const n = num(field, value, max);
    if (!Number.isInteger(n)) throw bad(field, `must be an integer from 0 to ${max}`);
    return n;
  };
  const bool = (field: string, value: unknown): boolean => {
    if (typeof value !== 'boolean') throw bad(field, 'must be true or false');
    return value;
  };
  const optIn = OPT_IN_CHECKS.map((c) => c.name);
  const checkList = (field: string, value: unknown): string[] => {
    if (!Array.isArray(value) || value.some((c) => typeof c !== 'string' || !optIn.includes(c))) {
      throw bad(field, `must be a list of opt-in checks: ${optIn.join(', ')}`);
    }
    return [...new Set(value as string[])];
  };
  const section = <T extends object>(field: string, value: unknown, defaults: T, check: (k: string, v: unknown) => number): T => {
    if (value === undefined) return defaults;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(field, 'must be an object');
    const out = { ...defaults } as Record<string, number>;
    for (const [k, v] of Object.entries(value)) {
      if (!(k in defaults)) throw bad(`${field}.${k}`, `is unknown; allowed: ${Object.keys(defaults).join(', ')}`);
      out[k] = check(`${field}.${k}`, v);
    }
    return out as T;
  };

  for (const field of ['name', 'description'] as const) {
    if (obj[field] !== undefined && typeof obj[field] !== 'string') throw bad(field, 'must be a string');
  }
  const spec: WorkloadSpec = {
    name: obj.name === undefined ? file : (obj.name as string),
    description: obj.description === undefined ? `scenario ${file}` : (obj.description as string),
    weights: section('weights', obj.weights, parent.weights, (k, v) => num(k, v, 1e6)),
    works: section('works', obj.works, parent.works, (k, v) => int(k, v, 1024)),
    maySleepShare: obj.maySleepShare === undefined ? parent.maySleepShare : num('maySleepShare', obj.maySleepShare, 1),
    requeueShare: obj.requeueShare === undefined ? parent.requeueShare : num('requeueShare', obj.requeueShare, 1),
    idleChance: obj.idleChance === undefined ? parent.idleChance : num('idleChance', obj.idleChance, 1),
    idleUs: obj.idleUs === undefined ? parent.idleUs : num('idleUs', obj.idleUs, 1e6),
    privateWorks: obj.privateWorks === undefined ? parent.privateWorks : bool('privateWorks', obj.privateWorks),
  };
  // Only when set: a scenario without opt-in checks stays equal to its parent preset.
  const checks = obj.checks === undefined ? parent.checks : checkList('checks', obj.checks);
  if (checks !== undefined) spec.checks = checks;
  if (Object.values(spec.weights).every((w) => w === 0)) throw bad('weights', 'must give at least one operation a weight above 0');
  if (spec.works.plain + spec.works.lazy + spec.works.hard === 0) throw bad('works', 'must ask for at least one work');
  if (spec.maySleepShare + spec.requeueShare > 1) throw bad('requeueShare', 'plus maySleepShare must not exceed 1');
  return spec;
}

export function worksPerCpu(spec: WorkloadSpec): number {
  return spec.works.plain + spec.works.lazy + spec.works.hard;
}
