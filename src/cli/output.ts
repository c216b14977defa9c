/**
 * Results on stdout, flushed before the command returns (the CLI exits right after, and a pipe
 * takes large output asynchronously). Progress goes elsewhere: run-progress.ts, on a terminal only.
 */

/** Writes `text` and a newline to stdout and resolves once it has been handed to the OS. */
export function printOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${text}\n`, (error) => (error ? reject(error) : resolve()));
  });
}
