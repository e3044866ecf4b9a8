// The update every wire transfer carries: one float32 tensor of P values, drawn from a seeded generator at the
// scale of a real adapter delta (values of order 1e-2), with the ids and metrics of a real client's Update.
import type { Update } from '@fedtl/protocol';
import { seededRandom } from '@fedtl/util';

/** An Update of one tensor `adapter/delta` of shape [P], float32, values uniform in [-0.01, 0.01). */
export function benchUpdate(floats: number, seed: number): Update {
  const random = seededRandom(seed);
  const data = new Float32Array(floats);
  for (let i = 0; i < floats; i++) data[i] = (random() - 0.5) * 0.02;
  return {
    runId: 'bench-wire',
    round: 1,
    clientId: 'client-1',
    delta: [{ name: 'adapter/delta', shape: [floats], dtype: 'float32', data }],
    numExamples: 1000,
    metrics: { loss: 0.5, accuracy: 0.8 },
  };
}

/** The update's float32 values as bytes (a view, no copy): what the raw TCP ceiling writes. */
export function payloadBytes(update: Update): Uint8Array {
  const data = update.delta[0].data;
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
