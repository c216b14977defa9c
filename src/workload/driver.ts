/**
 * The workload driver of one CPU: picks a weighted random operation with this CPU's seeded
 * stream and performs it in the right context, through the kernel API only.
 */
import type { CpuRuntime } from '../cpu/runtime.js';
import { W_ARG } from '../kernel/layout.js';
import type { Random } from '../util/random.js';
import { FUNC_REQUEUE } from './callbacks.js';
import type { PoolWork } from './pool.js';
import type { OperationWeights, WorkloadSpec } from './spec.js';

const OPS = ['queueTask', 'queueHardirq', 'queueNmi', 'queueRemote', 'sync', 'syncFree'] as const;
type Op = (typeof OPS)[number];

export class WorkloadDriver {
  private readonly cumulative: number[];
  private readonly total: number;
  private readonly all: PoolWork[];
  private readonly own: PoolWork[];
  private readonly nrCpus: number;

  constructor(
    private readonly rt: CpuRuntime,
    spec: WorkloadSpec,
    pool: readonly PoolWork[],
    private readonly rng: Random,
  ) {
    let sum = 0;
    this.cumulative = OPS.map((op) => (sum += (spec.weights as OperationWeights)[op]));
    this.total = sum;
    this.all = [...pool];
    this.own = pool.filter((w) => w.home === rt.id);
    this.nrCpus = rt.mem.cfg.nrCpus;
  }

  private pick(): Op {
    const x = this.rng.next() * this.total;
    for (let i = 0; i < OPS.length; i++) if (x < this.cumulative[i]!) return OPS[i]!;
    return OPS[OPS.length - 1]!;
  }

  /** A random work of the pool; asks a re-queueing callback for one re-queue. */
  private anyWork(): number {
    const w = this.all[this.rng.below(this.all.length)]!;
    if (w.func === FUNC_REQUEUE) Atomics.store(this.rt.i32, this.rt.mem.node(w.work) + W_ARG, 1);
    return w.work;
  }

  /** One operation. */
  step(): void {
    const { rt } = this;
    const k = rt.k;
    switch (this.pick()) {
      case 'queueTask':
        k.irqWorkQueue(this.anyWork());
        break;
      case 'queueHardirq': {
        const w = this.anyWork();
        rt.inHardirq(() => k.irqWorkQueue(w));
        break;
      }
      case 'queueNmi': {
        const w = this.anyWork();
        rt.inNmi(() => k.irqWorkQueue(w));
        break;
      }
      case 'queueRemote': {
        const w = this.anyWork();
        let target = this.rng.below(this.nrCpus - 1);
        if (target >= rt.id) target++;
        k.irqWorkQueueOn(w, this.nrCpus === 1 ? rt.id : target);
        break;
      }
      case 'sync':
      case 'syncFree':
        if (this.own.length > 0) k.irqWorkSync(this.own[this.rng.below(this.own.length)]!.work);
        break;
    }
  }
}
