/**
 * Shrinking a replay, delta-debugging style: candidates that do less — a machine with fewer
 * CPUs, leave a CPU's workload out (it stays idle from the start), let a CPU perform fewer
 * operations, drop scheduling decisions — are run as lenient replays (a decision that cannot be taken any more
 * is replaced by a fixed choice). A candidate is kept when it still raises the same check and is
 * smaller; what it really did (its own recorded decisions) becomes the new replay, so the result
 * replays exactly. Bounded by a wall-clock budget; the input must reproduce first.
 */
import type { KernelMemory } from '../kernel/memory.js';
import type { Machine } from '../machine/machine.js';
import { findingHistory } from '../race/history.js';
import { traceEntriesFor, type TraceLine } from '../race/trace.js';
import { maxStepsAfterFinding } from '../sched/turns.js';
import { runStress, type RunResult } from './kind.js';
import { firstFinding, replayFileOf, replayRunOptions, type ReplayFile } from './replay-file.js';

/** Events per CPU a shrinking run keeps (its history is counted from them). */
const MAX_ENTRIES = 1 << 18;

/** How big a reproduction is. */
export interface ShrinkSize {
  /** The machine's CPUs. */
  cpus: number;
  /** CPUs with an event of the kernel's before the finding (not only ticks and idling). */
  activeCpus: number;
  /** Steps until the finding. */
  steps: number;
  switches: number;
  /** Operations the workloads performed. */
  ops: number;
  /** Events in the finding's history. */
  events: number;
}

export interface ShrinkResult {
  original: ShrinkSize;
  shrunk: ShrinkSize;
  file: ReplayFile;
  /** Candidates run, and how many were kept. */
  tries: number;
  kept: number;
}

interface Candidate {
  file: ReplayFile;
  size: ShrinkSize;
}

/** Thrown when the input replay does not reproduce (shrink exits 3). */
export class DoesNotReproduce extends Error {}

/** The kernel's own events (a CPU that only ticked and idled is not part of the story). */
const QUIET_EVENTS = new Set(['tick', 'irqExit', 'idleEnter', 'idleExit', 'threadRun', 'threadSleep', 'wakeup']);

function sizeOf(mem: KernelMemory, file: ReplayFile, r: RunResult): ShrinkSize {
  const f = file.finding;
  const trace: readonly TraceLine[] = r.trace ?? [];
  const active = new Set(trace.filter((l) => l.step <= f.step && !QUIET_EVENTS.has(l.event)).map((l) => l.cpu));
  const history = findingHistory(mem, trace, { cpu: f.cpu, work: f.work, step: f.step });
  return {
    cpus: file.cpus,
    activeCpus: active.size,
    steps: f.step,
    switches: file.decisions.length - 1,
    ops: r.opsPerCpu.reduce((a, b) => a + b, 0),
    events: history.lines.length,
  };
}

/** `file` on a machine of `cpus` CPUs: the decisions for the CPUs it still has, the rest as they come. */
function withCpus(file: ReplayFile, cpus: number): ReplayFile {
  return {
    ...file,
    cpus,
    decisions: file.decisions.filter(([, cpu]) => cpu < cpus),
    opsLimit: file.opsLimit ? file.opsLimit.slice(0, cpus) : null,
  };
}

/** Smaller: fewer CPUs in the machine, else fewer active, else less of steps, switches and operations together. */
function smaller(a: ShrinkSize, b: ShrinkSize): boolean {
  if (a.cpus !== b.cpus) return a.cpus < b.cpus;
  if (a.activeCpus !== b.activeCpus) return a.activeCpus < b.activeCpus;
  return a.steps + a.switches + a.ops < b.steps + b.switches + b.ops;
}

/** `machineFor(cpus)`: a machine of that many CPUs (a candidate may have fewer than the input). */
export async function shrinkReplay(
  machineFor: (cpus: number) => Machine,
  layout: KernelMemory,
  input: ReplayFile,
  budgetMs: number,
  strictReplay: (file: ReplayFile) => Promise<{ reproduced: boolean; run: RunResult }>,
  onTry: (tries: number, kept: number, best: ShrinkSize) => void = () => {},
): Promise<ShrinkResult> {
  const start = performance.now();
  const first = await strictReplay(input);
  if (!first.reproduced) throw new DoesNotReproduce('the input replay does not reproduce its finding');
  const original: Candidate = { file: input, size: sizeOf(layout, input, first.run) };
  let best = original;
  let bestOps = first.run.opsPerCpu;
  let tries = 0;
  let kept = 0;
  const timeLeft = () => performance.now() - start < budgetMs;

  /** Runs `file` leniently; it becomes the best when it raises the same check and is smaller. */
  const attempt = async (file: ReplayFile): Promise<boolean> => {
    if (!timeLeft()) return false;
    tries++;
    const opts = replayRunOptions(file, true, true);
    opts.traceEntries = traceEntriesFor(Math.min(MAX_ENTRIES, best.size.steps + maxStepsAfterFinding(file.schedule.drainSteps)));
    const r = await runStress(machineFor(file.cpus), opts);
    const f = firstFinding(r);
    let ok = false;
    if (f && f.check === input.finding.check && r.schedule && (r.schedule.overflowAt === null || r.schedule.overflowAt > f.step!)) {
      const next = replayFileOf(r);
      const size = sizeOf(layout, next, r);
      if (smaller(size, best.size)) {
        best = { file: next, size };
        bestOps = r.opsPerCpu;
        kept++;
        ok = true;
      }
    }
    onTry(tries, kept, best.size);
    return ok;
  };
  const withOps = (file: ReplayFile, cpu: number, limit: number): ReplayFile => {
    const opsLimit = file.opsLimit ? [...file.opsLimit] : bestOps.map((n) => n);
    opsLimit[cpu] = limit;
    return { ...file, opsLimit };
  };

  // A machine with fewer CPUs: a different run (which works and targets a CPU draws depend on
  // the CPU count), but if it raises the same check it is the smaller reproduction.
  for (let cpus = 2; cpus < input.cpus && timeLeft(); cpus++) if (await attempt(withCpus(best.file, cpus))) break;
  for (let pass = 0; pass < 2 && timeLeft(); pass++) {
    // (A shorter step budget cuts nothing: a replay already stops its workload at the first
    // finding.) Leave whole CPUs out, then cut each CPU's operations down by halves.
    for (let cpu = 0; cpu < best.file.cpus; cpu++) if ((best.file.opsLimit?.[cpu] ?? 1) > 0) await attempt(withOps(best.file, cpu, 0));
    for (let cpu = 0; cpu < best.file.cpus; cpu++) {
      let limit = best.file.opsLimit?.[cpu] ?? bestOps[cpu] ?? 0;
      while (limit > 0 && (await attempt(withOps(best.file, cpu, Math.floor(limit / 2))))) limit = best.file.opsLimit![cpu]!;
    }
    // Drop scheduling decisions: chunks of halving size (ddmin); the first one names who starts.
    for (let chunk = Math.max(1, Math.floor((best.file.decisions.length - 1) / 2)); chunk >= 1 && timeLeft(); chunk = Math.floor(chunk / 2)) {
      for (let at = 1; at < best.file.decisions.length && timeLeft(); ) {
        const d = best.file.decisions;
        if (!(await attempt({ ...best.file, decisions: [...d.slice(0, at), ...d.slice(at + chunk)] }))) at += chunk;
      }
    }
  }
  return { original: original.size, shrunk: best.size, file: best.file, tries, kept };
}
