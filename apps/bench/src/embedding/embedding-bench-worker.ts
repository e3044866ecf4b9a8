// The body of one `bench embedding` worker thread: one backend, chosen for this thread alone (each thread has its
// own TF.js), holding USE lite once, embedding with three batchings (one text per pass, on the stock kernels or
// fedtl's; fixed batches in input order; length buckets), and its tokenizer. It times the single-thread configurations, profiles the graph, counts its FLOPs and measures the
// backend's dense matmul rate, all on the backend of this thread, so two backends can be measured in one run.
import * as tf from '@tensorflow/tfjs-core';
import { loadUseLite, loadUseLiteTokenizer, selectBackend, selectedBackend, useStockWasmBatchMatMul, type BackendName, type UseLiteBackbone } from '@fedtl/model';
import { configureLogging, serveRpc, type LoggingSettings } from '@fedtl/util';
import { kernelFlops } from './kernel-flops';
import { median } from './throughput';
import type { SingleThreadConfiguration } from './configurations';

export interface EmbeddingBenchWorkerPayload {
  backend: BackendName;
  /** Texts per forward pass of the batched and bucketed configurations. */
  batchSize: number;
  logging: LoggingSettings;
}

/** What the thread reports once its backbone is loaded. */
export interface EmbeddingBenchWorkerInfo {
  backend: BackendName;
  provider: string;
  /** Tokens per text the graph reads. */
  maxTokens: number;
  /** tfjs-backend-wasm's flags in this thread (undefined on other backends). */
  wasmSimd?: boolean;
  wasmMultithread?: boolean;
}

/**
 * Per kernel over one profiled call: runs, kernel milliseconds, FLOPs counted from its shapes. BatchMatMul is split
 * by what it multiplies: 2-D products with a weight, and batched products of two activations (attention).
 */
export interface KernelTotals {
  name: string;
  runs: number;
  ms: number;
  flops: number;
  /** Whether the backend has its own kernel of this name (false would mean a fallback). */
  registered: boolean;
}

export interface GraphProfile {
  texts: number;
  wallMs: number;
  kernels: KernelTotals[];
  /** Bytes and tensors allocated over the call (tf.profile's newBytes, newTensors, peakBytes). */
  newBytes: number;
  newTensors: number;
  peakBytes: number;
}

function envFlag(name: string): boolean | undefined {
  try {
    return tf.env().getBool(name);
  } catch {
    return undefined;
  }
}

