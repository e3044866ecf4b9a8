// Bounds on what a peer may send in a message's text and shape fields, checked when the message is decoded.
// Whatever passes is stored in metrics.jsonl, the status API and the logs, so nothing a client controls may be
// unbounded there. Identifiers over their bound are refused (FEDTL_ERR_MALFORMED_MESSAGE); an error message is
// informational and is cut instead. docs/PROTOCOL.md lists these values.

export const FIELD_LIMITS = {
  /** Client ids: the coordinator also requires [A-Za-z0-9._-] at join. */
  clientIdChars: 64,
  /** Run ids are UUIDs (36 characters); room for other schemes. */
  runIdChars: 64,
  /** Backbone ids include a model directory path (`tfjs-model:DIR`), hence longer than other names. */
  backboneIdChars: 512,
  /** A backbone's content hash is a SHA-256 digest in hex. */
  contentHashHexDigits: 64,
  /** The shared token: compared in constant time, so its length bounds that work. */
  tokenChars: 1024,
  tensorNameChars: 128,
  tensorsPerMessage: 256,
  tensorRank: 8,
  /** Largest tensor dimension (2^31): a dimension beyond what any backend can allocate is surely bogus. */
  tensorDim: 2 ** 31,
  /**
   * Dense values the sparse tensors of one message may expand to in all (2^24: 64 MiB of float32). A raw tensor's
   * size is bounded by the message's bytes; a sparse one's shape is not, so a few bytes could otherwise make the
   * receiver allocate gigabytes. Adapter-and-head models are ~10^5 values.
   */
  sparseDenseValuesPerMessage: 2 ** 24,
  labelChars: 128,
  labelsPerMessage: 1024,
  /** Encoder layers a LoRA spec may name (use-lite has 2; room for deeper backbones). */
  loraLayers: 64,
  metricNameChars: 128,
  metricsPerMessage: 64,
  /** Error codes are catalogue names (FEDTL_ERR_…); a newer peer's unknown code is still a short name. */
  errorCodeChars: 64,
  /** Error messages are cut (not refused) to this many characters, control characters escaped. */
  errorMessageChars: 1024,
  /** Clients named in one secure-aggregation message (a key directory, a share list, an unmask request). */
  secAggClients: 10_000,
  /** An encrypted share pair: nonce, two length-prefixed 33-byte shares and the tag are 98 bytes; room to spare. */
  secAggCiphertextBytes: 1024,
  /** One revealed Shamir share of a 32-byte secret is 33 bytes; room to spare. */
  secAggShareBytes: 256,
  /** Metric slots carried inside a masked vector. */
  secAggMetricSlots: 16,
  /** Names in a Join's feature list, and their length. */
  features: 32,
  featureChars: 64,
} as const;
