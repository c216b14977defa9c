/**
 * `irqwork replay F`: runs a replay file's iteration again under its recorded decisions and says
 * whether the same finding fires at the same step with the same digest — and shows the finding
 * with the complete history of the work it names.
 */
import { UsageError } from '../errors.js';
import { Machine } from '../machine/machine.js';
import { findingHistory } from '../race/history.js';
import { formatTrace, traceEntriesFor } from '../race/trace.js';
import { maxStepsAfterFinding } from '../sched/turns.js';
import { kernelLayoutOf, runStress, type RunResult } from '../stress/kind.js';
import { firstFinding, readReplayFile, replayRunOptions, type ReplayFile } from '../stress/replay-file.js';
import type { Violation } from '../stress/task.js';
import { parseFlagsAndFiles, type Options } from './args.js';
import { checkOutputPath } from './output-path.js';
import { writeTraceOut } from './trace-out.js';

const FLAGS: Options = { json: { type: 'boolean' }, 'trace-out': { type: 'string' } };
/** Events per CPU a replay keeps at most (its rings: 8 MiB per CPU). */
const MAX_ENTRIES = 1 << 18;

const HELP = `usage: irqwork replay F [--json] [--trace-out T.json]

Runs the iteration saved in replay file F (irqwork race --sched … --save F, irqwork shrink)
again, following its recorded scheduling decisions, and checks that the same finding fires at
the same step with the same digest. Prints the finding with the complete history of its work:
every event on it since its last successful claim, and every operation on the lists it was on.

  --json              one JSON object on stdout
  --trace-out T.json  the run's events in the Chrome trace format (ui.perfetto.dev)

exit: 1 the finding reproduced, 3 it did not (the first divergent step is named),
2 bad usage or F is not a replay file`;

export interface ReplayVerdict {
  reproduced: boolean;
  finding: Violation | undefined;
  /** The first step at which the replay went its own way; null if it never did. */
  divergedAt: number | null;
  /** Why it did not reproduce (empty when it did). */
  why: string;
}

/** Runs `file` once, strictly; the run keeps every event when `keepTrace`. */
export async function replayOnce(machine: Machine, file: ReplayFile, keepTrace: boolean): Promise<RunResult> {
  const opts = replayRunOptions(file, false, keepTrace);
  // Rings for the whole run (it goes on after the finding: drain and end-of-run checks), so that
  // none wraps before the finding's history.
  if (keepTrace) opts.traceEntries = traceEntriesFor(Math.min(MAX_ENTRIES, file.finding.step + maxStepsAfterFinding(file.schedule.drainSteps)));
  return runStress(machine, opts);
}

/** Whether a replay's run reproduced its file's finding, and if not, where it went astray. */
export function replayVerdict(file: ReplayFile, r: RunResult): ReplayVerdict {
  const f = firstFinding(r);
  const want = file.finding;
  const s = r.schedule!;
  let divergedAt = s.divergedAt !== null && s.divergedAt <= want.step ? s.divergedAt : null;
  // The digest checkpoints narrow down a divergence the decisions did not show.
  const got = new Map(s.checkpoints);
  let lastGood = 0;
  for (const [step, digest] of file.checkpoints) {
    if (got.get(step) !== digest) {
      if (divergedAt === null || divergedAt > step) divergedAt = lastGood + 1;
      break;
    }
    lastGood = step;
  }
  const same = f !== undefined && f.check === want.check && f.step === want.step && f.digest === want.digest;
  if (same && divergedAt === null) return { reproduced: true, finding: f, divergedAt: null, why: '' };
  const saw = f ? `[${f.check}] at step ${f.step} (digest ${f.digest})` : 'no finding';
  const why =
    `expected [${want.check}] at step ${want.step} (digest ${want.digest}), got ${saw}` +
    (divergedAt !== null ? `; first divergent step: ${divergedAt}` : f ? `; first divergent step: at or before ${Math.min(f.step!, want.step)}` : '');
  return { reproduced: false, finding: f, divergedAt, why };
}

export async function replayCommand(argv: string[]): Promise<number> {
  const { values, files: positional } = parseFlagsAndFiles('replay', argv, FLAGS);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positional.length !== 1) throw new UsageError('usage: irqwork replay F [--json] [--trace-out T.json] (one replay file)');
  const file = readReplayFile(positional[0]!);
  const traceOut = checkOutputPath('trace-out', values['trace-out']);
  const machine = Machine.start(file.cpus);
  let r: RunResult;
  try {
    r = await replayOnce(machine, file, true);
  } finally {
    await machine.close();
  }
  if (traceOut) writeTraceOut(traceOut, r);
  const v = replayVerdict(file, r);
  const history = v.finding ? historyLines(r, v.finding) : [];
  if (values.json) {
    console.log(
      JSON.stringify(
        { command: 'replay', file: positional[0], reproduced: v.reproduced, expected: file.finding, finding: v.finding ?? null, divergedAt: v.divergedAt, why: v.why || null, history, digest: r.schedule!.digest },
        null,
        2,
      ),
    );
  } else {
    const f = v.finding;
    const head = `irqwork replay ${positional[0]}: variant ${file.variant}, ${file.config === 'rt' ? 'PREEMPT_RT' : 'non-RT'}, ${file.cpus} CPUs, ${file.schedule.strategy} seed ${file.seed}, ${file.decisions.length} decisions`;
    const out = [head, v.reproduced ? `reproduced: [${f!.check}] at step ${f!.step}, digest ${f!.digest}` : `!!! did not reproduce: ${v.why}`];
    if (f) {
      out.push('', `[${f.check}] ${f.cpu >= 0 ? `cpu${f.cpu}` : 'machine'}${f.work ? `, work ${f.work}` : ''}, context ${f.context}, step ${f.step}: ${f.message}`);
      out.push(`    history${f.work ? ` of work ${f.work}` : ''} (virtual µs, step):`, ...history.map((l) => `      ${l}`));
    }
    console.log(out.join('\n'));
  }
  return v.reproduced ? 1 : 3;
}

function historyLines(r: RunResult, f: Violation): string[] {
  const mem = kernelLayoutOf(r.options);
  const h = findingHistory(mem, r.trace ?? [], { cpu: f.cpu, work: f.work, step: f.step! });
  const lines = formatTrace(mem, h.lines, 0);
  if (!h.complete && f.work) lines.unshift(`(the trace does not reach back to work ${f.work}'s last claim: this is all it holds)`);
  if (h.lists.length) lines.unshift(`lists: ${h.lists.map((l) => mem.describeHead(l)).join(', ')}`);
  return lines;
}
