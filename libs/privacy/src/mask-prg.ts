// The mask generator: a 32-byte seed expanded to a vector of ring elements with AES-256 in counter mode.
//
// Bonawitz et al., CCS 2017 (https://eprint.iacr.org/2017/281), §3 ("pseudorandom generator": a secure PRG
// that expands a uniform seed to a mask of the input's length) and §4 (masks PRG(b_u) and PRG(s_{u,v})).
// Construction, to reproduce in another language:
//   key    = HKDF-SHA256(ikm = seed, salt = empty, info = kdfInfo("fedtl/secagg/v1/mask-prg",
//                        [runId, decimal round, session, purpose]), 32 bytes)
//   stream = AES-256-CTR(key, IV = 16 zero bytes) applied to 4 · n zero bytes (128-bit big-endian counter)
//   mask_i = stream[4i .. 4i + 3] read as a little-endian uint32, an element of Z_{2^32}
// A zero IV is safe because each AES key encrypts exactly one stream: the key is derived per seed, run, round
// and purpose, and a seed (fresh per round) is used for one mask only. AES-CTR output is indistinguishable from
// uniform (AES as a PRP; a stream is at most 2^28 blocks, the 2^30-element cap, far below the 2^64-block birthday
// bound), so each mask element is computationally uniform over Z_{2^32}.
import { createCipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import { FedtlError } from '@fedtl/util';
import { assertSecAggContext, contextFields, kdfInfo, type SecAggContext } from './secagg-context';

/** Bytes of every mask seed: the self-mask seed b_u and the pairwise seeds s_{u,v}. */
export const SEED_BYTES = 32;

/** What a mask is for; part of the key derivation, so one seed cannot serve as both. */
export type MaskPurpose = 'self-mask' | 'pairwise-mask';

const MASK_PRG_LABEL = 'fedtl/secagg/v1/mask-prg';
const BYTES_PER_ELEMENT = 4;
/** A Uint32Array holds its words in the platform's byte order; on little-endian machines the stream needs no swap. */
const LITTLE_ENDIAN = endianness() === 'LE';

/** A fresh uniformly random self-mask seed b_u (Bonawitz et al. 2017, §5, round 1 ShareKeys) from the OS CSPRNG. */
export function generateMaskSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_BYTES));
}

/**
 * Throws FEDTL_ERR_MALFORMED_MESSAGE unless `seed` holds exactly {@link SEED_BYTES} bytes: a seed may come from
 * outside (a peer's reconstructed secret), and a short one would weaken the mask.
 */
export function assertSeed(seed: Uint8Array, what: string): void {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_BYTES) {
    const got = seed instanceof Uint8Array ? `${seed.length} bytes` : typeof seed;
    throw new FedtlError('FEDTL_ERR_MALFORMED_MESSAGE', `${what}: expected a ${SEED_BYTES}-byte seed, got ${got}`);
  }
}

/**
 * Expands `seed` into `length` elements of Z_{2^32} (construction above). Deterministic: the same seed, length,
 * context and purpose give the same mask on every platform. Throws FEDTL_ERR_MALFORMED_MESSAGE for a seed that is
 * not 32 bytes and FEDTL_ERR_BAD_CONFIG for a bad length or context.
 */
export function expandMask(
  seed: Uint8Array,
  length: number,
  context: SecAggContext,
  purpose: MaskPurpose,
): Uint32Array {
  assertSeed(seed, 'mask generator');
  assertSecAggContext(context);
  if (!Number.isSafeInteger(length) || length < 0 || length > 2 ** 30) {
    throw new FedtlError(
      'FEDTL_ERR_BAD_CONFIG',
      `mask generator: expected a length an integer in [0, 2^30], got ${length}`,
    );
  }
  const info = kdfInfo(MASK_PRG_LABEL, [...contextFields(context), purpose]);
  const key = Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), info, 32));
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const stream = Buffer.concat([cipher.update(Buffer.alloc(length * BYTES_PER_ELEMENT)), cipher.final()]);
  key.fill(0);
  const mask = new Uint32Array(length);
  if (LITTLE_ENDIAN) {
    // The keystream's bytes are the little-endian words already: one copy instead of a read per element.
    new Uint8Array(mask.buffer).set(stream);
  } else {
    for (let i = 0; i < length; i++) mask[i] = stream.readUInt32LE(i * BYTES_PER_ELEMENT);
  }
  stream.fill(0);
  return mask;
}
