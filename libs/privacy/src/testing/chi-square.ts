// Pearson's chi-square test of uniformity, for tests that show what the coordinator sees looks uniform.
//
// The p-value is the chi-square survival function, Q(df / 2, statistic / 2), the regularized upper incomplete
// gamma function computed as in Press et al., "Numerical Recipes", 3rd ed., §6.2 (series below a + 1, Lentz's
// continued fraction above), with ln Γ from Lanczos's approximation (§6.1). Checked against SciPy in its spec.

/** Result of {@link chiSquareUniformity}: Pearson's statistic, its degrees of freedom and p-value. */
export interface ChiSquareResult {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly pValue: number;
}

const LANCZOS = [
  57.15623566586292, -59.59796035547549, 14.136097974741746, -0.4919138160976202, 0.00003399464998481189,
  0.00004652362892704858, -0.00009837447530487956, 0.0001580887032249125, -0.00021026444172410488,
  0.00021743961811521265, -0.0001643181065367639, 0.00008441822398385275, -0.000026190838401581408,
  0.0000036899182659531625,
];

/** ln Γ(x) for x > 0 (Numerical Recipes 3rd ed. §6.1: Lanczos with γ = 671/128 and 14 terms). */
function lnGamma(x: number): number {
  let y = x;
  const tmp = x + 5.2421875;
  const t = (x + 0.5) * Math.log(tmp) - tmp;
  let ser = 0.9999999999999971;
  for (const c of LANCZOS) ser += c / ++y;
  return t + Math.log((2.5066282746310007 * ser) / x);
}

/** Q(a, x) = Γ(a, x) / Γ(a), the regularized upper incomplete gamma function, for a > 0 and x ≥ 0. */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  const logPrefix = -x + a * Math.log(x) - lnGamma(a);
  if (x < a + 1) {
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000 && Math.abs(term) > Math.abs(sum) * 1e-16; n++) {
      term *= x / (a + n);
      sum += term;
    }
    return 1 - sum * Math.exp(logPrefix);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(logPrefix) * h;
}

/** Pearson's chi-square test that `counts` (one per bucket, at least two buckets) come from a uniform distribution. */
export function chiSquareUniformity(counts: readonly number[]): ChiSquareResult {
  const total = counts.reduce((sum, c) => sum + c, 0);
  const expected = total / counts.length;
  const statistic = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  const degreesOfFreedom = counts.length - 1;
  return { statistic, degreesOfFreedom, pValue: upperRegularizedGamma(degreesOfFreedom / 2, statistic / 2) };
}

/** How many bytes of `values`' storage fall on each of the 256 byte values. */
export function byteHistogram(values: ArrayBufferView): number[] {
  const counts = new Array<number>(256).fill(0);
  for (const byte of new Uint8Array(values.buffer, values.byteOffset, values.byteLength)) counts[byte]++;
  return counts;
}
