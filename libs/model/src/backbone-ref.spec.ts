import { MAX_PRECOMPUTED_DIM, backboneRefFor } from './backbone-ref';

describe('backboneRefFor', () => {
  it('pins precomputed features by their dimension, and refuses one that is not a sensible feature width', async () => {
    expect(await backboneRefFor('precomputed:12')).toMatchObject({ id: 'precomputed:12' });
    for (const spec of ['precomputed:0', 'precomputed:1.5', 'precomputed:x', `precomputed:${MAX_PRECOMPUTED_DIM + 1}`, 'precomputed:99999999']) {
      await expect(backboneRefFor(spec)).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG', message: `--backbone: expected precomputed:DIM with an integer DIM in [1, ${MAX_PRECOMPUTED_DIM}], got "${spec}"` });
    }
  });
});
