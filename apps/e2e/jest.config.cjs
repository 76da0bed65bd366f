module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'e2e',
  // Stacks of real processes: one file at a time keeps the 2-core machine's timings honest.
  maxWorkers: 1,
  testTimeout: 60_000,
};
