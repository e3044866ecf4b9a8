// The body of one embedding-pool worker thread: loads the backbone once, then embeds the batches it is sent, one
// at a time, and sends the features back (their buffer transferred, not copied).
import { configureLogging, serveRpc, type LogLevel } from '@fedtl/util';
import type { BackendName } from '../backend';
import { loadBackbone } from './load-backbone';

export interface EmbedWorkerPayload {
  spec: string;
  backend?: BackendName;
  batchSize?: number;
  /** The parent's logging (loggingSettings()): its format, and its level raised to at least warn. */
  logging: { level: LogLevel; format: 'pretty' | 'json' };
}

/** What the worker reports once its backbone is loaded. */
export interface EmbedWorkerInfo {
  dim: number;
}

serveRpc<EmbedWorkerPayload>(async (init) => {
  // N workers would log the same start-up lines N times; the pool logs once for all of them.
  configureLogging({ level: init.logging.level === 'error' || init.logging.level === 'silent' ? init.logging.level : 'warn', format: init.logging.format });
  const backbone = await loadBackbone(init.spec, { backend: init.backend, batchSize: init.batchSize });
  const info: EmbedWorkerInfo = { dim: backbone.dim };
  return {
    info,
    methods: {
      embed: async (texts: string[]) => {
        const vectors = await backbone.embed(texts);
        return { result: vectors, transfer: [vectors.buffer as ArrayBuffer] };
      },
    },
  };
});
