/**
 * Controlled schedules (src/sched) on the real CPU threads: a run under pct or random is a
 * function of its arguments (digest, steps, switches, decisions, findings at their steps); the
 * correct variants stay clean under them; the schedule ends the run by itself; findings carry
 * their step and digest; a replay file's strict replay reproduces its finding and a tampered one
 * is reported divergent; a lenient replay runs to completion and records a schedule that replays
 * exactly; a finding's history is its work's story; virtual time and ticks agree; and the reader
 * of replay files refuses what is not one.
 *
 * One 4-CPU machine for the whole file. v2 is found by pct seed 1 at step 187 (rt), and the run
 * ends at step 251: every v2 run here uses seeds whose run ends in a few hundred steps (others
 * spin until the soft-lockup limit, 400 000 steps). No assertion on a wall-clock time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raceOptions } from '../src/cli/race.js';
import { replayVerdict } from '../src/cli/replay.js';
import { UsageError } from '../src/errors.js';
import { CPU_BLOCK_WORDS } from '../src/kernel/layout.js';
import { KernelMemory } from '../src/kernel/memory.js';
import { MachineControl, PHASE_RUNNING } from '../src/machine/control.js';
import { Machine } from '../src/machine/machine.js';
import { findingHistory } from '../src/race/history.js';
import { traceEntriesFor, type TraceLine } from '../src/race/trace.js';
import { H, SchedView, STEP_NS } from '../src/sched/layout.js';
import { runHunt } from '../src/stress/hunt.js';
import { runStress, type RunResult } from '../src/stress/kind.js';
import { defaultRunOptions, type RunOptions } from '../src/stress/options.js';
import { checkReplayFile, firstFinding, replayFileOf, replayRunOptions, type ReplayFile } from '../src/stress/replay-file.js';
import type { Violation } from '../src/stress/task.js';
import { worksPerCpu } from '../src/workload/spec.js';

const CPUS = 4;
const STEPS = 20_000;
const DRAIN_STEPS = 200_000;
const HEX16 = /^[0-9a-f]{16}$/;

type Mode = 'pct' | 'random';

interface Controlled {
  steps?: number;
  stopOnFirst?: boolean;
  keepTrace?: boolean;
  traceEntries?: number;
  hz?: number;
  nohz?: boolean;
}

/** A race run (checks, chaos, stutter) under a controlled schedule, as `irqwork race --sched` makes it. */
function controlled(variant: string, mode: Mode, seed: number, c: Controlled = {}): RunOptions {
  const stopOnFirst = c.stopOnFirst ?? (variant !== 'merged' && variant !== 'current');
  return {
    ...defaultRunOptions(),
    cpus: CPUS,
    variant,
    seed,
    durationMs: 0,
    drainMs: 2000,
    race: raceOptions(stopOnFirst),
    sched: { mode, seed, depth: 3, steps: c.steps ?? STEPS, drainSteps: DRAIN_STEPS, stopOnFirst },
    ...(c.keepTrace ? { keepTrace: true } : {}),
    ...(c.traceEntries ? { traceEntries: c.traceEntries } : {}),
    ...(c.hz !== undefined ? { hz: c.hz } : {}),
    ...(c.nohz !== undefined ? { nohz: c.nohz } : {}),
  };
}

let machine: Machine;
/** Runs shared by several tests: the first run of each set of options (later runs are fresh). */
const memo = new Map<string, Promise<RunResult>>();
function runOnce(o: RunOptions): Promise<RunResult> {
  const key = JSON.stringify(o);
  let p = memo.get(key);
  if (!p) memo.set(key, (p = runStress(machine, o)));
  return p;
}

/** v2, pct seed 1: the file's reference run with a finding. */
const v2Pct = () => runOnce(controlled('v2', 'pct', 1));

