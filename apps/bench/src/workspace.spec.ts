import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestSandbox } from '@fedtl/util/testing';
import { WORKSPACE_ROOT, findWorkspaceRoot } from './workspace';

describe('findWorkspaceRoot', () => {
  const sandbox = useTestSandbox();

  it('is the nearest folder above whose package.json is named "fedtl", from the sources as from the bundle', () => {
    const root = join(sandbox.dir, 'checkout');
    mkdirSync(join(root, 'dist', 'fedtl'), { recursive: true });
    mkdirSync(join(root, 'apps', 'bench', 'src'), { recursive: true });
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fedtl' }));
    writeFileSync(join(root, 'apps', 'bench', 'package.json'), JSON.stringify({ name: 'not-the-root' }));
    expect(findWorkspaceRoot(join(root, 'dist', 'fedtl'))).toBe(root);
    expect(findWorkspaceRoot(join(root, 'apps', 'bench', 'src'))).toBe(root);
    expect(() => findWorkspaceRoot(join(sandbox.dir))).toThrow(/no package.json named "fedtl"/);
    expect(existsSync(join(WORKSPACE_ROOT, 'apps', 'bench', 'src', 'workspace.ts'))).toBe(true);
  });
});
