import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import type { DeferredCommand } from '../../../shared/slack/deferred.ts';
import { ksaRunner } from '../../../shared/slack/ksa-check.ts';
import { toSlackDoc } from '../../../shared/status/blocks.ts';
import { renderDocText } from '../../../shared/status/doc.ts';
import { statusSymptoms } from '../../../shared/status/symptoms.ts';
import { validateBlocks } from '../../fakes/slack.ts';
import { FIXTURES } from '../../support/paths.ts';
import { cartFailures } from '../../support/symptom-groups.ts';

const ORG = readSnapshotFile(join(FIXTURES, 'snapshot.json'));
const NOW = new Date('2026-11-29T10:00:00Z');

/** The runner over the simulated organization, as WI_SNAPSHOT wires it; `inventory` may differ from it. */
function runnerOver(org: Snapshot, inventory: Snapshot | undefined) {
  return ksaRunner({
    live: snapshotState(() => org),
    projects: async () => org.projects.map((p) => p.projectId),
    inventory: async () => inventory,
    source: 'the simulated organization',
    now: () => NOW,
  });
}

const context = { command: {} as DeferredCommand, now: NOW };
const ask = (org: Snapshot, namespace: string, name: string, cluster?: string, inventory?: Snapshot | null) =>
  runnerOver(org, inventory === null ? undefined : (inventory ?? org))(
    { kind: 'ksa', namespace, name, ...(cluster ? { cluster } : {}) },
    context,
  ).then(renderDocText);

describe('the deferred KSA check (diagnose over the live-state ports)', () => {
  it('checks every cluster where the last inventory has the KSA', async () => {
    const text = await ask(ORG, 'checkout', 'cart');
    assert.match(text, /^✅ checkout\/cart in 2 clusters: every link holds\n/);
    assert.match(text, /\norbit-prod\/europe-west4\/core-1:\n {2}✓ 1\. cluster joined to a workload pool: /);
    assert.match(text, /\norbit-prod\/us-east1-b\/edge-1:\n/);
    assert.match(text, /· Checked the simulated organization at 2026-11-29 10:00 UTC\.$/);
  });

  it('names the broken link and the commands that repair it', async () => {
    const broken = structuredClone(ORG);
    const gsa = broken.projects[0]?.serviceAccounts.find((g) => g.email.startsWith('cart@'));
    assert.ok(gsa);
    gsa.iamPolicy.bindings = [];
    const text = await ask(broken, 'checkout', 'cart', 'core-1');
    assert.match(text, /^❌ broken: link 5 \(binding-missing\) of checkout\/cart in core-1/);
    assert.match(
      text,
      /✗ 5\. .*\n {6}.*: gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod\.iam\.gserviceaccount\.com --role roles\/iam\.workloadIdentityUser --member "serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]"/,
    );
    const message = toSlackDoc(
      await runnerOver(broken, broken)(
        { kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'core-1' },
        context,
      ),
    );
    assert.deepEqual(validateBlocks(message.blocks), []);
  });

  it('takes PROJECT/LOCATION/NAME, and says so when a named cluster is not in the watched projects', async () => {
    assert.match(
      await ask(ORG, 'search', 'indexer', 'orbit-prod/europe-west4/core-1'),
      /^❌ broken: link 7 \(key-file-override\)/,
    );
    assert.match(await ask(ORG, 'checkout', 'cart', 'nope'), /^ℹ️ No cluster nope in the watched projects/);
  });

  it('without an inventory, checks the only WI cluster, or asks which one', async () => {
    const text = await ask(ORG, 'checkout', 'cart', undefined, null);
    assert.match(
      text,
      /^ℹ️ checkout\/cart may be in 2 clusters: which one\?\n· \/wi-status checkout\/cart --cluster orbit-prod\/europe-west4\/core-1\n/,
    );
    const single = structuredClone(ORG);
    const project = single.projects[0];
    assert.ok(project);
    project.clusters = project.clusters.filter((c) => c.name !== 'edge-1');
    assert.match(
      await ask(single, 'checkout', 'cart', undefined, null),
      /^✅ healthy: every link of checkout\/cart in core-1 holds/,
    );
  });
});

describe('the deferred KSA check shows the KSA’s credential failures', () => {
  const failing = async () => statusSymptoms([cartFailures(NOW, [2])], NOW);

  it('above the links, when the store has them; none when it cannot be read', async () => {
    const base = {
      live: snapshotState(() => ORG),
      projects: async () => ['orbit-prod'],
      inventory: async () => ORG,
      source: 'the simulated organization',
      now: () => NOW,
    };
    const task = { kind: 'ksa' as const, namespace: 'checkout', name: 'cart', cluster: 'core-1' };
    const felt = renderDocText(await ksaRunner({ ...base, symptoms: failing })(task, context));
    assert.match(felt, /1 credential failure/);
    const unread = renderDocText(
      await ksaRunner({ ...base, symptoms: () => Promise.reject(new Error('down')) })(task, context),
    );
    assert.doesNotMatch(unread, /credential failure/);
    assert.match(unread, /every link of checkout\/cart in core-1 holds/);
  });
});
