// Plain domain types for everything that crosses the wire. Only codec.ts knows the generated protobuf
// classes; the rest of fedtl speaks these types.
import type { ErrorCode } from '@fedtl/util';
import type { PrivacyPolicy } from '@fedtl/privacy';

export const PROTOCOL_VERSION = 1;

export type DType = 'float32' | 'int32';

/** How a tensor's values are laid out in its `bytes` field. v1 clients all speak `raw` (little-endian). */
export type TensorEncoding = 'raw' | 'float16' | 'int8' | 'sparse';

/**
 * How a round asks the clients to encode their deltas (round.proto UpdateCompression, docs/PROTOCOL.md §7.2).
 * `raw` is float32, exact; `float16` and `int8` quantise every value; `sparse` sends the ceil(topkFraction · n)
 * largest-magnitude values of each n-value tensor after adding the client's error-feedback residual (Stich,
 * Cordonnier, Jaggi, "Sparsified SGD with Memory", NeurIPS 2018), topkFraction in (0, 1].
 */
export type UpdateCompression = { encoding: 'raw' | 'float16' | 'int8' } | { encoding: 'sparse'; topkFraction: number };

export type TensorData = Float32Array | Int32Array;

/**
 * A tensor identified by name, e.g. `adapter/down/kernel`. Data is row-major. A decoded tensor's data may be a
 * view into the received message's bytes (no copy): treat it as read-only, and copy what you keep or change.
 */
export interface NamedTensor {
  name: string;
  shape: number[];
  dtype: DType;
  data: TensorData;
}

export interface BackboneRef {
  /** Human-readable id, e.g. `use-lite` or `tfjs-model:/models/bert`. */
  id: string;
  /** sha256 (hex) over the backbone weights and vocabulary: pins the exact backbone both sides use. */
  contentHash: string;
  /** Width of the feature vectors the backbone produces. */
  dim: number;
}

/** Which trainable part every client builds; sent in Welcome so all clients agree. */
export interface ModelSpec {
  inputDim: number;
  /** Bottleneck width of the residual adapter; 0 disables the adapter. */
  adapterWidth: number;
  head: 'linear' | 'mlp';
  /** Hidden width of an MLP head (ignored for `linear`). */
  headHidden: number;
  labels: string[];
  /** Low-rank adapters inside the backbone's encoder (use-lite only); absent: the backbone is frozen. */
  lora?: LoraSpec;
}

