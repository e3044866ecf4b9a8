// Protocol messages <-> plain domain types. The only module that imports the generated protobufjs code:
// everything else in fedtl sees domain.ts types and Uint8Array payloads.
//
// Decoders take whatever arrived over the socket and either return a complete domain value or throw a
// FedtlError: FEDTL_ERR_MALFORMED_MESSAGE (naming the message type, the field and what came) for bytes that do
// not decode, missing required fields and unknown enum values; a tensor code (FEDTL_ERR_BAD_TENSOR_*) for
// tensor data that does not match its header. Fields a later version adds are skipped by older decoders.
import { FedtlError, describeValue, isErrorCode, quoteUntrusted } from '@fedtl/util';
import type {
  Ack,
  BackboneRef,
  DType,
  EvaluateReport,
  EvaluateRequest,
  JoinReply,
  JoinRequest,
  LoraSpec,
  ModelSpec,
  NamedTensor,
  ProtocolError,
  RoundPlan,
  RunEnd,
  SecAggParams,
  TensorEncoding,
  TrainingConfig,
  Update,
  UpdateCompression,
  Welcome,
} from './domain';
import { LORA_TARGETS, type LoraTarget } from './domain';
import type { PrivacyPolicy } from '@fedtl/privacy';
import { fedtl } from './generated/fedtl';
import { FieldReader, FieldWriter } from './field-checks';
import { FIELD_LIMITS } from './field-limits';
import { fitsFloat16 } from './float16';
import { decodeTensor, encodeTensor, type DecodeBudget } from './tensor-codec';
import { writeTensorMessage } from './tensor-message-writer';
import { TensorHeaderCheck, type TensorSpec } from './validate';
import { toUint8Array } from './transport';

import v1 = fedtl.v1;

export interface EncodeOptions {
  /**
   * How float32 tensors travel (default `raw`). int32 tensors always travel raw: the lossy encodings are for floats.
   * `sparse` lists each tensor's non-zero entries: sparsify first (top-k.ts), or it is only a costlier raw.
   */
  tensorEncoding?: TensorEncoding;
}

// ---- enum tables: domain string <-> wire number --------------------------------------------------------------

const DTYPES: Record<DType, v1.DType> = { float32: v1.DType.DTYPE_FLOAT32, int32: v1.DType.DTYPE_INT32 };
const ENCODINGS: Record<TensorEncoding, v1.TensorEncoding> = {
  raw: v1.TensorEncoding.TENSOR_ENCODING_RAW,
  float16: v1.TensorEncoding.TENSOR_ENCODING_FLOAT16,
  int8: v1.TensorEncoding.TENSOR_ENCODING_INT8,
  sparse: v1.TensorEncoding.TENSOR_ENCODING_SPARSE,
};
const HEADS: Record<ModelSpec['head'], v1.Head> = { linear: v1.Head.HEAD_LINEAR, mlp: v1.Head.HEAD_MLP };
const RUN_STATUSES: Record<RunEnd['status'], v1.RunStatus> = {
  finished: v1.RunStatus.RUN_STATUS_FINISHED,
  failed: v1.RunStatus.RUN_STATUS_FAILED,
};
const OPTIMIZERS: Record<TrainingConfig['optimizer'], v1.Optimizer> = {
  sgd: v1.Optimizer.OPTIMIZER_SGD,
  adam: v1.Optimizer.OPTIMIZER_ADAM,
};

// ---- public API ----------------------------------------------------------------------------------------------

export function encodeJoin(join: JoinRequest): Uint8Array {
  return v1.Join.encode(joinToWire(join)).finish();
}
export function decodeJoin(payload: unknown): JoinRequest {
  return decodeMessage('Join', v1.Join, payload, joinFromWire);
}

export function encodeWelcome(welcome: Welcome): Uint8Array {
  return v1.Welcome.encode(welcomeToWire(welcome)).finish();
}
export function decodeWelcome(payload: unknown): Welcome {
  return decodeMessage('Welcome', v1.Welcome, payload, welcomeFromWire);
}

export function encodeJoinReply(reply: JoinReply): Uint8Array {
  const wire = reply.ok ? { welcome: welcomeToWire(reply.welcome) } : { error: errorToWire(reply.error) };
  return v1.JoinReply.encode(wire).finish();
}
export function decodeJoinReply(payload: unknown): JoinReply {
  return decodeMessage('JoinReply', v1.JoinReply, payload, (wire, fields) => {
    if (wire.welcome) return { ok: true, welcome: welcomeFromWire(wire.welcome, fields.at('welcome')) };
    if (wire.error) return { ok: false, error: errorFromWire(wire.error, fields.at('error')) };
    throw fields.malformed('outcome', 'a welcome or an error', 'neither');
  });
}

