// The dashboard in a real browser (headless Chromium driven by playwright-core) while a real federation runs:
// the page is opened once and the coordinator pushes every change to it (Socket.IO, no polling, no reload). Plus
// the status API's authentication and the Prometheus endpoint.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { configureLogging } from '@fedtl/util';
import { launchBrowser, useTestSandbox, writeSyntheticFeatureFiles } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { RunStatusSnapshot } from './dashboard/run-status';
import { startCoordinator } from './run-coordinator';
import { DP_FEDAVG_FEATURE } from '@fedtl/protocol';
import { RdpAccountant } from '@fedtl/privacy';
import { FEATURE_DIM, startClientProcess, startScriptedFederation } from './testing/federation-harness';

/** Where the live test keeps its screenshot for CI to upload (relative to the repository root; git-ignored). */
const SCREENSHOT_DIR = resolve(__dirname, '..', '..', '..', 'test-artifacts', 'dashboard');

/** Evaluated in the page (this file is compiled without DOM types, hence strings): true while it was never reloaded. */
const NEVER_RELOADED = `performance.getEntriesByType('navigation').length === 1 && window.fedtlOpenedOnce === true`;
const MARK_OPENED = 'window.fedtlOpenedOnce = true';

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
    await page.evaluate(MARK_OPENED);
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
    // A round counts as completed once its checkpoint is saved and enters the table once it is evaluated: a push
    // between the two shows 3 / 3 over two rows. Wait for the push after the evaluation.
    await page.waitForFunction(`document.querySelectorAll('#rounds-table tbody tr').length === 3 && document.getElementById('phase')?.textContent === 'finished'`, undefined, { timeout: 10_000 });
    const rows = await page.locator('#rounds-table tbody tr').allTextContents();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/^3aggregated3 \/ 3–/);
    expect(await page.locator('#chart circle').count()).toBe(3);
    expect(await page.textContent('#phase')).toBe('finished');
    expect(await page.textContent('#accuracy')).toMatch(/^\d+\.\d%$/);
    expect(await page.evaluate(NEVER_RELOADED)).toBe(true);
    expect(pageErrors).toEqual([]);

    const metrics = await (await fetch(`${started.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    expect(metrics).toContain('# TYPE fedtl_rounds_completed gauge\nfedtl_rounds_completed 3\n');
    expect(metrics).toMatch(/fedtl_eval_metric\{metric="accuracy"\} 0\.\d+|fedtl_eval_metric\{metric="accuracy"\} 1/);
    expect(metrics).toContain('fedtl_updates_accepted_total 9');
    expect(metrics).toContain('# TYPE fedtl_round_duration_seconds histogram\n');
    expect(metrics).toContain('fedtl_round_duration_seconds_count 3\n');
    // The process's own metrics (prom-client's defaults): heap, resident memory, event-loop lag.
    expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
    expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(metrics).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  }, 120_000);

  it('advances the round on the page without a reload, counting down the deadline, and keeps a screenshot', async () => {
    // Protocol clients over real sockets, each round's updates sent when the test says: the page is looked at
    // while a round is known to be in training, however slow the machine.
    const { started, client } = await startScriptedFederation(sandbox, ['--rounds', '2', '--min-clients', '2', '--round-timeout-ms', '3600000'], { audit: false, outDir: join(sandbox.dir, 'live') });
    const page = await openedBrowser().newPage();
    sandbox.defer(() => page.close());
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(started.url);
    await page.evaluate(MARK_OPENED);
    const waitFor = (condition: string) => page.waitForFunction(condition, undefined, { timeout: 60_000 });
    const textIs = (id: string, text: string) => `document.getElementById(${JSON.stringify(id)})?.textContent === ${JSON.stringify(text)}`;
    await waitFor(textIs('phase', 'waiting for clients'));
    expect(await page.textContent('#deadline')).toBe('–');

    const clients = ['org-1', 'org-2'].map((id) => client(id));
    for (const c of clients) expect((await c.join({ numTestExamples: 0 })).ok).toBe(true);
    const trainRound = async (round: number) => {
      const plans = await Promise.all(clients.map((c) => c.nextPlan(round)));
      await waitFor(`${textIs('phase', `training (round ${round})`)} && ${textIs('deadline-what', 'round closes in')}`);
      // The round's hour counts down (m:ss, at most 1:00:00): the text changes while the page stays as it was loaded.
      const before = await page.textContent('#deadline');
      expect(before).toMatch(/^([1-5]?\d:[0-5]\d|1:00:00)$/);
      await waitFor(`document.getElementById('deadline')?.textContent !== ${JSON.stringify(before)}`);
      expect(await page.evaluate(NEVER_RELOADED)).toBe(true);
      return async () => {
        for (const [i, c] of clients.entries()) expect(await c.sendUpdate(plans[i])).toBe('accepted');
      };
    };
    await (await trainRound(1))();
    await waitFor(textIs('rounds', '1 / 2'));
    // Round 1's plans (down) and updates (up), as its record counted them.
    const round1 = ((await (await fetch(`${started.url}/api/status`)).json()) as RunStatusSnapshot).rounds[0];
    expect(round1.bytesUp).toBeGreaterThan(0);
    expect(round1.bytesDown).toBeGreaterThan(0);
    expect(await page.textContent('#round-traffic')).toMatch(/^\d+(\.\d)? k?B \/ \d+(\.\d)? k?B$/);
    const finishRound2 = await trainRound(2);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOT_DIR, 'dashboard.png'), fullPage: true });
    await finishRound2();
    await started.finished;
    await waitFor(`${textIs('rounds', '2 / 2')} && ${textIs('phase', 'finished')} && ${textIs('deadline', '–')}`);
    expect(await page.locator('#rounds-table tbody tr').count()).toBe(2);
    expect(await page.evaluate(NEVER_RELOADED)).toBe(true);
    expect(pageErrors).toEqual([]);
  }, 180_000);
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
