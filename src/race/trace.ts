/**
 * Per-CPU trace rings in the shared memory: the last events of every CPU (TRACE_ENTRIES, or as
 * many as the run asks for: a replay keeps its whole run), on one clock, so a finding can show
 * what every CPU did before it, merged in time order.
 *
 *   per CPU: [ head line: index of the next slot (owner writes) ]
 *            [ entries × 8 words: timeNs (float64, words 0-1), event, work, arg, context,
 *              step, sequence number ]
 *
 * Under a controlled schedule the step and a global sequence number (in the order the events
 * really happened: one CPU runs at a time) come from the schedule, which also folds every event
 * into the run's digest; in free mode both are 0 and the merge is by time.
 *
 * Only the owning CPU writes its ring (plain stores); readers copy it racily, which is fine for a
 * report: an entry being overwritten while read shows up as one odd line, never as a crash.
 */
import { CONTEXT_NAMES, type SimCpu } from '../cpu/sim-cpu.js';
import { WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export const TRACE_ENTRIES = 1024;
const ENTRY_WORDS = 8;

export const TraceEvent = {
  queue: 1,
  queueOn: 2,
  claimOk: 3,
  claimFail: 4,
  listAdd: 5,
  listDelAll: 6,
  ipiSend: 7,
  ipiTaken: 8,
  tick: 9,
  wakeup: 10,
  callbackStart: 11,
  callbackEnd: 12,
  syncStart: 13,
  syncEnd: 14,
  free: 15,
  nmi: 16,
  busyClear: 17,
  workloadIrq: 18,
  irqExit: 19,
  nmiExit: 20,
  threadRun: 21,
  threadSleep: 22,
  idleEnter: 23,
  idleExit: 24,
} as const;
const EVENT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TraceEvent).map(([k, v]) => [v, k]));

/** A trace region of `entries` (a power of two) per CPU. */
export function traceRegion(nrCpus: number, entries = TRACE_ENTRIES): ExtraRegion {
  if (entries < 1 || (entries & (entries - 1)) !== 0) throw new Error(`trace entries must be a power of two, got ${entries}`);
  return { name: 'trace', words: nrCpus * (WORDS_PER_LINE + entries * ENTRY_WORDS) };
}

/** The smallest power of two ≥ n (trace capacities). */
export function traceEntriesFor(n: number): number {
  let e = TRACE_ENTRIES;
  while (e < n) e *= 2;
  return e;
}

/** Entries per CPU of the memory's trace region (0 without one). */
function entriesOf(mem: KernelMemory): number {
  const region = mem.layout.extra.trace;
  return region ? (region.words / mem.cfg.nrCpus - WORDS_PER_LINE) / ENTRY_WORDS : 0;
}

/** What a controlled schedule adds to each event: its step, its place in the run, the digest. */
export interface TraceStamp {
  step(): number;
  /** Folds the event's words into the digest and returns its global sequence number. */
  stamp(step: number, head: number, work: number): number;
}

export class TraceRing {
  private readonly base: number;
  private readonly mask: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private next = 0;

  constructor(
    mem: KernelMemory,
    private readonly cpu: SimCpu,
    private readonly sched: TraceStamp | null = null,
  ) {
    const region = mem.layout.extra.trace;
    if (!region) throw new Error('memory has no trace region');
    const entries = entriesOf(mem);
    this.mask = entries - 1;
    this.base = region.base + cpu.id * (WORDS_PER_LINE + entries * ENTRY_WORDS);
    this.i32 = mem.i32;
    this.f64 = mem.f64;
  }

  record(event: number, work: number, arg = 0): void {
    const slot = this.base + WORDS_PER_LINE + (this.next & this.mask) * ENTRY_WORDS;
    const context = this.cpu.context();
    this.f64[slot / 2] = this.cpu.nowNs();
    this.i32[slot + 2] = event;
    this.i32[slot + 3] = work;
    this.i32[slot + 4] = arg;
    this.i32[slot + 5] = context;
    if (this.sched !== null) {
      const step = this.sched.step();
      this.i32[slot + 6] = step;
      this.i32[slot + 7] = this.sched.stamp(step, (this.cpu.id << 16) | (context << 8) | event, work);
    }
    this.next++;
    this.i32[this.base] = this.next;
  }
}

export interface TraceLine {
  timeNs: number;
  /** Controlled schedules: the step, and the event's place in the whole run (else 0). */
  step: number;
  seq: number;
  cpu: number;
  event: string;
  work: number;
  arg: number;
  context: string;
}

/**
 * The last `perCpu` events of every CPU (Infinity: all the ring holds), merged in the order they
 * happened: by sequence number under a controlled schedule, by time otherwise.
 */
export function readTrace(mem: KernelMemory, perCpu = 12): TraceLine[] {
  const region = mem.layout.extra.trace;
  if (!region) return [];
  const entries = entriesOf(mem);
  const out: TraceLine[] = [];
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const base = region.base + cpu * (WORDS_PER_LINE + entries * ENTRY_WORDS);
    const count = mem.i32[base]!;
    for (let k = Math.max(0, count - Math.min(perCpu, entries)); k < count; k++) {
      const slot = base + WORDS_PER_LINE + (k & (entries - 1)) * ENTRY_WORDS;
      out.push({
        timeNs: mem.f64[slot / 2]!,
        step: mem.i32[slot + 6]!,
        seq: mem.i32[slot + 7]!,
        cpu,
        event: EVENT_NAMES[mem.i32[slot + 2]!] ?? '?',
        work: mem.i32[slot + 3]!,
        arg: mem.i32[slot + 4]!,
        context: CONTEXT_NAMES[mem.i32[slot + 5]!] ?? '?',
      });
    }
  }
  return out.sort((a, b) => a.timeNs - b.timeNs || a.seq - b.seq);
}

/** One readable line per event, times relative to `originNs` in µs. */
export function formatTrace(mem: KernelMemory, lines: readonly TraceLine[], originNs: number): string[] {
  return lines.map((l) => {
    const us = ((l.timeNs - originNs) / 1000).toFixed(1).padStart(10);
    const step = l.seq > 0 ? ` step ${String(l.step).padStart(7)}` : '';
    const work = l.work ? `w${l.work}${mem.isWakeupWork(l.work) ? '(wakeup)' : ''}` : '';
    return `${us} µs${step}  cpu${l.cpu} ${l.context.padEnd(9)} ${l.event.padEnd(13)} ${work.padEnd(12)} ${describeArg(mem, l)}`.trimEnd();
  });
}

function describeArg(mem: KernelMemory, l: TraceLine): string {
  switch (l.event) {
    case 'listAdd':
    case 'listDelAll':
      return l.arg ? mem.describeHead(l.arg) : '';
    case 'ipiSend':
    case 'queueOn':
      return `→ cpu${l.arg}`;
    case 'ipiTaken':
      return `bits 0x${l.arg.toString(16)}`;
    case 'claimFail':
      return `flags 0x${l.arg.toString(16)}`;
    default:
      return '';
  }
}
