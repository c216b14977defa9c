/**
 * Which file piscina loads for a worker: the TypeScript entry bundled into one CommonJS file, or
 * (fallback) the .ts file itself through tsx.
 *
 * Why bundle: piscina loads a worker with require(), and under tsx every module of the model is
 * then compiled to CommonJS, where each imported binding (layout offsets, flag bits, `Counter` …)
 * becomes a getter call on the exporting module's `exports` object. In the model's hot paths that
 * made worker code 3–4× slower than the very same code on the main thread (ESM, live bindings):
 * measured on Node 20, irq_work_queue() cost ~580 ns per call in a tsx worker against ~160 ns on
 * the main thread, and the CPU profile of the worker put a third of its time in those getters.
 * esbuild (the compiler tsx itself uses) bundles the worker with scope hoisting, so the imports
 * become plain variable reads and the worker runs the model at main-thread speed.
 *
 * `IRQWORK_WORKER_LOADER=tsx` forces the fallback (to compare, or if bundling misbehaves).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export type WorkerLoader = 'bundle' | 'tsx';

export interface WorkerFile {
  filename: string;
  loader: WorkerLoader;
}

interface Esbuild {
  buildSync(options: Record<string, unknown>): unknown;
}

const built = new Map<string, WorkerFile>();
let outDir: string | undefined;

function loadEsbuild(): Esbuild | null {
  try {
    return createRequire(import.meta.url)('esbuild') as Esbuild;
  } catch {
    return null;
  }
}

/** The file to hand piscina for the worker whose TypeScript entry is `tsEntry` (built once per process). */
export function workerFile(tsEntry: string): WorkerFile {
  const cached = built.get(tsEntry);
  if (cached) return cached;
  let result: WorkerFile = { filename: tsEntry, loader: 'tsx' };
  const esbuild = process.env.IRQWORK_WORKER_LOADER === 'tsx' ? null : loadEsbuild();
  if (esbuild) {
    try {
      if (!outDir) {
        const dir = mkdtempSync(join(tmpdir(), 'irqwork-workers-'));
        outDir = dir;
        process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      }
      const outfile = join(outDir, basename(tsEntry).replace(/\.ts$/, '.cjs'));
      esbuild.buildSync({
        entryPoints: [tsEntry],
        outfile,
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        packages: 'external',
        logLevel: 'silent',
      });
      result = { filename: outfile, loader: 'bundle' };
    } catch {
      // Fall back to tsx: slower, but the same code.
    }
  }
  built.set(tsEntry, result);
  return result;
}
