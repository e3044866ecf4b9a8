// Rényi differential privacy (RDP) of the Poisson-sampled Gaussian mechanism, and its conversion to (ε, δ)-DP.
//
// The sampled Gaussian mechanism (each record in a batch independently with probability q, its contribution
// clipped to L2 norm C, Gaussian noise of standard deviation σ·C added to the sum) is what DP-SGD (Abadi et al.,
// CCS 2016) and DP-FedAvg (McMahan et al., ICLR 2018) run at every step. Its RDP at order α follows Mironov, Talwar
// and Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism" (2019, https://arxiv.org/abs/1908.10530):
// log A_α by the binomial expansion for integer α (Sec. 3.2) and by the two-sided series for fractional α
// (Sec. 3.3); RDP composes by addition over steps. The conversion to (ε, δ) is the improved bound of Canonne,
// Kamath and Steinke (2020, https://arxiv.org/abs/2004.00010, Proposition 12; also Asoodeh et al. 2020), with the
// KL-divergence bound δ ≤ √(1 − e^(−r)) for small orders.
//
// This is a line-by-line port of Google's maintained Python accountant, dp_accounting
// (github.com/google/differential-privacy, python/dp_accounting/dp_accounting/rdp/rdp_privacy_accountant.py at
// commit b5b0286e313b64a692abfc8c528d54ef47d960a0), so that its test file's reference values apply (see
// rdp-accountant.spec.ts). No maintained JavaScript accountant exists; the special functions come from stdlib.
import erfcx from '@stdlib/math-base-special-erfcx';
import gammaln from '@stdlib/math-base-special-gammaln';

/** dp_accounting's DEFAULT_RDP_ORDERS: 1.1 … 10.9 by 0.1, 11 … 63, 128, 256, 512, 1024. */
export const DEFAULT_RDP_ORDERS: readonly number[] = [
  ...Array.from({ length: 99 }, (_, x) => 1 + (x + 1) / 10),
  ...Array.from({ length: 53 }, (_, x) => 11 + x),
  128,
  256,
  512,
  1024,
];

/** Terms of the fractional-order series before it is declared divergent (dp_accounting's _MAX_STEPS_LOG_A_FRAC). */
const MAX_FRACTIONAL_TERMS = 1000;

/** log(e^x + e^y) without overflow. */
function logAdd(logX: number, logY: number): number {
  const a = Math.min(logX, logY);
  const b = Math.max(logX, logY);
  if (a === -Infinity) return b;
  return Math.log1p(Math.exp(a - b)) + b;
}

/** log of the binomial coefficient C(n, k) for real n, k. */
function logComb(n: number, k: number): number {
  return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1);
}

/**
 * log(erfc(x)), accurate in the far tail: erfc(x) = erfcx(x)·e^(−x²), where erfc itself underflows for large x;
 * for x < 0, erfc(x) = 2 − erfc(−x) (erfcx overflows there). dp_accounting uses scipy's log_ndtr to the same end.
 */
function logErfc(x: number): number {
  return x >= 0 ? Math.log(erfcx(x)) - x * x : Math.log(2 - erfcx(-x) * Math.exp(-x * x));
}

/** log A_α for integer α ≥ 1 and 0 < q < 1 (Mironov et al. 2019, Sec. 3.2). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  let logA = -Infinity;
  const log1mq = Math.log1p(-q);
  for (let i = 0; i <= alpha; i++) {
    const logCoefficient = logComb(alpha, i) + i * Math.log(q) + (alpha - i) * log1mq;
    logA = logAdd(logA, logCoefficient + (i * i - i) / (2 * sigma ** 2));
  }
  return logA;
}

/** log A_α for fractional α > 1 and 0 < q < 1 (Mironov et al. 2019, Sec. 3.3); Infinity if the series does not settle. */
function logAFractional(q: number, sigma: number, alpha: number): number {
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  const z0 = sigma ** 2 * Math.log(1 / q - 1) + 0.5;
  const log1mq = Math.log1p(-q);
  let lastS0 = -Infinity;
  let lastS1 = -Infinity;
  for (let i = 0; i < MAX_FRACTIONAL_TERMS; i++) {
    const logCoefficient = logComb(alpha, i);
    const j = alpha - i;
    const logT0 = logCoefficient + i * Math.log(q) + j * log1mq;
    const logT1 = logCoefficient + j * Math.log(q) + i * log1mq;
    const logE0 = Math.log(0.5) + logErfc((i - z0) / (Math.SQRT2 * sigma));
    const logE1 = Math.log(0.5) + logErfc((z0 - j) / (Math.SQRT2 * sigma));
    const logS0 = logT0 + (i * i - i) / (2 * sigma ** 2) + logE0;
    const logS1 = logT1 + (j * j - j) / (2 * sigma ** 2) + logE1;
    logA0 = logAdd(logA0, logS0);
    logA1 = logAdd(logA1, logS1);
    const total = logAdd(logA0, logA1);
    // Both halves decreasing and negligible against the total: the series has converged.
    if (logS0 < lastS0 && logS1 < lastS1 && Math.max(logS0, logS1) < total - 30) return total;
    lastS0 = logS0;
    lastS1 = logS1;
  }
  return Infinity;
}

