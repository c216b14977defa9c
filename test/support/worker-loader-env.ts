/**
 * For tests of how workers are loaded: a developer's IRQWORK_WORKER_LOADER=tsx would force the
 * slow path these tests check is not taken by default, so each test runs without it and the
 * variable is put back afterwards.
 */
import { afterEach, beforeEach } from 'vitest';

export function withDefaultWorkerLoader(): void {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env.IRQWORK_WORKER_LOADER;
    delete process.env.IRQWORK_WORKER_LOADER;
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.IRQWORK_WORKER_LOADER;
    else process.env.IRQWORK_WORKER_LOADER = saved;
  });
}
