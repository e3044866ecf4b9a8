// The client's training thread: the same results as training in this thread, no tensors left behind in the
// worker across rounds, and the connection's thread is not the one that computes.
import { threadId } from 'node:worker_threads';
import { initialWeights, selectBackend } from '@fedtl/model';
import type { ModelSpec } from '@fedtl/protocol';
import { applyDelta } from '@fedtl/strategies';
import { configureLogging, seededRandom } from '@fedtl/util';
import { Learner, featureExamples, type LearnerData } from './learner';
import { LearnerThread } from './learner-thread';

const DIM = 8;
const spec: ModelSpec = { inputDim: DIM, adapterWidth: 4, head: 'linear', headHidden: 16, labels: ['no', 'yes'] };
const config = { localEpochs: 2, batchSize: 16, learningRate: 0.05, optimizer: 'adam' as const, seed: 1 };

function split(n: number, random: () => number) {
  const features = new Float32Array(n * DIM);
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const positive = i % 3 !== 0;
    for (let j = 0; j < DIM; j++) features[i * DIM + j] = (positive ? 1 : -1) * (j === 1 ? 1.5 : 0) + (random() - 0.5);
    labels.push(positive ? 'yes' : 'no');
  }
  return { features, labels };
}

describe('LearnerThread', () => {
  const random = seededRandom(5);
  const data: LearnerData = { train: split(60, random), test: split(30, random) };
  const options = { clientId: 'org-1', backend: 'cpu' as const, data, localBaselineEpochs: 3, personalizeEpochs: 2, seed: 4 };
  let thread: LearnerThread | undefined;

  beforeAll(async () => {
    configureLogging({ level: 'error' });
    await selectBackend('cpu'); // for the in-process Learner the thread is compared with
  });

  afterEach(async () => {
    await thread?.close();
    thread = undefined;
  });

  it('trains and evaluates in a worker thread exactly as in this one, leaving no tensor behind', async () => {
    thread = new LearnerThread(options);
    const info = await thread.ready();
    expect(info.threadId).not.toBe(threadId);
    expect(info.backend).toBe('cpu');
    await thread.startRun(spec);
    const inProcess = new Learner(spec, featureExamples(spec, data), options.localBaselineEpochs, options.seed, options.personalizeEpochs);

    let weights = initialWeights(spec, 2);
    const tensorsBefore = await thread.numTensors();
    for (let round = 1; round <= 3; round++) {
      const roundConfig = { ...config, seed: round };
      const progress: Array<[number, number]> = [];
      const [remote, local] = [await thread.fit(weights, roundConfig, (done, total) => progress.push([done, total])), await inProcess.fit(weights, roundConfig)];
      // 60 examples in batches of 16 for 2 epochs: 8 steps, the last one reported before the answer.
      expect(progress[progress.length - 1]).toEqual([8, 8]);
      expect(remote.numExamples).toBe(60);
      expect(remote.delta.map((t) => [t.name, Array.from(t.data)])).toEqual(local.delta.map((t) => [t.name, Array.from(t.data)]));
      weights = applyDelta(weights, remote.delta);
      const [remoteReport, localReport] = [await thread.evaluate(weights), await inProcess.evaluate(weights)];
      expect(remoteReport).toEqual(localReport);
      expect(remoteReport.metrics.personalizedAccuracy).toEqual(expect.any(Number));
      expect(await thread.numTensors()).toBe(tensorsBefore);
    }
  });

  it('trains by DP-SGD and clips by DP-FedAvg in the thread as in this one, with what it spent, leaving no tensor behind', async () => {
    thread = new LearnerThread(options);
    await thread.startRun(spec);
    const inProcess = new Learner(spec, featureExamples(spec, data), 0, options.seed);
    const weights = initialWeights(spec, 2);
    const tensorsBefore = await thread.numTensors();
    // q = 1, σ = 0 and a clip bound never reached: DP-SGD without its randomness, so both threads agree.
    const recordLevel = { ...config, optimizer: 'sgd' as const, batchSize: 60, recordClipNorm: 1e6, recordNoiseMultiplier: 0 };
    const [remote, local] = [await thread.fit(weights, recordLevel), await inProcess.fit(weights, recordLevel)];
    expect(remote.privacy).toEqual({ mechanism: 'poisson-sampled-gaussian', samplingRate: 1, noiseMultiplier: 0, steps: 2 });
    expect(remote.metrics).toEqual({});
    remote.delta.forEach((t, i) => Array.from(t.data).forEach((v, k) => expect(v).toBeCloseTo(local.delta[i].data[k], 6)));
    const clientLevel = { ...config, updateClipNorm: 0.05 };
    const clipped = await thread.fit(weights, clientLevel);
    expect(clipped.clientLevel).toEqual({ normBefore: expect.any(Number), clipFactor: expect.any(Number), noiseStddev: 0 });
    expect(clipped.delta).toEqual((await inProcess.fit(weights, clientLevel)).delta);
    expect(await thread.numTensors()).toBe(tensorsBefore);
  });

  it('leaves the caller’s tensors intact (it sends copies), even views over one message buffer', async () => {
    thread = new LearnerThread(options);
    await thread.startRun(spec);
    const weights = initialWeights(spec, 3);
    // As a decoded message delivers them: views into one shared buffer.
    const shared = new Float32Array(weights.reduce((n, t) => n + t.data.length, 0));
    let offset = 0;
    const views = weights.map((t) => {
      const view = shared.subarray(offset, offset + t.data.length);
      view.set(t.data);
      offset += t.data.length;
      return { ...t, data: view };
    });
    const update = await thread.fit(views, config);
    expect(update.delta).toHaveLength(weights.length);
    expect(shared.length).toBe(offset);
    expect(views.map((t) => Array.from(t.data))).toEqual(weights.map((t) => Array.from(t.data)));
  });

  it('refuses to train before a run is started, and data with labels outside the run’s set', async () => {
    thread = new LearnerThread(options);
    await expect(thread.fit(initialWeights(spec, 1), config)).rejects.toMatchObject({ code: 'FEDTL_ERR_NOT_JOINED' });
    await expect(thread.startRun({ ...spec, labels: ['yes', 'maybe'] })).rejects.toMatchObject({
      code: 'FEDTL_ERR_UNKNOWN_LABEL',
      message: expect.stringContaining('"no" is not in the federation\'s label set'),
    });
  });

  it('rejects calls after close', async () => {
    thread = new LearnerThread(options);
    await thread.ready();
    await thread.close();
    await expect(thread.numTensors()).rejects.toThrow('the learner thread is closed');
  });
});
