// Each test loads a fresh copy of the backend module, because the choice is made once per process by design
// (tfjs-core's engine itself stays shared: it lives on globalThis). Log lines are read from a sink given to that
// fresh copy's logger (the logger is fresh too, and silent until configured).
// These tests describe a machine without the native bindings, whatever this machine has installed. (jest.mock
// calls are hoisted above everything, so each factory is self-contained.)
jest.mock(
  '@tensorflow/tfjs-node-gpu',
  () => {
    throw Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node-gpu'"), { code: 'MODULE_NOT_FOUND' });
  },
  { virtual: true },
);
jest.mock(
  '@tensorflow/tfjs-node',
  () => {
    throw Object.assign(new Error("Cannot find module '@tensorflow/tfjs-node'"), { code: 'MODULE_NOT_FOUND' });
  },
  { virtual: true },
);

type BackendModule = typeof import('./backend');
type Tf = typeof import('@tensorflow/tfjs-core');

async function fresh<T>(body: (backend: BackendModule, tf: Tf, logLines: string[]) => Promise<T>): Promise<T> {
  let result!: T;
  const logLines: string[] = [];
  await jest.isolateModulesAsync(async () => {
    (require('@fedtl/util') as typeof import('@fedtl/util')).configureLogging({ level: 'info', format: 'json', sink: { write: (line) => logLines.push(line) } });
    result = await body(require('./backend'), require('@tensorflow/tfjs-core'), logLines);
  });
  return result;
}

// tfjs-core keeps its engine and kernel registry on globalThis, so every fresh copy re-registers the same
// kernels and warns about it; that noise is an artefact of loading the module several times in one process.
beforeAll(() => jest.spyOn(console, 'warn').mockImplementation(() => undefined));
afterAll(() => jest.restoreAllMocks());

const selectedLines = (lines: string[]) => lines.map((line) => JSON.parse(line)).filter((event) => event.module === 'backend' && event.msg === 'backend selected');

describe('selectBackend', () => {
  // First: tfjs-core's engine is process-global, so this must run before any test selects a backend.
  it('leaves tensors usable on cpu until a backend is selected (importing it registers no wasm)', async () => {
    await fresh(async ({ selectedBackend }, tf) => {
      expect(tf.findBackendFactory('wasm')).toBeNull();
      expect(tf.tidy(() => tf.sum(tf.tensor1d([1, 2])).arraySync())).toBe(3);
      expect(tf.getBackend()).toBe('cpu');
      expect(selectedBackend()).toBeUndefined();
    });
  });

  it('falls back to wasm where the native binding is not installed, and wasm computes correctly', async () => {
    await fresh(async ({ selectBackend, selectedBackend }, tf) => {
      expect(await selectBackend()).toBe('wasm');
      expect(tf.getBackend()).toBe('wasm');
      expect(selectedBackend()).toEqual({ name: 'wasm', provider: '@tensorflow/tfjs-backend-wasm' });
      const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])));
      expect(Array.from(await product.data())).toEqual([19, 22, 43, 50]);
      product.dispose();
    });
  });

  it('is idempotent and logs its choice once', async () => {
    await fresh(async ({ selectBackend }, _tf, lines) => {
      const [first, second] = await Promise.all([selectBackend(), selectBackend()]);
      expect(await selectBackend('wasm')).toBe('wasm');
      expect([first, second]).toEqual(['wasm', 'wasm']);
      const selected = selectedLines(lines);
      expect(selected).toHaveLength(1);
      expect(selected[0]).toMatchObject({ backend: 'wasm', provider: '@tensorflow/tfjs-backend-wasm' });
    });
  });

  it('honours a preferred backend', async () => {
    await fresh(async ({ selectBackend }, tf) => {
      expect(await selectBackend('cpu')).toBe('cpu');
      expect(tf.getBackend()).toBe('cpu');
    });
  });

  it('says clearly why a preferred backend is unavailable', async () => {
    await fresh(async ({ selectBackend }) => {
      await expect(selectBackend('tensorflow')).rejects.toMatchObject({
        code: 'FEDTL_ERR_BAD_CONFIG',
        message: expect.stringMatching(/backend "tensorflow" is unavailable: .*@tensorflow\/tfjs-node-gpu is not installed/),
      });
      // A failed preference leaves the choice open.
      expect(await selectBackend()).toBe('wasm');
    });
  });

  it('refuses to switch once a backend is chosen, and rejects unknown names', async () => {
    await fresh(async ({ selectBackend }) => {
      await selectBackend('wasm');
      await expect(selectBackend('cpu')).rejects.toThrow('backend "cpu" was requested, but "wasm" was already selected');
      await expect(selectBackend('webgl' as never)).rejects.toThrow('backend must be one of tensorflow, wasm, cpu; got "webgl"');
    });
  });
});