/** What must be equal between two runs of the same arguments: findings without their wall-clock parts. */
function findingsOf(r: RunResult) {
  return r.violations.map((v) => ({ check: v.check, cpu: v.cpu, work: v.work, context: v.context, message: v.message, step: v.step, digest: v.digest, info: !!v.info }));
}
const failing = (r: Pick<RunResult, 'violations'>): Violation[] => r.violations.filter((v) => !v.info);
const summary = (r: RunResult) => r.violations.map((v) => `${v.check} cpu${v.cpu} w${v.work} step ${v.step}: ${v.message}`).join('\n');
const layoutOf = (file: ReplayFile) =>
  KernelMemory.create({ nrCpus: file.cpus, nrWorks: file.cpus * worksPerCpu(file.workload), preemptRt: file.config === 'rt', hz: file.hz });
/** A deep copy of a replay file, as a reader would get it back from disk. */
const copyOf = (file: ReplayFile): ReplayFile => JSON.parse(JSON.stringify(file)) as ReplayFile;

beforeAll(() => {
  machine = Machine.start(CPUS);
});

afterAll(async () => {
  await machine?.close();
});

describe('controlled schedules: a run is a function of its arguments', () => {
  it.each([
    ['v2', 'pct'],
    ['v2', 'random'],
    ['merged', 'pct'],
    ['merged', 'random'],
  ] as const)('%s under %s, seed 1, run twice: the same digest, steps, switches, decisions, checkpoints and findings at the same steps', async (variant, mode) => {
    const a = await runOnce(controlled(variant, mode, 1));
    const b = await runStress(machine, controlled(variant, mode, 1));
    const sa = a.schedule!;
    const sb = b.schedule!;
    expect(sa.digest).toMatch(HEX16);
    expect(sb.digest).toBe(sa.digest);
    expect(sb.steps).toBe(sa.steps);
    expect(sb.switches).toBe(sa.switches);
    expect(sb.decisions).toEqual(sa.decisions);
    expect(sb.checkpoints).toEqual(sa.checkpoints);
    expect(sb.virtualNs).toBe(sa.virtualNs);
    expect(findingsOf(b)).toEqual(findingsOf(a));
    expect(b.totals).toEqual(a.totals);
    expect(b.opsPerCpu).toEqual(a.opsPerCpu);
    // Not vacuous: the schedule switched, and v2 found something / merged ran its whole budget.
    expect(sa.switches).toBeGreaterThan(0);
    expect(sa.decisions.length).toBe(sa.switches + 1);
    if (variant === 'v2') expect(failing(a).length, summary(a)).toBeGreaterThan(0);
    else expect(sa.steps).toBeGreaterThanOrEqual(STEPS);
  });

  it.each(['pct', 'random'] as const)('merged under %s: seed 2 gives another digest and other decisions than seed 1', async (mode) => {
    const one = (await runOnce(controlled('merged', mode, 1))).schedule!;
    const two = (await runOnce(controlled('merged', mode, 2))).schedule!;
    expect(two.digest).toMatch(HEX16);
    expect(two.digest).not.toBe(one.digest);
    expect(two.decisions).not.toEqual(one.decisions);
  });
});

describe('controlled schedules: independent of real time', () => {
  /**
   * The main thread opens a run with setPhase(RUNNING), which also kicks every CPU (MACHINE_KICK in
   * its pending-IPI word), while the first turn holder may already run. Here the kick is held back
   * until the schedule has published step `late` (a main thread the OS descheduled that long):
   * the run must come out the same.
   */
  it.each([1, 9])('merged under pct, seed %i, 2000 steps: the same digest and decisions when the main thread kicks the CPUs only at step 150, 300 or 500', async (seed) => {
    const o = controlled('merged', 'pct', seed, { steps: 2000 });
    const prompt = (await runStress(machine, o)).schedule!;
    const kickAll = MachineControl.prototype.kickAll;
    const outcomes: Array<{ late: number; landedAt: number; digest: string; decisions: Array<[number, number]> }> = [];
    try {
      for (const late of [150, 300, 500]) {
        let landedAt = -1;
        MachineControl.prototype.kickAll = function (this: MachineControl) {
          if (this.phase() === PHASE_RUNNING && landedAt < 0) {
            const v = new SchedView(this.mem);
            const until = performance.now() + 300;
            while (performance.now() < until && v.getF64(H.STEP_F64) < late);
            landedAt = v.getF64(H.STEP_F64);
          }
          kickAll.call(this);
        };
        const s = (await runStress(machine, o)).schedule!;
        outcomes.push({ late, landedAt, digest: s.digest, decisions: s.decisions });
      }
    } finally {
      MachineControl.prototype.kickAll = kickAll;
    }
    for (const x of outcomes) {
      const when = `kick held back to step ${x.late}, came at step ${x.landedAt}`;
      expect(x.digest, when).toBe(prompt.digest);
      expect(x.decisions, when).toEqual(prompt.decisions);
    }
  });
});

