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
 * Start-up (docs/LATENCY.md has the figures). A worker runs the bundle through a small loader
 * (util/worker-loader.ts, bundled beside it) that uses V8's code cache, so that 256 workers do not
 * each compile the same code. And a bundle worker starts with the parent's node flags less tsx's
 * preloads: a worker inherits `process.execArgv`, which under tsx is tsx's
 * `--require …/preflight.cjs --import …/loader.mjs`, so every worker loaded tsx, its ESM loader
 * and esbuild's JavaScript API before the bundle — most of a worker's start-up time and a third of
 * its memory, for a bundle that needs none of it. The tsx fallback keeps them (it needs them).
 *
 * `IRQWORK_WORKER_LOADER=tsx` forces the fallback (to compare, or if bundling misbehaves).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type WorkerLoader = 'bundle' | 'tsx';

/** What piscina needs to start a machine worker. */
export interface WorkerFile {
  /** The file piscina loads: the bundle's loader, or (fallback) the TypeScript entry. */
  filename: string;
  loader: WorkerLoader;
  /** The loader's arguments (piscina's `workerData`); none for the fallback. */
  workerData?: LoaderData;
  /** The workers' node flags; undefined: inherit the parent's (the fallback needs tsx's). */
  execArgv?: string[];
}

/** What the loader (util/worker-loader.ts) is told: the bundle, and where its code cache goes. */
export interface LoaderData {
  bundle: string;
  codeCache: string;
}

/** How a worker found the bundle's code cache: used, refused by V8 (another V8 or other flags), or none yet. */
export type CodeCacheUse = 'accepted' | 'rejected' | 'absent';

/** What the loader posts to the main thread once it has loaded the bundle. */
export interface WorkerLoadReport {
  irqworkWorkerLoad: { codeCache: CodeCacheUse };
}

export function isWorkerLoadReport(message: unknown): message is WorkerLoadReport {
  return typeof message === 'object' && message !== null && 'irqworkWorkerLoad' in message;
}

interface Esbuild {
  buildSync(options: Record<string, unknown>): { outputFiles?: Array<{ path: string; text: string }> };
}

/** Bundles live here, named by their content: each version of the code is written once, and
 *  concurrent runs (tests, other sessions) share it without racing or leaving a file per run. */
const BUNDLE_DIR = join(tmpdir(), 'irqwork-worker-bundles');

const built = new Map<string, WorkerFile>();

const LOADER_TS = fileURLToPath(new URL('./worker-loader.ts', import.meta.url));

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

/** Writes `text` as `<name>-<hash of text>.cjs` in BUNDLE_DIR (once) and returns its path. */
function writeOnce(name: string, text: string): string {
  const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
  const file = join(BUNDLE_DIR, `${name}-${hash}.cjs`);
  if (!existsSync(file)) {
    mkdirSync(BUNDLE_DIR, { recursive: true });
    // Write aside, then rename: a reader never sees half a file.
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, text);
    renameSync(partial, file);
  }
  return file;
}

/** The entry and the loader, bundled in one esbuild run: their files in BUNDLE_DIR. */
function bundle(esbuild: Esbuild, tsEntry: string): { entry: string; loader: string } {
  const result = esbuild.buildSync({
    entryPoints: { entry: tsEntry, loader: LOADER_TS },
    outdir: BUNDLE_DIR,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    write: false,
    logLevel: 'silent',
  });
  const text = (name: string) => {
    const out = result.outputFiles?.find((f) => basename(f.path) === `${name}.js`)?.text;
    if (out === undefined) throw new Error(`esbuild produced no ${name}`);
    return out;
  };
  return { entry: writeOnce(basename(tsEntry).replace(/\.ts$/, ''), text('entry')), loader: writeOnce('worker-loader', text('loader')) };
}

/** Preloads of tsx: `tsx`, `tsx/…`, or a file of a tsx package (its preflight.cjs, loader.mjs …). */
function isTsxPreload(value: string): boolean {
  return value === 'tsx' || value.startsWith('tsx/') || /[\\/]node_modules[\\/]tsx[\\/]/.test(value);
}

const PRELOAD_FLAGS = ['--require', '-r', '--import', '--loader', '--experimental-loader'];

/**
 * The parent's node flags without tsx's preloads (`--require X`, `--import=X`, …), for workers
 * that load the bundle; undefined when there are none, and the workers inherit the flags as they are.
 */
export function withoutTsxPreloads(execArgv: readonly string[]): string[] | undefined {
  const kept: string[] = [];
  let dropped = false;
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    if (PRELOAD_FLAGS.includes(flag)) {
      const value = eq < 0 ? execArgv[i + 1] : arg.slice(eq + 1);
      if (value !== undefined && isTsxPreload(value)) {
        dropped = true;
        if (eq < 0) i++;
        continue;
      }
    }
    kept.push(arg);
  }
  return dropped ? kept : undefined;
}

/** Where the code cache of `bundleFile` goes: beside it, named by V8's version too (V8 refuses another's). */
function codeCacheFile(bundleFile: string): string {
  return `${bundleFile.replace(/\.cjs$/, '')}.v8-${process.versions.v8}-${process.arch}.cache`;
}

/** The file to hand piscina for the worker whose TypeScript entry is `tsEntry` (built once per process). */
export function workerFile(tsEntry: string): WorkerFile {
  const cached = built.get(tsEntry);
  if (cached) return cached;
  let result: WorkerFile = { filename: tsEntry, loader: 'tsx' };
  const esbuild = process.env.IRQWORK_WORKER_LOADER === 'tsx' ? null : loadEsbuild();
  if (esbuild) {
    try {
      const files = bundle(esbuild, tsEntry);
      result = {
        filename: files.loader,
        loader: 'bundle',
        workerData: { bundle: files.entry, codeCache: codeCacheFile(files.entry) },
        execArgv: withoutTsxPreloads(process.execArgv),
      };
    } catch {
      // Fall back to tsx: slower, but the same code.
    }
  }
  built.set(tsEntry, result);
  return result;
}
