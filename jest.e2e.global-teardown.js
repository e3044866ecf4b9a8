// Removes the bundle jest.e2e.global-setup.js built for this run.
const { rmSync } = require('node:fs');

module.exports = async function removeE2eBundle() {
  const dir = process.env.FEDTL_E2E_BUNDLE_DIR;
  if (dir) rmSync(dir, { recursive: true, force: true });
  delete process.env.FEDTL_BUILT_ENTRY;
  delete process.env.FEDTL_E2E_BUNDLE_DIR;
};
