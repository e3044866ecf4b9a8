// The host side of a fedtl worker thread: starts the thread on a TypeScript (or built JavaScript) body, waits
// until the body says it is ready, then sends it calls and matches each answer to its call. Compute-heavy work
// (embedding text, local training) runs in such threads so that the main thread stays free for the network.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { FedtlError, errorMessage, isErrorCode, type ErrorCode } from '../errors';
import type { RpcReply, RpcRequest, RpcWorkerData } from './rpc-messages';

const ENTRY = path.join(__dirname, 'ts-worker-entry.js');

export interface RpcWorkerOptions {
  /** Names the worker in errors, e.g. "embedding worker". */
  what: string;
}

interface PendingCall {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
  onProgress?: (done: number, total: number) => void;
}

export class RpcWorker<Info = unknown> {
  private nextId = 0;
  private readonly pending = new Map<number, PendingCall>();
  private exited: FedtlError | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly what: string,
    /** What the body reported when it became ready (e.g. the backbone's dimension). */
    readonly info: Info,
  ) {
    worker.on('message', (reply: RpcReply) => {
      if (reply.type === 'ready' || reply.id === undefined) return;
      const call = this.pending.get(reply.id);
      if (call === undefined) return;
      if (reply.type === 'progress') {
        call.onProgress?.(reply.done, reply.total);
        return;
      }
      this.pending.delete(reply.id);
      if (reply.type === 'result') call.resolve(reply.result);
      else call.reject(new FedtlError(asErrorCode(reply.code), `${what}: ${reply.message}`));
    });
    worker.on('error', (err) => this.fail(new FedtlError('FEDTL_ERR_INTERNAL', `${what} crashed: ${errorMessage(err)}`)));
    worker.on('exit', (code) => this.fail(new FedtlError('FEDTL_ERR_INTERNAL', `${what} exited (code ${code})`)));
  }

  /**
   * Starts a thread running `entry` (an absolute path to a module that calls `serveRpc`) with `payload` as its
   * start-up data, and resolves once the body is ready. Rejects with the body's own error code when it fails
   * to start (message "<what> could not start: …"), or FEDTL_ERR_INTERNAL when the thread dies first.
   */
  static start<Info, Payload>(entry: string, payload: Payload, options: RpcWorkerOptions): Promise<RpcWorker<Info>> {
    const workerData: RpcWorkerData<Payload> = { entry, tsconfigPath: findTsconfig(path.dirname(entry)), payload };
    // execArgv []: the worker does not inherit the parent's loader flags (tsx's, Jest's); the entry sets up
    // TypeScript itself.
    const worker = new Worker(ENTRY, { workerData, execArgv: [] });
    const { what } = options;
    return new Promise((resolve, reject) => {
      const onMessage = (reply: RpcReply) => {
        if (reply.type === 'ready') {
          settle();
          resolve(new RpcWorker<Info>(worker, what, reply.info as Info));
        } else if (reply.type === 'failed') {
          settle();
          void worker.terminate();
          reject(new FedtlError(asErrorCode(reply.code), `${what} could not start: ${reply.message}`));
        }
      };
      const onError = (err: Error) => {
        settle();
        reject(new FedtlError('FEDTL_ERR_INTERNAL', `${what} failed to start: ${errorMessage(err)}`));
      };
      const onExit = (code: number) => {
        settle();
        reject(new FedtlError('FEDTL_ERR_INTERNAL', `${what} exited while starting (code ${code})`));
      };
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  /** True once the thread has crashed, exited or been closed: every later call rejects. */
  get dead(): boolean {
    return this.exited !== undefined;
  }

  /**
   * Calls `method` in the worker. `transfer` lists buffers of `args` to move rather than copy (they are
   * detached here afterwards). `onProgress` receives what the method reports through its `RpcCall` (a few
   * times a second at most, and its last report), before the call settles. Rejects with the worker's error code and message, FEDTL_ERR_INTERNAL if the
   * thread dies before it answers, or FEDTL_ERR_INTERNAL if `args` cannot be posted (e.g. holds a function).
   */
  call<Result>(method: string, args: unknown, transfer: readonly TransferListItem[] = [], onProgress?: (done: number, total: number) => void): Promise<Result> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (result: unknown) => void, reject, onProgress });
      const request: RpcRequest = { id, method, args };
      try {
        this.worker.postMessage(request, transfer);
      } catch (err) {
        this.pending.delete(id);
        reject(new FedtlError('FEDTL_ERR_INTERNAL', `${this.what}: cannot send "${method}": ${errorMessage(err)}`));
      }
    });
  }

  /** Stops the thread; calls still waiting reject. */
  async close(): Promise<void> {
    this.fail(new FedtlError('FEDTL_ERR_INTERNAL', `${this.what} was closed`));
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }

  private fail(err: FedtlError): void {
    this.exited ??= err;
    for (const call of this.pending.values()) call.reject(err);
    this.pending.clear();
  }
}

/**
 * The distinct buffers behind `arrays`, for a transfer list (a buffer listed twice makes postMessage throw).
 * Only for arrays that own their whole buffer: transferring a view's buffer would move its neighbours too.
 */
export function transferListOf(arrays: readonly ArrayBufferView[]): ArrayBuffer[] {
  return [...new Set(arrays.map((array) => array.buffer as ArrayBuffer))];
}

function asErrorCode(code: string): ErrorCode {
  return isErrorCode(code) ? code : 'FEDTL_ERR_INTERNAL';
}

/** The nearest tsconfig.json above `dir`: the one whose `paths` map the @fedtl/* aliases for this source tree. */
function findTsconfig(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, 'tsconfig.json');
    if (fs.existsSync(candidate)) return candidate;
    if (path.dirname(current) === current) return undefined;
  }
}
