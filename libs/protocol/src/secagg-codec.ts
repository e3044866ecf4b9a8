// Secure-aggregation messages <-> domain types (proto/fedtl/v1/secagg.proto). Decoders check what the protocol
// fixes (key lengths, byte-string sizes, list lengths, a masked vector of whole uint32 words) and throw
// FEDTL_ERR_MALFORMED_MESSAGE naming the field; protocol rules across messages (who is in U1, U2, U3) are the
// participants' to check.
import { X25519_PUBLIC_KEY_BYTES } from '@fedtl/privacy';
import { decodeMessage } from './codec';
import { FieldReader, FieldWriter } from './field-checks';
import { FIELD_LIMITS } from './field-limits';
import { fedtl } from './generated/fedtl';
import type {
  AdvertiseKeys,
  ClientKeys,
  EncryptedSharePair,
  KeyDirectory,
  MaskedInput,
  RevealedShare,
  SecAggStep,
  SecretKind,
  ShareDelivery,
  ShareKeys,
  UnmaskRequest,
  UnmaskShares,
} from './secagg-domain';

import v1 = fedtl.v1;

const SECRET_KINDS: Record<SecretKind, v1.SecretKind> = {
  'self-mask-seed': v1.SecretKind.SECRET_KIND_SELF_MASK_SEED,
  'mask-private-key': v1.SecretKind.SECRET_KIND_MASK_PRIVATE_KEY,
};

// ---- public API ----------------------------------------------------------------------------------------------

export function encodeAdvertiseKeys(message: AdvertiseKeys): Uint8Array {
  const fields = new FieldWriter('AdvertiseKeys');
  return v1.AdvertiseKeys.encode({ ...stepToWire(message, fields), clientId: message.clientId, encryptionPublicKey: message.encryptionPublicKey, maskPublicKey: message.maskPublicKey }).finish();
}
export function decodeAdvertiseKeys(payload: unknown): AdvertiseKeys {
  return decodeMessage('AdvertiseKeys', v1.AdvertiseKeys, payload, (wire, fields) => ({
    ...stepFromWire(wire, fields),
    clientId: clientIdFromWire(wire.clientId, fields, 'clientId'),
    encryptionPublicKey: fields.bytes('encryptionPublicKey', wire.encryptionPublicKey, X25519_PUBLIC_KEY_BYTES, X25519_PUBLIC_KEY_BYTES),
    maskPublicKey: fields.bytes('maskPublicKey', wire.maskPublicKey, X25519_PUBLIC_KEY_BYTES, X25519_PUBLIC_KEY_BYTES),
  }));
}

export function encodeKeyDirectory(message: KeyDirectory): Uint8Array {
  const fields = new FieldWriter('KeyDirectory');
  return v1.KeyDirectory.encode({ ...stepToWire(message, fields), clients: message.clients }).finish();
}
export function decodeKeyDirectory(payload: unknown): KeyDirectory {
  return decodeMessage('KeyDirectory', v1.KeyDirectory, payload, (wire, fields) => ({
    ...stepFromWire(wire, fields),
    clients: fields.count('clients', wire.clients ?? [], FIELD_LIMITS.secAggClients).map((client, index): ClientKeys => {
      const at = fields.at(`clients[${index}]`);
      return {
        clientId: clientIdFromWire(client.clientId, at, 'clientId'),
        encryptionPublicKey: at.bytes('encryptionPublicKey', client.encryptionPublicKey, X25519_PUBLIC_KEY_BYTES, X25519_PUBLIC_KEY_BYTES),
        maskPublicKey: at.bytes('maskPublicKey', client.maskPublicKey, X25519_PUBLIC_KEY_BYTES, X25519_PUBLIC_KEY_BYTES),
      };
    }),
  }));
}

export function encodeShareKeys(message: ShareKeys): Uint8Array {
  const fields = new FieldWriter('ShareKeys');
  return v1.ShareKeys.encode({ ...stepToWire(message, fields), clientId: message.clientId, shares: message.shares }).finish();
}
export function decodeShareKeys(payload: unknown): ShareKeys {
  return decodeMessage('ShareKeys', v1.ShareKeys, payload, (wire, fields) => ({
    ...stepFromWire(wire, fields),
    clientId: clientIdFromWire(wire.clientId, fields, 'clientId'),
    shares: sharesFromWire(wire.shares, fields),
  }));
}

export function encodeShareDelivery(message: ShareDelivery): Uint8Array {
  const fields = new FieldWriter('ShareDelivery');
  return v1.ShareDelivery.encode({ ...stepToWire(message, fields), shares: message.shares }).finish();
}
export function decodeShareDelivery(payload: unknown): ShareDelivery {
  return decodeMessage('ShareDelivery', v1.ShareDelivery, payload, (wire, fields) => ({
    ...stepFromWire(wire, fields),
    shares: sharesFromWire(wire.shares, fields),
  }));
}

