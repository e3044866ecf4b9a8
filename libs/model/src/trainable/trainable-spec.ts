// The trainable part of the model, as plain data: which tensors a ModelSpec implies, their initial values,
// and the check that a list of weights fits them. Only these tensors ever cross the wire.
//
// The adapter is a residual bottleneck (Houlsby et al., "Parameter-Efficient Transfer Learning for NLP",
// ICML 2019, https://arxiv.org/abs/1902.00751): h = x + relu(x·Wd + bd)·Wu + bu. Its up-projection starts at
// zero, so a fresh adapter is the identity and training starts from the frozen backbone's features.
//
// With `spec.lora`, LoRA pairs inside the use-lite encoder come first (lora-spec.ts); their B starts at zero, so a
// fresh model computes exactly the frozen backbone's features too.
import type { ModelSpec, NamedTensor } from '@fedtl/protocol';
import { FedtlError, deriveSeed, describeValue, seededRandom } from '@fedtl/util';
import { LORA_PREFIX, USE_LITE_PROJECTION_SHAPES, checkLoraSpec, loraTensorSpecs } from './lora-spec';

export interface TrainableTensorSpec {
  name: string;
  shape: number[];
  dtype: 'float32';
}

function checkSpec(spec: ModelSpec): void {
  const bad = (field: string, expected: string, value: unknown) =>
    new FedtlError('FEDTL_ERR_BAD_CONFIG', `model spec: ${field} must be ${expected}, got ${describeValue(value)}`, {
      field,
    });
  if (!Number.isInteger(spec.inputDim) || spec.inputDim < 1) throw bad('inputDim', 'an integer ≥ 1', spec.inputDim);
  if (!Number.isInteger(spec.adapterWidth) || spec.adapterWidth < 0) {
    throw bad('adapterWidth', 'an integer ≥ 0', spec.adapterWidth);
  }
  if (spec.head !== 'linear' && spec.head !== 'mlp') throw bad('head', '"linear" or "mlp"', spec.head);
  if (spec.head === 'mlp' && (!Number.isInteger(spec.headHidden) || spec.headHidden < 1)) {
    throw bad('headHidden', 'an integer ≥ 1 for an mlp head', spec.headHidden);
  }
  if (spec.labels.length < 2 || new Set(spec.labels).size !== spec.labels.length) {
    throw bad('labels', 'at least two distinct labels', spec.labels);
  }
  if (spec.lora) {
    checkLoraSpec(spec.lora);
    const pooledWidth = USE_LITE_PROJECTION_SHAPES[USE_LITE_PROJECTION_SHAPES.length - 1]['ffn-outer'][1];
    if (spec.inputDim !== pooledWidth) throw bad('inputDim', `${pooledWidth} (use-lite's width) with lora`, spec.inputDim);
  }
}

/**
 * The trainable tensors of `spec`, in a fixed order: LoRA pairs (if any), adapter (if any), then head.
 * @throws FedtlError FEDTL_ERR_BAD_CONFIG naming the field of `spec` that is out of range.
 */
export function trainableTensorSpecs(spec: ModelSpec): TrainableTensorSpec[] {
  checkSpec(spec);
  const d = spec.inputDim;
  const labels = spec.labels.length;
  const tensor = (name: string, shape: number[]): TrainableTensorSpec => ({ name, shape, dtype: 'float32' });
  const specs: TrainableTensorSpec[] = spec.lora ? loraTensorSpecs(spec.lora).map(({ name, shape }) => tensor(name, shape)) : [];
  if (spec.adapterWidth > 0) {
    const w = spec.adapterWidth;
    specs.push(
      tensor('adapter/down/kernel', [d, w]),
      tensor('adapter/down/bias', [w]),
      tensor('adapter/up/kernel', [w, d]),
      tensor('adapter/up/bias', [d]),
    );
  }
  if (spec.head === 'mlp') {
    const h = spec.headHidden;
    specs.push(
      tensor('head/hidden/kernel', [d, h]),
      tensor('head/hidden/bias', [h]),
      tensor('head/out/kernel', [h, labels]),
      tensor('head/out/bias', [labels]),
    );
  } else {
    specs.push(tensor('head/out/kernel', [d, labels]), tensor('head/out/bias', [labels]));
  }
  return specs;
}

