import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { main } from '../../cli/main.ts';
import type { ChainReport } from '../../shared/chain/report.ts';
import type { Snapshot } from '../../shared/inventory/snapshot.ts';
import { runCli } from '../support/cli.ts';
import { type LiveFakes, startLiveFakes } from '../support/live-fakes.ts';
import { FIXTURES } from '../support/paths.ts';
import { clusterOf, loadSnapshot, variant } from '../support/snapshots.ts';

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

  it('bad usage through the bin: exit 2, naming what is wrong, nothing on stdout', async () => {
    const result = await runCli(['diagnose', 'checkout', ...CORE, '--snapshot', SNAPSHOT]);
    assert.equal(result.code, 2, result.stdout);
    assert.match(result.stderr, /NS\/KSA must be .* got "checkout"/);
    assert.match(result.stderr, /wi-sentinel diagnose NS\/KSA --cluster C --location L --project P/);
    assert.equal(result.stdout, '');
  });

  // The same path in-process (a process per case costs seconds on a busy machine).
  const usage: [string, string[], RegExp][] = [
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
      let stdout = '';
      let stderr = '';
      const io = {
        stdout: (text: string) => {
          stdout += text;
        },
        stderr: (text: string) => {
          stderr += text;
        },
        stdin: process.stdin,
      };
      const code = await main(['diagnose', ...args, '--snapshot', SNAPSHOT], io);
      assert.equal(code, 2, stdout);
      assert.match(stderr, message);
      assert.equal(stdout, '');
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

describe('wi-sentinel diagnose against live state (the real adapters, fake Google and Kubernetes APIs)', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
    fakes.setSnapshot(loadSnapshot());
  });

  it('a healthy KSA: every link ✓, exit 0, each API asked with the token', async () => {
    const result = await runCli(['diagnose', 'checkout/cart', ...CORE], '', fakes.env);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    assert.equal(result.stdout.match(/^✓ \d\./gm)?.length, 7, result.stdout);
    assert.match(result.stdout, /\nVerdict: healthy: every link of checkout\/cart in core-1 holds\n$/);
    const calls = fakes.calls();
    assert.ok(calls.every((call) => call.authorized));
    const kinds = new Set(calls.map((call) => call.kind));
    for (const kind of [
      'gke.getCluster',
      'kubernetes.getServiceAccount',
      'kubernetes.listPods',
      'kubernetes.listNetworkPolicies',
      'iam.getServiceAccount',
      'iam.getIamPolicy',
    ]) {
      assert.ok(kinds.has(kind), `${kind} not asked: ${[...kinds].join(', ')}`);
    }
    const policyReads = calls.filter((call) => call.kind === 'iam.getIamPolicy');
    assert.ok(policyReads.every((call) => call.path.includes('cart@orbit-prod.iam.gserviceaccount.com')));
  });

  it('a 403 on the GSA policy: "could not check", naming the permission, never ✓; exit 3', async () => {
    fakes.iam.fault({ match: ':getIamPolicy', status: 403 });
    const result = await runCli(['diagnose', 'checkout/cart', ...CORE], '', fakes.env);
    assert.equal(result.code, 3, `${result.stdout}\n${result.stderr}`);
    assert.match(
      result.stdout,
      /\n\? 5\. GSA's policy lets the KSA act as it: could not check: wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy\n/,
    );
    assert.doesNotMatch(result.stdout, /✓ 5\.|healthy: every link/);
    assert.match(
      result.stdout,
      /\nVerdict: not verified: could not check link 5 of checkout\/cart in core-1/,
    );
    assert.ok(fakes.calls().some((call) => call.kind === 'iam.getIamPolicy' && call.answered === 403));
    assert.doesNotMatch(result.stdout + result.stderr, new RegExp(fakes.token));
  });

  it('a binding removed in live state: ✗ with the repair, exit 1', async () => {
    fakes.setSnapshot(
      variant((s) => {
        const gsa = s.projects[0]?.serviceAccounts.find(
          (g) => g.email === 'cart@orbit-prod.iam.gserviceaccount.com',
        );
        if (gsa) gsa.iamPolicy = { bindings: [] };
      }),
    );
    const result = await runCli(['diagnose', 'checkout/cart', ...CORE], '', fakes.env);
    assert.equal(result.code, 1, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /\n✗ 5\. .*\[binding-missing\]\n/);
    assert.match(
      result.stdout,
      /gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com --role roles\/iam\.workloadIdentityUser --member "serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]"/,
    );
  });
});