/** A RoundPlan as protobuf bytes, its weights written as encodeUpdate writes a delta (tensor-message-writer.ts). */
export function encodeRoundPlan(plan: RoundPlan, options: EncodeOptions = {}): Uint8Array {
  const fields = new FieldWriter('RoundPlan');
  return writeTensorMessage({
    before: v1.RoundPlan.encode({ runId: plan.runId, round: fields.uint32('round', plan.round) }).finish(),
    tensorField: 3,
    tensors: tensorsToWire(plan.weights, options, fields.at('weights')),
    after: v1.RoundPlan.encode({
      config: trainingConfigToWire(plan.config, fields.at('config')),
      secureAggregation: plan.secureAggregation ? secAggParamsToWire(plan.secureAggregation, fields.at('secureAggregation')) : null,
    }).finish(),
  });
}
/** Decodes a RoundPlan (errors as described at the top; the weights' headers checked as `options` asks). */
export function decodeRoundPlan(payload: unknown, options: DecodeTensorsOptions = {}): RoundPlan {
  return decodeMessage('RoundPlan', v1.RoundPlan, payload, (wire, fields) => ({
    runId: fields.identifier('runId', wire.runId, FIELD_LIMITS.runIdChars),
    round: wire.round ?? 0,
    weights: tensorsFromWire(wire.weights, fields.at('weights'), options.expectedTensors),
    config: trainingConfigFromWire(fields.present('config', wire.config), fields.at('config')),
    ...(wire.secureAggregation ? { secureAggregation: secAggParamsFromWire(wire.secureAggregation, fields.at('secureAggregation')) } : {}),
  }));
}

/**
 * An Update as protobuf bytes, in one buffer with one copy of each delta tensor's data, each aligned to 4 bytes
 * from the message start (tensor-message-writer.ts), so the coordinator decodes it without copying.
 */
export function encodeUpdate(update: Update, options: EncodeOptions = {}): Uint8Array {
  const fields = new FieldWriter('Update');
  return writeTensorMessage({
    before: v1.Update.encode({ runId: update.runId, round: fields.uint32('round', update.round), clientId: update.clientId }).finish(),
    tensorField: 4,
    tensors: tensorsToWire(update.delta, options, fields.at('delta')),
    after: v1.Update.encode({ numExamples: fields.uint32('numExamples', update.numExamples), metrics: update.metrics }).finish(),
  });
}

/** How decodeUpdate, decodeRoundPlan and decodeEvaluateRequest check tensors against the receiver's model. */
export interface DecodeTensorsOptions {
  /**
   * The tensors the receiver's model has. When given, each delta tensor's header is checked against them as it
   * is read, before its data is read or a sparse tensor expanded (a hostile header would otherwise make the
   * receiver allocate up to FIELD_LIMITS.sparseDenseValuesPerMessage values from a few bytes): a name not among
   * them or repeated is FEDTL_ERR_BAD_TENSOR_NAME, another dtype or shape FEDTL_ERR_BAD_TENSOR_DTYPE / _SHAPE
   * (validateTensors's codes), and the message's sparse tensors may expand to at most these tensors' values in
   * all. Missing tensors, data and finiteness are still validateTensors's to check. Without it, any well-formed
   * tensor decodes.
   */
  expectedTensors?: readonly TensorSpec[];
}

/** Decodes an Update (errors as described at the top; header checks as `options` asks). */
export function decodeUpdate(payload: unknown, options: DecodeTensorsOptions = {}): Update {
  return decodeMessage('Update', v1.Update, payload, (wire, fields) => ({
    runId: fields.identifier('runId', wire.runId, FIELD_LIMITS.runIdChars),
    round: wire.round ?? 0,
    clientId: fields.identifier('clientId', wire.clientId, FIELD_LIMITS.clientIdChars),
    delta: tensorsFromWire(wire.delta, fields.at('delta'), options.expectedTensors),
    numExamples: wire.numExamples ?? 0,
    metrics: fields.metrics('metrics', wire.metrics),
  }));
}

