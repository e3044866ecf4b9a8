// The worker side of a fedtl worker thread (the host side is rpc-worker.ts): start the body once, report
// ready, then answer calls one at a time in arrival order. A failure answers its call; it never kills the thread.
import { parentPort, workerData, type TransferListItem } from 'node:worker_threads';
import { toFedtlError } from '../errors';
import type { RpcReply, RpcRequest, RpcWorkerData } from './rpc-messages';

/** A method's answer, and which of its buffers to move to the host rather than copy. */
export interface RpcResult {
  result: unknown;
  transfer?: readonly TransferListItem[];
}

/** What a method can do besides answering: report progress (`done` of `total`) to the host's caller. */
export interface RpcCall {
  progress(done: number, total: number): void;
}

export type RpcMethods = Record<string, (args: never, call: RpcCall) => Promise<RpcResult> | RpcResult>;

/** Progress reaches the host at most this often (and at the end), so reporting every step costs nothing. */
const PROGRESS_INTERVAL_MS = 200;

/** What a worker body's start-up returns: what to tell the host when ready, and the methods it serves. */
export interface RpcBody {
  info?: unknown;
  methods: RpcMethods;
}

/**
 * Runs in a worker thread started by `RpcWorker.start`: calls `start` with the host's payload, then serves
 * `methods`. A `start` that throws is reported to the host (which rejects `RpcWorker.start`), as is an unknown
 * method. Throws at once when not running as a worker thread.
 */
export function serveRpc<Payload>(start: (payload: Payload) => Promise<RpcBody> | RpcBody): void {
  const port = parentPort;
  if (port === null) throw new Error('serveRpc runs only inside a worker thread');
  const reply = (message: RpcReply, transfer: readonly TransferListItem[] = []) => port.postMessage(message, transfer);
  const failure = (err: unknown, id?: number): RpcReply => {
    const error = toFedtlError(err);
    return { type: 'failed', id, code: error.code, message: error.message };
  };
  void (async () => {
    let body: RpcBody;
    try {
      body = await start((workerData as RpcWorkerData<Payload>).payload);
    } catch (err) {
      reply(failure(err));
      return;
    }
    let queue = Promise.resolve();
    port.on('message', (request: RpcRequest) => {
      queue = queue.then(async () => {
        try {
          const method = Object.prototype.hasOwnProperty.call(body.methods, request.method) ? body.methods[request.method] : undefined;
          if (method === undefined) throw new Error(`expected one of ${Object.keys(body.methods).join(', ')}; got method "${request.method}"`);
          const { result, transfer } = await method(request.args as never, { progress: throttledProgress(request.id) });
          reply({ type: 'result', id: request.id, result }, transfer);
        } catch (err) {
          reply(failure(err, request.id));
        }
      });
    });
    reply({ type: 'ready', info: body.info });
  })();

  function throttledProgress(id: number): RpcCall['progress'] {
    let last = -Infinity;
    return (done, total) => {
      const now = performance.now();
      if (done < total && now - last < PROGRESS_INTERVAL_MS) return;
      last = now;
      reply({ type: 'progress', id, done, total });
    };
  }
}
