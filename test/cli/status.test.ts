import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { Io } from '../../cli/io.ts';
import { statusCommand } from '../../cli/status.ts';
import { loadConfig } from '../../shared/config.ts';
import { storeFromConfig } from '../../shared/wiring.ts';
import { runCli } from '../support/cli.ts';
import { type Emulator, startFirestoreEmulator } from '../support/emulators.ts';
import { type LiveFakes, startLiveFakes } from '../support/live-fakes.ts';
import { FIXTURES } from '../support/paths.ts';
import { loadSnapshot } from '../support/snapshots.ts';
import { cartFailures, storeGroup } from '../support/symptom-groups.ts';

const SNAPSHOT = join(FIXTURES, 'snapshot.json');

/** statusCommand in this process (a process each costs seconds on a busy machine), with its output. */
async function status(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: Io = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    stdin: new PassThrough(),
  };
  const code = await statusCommand(args, io, { WI_STATE: 'memory', ...env });
  return { code, stdout, stderr };
}

describe('wi-sentinel status --snapshot', () => {
  it('prints the /wi-status summary as text; without an incident store it will not call anything healthy (exit 3)', async () => {
    const result = await runCli(['status', '--snapshot', SNAPSHOT], '', { WI_STATE: 'memory' });
    assert.equal(result.code, 3, result.stderr);
    const lines = result.stdout.split('\n');
    assert.equal(
      lines[0],
      '⚠️ Workload Identity status unknown: incidents are not stored here (WI_STATE=memory)',
    );
    assert.equal(
      lines[1],
      '✗ orbit-prod/europe-west4/core-1: WI on · 4 WI KSAs · 4 workloads (5 pods) · 1 broken',
    );
    assert.match(result.stdout, /· `wi-sentinel status CLUSTER` · `wi-sentinel status NAMESPACE\/KSA`/);
  });

  it('prints one cluster in detail: exit 1 when something is broken, 0 when healthy', async () => {
    const core = await status(['--snapshot', SNAPSHOT, 'core-1']);
    assert.equal(core.code, 1);
    assert.match(core.stdout, /^❌ core-1 \(orbit-prod · europe-west4\): 1 KSA with a broken link\n/);
    assert.match(core.stdout, /Incidents not shown: incidents are not stored here/);
    const edge = await status([`--snapshot=${SNAPSHOT}`, 'orbit-prod/us-east1-b/edge-1']);
    assert.equal(edge.code, 0);
    assert.match(edge.stdout, /^✅ edge-1 \(orbit-prod · us-east1-b\): healthy\n/);
  });

  it('checks one KSA’s chain against the snapshot, with WI_SNAPSHOT as the default', async () => {
    const result = await status(['search/indexer', '--cluster', 'core-1'], { WI_SNAPSHOT: SNAPSHOT });
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^❌ broken: link 7 \(key-file-override\) of search\/indexer in core-1\n/);
    assert.match(result.stdout, /kubectl set env cronjob\/indexer -n search GOOGLE_APPLICATION_CREDENTIALS-/);
    assert.match(result.stdout, /· Checked the snapshot at /);
  });

  it('prints the document as JSON with --json', async () => {
    const result = await status(['--snapshot', SNAPSHOT, '--json', 'edge-1']);
    const doc = JSON.parse(result.stdout) as { title: string; sections: unknown[] };
    assert.equal(doc.title, '✅ edge-1 (orbit-prod · us-east1-b): healthy');
    assert.ok(doc.sections.length > 0);
  });

  it('answers help with exit 0, and what it does not understand with help and exit 2', async () => {
    assert.equal((await status(['help'])).code, 0);
    const unknown = await status(['--snapshot', SNAPSHOT, 'What?']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stdout, /^ℹ️ I don't know `What\?`\nWhat I answer:\n {2}wi-sentinel status\n/);
  });

  it('refuses what belongs to Slack or makes no sense, naming it', async () => {
    const silence = await runCli(['status', '--snapshot', SNAPSHOT, 'silence', 'ns=a', '1h', 'r']);
    assert.equal(silence.code, 2);
    assert.match(silence.stderr, /silence is done from Slack/);
    await assert.rejects(status(['--snapshot', SNAPSHOT, '--project', 'orbit-prod']), /not both/);
    await assert.rejects(status([]), /give --snapshot FILE, or --project P/);
    await assert.rejects(status(['--project', 'Not_A_Project']), /not a project id: Not_A_Project/);
    await assert.rejects(status(['--snapshot']), /--snapshot needs a value/);
  });
});

