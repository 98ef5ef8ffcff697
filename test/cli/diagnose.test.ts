import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../shared/inventory/snapshot.ts';
import type { ChainReport } from '../../shared/live/diagnose.ts';
import { runCli } from '../support/cli.ts';
import { FIXTURES } from '../support/paths.ts';
import { clusterOf, variant } from '../support/snapshots.ts';

const SNAPSHOT = join(FIXTURES, 'snapshot.json');
const CORE = ['--cluster', 'core-1', '--location', 'europe-west4', '--project', 'orbit-prod'];

function snapshotFile(snapshot: Snapshot): string {
  const file = join(mkdtempSync(join(tmpdir(), 'wi-diagnose-')), 'snapshot.json');
  writeFileSync(file, JSON.stringify(snapshot));
  return file;
}

describe('wi-sentinel diagnose --snapshot', () => {
  it('a healthy KSA: a ✓ line per link, the verdict, exit 0', async () => {
    const result = await runCli(['diagnose', 'checkout/cart', ...CORE, '--snapshot', SNAPSHOT]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.deepEqual(
      lines.filter((line) => /^[✓✗?–] \d\./.test(line)).map((line) => line.slice(0, 4)),
      ['✓ 1.', '✓ 2.', '✓ 3.', '✓ 4.', '✓ 5.', '✓ 6.', '✓ 7.'],
    );
    assert.equal(lines.at(-1), 'Verdict: healthy: every link of checkout/cart in core-1 holds');
    assert.equal(result.stderr, '');
  });

  it('a broken link: ✗ with the repair command, exit 1', async () => {
    const file = snapshotFile(
      variant((s) => {
        const pool = clusterOf(s, 'core-1').nodePools.find((p) => p.name === 'spot');
        if (pool) pool.workloadMetadataMode = 'GCE_METADATA';
      }),
    );
    const result = await runCli(['diagnose', 'checkout/cart', ...CORE, '--snapshot', file]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stdout,
      /\n✗ 2\. .*cart-6d8-b on spot \(GCE_METADATA\).*\[nodepool-metadata-disabled\]\n/,
    );
    assert.match(
      result.stdout,
      /\n {6}gcloud container node-pools update spot --cluster core-1 --location europe-west4 --project orbit-prod --workload-metadata=GKE_METADATA\n/,
    );
  });

  it('--json prints the report itself', async () => {
    const result = await runCli(['diagnose', 'search/indexer', ...CORE, '--json', '--snapshot', SNAPSHOT]);
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as ChainReport;
    assert.deepEqual(report.target, {
      project: 'orbit-prod',
      cluster: { location: 'europe-west4', name: 'core-1' },
      namespace: 'search',
      name: 'indexer',
    });
    assert.equal(report.healthy, false);
    assert.deepEqual(
      report.links.map((l) => [l.link, l.status, l.kind ?? null]),
      [
        [1, 'ok', null],
        [2, 'ok', null],
        [3, 'ok', null],
        [4, 'ok', null],
        [5, 'ok', null],
        [6, 'ok', null],
        [7, 'broken', 'key-file-override'],
      ],
    );
    assert.deepEqual(report.links[6]?.repair.at(-1), {
      title: 'Stop overriding Workload Identity in CronJob indexer',
      command: 'kubectl set env cronjob/indexer -n search GOOGLE_APPLICATION_CREDENTIALS-',
    });
    assert.deepEqual(
      report.pods.map((p) => [p.name, p.nodePool]),
      [['indexer-x7', 'spot']],
    );
  });

  const usage: [string, string[], RegExp][] = [
    ['NS/KSA without a slash', ['checkout', ...CORE], /NS\/KSA must be .* got "checkout"/],
    ['NS/KSA with two slashes', ['a/b/c', ...CORE], /NS\/KSA must be .* got "a\/b\/c"/],
    ['an upper-case name', ['checkout/Cart', ...CORE], /NS\/KSA must be .* got "checkout\/Cart"/],
    ['no NS/KSA', [...CORE], /diagnose takes one NS\/KSA \(e\.g\. checkout\/cart\), got 0/],
    [
      'missing options, all named',
      ['checkout/cart', '--project', 'orbit-prod'],
      /--cluster is required; --location is required/,
    ],
    [
      'a malformed project id',
      ['checkout/cart', ...CORE.slice(0, 4), '--project', 'Orbit'],
      /--project must be/,
    ],
    ['an unknown option', ['checkout/cart', ...CORE, '--zone', 'x'], /Unknown option '--zone'/],
  ];
  for (const [name, args, message] of usage) {
    it(`bad usage (${name}): exit 2, naming what is wrong`, async () => {
      const result = await runCli(['diagnose', ...args, '--snapshot', SNAPSHOT]);
      assert.equal(result.code, 2, result.stdout);
      assert.match(result.stderr, message);
      assert.equal(result.stdout, '');
    });
  }

  it('a snapshot file that cannot be read: exit 2, naming the file', async () => {
    const result = await runCli([
      'diagnose',
      'checkout/cart',
      ...CORE,
      '--snapshot',
      '/nonexistent/snap.json',
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /cannot read snapshot \/nonexistent\/snap\.json: ENOENT/);
  });
});
