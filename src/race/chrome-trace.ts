/**
 * The trace rings as a Chrome Trace Event Format file (the JSON that ui.perfetto.dev and
 * chrome://tracing open): one track per CPU, the contexts and the irq_work runs as nested slices,
 * the single steps as instants, and arrows from an IPI send to the hardirq that took it and from
 * a claim to the callback that ran the work.
 *
 * The rings are windows, not whole histories: a CPU's window may begin inside a slice (its end
 * comes without a begin) and end inside one, and an aborted run leaves slices unclosed. So each
 * CPU keeps a stack of open slices, an end closes whatever is still open inside its slice first,
 * and an end whose slice is not open is dropped: every E closes the slice it names.
 *
 * Slices are B/E pairs, not X events: an X makes Perfetto's importer sort every E before any other
 * event of the same timestamp, while with B/E alone it keeps the order of the file. That order
 * matters under a controlled schedule, where many events share one virtual microsecond.
 */
import { IPI_CALL_FUNCTION_SINGLE, IPI_IRQ_WORK, IPI_RESCHEDULE } from '../kernel/layout.js';
import type { TraceLine } from './trace.js';

export interface ChromeTraceOptions {
  nrCpus: number;
  /** Events' time origin, ns (subtracted from timeNs). */
  originNs: number;
  /** Controlled schedule: times are virtual (put that in the metadata), and events carry steps. */
  controlled: boolean;
  /** Names a list head word (mem.describeHead), for args. */
  describeHead: (head: number) => string;
  /** Free-form metadata for the top-level `metadata` object (variant, seed, …). */
  metadata?: Record<string, unknown>;
}

/** One event of the file; fields as the format names them. */
interface ChromeEvent {
  name: string;
  cat: string;
  ph: 'B' | 'E' | 'i' | 's' | 'f' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  s?: 't';
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}

const PID = 1;

/** The contexts a CPU enters and leaves; each is also the `context` its code records. */
type ContextKind = 'hardirq' | 'nmi' | 'irq_workd' | 'idle';
type SliceKind = ContextKind | 'run' | 'callback';

const CONTEXT_BEGINS: Record<string, { kind: ContextKind; name: string }> = {
  ipiTaken: { kind: 'hardirq', name: 'hardirq: IPI' },
  tick: { kind: 'hardirq', name: 'hardirq: tick' },
  workloadIrq: { kind: 'hardirq', name: 'hardirq: workload' },
  nmi: { kind: 'nmi', name: 'NMI' },
  threadRun: { kind: 'irq_workd', name: 'irq_workd' },
  idleEnter: { kind: 'idle', name: 'idle' },
};

const CONTEXT_ENDS: Record<string, ContextKind> = {
  irqExit: 'hardirq',
  nmiExit: 'nmi',
  threadSleep: 'irq_workd',
  idleExit: 'idle',
};

const IPI_NAMES: ReadonlyArray<[number, string]> = [
  [IPI_CALL_FUNCTION_SINGLE, 'CALL_FUNCTION_SINGLE'],
  [IPI_IRQ_WORK, 'IRQ_WORK'],
  [IPI_RESCHEDULE, 'RESCHEDULE'],
];

const hex = (n: number): string => `0x${n.toString(16)}`;

/** Name, category and args of the instant each single step becomes. */
function instantOf(l: TraceLine, describeHead: (head: number) => string): { name: string; cat: string; args: Record<string, unknown> } {
  const work = { work: l.work };
  switch (l.event) {
    case 'queue':
      return { name: 'irq_work_queue', cat: 'irq_work', args: work };
    case 'queueOn':
      return { name: `irq_work_queue_on → cpu${l.arg}`, cat: 'irq_work', args: { ...work, target: l.arg } };
    case 'claimOk':
      return { name: 'claim ok', cat: 'irq_work', args: { ...work, old_flags: hex(l.arg) } };
    case 'claimFail':
      return { name: 'claim: already pending', cat: 'irq_work', args: { ...work, old_flags: hex(l.arg) } };
    case 'listAdd':
      return { name: 'list add', cat: 'irq_work', args: { ...work, list: describeHead(l.arg) } };
    case 'ipiSend':
      return { name: `IPI → cpu${l.arg}`, cat: 'ipi', args: { target: l.arg } };
    case 'wakeup':
      return { name: 'wake irq_workd', cat: 'irq_work', args: {} };
    case 'syncStart':
      return { name: 'sync start', cat: 'irq_work', args: work };
    case 'syncEnd':
      return { name: 'sync end', cat: 'irq_work', args: work };
    case 'free':
      return { name: 'free', cat: 'irq_work', args: work };
    case 'busyClear':
      return { name: 'clear BUSY', cat: 'irq_work', args: work };
    default:
      // An entry read while its CPU overwrote it ('?'): shown as it was read.
      return { name: l.event, cat: 'irq_work', args: { ...work, arg: l.arg } };
  }
}

