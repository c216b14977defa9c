/** lib/llist.c: llist_add (one compare-exchange on the head) and llist_del_all (one exchange). */
import { bench, describe } from 'vitest';
import { CPU_RAISED_LIST } from '../src/kernel/layout.js';
import { benchMachine } from './setup.js';

const BATCH = 1000;
const m = benchMachine();
const k = m.cpus[0]!.k;
const nodes = m.works(BATCH, 0);
const head = m.mem.cpuBase(0) + CPU_RAISED_LIST;
const i32 = m.mem.i32;
const floorWord = m.mem.cpuBase(0) + CPU_RAISED_LIST + 1;

describe('llist', () => {
  bench('llist_add ×1000 then llist_del_all', () => {
    for (let i = 0; i < BATCH; i++) k.llistAdd(nodes[i]!, head);
    k.llistDelAll(head);
  });

  bench('floor: Atomics.compareExchange ×1000 + Atomics.exchange', () => {
    for (let i = 0; i < BATCH; i++) Atomics.compareExchange(i32, floorWord, i, i + 1);
    Atomics.exchange(i32, floorWord, 0);
  });
});
