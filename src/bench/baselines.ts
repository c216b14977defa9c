/**
 * Raw hand-off baselines, measured on the latency machine's own worker threads in the same run as
 * the latency classes (see handoff.ts for the protocols): one-way busy-spin, one-way
 * Atomics.notify → Atomics.wait, one-way MessagePort postMessage, and the piscina.run() round
 * trip of a task that does nothing (timed on the main thread).
 */
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { LatencyHistogram } from '../stats/histogram.js';
import { handoffBuffer, handoffHistogram } from './handoff.js';
import { emptyHistogram, mergeAll } from '../latency/result.js';
import type { HandoffMechanism, HandoffResult, HandoffTask } from '../latency/task.js';

export interface HandoffMeasurement {
  histogram: LatencyHistogram;
  /** Samples not taken (notify: the receiver was not asleep yet when woken). */
  skipped: number;
}

/** One-way hand-off between two workers of `pool` (which must have at least two threads). */
export async function measureHandoff(pool: Piscina, mechanism: HandoffMechanism, samples: number): Promise<HandoffMeasurement> {
  const sab = handoffBuffer();
  const channel = mechanism === 'port' ? new MessageChannel() : undefined;
  const task = (role: HandoffTask['role']): HandoffTask => ({
    kind: 'handoff',
    role,
    mechanism,
    sab,
    samples,
    ...(channel ? { port: role === 'receiver' ? channel.port2 : channel.port1 } : {}),
  });
  const receiverTask = task('receiver');
  const senderTask = task('sender');
  const [received] = (await Promise.all([
    pool.run(receiverTask, { transferList: receiverTask.port ? [receiverTask.port] : [] }),
    pool.run(senderTask, { transferList: senderTask.port ? [senderTask.port] : [] }),
  ])) as [HandoffResult, HandoffResult];
  return { histogram: mergeAll([handoffHistogram(sab)]), skipped: received.skipped };
}

/** Round trip of piscina.run() with a task that does nothing, timed on the main thread. */
export async function measurePiscinaRun(pool: Piscina, samples: number): Promise<LatencyHistogram> {
  const h = emptyHistogram();
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    await pool.run({ kind: 'noop' });
    h.record((performance.now() - t0) * 1e6);
  }
  return h;
}
