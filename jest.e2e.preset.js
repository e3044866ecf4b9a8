// The `e2e` target's preset: only the `*.e2e.spec.ts` files, the specs that start separate processes or a
// browser or run long federations. Everything else about Jest is the `test` target's preset.
module.exports = {
  ...require('./jest.preset.js'),
  testMatch: ['**/*.e2e.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
};
