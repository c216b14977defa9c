/**
 * `irqwork stress` as a user runs it: the CLI in a child process. Bad input exits 2 with one line
 * on stderr naming the flag (or the scenario field), no stack trace, and no process left behind;
 * a good run exits 0 with the documented JSON. Spawning tsx costs about a second, so every child
 * is started in beforeAll, several at a time, and the tests only look at what each one left.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, expectUsageError, inParallel, type Exit } from './support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';



const scratch = mkdtempSync(join(tmpdir(), 'irqwork-cli-'));
const scenario = (name: string, text: string) => {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
};
const badJson = scenario('bad.json', '{"weights": {"queueTask": 1,');
const unknownField = scenario('unknown-field.json', JSON.stringify({ extends: 'local', wieghts: { sync: 1 } }));
const negativeWeight = scenario('negative-weight.json', JSON.stringify({ weights: { queueRemote: -3 } }));

/** [what, argv after `stress`, text the one stderr line must contain]. */
const BAD_INPUT: Array<[string, string[], string[]]> = [
  ['--cpus 0', ['--cpus', '0'], ['--cpus']],
  ['--cpus -1', ['--cpus', '-1'], ['--cpus']],
  ['--cpus=-1', ['--cpus=-1'], ['--cpus', '"-1"']],
  ['--cpus abc', ['--cpus', 'abc'], ['--cpus', '"abc"']],
  ['--cpus 100000', ['--cpus', '100000'], ['--cpus', '"100000"']],
  ['--duration 0', ['--cpus', '1', '--duration', '0'], ['--duration', '"0"']],
  ['--duration -5', ['--cpus', '1', '--duration', '-5'], ['--duration']],
  ['--duration=-5', ['--cpus', '1', '--duration=-5'], ['--duration', '"-5"']],
  ['--duration abc', ['--cpus', '1', '--duration', 'abc'], ['--duration', '"abc"']],
  ['an unknown --variant', ['--cpus', '1', '--variant', 'nope'], ['--variant', '"nope"', 'merged, v2']],
  ['an unknown --config', ['--cpus', '1', '--config', 'nope'], ['--config', '"nope"', 'rt, nort']],
  ['an unknown --workload', ['--cpus', '1', '--workload', 'nope'], ['--workload', '"nope"']],
  ['an unknown flag', ['--cpus', '1', '--bogus'], ['--bogus']],
  ['a scenario file that is not JSON', ['--cpus', '1', '--workload', badJson], [badJson, 'cannot be read as JSON']],
  ['a scenario with an unknown field', ['--cpus', '1', '--workload', unknownField], [unknownField, 'field "wieghts"']],
  ['a scenario with a negative weight', ['--cpus', '1', '--workload', negativeWeight], [negativeWeight, 'field "weights.queueRemote"']],
];

const GOOD = ['stress', '--cpus', '2', '--duration', '0.5', '--json', '--seed', '7'];


let badExits: Exit[];
let helpExit: Exit;
let goodExit: Exit;

beforeAll(async () => {
  // --cpus 1 in most bad cases: if validation ever let one through, it would run one short thread,
  // not all cores for the default 5 s.
  [helpExit, ...badExits] = await inParallel(
    [() => cli(['stress', '--help']), ...BAD_INPUT.map(([, argv]) => () => cli(['stress', ...argv]))],
    4,
  );
  // The good run alone: its two CPU threads spin, and sharing the cores with a crowd of
  // start-ups only makes everything slower.
  goodExit = await cli(GOOD);
}, 120_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('irqwork stress: bad input exits 2 with one line naming the flag or field', () => {
  it.each(BAD_INPUT.map((c, i) => [...c, i] as const))('%s', (_what, _argv, mentions, i) => {
    expectUsageError(badExits[i]!, mentions);
  });
});

describe('irqwork stress: good runs', () => {
  it('--help exits 0 and prints the usage with every flag', () => {
    expect(helpExit.signal).toBeNull();
    expect(helpExit.code, helpExit.stderr).toBe(0);
    expect(helpExit.stdout).toMatch(/^usage: irqwork stress/);
    for (const flag of ['--cpus', '--config', '--variant', '--duration', '--workload', '--seed', '--hz', '--json']) {
      expect(helpExit.stdout).toContain(flag);
    }
  });

  it('--cpus 2 --duration 0.5 --json --seed 7 exits 0 with the documented JSON', () => {
    expect(goodExit.signal).toBeNull();
    expect(goodExit.code, goodExit.stderr).toBe(0);
    const out = JSON.parse(goodExit.stdout) as Record<string, unknown>;

    expect(out.command).toBe('stress');
    expect(out.config).toMatchObject({ cpus: 2, config: 'rt', variant: 'merged', durationS: 0.5, workload: 'mixed', seed: 7 });

    const totals = out.totals as Record<string, number>;
    for (const key of ['queueCalls', 'claimed', 'executed', 'ipisSent', 'irqWorkdWakeups', 'ticks']) {
      expect(typeof totals[key], key).toBe('number');
    }
    expect(totals.executed).toBeGreaterThan(0);
    expect(totals.claimed).toBe(totals.executed);

    const perCpu = out.perCpu as Array<Record<string, number>>;
    expect(perCpu).toHaveLength(2);
    expect(perCpu.map((c) => c.cpu)).toEqual([0, 1]);
    expect(out.violations).toEqual([]);
    expect(out.ok).toBe(true);
  });
});
