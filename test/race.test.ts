/**
 * Race runs on the parallel machine, as `irqwork race` makes them: every shadow check on, seeded
 * chaos, trace rings, liveness scanner and stutter. `v2` on RT is flagged, `merged` stays clean on
 * RT and non-RT, every mutant of the catalogue is found, and a finding reads right: its trace
 * names its CPU and work, its JSON carries every field, its reproduce command says the same run.
 *
 * One 4-CPU machine for the whole file; bounded budgets (expected detections stop at the first
 * finding); no assertion on a timing value.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from 'node:util';
import { ALL_CHECKS } from '../src/checks/index.js';
import {
  classifyMutantRun,
  formatMutantRows,
  formatRace,
  mutantJson,
  mutantRow,
  mutantRunOptions,
  RACE_FLAGS,
  raceJson,
  reproduceCommand,
  selfTestPassed,
} from '../src/cli/race.js';
import { Machine } from '../src/machine/machine.js';
import { runStress, type RunResult } from '../src/stress/kind.js';
import { runHunt } from '../src/stress/hunt.js';
import { defaultRunOptions, type RunOptions } from '../src/stress/options.js';
import type { Violation } from '../src/stress/task.js';
import { MUTANTS } from '../src/variants/index.js';
import { CHECK_NAMES, type Mutant } from '../src/variants/mutants/index.js';
import { PRESETS } from '../src/workload/spec.js';
import { raceOptions } from '../src/cli/race.js';

const CPUS = 4;
const CLEAN_BUDGET_MS = 6000;
const DETECT_BUDGET_MS = 5000;
const MUTANT_BUDGET_MS = 8000;


function raceRun(over: Partial<RunOptions> & { variant: string }, stopOnFirst: boolean): RunOptions {
  return {
    ...defaultRunOptions(),
    cpus: CPUS,
    preemptRt: true,
    seed: 5,
    // A run that finds something often cannot drain (that is the finding): do not wait long.
    drainMs: stopOnFirst ? 1000 : 2000,
    ...over,
    race: raceOptions(stopOnFirst),
  };
}

/** The checks whose findings fail a run (an `info` check only reports known, accepted behaviour). */
const FAILING_CHECKS = ALL_CHECKS.filter((c) => !(c as { info?: boolean }).info);

const summary = (vs: readonly Violation[]) => vs.map((v) => `${v.check} cpu${v.cpu} w${v.work} ${v.context}: ${v.message}`).join('\n');
const checksOf = (r: RunResult) => new Set(r.violations.map((v) => v.check));
/** A trace line of an event on `cpu` (its CPU column, not an argument) that names work `work` (w12 is not w1). */
const lineOf = (cpu: number, work: number) => new RegExp(`^\\s*-?[\\d.]+ µs\\s+cpu${cpu}\\s.*\\bw${work}\\b`);

let machine: Machine;
let v2: RunResult;

beforeAll(async () => {
  machine = Machine.start(CPUS);
  v2 = await runStress(machine, raceRun({ variant: 'v2', durationMs: DETECT_BUDGET_MS }, true));
}, 60_000);

afterAll(async () => {
  await machine?.close();
});

describe('race: the seed patch and the merged code', () => {
  it('flags v2 on RT with one-list or exactly-once among its findings', () => {
    expect(v2.ok).toBe(false);
    const checks = checksOf(v2);
    expect(checks.has('one-list') || checks.has('exactly-once'), summary(v2.violations)).toBe(true);
    expect(v2.timeToFirstFindingMs).not.toBeNull();
    // Every check that fired is a known check, and its count covers the findings kept.
    const known = new Set(ALL_CHECKS.map((c) => c.name));
    for (const v of v2.violations) {
      expect(known.has(v.check), v.check).toBe(true);
      expect(v2.counts[v.check]).toBeGreaterThan(0);
    }
  });

  for (const preemptRt of [true, false]) {
    it(`keeps merged ${preemptRt ? 'on RT' : 'non-RT'} clean under chaos, stutter and every check`, async () => {
      const r = await runStress(machine, raceRun({ variant: 'merged', preemptRt, durationMs: CLEAN_BUDGET_MS, seed: 11 }, false));
      expect(r.violations, summary(r.violations)).toEqual([]);
      expect(r.counts).toEqual({});
      expect(r.ok).toBe(true);
      expect(r.drained).toBe(true);
      expect(r.timeToFirstFindingMs).toBeNull();
      expect(r.totals.executed).toBeGreaterThan(0);
      expect(r.totals.claimed).toBe(r.totals.executed);
      if (!preemptRt) expect(r.totals.executedIrqWorkd).toBe(0);
      const report = formatRace(r);
      for (const c of FAILING_CHECKS) expect(report).toMatch(new RegExp(`^\\[OK\\]\\s+${c.name} `, 'm'));
      expect(report).toContain('no findings.');
    }, 30_000);
  }
});

