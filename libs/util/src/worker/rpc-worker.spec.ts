// RpcWorker and serveRpc over a real worker thread running a TypeScript body (started through ts-worker-entry.js).
import * as path from 'node:path';
import type { RpcTestPayload } from '../testing/rpc-test-worker';
import { RpcWorker, transferListOf } from './rpc-worker';

const BODY = path.join(__dirname, '../testing/rpc-test-worker.ts');

describe('RpcWorker', () => {
  const workers: RpcWorker[] = [];
  const start = async (payload: RpcTestPayload) => {
    const worker = await RpcWorker.start<{ greeting: string }, RpcTestPayload>(BODY, payload, { what: 'test worker' });
    workers.push(worker);
    return worker;
  };

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
  });

  it('starts a TypeScript body, reports its ready info, and answers calls in order', async () => {
    const worker = await start({ greeting: 'hello' });
    expect(worker.info).toEqual({ greeting: 'hello' });
    const answers = await Promise.all([worker.call('slow', 50), worker.call('echo', { a: [1, 2] }), worker.call('echo', 'x')]);
    expect(answers).toEqual([50, { a: [1, 2] }, 'x']);
  });

  it('moves transferred buffers both ways instead of copying them', async () => {
    const worker = await start({ greeting: 'hi' });
    const values = Float32Array.from([1, 2, 3]);
    const reply = await worker.call<{ doubled: Float32Array; byteLength: number }>('double', values, transferListOf([values]));
    expect(values.byteLength).toBe(0); // detached here: it moved
    expect(reply.byteLength).toBe(12);
    expect(Array.from(reply.doubled)).toEqual([2, 4, 6]);
  });

  it('passes a call’s progress to its caller, thinned out, with the last report before the answer', async () => {
    const worker = await start({ greeting: 'hi' });
    const reports: Array<[number, number]> = [];
    const answer = await worker.call('count', 1000, [], (done, total) => reports.push([done, total]));
    expect(answer).toBe(1000);
    expect(reports[0]).toEqual([1, 1000]);
    expect(reports[reports.length - 1]).toEqual([1000, 1000]);
    // A step takes microseconds and reports reach the host every 200 ms at most: far fewer than one a step.
    expect(reports.length).toBeLessThan(100);
    expect(await worker.call('echo', 'no progress', [], (done) => reports.push([done, -1]))).toBe('no progress');
    expect(reports[reports.length - 1]).toEqual([1000, 1000]);
  });

  it('lists a shared buffer once in a transfer list', () => {
    const buffer = new ArrayBuffer(16);
    expect(transferListOf([new Float32Array(buffer, 0, 2), new Float32Array(buffer, 8, 2)])).toEqual([buffer]);
  });

  it('rejects a failing call with the body’s error code and keeps serving', async () => {
    const worker = await start({ greeting: 'hi' });
    await expect(worker.call('fail', 'row 3 is bad')).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_DATA', message: 'test worker: row 3 is bad' });
    await expect(worker.call('nope', null)).rejects.toThrow('expected one of echo, double, fail, count, slow, crash; got method "nope"');
    expect(await worker.call('echo', 1)).toBe(1);
    expect(worker.dead).toBe(false);
  });

  it('rejects a call whose arguments cannot be posted, and keeps serving', async () => {
    const worker = await start({ greeting: 'hi' });
    await expect(worker.call('echo', { f: () => 1 })).rejects.toMatchObject({
      code: 'FEDTL_ERR_INTERNAL',
      message: expect.stringContaining('test worker: cannot send "echo"'),
    });
    expect(await worker.call('echo', 2)).toBe(2);
  });

  it('rejects start-up with the body’s own error', async () => {
    await expect(start({ greeting: 'hi', failStart: 'no backend' })).rejects.toMatchObject({
      code: 'FEDTL_ERR_BAD_CONFIG',
      message: 'test worker could not start: no backend',
    });
  });

  it('rejects the calls in flight when the thread crashes, and every later call', async () => {
    const worker = await start({ greeting: 'hi' });
    const crashing = expect(worker.call('crash', null)).rejects.toMatchObject({ code: 'FEDTL_ERR_INTERNAL', message: 'test worker crashed: deliberate crash' });
    const queuedBehind = expect(worker.call('echo', 1)).rejects.toThrow('test worker crashed');
    await crashing;
    await queuedBehind;
    expect(worker.dead).toBe(true);
    await expect(worker.call('echo', 1)).rejects.toThrow('test worker crashed');
  });

  it('rejects calls in flight when closed', async () => {
    const worker = await start({ greeting: 'hi' });
    const pending = expect(worker.call('slow', 60_000)).rejects.toThrow('test worker was closed');
    await worker.close();
    await pending;
    expect(worker.dead).toBe(true);
  });
});