export function encodeMaskedInput(message: MaskedInput): Uint8Array {
  const fields = new FieldWriter('MaskedInput');
  const bytes = new Uint8Array(message.maskedVector.length * 4);
  const view = new DataView(bytes.buffer);
  message.maskedVector.forEach((word, i) => view.setUint32(4 * i, word, true));
  return v1.MaskedInput.encode({ ...stepToWire(message, fields), clientId: message.clientId, maskedVector: bytes }).finish();
}
export function decodeMaskedInput(payload: unknown): MaskedInput {
  return decodeMessage('MaskedInput', v1.MaskedInput, payload, (wire, fields) => {
    const bytes = wire.maskedVector ?? new Uint8Array(0);
    if (bytes.length === 0 || bytes.length % 4 !== 0) throw fields.malformed('maskedVector', 'a non-empty whole number of 4-byte words', `${bytes.length} bytes`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const maskedVector = new Uint32Array(bytes.length / 4);
    for (let i = 0; i < maskedVector.length; i++) maskedVector[i] = view.getUint32(4 * i, true);
    return { ...stepFromWire(wire, fields), clientId: clientIdFromWire(wire.clientId, fields, 'clientId'), maskedVector };
  });
}

export function encodeUnmaskRequest(message: UnmaskRequest): Uint8Array {
  const fields = new FieldWriter('UnmaskRequest');
  return v1.UnmaskRequest.encode({ ...stepToWire(message, fields), survivors: message.survivors, dropped: message.dropped }).finish();
}
export function decodeUnmaskRequest(payload: unknown): UnmaskRequest {
  return decodeMessage('UnmaskRequest', v1.UnmaskRequest, payload, (wire, fields) => ({
    ...stepFromWire(wire, fields),
    survivors: fields.identifiers('survivors', wire.survivors, FIELD_LIMITS.secAggClients, FIELD_LIMITS.clientIdChars),
    dropped: fields.identifiers('dropped', wire.dropped, FIELD_LIMITS.secAggClients, FIELD_LIMITS.clientIdChars),
  }));
}

export function encodeUnmaskShares(message: UnmaskShares): Uint8Array {
  const fields = new FieldWriter('UnmaskShares');
  return v1.UnmaskShares.encode({
    ...stepToWire(message, fields),
    clientId: message.clientId,
    shares: message.shares.map((share) => ({ ownerId: share.ownerId, kind: SECRET_KINDS[share.kind], share: share.share })),
  }).finish();
}
export function decodeUnmaskShares(payload: unknown): UnmaskShares {
  return decodeMessage('UnmaskShares', v1.UnmaskShares, payload, (wire, fields) => ({
    ...stepFromWire(wire, fields),
    clientId: clientIdFromWire(wire.clientId, fields, 'clientId'),
    shares: fields.count('shares', wire.shares ?? [], 2 * FIELD_LIMITS.secAggClients).map((share, index): RevealedShare => {
      const at = fields.at(`shares[${index}]`);
      return {
        ownerId: clientIdFromWire(share.ownerId, at, 'ownerId'),
        kind: at.enumValue('kind', SECRET_KINDS, share.kind),
        share: at.bytes('share', share.share, 2, FIELD_LIMITS.secAggShareBytes),
      };
    }),
  }));
}

// ---- mappings ------------------------------------------------------------------------------------------------

function stepToWire(step: SecAggStep, fields: FieldWriter): { runId: string; round: number; attempt: number } {
  return { runId: step.runId, round: fields.uint32('round', step.round), attempt: fields.uint32('attempt', step.attempt) };
}

function stepFromWire(wire: { runId?: string | null; round?: number | null; attempt?: number | null }, fields: FieldReader): SecAggStep {
  return {
    runId: fields.identifier('runId', wire.runId, FIELD_LIMITS.runIdChars),
    round: fields.positive('round', wire.round),
    attempt: fields.positive('attempt', wire.attempt),
  };
}

function clientIdFromWire(value: string | null | undefined, fields: FieldReader, field: string): string {
  return fields.identifier(field, value, FIELD_LIMITS.clientIdChars);
}

function sharesFromWire(wires: v1.EncryptedShare.$Properties[] | null | undefined, fields: FieldReader): EncryptedSharePair[] {
  return fields.count('shares', wires ?? [], FIELD_LIMITS.secAggClients).map((share, index) => {
    const at = fields.at(`shares[${index}]`);
    return {
      senderId: clientIdFromWire(share.senderId, at, 'senderId'),
      recipientId: clientIdFromWire(share.recipientId, at, 'recipientId'),
      ciphertext: at.bytes('ciphertext', share.ciphertext, 28, FIELD_LIMITS.secAggCiphertextBytes),
    };
  });
}
