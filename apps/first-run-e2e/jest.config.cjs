module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: 'first-run-e2e',
  // A fresh clone is installed, built and started: one file at a time, with room for it.
  maxWorkers: 1,
  testTimeout: 420_000,
};
