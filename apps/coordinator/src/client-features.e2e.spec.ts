// A run whose plans carry a local training rule (FedProx's μ, Per-FedAvg's α) refuses at Join a client that does
// not list the rule among its features: such a client would skip the unknown plan field and train plain FedAvg
// without a word. Scripted clients over real sockets against the real coordinator.
import { backboneRefFor } from '@fedtl/model';
import { LORA_FEATURE, PER_FEDAVG_FEATURE, FEDPROX_FEATURE, SECAGG_FEATURE } from '@fedtl/protocol';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { startScriptedFederation } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

describe('client features a strategy requires', () => {
  const sandbox = useTestSandbox();

  beforeAll(() => configureLogging({ level: 'error' }));

  it.each([
    ['per-fedavg', ['--strategy', 'per-fedavg'], PER_FEDAVG_FEATURE],
    ['fedprox', ['--strategy', 'fedprox', '--proximal-mu', '0.1'], FEDPROX_FEATURE],
  ])('--strategy %s refuses a Join without %s, naming it, and admits one that lists it', async (name, flags, feature) => {
    const { client } = await startScriptedFederation(sandbox, [...flags, '--rounds', '1', '--min-clients', '2']);
    const old = await client('old-client').join({ features: [SECAGG_FEATURE] });
    expect(old).toMatchObject({ ok: false, error: { code: 'FEDTL_ERR_FEATURE_UNSUPPORTED' } });
    if (!old.ok) expect(old.error.message).toContain(`--strategy ${name === 'per-fedavg' ? 'PerFedAvg' : 'FedProx'}) need the local training rule ${feature}`);
    expect((await client('new-client').join({ features: [feature] })).ok).toBe(true);
  });

  it('--lora-rank refuses a Join without the LoRA feature, naming it, and admits one that lists it', async () => {
    const { started } = await startScriptedFederation(sandbox, ['--backbone', 'use-lite', '--lora-rank', '4', '--rounds', '1', '--min-clients', '2']);
    const backbone = await backboneRefFor('use-lite');
    const client = (id: string) => {
      const c = new ProtocolClient(started.url, id, backbone);
      sandbox.defer(() => c.close());
      return c;
    };
    const old = await client('old-client').join({ features: [SECAGG_FEATURE] });
    expect(old).toMatchObject({ ok: false, error: { code: 'FEDTL_ERR_FEATURE_UNSUPPORTED' } });
    if (!old.ok) expect(old.error.message).toContain(`this run trains LoRA inside the use-lite encoder (${LORA_FEATURE})`);
    const admitted = await client('new-client').join({ features: [LORA_FEATURE] });
    expect(admitted).toMatchObject({ ok: true, welcome: { model: { lora: { rank: 4, alpha: 8, layers: [1], targets: ['query', 'value'] } } } });
  });

  it('--strategy fedprox with μ = 0 sends no term and needs no feature', async () => {
    const { client } = await startScriptedFederation(sandbox, ['--strategy', 'fedprox', '--proximal-mu', '0', '--rounds', '1', '--min-clients', '2']);
    expect((await client('plain').join()).ok).toBe(true);
  });
});
