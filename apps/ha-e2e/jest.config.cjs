module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'ha-e2e',
  // Its own failover test, and apps/e2e's whole suite run again with a Redis Cluster as the
  // private Redis of every stack (test/on-cluster.cjs sets CORRAL_TEST_REDIS=cluster).
  roots: ['<rootDir>/test', '<rootDir>/../e2e/test'],
  testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/../e2e/test/**/*.test.ts'],
  setupFiles: ['<rootDir>/test/on-cluster.cjs'],
  // Stacks of real processes: one file at a time keeps the 2-core machine's timings honest.
  maxWorkers: 1,
  testTimeout: 60_000,
};