describe('wi-sentinel status --project, against fake GKE, IAM and Kubernetes APIs', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
  });
  after(() => fakes.stop());

  it('exports live state and answers from it: the summary, a cluster, a KSA', async () => {
    const summary = await status(['--project', 'orbit-prod'], fakes.env);
    assert.equal(summary.code, 3, summary.stderr);
    assert.match(
      summary.stdout,
      /\n✗ orbit-prod\/europe-west4\/core-1: WI on · 4 WI KSAs · 4 workloads \(5 pods\) · 1 broken\n/,
    );
    assert.match(summary.stderr, /core-1/, 'export progress on stderr');
    const cluster = await status(['--project', 'orbit-prod', 'edge-1'], fakes.env);
    assert.equal(cluster.code, 0, cluster.stdout);
    const ksa = await status(['checkout/cart'], { ...fakes.env, WI_PROJECTS: 'orbit-prod' });
    assert.equal(ksa.code, 0, ksa.stdout);
    assert.match(ksa.stdout, /^✅ checkout\/cart in 2 clusters: every link holds\n/);
    assert.match(ksa.stdout, /· Checked live state at /);
    assert.ok(
      (fakes.countByKind()['gke.listClusters'] ?? 0) > 0,
      'the clusters were read from the fake GKE API',
    );
  });
});

describe('wi-sentinel status with a Firestore store: workloads’ credential failures beside each KSA', () => {
  let firestore: Emulator;
  let env: Record<string, string>;
  before(async () => {
    firestore = await startFirestoreEmulator();
    env = {
      WI_STATE: 'firestore',
      FIRESTORE_EMULATOR_HOST: firestore.host,
      GOOGLE_CLOUD_PROJECT: firestore.projectId,
      WI_FIRESTORE_PREFIX: `status${Date.now().toString(36)}-`,
    };
    // Three failures of checkout/cart in core-1 a few minutes ago, as the symptom path stores them.
    const store = storeFromConfig(loadConfig(env));
    await storeGroup(store, cartFailures(new Date()));
    await (store as Partial<{ close(): Promise<void> }>).close?.();
  });
  after(() => firestore?.stop());

  it('the summary lists the failing group and counts it beside its cluster', async () => {
    const result = await status(['--snapshot', SNAPSHOT], env);
    // No incident is open: a warning (exit 3), as for drift the inventory shows.
    assert.equal(result.code, 3, result.stderr);
    assert.match(
      result.stdout,
      /^⚠️ No open incident, but workloads logged 3 credential failures in the last 15 min\n/,
    );
    assert.match(
      result.stdout,
      /\nCredential failures \(3 in the last 15 min\):\n {2}🔥 core-1 checkout\/cart: 3 in the last 15 min/,
    );
    assert.match(
      result.stdout,
      /\n✗ orbit-prod\/europe-west4\/core-1: .* · 🔥 3 credential failures in the last 15 min\n/,
    );
  });

  it('a cluster shows the count beside the KSA; a cluster without failures shows none', async () => {
    const core = await status(['--snapshot', SNAPSHOT, 'core-1'], env);
    assert.match(
      core.stdout,
      /\n {2}(⚠️|✓) checkout\/cart → .*\n {6}🔥 3 credential failures: 3 in the last 15 min/,
    );
    const edge = await status(['--snapshot', SNAPSHOT, 'edge-1'], env);
    assert.equal(edge.code, 0, edge.stdout);
    assert.doesNotMatch(edge.stdout, /🔥/);
  });

  it('without a store (WI_STATE=memory) nothing is counted, and nothing is said to be failing', async () => {
    const result = await status(['--snapshot', SNAPSHOT, 'core-1']);
    assert.doesNotMatch(result.stdout, /🔥|credential failure/);
  });
});
