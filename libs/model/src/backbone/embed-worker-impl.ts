// The body of one embedding-pool worker thread: loads the backbone once, then embeds the batches it is sent, one
// at a time, and sends the features back (their buffer transferred, not copied).
import { configureLogging, serveRpc, type LoggingSettings } from '@fedtl/util';
import type { BackendName } from '../backend';
import { loadBackbone } from './load-backbone';

export interface EmbedWorkerPayload {
  spec: string;
  backend?: BackendName;
  batchSize?: number;
  /** The parent's loggingSettings(): its format and context fields, and its level raised to at least warn. */
  logging: LoggingSettings;
}

/** What the worker reports once its backbone is loaded. */
export interface EmbedWorkerInfo {
  dim: number;
}

serveRpc<EmbedWorkerPayload>(async (init) => {
  // N workers would log the same start-up lines N times; the pool logs once for all of them.
  const { level } = init.logging;
  configureLogging({ ...init.logging, level: level === 'error' || level === 'silent' ? level : 'warn' });
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
