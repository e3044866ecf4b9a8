// Generates the protobufjs static module for the wire protocol from proto/fedtl/v1/*.proto:
// src/generated/fedtl.js (encode/decode only) and its typings src/generated/fedtl.d.ts.
// The output is never edited by hand and never committed; `nx run protocol:generate` rebuilds it.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { pbjs, pbts } = require('protobufjs-cli');

const workspaceRoot = path.resolve(__dirname, '../../..');
const protoRoot = path.join(workspaceRoot, 'proto');
const protoDir = path.join(protoRoot, 'fedtl', 'v1');
const outDir = path.resolve(__dirname, '../src/generated');
const jsOut = path.join(outDir, 'fedtl.js');
const dtsOut = path.join(outDir, 'fedtl.d.ts');

function run(tool, args) {
  return new Promise((resolve, reject) => {
    tool.main(args, (err) => (err ? reject(err) : resolve()));
  });
}

async function main() {
  const protoFiles = fs
    .readdirSync(protoDir)
    .filter((file) => file.endsWith('.proto'))
    .sort()
    .map((file) => path.join(protoDir, file));
  if (protoFiles.length === 0) throw new Error(`expected .proto files in ${protoDir}, found none`);

  fs.mkdirSync(outDir, { recursive: true });
  await run(pbjs, [
    '--target', 'static-module',
    '--wrap', 'commonjs',
    '--path', protoRoot,
    // Only the codec's encode/decode are used; the rest would be unreviewed surface.
    '--no-create', '--no-verify', '--no-convert', '--no-delimited', '--no-typeurl', '--no-service',
    // Every integer in the protocol is 32-bit, so numbers never need Long.
    '--force-number',
    '--out', jsOut,
    ...protoFiles,
  ]);
  await run(pbts, ['--out', dtsOut, jsOut]);
}

main().catch((err) => {
  process.stderr.write(`protocol:generate failed: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
