/** Mutant: irq_work_claim as a load, then a store — two CPUs can both claim the same work. */
import { CSD_TYPE_IRQ_WORK, IRQ_WORK_CLAIMED, IRQ_WORK_PENDING } from '../../kernel/flags.js';
import { Kernel } from '../../kernel/smpboot.js';
import { defineMutant } from './mutant.js';

class ClaimLoadStore extends Kernel {
  override irqWorkClaim(work: number): boolean {
    this.cpu.interruptPoint('irq_work_claim');
    const oldFlags = Atomics.load(this.i32, this.flagsOf(work));
    if (oldFlags & IRQ_WORK_PENDING) {
      this.hooks.claim(this.cpu.id, work, false, oldFlags);
      return false;
    }
    this.cpu.interruptPoint('irq_work_claim:between-load-and-store');
    Atomics.store(this.i32, this.flagsOf(work), oldFlags | IRQ_WORK_CLAIMED | CSD_TYPE_IRQ_WORK);
    this.accountClaim(work);
    this.hooks.claim(this.cpu.id, work, true, oldFlags);
    return true;
  }
}

export default defineMutant({
  name: 'claim-load-store',
  description: 'irq_work_claim is a load then a store, not one fetch-or',
  expectedCheck: 'one-list',
  kernel: ClaimLoadStore,
});
