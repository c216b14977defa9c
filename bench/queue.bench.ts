/**
 * irq_work_queue() and irq_work_queue_on(), RT and non-RT: the queue call alone (inside one
 * hardirq section, so nothing runs in between), the already-pending path, and a whole local and
 * remote round (queue, take the IPI, run the callback) on CPUs driven by hand on this thread.
 */
import { bench, describe } from 'vitest';
import { IRQ_WORK_HARD_IRQ } from '../src/kernel/flags.js';
import { benchMachine } from './setup.js';

const BATCH = 1000;

for (const preemptRt of [true, false]) {
  const config = preemptRt ? 'rt' : 'nort';
  const m = benchMachine({ cpus: 2, preemptRt, nrWorks: 2 * BATCH + 8 });
  const [cpu0, cpu1] = m.cpus as [typeof m.cpus[0], typeof m.cpus[0]];
  const k = cpu0.k;
  const batch = m.works(BATCH, IRQ_WORK_HARD_IRQ);
  const [hard, plain] = [m.works(1, IRQ_WORK_HARD_IRQ)[0]!, m.works(1, 0)[0]!];

  describe(`irq_work_queue [${config}]`, () => {
    bench('queue ×1000 distinct HARD_IRQ works in one hardirq section (claim succeeds), then run them', () => {
      cpu0.inHardirq(() => {
        for (let i = 0; i < BATCH; i++) k.irqWorkQueue(batch[i]!);
      });
      cpu0.takeInterrupts();
    });

    bench('queue ×1000 while pending (claim fails), then run them once', () => {
      cpu0.inHardirq(() => {
        for (let i = 0; i < BATCH; i++) k.irqWorkQueue(hard);
      });
      cpu0.takeInterrupts();
    });

    bench('local round: queue HARD_IRQ work, self-IPI, callback', () => {
      k.irqWorkQueue(hard);
      cpu0.interruptPoint();
    });

    bench(`local round: queue plain work, ${preemptRt ? 'self-IPI, irq_workd' : 'self-IPI'}, callback`, () => {
      k.irqWorkQueue(plain);
      cpu0.interruptPoint();
    });

    bench(`remote round: queue_on HARD_IRQ work, IPI, callback on the other CPU`, () => {
      k.irqWorkQueueOn(hard, 1);
      cpu1.interruptPoint();
    });

    bench(`remote round: queue_on plain work, ${preemptRt ? 'IPI, wakeup work, irq_workd' : 'IPI'} on the other CPU`, () => {
      k.irqWorkQueueOn(plain, 1);
      cpu1.interruptPoint();
    });
  });
}
