/** The kernel hooks and runtime probes that write the trace ring: one event each, nothing else. */
import { ContextEdge, type RuntimeProbes } from '../cpu/probes.js';
import type { KernelHooks } from '../kernel/hooks.js';
import { TraceEvent, type TraceRing } from './trace.js';

export function traceHooks(ring: TraceRing): Partial<KernelHooks> {
  return {
    claim: (_cpu, work, ok, oldFlags) => ring.record(ok ? TraceEvent.claimOk : TraceEvent.claimFail, work, oldFlags),
    listAdd: (_cpu, head, work) => ring.record(TraceEvent.listAdd, work, head),
    listDelAll: (_cpu, head, first) => ring.record(TraceEvent.listDelAll, first, head),
    ipiSent: (_cpu, target) => ring.record(TraceEvent.ipiSend, 0, target),
    singleStart: (_cpu, work) => ring.record(TraceEvent.callbackStart, work),
    singleClearBusy: (_cpu, work) => ring.record(TraceEvent.busyClear, work),
    singleEnd: (_cpu, work) => ring.record(TraceEvent.callbackEnd, work),
    syncStart: (_cpu, work) => ring.record(TraceEvent.syncStart, work),
    syncEnd: (_cpu, work) => ring.record(TraceEvent.syncEnd, work),
    irqWorkdWoken: () => ring.record(TraceEvent.wakeup, 0),
  };
}

/** The trace event of each context edge (ContextEdge). */
const EDGE_EVENTS: readonly number[] = (() => {
  const out: number[] = [];
  for (const [name, edge] of Object.entries(ContextEdge)) out[edge] = TraceEvent[name as keyof typeof ContextEdge];
  return out;
})();

/** The runtime probes that write the trace ring: IPIs taken, ticks, NMIs, and where each context begins and ends. */
export function traceProbes(ring: TraceRing): Partial<RuntimeProbes> {
  return {
    ipiTaken: (bits) => ring.record(TraceEvent.ipiTaken, 0, bits),
    tick: () => ring.record(TraceEvent.tick, 0),
    nmi: () => ring.record(TraceEvent.nmi, 0),
    contextEdge: (edge) => ring.record(EDGE_EVENTS[edge]!, 0),
  };
}
