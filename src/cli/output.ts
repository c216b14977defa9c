/**
 * Where the latency and bench commands write: progress lines on stderr only when stderr is a
 * terminal (pipes and files stay clean), and results on stdout, flushed before the command returns
 * (the CLI exits right after, and a pipe takes large output asynchronously).
 */
export type Progress = (message: string) => void;

export function stderrProgress(enabled = process.stderr.isTTY === true): Progress {
  if (!enabled) return () => {};
  return (message) => process.stderr.write(`irqwork: ${message}\n`);
}

/** Writes `text` and a newline to stdout and resolves once it has been handed to the OS. */
export function printOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(`${text}\n`, (error) => (error ? reject(error) : resolve()));
  });
}
