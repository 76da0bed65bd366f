module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'fleet-e2e',
  // Three hosts of real processes on a 2-core machine: one file at a time.
  maxWorkers: 1,
  testTimeout: 60_000,
};
