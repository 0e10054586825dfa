import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites start real server processes; give them room on 2-core machines.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two files at a time even on 2 cores: most of a file's time is spent waiting on the processes it starts.
    maxWorkers: 2,
    execArgv: ['--enable-experimental-regexp-engine-on-excessive-backtracks'],
  },
});
