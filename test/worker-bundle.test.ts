/**
 * The worker bundle: a normal run loads every worker as the esbuild bundle, not through tsx (the
 * slow path), and the esbuild it bundles with is the one tsx depends on. Bundles the real worker
 * entries (workers/*.ts); starts no thread.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withDefaultWorkerLoader } from './support/worker-loader-env.js';
import { tsxEsbuildPath, workerFile } from '../src/util/worker-bundle.js';
import { REPO } from './support/cli.js';

const WORKERS_DIR = join(REPO, 'workers');
const workerEntries = readdirSync(WORKERS_DIR)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(WORKERS_DIR, f));

withDefaultWorkerLoader();

describe('worker bundle', () => {
  it('finds esbuild through tsx: the version tsx declares', () => {
    const path = tsxEsbuildPath();
    expect(path).not.toBeNull();
    const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
    const tsxPackage = JSON.parse(readFileSync(fromTsx.resolve('tsx/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const esbuildPackage = JSON.parse(readFileSync(fromTsx.resolve('esbuild/package.json'), 'utf8')) as { version: string };
    // tsx pins esbuild to one minor line (~0.x.y): the same major.minor is the one it ships.
    const declared = /^[~^]?(\d+)\.(\d+)\./.exec(tsxPackage.dependencies.esbuild!);
    expect(declared, tsxPackage.dependencies.esbuild).not.toBeNull();
    expect(esbuildPackage.version.split('.').slice(0, 2)).toEqual([declared![1], declared![2]]);
    expect(path).toBe(fromTsx.resolve('esbuild'));
  });

  it('loads every worker entry as the bundle (not the tsx fallback)', () => {
    expect(workerEntries.length).toBeGreaterThan(0);
    for (const entry of workerEntries) {
      const w = workerFile(entry);
      expect(w.loader, entry).toBe('bundle');
      // piscina loads the bundle's loader, which loads the bundle (util/worker-loader.ts).
      expect(w.filename, entry).toMatch(/\.cjs$/);
      expect(w.workerData?.bundle, entry).toMatch(/\.cjs$/);
      // Scope-hoisted: the model is inside the files, only packages (piscina …) are required.
      for (const file of [w.filename, w.workerData!.bundle]) {
        expect(readFileSync(file, 'utf8'), file).not.toMatch(/require\(["']\.\.?\//);
      }
    }
  });
});
