// LoRA inside the use-lite encoder, as plain data: which projections of which layers carry a low-rank pair, the
// pair's tensor names and shapes, and the checks a ModelSpec's `lora` terms must pass.
//
// Hu et al., "LoRA: Low-Rank Adaptation of Large Language Models", ICLR 2022, https://arxiv.org/abs/2106.09685:
// a frozen kernel W [in, out] runs as W + (α / r)·A·B with A [in, r] and B [r, out]. A starts as PEFT's
// kaiming-uniform (bound 1/√in, https://github.com/huggingface/peft, LoraLayer.reset_lora_parameters) and B at
// zero, so a fresh pair changes nothing and training starts from the packaged encoder.
import { LORA_TARGETS, type LoraSpec, type LoraTarget } from '@fedtl/protocol';
import { FedtlError, describeValue } from '@fedtl/util';

/**
 * [in, out] of every projection LoRA can adapt in the packaged use-lite encoder, by layer (Layer_0, Layer_1).
 * Read off its weights (docs/lora-notes.md); lora-spec.spec.ts checks them against the loaded package.
 */
export const USE_LITE_PROJECTION_SHAPES: ReadonlyArray<Readonly<Record<LoraTarget, readonly [number, number]>>> = [
  { query: [256, 256], key: [256, 256], value: [256, 256], output: [256, 512], 'ffn-inner': [512, 1536], 'ffn-outer': [1536, 512] },
  { query: [512, 512], key: [512, 512], value: [512, 512], output: [512, 512], 'ffn-inner': [512, 1536], 'ffn-outer': [1536, 512] },
];

/** The prefix every LoRA tensor's name starts with; nothing else in a model starts with it. */
export const LORA_PREFIX = 'lora/';

/** `lora/layer_1/query/a`: A [in, r] (random at first) or B [r, out] (zero at first) of one projection. */
export function loraTensorName(layer: number, target: LoraTarget, factor: 'a' | 'b'): string {
  return `${LORA_PREFIX}layer_${layer}/${target}/${factor}`;
}

/**
 * Checks `lora` against the use-lite encoder.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the field, what it must be and what came: rank not an integer ≥ 1,
 *   alpha not positive and finite, layers empty, unsorted, repeated or beyond the encoder's, targets empty,
 *   repeated or unknown.
 */
export function checkLoraSpec(lora: LoraSpec): void {
  const bad = (field: string, expected: string, value: unknown) =>
    new FedtlError('FEDTL_ERR_BAD_CONFIG', `model spec: lora.${field} must be ${expected}, got ${shownValue(value)}`, { field: `lora.${field}` });
  const layerCount = USE_LITE_PROJECTION_SHAPES.length;
  if (!Number.isInteger(lora.rank) || lora.rank < 1) throw bad('rank', 'an integer ≥ 1', lora.rank);
  // α travels as a float32: it must stay positive and finite there too.
  const alpha32 = Math.fround(lora.alpha);
  if (!(alpha32 > 0) || !Number.isFinite(alpha32)) throw bad('alpha', 'positive and finite as a float32 (about 1.2e-38 to 3.4e38)', lora.alpha);
  const layers = lora.layers;
  const layersOk =
    Array.isArray(layers) && layers.length > 0 && layers.every((layer, i) => Number.isInteger(layer) && layer >= 0 && layer < layerCount && (i === 0 || layer > layers[i - 1]));
  if (!layersOk) throw bad('layers', `distinct ascending encoder layers in 0…${layerCount - 1} (use-lite has ${layerCount})`, layers);
  const targets = lora.targets;
  const targetsOk = Array.isArray(targets) && targets.length > 0 && new Set(targets).size === targets.length && targets.every((t) => (LORA_TARGETS as readonly string[]).includes(t));
  if (!targetsOk) throw bad('targets', `distinct projections among ${LORA_TARGETS.join(', ')}`, targets);
  // A·B has rank at most min(in, out): a larger rank only adds parameters.
  const maxRank = Math.min(...layers.flatMap((layer) => targets.map((target) => Math.min(...USE_LITE_PROJECTION_SHAPES[layer][target]))));
  if (lora.rank > maxRank) throw bad('rank', `at most ${maxRank} (the smallest side of the adapted kernels)`, lora.rank);
}

/** A short list as itself (`[2]`, `["query","query"]`), anything else as describeValue says it. */
function shownValue(value: unknown): string {
  return Array.isArray(value) && value.length <= 16 && value.every((v) => typeof v === 'number' || (typeof v === 'string' && v.length <= 32)) ? JSON.stringify(value) : describeValue(value);
}

/** One LoRA pair's tensors: A [in, r] then B [r, out], for each chosen layer and target, in LORA_TARGETS order. */
export function loraTensorSpecs(lora: LoraSpec): Array<{ name: string; shape: number[] }> {
  checkLoraSpec(lora);
  const specs: Array<{ name: string; shape: number[] }> = [];
  for (const layer of lora.layers) {
    for (const target of LORA_TARGETS) {
      if (!lora.targets.includes(target)) continue;
      const [inSize, outSize] = USE_LITE_PROJECTION_SHAPES[layer][target];
      specs.push({ name: loraTensorName(layer, target, 'a'), shape: [inSize, lora.rank] }, { name: loraTensorName(layer, target, 'b'), shape: [lora.rank, outSize] });
    }
  }
  return specs;
}

/** The first layer with adapters: everything below it is frozen and can be computed once per text. */
export function firstLoraLayer(lora: LoraSpec): number {
  return Math.min(...lora.layers);
}
