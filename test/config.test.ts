import { describe, it, expect } from 'vitest';
import { UsageError } from '../src/errors.js';
import { Harness } from '../src/harness/single-thread.js';
import { makeKernelConfig, MAX_CPUS, MAX_WORKS } from '../src/kernel/config.js';
import { KernelMemory } from '../src/kernel/memory.js';
import { findVariant, variantNames } from '../src/variants/index.js';

/** The UsageError `fn` throws (fails the test if it throws nothing or something else). */
function usageErrorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return e as UsageError;
  }
  throw new Error('expected a UsageError, nothing was thrown');
}

describe('bad configuration is a UsageError naming the setting', () => {
  it('0 CPUs', () => {
    expect(usageErrorOf(() => new Harness({ cpus: 0 })).message).toMatch(/--cpus .*got 0/);
  });

  it('more CPUs than MAX_CPUS', () => {
    const err = usageErrorOf(() => makeKernelConfig({ nrCpus: MAX_CPUS + 1 }));
    expect(err.message).toMatch(/--cpus/);
    expect(err.message).toContain(String(MAX_CPUS));
    expect(err.message).toContain(String(MAX_CPUS + 1));
  });

  it('a fractional CPU count', () => {
    expect(usageErrorOf(() => makeKernelConfig({ nrCpus: 1.5 })).message).toMatch(/--cpus/);
  });

  it('0 works or more than MAX_WORKS', () => {
    expect(usageErrorOf(() => makeKernelConfig({ nrWorks: 0 })).message).toMatch(/work pool/);
    expect(usageErrorOf(() => makeKernelConfig({ nrWorks: MAX_WORKS + 1 })).message).toMatch(/work pool/);
  });

  it('more works than maxMemoryBytes holds', () => {
    const maxMemoryBytes = 64 * 1024;
    const err = usageErrorOf(() => new Harness({ cpus: 2, nrWorks: 10_000, maxMemoryBytes }));
    expect(err.message).toMatch(/shared memory/);
    expect(err.message).toMatch(/works/);
    expect(err.message).toContain(`maxMemoryBytes allows ${maxMemoryBytes}`);
    expect(() => KernelMemory.create({ nrWorks: 100, maxMemoryBytes })).not.toThrow();
  });

  it('HZ out of range', () => {
    expect(usageErrorOf(() => makeKernelConfig({ hz: 5 })).message).toMatch(/--hz .*got 5/);
  });

  it('an unknown variant name, listing the known ones', () => {
    const err = usageErrorOf(() => findVariant('nope'));
    expect(err.message).toMatch(/--variant "nope"/);
    for (const name of variantNames()) expect(err.message).toContain(name);
    expect(usageErrorOf(() => new Harness({ variant: 'nope' })).message).toMatch(/--variant "nope"/);
  });

  it('the known variants are found by name', () => {
    expect(findVariant('merged').name).toBe('merged');
    expect(findVariant('v2').name).toBe('v2');
  });
});
