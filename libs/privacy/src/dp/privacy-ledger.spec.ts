import { checkBudget, PrivacyLedger, type PrivacyEvent } from './privacy-ledger';
import { RdpAccountant } from './rdp-accountant';

const clientRound = (round: number): PrivacyEvent => ({ round, unit: 'client', mechanism: 'poisson-sampled-gaussian', samplingRate: 0.1, noiseMultiplier: 1.1, steps: 1 });
const recordRound = (round: number, subject: string, samplingRate: number): PrivacyEvent => ({
  round, unit: 'record', mechanism: 'poisson-sampled-gaussian', samplingRate, noiseMultiplier: 1.2, steps: Math.round(1 / samplingRate), subject,
});

describe('PrivacyLedger', () => {
  it('composes client-level events together, as the accountant does', () => {
    const ledger = new PrivacyLedger([clientRound(1), clientRound(2), clientRound(3)]);
    const expected = new RdpAccountant().compose({ samplingRate: 0.1, noiseMultiplier: 1.1, steps: 3 }).epsilon(1e-5);
    expect(ledger.spent(1e-5)).toEqual([{ unit: 'client', epsilon: expected, delta: 1e-5, events: 3 }]);
  });

  it("composes record-level events per client and reports the largest (parallel composition over disjoint data)", () => {
    const ledger = new PrivacyLedger();
    ledger.record(recordRound(1, 'org-1', 0.1), recordRound(1, 'org-2', 0.4), recordRound(2, 'org-1', 0.1));
    const org1 = new RdpAccountant().compose({ samplingRate: 0.1, noiseMultiplier: 1.2, steps: 20 }).epsilon(1e-5);
    const org2 = new RdpAccountant().compose({ samplingRate: 0.4, noiseMultiplier: 1.2, steps: 3 }).epsilon(1e-5);
    const [spend] = ledger.spent(1e-5);
    expect(spend.unit).toBe('record');
    expect(spend.epsilon).toBe(Math.max(org1, org2));
    expect(spend.subject).toBe(org1 > org2 ? 'org-1' : 'org-2');
  });

  it('counts extra events without recording them, and names the unit a round would take over its budget', () => {
    const ledger = new PrivacyLedger([clientRound(1), clientRound(2)]);
    const now = ledger.spent(1e-5)[0].epsilon;
    const next = ledger.spent(1e-5, [clientRound(3)])[0].epsilon;
    expect(next).toBeGreaterThan(now);
    expect(ledger.events).toHaveLength(2);
    expect(ledger.overBudget({ epsilon: (now + next) / 2, delta: 1e-5 }, [clientRound(3)])).toEqual({
      would: { unit: 'client', epsilon: next, delta: 1e-5, events: 3 },
      now: { unit: 'client', epsilon: now, delta: 1e-5, events: 2 },
    });
    expect(ledger.overBudget({ epsilon: next, delta: 1e-5 }, [clientRound(3)])).toBeUndefined();
  });

  it('checks one subject against the budget without the others', () => {
    const ledger = new PrivacyLedger([recordRound(1, 'org-1', 0.5), recordRound(1, 'org-2', 0.01)]);
    const budget = { epsilon: ledger.spent(1e-5, [recordRound(2, 'org-1', 0.5)])[0].epsilon - 1e-9, delta: 1e-5 };
    expect(ledger.wouldExceed(budget, [recordRound(2, 'org-1', 0.5)])).toBe(true);
    expect(ledger.wouldExceed(budget, [recordRound(2, 'org-2', 0.01)])).toBe(false);
    expect(ledger.wouldExceed(budget, [recordRound(1, 'org-3', 0.01)])).toBe(false);
  });

  it('round-trips through JSON and refuses a tampered ledger with what was expected', () => {
    const ledger = new PrivacyLedger([clientRound(1), recordRound(2, 'org-1', 0.5)]);
    const copy = PrivacyLedger.fromJSON(JSON.parse(JSON.stringify(ledger.toJSON())), 'ckpt');
    expect(copy.events).toEqual(ledger.events);
    expect(copy.spent(1e-5)).toEqual(ledger.spent(1e-5));
    expect(() => PrivacyLedger.fromJSON({}, 'ckpt')).toThrow('ckpt: expected a list of privacy events, got object');
    for (const [field, value, message] of [
      ['noiseMultiplier', 0, /noiseMultiplier finite and > 0, got 0/],
      ['samplingRate', 1.5, /samplingRate in \(0, 1\], got 1.5/],
      ['steps', 0, /steps to be an integer ≥ 1, got 0/],
      ['unit', 'person', /unit "record" or "client", got "person"/],
      ['round', -1, /round to be an integer ≥ 1, got -1/],
    ] as const) {
      expect(() => PrivacyLedger.fromJSON([{ ...clientRound(1), [field]: value }], 'ckpt')).toThrow(message);
    }
  });

  it('spends nothing without events', () => {
    expect(new PrivacyLedger().spent(1e-5)).toEqual([]);
    expect(new PrivacyLedger().overBudget({ epsilon: 1, delta: 1e-5 })).toBeUndefined();
  });
});

describe('checkBudget', () => {
  it('accepts ε > 0 and δ in (0, 1) and names what came otherwise', () => {
    expect(checkBudget({ epsilon: 2, delta: 1e-5 })).toEqual({ epsilon: 2, delta: 1e-5 });
    expect(() => checkBudget({ epsilon: 0, delta: 1e-5 }, '--dp-epsilon')).toThrow('--dp-epsilon: expected an epsilon > 0 and finite, got 0');
    expect(() => checkBudget({ epsilon: 1, delta: 1 }, '--dp-delta')).toThrow('--dp-delta: expected a delta in (0, 1), got 1');
  });
});
