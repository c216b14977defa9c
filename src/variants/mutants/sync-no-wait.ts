/** Mutant: irq_work_sync returns at once, whatever the work is doing. */
import { Counter } from '../../kernel/layout.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class SyncNoWait extends Kernel {
  override irqWorkSync(work: number): void {
    this.count(Counter.syncs);
    this.hooks.syncStart(this.cpu.id, work);
    this.hooks.syncEnd(this.cpu.id, work);
  }
}

export default defineMutant({
  name: 'sync-no-wait',
  description: 'irq_work_sync does not wait for BUSY to clear',
  expectedCheck: 'sync',
  kernel: SyncNoWait,
});
