// Shared Jest settings: SWC transpiles TypeScript (type checking is the `typecheck` target's job),
// and the @fedtl/* aliases resolve to sources exactly as tsconfig.base.json maps them. This is the fast `test`
// target's preset: no `*.e2e.spec.ts` (processes, a browser, long federations; see jest.e2e.preset.js).
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(__dirname, target);
}

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '\\.e2e\\.spec\\.ts$'],
  testTimeout: 60_000,
};
