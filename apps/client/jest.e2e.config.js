module.exports = {
  ...require('../../jest.e2e.preset.js'),
  displayName: 'client:e2e',
  rootDir: __dirname,
};