/**
 * The RDP ε(α) of one step of the Poisson-sampled Gaussian mechanism at each order α, in nats.
 * @param samplingRate q ∈ [0, 1]: each record's probability of being in the step's batch (1: no sampling).
 * @param noiseMultiplier σ ≥ 0: the noise's standard deviation over the clipping bound (0: no privacy).
 * @param orders α values ≥ 1 (Infinity allowed).
 * @returns one value per order (0 for q = 0, Infinity for σ = 0 or α = Infinity).
 * @throws RangeError for q outside [0, 1], a negative or non-finite σ, or an order below 1.
 */
export function sampledGaussianRdp(samplingRate: number, noiseMultiplier: number, orders: readonly number[]): number[] {
  if (!(samplingRate >= 0 && samplingRate <= 1)) throw new RangeError(`sampledGaussianRdp: expected a sampling rate in [0, 1], got ${samplingRate}`);
  if (!(noiseMultiplier >= 0) || !Number.isFinite(noiseMultiplier)) throw new RangeError(`sampledGaussianRdp: expected a finite noise multiplier ≥ 0, got ${noiseMultiplier}`);
  // A run repeats a few (q, σ) over and over (every round, every check of a ledger), and a curve at the default
  // orders costs tens of milliseconds of series: those are remembered (a copy is returned, the cache stays pure).
  if (orders !== DEFAULT_RDP_ORDERS) return curveAt(samplingRate, noiseMultiplier, orders);
  const key = `${samplingRate}/${noiseMultiplier}`;
  let curve = DEFAULT_CURVES.get(key);
  if (!curve) {
    curve = curveAt(samplingRate, noiseMultiplier, orders);
    if (DEFAULT_CURVES.size >= DEFAULT_CURVES_KEPT) DEFAULT_CURVES.delete(DEFAULT_CURVES.keys().next().value as string);
    DEFAULT_CURVES.set(key, curve);
  }
  return curve.slice();
}

/** Curves at DEFAULT_RDP_ORDERS by "q/σ", oldest first; at most DEFAULT_CURVES_KEPT (a calibration visits ~30). */
const DEFAULT_CURVES = new Map<string, number[]>();
const DEFAULT_CURVES_KEPT = 256;

function curveAt(samplingRate: number, noiseMultiplier: number, orders: readonly number[]): number[] {
  return orders.map((alpha) => {
    if (!(alpha >= 1)) throw new RangeError(`sampledGaussianRdp: expected Rényi orders ≥ 1, got ${alpha}`);
    if (samplingRate === 0) return 0;
    if (alpha === Infinity || noiseMultiplier === 0) return Infinity;
    if (samplingRate === 1) return alpha / (2 * noiseMultiplier ** 2);
    const logA = Number.isInteger(alpha) ? logAInteger(samplingRate, noiseMultiplier, alpha) : logAFractional(samplingRate, noiseMultiplier, alpha);
    return logA / (alpha - 1);
  });
}

function checkCurve(orders: readonly number[], rdp: readonly number[]): void {
  if (orders.length !== rdp.length || orders.length === 0) throw new RangeError(`expected as many RDP values as orders (at least one), got ${rdp.length} values for ${orders.length} orders`);
  const low = orders.find((alpha) => !(alpha >= 1));
  if (low !== undefined) throw new RangeError(`expected Rényi orders ≥ 1, got ${low}`);
}

/**
 * The smallest ε such that the mechanism with RDP curve `rdp` (at `orders`) is (ε, δ)-DP, and the order attaining it.
 * @throws RangeError for δ outside [0, 1), mismatched lists, or an order below 1.
 */