describe('race: use-after-free with the sync-then-free workload', () => {
  it('finds merged on RT touching a freed work (rcuwait_wake_up after the BUSY clear)', async () => {
    const r = await runStress(machine, raceRun({ variant: 'merged', workload: PRESETS['sync-free']!, durationMs: DETECT_BUDGET_MS, seed: 2 }, true));
    expect(r.ok).toBe(false);
    const uaf = r.violations.filter((v) => v.check === 'use-after-free');
    expect(uaf.length, summary(r.violations)).toBeGreaterThan(0);
    for (const f of uaf) expect(f.work).toBeGreaterThan(0);
  }, 30_000);

  it('keeps current (the RCU fix) clean on RT with the same workload', async () => {
    const r = await runStress(machine, raceRun({ variant: 'current', workload: PRESETS['sync-free']!, durationMs: DETECT_BUDGET_MS, seed: 2 }, false));
    expect(r.violations, summary(r.violations)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.drained).toBe(true);
    expect(r.totals.claimed).toBe(r.totals.executed);
  }, 30_000);
});

describe('race: a finding reads right', () => {
  it("names its CPU and work in its trace (one-list: the queueing CPU's events on that work)", () => {
    const oneList = v2.violations.filter((v) => v.check === 'one-list');
    expect(oneList.length, summary(v2.violations)).toBeGreaterThan(0);
    for (const f of oneList) {
      expect(f.cpu).toBeGreaterThanOrEqual(0);
      expect(f.work).toBeGreaterThan(0);
      expect(f.message).toContain(`work ${f.work} `);
      expect(f.trace?.length).toBeGreaterThan(0);
      expect(f.trace!.some((l) => lineOf(f.cpu, f.work).test(l)), f.trace!.join('\n')).toBe(true);
    }
  });

  it('shows, in a context finding, the callbackStart of its work on its CPU', () => {
    const ctx = v2.violations.filter((v) => v.check === 'context' && v.work > 0 && !v.message.startsWith('"may sleep"'));
    expect(ctx.length, summary(v2.violations)).toBeGreaterThan(0);
    for (const f of ctx) {
      const start = new RegExp(`^\\s*-?[\\d.]+ µs\\s+cpu${f.cpu}\\s+${f.context}\\s+callbackStart\\s+w${f.work}\\b`);
      expect(f.trace!.some((l) => start.test(l)), `cpu${f.cpu} ${f.context}: ${f.message}\n${f.trace!.join('\n')}`).toBe(true);
    }
  });

  it('lists the trace of every CPU in time order', () => {
    // (A liveness finding appends a state dump after its trace; take a CPU's finding.)
    const f = v2.violations.find((v) => v.check !== 'liveness' && v.trace && v.trace.length > 0)!;
    const times = f.trace!.map((l) => Number(/^\s*(-?[\d.]+) µs/.exec(l)?.[1]));
    expect(times.every((t) => Number.isFinite(t)), f.trace!.join('\n')).toBe(true);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(new Set(f.trace!.map((l) => /cpu(\d+)/.exec(l)?.[1])).size).toBeGreaterThan(1);
  });

  it('gives every finding check, cpu, work, context, message, trace, seed and atMs in the JSON', () => {
    const json = raceJson(v2);
    expect(json.ok).toBe(false);
    expect(json.timeToFirstFindingMs).toEqual(expect.any(Number));
    const findings = json.findings as Array<Record<string, unknown>>;
    expect(findings.length).toBe(v2.violations.length);
    for (const f of findings) {
      expect(f).toEqual(
        expect.objectContaining({
          check: expect.any(String),
          cpu: expect.any(Number),
          work: expect.any(Number),
          context: expect.any(String),
          message: expect.any(String),
          trace: expect.any(Array),
          seed: 5,
        }),
      );
      expect(f.atMs === null || typeof f.atMs === 'number').toBe(true);
    }
    const checks = json.checks as Array<{ name: string; count: number; ok: boolean; info?: boolean }>;
    expect(checks.map((c) => c.name)).toEqual(ALL_CHECKS.map((c) => c.name));
    for (const c of checks) if (!c.info) expect(c.ok, c.name).toBe(c.count === 0);
    expect(checks.some((c) => !c.ok)).toBe(true);
  });

  it('prints [FAILED] for each check that fired and the reproduce command in the human report', () => {
    const report = formatRace(v2);
    for (const check of checksOf(v2)) expect(report).toMatch(new RegExp(`^\\[FAILED\\] ${check} `, 'm'));
    expect(report).toContain(`reproduce: ${reproduceCommand(v2.options)}`);
    expect(report).toMatch(/^!!! \[(one-list|exactly-once|context|liveness|sync|accounting|kernel-warning)\]/m);
  });

  it('gives a reproduce command that parses back to the same run', () => {
    const cmd = reproduceCommand(v2.options);
    expect(cmd).toMatch(/^npx irqwork race /);
    const { values } = parseArgs({
      args: cmd.split(' ').slice(3),
      strict: true,
      options: RACE_FLAGS,
    });
    const o = v2.options;
    expect(values).toEqual({
      variant: 'v2',
      config: 'rt',
      cpus: String(CPUS),
      budget: String(o.durationMs / 1000),
      seed: String(o.seed),
      workload: o.workload.name,
      'stop-on-first': true,
    });
  });
});

