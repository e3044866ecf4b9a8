import { seededRandom } from '@fedtl/util';
import { sampleClients } from './sampling';

const CLIENTS = Array.from({ length: 20 }, (_, i) => `client-${String(i).padStart(2, '0')}`);

describe('sampleClients', () => {
  it('is deterministic for a seed and independent of the order of the available list', () => {
    const a = sampleClients(CLIENTS, 0.3, 1, 1, seededRandom(42));
    const b = sampleClients(CLIENTS.slice().reverse(), 0.3, 1, 1, seededRandom(42));
    expect(a).toEqual(b);
    expect(a).toHaveLength(6);
    expect(new Set(a).size).toBe(6);
    expect(a).toEqual(a?.slice().sort());
    const other = sampleClients(CLIENTS, 0.3, 1, 1, seededRandom(43));
    expect(other).not.toEqual(a);
  });

  it('takes at least minClients, at most all, and floors the fraction like Flower', () => {
    expect(sampleClients(CLIENTS, 0.01, 4, 1, seededRandom(1))).toHaveLength(4);
    expect(sampleClients(CLIENTS, 1, 1, 1, seededRandom(1))).toEqual(CLIENTS);
    expect(sampleClients(CLIENTS, 0.29, 1, 1, seededRandom(1))).toHaveLength(5);
    expect(sampleClients(Array.from({ length: 100 }, (_, i) => `c${i}`), 0.29, 1, 1, seededRandom(1))).toHaveLength(29);
  });

  it('returns null when fewer clients are available than the minimum, and ignores duplicates', () => {
    expect(sampleClients(CLIENTS.slice(0, 3), 1, 4, 1, seededRandom(1))).toBeNull();
    expect(sampleClients(CLIENTS.slice(0, 3), 1, 1, 5, seededRandom(1))).toBeNull();
    expect(sampleClients(['a', 'a', 'b'], 1, 3, 1, seededRandom(1))).toBeNull();
    expect(sampleClients(['b', 'a', 'a'], 1, 1, 1, seededRandom(1))).toEqual(['a', 'b']);
  });
});