interface Flow {
  id: number;
  name: string;
}

/** Where flows leave and arrive, by line index. */
interface Flows {
  starts: Map<number, Flow[]>;
  ends: Map<number, Flow[]>;
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Pairs each IPI send with the IPI taken on its target that carries its bit (a remote send is a
 * CALL_FUNCTION_SINGLE; a send to itself is arch_irq_work_raise's IRQ_WORK: the trace does not
 * record the kind), and each successful claim of a work with the next start of its callback.
 *
 * A CPU's window may begin after the source: then what it did in between is lost, and "the next
 * one in the window" may be a later, unrelated one. Such sources get no arrow — for an IPI when
 * the target's window begins after the send, for a claim when any CPU's does (any CPU may run the
 * work). A second claim of a work before its callback starts means that the first one's callback
 * was lost the same way: it replaces it.
 */
function matchFlows(lines: readonly TraceLine[]): Flows {
  const firstLine = new Map<number, number>();
  lines.forEach((l, i) => firstLine.has(l.cpu) || firstLine.set(l.cpu, i));
  const allWindowsBegun = Math.max(-1, ...firstLine.values());

  const flows: Flows = { starts: new Map(), ends: new Map() };
  let nextId = 1;
  const link = (from: number, to: number, name: string): void => {
    const flow = { id: nextId++, name };
    pushTo(flows.starts, from, flow);
    pushTo(flows.ends, to, flow);
  };
  const sendsOwed = new Map<string, number[]>(); // `${target}:${bit}` → ipiSend lines
  const claimOwed = new Map<number, number>(); // work → claimOk line
  lines.forEach((l, i) => {
    switch (l.event) {
      case 'ipiSend':
        if ((firstLine.get(l.arg) ?? -1) <= i) pushTo(sendsOwed, `${l.arg}:${l.arg === l.cpu ? IPI_IRQ_WORK : IPI_CALL_FUNCTION_SINGLE}`, i);
        break;
      case 'ipiTaken':
        for (const bit of [IPI_CALL_FUNCTION_SINGLE, IPI_IRQ_WORK]) {
          if (!(l.arg & bit)) continue;
          const key = `${l.cpu}:${bit}`;
          for (const send of sendsOwed.get(key) ?? []) link(send, i, 'IPI');
          sendsOwed.delete(key);
        }
        break;
      case 'claimOk':
        if (allWindowsBegun <= i) claimOwed.set(l.work, i);
        else claimOwed.delete(l.work);
        break;
      case 'callbackStart': {
        const claim = claimOwed.get(l.work);
        if (claim !== undefined) link(claim, i, 'claim → callback');
        claimOwed.delete(l.work);
        break;
      }
    }
  });
  return flows;
}

/** An event placed in the file: `order` sorts it (a run's end goes right after its last callback's). */
interface Placed {
  order: number;
  ev: ChromeEvent;
  /** The step it happened at (controlled schedules), for an end placed after it. */
  step: number;
}

interface OpenSlice {
  kind: SliceKind;
  name: string;
  cat: string;
  /** The context whose code runs inside: a context slice's own kind, a run's or callback's line's. */
  context: string;
  /** Callbacks: their work. */
  work: number;
  begin: Placed;
  /** Runs: the end of the last callback that ended directly inside, where the run ends. */
  lastCallbackEnd: Placed | null;
}

/** One pass over the merged lines, keeping a stack of open slices per CPU. */
class Converter {
  private readonly placed: Placed[] = [];
  private readonly stacks = new Map<number, OpenSlice[]>();

  constructor(private readonly opts: ChromeTraceOptions) {}

  events(): ChromeEvent[] {
    return this.placed.sort((a, b) => a.order - b.order).map((p) => p.ev);
  }

