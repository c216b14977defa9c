import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LatencyBucket, LatencySummary } from '../src/stats/histogram.js';
import { formatHistogramBlocks, splitHistogramBlocks } from '../src/cli/latency-histfile.js';
import { runLatency } from '../src/latency/kind.js';
import { Machine } from '../src/machine/machine.js';
import { defaultLatencyOptions } from '../src/latency/options.js';
import { latencyJson } from '../src/cli/latency-output.js';
import type { LatencyRun } from '../src/latency/result.js';
import { parseHistogramBlock, toMicrosecondRows } from '../src/stats/cyclictest.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HISTOGRAM_US = 40;

// One machine and one short RT and non-RT run for the whole file (workers start once).
let machine: Machine;
const runs: LatencyRun[] = [];

beforeAll(async () => {
  machine = Machine.start(2);
  for (const preemptRt of [true, false]) {
    runs.push(
      await runLatency(machine, { ...defaultLatencyOptions(), cpus: 2, preemptRt, durationMs: 600, warmupMs: 100, costRounds: 10 }),
    );
  }
});

afterAll(async () => {
  await machine?.close();
});

describe('latency classes', () => {
  it('measures all five classes on RT and the three hard/lazy ones on non-RT, each with samples', () => {
    const [rt, nort] = runs;
    expect(rt!.classes.map((c) => c.cls.id)).toEqual(['localHard', 'localLazy', 'localThreaded', 'remoteHard', 'remoteThreaded']);
    expect(nort!.classes.map((c) => c.cls.id)).toEqual(['localHard', 'localLazy', 'remoteHard']);
    for (const run of runs) {
      for (const c of run.classes) expect(c.all.count, `${c.cls.id} has samples`).toBeGreaterThan(0);
      expect(run.warnings).toEqual([]);
    }
  });

  it('records each sample on the CPU that ran the callback and merges the CPUs into the total', () => {
    for (const run of runs) {
      for (const c of run.classes) {
        expect(c.perCpu.map((p) => p.cpu)).toEqual([0, 1]);
        expect(c.perCpu.reduce((s, p) => s + p.histogram.count, 0)).toBe(c.all.count);
      }
    }
  });

  it('times the queue call in batches: claim succeeds, already pending and the floor', () => {
    for (const run of runs) {
      // 10 rounds per CPU, one batch of each kind per round.
      expect(run.queueCost.floor.count).toBe(20);
      expect(run.queueCost.claimOk.count).toBe(20);
      expect(run.queueCost.pending.count).toBe(20);
    }
  });
});

describe('cyclictest histogram blocks of a real run', () => {
  it('parse back to the same counts, row by row, per class and CPU', () => {
    const blocks = splitHistogramBlocks(formatHistogramBlocks(runs, HISTOGRAM_US));
    expect(blocks.map((b) => `${b.config}:${b.classId}`)).toEqual([
      'rt:localHard', 'rt:localLazy', 'rt:localThreaded', 'rt:remoteHard', 'rt:remoteThreaded',
      'nort:localHard', 'nort:localLazy', 'nort:remoteHard',
    ]);
    for (const block of blocks) {
      const run = runs.find((r) => (r.options.preemptRt ? 'rt' : 'nort') === block.config)!;
      const cls = run.classes.find((c) => c.cls.id === block.classId)!;
      const parsed = parseHistogramBlock(block.text);
      expect(parsed.buckets.length).toBe(HISTOGRAM_US);
      cls.perCpu.forEach((p, column) => {
        const rows = toMicrosecondRows(p.histogram, HISTOGRAM_US);
        expect(parsed.buckets.map((row) => row[column])).toEqual(rows.rows);
        expect(parsed.totals[column]! + parsed.overflows[column]!).toBe(p.histogram.count);
      });
    }
  });
});

describe('latency JSON', () => {
  it('gives per class and CPU a count equal to its bucket sum, and ordered percentiles', () => {
    const doc = latencyJson(runs, machine.loader) as {
      results: Record<string, { classes: Record<string, { perCpu: Summary[]; all: Summary }> }>;
    };
    expect(Object.keys(doc.results)).toEqual(['rt', 'nort']);
    expect(Object.keys(doc.results.rt!.classes)).toHaveLength(5);
    expect(Object.keys(doc.results.nort!.classes)).toHaveLength(3);
    for (const result of Object.values(doc.results)) {
      for (const c of Object.values(result.classes)) {
        for (const s of [...c.perCpu, c.all]) {
          expect(s.buckets.reduce((sum, b) => sum + b.count, 0)).toBe(s.count);
          const ordered = [s.min, s.p50, s.p90, s.p99, s.p999, s.max];
          expect([...ordered].sort((a, b) => a - b)).toEqual(ordered);
          expect(s.avg).toBeGreaterThanOrEqual(s.min);
          expect(s.avg).toBeLessThanOrEqual(s.max);
        }
        expect(c.perCpu.reduce((sum, s) => sum + s.count, 0)).toBe(c.all.count);
      }
    }
  });
});

/** One class and CPU in the JSON output: the summary plus its histogram buckets. */
type Summary = LatencySummary & { buckets: LatencyBucket[] };

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('irqwork latency with bad flags', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--cpus', '0'], /--cpus/],
    [['--config', 'fast'], /--config/],
    [['--busy', '--idle'], /--busy and --idle/],
    [['-h', 'lots'], /--histogram/],
    [['--histfile', '/tmp/h.txt'], /--histfile needs -h/],
    [['--duration', '-1'], /--duration/],
    [['--svg', '/no/such/dir/x.svg'], /--svg/],
    [['--frobnicate'], /frobnicate/],
    // Output paths are tried before anything is measured: --duration 600 could not end within
    // the child's timeout, so exit 2 here means nothing ran.
    [['-h', '10', '--histfile', '/proc/x', '--duration', '600'], /^--histfile: (cannot write "\/proc\/x"|directory "\/proc" does not exist)/],
    [['-h', '10', '--histfile', '/no/such/dir/h.txt', '--duration', '600'], /^--histfile: directory "\/no\/such\/dir" does not exist$/],
    [['--svg', ROOT, '--duration', '600'], /^--svg: .* is a directory$/],
    [['--svg', `${ROOT}package.json/x.svg`, '--duration', '600'], /^--svg: cannot write .*package\.json" is not a directory\)$/],
  ];

  it('exit 2 with one line on stderr naming the flag, nothing on stdout', async () => {
    const results = await Promise.all(cases.map(([args]) => cli(['latency', ...args])));
    results.forEach((r, i) => {
      const [args, names] = cases[i]!;
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(names);
      expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/);
    });
  });
});
