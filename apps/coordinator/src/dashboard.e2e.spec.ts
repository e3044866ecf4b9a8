// The dashboard in a real browser (headless Chromium driven by playwright-core) while a real federation runs,
// plus the status API's authentication and the Prometheus endpoint.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { configureLogging } from '@fedtl/util';
import { launchBrowser, useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import { startCoordinator } from './run-coordinator';
import { DP_FEDAVG_FEATURE } from '@fedtl/protocol';
import { RdpAccountant } from '@fedtl/privacy';
import { FEATURE_DIM, startClientProcess, startScriptedFederation } from './testing/federation-harness';

const TOKEN = 'dashboard-federation-5d0e7a';
const OPERATOR = 'dashboard-operator-9c2f41';

describe('dashboard', () => {
  const sandbox = useTestSandbox();
  let browser: Browser | undefined;

  beforeAll(async () => {
    configureLogging({ level: 'error' });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  function openedBrowser(): Browser {
    if (!browser) throw new Error('the browser did not start');
    return browser;
  }

  it('shows the run live: rounds, accuracy chart, clients and failures', async () => {
    const config = parseCoordinatorConfig(
      [
        '--port', '0', '--out-dir', join(sandbox.dir, 'out'), '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b',
        '--adapter-width', '4', '--rounds', '3', '--min-clients', '2', '--min-available', '3', '--local-epochs', '2', '--learning-rate', '0.05',
      ],
      { FEDTL_TOKEN: TOKEN, FEDTL_OPERATOR_TOKEN: OPERATOR },
    );
    const started = await startCoordinator(config);
    sandbox.defer(() => started.stop());

    const denied = await fetch(`${started.url}/api/status`);
    expect(denied.status).toBe(401);

    const page = await openedBrowser().newPage();
    sandbox.defer(() => page.close());
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // The operator's page: the federation token would show aggregates only (status-access.spec.ts).
    await page.goto(`${started.url}/?token=${OPERATOR}`);
    // Evaluated in the page (this file is compiled without DOM types, hence the string).
    const waitForText = (id: string, text: string, timeout = 10_000) =>
      page.waitForFunction(`document.getElementById(${JSON.stringify(id)})?.textContent === ${JSON.stringify(text)}`, undefined, { timeout });
    await waitForText('rounds', '0 / 3');
    expect(await page.textContent('#clients-count')).toBe('0');
    expect(await page.textContent('#phase')).toBe('waiting for clients');
    expect(await page.textContent('#privacy')).toBe('off (no differential privacy)');

    // Two clients join and wait for a third (--min-available 3): the page must show them while they wait.
    const url = started.url;
    const files = await writeSyntheticFeatureFiles(sandbox.dir, { clients: 3, dim: FEATURE_DIM, trainPerClient: 40, testPerClient: 20, seed: 6 });
    const tokenFile = join(sandbox.dir, 'token');
    writeFileSync(tokenFile, TOKEN);
    const startClient = (i: number) => sandbox.processes.push(startClientProcess(url, `client-${i + 1}`, files[i], ['--token-file', tokenFile]));
    startClient(0);
    startClient(1);
    await waitForText('clients-count', '2', 60_000);
    expect(await page.locator('#clients tbody tr').allTextContents()).toEqual([expect.stringContaining('client-1'), expect.stringContaining('client-2')]);
    startClient(2);

    await started.finished;
    await waitForText('rounds', '3 / 3');
    // A round counts as completed once its checkpoint is saved and enters the table once it is evaluated: a poll
    // between the two shows 3 / 3 over two rows. Wait for the page's next poll after the evaluation.
    await page.waitForFunction(`document.querySelectorAll('#rounds-table tbody tr').length === 3 && document.getElementById('phase')?.textContent === 'finished'`, undefined, { timeout: 10_000 });
    const rows = await page.locator('#rounds-table tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^3aggregated3 \/ 3–/);
    expect(await page.locator('#chart circle').count()).toBe(3);
    expect(await page.textContent('#phase')).toBe('finished');
    expect(await page.textContent('#accuracy')).toMatch(/^\d+\.\d%$/);
    await page.screenshot({ path: join(sandbox.dir, 'dashboard.png') });
    expect(pageErrors).toEqual([]);

    const metrics = await (await fetch(`${started.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toContain('# TYPE fedtl_rounds_completed gauge\nfedtl_rounds_completed 3\n');
    expect(metrics).toMatch(/fedtl_eval_metric\{metric="accuracy"\} 0\.\d+|fedtl_eval_metric\{metric="accuracy"\} 1/);
    expect(metrics).toContain('fedtl_updates_accepted_total 9');
  }, 120_000);
  it("shows the run's privacy budget and what the ledger has spent of it", async () => {
    const { started, client } = await startScriptedFederation(
      sandbox,
      ['--rounds', '2', '--min-clients', '2', '--dp-update-clip-norm', '1', '--dp-update-noise-multiplier', '2', '--dp-epsilon', '9'],
      { audit: false, outDir: join(sandbox.dir, 'dp') },
    );
    const page = await openedBrowser().newPage();
    sandbox.defer(() => page.close());
    await page.goto(started.url);
    await page.waitForFunction(`document.getElementById('privacy')?.textContent === '0 of 9 at δ = 0.00001 (client-level)'`, undefined, { timeout: 10_000 });
    for (const id of ['org-1', 'org-2']) {
      const c = client(id);
      c.onPlan(async (plan) => void (await c.sendUpdate(plan, plan.weights.map((t) => ({ ...t, data: new Float32Array(t.data.length).fill(0.01) })), 20)));
      expect((await c.join({ features: [DP_FEDAVG_FEATURE], numTestExamples: 0 })).ok).toBe(true);
    }
    await started.finished;
    // Two rounds at z = 2, q = 1: the accountant's ε, to two decimals, as the page shows it.
    const spent = new RdpAccountant().compose({ samplingRate: 1, noiseMultiplier: 2, steps: 2 }).epsilon(1e-5).toFixed(2);
    await page.waitForFunction(`document.getElementById('privacy')?.textContent === '${spent} of 9 at δ = 0.00001 (client-level)'`, undefined, { timeout: 10_000 });
  });
});
