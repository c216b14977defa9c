/**
 * The first file of every machine worker when the worker code is bundled (util/worker-bundle.ts
 * bundles this file too, and hands it to piscina): loads the worker bundle through V8's code cache
 * and passes every task on to it.
 *
 * Why: every worker is its own V8 isolate, and V8 caches compiled code per isolate only, so each
 * of up to 256 workers parsed and compiled the same bundle, and then compiled lazily each function
 * its CPU's boot called. A code cache (V8's serialized bytecode, checked against V8's version and
 * flags and the source) skips both: with it, loading the bundle and booting the CPU took 6–9 ms
 * less CPU time per worker (docs/LATENCY.md, "Start-up").
 *
 * Which cache: the bundle's file name carries a hash of its content, and the cache's name the
 * bundle's and V8's version — V8 checks a cache against its source's length only, so a cache must
 * never meet another source. A worker that found none, or one that V8 refused, writes one with
 * `script.createCachedData()` after its first simulated CPU's task (machine.ts CpuTaskBase: it
 * carries the shared memory's handle and the CPU's number): by then the cache holds every
 * function of the model's boot and run paths that the task ran, which every later start runs
 * again, not only the bundle's top level; a bench baseline's task compiles next to nothing.
 *
 * No module hooks here: the bundle and this file are plain CommonJS, and a worker loads neither
 * through tsx.
 */
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import type { CodeCacheUse, LoaderData, WorkerLoadReport } from './worker-bundle.js';

type Handler = (task: unknown) => unknown;

const { bundle, codeCache } = workerData as LoaderData;

/** The cache file as this worker found it (null: none), to see whether another worker replaced it since. */
function cacheStamp(): string | null {
  try {
    const s = statSync(codeCache);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return null;
  }
}

const foundStamp = cacheStamp();
let cachedData: Buffer | undefined;
try {
  cachedData = readFileSync(codeCache);
} catch {
  // No cache yet: this worker compiles, and writes one after its first CPU task.
}
// The same wrapper as Node's require() puts around a CommonJS file.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8')}\n})`, {
  filename: bundle,
  ...(cachedData ? { cachedData } : {}),
});
const use: CodeCacheUse = cachedData === undefined ? 'absent' : script.cachedDataRejected === true ? 'rejected' : 'accepted';
const mod: { exports: Record<string, unknown> } = { exports: {} };
(script.runInThisContext() as (...args: unknown[]) => void).call(mod.exports, mod.exports, createRequire(bundle), mod, bundle, dirname(bundle));
const handler = mod.exports.default as Handler;

// The machine counts how its workers loaded (piscina passes other messages from a worker on as
// the pool's 'message' event).
const report: WorkerLoadReport = { irqworkWorkerLoad: { codeCache: use } };
parentPort?.postMessage(report);

let cacheToWrite = use !== 'accepted';

function isCpuTask(task: unknown): boolean {
  return typeof task === 'object' && task !== null && 'handle' in task && 'cpu' in task;
}

function writeCodeCache(): void {
  cacheToWrite = false;
  // Every worker of a first start finds no cache; the first one done writes it, and the others
  // see that it has changed since they looked. Written aside and renamed: no reader sees half a file.
  if (cacheStamp() !== foundStamp) return;
  const partial = `${codeCache}.${process.pid}-${threadId}.partial`;
  try {
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, codeCache);
  } catch {
    // Without a cache every worker compiles the bundle itself: slower to start, nothing else.
    try {
      rmSync(partial, { force: true });
    } catch {
      // A stray partial file in the bundle directory: harmless.
    }
  }
}

export default function loadedWorker(task: unknown): unknown {
  const result = handler(task);
  if (cacheToWrite && isCpuTask(task)) writeCodeCache();
  return result;
}