describe('controlled schedules: the correct variants stay clean', () => {
  const cases = (['merged', 'current'] as const).flatMap((variant) => (['pct', 'random'] as const).flatMap((mode) => [1, 2, 3].map((seed) => [variant, mode, seed] as const)));
  it.each(cases)('%s under %s, seed %i, with checks and chaos: ok, drained, no finding, every CPU worked', async (variant, mode, seed) => {
    const r = await runOnce(controlled(variant, mode, seed));
    expect(r.options.race?.chaos).not.toBeNull();
    expect(failing(r), summary(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.drained).toBe(true);
    const s = r.schedule!;
    expect(s.steps).toBeGreaterThanOrEqual(STEPS);
    expect(s.overflowAt).toBeNull();
    expect(s.divergedAt).toBeNull();
    expect(r.totals.claimed).toBe(r.totals.executed);
    expect(r.totals.executed).toBeGreaterThan(1000);
    for (const ops of r.opsPerCpu) expect(ops).toBeGreaterThan(0);
  });
});

describe('controlled schedules: the schedule ends the run', () => {
  it('a merged run of 5000 steps runs its budget, then its workload stops claiming, it drains, and the accounting check passes', async () => {
    const steps = 5000;
    const r = await runStress(machine, controlled('merged', 'random', 1, { steps, keepTrace: true, traceEntries: traceEntriesFor(steps * 2) }));
    const s = r.schedule!;
    expect(r.drained).toBe(true);
    expect(r.ok, summary(r)).toBe(true);
    expect(s.steps).toBeGreaterThanOrEqual(steps);
    // Ended because the machine was quiet, long before the drain steps ran out.
    expect(s.steps).toBeLessThan(steps + 2000);
    const trace = r.trace!;
    // The rings held the whole run (it starts at the first steps), so "no claim later" means none.
    expect(Math.min(...trace.map((l) => l.step))).toBeLessThan(50);
    const claims = trace.filter((l) => l.event === 'claimOk');
    expect(claims.length).toBe(r.totals.claimed);
    // The workload stops at the budget: what is claimed after it is the tail of operations and
    // callbacks already under way, within a few hundred steps; nothing in the last steps of the run.
    const lastClaim = Math.max(...claims.map((l) => l.step));
    expect(lastClaim).toBeGreaterThan(steps - 500);
    expect(lastClaim).toBeLessThan(steps + 500);
    expect(Math.max(...trace.map((l) => l.step))).toBeLessThanOrEqual(s.steps);
    // Accounting: every claim executed once (and the check ran: it would be a finding).
    expect(r.totals.executed).toBe(r.totals.claimed);
    expect(r.counts.accounting).toBeUndefined();
  });

  it('a v2 run with stop-on-first ends within a few hundred steps of its first finding, far short of its budget', async () => {
    const r = await v2Pct();
    const s = r.schedule!;
    const f = firstFinding(r)!;
    expect(f, summary(r)).toBeDefined();
    expect(s.steps).toBeGreaterThanOrEqual(f.step!);
    expect(s.steps).toBeLessThan(f.step! + 1000);
    expect(s.steps).toBeLessThan(STEPS);
  });
});

describe('controlled schedules: findings', () => {
  it('every finding of a v2 run carries an integer step within the run and a 16-hex-digit digest; what the machine saw at the end carries the last step and digest', async () => {
    const r = await v2Pct();
    const s = r.schedule!;
    expect(r.violations.length).toBeGreaterThan(1);
    for (const v of r.violations) {
      expect(Number.isInteger(v.step), `${v.check}: step ${v.step}`).toBe(true);
      expect(v.step!).toBeGreaterThanOrEqual(0);
      expect(v.step!).toBeLessThanOrEqual(s.steps);
      expect(v.digest).toMatch(HEX16);
    }
    const machineSeen = r.violations.filter((v) => v.cpu === -1);
    for (const v of machineSeen) expect([v.step, v.digest]).toEqual([s.steps, s.digest]);
    // The CPUs' findings came before the end, with the digest of their moment.
    const cpuSeen = r.violations.filter((v) => v.cpu >= 0);
    expect(cpuSeen.length).toBeGreaterThan(0);
    for (const v of cpuSeen) {
      expect(v.step!).toBeLessThan(s.steps);
      expect(v.digest).not.toBe(s.digest);
    }
  });

  it("firstFinding picks v2's earliest failing finding by step, which is not the first in the list", async () => {
    const r = await v2Pct();
    const f = firstFinding(r)!;
    const earliest = Math.min(...failing(r).map((v) => v.step!));
    expect(f.step).toBe(earliest);
    expect(r.violations.indexOf(f)).toBeGreaterThan(0);
    expect(f.step).toBeLessThan(r.violations[0]!.step!);
  });

  it('firstFinding skips informational findings and findings without a step', () => {
    const v = (check: string, step: number | undefined, info = false): Violation => ({
      check,
      cpu: 0,
      work: 1,
      context: 'task',
      message: check,
      ...(step !== undefined ? { step, digest: '0'.repeat(16) } : {}),
      ...(info ? { info: true } : {}),
    });
    expect(firstFinding({ violations: [v('late', 90), v('stranded', 3, true), v('nostep', undefined), v('early', 40), v('later', 41)] })?.check).toBe('early');
    expect(firstFinding({ violations: [v('stranded', 3, true), v('nostep', undefined)] })).toBeUndefined();
  });
});

describe('controlled schedules: replay', () => {
  it("a strict replay of v2's replay file finds the same first finding at the same step and digest, following the same decisions", async () => {
    const r = await v2Pct();
    const file = replayFileOf(r);
    const f = file.finding;
    expect(f.step).toBe(firstFinding(r)!.step);
    expect(file.decisions.length).toBeGreaterThan(2);
    const rr = await runStress(machine, replayRunOptions(copyOf(file), false, true));
    const g = firstFinding(rr)!;
    expect(g, summary(rr)).toBeDefined();
    expect({ check: g.check, cpu: g.cpu, work: g.work, context: g.context, message: g.message, step: g.step, digest: g.digest }).toEqual({
      check: f.check,
      cpu: f.cpu,
      work: f.work,
      context: f.context,
      message: f.message,
      step: f.step,
      digest: f.digest,
    });
    const d = rr.schedule!.divergedAt;
    expect(d === null || d > f.step, `diverged at ${d}`).toBe(true);
    expect(rr.schedule!.decisions.filter(([step]) => step <= f.step)).toEqual(file.decisions);
    expect(rr.schedule!.checkpoints.filter(([step]) => step <= f.step)).toEqual(file.checkpoints);
    expect(replayVerdict(file, rr)).toMatchObject({ reproduced: true, divergedAt: null, why: '' });
  });

  it('a strict replay of a later finding (claim-load-store, pct seed 2, past step 2048) passes every checkpoint up to it', async () => {
    const r = await runOnce(controlled('claim-load-store', 'pct', 2));
    const file = replayFileOf(r);
    expect(file.finding.step).toBeGreaterThan(2048);
    expect(file.checkpoints.length).toBeGreaterThanOrEqual(2);
    for (const [step, digest] of file.checkpoints) {
      expect(step % 1024).toBe(0);
      expect(digest).toMatch(HEX16);
    }
    const rr = await runStress(machine, replayRunOptions(copyOf(file), false, false));
    expect(rr.schedule!.checkpoints.filter(([step]) => step <= file.finding.step)).toEqual(file.checkpoints);
    expect(replayVerdict(file, rr)).toMatchObject({ reproduced: true, divergedAt: null });
    expect(firstFinding(rr)).toMatchObject({ check: file.finding.check, step: file.finding.step, digest: file.finding.digest });
  });

  it("a replay file with a checkpoint's digest changed is reported divergent just after the last good checkpoint", async () => {
    const file = copyOf(replayFileOf(await runOnce(controlled('claim-load-store', 'pct', 2))));
    const [goodStep] = file.checkpoints[0]!;
    file.checkpoints[1]![1] = file.checkpoints[1]![1] === '0'.repeat(16) ? '1'.repeat(16) : '0'.repeat(16);
    const rr = await runStress(machine, replayRunOptions(file, false, false));
    const v = replayVerdict(file, rr);
    expect(v.reproduced).toBe(false);
    expect(v.divergedAt).toBe(goodStep + 1);
    expect(v.why).toContain(`first divergent step: ${goodStep + 1}`);
  });

  it("a replay file with its first switch removed is reported divergent by replayVerdict, not before that switch's step and not after the finding's", async () => {
    const file = copyOf(replayFileOf(await v2Pct()));
    const [removedStep] = file.decisions[1]!;
    file.decisions.splice(1, 1);
    const rr = await runStress(machine, replayRunOptions(file, false, false));
    const v = replayVerdict(file, rr);
    expect(v.reproduced).toBe(false);
    expect(v.divergedAt).not.toBeNull();
    expect(v.divergedAt!).toBeGreaterThanOrEqual(removedStep);
    expect(v.divergedAt!).toBeLessThanOrEqual(file.finding.step);
    expect(v.why).toContain(`first divergent step: ${v.divergedAt}`);
  });

  it("a replay file with a decision moved to a CPU that does not exist is reported divergent at that decision's step", async () => {
    const file = copyOf(replayFileOf(await v2Pct()));
    const i = Math.floor(file.decisions.length / 2);
    const step = file.decisions[i]![0];
    file.decisions[i]![1] = CPUS; // no such CPU: it can never take the turn
    const rr = await runStress(machine, replayRunOptions(file, false, false));
    expect(rr.schedule!.divergedAt).toBe(step);
    const v = replayVerdict(file, rr);
    expect(v.reproduced).toBe(false);
    expect(v.divergedAt).toBe(step);
    expect(step).toBeLessThanOrEqual(file.finding.step);
  });

  it('a replay file with its first switch moved back to the CPU that gave the turn away there (it blocked) is reported divergent at that step', async () => {
    const file = copyOf(replayFileOf(await v2Pct()));
    const [step, to] = file.decisions[1]!;
    const from = file.decisions[0]![1];
    expect(from).not.toBe(to);
    file.decisions[1]![1] = from;
    const rr = await runStress(machine, replayRunOptions(file, false, false));
    const v = replayVerdict(file, rr);
    expect(v.reproduced).toBe(false);
    expect(v.divergedAt).toBe(step);
    expect(v.why).toContain(`first divergent step: ${step}`);
  });
});

describe('controlled schedules: lenient replay', () => {
  let half: ReplayFile;
  let lenient: RunResult;

  beforeAll(async () => {
    const file = copyOf(replayFileOf(await v2Pct()));
    half = { ...file, decisions: file.decisions.filter((_, i) => i % 2 === 0) };
    lenient = await runStress(machine, replayRunOptions(half, true, false));
  }, 60_000);

  it("a lenient replay of v2's file with every other decision dropped runs to its end, never diverges, and records its own decisions", () => {
    const s = lenient.schedule!;
    expect(s.steps).toBeGreaterThan(0);
    expect(s.steps).toBeLessThan(STEPS);
    expect(s.divergedAt).toBeNull();
    expect(s.overflowAt).toBeNull();
    expect(s.decisions.length).toBeGreaterThan(1);
    expect(s.decisions[0]).toEqual(half.decisions[0]);
    // Its schedule is its own: not the one it was given (half of the decisions could not be followed as such).
    expect(s.decisions.filter(([step]) => step <= half.finding.step)).not.toEqual(half.decisions);
  });

  it('a strict replay of what the lenient replay recorded reproduces its finding exactly', async () => {
    const f = firstFinding(lenient);
    expect(f, summary(lenient)).toBeDefined(); // v2 is found on this schedule too
    const again = replayFileOf(lenient);
    const rr = await runStress(machine, replayRunOptions(copyOf(again), false, false));
    expect(replayVerdict(again, rr)).toMatchObject({ reproduced: true, divergedAt: null });
    expect(firstFinding(rr)).toMatchObject({ check: f!.check, step: f!.step, digest: f!.digest });
  });
});

describe("controlled schedules: a finding's history", () => {
  it("the history of v2's finding, from the replay's trace, holds the work's claimOk and listAdd, and only events on the work, on its lists, or IPIs to their CPUs", async () => {
    const file = replayFileOf(await v2Pct());
    const rr = await runStress(machine, replayRunOptions(file, false, true));
    const f = firstFinding(rr)!;
    expect(f.work).toBeGreaterThan(0);
    const trace: TraceLine[] = rr.trace!;
    const mem = layoutOf(file);
    const h = findingHistory(mem, trace, { cpu: f.cpu, work: f.work, step: f.step! });
    expect(h.complete).toBe(true);
    expect(h.works).toEqual([f.work]);
    expect(h.lists.length).toBeGreaterThan(0);
    // The list the work was on is the one the finding names.
    expect(h.lists.some((head) => f.message.includes(mem.describeHead(head)))).toBe(true);
    const mine = h.lines.filter((l) => l.work === f.work);
    expect(mine.some((l) => l.event === 'claimOk')).toBe(true);
    expect(mine.some((l) => l.event === 'listAdd' && h.lists.includes(l.arg))).toBe(true);
    const claim = mine.findIndex((l) => l.event === 'claimOk');
    const add = mine.findIndex((l) => l.event === 'listAdd');
    expect(claim).toBeLessThan(add);
    const listCpus = new Set(h.lists.map((head) => Math.floor((head - mem.layout.cpuBase) / CPU_BLOCK_WORDS)));
    for (const l of h.lines) {
      const belongs =
        l.work === f.work ||
        ((l.event === 'listAdd' || l.event === 'listDelAll') && h.lists.includes(l.arg)) ||
        (l.event === 'ipiSend' && listCpus.has(l.arg)) ||
        (l.event === 'ipiTaken' && listCpus.has(l.cpu));
      expect(belongs, JSON.stringify(l)).toBe(true);
      expect(l.step).toBeLessThanOrEqual(f.step!);
    }
    // In happening order, and a selection: the trace holds far more before the finding.
    for (let k = 1; k < h.lines.length; k++) expect(h.lines[k]!.seq).toBeGreaterThan(h.lines[k - 1]!.seq);
    expect(trace.filter((l) => l.step <= f.step!).length).toBeGreaterThan(h.lines.length * 5);
  });
});

describe('controlled schedules: hung tasks', () => {
  it('a task nothing wakes is a hung task at the end, not a soft lockup, even with a periodic tick (whose ticks would wake its CPU for ever)', async () => {
    const r = await runStress(machine, controlled('sync-never-woken', 'pct', 1, { steps: 5000, stopOnFirst: false, nohz: false }));
    const messages = r.violations.map((v) => v.message);
    expect(messages.some((m) => m.includes('hung task at the end of the run'))).toBe(true);
    expect(messages.filter((m) => m.includes('soft lockup'))).toEqual([]);
    // The schedule let go well before the lockup limit (200 000 steps after STOP).
    expect(r.schedule!.steps).toBeLessThan(5000 + DRAIN_STEPS);
  }, 60_000);
});

describe('controlled schedules: virtual time', () => {
  it.each([
    ['pct', true, 1000],
    ['random', false, 1000],
    ['pct', false, 250],
  ] as const)('merged under %s (nohz %s) at HZ %i: no CPU ticks more often than virtual time allows, ticking CPUs keep up, virtual time ≥ steps × STEP_NS', async (mode, nohz, hz) => {
    const r = await runOnce(controlled('merged', mode, 1, { nohz, hz }));
    const s = r.schedule!;
    expect(r.ok, summary(r)).toBe(true);
    expect(s.virtualNs).toBeGreaterThanOrEqual(s.steps * STEP_NS);
    const periodNs = 1e9 / hz;
    const allowed = s.virtualNs / periodNs + 1;
    for (const c of r.perCpu) {
      expect(c.ticks, `cpu${c.cpu}`).toBeLessThanOrEqual(allowed);
      // Without NO_HZ every CPU ticks all along (chaos may jitter a tick or two).
      if (!nohz) expect(c.ticks, `cpu${c.cpu}`).toBeGreaterThanOrEqual(Math.floor(s.virtualNs / periodNs) - 2);
    }
    expect(r.totals.ticks).toBeGreaterThan(0);
  });
});

describe('controlled schedules: a hunt', () => {
  it('a pct hunt of 3 iterations of 2000 steps runs seeds seed..seed+2 and gives the same hunt digest twice', async () => {
    const base = controlled('merged', 'pct', 7, { steps: 2000 });
    const hunt = { budgetMs: 600_000, iterations: 3, stopOnFirst: false, keepTrace: false };
    const a = await runHunt(machine, base, hunt);
    const b = await runHunt(machine, base, hunt);
    expect(a.iterations).toBe(3);
    expect(a.failingIterations).toEqual([]);
    expect(a.reportedIteration).toBe(2);
    expect(a.reported.options.seed).toBe(9);
    expect(a.reported.options.sched!.seed).toBe(9);
    expect(a.digest).toMatch(HEX16);
    expect(b.digest).toBe(a.digest);
    expect([b.steps, b.switches, b.executed]).toEqual([a.steps, a.switches, a.executed]);
    // The last iteration is the run of seed 9 alone.
    const alone = await runStress(machine, controlled('merged', 'pct', 9, { steps: 2000 }));
    expect(alone.schedule!.digest).toBe(a.reported.schedule!.digest);
  });
});

describe('checkReplayFile', () => {
  let good: ReplayFile;
  beforeAll(async () => {
    good = copyOf(replayFileOf(await v2Pct()));
  }, 60_000);

  it('accepts the replay file replayFileOf wrote, after a JSON round trip', () => {
    expect(checkReplayFile(copyOf(good), 'F.json')).toEqual(good);
  });

  const BAD: Array<[string, (f: Record<string, unknown>) => unknown, string]> = [
    ['null', () => null, 'not a JSON object'],
    ['a JSON array', () => [], 'not a JSON object'],
    ['another format', (f) => ({ ...f, format: 'chrome-trace' }), '"format"'],
    ['a newer version', (f) => ({ ...f, version: 2 }), 'version 2'],
    ['a decision naming CPU cpus', (f) => ({ ...f, decisions: [...(f.decisions as number[][]), [10_000, CPUS]] }), '"decisions"'],
    ['a decision naming CPU -1', (f) => ({ ...f, decisions: [[0, -1]] }), '"decisions"'],
    ['an unknown variant', (f) => ({ ...f, variant: 'v9' }), 'unknown variant "v9"'],
    ['no finding', (f) => ({ ...f, finding: undefined }), '"finding"'],
    // Numbers the run would turn into waits: a NaN or negative one would stall virtual time.
    ['a negative hotplug period', (f) => ({ ...f, hotplug: { everyMs: -5 } }), '"hotplug.everyMs"'],
    ['a chaos delay that is not a number', (f) => ({ ...f, race: { ...(f.race as object), chaos: { ...((f.race as { chaos: object }).chaos), taskDelayUs: 'x' } } }), '"race.chaos.taskDelayUs"'],
    ['no race key (it must be null or an object)', (f) => ({ ...f, race: undefined }), '"race"'],
  ];
  it.each(BAD)('refuses %s with a one-line UsageError naming the file', (_what, spoil, mentions) => {
    const raw = spoil(copyOf(good) as unknown as Record<string, unknown>);
    let err: unknown;
    try {
      checkReplayFile(raw, 'F.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).toContain('F.json: not a replay file');
    expect(message).toContain(mentions);
    expect(message).not.toContain('\n');
  });
});
