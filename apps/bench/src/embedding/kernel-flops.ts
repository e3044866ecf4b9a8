// The model's own arithmetic, counted from the kernels TF.js ran (tf.profile's kernel names and shapes), not
// typed in by hand: a matrix product [.., M, K] x [.., K, N] costs 2·M·K·N floating-point operations per batch
// entry (one multiply, one add), and a convolution 2·K_h·K_w·C_in per output value. Only these dense products
// count; element-wise work (softmax, layer norm, residual adds, activations) is cheap beside them and is what a
// backend does besides its arithmetic. For USE lite the count per text is a quadratic in its token count n
// (projections and feed-forward grow with n, attention with n²), so three profiled lengths give it exactly.

/** What tf.profile records of one kernel run: its name and the shapes of its inputs and outputs. */
export interface ProfiledKernel {
  name: string;
  inputShapes: ReadonlyArray<readonly number[] | undefined>;
  outputShapes: ReadonlyArray<readonly number[] | undefined>;
}

const MATMUL_KERNELS = new Set(['BatchMatMul', '_FusedMatMul', 'MatMul']);
const CONV_KERNELS = new Set(['Conv2D', 'FusedConv2D']);

const product = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * Floating-point operations of one kernel run: 2·(output size)·K for matrix products (K, the shared dimension,
 * read from the first input, which is [.., M, K] or, transposed, [.., K, M]) and convolutions (K = K_h·K_w·C_in
 * from the filter [K_h, K_w, C_in, C_out]); 0 for every other kernel.
 */
export function kernelFlops(kernel: ProfiledKernel): number {
  const out = kernel.outputShapes[0];
  if (out === undefined || out.length < 2) return 0;
  if (MATMUL_KERNELS.has(kernel.name)) {
    const a = kernel.inputShapes[0];
    if (a === undefined || a.length < 2) return 0;
    const rows = out[out.length - 2];
    // a is [.., rows, K] or, transposed, [.., K, rows]; when both dimensions equal rows, K = rows either way.
    const shared = a[a.length - 2] === rows ? a[a.length - 1] : a[a.length - 2];
    return 2 * product(out) * shared;
  }
  if (CONV_KERNELS.has(kernel.name)) {
    const filter = kernel.inputShapes[1];
    if (filter === undefined || filter.length !== 4) return 0;
    return 2 * product(out) * filter[0] * filter[1] * filter[2];
  }
  return 0;
}

/** FLOPs of a text as a function of its token count n: a + b·n + c·n², valid for 1 <= n <= maxTokens. */
export interface FlopsModel {
  constant: number;
  perToken: number;
  perTokenSquared: number;
  /** The graph reads at most this many tokens of a text; longer texts cost FLOPs(maxTokens). */
  maxTokens: number;
}

/**
 * The quadratic through three measured (token count, FLOPs) points (Lagrange interpolation).
 * @throws RangeError unless exactly three points with distinct token counts are given.
 */
export function fitFlopsModel(points: ReadonlyArray<{ tokens: number; flops: number }>, maxTokens: number): FlopsModel {
  if (points.length !== 3 || new Set(points.map((p) => p.tokens)).size !== 3) {
    throw new RangeError(`expected three points with distinct token counts; got ${JSON.stringify(points.map((p) => p.tokens))}`);
  }
  const [p, q, r] = points;
  const [x0, x1, x2] = [p.tokens, q.tokens, r.tokens];
  const l0 = p.flops / ((x0 - x1) * (x0 - x2));
  const l1 = q.flops / ((x1 - x0) * (x1 - x2));
  const l2 = r.flops / ((x2 - x0) * (x2 - x1));
  return {
    perTokenSquared: l0 + l1 + l2,
    perToken: -(l0 * (x1 + x2) + l1 * (x0 + x2) + l2 * (x0 + x1)),
    constant: l0 * x1 * x2 + l1 * x0 * x2 + l2 * x0 * x1,
    maxTokens,
  };
}

/** The model's FLOPs for one text of `tokens` tokens (an empty text is fed as one token). */
export function textFlops(model: FlopsModel, tokens: number): number {
  const n = Math.min(Math.max(tokens, 1), model.maxTokens);
  return model.constant + model.perToken * n + model.perTokenSquared * n * n;
}
