import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface WorksFigure {
  worksPerSec: number;
  measuredWorksPerSec: number[];
  coldWorksPerSec: number;
  warmupRuns: number;
  warmupMs: number;
  warmupCapped: boolean;
}

interface BenchDoc {
  command: string;
  ratios: Record<string, number | null>;
  queueCost: { floorNs: number; claimOkNs: number; pendingNs: number };
  handoff: Record<string, { count: number; p50: number }>;
  remote: Record<string, { count: number; p50: number }>;
  works: Array<{ cpus: number; rt: WorksFigure | null; nort: WorksFigure | null; problems: string[] }>;
  latency: Record<string, { classes: Record<string, unknown> }>;
  startup: {
    cpus64Ms: number | null;
    cpus256Ms: number | null;
    rssPerCpuMb: number;
    points: Array<{ cpus: number; readyMs: number; cpuMs: number; rssPerCpuMb: number; codeCache: Record<string, number> }>;
  };
}

// One `irqwork bench --quick` for the whole file: it starts its own workers, as a user's run does.
const dir = mkdtempSync(join(tmpdir(), 'irqwork-bench-test-'));
const svgFile = join(dir, 'bench.svg');
let run: { code: number; stdout: string; stderr: string };
let doc: BenchDoc;

beforeAll(async () => {
  run = await new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'bench', '--quick', '--json', '--svg', svgFile],
      { cwd: ROOT, timeout: 55_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
  doc = JSON.parse(run.stdout) as BenchDoc;
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('irqwork bench --quick', () => {
  it('completes with exit 0, JSON on stdout and no progress noise on a non-terminal stderr', () => {
    expect(run.code).toBe(0);
    expect(doc.command).toBe('bench');
    expect(run.stderr).toBe('');
  });

  it('has a ratios object beside the raw figures', () => {
    const finite = ['queueVsFloor', 'queuePendingVsFloor', 'remoteBusyVsSpin', 'skeletonVsSpin', 'remoteBusyVsSkeleton', 'remoteIdleVsNotify', 'remoteIdleVsNotifyIdle', 'postMessageVsRemoteBusy', 'tickBound2vs1', 'tickBound2vs1NonRt', 'throughputVsSkeleton', 'throughputVsSkeletonNonRt', 'cpuBound2vs1', 'cpuBound2vs1NonRt'];
    for (const name of finite) {
      expect(doc.ratios[name], name).toBeTypeOf('number');
      expect(doc.ratios[name]! > 0 && Number.isFinite(doc.ratios[name]), name).toBe(true);
    }
    for (const cls of ['LocalHard', 'LocalLazy', 'LocalThreaded', 'RemoteHard', 'RemoteThreaded']) {
      expect(doc.ratios[`rtVsNonRt${cls}`], cls).toBeTypeOf('number');
      expect(doc.ratios[`rtVsNonRt${cls}Busy`], cls).toBeTypeOf('number');
    }
    // --quick measures 1 and 2 CPUs only: no 64-CPU point to compare.
    expect(doc.ratios.tickBound64vs2).toBeNull();
    expect(doc.ratios.cpuBound64vs2).toBeNull();
    // The old names of the tick-bound ratios are gone (docs/LATENCY.md lists the renames).
    expect(doc.ratios.works2vs1).toBeUndefined();
    expect(doc.queueCost.claimOkNs).toBeGreaterThan(0);
    expect(Object.keys(doc.handoff)).toEqual(['spinOneWay', 'skeletonOneWay', 'notifyWaitOneWay', 'notifyWaitIdleOneWay', 'postMessageOneWay', 'piscinaRunRoundTrip']);
    for (const h of Object.values(doc.handoff)) expect(h.count).toBeGreaterThan(0);
    expect(doc.remote.busy!.count).toBeGreaterThan(0);
    expect(doc.remote.idle!.count).toBeGreaterThan(0);
    expect(doc.works.map((w) => w.cpus)).toEqual([1, 2]);
    for (const w of doc.works) {
      // No failed run. Whether the OS gave the short --quick runs steady shares of the cores is
      // not the model's to promise: an unsteady figure is listed, and that is all.
      expect(w.problems.filter((p) => !/not a steady state/.test(p)), `${w.cpus} CPUs`).toEqual([]);
      for (const f of [w.rt!, w.nort!]) {
        expect(f.worksPerSec).toBeGreaterThan(0);
        // The figure is the median of the measured runs.
        expect(f.measuredWorksPerSec).toHaveLength(3);
        expect([...f.measuredWorksPerSec].sort((a, b) => a - b)[1]).toBe(f.worksPerSec);
        expect(f.coldWorksPerSec).toBeGreaterThan(0);
        // The cold run is the first of the warm-up; the measured run comes after it.
        expect(f.warmupRuns).toBeGreaterThanOrEqual(1);
        expect(f.warmupMs).toBeGreaterThan(0);
      }
    }
    expect(Object.keys(doc.latency)).toEqual(['rtBusy', 'rtIdle', 'nortBusy', 'nortIdle']);
  });

  it('has the start-up figures: 16 CPUs only with --quick', () => {
    expect(doc.startup.points.map((p) => p.cpus)).toEqual([16]);
    expect(doc.startup.points[0]!.readyMs).toBeGreaterThan(0);
    expect(doc.startup.cpus64Ms).toBeNull();
    expect(doc.startup.cpus256Ms).toBeNull();
    expect(doc.startup.rssPerCpuMb).toBe(doc.startup.points[0]!.rssPerCpuMb);
    expect(doc.startup.points[0]!.cpuMs).toBeGreaterThan(0);
    // A 1-CPU machine ran before and left the bundle's code cache: every worker of the point used it.
    expect(doc.startup.points[0]!.codeCache).toEqual({ accepted: 16, rejected: 0, absent: 0 });
  });

  it('writes the picture', () => {
    const svg = readFileSync(svgFile, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(8);
  });
});
