import { meanOf, negativeTransfer, type MethodResult } from './report';

const result = (perDomain: Record<string, number>): MethodResult => ({
  mean: meanOf(Object.values(perDomain)),
  perDomain,
  curve: [],
  bytesUp: 0,
  bytesDown: 0,
  seconds: 0,
});

describe('negativeTransfer', () => {
  it('lists every domain where a transfer method scores below local, worst first, with the gap', () => {
    const found = negativeTransfer({
      local: result({ books: 0.7, dvd: 0.8 }),
      centralized: result({ books: 0.5, dvd: 0.5 }),
      fedavg: result({ books: 0.75, dvd: 0.78 }),
      'leave-one-out': result({ books: 0.6, dvd: 0.8 }),
    });
    expect(found.map((n) => [n.method, n.domain])).toEqual([
      ['leave-one-out', 'books'],
      ['fedavg', 'dvd'],
    ]);
    expect(found[0].delta).toBeCloseTo(-0.1, 10);
    expect(found[1].delta).toBeCloseTo(-0.02, 10);
  });

  it('ignores centralized (not a transfer method) and returns nothing without a local baseline', () => {
    expect(negativeTransfer({ centralized: result({ books: 0.1 }), fedavg: result({ books: 0.2 }) })).toEqual([]);
    expect(negativeTransfer({ local: result({ books: 0.7 }), centralized: result({ books: 0.1 }) })).toEqual([]);
  });
});
