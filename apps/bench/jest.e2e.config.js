module.exports = {
  ...require('../../jest.e2e.preset.js'),
  displayName: 'bench:e2e',
  rootDir: __dirname,
};
