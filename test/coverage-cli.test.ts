/**
 * Kernel branch coverage in the CLI's output: `race --json` and `stress --check --json` carry
 * `coverage` rows and `unreached` point names, a stress run without checks carries neither, and
 * the human race report has its coverage line after the check table.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { COVERAGE_CONTEXTS, COVERAGE_CPU_STATES, COVERAGE_POINTS } from '../src/kernel/coverage.js';
import { cli, type Exit } from './support/cli.js';

let raceJson: Exit;
let raceHuman: Exit;
let stressCheck: Exit;
let stressPlain: Exit;

beforeAll(async () => {
  // One at a time: each spins its CPUs.
  raceJson = await cli(['race', '--cpus', '2', '--budget', '2', '--seed', '3', '--json']);
  raceHuman = await cli(['race', '--cpus', '2', '--budget', '1', '--seed', '3', '--config', 'nort']);
  stressCheck = await cli(['stress', '--check', '--cpus', '2', '--duration', '1', '--seed', '3', '--json']);
  stressPlain = await cli(['stress', '--cpus', '2', '--duration', '1', '--seed', '3', '--json']);
}, 150_000);

interface Row {
  function: string;
  branch: string;
  point: string;
  context: string;
  cpuState: string;
  count: number;
}

function expectCoverage(exit: Exit): void {
  expect(exit.signal).toBeNull();
  expect(exit.code, exit.stderr + exit.stdout.slice(0, 2000)).toBe(0);
  const out = JSON.parse(exit.stdout) as { coverage: Row[]; unreached: string[] };
  expect(out.coverage.length).toBeGreaterThan(10);
  const names = COVERAGE_POINTS.map((p) => p.name);
  for (const row of out.coverage) {
    expect(Object.keys(row).sort()).toEqual(['branch', 'context', 'count', 'cpuState', 'function', 'point']);
    expect(names).toContain(row.point);
    expect(COVERAGE_CONTEXTS).toContain(row.context);
    expect(COVERAGE_CPU_STATES).toContain(row.cpuState);
    expect(row.count).toBeGreaterThan(0);
  }
  // The hot paths of any run: a claim and a local queue from task context, busy.
  expect(out.coverage).toContainEqual(expect.objectContaining({ point: 'claimOk', context: 'task', cpuState: 'busy' }));
  expect(Array.isArray(out.unreached)).toBe(true);
  for (const name of out.unreached) {
    expect(names).toContain(name);
    expect(out.coverage.some((r) => r.point === name)).toBe(false);
  }
}

describe('coverage in the output', () => {
  it('race --json has coverage rows and unreached names', () => expectCoverage(raceJson));

  it('stress --check --json has them too', () => expectCoverage(stressCheck));

  it('stress without --check counts no coverage', () => {
    expect(stressPlain.code, stressPlain.stderr).toBe(0);
    const out = JSON.parse(stressPlain.stdout) as Record<string, unknown>;
    expect(out).not.toHaveProperty('coverage');
    expect(out).not.toHaveProperty('unreached');
  });

  it('the human race report says what it reached, after the check table', () => {
    expect(raceHuman.code, raceHuman.stderr).toBe(0);
    const text = raceHuman.stdout;
    expect(text).toMatch(/^coverage: (all \d+|\d+ of \d+) reachable kernel branches reached/m);
    expect(text.indexOf('coverage: ')).toBeGreaterThan(text.indexOf('[OK]     offline'));
  });
});
