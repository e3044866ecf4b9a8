// The scaled sign-flip attack on a local update (Blanchard et al., NeurIPS 2017): the delta a client trained,
// multiplied by −S. Example count and training metrics stay honest, so only the direction and size give it away.
import { FedtlError } from '@fedtl/util';
import type { LocalUpdate } from '../learner';

export const SIGN_FLIP_FLAG = '--sign-flip-scale';

/** The update with every delta element multiplied by −scale (scale > 0; 1 is a plain sign flip). */
export function signFlip(scale: number): (update: LocalUpdate) => LocalUpdate {
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`sign flip: expected a finite scale > 0, got ${scale}`);
  return (update) => ({ ...update, delta: update.delta.map((t) => ({ ...t, data: t.data.map((v) => -scale * v) })) });
}

/**
 * Takes `--sign-flip-scale S` (required, S > 0) out of `argv`; the rest are the client's own flags.
 * Throws FEDTL_ERR_BAD_CONFIG when the flag is missing or its value is not a number > 0.
 */
export function takeSignFlipScale(argv: readonly string[]): { scale: number; rest: string[] } {
  const at = argv.indexOf(SIGN_FLIP_FLAG);
  const value = at < 0 ? undefined : argv[at + 1];
  const scale = Number(value);
  if (value === undefined || value.trim() === '' || !(Number.isFinite(scale) && scale > 0)) {
    throw new FedtlError('FEDTL_ERR_BAD_CONFIG', `${SIGN_FLIP_FLAG}: expected a number > 0, got ${value ?? 'nothing'}`);
  }
  return { scale, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
}