/** An EvaluateRequest as protobuf bytes, its weights written as encodeUpdate writes a delta. */
export function encodeEvaluateRequest(request: EvaluateRequest, options: EncodeOptions = {}): Uint8Array {
  const fields = new FieldWriter('EvaluateRequest');
  return writeTensorMessage({
    before: v1.EvaluateRequest.encode({ runId: request.runId, round: fields.uint32('round', request.round) }).finish(),
    tensorField: 3,
    tensors: tensorsToWire(request.weights, options, fields.at('weights')),
    after: new Uint8Array(0),
  });
}
/** Decodes an EvaluateRequest (errors as described at the top; the weights' headers checked as `options` asks). */
export function decodeEvaluateRequest(payload: unknown, options: DecodeTensorsOptions = {}): EvaluateRequest {
  return decodeMessage('EvaluateRequest', v1.EvaluateRequest, payload, (wire, fields) => ({
    runId: fields.identifier('runId', wire.runId, FIELD_LIMITS.runIdChars),
    round: wire.round ?? 0,
    weights: tensorsFromWire(wire.weights, fields.at('weights'), options.expectedTensors),
  }));
}

export function encodeEvaluateReport(report: EvaluateReport): Uint8Array {
  const fields = new FieldWriter('EvaluateReport');
  const perLabel = Object.fromEntries(
    Object.entries(report.perLabel).map(([label, count]) => {
      const at = fields.at(`perLabel[${label}]`);
      return [label, { support: at.uint32('support', count.support), correct: at.uint32('correct', count.correct) }];
    }),
  );
  return v1.EvaluateReport.encode({
    runId: report.runId,
    round: fields.uint32('round', report.round),
    clientId: report.clientId,
    numExamples: fields.uint32('numExamples', report.numExamples),
    metrics: report.metrics,
    perLabel,
  }).finish();
}
export function decodeEvaluateReport(payload: unknown): EvaluateReport {
  return decodeMessage('EvaluateReport', v1.EvaluateReport, payload, (wire, fields) => ({
    runId: fields.identifier('runId', wire.runId, FIELD_LIMITS.runIdChars),
    round: wire.round ?? 0,
    clientId: fields.identifier('clientId', wire.clientId, FIELD_LIMITS.clientIdChars),
    numExamples: wire.numExamples ?? 0,
    metrics: fields.metrics('metrics', wire.metrics),
    perLabel: Object.fromEntries(
      perLabelFromWire(wire.perLabel, fields).map(([label, count]) => [
        label,
        { support: count.support ?? 0, correct: count.correct ?? 0 },
      ]),
    ),
  }));
}

export function encodeAck(ack: Ack): Uint8Array {
  return v1.Ack.encode({ ok: ack.ok, error: ack.error ? errorToWire(ack.error) : null }).finish();
}
export function decodeAck(payload: unknown): Ack {
  return decodeMessage('Ack', v1.Ack, payload, (wire, fields) => {
    if (wire.ok && wire.error) throw fields.malformed('error', 'no error when ok is true', 'an error');
    if (wire.ok) return { ok: true };
    return { ok: false, error: errorFromWire(fields.present('error', wire.error), fields.at('error')) };
  });
}

export function encodeRunEnd(verdict: RunEnd): Uint8Array {
  const fields = new FieldWriter('RunEnd');
  return v1.RunEnd.encode({
    runId: verdict.runId,
    status: RUN_STATUSES[verdict.status],
    error: verdict.status === 'failed' ? errorToWire(verdict.error) : null,
    roundsCompleted: fields.uint32('roundsCompleted', verdict.roundsCompleted),
  }).finish();
}
/** Decodes a RunEnd; a failed verdict must carry its cause and a finished one must not (else malformed). */
export function decodeRunEnd(payload: unknown): RunEnd {
  return decodeMessage('RunEnd', v1.RunEnd, payload, (wire, fields) => {
    const runId = fields.text('runId', wire.runId);
    const status = fields.enumValue('status', RUN_STATUSES, wire.status);
    const roundsCompleted = wire.roundsCompleted ?? 0;
    if (status === 'finished') {
      if (wire.error) throw fields.malformed('error', 'no error when the run finished', 'an error');
      return { runId, status, roundsCompleted };
    }
    const error = errorFromWire(fields.present('error', wire.error), fields.at('error'));
    return { runId, status, error, roundsCompleted };
  });
}

export function encodeError(error: ProtocolError): Uint8Array {
  return v1.Error.encode(errorToWire(error)).finish();
}
export function decodeError(payload: unknown): ProtocolError {
  return decodeMessage('Error', v1.Error, payload, errorFromWire);
}

