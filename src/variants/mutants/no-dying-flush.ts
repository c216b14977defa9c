/**
 * Mutant: smpcfd_dying_cpu without the flush of call_single_queue — the dying step as it was
 * before 8d056c48e486. What other CPUs queued on the CPU going down (their IPI latched, never
 * taken with irqs off) stays on its queue while it is offline. Only CPU hotplug runs the dying
 * step, so its self-test run has hotplug on, offlining often: the finding needs a remote queue
 * that lands just before a CPU takes the hotplug write lock.
 */
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class NoDyingFlush extends Kernel {
  override smpcfdDyingCpu(): void {
    this.irqWorkRun();
  }
}

export default defineMutant({
  name: 'no-dying-flush',
  description: 'smpcfd_dying_cpu does not flush call_single_queue (runs with CPU hotplug)',
  expectedCheck: 'offline',
  run: { hotplug: { everyMs: 20, offlineMs: 2 } },
  kernel: NoDyingFlush,
});
