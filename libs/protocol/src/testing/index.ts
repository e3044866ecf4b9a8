// Test-only support for anything that speaks secagg.proto: an honest in-process coordinator for one
// secure-aggregation round attempt (SecAggRelay). Not part of @fedtl/protocol's runtime surface.
export * from './secagg-relay';
