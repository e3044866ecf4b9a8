// A worker body for the tests of RpcWorker/serveRpc: echoes, fails with a code, transfers, reports progress,
// crashes on request.
import { FedtlError } from '../errors';
import { serveRpc, type RpcCall } from '../worker';

export interface RpcTestPayload {
  /** Fail at start-up with this message (FEDTL_ERR_BAD_CONFIG). */
  failStart?: string;
  greeting: string;
}

serveRpc<RpcTestPayload>((payload) => {
  if (payload.failStart) throw new FedtlError('FEDTL_ERR_BAD_CONFIG', payload.failStart);
  return {
    info: { greeting: payload.greeting },
    methods: {
      echo: (value: unknown) => ({ result: value }),
      /** Doubles every value and moves the result back to the host. */
      double: (values: Float32Array) => {
        const doubled = values.map((v) => 2 * v);
        return { result: { doubled, byteLength: values.byteLength }, transfer: [doubled.buffer as ArrayBuffer] };
      },
      fail: (message: string) => {
        throw new FedtlError('FEDTL_ERR_BAD_DATA', message);
      },
      /** Reports progress `steps` times (1 of steps … steps of steps), then answers with `steps`. */
      count: (steps: number, call: RpcCall) => {
        for (let done = 1; done <= steps; done++) call.progress(done, steps);
        return { result: steps };
      },
      slow: async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return { result: ms };
      },
      crash: () => {
        // Outside the call's try/catch: the thread dies of an uncaught exception.
        setImmediate(() => {
          throw new Error('deliberate crash');
        });
        return new Promise<never>(() => undefined);
      },
    },
  };
});
