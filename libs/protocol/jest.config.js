module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'protocol',
  rootDir: __dirname,
  // Generated protobufjs code is tested through the codec, not measured on its own.
  coveragePathIgnorePatterns: ['/node_modules/', '/generated/', '/testing/'],
};
