/**
 * Raw hand-off baselines, measured on the latency machine's own worker threads in the same run as
 * the latency classes (see handoff.ts for the protocols): one-way busy-spin, one-way
 * Atomics.notify → Atomics.wait, one-way MessagePort postMessage, and the piscina.run() round
 * trip of a task that does nothing (timed on the main thread).
 */
import { MessageChannel } from 'node:worker_threads';
import type { Machine } from '../machine/machine.js';
import type { LatencyHistogram } from '../stats/histogram.js';
import { handoffBuffer, handoffHistogram } from './handoff.js';
import { emptyHistogram, mergeAll } from '../latency/result.js';
import type { HandoffMechanism, HandoffResult, HandoffTask, NoopTask } from './handoff-task.js';

export interface HandoffMeasurement {
  histogram: LatencyHistogram;
  /** Samples not taken (notify: the receiver was not asleep yet when woken). */
  skipped: number;
}

/** One-way hand-off between two workers of `machine` (which must have at least two threads). */
export async function measureHandoff(machine: Machine, mechanism: HandoffMechanism, samples: number, gapUs = 0): Promise<HandoffMeasurement> {
  const sab = handoffBuffer();
  const channel = mechanism === 'port' ? new MessageChannel() : undefined;
  const task = (role: HandoffTask['role']): HandoffTask => ({
    program: 'handoff',
    role,
    mechanism,
    sab,
    samples,
    gapUs,
    ...(channel ? { port: role === 'receiver' ? channel.port2 : channel.port1 } : {}),
  });
  const receiverTask = task('receiver');
  const senderTask = task('sender');
  const [received] = await Promise.all([
    machine.runTask<HandoffResult>(receiverTask, receiverTask.port ? [receiverTask.port] : []),
    machine.runTask<HandoffResult>(senderTask, senderTask.port ? [senderTask.port] : []),
  ]);
  return { histogram: mergeAll([handoffHistogram(sab)]), skipped: received.skipped };
}

/** Round trip of piscina.run() with a task that does nothing, timed on the main thread. */
export async function measurePiscinaRun(machine: Machine, samples: number): Promise<LatencyHistogram> {
  const h = emptyHistogram();
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    const noop: NoopTask = { program: 'noop' };
    await machine.runTask(noop);
    h.record((performance.now() - t0) * 1e6);
  }
  return h;
}