/** The projections of a Transformer layer that LoRA can adapt. */
export const LORA_TARGETS = ['query', 'key', 'value', 'output', 'ffn-inner', 'ffn-outer'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

/**
 * LoRA (Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022,
 * https://arxiv.org/abs/2106.09685): every targeted projection kernel W [in, out] of the chosen encoder layers runs
 * as W + (alpha / rank)·A·B with A [in, rank] and B [rank, out] trainable; W stays frozen and is pinned by the
 * backbone's content hash, so only A and B travel.
 */
export interface LoraSpec {
  /** Rank r of every A·B pair, ≥ 1. */
  rank: number;
  /** The scaling numerator α > 0: the update is scaled by α / r (the paper's §4.1). */
  alpha: number;
  /** Encoder layers (0-based), ascending and distinct. */
  layers: number[];
  /** Projections adapted in each of those layers, distinct, in LORA_TARGETS order. */
  targets: LoraTarget[];
}

export interface TrainingConfig {
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  optimizer: 'sgd' | 'adam';
  /** The round's seed; each client mixes in its own id (deriveSeed) for its shuffles, so runs repeat exactly. */
  seed: number;
  /**
   * FedProx's proximal coefficient μ ≥ 0: the client adds μ/2·‖w − w_global‖² over the tensors it trains, with
   * w_global the plan's weights. Absent or 0: no proximal term (FedAvg).
   */
  proximalMu?: number;
  /**
   * Per-FedAvg's inner step size α > 0 (first-order variant, Fallah et al., NeurIPS 2020): each local step is an
   * SGD step of size α on one batch, then the plan's optimizer step with the gradient at that adapted point on the
   * next batch. Absent or 0: ordinary local steps. Never together with proximalMu.
   */
  metaInnerLearningRate?: number;
  /**
   * Record-level DP-SGD's clipping bound C > 0 on one example's gradient (L2, all trained tensors together): the
   * client trains by DP-SGD with Poisson sampling (libs/model dp-sgd.ts). Absent or 0: no DP-SGD. Never together
   * with proximalMu or metaInnerLearningRate.
   */
  recordClipNorm?: number;
  /** DP-SGD's noise multiplier σ ≥ 0: noise of standard deviation σ·C on the clipped sum. Only with recordClipNorm. */
  recordNoiseMultiplier?: number;
  /**
   * Client-level DP-FedAvg's bound S > 0 on the L2 norm of a client's whole delta: the client scales its delta to
   * at most S before sending or masking it, and the coordinator weighs every update equally. Absent or 0: none.
   */
  updateClipNorm?: number;
  /**
   * The standard deviation of the Gaussian noise the client adds to every coordinate of its clipped delta (under
   * secure aggregation, each client's share of the sum's noise). Absent or 0: none. Only with updateClipNorm.
   */
  updateNoiseStddev?: number;
  /** How the client encodes its Update's delta. Absent: raw float32 (an older coordinator's plan says nothing). */
  updateCompression?: UpdateCompression;
}

/** The feature name of the secure-aggregation protocol in proto/fedtl/v1/secagg.proto. */
export const SECAGG_FEATURE = 'secagg/v1';
/**
 * Local training rules a plan may ask for (round.proto TrainingConfig): a client that does not list one would skip
 * the unknown field and train plain FedAvg without a word, so a run whose plans use one refuses such a client.
 */
export const FEDPROX_FEATURE = 'fedprox/v1';
export const PER_FEDAVG_FEATURE = 'per-fedavg/v1';
/** Record-level DP-SGD (TrainingConfig.recordClipNorm): a client without it would train without noise. */
export const DP_SGD_FEATURE = 'dp-sgd/v1';
/** Client-level DP-FedAvg (TrainingConfig.updateClipNorm): a client without it would send an unclipped delta. */
export const DP_FEDAVG_FEATURE = 'dp-fedavg/v1';
/**
 * LoRA inside the use-lite encoder (ModelSpec.lora): a client without it would skip the unknown field, build the
 * frozen model and send updates without the LoRA tensors, so a run with LoRA refuses it at Join.
 */
export const LORA_FEATURE = 'lora-use-lite/v1';

export interface JoinRequest {
  clientId: string;
  token: string;
  protocolVersion: number;
  backbone: BackboneRef;
  labels: string[];
  numTrainExamples: number;
  numTestExamples: number;
  /** What the client implements beyond the base protocol, e.g. SECAGG_FEATURE; absent: nothing. */
  features?: string[];
  /** The client's privacy policy, as it states it; absent: it accepts every plan. */
  privacyPolicy?: PrivacyPolicy;
}

/** The run's secure-aggregation terms, announced at Join. */
export interface SecAggTerms {
  /** The protocol, SECAGG_FEATURE. */
  protocol: string;
  /** The smallest threshold t any round of the run uses. */
  minThreshold: number;
}

/**
 * One round attempt's secure-aggregation terms (SecAggParams in proto/fedtl/v1/secagg.proto, which documents
 * every field and the vector layout they define).
 */
export interface SecAggParams {
  attempt: number;
  threshold: number;
  numSelected: number;
  fractionalBits: number;
  clip: number;
  weightBound: number;
  weightCap: number;
  metricSlots: string[];
  ringBits: number;
}

export interface Welcome {
  runId: string;
  clientId: string;
  protocolVersion: number;
  model: ModelSpec;
  /** The round in progress; between rounds, the number of rounds completed (0 before the first). */
  currentRound: number;
  /**
   * The largest message payload the coordinator accepts, in bytes; 0 when the coordinator does not say. A
   * client checks an update's encoded size against it before sending.
   */
  maxMessageBytes?: number;
  /** Present when the run uses secure aggregation. */
  secureAggregation?: SecAggTerms;
}

export interface RoundPlan {
  runId: string;
  round: number;
  weights: NamedTensor[];
  config: TrainingConfig;
  /** Present when this round runs under secure aggregation: the client answers with secagg-* events, not an Update. */
  secureAggregation?: SecAggParams;
}

export type Metrics = Record<string, number>;

export interface Update {
  runId: string;
  round: number;
  clientId: string;
  /** local − global, per trainable tensor, by name. */
  delta: NamedTensor[];
  numExamples: number;
  metrics: Metrics;
}

export interface EvaluateRequest {
  runId: string;
  round: number;
  weights: NamedTensor[];
}

export interface EvaluateReport {
  runId: string;
  round: number;
  clientId: string;
  numExamples: number;
  /** accuracy, macroF1, loss, and optional baselines such as localOnlyAccuracy. */
  metrics: Metrics;
  /** Per label: how many test examples carried it and how many of those were predicted right. */
  perLabel: Record<string, { support: number; correct: number }>;
}

export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

/** The answer to any request that carries an acknowledgement: either ok, or an error with a code. */
export interface Ack {
  ok: boolean;
  error?: ProtocolError;
}

/** The acknowledgement of a join: the coordinator admits the client with a Welcome, or refuses it with an error. */
export type JoinReply = { ok: true; welcome: Welcome } | { ok: false; error: ProtocolError };

/**
 * The coordinator's verdict on a run, sent to every connected client when the run ends: `finished` when every
 * round completed, `failed` with the cause (quorum not met, training diverged, an internal error) otherwise.
 */
export type RunEnd =
  | { runId: string; status: 'finished'; roundsCompleted: number }
  | { runId: string; status: 'failed'; error: ProtocolError; roundsCompleted: number };
