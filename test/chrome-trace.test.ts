/**
 * The Chrome Trace Event Format export, on hand-made trace lines: the file's shape (what
 * ui.perfetto.dev needs to open it), slices that nest on each CPU's track even when the rings cut
 * slices in half, and arrows only where the trace proves a cause.
 */
import { describe, expect, it } from 'vitest';
import { IPI_CALL_FUNCTION_SINGLE, IPI_IRQ_WORK } from '../src/kernel/layout.js';
import { chromeTrace, type ChromeTraceOptions } from '../src/race/chrome-trace.js';
import type { TraceLine } from '../src/race/trace.js';

interface Ev {
  name: string;
  cat: string;
  ph: string;
  pid: number;
  tid: number;
  ts?: number;
  s?: string;
  id?: number;
  bp?: string;
  args?: Record<string, unknown>;
}

interface Slice {
  name: string;
  tid: number;
  begin: number;
  end: number;
  /** Names of the enclosing slices, outermost first. */
  ancestors: string[];
}

const HEADS: Record<number, string> = { 101: 'cpu1.call_single_queue', 102: 'cpu0.raised_list', 103: 'cpu0.lazy_list' };
const describeHead = (head: number): string => HEADS[head] ?? `head ${head}`;

function line(timeNs: number, cpu: number, event: string, context: string, work = 0, arg = 0): TraceLine {
  return { timeNs, step: 0, seq: 0, cpu, event, work, arg, context };
}

/**
 * cpu0 queues w5 on cpu1 and sends it the IPI; cpu1, idle, takes it and runs w5 in its list run;
 * then an NMI lands in cpu1's tick. cpu0's ring begins with the end of a hardirq whose begin it
 * lost, and ends inside its idle loop's tick.
 */
const REMOTE: TraceLine[] = [
  line(500, 0, 'irqExit', 'hardirq'),
  line(900, 1, 'idleEnter', 'idle'),
  line(1000, 0, 'queueOn', 'task', 5, 1),
  line(1100, 0, 'claimOk', 'task', 5, 0),
  line(1200, 0, 'listAdd', 'task', 5, 101),
  line(1300, 0, 'ipiSend', 'task', 0, 1),
  line(2000, 1, 'ipiTaken', 'idle', 0, IPI_CALL_FUNCTION_SINGLE),
  line(2100, 1, 'listDelAll', 'hardirq', 5, 101),
  line(2200, 1, 'callbackStart', 'hardirq', 5),
  line(2300, 1, 'busyClear', 'hardirq', 5),
  line(2400, 1, 'callbackEnd', 'hardirq', 5),
  line(2500, 1, 'irqExit', 'hardirq'),
  line(3000, 1, 'tick', 'hardirq'),
  line(3100, 1, 'nmi', 'nmi'),
  line(3200, 1, 'nmiExit', 'nmi'),
  line(3300, 1, 'irqExit', 'hardirq'),
  line(3400, 1, 'idleExit', 'idle'),
  line(4000, 0, 'idleEnter', 'idle'),
  line(4200, 0, 'tick', 'hardirq'),
];

/** cpu0 raises its own IPI; the hardirq runs the raised list (w1), wakes irq_workd, then runs the lazy list (w2). */
const TWO_RUNS: TraceLine[] = [
  line(50, 0, 'ipiSend', 'task', 0, 0),
  line(100, 0, 'ipiTaken', 'task', 0, IPI_IRQ_WORK),
  line(200, 0, 'listDelAll', 'hardirq', 1, 102),
  line(300, 0, 'callbackStart', 'hardirq', 1),
  line(400, 0, 'callbackEnd', 'hardirq', 1),
  line(500, 0, 'wakeup', 'hardirq'),
  line(600, 0, 'listDelAll', 'hardirq', 2, 103),
  line(700, 0, 'callbackStart', 'hardirq', 2),
  line(800, 0, 'callbackEnd', 'hardirq', 2),
  line(900, 0, 'irqExit', 'hardirq'),
];