  line(l: TraceLine): void {
    const begins = CONTEXT_BEGINS[l.event];
    const ends = CONTEXT_ENDS[l.event];
    if (begins) this.beginContext(l, begins.kind, begins.name);
    else if (ends) this.endContext(l, ends);
    else if (l.event === 'listDelAll') this.beginRun(l);
    else if (l.event === 'callbackStart') this.beginCallback(l);
    else if (l.event === 'callbackEnd') this.endCallback(l);
    else {
      const { name, cat, args } = instantOf(l, this.opts.describeHead);
      this.place({ name, cat, ph: 'i', s: 't', pid: PID, tid: l.cpu, ts: this.ts(l), args: this.args(l, { ...args, context: l.context }) }, l.step);
    }
  }

  /**
   * Arrows leave and arrive at what `l` just placed: an instant, or a slice's begin. Perfetto binds
   * a flow event to the slice on top of its track's stack when it reads it, which is that event
   * (a thread instant is a slice of no length); the arrow's two ends share id, cat and name, the
   * key of a v1 flow there.
   */
  flows(l: TraceLine, starts: readonly Flow[], ends: readonly Flow[]): void {
    const at = { pid: PID, tid: l.cpu, ts: this.ts(l), ...(this.opts.controlled ? { args: { step: l.step } } : {}) };
    for (const { id, name } of starts) this.place({ name, cat: 'flow', ph: 's', id, ...at }, l.step);
    for (const { id, name } of ends) this.place({ name, cat: 'flow', ph: 'f', bp: 'e', id, ...at }, l.step);
  }

  /** The CPU's window ends: what is still open ends with it, innermost first. */
  endOfWindow(l: TraceLine): void {
    this.closeAbove(l, 0);
  }

  private beginContext(l: TraceLine, kind: ContextKind, name: string): void {
    // A context is never entered twice at once: one still open lost its end (an aborted run).
    const stale = this.stack(l).findLastIndex((s) => s.kind === kind);
    if (stale >= 0) this.closeAbove(l, stale);
    // Only an IPI is recorded before the CPU enters the context: its line names the interrupted one.
    const args = l.event === 'ipiTaken' ? { bits: hex(l.arg), ipis: ipiNames(l.arg), interrupted: l.context } : {};
    this.open(l, { kind, name, cat: 'context', context: kind, work: 0 }, args);
  }

  /** Ends the innermost open context of `kind`; none open: the window began inside it, the end is dropped. */
  private endContext(l: TraceLine, kind: ContextKind): void {
    const at = this.stack(l).findLastIndex((s) => s.kind === kind);
    if (at >= 0) this.closeAbove(l, at);
  }

  /**
   * A list run lasts from llist_del_all() to the end of its last callback. Which callback is the
   * last is known only when the next run of the same context starts, or the context ends: the run
   * stays open until then, and its end is placed after that callback's.
   */
  private beginRun(l: TraceLine): void {
    this.closeTopOfContext(l, (s) => s.kind === 'run' || s.kind === 'callback');
    const list = this.opts.describeHead(l.arg);
    this.open(l, { kind: 'run', name: `run ${list}`, cat: 'irq_work', context: l.context, work: 0 }, { list, first: l.work });
  }

  private beginCallback(l: TraceLine): void {
    // Callbacks of one context do not nest: one still open there lost its end.
    this.closeTopOfContext(l, (s) => s.kind === 'callback');
    this.open(l, { kind: 'callback', name: `w${l.work}`, cat: 'irq_work', context: l.context, work: l.work }, { work: l.work });
  }

  /** Like endContext, for the callback of `l`'s work. */
  private endCallback(l: TraceLine): void {
    const at = this.stack(l).findLastIndex((s) => s.kind === 'callback' && s.work === l.work);
    if (at >= 0) this.closeAbove(l, at);
  }

  /** Closes the slices of `l`'s context on top of the stack that `stale` picks. */
  private closeTopOfContext(l: TraceLine, stale: (s: OpenSlice) => boolean): void {
    const stack = this.stack(l);
    let from = stack.length;
    while (from > 0 && stack[from - 1]!.context === l.context && stale(stack[from - 1]!)) from--;
    this.closeAbove(l, from);
  }

