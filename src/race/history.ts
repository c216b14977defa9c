/**
 * The complete history of the work(s) a finding names, from a whole-run trace (a replay keeps
 * every event): every event on the work since its last successful claim before the finding, and
 * every list operation on the lists it was on meanwhile — with the IPIs sent to and taken by those
 * lists' CPUs, which is how a list gets run. When an earlier claim of the work has not been run to
 * its end by then (its callback never finished: the work may still sit on a list from it), the
 * history reaches back to the first such claim: that is where the story of the finding begins.
 * A finding that names no work gets its CPU's last events instead.
 */
import { CPU_BLOCK_WORDS } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';
import type { TraceLine } from './trace.js';

/** Events shown for a finding without a work: its CPU's last ones. */
const CPU_TAIL = 48;

export interface FindingRef {
  cpu: number;
  work: number;
  step: number;
}

export interface History {
  lines: TraceLine[];
  /** The works followed, and the lists (head words) they were on. */
  works: number[];
  lists: number[];
  /** False when the trace does not reach back to the work's last claim (its rings wrapped). */
  complete: boolean;
}

/** `lines` in happening order (readTrace), `mem` only for the layout (which CPU a list is on). */
export function findingHistory(mem: KernelMemory, lines: readonly TraceLine[], f: FindingRef): History {
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.step > f.step) end--;
  if (f.work === 0) {
    const mine = lines.slice(0, end).filter((l) => l.cpu === f.cpu || f.cpu < 0);
    return { lines: mine.slice(-CPU_TAIL), works: [], lists: [], complete: true };
  }
  // The first claim after the work's last finished callback (or its last claim, if none after).
  let start = -1;
  for (let k = end - 1; k >= 0; k--) {
    const l = lines[k]!;
    if (l.work !== f.work) continue;
    if (l.event === 'claimOk') start = k;
    else if (l.event === 'callbackEnd' && start >= 0) break;
  }
  const complete = start >= 0;
  if (start < 0) start = 0;
  const window = lines.slice(start, end);
  const lists = [...new Set(window.filter((l) => l.event === 'listAdd' && l.work === f.work && l.arg !== 0).map((l) => l.arg))];
  const listCpus = new Set(lists.map((head) => Math.floor((head - mem.layout.cpuBase) / CPU_BLOCK_WORDS)));
  const picked = window.filter(
    (l) =>
      l.work === f.work ||
      ((l.event === 'listAdd' || l.event === 'listDelAll') && lists.includes(l.arg)) ||
      (l.event === 'ipiSend' && listCpus.has(l.arg)) ||
      (l.event === 'ipiTaken' && listCpus.has(l.cpu)),
  );
  return { lines: picked, works: [f.work], lists, complete };
}
