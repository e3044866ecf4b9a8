// The `e2e` target's preset: only the `*.e2e.spec.ts` files, the specs that start separate processes or a
// browser or run long federations. Everything else about Jest is the `test` target's preset.
module.exports = {
  ...require('./jest.preset.js'),
  testMatch: ['**/*.e2e.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  // Whole federations of separate processes: minutes on a loaded 2-core machine are normal, and a test must not
  // fail because the machine is busy. Each test still waits on its own events with its own bounds.
  testTimeout: 300_000,
  globalSetup: require.resolve('./jest.e2e.global-setup.js'),
  globalTeardown: require.resolve('./jest.e2e.global-teardown.js'),
};
