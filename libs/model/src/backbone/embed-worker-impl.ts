// The body of one embedding-pool worker thread: loads the backbone once, then embeds the batches it is sent, one
// at a time, and sends the features back (their buffer transferred, not copied).
import { parentPort, workerData } from 'node:worker_threads';
import { configureLogging, toFedtlError } from '@fedtl/util';
import type { BackendName } from '../backend';
import { loadBackbone } from './load-backbone';

export interface EmbedWorkerData {
  spec: string;
  backend?: BackendName;
  batchSize?: number;
  /** The tsconfig tsx resolves the @fedtl/* aliases with (read by embed-worker.js). */
  tsconfigPath?: string;
}

export interface EmbedRequest {
  id: number;
  texts: string[];
}

export type EmbedReply =
  | { type: 'ready'; dim: number }
  | { type: 'result'; id: number; vectors: Float32Array }
  | { type: 'failed'; id?: number; code: string; message: string };

async function serve(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('embed-worker-impl runs only as a worker thread');
  const init = workerData as EmbedWorkerData;
  const reply = (message: EmbedReply, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
  // N workers would log the same start-up lines N times; the pool logs once for all of them.
  configureLogging({ level: 'warn' });
  let backbone;
  try {
    backbone = await loadBackbone(init.spec, { backend: init.backend, batchSize: init.batchSize });
  } catch (err) {
    const error = toFedtlError(err);
    reply({ type: 'failed', code: error.code, message: error.message });
    return;
  }
  const loaded = backbone;
  let queue = Promise.resolve();
  port.on('message', (request: EmbedRequest) => {
    queue = queue.then(async () => {
      try {
        const vectors = await loaded.embed(request.texts);
        reply({ type: 'result', id: request.id, vectors }, [vectors.buffer as ArrayBuffer]);
      } catch (err) {
        const error = toFedtlError(err);
        reply({ type: 'failed', id: request.id, code: error.code, message: error.message });
      }
    });
  });
  reply({ type: 'ready', dim: loaded.dim });
}

void serve();
