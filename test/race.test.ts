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
import { formatRace, RACE_FLAGS, raceJson, reproduceCommand } from '../src/cli/race.js';
import { Machine, type RunResult } from '../src/machine/machine.js';
import { defaultRunOptions, type RunOptions } from '../src/machine/options.js';
import type { Violation } from '../src/machine/task.js';
import { MUTANTS } from '../src/variants/index.js';
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
  v2 = await machine.run(raceRun({ variant: 'v2', durationMs: DETECT_BUDGET_MS }, true));
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
      const r = await machine.run(raceRun({ variant: 'merged', preemptRt, durationMs: CLEAN_BUDGET_MS, seed: 11 }, false));
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
    const r = await machine.run(raceRun({ variant: 'merged', workload: PRESETS['sync-free']!, durationMs: DETECT_BUDGET_MS, seed: 2 }, true));
    expect(r.ok).toBe(false);
    const uaf = r.violations.filter((v) => v.check === 'use-after-free');
    expect(uaf.length, summary(r.violations)).toBeGreaterThan(0);
    for (const f of uaf) expect(f.work).toBeGreaterThan(0);
  }, 30_000);

  it('keeps current (the RCU fix) clean on RT with the same workload', async () => {
    const r = await machine.run(raceRun({ variant: 'current', workload: PRESETS['sync-free']!, durationMs: DETECT_BUDGET_MS, seed: 2 }, false));
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
  it(`detects every mutant of the catalogue (stop at the first finding, ${MUTANT_BUDGET_MS / 1000} s each)`, async () => {
    expect(MUTANTS.length).toBeGreaterThanOrEqual(8);
    const missed: string[] = [];
    const found: string[] = [];
    for (const m of MUTANTS) {
      const r = await machine.run(raceRun({ variant: m.name, durationMs: MUTANT_BUDGET_MS, seed: 1 }, true));
      if (r.ok) missed.push(m.name);
      else found.push(`${m.name}: ${[...checksOf(r)].join(', ')}`);
    }
    expect(missed, `found:\n${found.join('\n')}`).toEqual([]);
  }, 9 * 20_000);
});
