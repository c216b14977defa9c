/** What the main thread sends each side of a raw hand-off baseline (handoff.ts), and what comes back. */
import type { MessagePort } from 'node:worker_threads';

export type HandoffMechanism = 'spin' | 'skeleton' | 'notify' | 'port';

/** One side of a raw hand-off baseline between two workers. */
export interface HandoffTask {
  program: 'handoff';
  role: 'sender' | 'receiver';
  mechanism: HandoffMechanism;
  sab: SharedArrayBuffer;
  samples: number;
  /**
   * How long the sender waits, once the receiver is ready, before it hands over (µs): 0 back to
   * back; for a wake-up baseline, as long as the thing it is compared with has slept, since a
   * thread that has slept longer is slower to wake.
   */
  gapUs: number;
  /** MessagePort mechanism: this side's end of the channel (transferred). */
  port?: MessagePort;
}

export interface HandoffResult {
  /** Samples not taken (notify: the receiver was not yet asleep when woken). */
  skipped: number;
}

/** Does nothing: the piscina.run() round-trip baseline. */
export interface NoopTask {
  program: 'noop';
}
