/**
 * Which file piscina loads for a worker: the TypeScript entry bundled into one CommonJS file, or
 * (fallback) the .ts file itself through tsx.
 *
 * Why bundle: piscina loads a worker with require(), and under tsx every module of the model is
 * then compiled to CommonJS, where each imported binding (layout offsets, flag bits, `Counter` …)
 * becomes a getter call on the exporting module's `exports` object. In the model's hot paths that
 * made worker code several times slower than the very same code on the main thread (ESM, live
 * bindings; docs/LATENCY.md has the measurement). esbuild (the compiler tsx itself uses, taken from tsx's own dependencies) bundles the worker
 * with scope hoisting, so the imports become plain variable reads and the worker runs the model
 * at main-thread speed.
 *
 * `IRQWORK_WORKER_LOADER=tsx` forces the fallback (to compare, or if bundling misbehaves).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export type WorkerLoader = 'bundle' | 'tsx';

export interface WorkerFile {
  filename: string;
  loader: WorkerLoader;
}

interface Esbuild {
  buildSync(options: Record<string, unknown>): { outputFiles?: Array<{ text: string }> };
}

/** Bundles live here, named by their content: each version of the code is written once, and
 *  concurrent runs (tests, other sessions) share it without racing or leaving a file per run. */
const BUNDLE_DIR = join(tmpdir(), 'irqwork-worker-bundles');

const built = new Map<string, WorkerFile>();

/**
 * Where the esbuild that tsx ships is: resolved from tsx's own package.json, as tsx itself
 * resolves it. A plain `require('esbuild')` from here would take whatever npm hoisted to the top
 * of node_modules, which another dependency may have pinned to a different version; tsx's copy
 * is the one tsx compiles this code with, so the bundle and the tsx fallback agree. Null when
 * tsx or its esbuild cannot be found (the loader then falls back to tsx, or fails there).
 */
export function tsxEsbuildPath(): string | null {
  try {
    const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
    return createRequire(tsxPackage).resolve('esbuild');
  } catch {
    return null;
  }
}

function loadEsbuild(): Esbuild | null {
  const path = tsxEsbuildPath();
  if (path === null) return null;
  try {
    return createRequire(import.meta.url)(path) as Esbuild;
  } catch {
    return null;
  }
}

function bundle(esbuild: Esbuild, tsEntry: string): string {
  const result = esbuild.buildSync({
    entryPoints: [tsEntry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const text = result.outputFiles?.[0]?.text;
  if (text === undefined) throw new Error('esbuild produced no output');
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = join(BUNDLE_DIR, `${basename(tsEntry).replace(/\.ts$/, '')}-${hash}.cjs`);
  if (!existsSync(file)) {
    mkdirSync(BUNDLE_DIR, { recursive: true });
    // Write aside, then rename: a reader never sees half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, text);
    renameSync(partial, file);
  }
  return file;
}

/** The file to hand piscina for the worker whose TypeScript entry is `tsEntry` (built once per process). */
export function workerFile(tsEntry: string): WorkerFile {
  const cached = built.get(tsEntry);
  if (cached) return cached;
  let result: WorkerFile = { filename: tsEntry, loader: 'tsx' };
  const esbuild = process.env.IRQWORK_WORKER_LOADER === 'tsx' ? null : loadEsbuild();
  if (esbuild) {
    try {
      result = { filename: bundle(esbuild, tsEntry), loader: 'bundle' };
    } catch {
      // Fall back to tsx: slower, but the same code.
    }
  }
  built.set(tsEntry, result);
  return result;
}
