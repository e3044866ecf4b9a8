import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/node_modules', '**/dist', '**/generated', 'tmp', 'out', '.nx'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          // The `fedtl` command (apps/cli, type:cli) is the one project that imports apps: their command specs.
          allow: ['@fedtl/coordinator', '@fedtl/client', '@fedtl/bench'],
          // Commands import their heavy modules with import() so that --help starts fast; there are no lazy
          // chunks to protect (the bundle is one file), so a lib may be imported both ways.
          checkDynamicDependenciesExceptions: ['@fedtl/**'],
          depConstraints: [
            { sourceTag: 'type:cli', onlyDependOnLibsWithTags: ['type:app', 'type:lib'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'layer:domain', onlyDependOnLibsWithTags: ['layer:protocol', 'layer:base'] },
            { sourceTag: 'layer:protocol', onlyDependOnLibsWithTags: ['layer:base'] },
            { sourceTag: 'layer:base', onlyDependOnLibsWithTags: ['layer:base'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['libs/**/*.ts'],
    ignores: ['**/*.spec.ts', 'libs/util/src/testing/**'],
    rules: { 'no-console': 'error' },
  },
];