export function epsilonFromRdp(orders: readonly number[], rdp: readonly number[], delta: number): { epsilon: number; order: number } {
  if (!(delta >= 0 && delta < 1)) throw new RangeError(`epsilonFromRdp: expected δ in [0, 1), got ${delta}`);
  checkCurve(orders, rdp);
  if (delta === 0) return rdp.every((r) => r === 0) ? { epsilon: 0, order: 0 } : { epsilon: Infinity, order: 0 };
  let best = { epsilon: Infinity, order: orders[0] };
  orders.forEach((alpha, i) => {
    const r = rdp[i];
    let epsilon: number;
    if (r < 0) epsilon = 0; // numerical noise from an extreme event, as dp_accounting treats it
    else if (delta ** 2 + Math.expm1(-r) > 0) epsilon = 0; // the KL bound δ ≤ √(1 − e^(−r)) already holds
    else if (alpha > 1.01) epsilon = r + Math.log1p(-1 / alpha) - Math.log(delta * alpha) / (alpha - 1);
    else epsilon = Infinity; // the conversion is unstable as α → 1
    if (epsilon < best.epsilon) best = { epsilon, order: alpha };
  });
  return { epsilon: Math.max(0, best.epsilon), order: best.order };
}

/**
 * The smallest δ such that the mechanism with RDP curve `rdp` (at `orders`) is (ε, δ)-DP, and the order attaining it.
 * @throws RangeError for a negative ε, mismatched lists, or an order below 1.
 */
export function deltaFromRdp(orders: readonly number[], rdp: readonly number[], epsilon: number): { delta: number; order: number } {
  if (!(epsilon >= 0)) throw new RangeError(`deltaFromRdp: expected ε ≥ 0, got ${epsilon}`);
  checkCurve(orders, rdp);
  let best = { logDelta: Infinity, order: orders[0] };
  orders.forEach((alpha, i) => {
    const r = rdp[i];
    let logDelta = r <= 0 ? -Infinity : 0.5 * Math.log1p(-Math.exp(-r));
    if (alpha > 1.01) logDelta = Math.min(logDelta, (alpha - 1) * (r - epsilon + Math.log1p(-1 / alpha)) - Math.log(alpha));
    if (logDelta < best.logDelta) best = { logDelta, order: alpha };
  });
  return { delta: Math.min(Math.exp(best.logDelta), 1), order: best.order };
}

/** One kind of step, repeated: `steps` applications of the sampled Gaussian mechanism with the same q and σ. */
export interface SampledGaussianEvent {
  samplingRate: number;
  noiseMultiplier: number;
  steps: number;
}

/**
 * Composes sampled Gaussian steps (RDP adds up over steps, Mironov 2017) and answers with (ε, δ). Pure arithmetic:
 * what to record and when is the caller's (a client's ledger, the coordinator's budget).
 */
export class RdpAccountant {
  private readonly total: number[];

  /** @param orders the Rényi orders tracked (default DEFAULT_RDP_ORDERS, dp_accounting's). */
  constructor(readonly orders: readonly number[] = DEFAULT_RDP_ORDERS) {
    checkCurve(orders, orders);
    this.total = orders.map(() => 0);
  }

  /** Adds `event.steps` steps. @throws RangeError as sampledGaussianRdp, or for steps that are not an integer ≥ 0. */
  compose(event: SampledGaussianEvent): this {
    if (!Number.isInteger(event.steps) || event.steps < 0) throw new RangeError(`RdpAccountant: expected steps to be an integer ≥ 0, got ${event.steps}`);
    const perStep = sampledGaussianRdp(event.samplingRate, event.noiseMultiplier, this.orders);
    perStep.forEach((r, i) => {
      // 0 steps of an infinite cost cost nothing (∞·0 would be NaN).
      if (event.steps > 0) this.total[i] += r * event.steps;
    });
    return this;
  }

  /** The composed RDP curve, one value per order (nats). */
  get rdp(): number[] {
    return this.total.slice();
  }

  /** The ε spent at `delta` (see epsilonFromRdp). */
  epsilon(delta: number): number {
    return epsilonFromRdp(this.orders, this.total, delta).epsilon;
  }

  /** The δ spent at `epsilon` (see deltaFromRdp). */
  delta(epsilon: number): number {
    return deltaFromRdp(this.orders, this.total, epsilon).delta;
  }
}
