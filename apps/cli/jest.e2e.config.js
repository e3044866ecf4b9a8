module.exports = {
  ...require('../../jest.e2e.preset.js'),
  displayName: 'cli:e2e',
  rootDir: __dirname,
};
