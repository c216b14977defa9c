/**
 * Output file flags (`--histfile`, `--svg` …), checked before a run starts: a run of minutes that
 * measures first and only then finds it cannot write its result has wasted the minutes. Looking
 * at the path is not enough (`/proc/x` has an existing directory and still cannot be created), so
 * the check really opens the file for writing the way the command will, without changing it.
 */
import { accessSync, closeSync, constants, openSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Errors, type UsageError } from '../errors.js';

/**
 * The absolute path to write `--flag`'s file to, or undefined when the flag is not given. Throws
 * a one-line UsageError when the file could not be written: a directory that does not exist, a
 * path that is a directory or lies under a file, a place where no file can be created.
 */
export function checkOutputPath(flag: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw Errors.outputNeedsName(flag);
  const path = resolve(value);
  const existing = statOrNull(path);
  if (existing?.isDirectory()) throw Errors.outputIsDirectory(flag, value);
  try {
    if (existing && !existing.isFile()) {
      // A device or FIFO (/dev/null, a named pipe): opening a FIFO with no reader would block,
      // so only ask whether we may write it.
      accessSync(path, constants.W_OK);
    } else if (existing) {
      // Append mode: the file is opened for writing but its content stays until the run writes.
      closeSync(openSync(path, 'a'));
    } else {
      tryCreate(path);
    }
  } catch (e) {
    throw explain(flag, value, path, e as NodeJS.ErrnoException);
  }
  return path;
}

/** Creates the file and removes it again: a run that fails later leaves no empty file behind. */
function tryCreate(path: string): void {
  try {
    closeSync(openSync(path, 'wx'));
  } catch (e) {
    // Created meanwhile, or a dangling symbolic link: writable if it opens for appending.
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    closeSync(openSync(path, 'a'));
    return;
  }
  unlinkSync(path);
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null; // missing, or under a file: opening it says which
  }
}

function explain(flag: string, value: string, path: string, e: NodeJS.ErrnoException): UsageError {
  switch (e.code) {
    case 'EISDIR':
      return Errors.outputIsDirectory(flag, value);
    case 'ENOENT': {
      const dir = dirname(path);
      const dirStat = statOrNull(dir);
      if (dirStat === null) return Errors.outputDirMissing(flag, dirname(value));
      return Errors.outputNotWritable(flag, value, 'no file can be created there');
    }
    case 'ENOTDIR': {
      const file = firstExistingAncestor(path);
      return Errors.outputNotWritable(flag, value, file === null ? 'a part of the path is not a directory' : `${JSON.stringify(file)} is not a directory`);
    }
    case 'EACCES':
    case 'EPERM':
      return Errors.outputNotWritable(flag, value, 'permission denied');
    case 'EROFS':
      return Errors.outputNotWritable(flag, value, 'read-only file system');
    default:
      return Errors.outputNotWritable(flag, value, e.code ?? e.message.split('\n')[0]!);
  }
}

/** The nearest ancestor of `path` that exists (for ENOTDIR: the file the path runs through). */
function firstExistingAncestor(path: string): string | null {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const s = statOrNull(dir);
    if (s) return s.isDirectory() ? null : dir;
    if (dirname(dir) === dir) return null;
  }
}
