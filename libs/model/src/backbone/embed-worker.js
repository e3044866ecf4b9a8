'use strict';
// Entry of the embedding pool's worker threads. The pool runs from TypeScript sources (under tsx in the apps,
// under Jest in tests) while a worker starts as a bare Node.js thread, so this plain-JS entry registers tsx,
// pointed at the tsconfig that maps the @fedtl/* aliases, and then loads the TypeScript body. The worker's
// process.env is its own copy: setting it here does not touch the parent's.
const { workerData } = require('node:worker_threads');

if (workerData.tsconfigPath) process.env.TSX_TSCONFIG_PATH = workerData.tsconfigPath;
require('tsx/cjs/api').register();
require('./embed-worker-impl.ts');