function isKernel(name: string): boolean {
  return name.endsWith('/kernel');
}

/** The bound of a tensor's uniform initialisation, or 0 for one that starts at zero. */
function initialBound(name: string, shape: number[]): number {
  const [fanIn, fanOut] = shape;
  if (name.startsWith(LORA_PREFIX)) return name.endsWith('/a') ? 1 / Math.sqrt(fanIn) : 0;
  return isKernel(name) && name !== 'adapter/up/kernel' ? Math.sqrt(6 / (fanIn + fanOut)) : 0;
}

/**
 * Initial weights for `spec`: Glorot-uniform kernels (Glorot & Bengio, AISTATS 2010), zero biases, a zero
 * adapter up-projection, and LoRA's A uniform in ±1/√in with B zero (lora-spec.ts). Each tensor draws from its
 * own seed derived from `seed` and its name, so adding a tensor never changes the others.
 */
export function initialWeights(spec: ModelSpec, seed: number): NamedTensor[] {
  return trainableTensorSpecs(spec).map(({ name, shape, dtype }) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    const limit = initialBound(name, shape);
    if (limit > 0) {
      const random = seededRandom(deriveSeed(seed, name));
      for (let i = 0; i < data.length; i++) data[i] = (2 * random() - 1) * limit;
    }
    return { name, shape: shape.slice(), dtype, data };
  });
}

/**
 * Checks that `weights` holds exactly the trainable tensors of `spec` (in any order), float32, with the right
 * shapes and finite values, and returns them in spec order. Throws a FedtlError with FEDTL_ERR_BAD_TENSOR_NAME,
 * _SHAPE, _DTYPE, _DATA or FEDTL_ERR_NON_FINITE otherwise.
 */
export function checkTrainableWeights(spec: ModelSpec, weights: readonly NamedTensor[]): NamedTensor[] {
  const specs = trainableTensorSpecs(spec);
  const byName = new Map<string, NamedTensor>();
  const known = new Set(specs.map((s) => s.name));
  for (const tensor of weights) {
    if (byName.has(tensor.name) || !known.has(tensor.name)) {
      const why = byName.has(tensor.name) ? 'appears twice' : `is not one of ${[...known].join(', ')}`;
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `tensor "${tensor.name}" ${why}`, { name: tensor.name });
    }
    byName.set(tensor.name, tensor);
  }
  return specs.map(({ name, shape }) => {
    const tensor = byName.get(name);
    if (!tensor) throw new FedtlError('FEDTL_ERR_BAD_TENSOR_NAME', `tensor "${name}" is missing`, { name });
    if (tensor.shape.length !== shape.length || tensor.shape.some((size, i) => size !== shape[i])) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_SHAPE',
        `tensor "${name}": expected shape [${shape.join(',')}], got [${tensor.shape.join(',')}]`,
        { name, expected: shape, actual: tensor.shape.slice() },
      );
    }
    if (tensor.dtype !== 'float32') {
      throw new FedtlError('FEDTL_ERR_BAD_TENSOR_DTYPE', `tensor "${name}": expected float32, got ${tensor.dtype}`, {
        name,
      });
    }
    const size = shape.reduce((a, b) => a * b, 1);
    if (!(tensor.data instanceof Float32Array) || tensor.data.length !== size) {
      throw new FedtlError(
        'FEDTL_ERR_BAD_TENSOR_DATA',
        `tensor "${name}": expected Float32Array(${size}), got ${describeValue(tensor.data)}`,
        { name },
      );
    }
    const index = tensor.data.findIndex((value) => !Number.isFinite(value));
    if (index >= 0) {
      throw new FedtlError('FEDTL_ERR_NON_FINITE', `tensor "${name}": element ${index} is ${tensor.data[index]}`, {
        name,
        index,
      });
    }
    return tensor;
  });
}
