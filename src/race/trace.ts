/**
 * Per-CPU trace rings in the shared memory: the last TRACE_ENTRIES events of every CPU, on one
 * clock, so a finding can show what every CPU did just before it, merged in time order.
 *
 *   per CPU: [ head line: index of the next slot (owner writes) ]
 *            [ TRACE_ENTRIES × 8 words: timeNs (float64, words 0-1), event, work, arg, context ]
 *
 * Only the owning CPU writes its ring (plain stores); readers copy it racily, which is fine for a
 * report: an entry being overwritten while read shows up as one odd line, never as a crash.
 */
import { CONTEXT_NAMES, type SimCpu } from '../cpu/sim-cpu.js';
import { WORDS_PER_LINE, type ExtraRegion } from '../kernel/layout.js';
import type { KernelMemory } from '../kernel/memory.js';

export const TRACE_ENTRIES = 256;
const ENTRY_WORDS = 8;
const RING_WORDS = WORDS_PER_LINE + TRACE_ENTRIES * ENTRY_WORDS;

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
} as const;
const EVENT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TraceEvent).map(([k, v]) => [v, k]));

export function traceRegion(nrCpus: number): ExtraRegion {
  return { name: 'trace', words: nrCpus * RING_WORDS };
}

export class TraceRing {
  private readonly base: number;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private next = 0;

  constructor(
    mem: KernelMemory,
    private readonly cpu: SimCpu,
  ) {
    const region = mem.layout.extra.trace;
    if (!region) throw new Error('memory has no trace region');
    this.base = region.base + cpu.id * RING_WORDS;
    this.i32 = mem.i32;
    this.f64 = mem.f64;
  }

  record(event: number, work: number, arg = 0): void {
    const slot = this.base + WORDS_PER_LINE + (this.next & (TRACE_ENTRIES - 1)) * ENTRY_WORDS;
    this.f64[slot / 2] = this.cpu.nowNs();
    this.i32[slot + 2] = event;
    this.i32[slot + 3] = work;
    this.i32[slot + 4] = arg;
    this.i32[slot + 5] = this.cpu.context();
    this.next++;
    this.i32[this.base] = this.next;
  }
}

export interface TraceLine {
  timeNs: number;
  cpu: number;
  event: string;
  work: number;
  arg: number;
  context: string;
}

/** The last `perCpu` events of every CPU, merged in time order. */
export function readTrace(mem: KernelMemory, perCpu = 12): TraceLine[] {
  const region = mem.layout.extra.trace;
  if (!region) return [];
  const out: TraceLine[] = [];
  for (let cpu = 0; cpu < mem.cfg.nrCpus; cpu++) {
    const base = region.base + cpu * RING_WORDS;
    const count = mem.i32[base]!;
    for (let k = Math.max(0, count - Math.min(perCpu, TRACE_ENTRIES)); k < count; k++) {
      const slot = base + WORDS_PER_LINE + (k & (TRACE_ENTRIES - 1)) * ENTRY_WORDS;
      out.push({
        timeNs: mem.f64[slot / 2]!,
        cpu,
        event: EVENT_NAMES[mem.i32[slot + 2]!] ?? '?',
        work: mem.i32[slot + 3]!,
        arg: mem.i32[slot + 4]!,
        context: CONTEXT_NAMES[mem.i32[slot + 5]!] ?? '?',
      });
    }
  }
  return out.sort((a, b) => a.timeNs - b.timeNs);
}

/** One readable line per event, times relative to `originNs` in µs. */
export function formatTrace(mem: KernelMemory, lines: readonly TraceLine[], originNs: number): string[] {
  return lines.map((l) => {
    const us = ((l.timeNs - originNs) / 1000).toFixed(1).padStart(10);
    const work = l.work ? `w${l.work}${mem.isWakeupWork(l.work) ? '(wakeup)' : ''}` : '';
    return `${us} µs  cpu${l.cpu} ${l.context.padEnd(9)} ${l.event.padEnd(13)} ${work.padEnd(12)} ${describeArg(mem, l)}`.trimEnd();
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