describe('race: mutant self-test', () => {
  // Under a pct schedule, as `race --mutants all --sched pct` runs it: which check fires first is
  // then a function of the arguments. In free mode it is the OS's timing: claim-load-store, say,
  // is caught by one-list when its second add finds the node still on the first list, and only by
  // exactly-once when that list was already taken — both right, but only one is its expected check.
  it(`detects every mutant of the catalogue by its expected check (pct, stop at the first finding, ${MUTANT_BUDGET_MS / 1000} s each)`, async () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(8);
    const notAsExpected: string[] = [];
    const found: string[] = [];
    for (const m of MUTANTS) {
      // With the settings the mutant needs, as `race --mutants all` runs it (hotplug for no-dying-flush).
      const base = raceRun({ variant: m.name, durationMs: MUTANT_BUDGET_MS, seed: 1 }, true);
      const sched = { mode: 'pct' as const, seed: 1, depth: 3, steps: 20_000, drainSteps: 200_000, stopOnFirst: true };
      const hunt = await runHunt(machine, mutantRunOptions({ ...base, sched }, m), { budgetMs: MUTANT_BUDGET_MS, iterations: Infinity, stopOnFirst: true, keepTrace: false });
      const row = mutantRow(m, hunt.reported);
      const line = `${m.name}: ${row.caughtBy}, checks [${row.checks.join(', ')}], expected ${m.expectedCheck}`;
      if (!row.detected) notAsExpected.push(line);
      else found.push(line);
    }
    expect(notAsExpected, `found as expected:\n${found.join('\n')}`).toEqual([]);
  }, MUTANTS.length * 20_000);
});

