/**
 * The layering rules of the source tree, checked on the import lines themselves: the kernel model
 * knows nothing of the harness, the CPU runtime nothing of checks, probes or run kinds, and the
 * machine is the only owner of the worker pool.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The repository-relative files a source file imports (relative imports only). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)) {
    out.push(relative(ROOT, resolve(ROOT, dirname(file), m[1]!.replace(/\.js$/, '.ts'))));
  }
  return out;
}

/** Imports of files under `layer` that reach into any of the `forbidden` folders. */
function violations(layer: string, allowed: (target: string) => boolean): string[] {
  return sources(layer).flatMap((file) => importsOf(file).filter((t) => !allowed(t)).map((t) => `${file} → ${t}`));
}

describe('layers import downward only', () => {
  it('src/kernel imports nothing outside itself but src/errors.ts', () => {
    expect(violations('src/kernel', (t) => t.startsWith('src/kernel/') || t === 'src/errors.ts')).toEqual([]);
  });

  it('src/cpu imports only the kernel, util, errors and itself', () => {
    const ok = ['src/cpu/', 'src/kernel/', 'src/util/'];
    expect(violations('src/cpu', (t) => ok.some((p) => t.startsWith(p)) || t === 'src/errors.ts')).toEqual([]);
  });

  it('src/sched imports only the kernel, the CPU runtime, util and itself (the machine builds on it)', () => {
    const ok = ['src/sched/', 'src/cpu/', 'src/kernel/', 'src/util/'];
    expect(violations('src/sched', (t) => ok.some((p) => t.startsWith(p)) || t === 'src/errors.ts')).toEqual([]);
  });

  it('src/machine imports no run kind, command or probe (they build on it)', () => {
    const above = ['src/stress/', 'src/latency/', 'src/bench/', 'src/cli/', 'src/zoo/', 'src/race/', 'src/checks/', 'src/workload/'];
    expect(violations('src/machine', (t) => !above.some((p) => t.startsWith(p)))).toEqual([]);
  });

  it('nothing below the command line imports it', () => {
    const below = ['src/kernel', 'src/cpu', 'src/sched', 'src/machine', 'src/stress', 'src/latency', 'src/bench', 'src/race', 'src/checks', 'src/workload', 'src/stats', 'src/util', 'src/variants', 'src/zoo'];
    expect(below.flatMap((dir) => violations(dir, (t) => !t.startsWith('src/cli/')))).toEqual([]);
  });

  it('exactly one file starts a piscina pool', () => {
    const starters = [...sources('src'), ...sources('workers')].filter((f) => readFileSync(join(ROOT, f), 'utf8').includes('new Piscina'));
    expect(starters).toEqual(['src/machine/machine.ts']);
  });
});

describe('the project stands alone', () => {
  it('no source, doc or test refers to a briefing file outside the repository', () => {
    const files = [...sources('src'), ...sources('workers'), ...sources('test'), ...sources('bench'), 'README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
    const outside = files.filter((f) => f !== 'test/layers.test.ts' && /\bDESIGN\.md\b|\.\.\/shared\b|\bissue \d+\b/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(outside).toEqual([]);
  });
});
