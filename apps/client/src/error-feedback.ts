// What a client sends of its delta when the plan asks for a compression (PROTOCOL.md §7.2), and, for top-k, the
// error feedback: the part of the delta it did not send is remembered per tensor and added to the next round's
// delta before the next top-k is taken (Stich, Cordonnier, Jaggi, "Sparsified SGD with Memory", NeurIPS 2018;
// Karimireddy et al., "Error Feedback Fixes SignSGD and other Gradient Compression Schemes", ICML 2019). Nothing is
// lost, only delayed: over rounds, what was sent plus the residual left equals the sum of the deltas.
//
// It lives in the protocol thread (FederatedClient), not in the training thread: the residual belongs to what
// crossed the wire (it is committed only once the coordinator accepted the update), and top-k of an adapter-sized
// delta (~10^5 values) is one typed-array sort, a few milliseconds.
import { decodeTensor, encodeTensor, sparsifyTopK, topkCount, type NamedTensor, type TensorEncoding, type UpdateCompression } from '@fedtl/protocol';
import { clipInPlace } from '@fedtl/privacy';

/** The delta of one round as it will leave, and the memory it leaves behind if the coordinator accepts it. */
export interface CompressedDelta {
  /** The tensors to put in the Update, already exactly what the coordinator will decode (dense float32). */
  delta: NamedTensor[];
  /** The Update's tensor encoding. */
  encoding: TensorEncoding;
  /** top-k only: the residual per tensor name, (delta + previous residual) − what is sent. */
  residual?: Map<string, Float32Array>;
  /** top-k only: whether a residual from an earlier round was added (false on the first round or after a reset). */
  carried?: boolean;
  /** top-k only: whether the sent part was scaled down to the plan's update clip norm. */
  clipped?: boolean;
}

// float16 rounding moves a value in its normal range (|v| >= 2^-14) by at most 2^-11 of itself, so a vector of
// such values clipped to S / (1 + 2^-11) stays within S (up to float32 rounding) once rounded for the wire. Not a
// guarantee: a smaller value is rounded to a multiple of 2^-24, an error of up to 2^-25 that can be any fraction of
// it, so with a tiny S the sent part can exceed S by up to 2^-25·sqrt(k) for its k values below 2^-14. DP does not
// rest on this: the coordinator clips every decoded update to S again before it sums and noises them.
const FLOAT16_ROUNDING = 2 ** -11;

/** One client's error-feedback memory, for one run and one tensor layout at a time. */
export class ErrorFeedback {
  private residual = new Map<string, Float32Array>();
  /** The names and shapes the residual was made for; another layout makes it meaningless. */
  private layout = '';

  /** Forgets the residual (a new run; a changed tensor layout resets on its own). */
  reset(): void {
    this.residual = new Map();
    this.layout = '';
  }

  /** The residual's L2 norm over all tensors (0 after a reset): the delta not sent yet, for logs and tests. */
  get residualNorm(): number {
    let sum = 0;
    for (const values of this.residual.values()) for (const value of values) sum += value * value;
    return Math.sqrt(sum);
  }

  /**
   * The delta to send under `compression`; changes nothing until `commit`.
   * @param delta local − global per tensor (float32; the client's DP clip, if any, already applied)
   * @param compression the plan's; absent or raw: the delta as it is
   * @param clipNorm the plan's update clip norm S (client-level DP), if any: top-k's sent part is scaled to L2 norm
   *   at most S / (1 + 2^-11), whatever the residual added, and what the clip removes stays in the residual; after
   *   float16 rounding it is within S for normal values (see FLOAT16_ROUNDING), and the coordinator's own clip to S
   *   is what DP-FedAvg's sensitivity rests on
   */
  compress(delta: readonly NamedTensor[], compression: UpdateCompression | undefined, clipNorm?: number): CompressedDelta {
    if (!compression || compression.encoding !== 'sparse') return { delta: [...delta], encoding: compression?.encoding ?? 'raw' };
    const layout = layoutOf(delta);
    const carried = layout === this.layout;
    const corrected = delta.map((tensor) => {
      const values = Float32Array.from(tensor.data);
      const previous = carried ? this.residual.get(tensor.name) : undefined;
      if (previous) for (let i = 0; i < values.length; i++) values[i] += previous[i];
      return values;
    });
    const chosen = corrected.map((values) => sparsifyTopK(values, topkCount(values.length, compression.topkFraction)));
    const clipped = clipNorm !== undefined && clipNorm > 0 ? clipInPlace(chosen, clipNorm / (1 + FLOAT16_ROUNDING)).factor < 1 : false;
    const residual = new Map<string, Float32Array>();
    const sent = delta.map((tensor, t) => {
      // What the coordinator will decode (float16 values): the rounding too goes into the residual.
      const onTheWire = decodeTensor(encodeTensor({ ...tensor, dtype: 'float32', data: chosen[t] }, 'sparse'));
      const left = corrected[t];
      for (let i = 0; i < left.length; i++) left[i] -= onTheWire.data[i];
      residual.set(tensor.name, left);
      return { name: tensor.name, shape: [...tensor.shape], dtype: 'float32' as const, data: onTheWire.data };
    });
    return { delta: sent, encoding: 'sparse', residual, carried: carried && this.residual.size > 0, clipped };
  }

  /** Keeps `compressed`'s residual for the next round: call once the coordinator accepted its update. */
  commit(compressed: CompressedDelta): void {
    if (!compressed.residual) return;
    this.residual = compressed.residual;
    this.layout = layoutOf(compressed.delta);
  }
}

function layoutOf(tensors: readonly NamedTensor[]): string {
  return tensors.map((tensor) => `${tensor.name}[${tensor.shape.join(',')}]`).join(';');
}
