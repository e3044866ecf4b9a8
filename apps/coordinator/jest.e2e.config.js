module.exports = {
  ...require('../../jest.e2e.preset.js'),
  displayName: 'coordinator:e2e',
  rootDir: __dirname,
};