// ---- message mappings ----------------------------------------------------------------------------------------

function joinToWire(join: JoinRequest): v1.Join.$Properties {
  const fields = new FieldWriter('Join');
  return {
    clientId: join.clientId,
    token: join.token,
    protocolVersion: fields.uint32('protocolVersion', join.protocolVersion),
    backbone: {
      id: join.backbone.id,
      contentHash: join.backbone.contentHash,
      dim: fields.at('backbone').uint32('dim', join.backbone.dim),
    },
    // Labels travel NFC, so a peer comparing them code point by code point still agrees.
    labels: join.labels.map((label) => label.normalize('NFC')),
    numTrainExamples: fields.uint32('numTrainExamples', join.numTrainExamples),
    numTestExamples: fields.uint32('numTestExamples', join.numTestExamples),
    features: join.features ?? [],
    privacyPolicy: join.privacyPolicy ? privacyPolicyToWire(join.privacyPolicy, fields.at('privacyPolicy')) : null,
  };
}

function joinFromWire(wire: v1.Join.$Properties, fields: FieldReader): JoinRequest {
  return {
    clientId: fields.identifier('clientId', wire.clientId, FIELD_LIMITS.clientIdChars),
    token: fields.optionalText('token', wire.token, FIELD_LIMITS.tokenChars),
    protocolVersion: fields.positive('protocolVersion', wire.protocolVersion),
    backbone: backboneFromWire(fields.present('backbone', wire.backbone), fields.at('backbone')),
    labels: fields.identifiers('labels', wire.labels, FIELD_LIMITS.labelsPerMessage, FIELD_LIMITS.labelChars),
    numTrainExamples: wire.numTrainExamples ?? 0,
    numTestExamples: wire.numTestExamples ?? 0,
    ...(wire.features?.length ? { features: fields.identifiers('features', wire.features, FIELD_LIMITS.features, FIELD_LIMITS.featureChars) } : {}),
    ...(wire.privacyPolicy ? { privacyPolicy: privacyPolicyFromWire(wire.privacyPolicy) } : {}),
  };
}

function privacyPolicyToWire(policy: PrivacyPolicy, fields: FieldWriter): v1.PrivacyPolicy.$Properties {
  return {
    requireSecureAggregation: policy.requireSecureAggregation,
    minOtherContributors: fields.uint32('minOtherContributors', policy.minOtherContributors),
    minExamples: fields.uint32('minExamples', policy.minExamples),
    minBatchSize: fields.uint32('minBatchSize', policy.minBatchSize),
    maxRounds: fields.uint32('maxRounds', policy.maxRounds),
  };
}

/** Zero minimums read as 1 (proto3 cannot tell "unset" from 0, and 0 examples or batch means "any"). */
function privacyPolicyFromWire(wire: v1.PrivacyPolicy.$Properties): PrivacyPolicy {
  return {
    requireSecureAggregation: wire.requireSecureAggregation ?? false,
    minOtherContributors: wire.minOtherContributors ?? 0,
    minExamples: Math.max(1, wire.minExamples ?? 0),
    minBatchSize: Math.max(1, wire.minBatchSize ?? 0),
    maxRounds: wire.maxRounds ?? 0,
  };
}

function secAggParamsToWire(params: SecAggParams, fields: FieldWriter): v1.SecAggParams.$Properties {
  return {
    attempt: fields.uint32('attempt', params.attempt),
    threshold: fields.uint32('threshold', params.threshold),
    numSelected: fields.uint32('numSelected', params.numSelected),
    fractionalBits: fields.uint32('fractionalBits', params.fractionalBits),
    clip: params.clip,
    weightBound: params.weightBound,
    weightCap: params.weightCap,
    metricSlots: params.metricSlots,
    ringBits: fields.uint32('ringBits', params.ringBits),
  };
}