/** The run was aborted inside w3's callback: the hardirq's end comes without the callback's. */
const ABORTED: TraceLine[] = [
  line(100, 0, 'tick', 'hardirq'),
  line(200, 0, 'listDelAll', 'hardirq', 3, 102),
  line(300, 0, 'callbackStart', 'hardirq', 3),
  line(400, 0, 'irqExit', 'hardirq'),
  line(500, 0, 'claimFail', 'task', 3, 0x3),
];

function convert(lines: TraceLine[], opts: Partial<ChromeTraceOptions> = {}) {
  const trace = chromeTrace(lines, { nrCpus: 2, originNs: 0, controlled: false, describeHead, ...opts });
  return { ...trace, events: trace.traceEvents as Ev[] };
}

function onTrack(events: Ev[], tid: number): Ev[] {
  return events.filter((e) => e.ph !== 'M' && e.tid === tid);
}

/** Walks B/E per track with a stack; throws on an E that does not close the innermost open slice. */
function slicesOf(events: Ev[]): Slice[] {
  const stacks = new Map<number, Array<{ ev: Ev; ancestors: string[] }>>();
  const out: Slice[] = [];
  for (const e of events) {
    if (e.ph !== 'B' && e.ph !== 'E') continue;
    const stack = stacks.get(e.tid) ?? [];
    stacks.set(e.tid, stack);
    if (e.ph === 'B') {
      stack.push({ ev: e, ancestors: stack.map((s) => s.ev.name) });
      continue;
    }
    const open = stack.pop();
    if (!open || open.ev.name !== e.name || open.ev.cat !== e.cat) {
      throw new Error(`tid ${e.tid}: E ${e.name} at ${e.ts} closes ${open ? open.ev.name : 'nothing'}`);
    }
    out.push({ name: e.name, tid: e.tid, begin: open.ev.ts!, end: e.ts!, ancestors: open.ancestors });
  }
  for (const [tid, stack] of stacks) if (stack.length) throw new Error(`tid ${tid}: ${stack.map((s) => s.ev.name).join(', ')} never end`);
  return out;
}

function slice(slices: Slice[], tid: number, name: string): Slice {
  const found = slices.filter((s) => s.tid === tid && s.name === name);
  expect(found, `one ${name} on tid ${tid}`).toHaveLength(1);
  return found[0]!;
}

/** The flows, one per id: where each leaves and where it arrives. */
function flowsOf(events: Ev[]): Array<{ name: string; from: [number, number]; to: [number, number] }> {
  const ids = [...new Set(events.filter((e) => e.ph === 's' || e.ph === 'f').map((e) => e.id))];
  return ids.map((id) => {
    const s = events.filter((e) => e.id === id && e.ph === 's');
    const f = events.filter((e) => e.id === id && e.ph === 'f');
    expect(s, `flow ${id}: one start`).toHaveLength(1);
    expect(f, `flow ${id}: one end`).toHaveLength(1);
    expect(f[0]!.cat).toBe(s[0]!.cat);
    expect(f[0]!.name).toBe(s[0]!.name);
    expect(f[0]!.bp).toBe('e');
    expect(f[0]!.ts!).toBeGreaterThanOrEqual(s[0]!.ts!);
    return { name: s[0]!.name, from: [s[0]!.tid, s[0]!.ts!], to: [f[0]!.tid, f[0]!.ts!] };
  });
}