  private open(l: TraceLine, s: Omit<OpenSlice, 'begin' | 'lastCallbackEnd'>, args: Record<string, unknown>): void {
    const begin = this.place({ name: s.name, cat: s.cat, ph: 'B', pid: PID, tid: l.cpu, ts: this.ts(l), args: this.args(l, args) }, l.step);
    // Field by field: a spread here costs a third of the export's time on a long run.
    this.stack(l).push({ kind: s.kind, name: s.name, cat: s.cat, context: s.context, work: s.work, begin, lastCallbackEnd: null });
  }

  /** Closes the slices from stack index `from` up, innermost first, at `l`. */
  private closeAbove(l: TraceLine, from: number): void {
    const stack = this.stack(l);
    while (stack.length > from) {
      const s = stack.pop()!;
      if (s.kind === 'run') {
        this.placeEnd(s, l.cpu, s.lastCallbackEnd ?? s.begin);
        continue;
      }
      const end = this.place(this.endEvent(s, l.cpu, this.ts(l), l.step), l.step);
      const parent = stack[stack.length - 1];
      if (s.kind === 'callback' && parent?.kind === 'run') parent.lastCallbackEnd = end;
    }
  }

  /** A run's end, placed right after `after` (its last callback's end, or its own begin). */
  private placeEnd(s: OpenSlice, cpu: number, after: Placed): void {
    const ev = this.endEvent(s, cpu, after.ev.ts!, after.step);
    this.placed.push({ order: after.order + 0.5, ev, step: after.step });
  }

  private endEvent(s: OpenSlice, cpu: number, ts: number, step: number): ChromeEvent {
    // Perfetto and Chrome merge an E's args into its slice's: the end's step gets its own name.
    const args = this.opts.controlled ? { end_step: step } : undefined;
    return { name: s.name, cat: s.cat, ph: 'E', pid: PID, tid: cpu, ts, ...(args && { args }) };
  }

  private place(ev: ChromeEvent, step: number): Placed {
    const p = { order: this.placed.length, ev, step };
    this.placed.push(p);
    return p;
  }

  private stack(l: TraceLine): OpenSlice[] {
    let stack = this.stacks.get(l.cpu);
    if (!stack) this.stacks.set(l.cpu, (stack = []));
    return stack;
  }

  private ts(l: TraceLine): number {
    return (l.timeNs - this.opts.originNs) / 1000;
  }

  private args(l: TraceLine, args: Record<string, unknown>): Record<string, unknown> {
    return this.opts.controlled ? { ...args, step: l.step } : args;
  }
}

function ipiNames(bits: number): string {
  return IPI_NAMES.filter(([bit]) => bits & bit)
    .map(([, name]) => name)
    .join('|');
}

function metadataEvents(nrCpus: number): ChromeEvent[] {
  const meta = (name: string, tid: number, args: Record<string, unknown>): ChromeEvent => ({ name, cat: '__metadata', ph: 'M', pid: PID, tid, args });
  return [
    meta('process_name', 0, { name: 'irqwork' }),
    ...Array.from({ length: nrCpus }, (_, cpu) => [meta('thread_name', cpu, { name: `cpu${cpu}` }), meta('thread_sort_index', cpu, { sort_index: cpu })]).flat(),
  ];
}

/**
 * The file for `lines` (merged in happening order, as readTrace returns them). Times are µs from
 * `originNs`; shown in ns for real time (irq_work latencies are a few µs), in ms for virtual time,
 * whose µs are schedule steps and whose ns would mean nothing.
 */
export function chromeTrace(
  lines: readonly TraceLine[],
  opts: ChromeTraceOptions,
): { traceEvents: object[]; displayTimeUnit: 'ns' | 'ms'; metadata: Record<string, unknown> } {
  const flows = matchFlows(lines);
  const lastLine = new Map<number, number>();
  lines.forEach((l, i) => lastLine.set(l.cpu, i));

  const conv = new Converter(opts);
  lines.forEach((l, i) => {
    conv.line(l);
    conv.flows(l, flows.starts.get(i) ?? [], flows.ends.get(i) ?? []);
    if (lastLine.get(l.cpu) === i) conv.endOfWindow(l);
  });
  return {
    traceEvents: [...metadataEvents(opts.nrCpus), ...conv.events()],
    displayTimeUnit: opts.controlled ? 'ms' : 'ns',
    metadata: {
      ...opts.metadata,
      nrCpus: opts.nrCpus,
      clock: opts.controlled ? 'virtual (1 step = 1 µs)' : 'real',
    },
  };
}