function secAggParamsFromWire(wire: v1.SecAggParams.$Properties, fields: FieldReader): SecAggParams {
  const threshold = fields.positive('threshold', wire.threshold);
  const numSelected = fields.positive('numSelected', wire.numSelected);
  if (threshold < 2 || threshold > numSelected) throw fields.malformed('threshold', `an integer in [2, numSelected = ${numSelected}]`, String(threshold));
  const fractionalBits = wire.fractionalBits ?? 0;
  if (fractionalBits > 30) throw fields.malformed('fractionalBits', 'at most 30', String(fractionalBits));
  return {
    attempt: fields.positive('attempt', wire.attempt),
    threshold,
    numSelected,
    fractionalBits,
    clip: fields.positiveNumber('clip', wire.clip),
    weightBound: fields.positiveNumber('weightBound', wire.weightBound),
    weightCap: fields.positiveNumber('weightCap', wire.weightCap),
    metricSlots: fields.identifiers('metricSlots', wire.metricSlots, FIELD_LIMITS.secAggMetricSlots, FIELD_LIMITS.metricNameChars),
    ringBits: fields.positive('ringBits', wire.ringBits),
  };
}

function backboneFromWire(wire: v1.BackboneRef.$Properties, fields: FieldReader): BackboneRef {
  return {
    id: fields.identifier('id', wire.id, FIELD_LIMITS.backboneIdChars),
    contentHash: fields.hexDigest('contentHash', wire.contentHash, FIELD_LIMITS.contentHashHexDigits),
    dim: fields.positive('dim', wire.dim),
  };
}

function loraToWire(lora: LoraSpec, fields: FieldWriter): v1.LoraSpec.$Properties {
  return {
    rank: fields.positiveUint32('rank', lora.rank),
    alpha: positiveFloat32(fields, 'alpha', lora.alpha),
    layers: lora.layers.map((layer, i) => fields.uint32(`layers[${i}]`, layer)),
    targets: lora.targets.slice(),
  };
}

/** A number that is still positive and finite once written as a float32 (protobuf `float`). */
function positiveFloat32(fields: FieldWriter, field: string, value: number): number {
  const rounded = Math.fround(value);
  if (!(rounded > 0) || !Number.isFinite(rounded)) throw new RangeError(`${fields.path}.${field}: expected a positive number finite as a float32, got ${value}`);
  return value;
}

/** The wire's LoRA terms, bounded; whether they fit the backbone is the model's check (trainableTensorSpecs). */
function loraFromWire(wire: v1.LoraSpec.$Properties, fields: FieldReader): LoraSpec {
  const layers = wire.layers ?? [];
  if (layers.length === 0 || layers.length > FIELD_LIMITS.loraLayers) {
    throw fields.malformed('layers', `1 to ${FIELD_LIMITS.loraLayers} layer indices`, `${layers.length}`);
  }
  const targets = fields.identifiers('targets', wire.targets, LORA_TARGETS.length, FIELD_LIMITS.featureChars);
  const unknown = targets.find((target) => !(LORA_TARGETS as readonly string[]).includes(target));
  if (unknown !== undefined || targets.length === 0) {
    throw fields.malformed('targets', `1 or more of ${LORA_TARGETS.join(', ')}`, unknown === undefined ? 'none' : quoteUntrusted(unknown));
  }
  return {
    rank: fields.positive('rank', wire.rank),
    alpha: fields.positiveNumber('alpha', wire.alpha),
    layers: layers.slice(),
    targets: targets as LoraTarget[],
  };
}

function welcomeToWire(welcome: Welcome): v1.Welcome.$Properties {
  const fields = new FieldWriter('Welcome');
  const model = fields.at('model');
  return {
    runId: welcome.runId,
    clientId: welcome.clientId,
    protocolVersion: fields.uint32('protocolVersion', welcome.protocolVersion),
    model: {
      inputDim: model.uint32('inputDim', welcome.model.inputDim),
      adapterWidth: model.uint32('adapterWidth', welcome.model.adapterWidth),
      head: HEADS[welcome.model.head],
      headHidden: model.uint32('headHidden', welcome.model.headHidden),
      labels: welcome.model.labels.map((label) => label.normalize('NFC')),
      lora: welcome.model.lora ? loraToWire(welcome.model.lora, model.at('lora')) : null,
    },
    currentRound: fields.uint32('currentRound', welcome.currentRound),
    maxMessageBytes: fields.uint32('maxMessageBytes', welcome.maxMessageBytes ?? 0),
    secureAggregation: welcome.secureAggregation
      ? { protocol: welcome.secureAggregation.protocol, minThreshold: fields.at('secureAggregation').uint32('minThreshold', welcome.secureAggregation.minThreshold) }
      : null,
  };
}

