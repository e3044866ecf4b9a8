// A coordinator that sends a plan or an evaluation request whose sparse weights claim a huge shape in a few bytes:
// once welcomed, the client checks each tensor's header against its model as it decodes, so it refuses the message
// (acknowledged not ok, with the codec's code) without expanding the tensor, and stays connected for the next one.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { initialWeights } from '@fedtl/model';
import { decodeAck, encodeJoinReply, type Ack, type TrainingConfig } from '@fedtl/protocol';
import { encodeInflatedEvaluateRequest, encodeInflatedRoundPlan } from '@fedtl/protocol/testing';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox, waitUntil } from '@fedtl/util/testing';
import { FIXTURE_DIM, startFixtureClient } from './testing/client-fixtures';

const model = { inputDim: FIXTURE_DIM, adapterWidth: 4, head: 'linear' as const, headHidden: 8, labels: ['no', 'yes'] };
const config: TrainingConfig = { localEpochs: 1, batchSize: 12, learningRate: 0.05, optimizer: 'sgd', seed: 1 };

describe('a client facing a coordinator that inflates sparse weights', () => {
  const sandbox = useTestSandbox();
  beforeAll(() => configureLogging({ level: 'error' }));

  it.each([
    ['round plan', 'round-plan'],
    ['evaluation request', 'evaluate-request'],
  ] as const)('refuses a %s whose tensor header does not match its model, before expanding it', async (_what, event) => {
    const http = createServer();
    const server = new Server(http, { serveClient: false, maxHttpBufferSize: 1e7 });
    sandbox.defer(() => new Promise((resolve) => server.close(resolve)));
    let socket: Socket | undefined;
    server.on('connection', (connected: Socket) => {
      socket = connected;
      connected.on('join', (_payload: Uint8Array, reply: (r: Uint8Array) => void) => {
        reply(encodeJoinReply({ ok: true, welcome: { runId: 'run-1', clientId: 'org-1', protocolVersion: 1, model, currentRound: 0 } }));
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const client = startFixtureClient(sandbox, (http.address() as AddressInfo).port, 'org-1', 0.1, '');
    let welcomed = false;
    client.once('welcome', () => (welcomed = true));
    await waitUntil(() => welcomed, 30_000, 'welcome');

    const weights = initialWeights(model, 1);
    const payload =
      event === 'round-plan'
        ? encodeInflatedRoundPlan({ runId: 'run-1', round: 1, weights, config })
        : encodeInflatedEvaluateRequest({ runId: 'run-1', round: 1, weights });
    const reply = await new Promise<Ack>((resolve) => socket?.emit(event, payload, (bytes: Uint8Array) => resolve(decodeAck(bytes))));

    expect(reply).toEqual({
      ok: false,
      error: { code: 'FEDTL_ERR_BAD_TENSOR_SHAPE', message: expect.stringMatching(new RegExp(`^${event === 'round-plan' ? 'RoundPlan' : 'EvaluateRequest'}\\.weights\\.0: tensor '${weights[0].name}': expected shape \\[.*\\], got \\[4096,4095\\]`)) },
    });
    expect(socket?.connected).toBe(true);
  }, 60_000);
});
