// The Socket.IO events of protocol v1, typed for `new Server<ClientToServerEvents, ServerToClientEvents>()`
// and `io(url) as Socket<ServerToClientEvents, ClientToServerEvents>`.
//
// Every payload is one protobuf message encoded by codec.ts. Every request carries an acknowledgement whose
// reply is itself an encoded message:
//   - `join` is answered with a JoinReply: a Welcome when the client is admitted, an Error when it is not;
//   - every other request is answered with an Ack: ok, or an Error with a catalogue code.
// A receiver that cannot decode a payload still acknowledges, with an Ack (or JoinReply) carrying
// FEDTL_ERR_MALFORMED_MESSAGE, so the sender learns why instead of waiting for its timeout.
// Features that add exchanges (secure aggregation key rounds, the DP ledger) add new event names here; the
// meaning of an existing event never changes within v1.
//
// Payloads are typed Uint8Array for senders; what arrives may be a Buffer (Node) or an ArrayBuffer (browsers),
// which the decoders accept as is.

/** Called by the receiver of a request with its encoded reply. */
export type ReplyCallback = (reply: Uint8Array) => void;

export interface ClientToServerEvents {
  /** Payload: Join. Reply: JoinReply. */
  join: (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: Update. Reply: Ack. */
  update: (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: EvaluateReport. Reply: Ack. */
  'evaluate-report': (payload: Uint8Array, reply: ReplyCallback) => void;
  /**
   * Payload: Error. Reply: Ack. The client could not do the round it accepted (its training failed): the
   * coordinator leaves it out of the round at once instead of waiting for the deadline.
   */
  'round-failed': (payload: Uint8Array, reply: ReplyCallback) => void;
  /**
   * Payload: Error. Reply: Ack. The client could not do the evaluation it accepted (its evaluation threw): the
   * coordinator stops waiting for its report at once instead of waiting for the evaluation deadline.
   */
  'evaluate-failed': (payload: Uint8Array, reply: ReplyCallback) => void;
  // Secure aggregation (proto/fedtl/v1/secagg.proto), sent only in a round whose plan carries SecAggParams:
  /** Payload: AdvertiseKeys (round 0). Reply: Ack. */
  'secagg-advertise': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: ShareKeys (round 1). Reply: Ack. */
  'secagg-shares': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: MaskedInput (round 2), in place of an Update. Reply: Ack. */
  'secagg-masked-input': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: UnmaskShares (round 4). Reply: Ack. */
  'secagg-unmask-shares': (payload: Uint8Array, reply: ReplyCallback) => void;
}

export interface ServerToClientEvents {
  /** Payload: RoundPlan. Reply: Ack (ok once the client accepts the round, before it trains). */
  'round-plan': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: EvaluateRequest. Reply: Ack (ok once the client accepts the request, before it evaluates). */
  'evaluate-request': (payload: Uint8Array, reply: ReplyCallback) => void;
  /**
   * Payload: RunEnd. Reply: Ack (ok once the client took the verdict). The coordinator's last word on the run:
   * sent to every connected client when the run finished or failed (never when an operator stopped the
   * coordinator: that run resumes after a restart), and at once to a client that joins after the verdict. The
   * coordinator waits (at most its acknowledgement timeout) for the acks, then disconnects the clients. A client
   * ends on it: exit status 0 for `finished`, non-zero with the cause for `failed`.
   */
  'run-end': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: KeyDirectory (U1, after round 0). Reply: Ack (ok once taken; the ShareKeys follows). */
  'secagg-keys': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: ShareDelivery (after round 1). Reply: Ack (ok once taken; the MaskedInput follows training). */
  'secagg-share-delivery': (payload: Uint8Array, reply: ReplyCallback) => void;
  /**
   * Payload: UnmaskRequest (after round 2). Reply: Ack: ok once the request passes the client's checks (the
   * UnmaskShares follows), or FEDTL_ERR_SECAGG_VIOLATION when it breaks the safety rule (nothing is revealed).
   */
  'secagg-unmask': (payload: Uint8Array, reply: ReplyCallback) => void;
  /** Payload: Error. No reply: the server reports a problem not tied to a request, e.g. before disconnecting. */
  'fedtl-error': (payload: Uint8Array) => void;
}

export type ClientRequestEvent = keyof ClientToServerEvents;
export type ServerRequestEvent = Exclude<keyof ServerToClientEvents, 'fedtl-error'>;