function welcomeFromWire(wire: v1.Welcome.$Properties, fields: FieldReader): Welcome {
  const model = fields.present('model', wire.model);
  const modelFields = fields.at('model');
  return {
    runId: fields.identifier('runId', wire.runId, FIELD_LIMITS.runIdChars),
    clientId: fields.identifier('clientId', wire.clientId, FIELD_LIMITS.clientIdChars),
    protocolVersion: fields.positive('protocolVersion', wire.protocolVersion),
    model: {
      inputDim: modelFields.positive('inputDim', model.inputDim),
      adapterWidth: model.adapterWidth ?? 0,
      head: modelFields.enumValue('head', HEADS, model.head),
      headHidden: model.headHidden ?? 0,
      labels: modelFields.identifiers('labels', model.labels, FIELD_LIMITS.labelsPerMessage, FIELD_LIMITS.labelChars),
      ...(model.lora ? { lora: loraFromWire(model.lora, modelFields.at('lora')) } : {}),
    },
    currentRound: wire.currentRound ?? 0,
    maxMessageBytes: wire.maxMessageBytes ?? 0,
    ...(wire.secureAggregation
      ? {
          secureAggregation: {
            protocol: fields.at('secureAggregation').identifier('protocol', wire.secureAggregation.protocol, FIELD_LIMITS.featureChars),
            minThreshold: fields.at('secureAggregation').positive('minThreshold', wire.secureAggregation.minThreshold),
          },
        }
      : {}),
  };
}

function trainingConfigToWire(config: TrainingConfig, fields: FieldWriter): v1.TrainingConfig.$Properties {
  return {
    // No plan trains on batches of 0 examples or for 0 epochs (the sampling rate and step count of DP-SGD would be
    // 0 and ∞): refused on both sides of the wire.
    localEpochs: fields.positiveUint32('localEpochs', config.localEpochs),
    batchSize: fields.positiveUint32('batchSize', config.batchSize),
    learningRate: config.learningRate,
    optimizer: OPTIMIZERS[config.optimizer],
    seed: fields.uint32('seed', config.seed),
    // Absent and 0 both mean "no proximal term"; 0 is left off the wire so FedAvg plans stay byte-identical.
    ...(config.proximalMu !== undefined && config.proximalMu !== 0
      ? { proximalMu: fields.nonNegativeNumber('proximalMu', config.proximalMu) }
      : {}),
    ...(config.metaInnerLearningRate !== undefined && config.metaInnerLearningRate !== 0
      ? { metaInnerLearningRate: fields.nonNegativeNumber('metaInnerLearningRate', config.metaInnerLearningRate) }
      : {}),
    ...Object.fromEntries(
      DP_FIELDS.filter((key) => config[key] !== undefined && config[key] !== 0).map((key) => [key, fields.nonNegativeNumber(key, config[key] as number)]),
    ),
    // float32 is left off the wire, as an older coordinator's plans say nothing, so those stay byte-identical.
    ...(config.updateCompression && config.updateCompression.encoding !== 'raw'
      ? { updateCompression: updateCompressionToWire(config.updateCompression, fields.at('updateCompression')) }
      : {}),
  };
}