describe('chromeTrace', () => {
  it('survives a JSON round trip unchanged', () => {
    const trace = chromeTrace(REMOTE, { nrCpus: 2, originNs: 0, controlled: false, describeHead, metadata: { variant: 'v', seed: 7 } });
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
  });

  it('gives every event a phase, category, pid and tid, and every non-metadata event a numeric ts ≥ 0', () => {
    for (const lines of [REMOTE, TWO_RUNS, ABORTED]) {
      for (const e of convert(lines).events) {
        expect(typeof e.ph).toBe('string');
        expect(typeof e.cat).toBe('string');
        expect(e.pid).toBe(1);
        expect(Number.isInteger(e.tid)).toBe(true);
        if (e.ph === 'M') continue;
        expect(typeof e.ts).toBe('number');
        expect(e.ts!).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('names the process and gives each CPU a named, sorted track', () => {
    const meta = convert(REMOTE, { nrCpus: 3 }).events.filter((e) => e.ph === 'M');
    expect(meta.find((e) => e.name === 'process_name')?.args).toEqual({ name: 'irqwork' });
    for (const cpu of [0, 1, 2]) {
      expect(meta.find((e) => e.name === 'thread_name' && e.tid === cpu)?.args).toEqual({ name: `cpu${cpu}` });
      expect(meta.find((e) => e.name === 'thread_sort_index' && e.tid === cpu)?.args).toEqual({ sort_index: cpu });
    }
  });

  it('balances B and E per track, each E closing the innermost open slice of its name, in time order', () => {
    for (const lines of [REMOTE, TWO_RUNS, ABORTED]) {
      const { events } = convert(lines);
      expect(() => slicesOf(events)).not.toThrow();
      for (const tid of [0, 1]) {
        const ts = onTrack(events, tid).map((e) => e.ts!);
        expect(ts).toEqual([...ts].sort((a, b) => a - b));
      }
    }
  });

  it('nests the callback inside its list run inside the IPI hardirq inside idle', () => {
    const slices = slicesOf(convert(REMOTE).events);
    const cb = slice(slices, 1, 'w5');
    expect(cb.ancestors).toEqual(['idle', 'hardirq: IPI', 'run cpu1.call_single_queue']);
    const irq = slice(slices, 1, 'hardirq: IPI');
    expect([irq.begin, irq.end]).toEqual([2, 2.5]);
    expect(cb.begin).toBeGreaterThanOrEqual(irq.begin);
    expect(cb.end).toBeLessThanOrEqual(irq.end);
  });

  it('nests an NMI taken in a hardirq inside that hardirq', () => {
    const slices = slicesOf(convert(REMOTE).events);
    expect(slice(slices, 1, 'NMI')).toMatchObject({ begin: 3.1, end: 3.2, ancestors: ['idle', 'hardirq: tick'] });
  });

  it('names the single steps as thread instants, with the list and the IPI target', () => {
    const instants = onTrack(convert(REMOTE).events, 0).filter((e) => e.ph === 'i');
    expect(instants.map((e) => [e.name, e.s, e.ts])).toEqual([
      ['irq_work_queue_on → cpu1', 't', 1],
      ['claim ok', 't', 1.1],
      ['list add', 't', 1.2],
      ['IPI → cpu1', 't', 1.3],
    ]);
    expect(instants[2]!.args).toMatchObject({ work: 5, list: 'cpu1.call_single_queue' });
  });

  it('draws exactly one arrow from the IPI send to the hardirq taking it and one from the claim to the callback start', () => {
    expect(flowsOf(convert(REMOTE).events)).toEqual([
      { name: 'claim → callback', from: [0, 1.1], to: [1, 2.2] },
      { name: 'IPI', from: [0, 1.3], to: [1, 2] },
    ]);
  });

  it('binds each flow start to an instant and each flow end to a slice begin at the same ts on the same track', () => {
    const { events } = convert(REMOTE);
    for (const flow of events.filter((e) => e.ph === 's' || e.ph === 'f')) {
      const track = onTrack(events, flow.tid);
      const anchor = track.slice(0, track.indexOf(flow)).findLast((e) => e.ph !== 's' && e.ph !== 'f');
      expect(anchor?.ph).toBe(flow.ph === 's' ? 'i' : 'B');
      expect(anchor?.ts).toBe(flow.ts);
    }
  });

  it('draws a self IPI to the hardirq that takes the IRQ_WORK bit on the same CPU', () => {
    expect(flowsOf(convert(TWO_RUNS).events)).toEqual([{ name: 'IPI', from: [0, 0.05], to: [0, 0.1] }]);
  });

  it('draws no arrow to a CPU whose ring window begins after the send or the claim', () => {
    const lines = [
      line(100, 0, 'claimOk', 'task', 5),
      line(200, 0, 'ipiSend', 'task', 0, 1),
      line(300, 1, 'ipiTaken', 'task', 0, IPI_CALL_FUNCTION_SINGLE),
      line(400, 1, 'callbackStart', 'hardirq', 5),
      line(500, 1, 'callbackEnd', 'hardirq', 5),
      line(600, 1, 'irqExit', 'hardirq'),
    ];
    expect(flowsOf(convert(lines).events)).toEqual([]);
  });

  it('drops an E whose B the ring lost', () => {
    const cpu0 = onTrack(convert(REMOTE).events, 0);
    expect(cpu0.filter((e) => e.ts === 0.5)).toEqual([]);
    expect(cpu0[0]).toMatchObject({ ph: 'i', ts: 1 });
  });

  it("closes the slices still open at the end of a CPU's ring at its last timestamp, innermost first", () => {
    const cpu0 = onTrack(convert(REMOTE).events, 0);
    expect(cpu0.slice(-4).map((e) => [e.ph, e.name, e.ts])).toEqual([
      ['B', 'idle', 4],
      ['B', 'hardirq: tick', 4.2],
      ['E', 'hardirq: tick', 4.2],
      ['E', 'idle', 4.2],
    ]);
  });

  it('ends a list run with its last callback, not at the next run or the end of the hardirq', () => {
    const { events } = convert(TWO_RUNS);
    const slices = slicesOf(events);
    expect(slice(slices, 0, 'run cpu0.raised_list')).toMatchObject({ begin: 0.2, end: 0.4 });
    expect(slice(slices, 0, 'run cpu0.lazy_list')).toMatchObject({ begin: 0.6, end: 0.8 });
    expect(slice(slices, 0, 'hardirq: IPI')).toMatchObject({ begin: 0.1, end: 0.9 });
    // The wake-up between the runs is in neither.
    const track = onTrack(events, 0).filter((e) => e.ph !== 's' && e.ph !== 'f');
    const wake = track.findIndex((e) => e.name === 'wake irq_workd');
    expect(track[wake - 1]).toMatchObject({ ph: 'E', name: 'run cpu0.raised_list' });
    expect(track[wake + 1]).toMatchObject({ ph: 'B', name: 'run cpu0.lazy_list' });
  });

  it('closes a callback left open by an aborted run before its run and hardirq when the hardirq ends', () => {
    const cpu0 = onTrack(convert(ABORTED).events, 0);
    expect(cpu0.filter((e) => e.ph === 'E').map((e) => [e.name, e.ts])).toEqual([
      ['w3', 0.4],
      ['run cpu0.raised_list', 0.4],
      ['hardirq: tick', 0.4],
    ]);
  });

  it('marks a controlled schedule’s clock as virtual and gives each event its step', () => {
    const lines = REMOTE.map((l, i) => ({ ...l, step: i + 1, seq: i + 1 }));
    const trace = convert(lines, { controlled: true, metadata: { seed: 7 } });
    expect(trace.metadata).toMatchObject({ seed: 7, clock: 'virtual (1 step = 1 µs)' });
    expect(trace.displayTimeUnit).toBe('ms');
    for (const e of trace.events.filter((e) => e.ph !== 'M')) {
      expect(typeof e.args?.[e.ph === 'E' ? 'end_step' : 'step'], `${e.ph} ${e.name}`).toBe('number');
    }
    expect(slice(slicesOf(trace.events), 1, 'NMI')).toMatchObject({ begin: 3.1, end: 3.2 });
  });

  it('measures ts in µs from the origin, in real time when the schedule is free', () => {
    const trace = convert(TWO_RUNS, { originNs: 50 });
    expect(trace.displayTimeUnit).toBe('ns');
    expect(trace.metadata.clock).toBe('real');
    expect(slice(slicesOf(trace.events), 0, 'hardirq: IPI')).toMatchObject({ begin: 0.05, end: 0.85 });
  });
});
