import { describe, it, expect } from 'vitest';
import { Harness } from '../src/harness/single-thread.js';
import { CPU_RAISED_LIST } from '../src/kernel/layout.js';

/** A harness, the raised_list head of CPU 0 as a bare llist head, and three unqueued nodes. */
function setup() {
  const h = new Harness({ cpus: 1 });
  const head = h.mem.cpuBase(0) + CPU_RAISED_LIST;
  const [a, b, c] = [h.newWork(), h.newWork(), h.newWork()];
  return { h, k: h.k(0), head, a, b, c };
}

describe('llist', () => {
  it('llistAdd returns true only when the list was empty before', () => {
    const { k, head, a, b } = setup();
    expect(k.llistAdd(a, head)).toBe(true);
    expect(k.llistAdd(b, head)).toBe(false);
  });

  it('llistAdd links each node in front (LIFO order)', () => {
    const { h, k, head, a, b, c } = setup();
    for (const n of [a, b, c]) k.llistAdd(n, head);
    expect(h.listNodes(0, 'raised')).toEqual([c, b, a]);
    expect(k.llistNext(a)).toBe(0);
  });

  it('llistDelAll returns the whole chain newest first and leaves the head empty', () => {
    const { h, k, head, a, b, c } = setup();
    for (const n of [a, b, c]) k.llistAdd(n, head);
    const first = k.llistDelAll(head);
    expect(first).toBe(c);
    expect(h.mem.i32[head]).toBe(0);
    expect(k.llistEmpty(head)).toBe(true);
    expect([first, k.llistNext(first), k.llistNext(k.llistNext(first))]).toEqual([c, b, a]);
  });

  it('llistDelAll on an empty list returns null (0)', () => {
    const { k, head } = setup();
    expect(k.llistDelAll(head)).toBe(0);
  });

  it('llistReverseOrder turns a taken chain into oldest first', () => {
    const { k, head, a, b, c } = setup();
    for (const n of [a, b, c]) k.llistAdd(n, head);
    const first = k.llistReverseOrder(k.llistDelAll(head));
    expect(first).toBe(a);
    expect(k.llistNext(a)).toBe(b);
    expect(k.llistNext(b)).toBe(c);
    expect(k.llistNext(c)).toBe(0);
  });

  it('llistAdd retries when another CPU adds between its head read and its compare-exchange', () => {
    const h = new Harness({ cpus: 2 });
    const head = h.mem.cpuBase(0) + CPU_RAISED_LIST;
    const [a, b] = [h.newWork(), h.newWork()];
    h.at(0, 'llist_add:before-cmpxchg', () => h.k(1).llistAdd(b, head));
    expect(h.k(0).llistAdd(a, head)).toBe(false); // b got there first
    expect(h.listNodes(0, 'raised')).toEqual([a, b]);
  });

  it('llistAdd after llistDelAll starts a new list (was-empty again)', () => {
    const { k, head, a, b } = setup();
    k.llistAdd(a, head);
    k.llistDelAll(head);
    expect(k.llistAdd(b, head)).toBe(true);
    expect(k.llistNext(b)).toBe(0);
  });
});