function updateCompressionToWire(compression: UpdateCompression, fields: FieldWriter): v1.UpdateCompression.$Properties {
  if (compression.encoding !== 'sparse') return { encoding: ENCODINGS[compression.encoding] };
  const fraction = compression.topkFraction;
  if (!(fraction > 0 && fraction <= 1)) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${fields.path}.topkFraction: expected a fraction in (0, 1], got ${fraction}`);
  return { encoding: ENCODINGS.sparse, topkFraction: fraction };
}

/** Absent, or raw: the delta travels as float32 (returned as undefined, the one form of "no compression"). */
function updateCompressionFromWire(wire: v1.UpdateCompression.$Properties | null | undefined, fields: FieldReader): UpdateCompression | undefined {
  if (!wire) return undefined;
  const encoding = fields.enumValue('encoding', ENCODINGS, wire.encoding);
  const fraction = wire.topkFraction ?? 0;
  if (encoding !== 'sparse') {
    if (fraction !== 0) throw fields.malformed('topkFraction', `0 with encoding ${encoding} (a fraction only for sparse)`, String(fraction));
    return encoding === 'raw' ? undefined : { encoding };
  }
  if (!(fraction > 0 && fraction <= 1)) throw fields.malformed('topkFraction', 'a fraction in (0, 1] with the sparse encoding', String(fraction));
  return { encoding, topkFraction: fraction };
}

/** The differential-privacy terms of a TrainingConfig (round.proto fields 18-21): 0 and absent both mean "none". */
const DP_FIELDS = ['recordClipNorm', 'recordNoiseMultiplier', 'updateClipNorm', 'updateNoiseStddev'] as const;

function trainingConfigFromWire(wire: v1.TrainingConfig.$Properties, fields: FieldReader): TrainingConfig {
  const config: TrainingConfig = {
    localEpochs: fields.positive('localEpochs', wire.localEpochs),
    batchSize: fields.positive('batchSize', wire.batchSize),
    learningRate: wire.learningRate ?? 0,
    optimizer: fields.enumValue('optimizer', OPTIMIZERS, wire.optimizer),
    seed: wire.seed ?? 0,
    ...(wire.proximalMu !== undefined && wire.proximalMu !== null && wire.proximalMu !== 0
      ? { proximalMu: fields.nonNegativeNumber('proximalMu', wire.proximalMu) }
      : {}),
    ...(wire.metaInnerLearningRate !== undefined && wire.metaInnerLearningRate !== null && wire.metaInnerLearningRate !== 0
      ? { metaInnerLearningRate: fields.nonNegativeNumber('metaInnerLearningRate', wire.metaInnerLearningRate) }
      : {}),
  };
  for (const key of DP_FIELDS) {
    const value = wire[key];
    if (value !== undefined && value !== null && value !== 0) config[key] = fields.nonNegativeNumber(key, value);
  }
  const updateCompression = updateCompressionFromWire(wire.updateCompression, fields.at('updateCompression'));
  if (updateCompression) config.updateCompression = updateCompression;
  if (config.proximalMu !== undefined && config.metaInnerLearningRate !== undefined) {
    throw fields.malformed('metaInnerLearningRate', 'no Per-FedAvg step together with a FedProx proximalMu', `${config.metaInnerLearningRate} with proximalMu ${config.proximalMu}`);
  }
  if (config.recordNoiseMultiplier !== undefined && config.recordClipNorm === undefined) {
    throw fields.malformed('recordNoiseMultiplier', 'a DP-SGD noise multiplier only with a recordClipNorm > 0', `${config.recordNoiseMultiplier} without one`);
  }
  if (config.recordClipNorm !== undefined && (config.proximalMu !== undefined || config.metaInnerLearningRate !== undefined)) {
    throw fields.malformed('recordClipNorm', 'DP-SGD without a FedProx term or a Per-FedAvg step', `recordClipNorm ${config.recordClipNorm} with ${config.proximalMu !== undefined ? `proximalMu ${config.proximalMu}` : `metaInnerLearningRate ${config.metaInnerLearningRate}`}`);
  }
  if (config.updateNoiseStddev !== undefined && config.updateClipNorm === undefined) {
    throw fields.malformed('updateNoiseStddev', 'client-level noise only with an updateClipNorm > 0', `${config.updateNoiseStddev} without one`);
  }
  return config;
}

function tensorsToWire(tensors: NamedTensor[], options: EncodeOptions, fields: FieldWriter): v1.Tensor.$Properties[] {
  const requested = options.tensorEncoding ?? 'raw';
  return tensors.map((tensor, index) => {
    tensor.shape.forEach((dim, axis) => fields.at(`${index}`).uint32(`shape[${axis}]`, dim));
    const { sparse, ...wire } = encodeTensor(tensor, encodingFor(tensor, requested));
    const sparseFields = sparse ? { sparseCount: sparse.count, sparseIndices: sparse.indices, sparseValues: ENCODINGS[sparse.values] } : {};
    return { ...wire, ...sparseFields, dtype: DTYPES[wire.dtype], encoding: ENCODINGS[wire.encoding] };
  });
}

/**
 * The encoding a tensor is written in when `requested` is asked: raw for int32 data (the lossy encodings are for
 * float32), and raw for a float32 tensor holding a finite value beyond float16's ±65504 when float16 is asked, as
 * the sparse encoding falls back to float32 values: the receiver decodes any encoding, and a client whose delta
 * has one large value is not shut out of every round.
 */
function encodingFor(tensor: NamedTensor, requested: TensorEncoding): TensorEncoding {
  if (tensor.dtype !== 'float32') return 'raw';
  if (requested === 'float16' && !fitsFloat16(tensor.data as Float32Array)) return 'raw';
  return requested;
}

/** The tensors of a message; with `expected`, each header is checked against it before its data is decoded. */
function tensorsFromWire(wires: v1.Tensor.$Properties[] | null | undefined, fields: FieldReader, expected?: readonly TensorSpec[]): NamedTensor[] {
  const headers = expected ? new TensorHeaderCheck(expected) : undefined;
  const limit = Math.min(FIELD_LIMITS.sparseDenseValuesPerMessage, headers?.totalValues ?? Infinity);
  const budget: DecodeBudget = { sparseDenseValues: limit, sparseDenseLimit: limit };
  return fields.count('', wires ?? [], FIELD_LIMITS.tensorsPerMessage).map((wire, index) => {
    const at = fields.at(`${index}`);
    const header = {
      name: at.identifier('name', wire.name, FIELD_LIMITS.tensorNameChars),
      shape: at.shape('shape', wire.shape),
      dtype: at.enumValue('dtype', DTYPES, wire.dtype),
      encoding: at.enumValue('encoding', ENCODINGS, wire.encoding),
    };
    try {
      headers?.check(header);
      const data = wire.data ?? new Uint8Array(0);
      const sparse = header.encoding === 'sparse'
        ? { count: wire.sparseCount ?? 0, indices: wire.sparseIndices ?? new Uint8Array(0), values: at.enumValue('sparseValues', ENCODINGS, wire.sparseValues) }
        : undefined;
      return decodeTensor({ ...header, data, scale: wire.scale ?? 0, zeroPoint: wire.zeroPoint ?? 0, ...(sparse ? { sparse } : {}) }, budget);
    } catch (err) {
      if (err instanceof FedtlError) throw new FedtlError(err.code, `${at.path}: ${err.message}`, err.details);
      throw err;
    }
  });
}

/**
 * The per-label map's entries with their labels in Unicode NFC, as labels are compared everywhere; two keys that
 * are one label in NFC are malformed (the counts of which would count?).
 */
function perLabelFromWire<Count>(wire: Record<string, Count> | null | undefined, fields: FieldReader): Array<[string, Count]> {
  const entries = fields.count('perLabel', Object.entries(wire ?? {}), FIELD_LIMITS.labelsPerMessage);
  const seen = new Set<string>();
  return entries.map(([label, count], index) => {
    fields.identifier(`perLabel[${index}]`, label, FIELD_LIMITS.labelChars);
    const normalized = label.normalize('NFC');
    if (seen.has(normalized)) throw fields.malformed(`perLabel[${index}]`, 'each label once (compared in Unicode NFC)', `a second key for ${quoteUntrusted(normalized)}`);
    seen.add(normalized);
    return [normalized, count];
  });
}

function errorToWire(error: ProtocolError): v1.Error.$Properties {
  return { code: error.code, message: error.message };
}

// A code this version does not know (a newer peer's catalogue) still reports an error: it is kept in the text
// under FEDTL_ERR_INTERNAL rather than turning the peer's report into a decoding failure of our own.
function errorFromWire(wire: v1.Error.$Properties, fields: FieldReader): ProtocolError {
  const code = fields.identifier('code', wire.code, FIELD_LIMITS.errorCodeChars);
  // A peer's error is informational: cut and escaped, never a reason to refuse the message carrying it.
  const message = fields.informational(wire.message, FIELD_LIMITS.errorMessageChars);
  if (isErrorCode(code)) return { code, message };
  return { code: 'FEDTL_ERR_INTERNAL', message: `${message} (peer code ${code}, unknown to this version)` };
}

// ---- decoding ------------------------------------------------------------------------------------------------

interface GeneratedMessage<Wire> {
  decode(bytes: Uint8Array): Wire;
}

/** Decodes `payload` as `type` and maps it to the domain with `fromWire` (errors as described at the top). */
export function decodeMessage<Wire, Domain>(
  type: string,
  message: GeneratedMessage<Wire>,
  payload: unknown,
  fromWire: (wire: Wire, fields: FieldReader) => Domain,
): Domain {
  const bytes = toUint8Array(payload, `a ${type} message`);
  let wire: Wire;
  try {
    wire = message.decode(bytes);
  } catch (err) {
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `expected a ${type} message, got ${describeValue(bytes)} that does not decode (${reasonOf(err)})`,
    );
  }
  try {
    return fromWire(wire, new FieldReader(type));
  } catch (err) {
    // The mapping only throws FedtlErrors by design; anything else is still the peer's malformed input.
    if (err instanceof FedtlError) throw err;
    throw new FedtlError(
      'FEDTL_ERR_MALFORMED_MESSAGE',
      `expected a valid ${type} message, got one that fails (${reasonOf(err)})`,
    );
  }
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
