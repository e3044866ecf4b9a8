// Domain types of the secure-aggregation messages (proto/fedtl/v1/secagg.proto documents each field, the
// round structure and the cryptography). Every message names the run, round and attempt it belongs to.

/** The round attempt a secure-aggregation message belongs to. */
export interface SecAggStep {
  runId: string;
  round: number;
  /** SecAggParams.attempt of the plan this message answers. */
  attempt: number;
}

/** Round 0 (client → coordinator, 'secagg-advertise'): the client's two X25519 public keys, raw 32 bytes each. */
export interface AdvertiseKeys extends SecAggStep {
  clientId: string;
  encryptionPublicKey: Uint8Array;
  maskPublicKey: Uint8Array;
}

/** One member of U1 and its keys. */
export interface ClientKeys {
  clientId: string;
  encryptionPublicKey: Uint8Array;
  maskPublicKey: Uint8Array;
}

/** Round 0 → 1 (coordinator → client, 'secagg-keys'): U1. */
export interface KeyDirectory extends SecAggStep {
  clients: ClientKeys[];
}

/** e_{u,v}: nonce ‖ AES-256-GCM ciphertext ‖ tag of u's two shares for v. */
export interface EncryptedSharePair {
  senderId: string;
  recipientId: string;
  ciphertext: Uint8Array;
}

/** Round 1 (client → coordinator, 'secagg-shares'). */
export interface ShareKeys extends SecAggStep {
  clientId: string;
  shares: EncryptedSharePair[];
}

/** Round 1 → 2 (coordinator → client, 'secagg-share-delivery'): the shares addressed to the recipient. */
export interface ShareDelivery extends SecAggStep {
  shares: EncryptedSharePair[];
}

/** Round 2 (client → coordinator, 'secagg-masked-input'): y_u, L elements of Z_{2^32}. */
export interface MaskedInput extends SecAggStep {
  clientId: string;
  maskedVector: Uint32Array;
}

/** Round 2 → 4 (coordinator → client, 'secagg-unmask'): U3 and U2 \ U3. */
export interface UnmaskRequest extends SecAggStep {
  survivors: string[];
  dropped: string[];
}

/** Which secret a revealed share belongs to. */
export type SecretKind = 'self-mask-seed' | 'mask-private-key';

export interface RevealedShare {
  ownerId: string;
  kind: SecretKind;
  share: Uint8Array;
}

/** Round 4 (client → coordinator, 'secagg-unmask-shares'). */
export interface UnmaskShares extends SecAggStep {
  clientId: string;
  shares: RevealedShare[];
}
