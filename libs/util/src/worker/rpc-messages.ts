// The messages a fedtl worker thread and its host exchange (see rpc-worker.ts and serve-rpc.ts).

/** What the host passes as `workerData`: which module is the body, and the body's own start-up payload. */
export interface RpcWorkerData<Payload = unknown> {
  /** Absolute path of the worker's body (a `.ts` module under tsx, or built `.js`). */
  entry: string;
  /** The tsconfig whose `paths` resolve the @fedtl/* aliases inside the worker (read by ts-worker-entry.js). */
  tsconfigPath?: string;
  payload: Payload;
}

/** Host → worker: call `method` with `args`. Calls are answered one at a time, in the order they were sent. */
export interface RpcRequest {
  id: number;
  method: string;
  args: unknown;
}

/**
 * Worker → host. `ready` once the body has started; then per request any number of `progress` (a few a second
 * at most) and one `result` or `failed`.
 */
export type RpcReply =
  | { type: 'ready'; info: unknown }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'failed'; id?: number; code: string; message: string };
