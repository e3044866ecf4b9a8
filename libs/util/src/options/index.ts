// Option declarations and what they drive: commander flags, environment variables, config files, --help and
// --print-config. A separate entry point (@fedtl/util/options) so that libraries and worker threads that import
// @fedtl/util do not load commander, zod and yaml.
export * from './declare-option';
export * from './resolve-options';
export * from './config-file';
export * from './print-config';
export * from './commander-options';
export * from './log-options';
export * from './command-spec';
