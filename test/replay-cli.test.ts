/**
 * Controlled schedules from the command line, as a user runs them (the CLI in child processes):
 * `race --sched pct --save F` writes a replay file and reports the same digest every time,
 * `replay F` reproduces the finding and shows its history, a tampered or foreign file is refused
 * or reported as not reproducing, `shrink F` writes a replay no bigger that still reproduces, and
 * `--trace-out` writes a Chrome trace. Children are started in beforeAll (each costs a couple of
 * seconds of start-up, so as few as possible, a few at a time) and the tests only look at what
 * each left. Temporary files live in a mkdtemp directory, removed at the end.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayFile } from '../src/stress/replay-file.js';
import { cli, expectUsageError, inParallel, type Exit } from './support/cli.js';

const V2 = ['race', '--variant', 'v2', '--cpus', '4', '--sched', 'pct', '--stop-on-first', '--seed', '1'];
const HEX16 = /^[0-9a-f]{16}$/;

let dir: string;
const at = (name: string) => join(dir, name);

let race1: Exit;
let race2: Exit;
let replayText: Exit;
let replayJson: Exit;
let replayNotJson: Exit;
let replayOtherFormat: Exit;
let replayTampered: Exit;
let shrink: Exit;
let replayShrunk: Exit | null = null;
let traceOutMissingDir: Exit;
let stepsWithoutSched: Exit;
let saveWithoutSched: Exit;

const json = <T = Record<string, unknown>>(e: Exit): T => {
  try {
    return JSON.parse(e.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${e.code}, signal ${e.signal}):\n${e.stdout.slice(0, 2000)}\nstderr:\n${e.stderr.slice(0, 2000)}`);
  }
};
const readJson = <T>(path: string): T => JSON.parse(readFileSync(path, 'utf8')) as T;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'irqwork-replay-cli-'));
  writeFileSync(at('not-json.json'), 'this is { not JSON\n');
  writeFileSync(at('other-format.json'), JSON.stringify({ format: 'chrome-trace', version: 1, traceEvents: [] }));
  // The two v2 hunts (the second also writes a trace) and the usage errors, a few at a time.
  [race1, race2, replayNotJson, replayOtherFormat, traceOutMissingDir, stepsWithoutSched, saveWithoutSched] = await inParallel(
    [
      () => cli([...V2, '--save', at('F.json'), '--json']),
      () => cli([...V2, '--save', at('F2.json'), '--trace-out', at('T.json'), '--json']),
      () => cli(['replay', at('not-json.json')]),
      () => cli(['replay', at('other-format.json')]),
      () => cli(['race', '--cpus', '1', '--sched', 'pct', '--trace-out', '/nonexistent-dir/x.json']),
      () => cli(['race', '--cpus', '1', '--steps', '100']),
      () => cli(['race', '--cpus', '1', '--save', at('never.json')]),
    ],
    3,
  );
  // The replays of F (as saved, and with its finding's digest changed) and its shrinking.
  const jobs: Array<() => Promise<Exit>> = [];
  if (existsSync(at('F.json'))) {
    const tampered = readJson<ReplayFile>(at('F.json'));
    tampered.finding.digest = tampered.finding.digest === '0'.repeat(16) ? '1'.repeat(16) : '0'.repeat(16);
    writeFileSync(at('F-tampered.json'), JSON.stringify(tampered, null, 1));
  }
  jobs.push(
    () => cli(['shrink', at('F.json'), '--json', '--budget', '10', '--out', at('G.json')], 90_000),
    () => cli(['replay', at('F.json')]),
    () => cli(['replay', at('F.json'), '--json']),
    () => cli(['replay', at('F-tampered.json')]),
  );
  [shrink, replayText, replayJson, replayTampered] = await inParallel(jobs, 2);
  if (existsSync(at('G.json'))) replayShrunk = await cli(['replay', at('G.json'), '--json']);
}, 240_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('irqwork race --sched pct --save', () => {
  it('v2, pct seed 1, --stop-on-first --save F --json: exits 1 with the schedule and a 16-hex-digit digest in its JSON, and writes F', () => {
    expect(race1.signal).toBeNull();
    expect(race1.code, race1.stderr).toBe(1);
    const out = json<{ sched: Record<string, unknown>; digest: string; iterationDigest: string; saved: string | null; ok: boolean; findings: unknown[] }>(race1);
    expect(out.sched).toEqual({ mode: 'pct', depth: 3, seed: 1, steps: 20_000, switches: expect.any(Number) });
    expect(out.sched.switches as number).toBeGreaterThan(0);
    expect(out.digest).toMatch(HEX16);
    expect(out.iterationDigest).toMatch(HEX16);
    expect(out.ok).toBe(false);
    expect(out.findings.length).toBeGreaterThan(0);
    expect(out.saved).toBe(at('F.json'));
    const f = readJson<ReplayFile>(at('F.json'));
    expect(f).toMatchObject({ format: 'irqwork-replay', version: 1, variant: 'v2', config: 'rt', cpus: 4, seed: 1, schedule: { strategy: 'pct', depth: 3, steps: 20_000 } });
    expect(f.finding.digest).toMatch(HEX16);
    expect(f.decisions.length).toBeGreaterThan(1);
  });

  it('the same command run again (with --trace-out too) gives the same digests and writes the same replay file', () => {
    expect(race2.signal).toBeNull();
    expect(race2.code, race2.stderr).toBe(1);
    const a = json<{ digest: string; iterationDigest: string; sched: unknown }>(race1);
    const b = json<{ digest: string; iterationDigest: string; sched: unknown }>(race2);
    expect(b.digest).toBe(a.digest);
    expect(b.iterationDigest).toBe(a.iterationDigest);
    expect(b.sched).toEqual(a.sched);
    expect(readJson(at('F2.json'))).toEqual(readJson(at('F.json')));
  });
});

describe('irqwork race --trace-out', () => {
  it('writes a Chrome trace: traceEvents, one thread_name per CPU, and B/E balanced on every CPU', () => {
    const t = readJson<{ traceEvents: Array<{ name: string; ph: string; tid: number; args?: Record<string, unknown> }> }>(at('T.json'));
    expect(Array.isArray(t.traceEvents)).toBe(true);
    const names = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    expect(names.map((e) => e.tid).sort()).toEqual([0, 1, 2, 3]);
    expect(names.map((e) => e.args?.name).sort()).toEqual(['cpu0', 'cpu1', 'cpu2', 'cpu3']);
    const slices = t.traceEvents.filter((e) => e.ph === 'B' || e.ph === 'E');
    expect(slices.length).toBeGreaterThan(10);
    const depth = new Map<number, number>();
    for (const e of slices) {
      const d = (depth.get(e.tid) ?? 0) + (e.ph === 'B' ? 1 : -1);
      expect(d, `an E without its B on tid ${e.tid}`).toBeGreaterThanOrEqual(0);
      depth.set(e.tid, d);
    }
    for (const [tid, d] of depth) expect(d, `B/E on tid ${tid}`).toBe(0);
    expect([...depth.keys()].every((tid) => tid >= 0 && tid < 4)).toBe(true);
  });
});

describe('irqwork replay', () => {
  it('replay F exits 1, says "reproduced" with the finding, and prints its history', () => {
    const f = readJson<ReplayFile>(at('F.json'));
    expect(replayText.signal).toBeNull();
    expect(replayText.code, replayText.stderr).toBe(1);
    expect(replayText.stdout).toContain(`reproduced: [${f.finding.check}] at step ${f.finding.step}, digest ${f.finding.digest}`);
    expect(replayText.stdout).toMatch(/history of work \d+/);
    // The history's lines: the work's claim and its add to a list, with their steps.
    expect(replayText.stdout).toMatch(new RegExp(`step\\s+\\d+\\s+cpu\\d\\s+\\S+\\s+claimOk\\s+w${f.finding.work}\\b`));
    expect(replayText.stdout).toMatch(new RegExp(`listAdd\\s+w${f.finding.work}\\b`));
    expect(replayText.stdout).not.toContain('did not reproduce');
  });

  it('replay F --json: reproduced true, with the expected finding, its check, step and digest', () => {
    const f = readJson<ReplayFile>(at('F.json'));
    expect(replayJson.code, replayJson.stderr).toBe(1);
    const out = json<{ reproduced: boolean; expected: Record<string, unknown>; finding: Record<string, unknown>; divergedAt: unknown; history: string[] }>(replayJson);
    expect(out.reproduced).toBe(true);
    expect(out.divergedAt).toBeNull();
    expect(out.expected).toEqual(f.finding);
    expect(out.finding).toMatchObject({ check: f.finding.check, step: f.finding.step, digest: f.finding.digest, work: f.finding.work });
    expect(out.history.length).toBeGreaterThan(0);
  });

  it('replay of a file that is not JSON exits 2 with one line on stderr and nothing on stdout', () => {
    expectUsageError(replayNotJson, ['not-json.json', 'not a replay file', 'not JSON']);
  });

  it('replay of a JSON file of another format exits 2 with one line on stderr and nothing on stdout', () => {
    expectUsageError(replayOtherFormat, ['other-format.json', 'not a replay file', '"format"']);
  });

  it("replay of F with its finding's digest changed exits 3 and says it did not reproduce, naming the divergent step", () => {
    const f = readJson<ReplayFile>(at('F.json'));
    expect(replayTampered.signal).toBeNull();
    expect(replayTampered.code, replayTampered.stderr).toBe(3);
    expect(replayTampered.stdout).toContain('did not reproduce');
    expect(replayTampered.stdout).toContain('first divergent step');
    expect(replayTampered.stdout).toContain(`at step ${f.finding.step} (digest ${f.finding.digest})`);
    expect(replayTampered.stdout).not.toMatch(/^reproduced:/m);
  });
});

describe('irqwork shrink', () => {
  it('shrink F --json --budget 10 --out G exits 0 with original and shrunk sizes, the shrunk no bigger in shrink order (CPUs, active CPUs, then steps + switches + operations), and G replays (exit 1)', () => {
    expect(shrink.signal).toBeNull();
    expect(shrink.code, shrink.stderr).toBe(0);
    type Size = { cpus: number; activeCpus: number; steps: number; switches: number; ops: number };
    const out = json<{ original: Size; shrunk: Size; file: string; check: string }>(shrink);
    for (const s of [out.original, out.shrunk]) {
      expect(s).toEqual(
        expect.objectContaining({ cpus: expect.any(Number), activeCpus: expect.any(Number), steps: expect.any(Number), switches: expect.any(Number), ops: expect.any(Number) }),
      );
    }
    const { original: a, shrunk: b } = out;
    expect(a.cpus).toBe(readJson<ReplayFile>(at('F.json')).cpus);
    expect(b.cpus).toBe(readJson<ReplayFile>(at('G.json')).cpus);
    expect(b.cpus).toBeLessThanOrEqual(a.cpus);
    if (b.cpus === a.cpus) expect(b.activeCpus).toBeLessThanOrEqual(a.activeCpus);
    if (b.cpus === a.cpus && b.activeCpus === a.activeCpus) expect(b.steps + b.switches + b.ops).toBeLessThanOrEqual(a.steps + a.switches + a.ops);
    expect(out.file).toBe(at('G.json'));
    expect(out.check).toBe(readJson<ReplayFile>(at('F.json')).finding.check);
    const g = readJson<ReplayFile>(at('G.json'));
    expect(g.finding.check).toBe(out.check);
    expect(g.finding.step).toBe(out.shrunk.steps);
    expect(replayShrunk, 'replay G did not run').not.toBeNull();
    expect(replayShrunk!.code, replayShrunk!.stderr).toBe(1);
    expect(json<{ reproduced: boolean }>(replayShrunk!).reproduced).toBe(true);
  });
});

describe('irqwork race: schedule flags refused before anything runs', () => {
  it('--sched pct --trace-out into a missing directory exits 2 with one line naming the flag', () => {
    expectUsageError(traceOutMissingDir, ['--trace-out', '/nonexistent-dir']);
  });

  it('--steps without --sched exits 2 with one line naming both flags', () => {
    expectUsageError(stepsWithoutSched, ['--steps', '--sched']);
  });

  it('--save without --sched exits 2 with one line naming both flags, and writes nothing', () => {
    expectUsageError(saveWithoutSched, ['--save', '--sched']);
    expect(existsSync(at('never.json'))).toBe(false);
  });
});
