/**
 * `irqwork race` as a user runs it: the CLI in a child process. Bad input exits 2 with one line;
 * a clean run exits 0 with every check [OK]; a mutant is detected; and a v2 finding's `reproduce`
 * command, run as printed, finds again. Children are started in beforeAll (the short ones a few at
 * a time, the ones that spin CPUs alone) and the tests only look at what each left.
 */
import { cli, expectUsageError, inParallel, type Exit } from './support/cli.js';
import { beforeAll, describe, expect, it } from 'vitest';




/** [what, argv after `race`, text the one stderr line must contain]. --cpus 1 in case one got through. */
const BAD_INPUT: Array<[string, string[], string[]]> = [
  ['an unknown --mutant', ['--cpus', '1', '--mutant', 'nope'], ['--mutant', '"nope"', 'claim-load-store']],
  ['--mutants other than all', ['--cpus', '1', '--mutants', 'some'], ['--mutants', "'all'", '"some"']],
  ['--budget 0', ['--cpus', '1', '--budget', '0'], ['--budget', '"0"']],
  ['--budget-per without --mutants', ['--cpus', '1', '--budget-per', '5'], ['--budget-per', '--mutants']],
];

const V2_HUNT = ['race', '--variant', 'v2', '--cpus', '4', '--budget', '3', '--seed', '5', '--stop-on-first', '--json'];

/** The documented fields of a finding in `--json`. */
const FINDING_FIELDS = ['check', 'cpu', 'work', 'context', 'message', 'trace', 'seed', 'atMs'];

let badExits: Exit[];
let helpExit: Exit;
let mutantExit: Exit;
let mergedExit: Exit;
let v2Exit: Exit;
let reproduceArgv: string[] | null = null;
let reproduceExit: Exit | null = null;

beforeAll(async () => {
  [helpExit, ...badExits] = await inParallel(
    [() => cli(['race', '--help']), ...BAD_INPUT.map(([, argv]) => () => cli(['race', ...argv]))],
    3,
  );
  // The runs that spin CPUs, one at a time.
  mutantExit = await cli(['race', '--mutant', 'hard-in-thread', '--budget-per', '5', '--json']);
  mergedExit = await cli(['race', '--variant', 'merged', '--cpus', '2', '--budget', '2', '--json']);
  v2Exit = await cli(V2_HUNT);
  try {
    const reproduce = (JSON.parse(v2Exit.stdout) as { reproduce: string }).reproduce;
    // `npx irqwork race …` as printed, run through the tsx CLI, with --json to read it back.
    if (reproduce.startsWith('npx irqwork ')) {
      reproduceArgv = [...reproduce.slice('npx irqwork '.length).split(' '), '--json'];
      reproduceExit = await cli(reproduceArgv);
    }
  } catch {
    // Left null: the tests below say what was wrong.
  }
}, 150_000);

describe('irqwork race: bad input exits 2 with one line naming the flag', () => {
  it.each(BAD_INPUT.map((c, i) => [...c, i] as const))('%s', (_what, _argv, mentions, i) => {
    expectUsageError(badExits[i]!, mentions);
  });
});

describe('irqwork race: runs', () => {
  it('--help exits 0 and prints the usage with every flag', () => {
    expect(helpExit.signal).toBeNull();
    expect(helpExit.code, helpExit.stderr).toBe(0);
    expect(helpExit.stdout).toMatch(/^usage: irqwork race/);
    for (const flag of ['--variant', '--config', '--cpus', '--budget', '--seed', '--stop-on-first', '--json', '--mutants', '--mutant', '--budget-per']) {
      expect(helpExit.stdout).toContain(flag);
    }
  });

  it('--mutant hard-in-thread --budget-per 5 --json exits 0 with the mutant detected', () => {
    expect(mutantExit.signal).toBeNull();
    expect(mutantExit.code, mutantExit.stderr + mutantExit.stdout).toBe(0);
    const out = JSON.parse(mutantExit.stdout) as { mutants: Array<Record<string, unknown>>; ok: boolean; baseline: unknown };
    expect(out.mutants).toHaveLength(1);
    expect(out.mutants[0]).toMatchObject({ mutant: 'hard-in-thread', detected: true, check: 'context' });
    expect(out.mutants[0]!.timeMs).toEqual(expect.any(Number));
    expect(out.baseline).toBeNull(); // one mutant: no unmutated baseline run
    expect(out.ok).toBe(true);
  });

  it('--variant merged --cpus 2 --budget 2 --json exits 0 with every check ok', () => {
    expect(mergedExit.signal).toBeNull();
    expect(mergedExit.code, mergedExit.stderr + mergedExit.stdout.slice(0, 4000)).toBe(0);
    const out = JSON.parse(mergedExit.stdout) as Record<string, unknown>;
    expect(out.command).toBe('race');
    expect(out.config).toMatchObject({ cpus: 2, config: 'rt', variant: 'merged', durationS: 2, checks: true });
    const checks = out.checks as Array<{ name: string; ok: boolean; count: number }>;
    expect(checks.length).toBeGreaterThanOrEqual(9);
    for (const c of checks) expect(c, c.name).toMatchObject({ ok: true, count: 0 });
    expect(out.findings).toEqual([]);
    expect(out.timeToFirstFindingMs).toBeNull();
    expect(out.ok).toBe(true);
    expect(out.reproduce).toMatch(/^npx irqwork race --variant merged --config rt --cpus 2 --budget 2 --seed \d+/);
  });

  it(`${V2_HUNT.slice(1).join(' ')} exits 1 with documented findings`, () => {
    expect(v2Exit.signal).toBeNull();
    expect(v2Exit.code, v2Exit.stderr).toBe(1);
    const out = JSON.parse(v2Exit.stdout) as Record<string, unknown>;
    expect(out.ok).toBe(false);
    expect(out.timeToFirstFindingMs).toEqual(expect.any(Number));
    const findings = out.findings as Array<Record<string, unknown>>;
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) {
      for (const field of FINDING_FIELDS) expect(f, field).toHaveProperty(field);
      expect(f.seed).toBe(5);
      expect(Array.isArray(f.trace)).toBe(true);
    }
    expect(findings.map((f) => f.check)).toEqual(expect.arrayContaining([expect.stringMatching(/^(one-list|exactly-once)$/)]));
    expect(out.reproduce).toBe('npx irqwork race --variant v2 --config rt --cpus 4 --budget 3 --seed 5 --workload mixed --stop-on-first');
  });

  it("reruns the finding with its own reproduce command: exit 1, findings again, same seed", () => {
    expect(reproduceArgv, v2Exit.stdout.slice(0, 2000)).not.toBeNull();
    const exit = reproduceExit!;
    expect(exit.signal).toBeNull();
    expect(exit.code, exit.stderr).toBe(1);
    const out = JSON.parse(exit.stdout) as { findings: Array<{ check: string; seed: number }>; config: Record<string, unknown>; reproduce: string };
    expect(out.findings.length).toBeGreaterThan(0);
    for (const f of out.findings) expect(f.seed).toBe(5);
    expect(out.config).toMatchObject({ cpus: 4, config: 'rt', variant: 'v2', durationS: 3, workload: 'mixed', seed: 5 });
    // The rerun reproduces itself with the same command.
    expect(out.reproduce).toBe((JSON.parse(v2Exit.stdout) as { reproduce: string }).reproduce);
  });
});
