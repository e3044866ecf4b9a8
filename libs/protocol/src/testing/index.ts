// Test-only support: an honest in-process coordinator for one secure-aggregation round attempt (SecAggRelay), and
// Updates with hostile sparse tensors (encodeHostileSparseUpdate). Not part of @fedtl/protocol's runtime surface.
export * from './secagg-relay';
export * from './hostile-sparse';
