// The output directory at start: one coordinator at a time (a lock naming its holder), no silent new run over
// damaged checkpoints, a directory that cannot be written fails before any round, and what a crash left behind
// (temp files, a torn metrics line) is cleaned up. Real coordinators on real directories.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { precomputedBackboneRef } from '@fedtl/model';
import { configureLogging } from '@fedtl/util';
import { useTestSandbox } from '@fedtl/util/testing';
import { parseCoordinatorConfig } from './config';
import type { RoundRecord } from './metrics-log';
import { HOLDER_NAME, LOCK_NAME } from './out-dir-lock';
import { startCoordinator, type StartedCoordinator } from './run-coordinator';
import { FEATURE_DIM } from './testing/federation-harness';
import { ProtocolClient } from './testing/protocol-client';

describe('the output directory', () => {
  const sandbox = useTestSandbox();
  const warnings: string[] = [];

  beforeAll(() => configureLogging({ level: 'warn', format: 'json', sink: { write: (line) => warnings.push(line) } }));
  beforeEach(() => {
    warnings.length = 0;
  });

  function configFor(outDir: string, extra: string[] = []) {
    const config = parseCoordinatorConfig([
      '--port', '0', '--out-dir', outDir, '--backbone', `precomputed:${FEATURE_DIM}`, '--labels', 'a,b',
      '--adapter-width', '4', '--rounds', '1', '--min-clients', '1', '--round-timeout-ms', '30000', ...extra,
    ]);
    return config;
  }

  async function start(outDir: string, extra: string[] = []): Promise<StartedCoordinator> {
    const started = await startCoordinator(configFor(outDir, extra));
    sandbox.defer(() => started.stop());
    return started;
  }

  /** Runs the one configured round with a scripted client; resolves with the run id when the run finished. */
  async function runOneRound(started: StartedCoordinator): Promise<string> {
    const client = new ProtocolClient(started.url, 'org-1', precomputedBackboneRef(FEATURE_DIM));
    sandbox.defer(() => client.close());
    expect((await client.join()).ok).toBe(true);
    expect(await client.sendUpdate(await client.nextPlan(1))).toBe('accepted');
    return (await started.finished).runId;
  }

  it('refuses a second coordinator on the same directory, naming the holder; frees it on stop', async () => {
    const outDir = join(sandbox.dir, 'out');
    const first = await start(outDir);
    const second = startCoordinator(configFor(outDir, ['--fresh']));
    await expect(second).rejects.toMatchObject({ code: 'FEDTL_ERR_OUT_DIR_LOCKED' });
    await expect(second).rejects.toThrow(`pid ${process.pid} on host ${hostname()}`);
    // The refused --fresh deleted nothing of the first coordinator's.
    expect(existsSync(join(outDir, 'checkpoints'))).toBe(true);

    await first.stop();
    expect(existsSync(join(outDir, LOCK_NAME))).toBe(false);
    await start(outDir);
  });

  it('frees the directory, holder file included, when the run fails; the verdict counts only checkpointed rounds', async () => {
    const outDir = join(sandbox.dir, 'out');
    const started = await start(outDir, ['--round-timeout-ms', '100', '--max-round-attempts', '1']);
    const silent = new ProtocolClient(started.url, 'org-1', precomputedBackboneRef(FEATURE_DIM));
    sandbox.defer(() => silent.close());
    expect((await silent.join()).ok).toBe(true);
    await expect(started.finished).rejects.toMatchObject({ code: 'FEDTL_ERR_QUORUM_NOT_MET' });
    expect([existsSync(join(outDir, LOCK_NAME)), existsSync(join(outDir, HOLDER_NAME))]).toEqual([false, false]);
    expect(silent.verdict).toMatchObject({ status: 'failed', roundsCompleted: 0 });
    await start(outDir);
  });

  it('takes over the lock of a coordinator that died without releasing it', async () => {
    const outDir = join(sandbox.dir, 'out');
    // A pid that surely belongs to no live process: a child that has already exited.
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    await mkdir(join(outDir, LOCK_NAME), { recursive: true });
    await writeFile(join(outDir, HOLDER_NAME), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }));
    await start(outDir);
    expect(JSON.parse(await readFile(join(outDir, HOLDER_NAME), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(warnings.some((w) => w.includes('taking over the lock') && w.includes(String(deadPid)))).toBe(true);
  });

  it('refuses to start a new run over checkpoints that are all damaged, unless --fresh', async () => {
    const outDir = join(sandbox.dir, 'out');
    await mkdir(join(outDir, 'checkpoints'), { recursive: true });
    await writeFile(join(outDir, 'checkpoints', 'round-000002.ckpt'), 'garbage');
    await writeFile(join(outDir, 'checkpoints', 'round-000001.ckpt'), '');
    const refused = startCoordinator(configFor(outDir));
    await expect(refused).rejects.toMatchObject({ code: 'FEDTL_ERR_NO_VALID_CHECKPOINT' });
    await expect(refused).rejects.toThrow(/round-000002\.ckpt: .*round-000001\.ckpt: /);
    // The refusal released the lock: the same directory can be started again, here afresh.
    const fresh = await start(outDir, ['--fresh']);
    expect(fresh.coordinator.roundsCompleted).toBe(0);
    expect(await readdir(join(outDir, 'checkpoints'))).toEqual([]);
  });

  it('fails at start, naming the directory and the OS error, when the output directory cannot be written', async () => {
    let outDir: string;
    let osError: RegExp;
    if (process.getuid?.() === 0) {
      // Root writes through any permission bits; a directory under a regular file cannot be made by anyone.
      await writeFile(join(sandbox.dir, 'a-file'), 'x');
      outDir = join(sandbox.dir, 'a-file', 'out');
      osError = /ENOTDIR/;
    } else {
      outDir = join(sandbox.dir, 'read-only');
      await mkdir(outDir);
      await chmod(outDir, 0o555);
      sandbox.defer(() => chmod(outDir, 0o755));
      osError = /EACCES/;
    }
    const refused = startCoordinator(configFor(outDir));
    await expect(refused).rejects.toMatchObject({ code: 'FEDTL_ERR_BAD_CONFIG' });
    await expect(refused).rejects.toThrow(outDir);
    await expect(refused).rejects.toThrow(osError);
  });

  it('fails at start when the audit directory cannot be written', async () => {
    await writeFile(join(sandbox.dir, 'a-file'), 'x');
    const refused = startCoordinator(configFor(join(sandbox.dir, 'out'), ['--audit-dir', join(sandbox.dir, 'a-file', 'audit')]));
    await expect(refused).rejects.toThrow(/--audit-dir: expected a writable directory, but .*a-file\/audit cannot be created \(ENOTDIR/);
  });

  it('cleans up after a crash: temp checkpoint files go, a torn metrics line is cut, every record has the run id', async () => {
    const outDir = join(sandbox.dir, 'out');
    await mkdir(join(outDir, 'checkpoints'), { recursive: true });
    await writeFile(join(outDir, 'checkpoints', 'round-000001.ckpt.tmp-99999'), 'half a checkpoint');
    const earlier = JSON.stringify({ runId: 'earlier-run', round: 1, status: 'failed' });
    const torn = '{"runId":"earlier-run","round":2,"sta';
    await writeFile(join(outDir, 'metrics.jsonl'), `${earlier}\n${torn}`);

    const started = await start(outDir);
    expect(await readdir(join(outDir, 'checkpoints'))).toEqual([]);
    expect(warnings.some((w) => w.includes('torn record') && w.includes(`"bytesDropped":${torn.length}`))).toBe(true);
    const runId = await runOneRound(started);

    const lines = (await readFile(join(outDir, 'metrics.jsonl'), 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((line) => JSON.parse(line) as RoundRecord);
    expect(records.map((r) => [r.runId, r.round])).toEqual([['earlier-run', 1], [runId, 1]]);
  });
});