describe('race: the self-test judges each mutant by its expected check', () => {
  /** A finding of `check` at `atMs` (the fields the classification reads). */
  const finding = (check: string, atMs?: number, info = false): Violation => ({
    check,
    cpu: 0,
    work: 7,
    context: 'task',
    message: 'm',
    ...(atMs === undefined ? {} : { atMs }),
    ...(info ? { info } : {}),
  });
  const run = (violations: Violation[]) => ({
    violations,
    timeToFirstFindingMs: violations.length ? Math.min(...violations.map((v) => v.atMs ?? Infinity)) : null,
    runMs: 5000,
  });
  const claimLoadStore = MUTANTS.find((m) => m.name === 'claim-load-store')!;

  it('names, for every mutant, an expected check that is a failing check of ALL_CHECKS', () => {
    const failing = new Set(FAILING_CHECKS.map((c) => c.name));
    expect(new Set(CHECK_NAMES)).toEqual(failing);
    for (const m of MUTANTS) expect(failing.has(m.expectedCheck), `${m.name}: ${m.expectedCheck}`).toBe(true);
  });

  it("applies a mutant's own run settings to its run only: hotplug for no-dying-flush, nothing for the others", () => {
    const base = raceRun({ variant: 'merged', durationMs: 1000 }, true);
    const noFlush = MUTANTS.find((m) => m.name === 'no-dying-flush')!;
    expect(noFlush.expectedCheck).toBe('offline');
    expect(mutantRunOptions(base, noFlush)).toEqual({ ...base, variant: 'no-dying-flush', hotplug: noFlush.run!.hotplug });
    expect(base.hotplug).toBeUndefined();
    expect(mutantRunOptions(base, claimLoadStore)).toEqual({ ...base, variant: 'claim-load-store' });
  });

  it('counts a find by the expected check as detected, even when another check fired first', () => {
    const v = classifyMutantRun('one-list', run([finding('exactly-once', 3), finding('one-list', 9), finding('one-list', 12)]));
    expect(v).toEqual({ caughtBy: 'expected', detected: true, check: 'one-list', checks: ['exactly-once', 'one-list'], timeMs: 9 });
  });

  it('does not count a find by a different check only: caughtBy other, not detected', () => {
    const v = classifyMutantRun('one-list', run([finding('accounting'), finding('exactly-once', 4)]));
    expect(v).toEqual({ caughtBy: 'other', detected: false, check: 'exactly-once', checks: ['exactly-once', 'accounting'], timeMs: 4 });
  });

  it('reports nothing found as none, and ignores informational findings', () => {
    expect(classifyMutantRun('liveness', run([]))).toEqual({ caughtBy: 'none', detected: false, check: null, checks: [], timeMs: null });
    expect(classifyMutantRun('liveness', run([finding('stranded', 2, true)])).caughtBy).toBe('none');
  });

  it('takes the time of a machine-side finding (no atMs) from the run', () => {
    const v = classifyMutantRun('accounting', { violations: [finding('accounting')], timeToFirstFindingMs: null, runMs: 5000 });
    expect(v).toMatchObject({ caughtBy: 'expected', detected: true, timeMs: 5000 });
  });

  it('gives every JSON row mutant, detected, check, expectedCheck, caughtBy, checks and timeMs', () => {
    for (const m of MUTANTS) {
      const hit = mutantJson(mutantRow(m, run([finding(m.expectedCheck, 1.4)])));
      expect(hit).toEqual({ mutant: m.name, detected: true, check: m.expectedCheck, expectedCheck: m.expectedCheck, caughtBy: 'expected', checks: [m.expectedCheck], timeMs: 1 });
    }
    const other = mutantJson(mutantRow(claimLoadStore, run([finding('exactly-once', 2)])));
    expect(other).toMatchObject({ mutant: 'claim-load-store', detected: false, check: 'exactly-once', expectedCheck: 'one-list', caughtBy: 'other' });
  });

  it('fails the self-test when one mutant was found only by a different check', () => {
    const asExpected = MUTANTS.map((m) => mutantRow(m, run([finding(m.expectedCheck, 1)])));
    expect(selfTestPassed(asExpected, true)).toBe(true);
    expect(selfTestPassed(asExpected, null)).toBe(true); // --mutant NAME: no baseline run
    expect(selfTestPassed(asExpected, false)).toBe(false);
    const wrong: Mutant = claimLoadStore;
    const rows = [...asExpected.filter((r) => r.mutant !== wrong.name), mutantRow(wrong, run([finding('exactly-once', 2)]))];
    expect(selfTestPassed(rows, true)).toBe(false);
  });

  it('shows the expected check beside the finding check, and says "found by X, expected Y"', () => {
    const rows = [mutantRow(claimLoadStore, run([finding('exactly-once', 2), finding('context', 3)]))];
    const text = formatMutantRows(rows);
    expect(text.split('\n')[0]).toMatch(/^mutant\s+detected\s+check\s+expected check\s+time\s+what is broken$/);
    expect(text).toMatch(/^claim-load-store\s+NO \(other check\)\s+exactly-once\s+one-list\s+2 ms\s/m);
    expect(text).toContain('!!! claim-load-store: found by exactly-once, expected one-list (checks that fired: exactly-once, context)');
  });
});