serveRpc<EmbeddingBenchWorkerPayload>(async (init) => {
  configureLogging({ ...init.logging, level: 'warn' });
  await selectBackend(init.backend);
  const backbone: UseLiteBackbone = await loadUseLite();
  const batchings: Record<SingleThreadConfiguration, { batchSize: number; bucketByLength: boolean }> = {
    naive: { batchSize: 1, bucketByLength: false },
    unbatched: { batchSize: 1, bucketByLength: false },
    batched: { batchSize: init.batchSize, bucketByLength: false },
    bucketed: { batchSize: init.batchSize, bucketByLength: true },
  };
  // The baseline runs on the stock kernels; the others on fedtl's (installed by selectBackend on wasm).
  const embed = async (configuration: SingleThreadConfiguration, texts: string[]) => {
    useStockWasmBatchMatMul(configuration === 'naive');
    try {
      return await backbone.embedWith(texts, batchings[configuration]);
    } finally {
      useStockWasmBatchMatMul(false);
    }
  };
  const tokenizer = await loadUseLiteTokenizer();
  const info: EmbeddingBenchWorkerInfo = {
    backend: init.backend,
    provider: selectedBackend()?.provider ?? init.backend,
    maxTokens: backbone.maxTokens,
    ...(init.backend === 'wasm' ? { wasmSimd: envFlag('WASM_HAS_SIMD_SUPPORT'), wasmMultithread: envFlag('WASM_HAS_MULTITHREAD_SUPPORT') } : {}),
  };

  const profile = async (configuration: SingleThreadConfiguration, texts: string[]): Promise<GraphProfile> => {
    const started = performance.now();
    const info = await tf.profile(async () => {
      await embed(configuration, texts);
    });
    const wallMs = performance.now() - started;
    const byName = new Map<string, KernelTotals>();
    for (const kernel of info.kernels) {
      // Products of two activations (attention's, batched over texts and heads) apart from those with a weight.
      const batched = kernel.name === 'BatchMatMul' && (kernel.inputShapes[0]?.length ?? 0) > 2;
      const label = batched ? 'BatchMatMul (batched, attention)' : kernel.name === 'BatchMatMul' ? 'BatchMatMul (2-D, weights)' : kernel.name;
      const totals = byName.get(label) ?? { name: label, runs: 0, ms: 0, flops: 0, registered: tf.getKernel(kernel.name, init.backend) !== undefined };
      totals.runs++;
      totals.ms += typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
      totals.flops += kernelFlops({ name: kernel.name, inputShapes: kernel.inputShapes, outputShapes: kernel.outputShapes });
      byName.set(label, totals);
    }
    const kernels = [...byName.values()].sort((a, b) => b.ms - a.ms);
    return { texts: texts.length, wallMs, kernels, newBytes: info.newBytes, newTensors: info.newTensors, peakBytes: info.peakBytes };
  };

  return {
    info,
    methods: {
      /** Seconds to embed `texts` with one configuration, and whether the call left tensors behind. */
      embed: async ({ configuration, texts }: { configuration: SingleThreadConfiguration; texts: string[] }) => {
        const tensors = tf.memory().numTensors;
        const started = performance.now();
        await embed(configuration, texts);
        const seconds = (performance.now() - started) / 1000;
        return { result: { seconds, leakedTensors: tf.memory().numTensors - tensors } };
      },
      /** Seconds the tokenizer alone takes over `texts`, and each text's token count (at the tokenizer's cap). */
      tokenize: ({ texts }: { texts: string[] }) => {
        const started = performance.now();
        const tokens = texts.map((text) => tokenizer.encode(text).length);
        return { result: { seconds: (performance.now() - started) / 1000, tokens } };
      },
      profile: async ({ configuration, texts }: { configuration: SingleThreadConfiguration; texts: string[] }) => ({ result: await profile(configuration, texts) }),
      /** FLOPs of one text of exactly `tokens` tokens ("a a a …", one token per word), from its profiled kernels. */
      textFlops: async ({ tokens }: { tokens: number[] }) => {
        const result: Array<{ tokens: number; flops: number }> = [];
        for (const n of tokens) {
          const text = Array.from({ length: n }, () => 'a').join(' ');
          const counted = tokenizer.encode(text).length;
          if (counted !== n) throw new Error(`"a a …" of ${n} words should be ${n} tokens; the tokenizer gives ${counted}`);
          const { kernels } = await profile('naive', [text]);
          result.push({ tokens: n, flops: kernels.reduce((sum, k) => sum + k.flops, 0) });
        }
        return { result };
      },
      /**
       * The backend's dense matmul rate: GFLOP/s of [m, k] x [k, n] with the right-hand side held like a weight
       * (created once, as the model's weights are), median over `runs` timed products after one warm-up.
       */
      matmul: async ({ m, k, n, runs }: { m: number; k: number; n: number; runs: number }) => {
        const a = tf.randomNormal([m, k], 0, 1, 'float32', 1);
        const b = tf.randomNormal([k, n], 0, 1, 'float32', 2);
        try {
          const once = async () => {
            const started = performance.now();
            const product = tf.matMul(a, b);
            await product.data();
            product.dispose();
            return (performance.now() - started) / 1000;
          };
          await once();
          const seconds: number[] = [];
          for (let run = 0; run < runs; run++) seconds.push(await once());
          return { result: { gflops: (2 * m * k * n) / median(seconds) / 1e9, seconds: median(seconds) } };
        } finally {
          tf.dispose([a, b]);
        }
      },
    },
  };
});
