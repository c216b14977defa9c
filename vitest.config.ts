import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Files that start CPU workers load .ts worker files through piscina; tsx's require hook lets
    // the workers compile them (vitest compiles only the test files themselves).
    execArgv: ['--require', 'tsx/cjs'],
    // Machine tests start many threads on a 2-core box: one file at a time keeps them honest.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    benchmark: {
      include: ['bench/**/*.bench.ts'],
    },
  },
});
