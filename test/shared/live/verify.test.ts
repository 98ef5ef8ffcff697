import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { detect } from '../../../shared/detect/index.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import { LookupError } from '../../../shared/errors.ts';
import type { LiveState } from '../../../shared/gcp/ports.ts';
import { applyChange } from '../../../shared/inventory/apply.ts';
import { classicMember } from '../../../shared/inventory/members.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { verify } from '../../../shared/live/verify.ts';
import { analyze } from '../../../shared/pipeline.ts';
import { FIXTURES } from '../../support/paths.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { add, gsaLifecycle, gsaPolicy } from '../detect/cases/events.ts';

/** What a fixture event means against the organization before it, and the organization after it. */
function scenario(name: string, before: Snapshot = loadSnapshot()) {
  const input = JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));
  const analysis = analyze(input, before);
  assert.equal(analysis.outcome, 'change', `${name} is a change`);
  if (analysis.outcome !== 'change') throw new Error('unreachable');
  return { findings: analysis.findings, after: applyChange(before, analysis.event), before };
}

const state = (snapshot: Snapshot) => snapshotState(() => snapshot);

const BREAKS: [string, Finding['kind']][] = [
  ['gsa-binding-removed', 'binding-missing'],
  ['nodepool-gce-metadata', 'nodepool-metadata-disabled'],
  ['cluster-wi-disabled', 'cluster-wi-disabled'],
  ['ksa-annotation-removed', 'annotation-missing'],
  ['gsa-deleted', 'gsa-missing'],
  ['gsa-disabled', 'gsa-disabled'],
  ['networkpolicy-deny-egress', 'metadata-egress-blocked'],
];

describe('verify: each break confirmed by live state, refuted when already undone', () => {
  for (const [fixture, kind] of BREAKS) {
    it(`${kind} (${fixture})`, async () => {
      const { findings, before, after } = scenario(fixture);
      const firing = findings.filter((f) => f.kind === kind && f.status === 'firing');
      assert.equal(firing.length, 1, `${fixture} fires ${kind}`);
      const [detected] = firing as [Finding];

      const [confirmed] = await verify([detected], state(after), { inventory: before });
      assert.equal(confirmed?.outcome, 'confirmed', confirmed?.reason);
      assert.equal(confirmed.finding.status, 'firing');
      assert.equal(confirmed.finding.fingerprint, detected.fingerprint);
      // Who is hit, read from the live objects, agrees with the inventory's answer.
      assert.deepEqual(sorted(confirmed.finding.ksas), sorted(detected.ksas));
      assert.deepEqual(confirmed.finding.workloads ?? [], detected.workloads ?? []);
      assert.equal(confirmed.finding.summary, detected.summary);

      // Live state still healthy: the change was undone before it was verified.
      const [refuted] = await verify([detected], state(before), { inventory: before });
      assert.equal(refuted?.outcome, 'refuted');
      assert.equal(refuted.finding.status, 'resolved', 'a refuted break resolves any open incident');
      assert.equal(refuted.finding.fingerprint, detected.fingerprint);
      assert.equal(refuted.finding.remediation, undefined);
      assert.ok(refuted.finding.summary.startsWith(refuted.reason), refuted.finding.summary);
    });
  }
});

const REPAIRS: [string, string, Finding['kind']][] = [
  ['gsa-binding-added', 'gsa-binding-removed', 'binding-missing'],
  ['nodepool-gke-metadata', 'nodepool-gce-metadata', 'nodepool-metadata-disabled'],
  ['ksa-annotation-restored', 'ksa-annotation-removed', 'annotation-missing'],
  ['gsa-enabled', 'gsa-disabled', 'gsa-disabled'],
  ['networkpolicy-metadata-allowed', 'networkpolicy-deny-egress', 'metadata-egress-blocked'],
];

describe('verify: a repair resolves only when live state shows it', () => {
  for (const [repair, breaking, kind] of REPAIRS) {
    it(`${kind} (${repair})`, async () => {
      const broken = scenario(breaking).after;
      const { findings, after } = scenario(repair, broken);
      const resolved = findings.filter((f) => f.kind === kind && f.status === 'resolved');
      assert.equal(resolved.length, 1, `${repair} resolves ${kind}`);
      const [confirmed] = await verify(resolved, state(after));
      assert.equal(confirmed?.outcome, 'confirmed', confirmed?.reason);
      assert.equal(confirmed.finding, resolved[0]);
      // The repair has not reached live state (or was broken again): the incident stays open.
      const [refuted] = await verify(resolved, state(broken));
      assert.equal(refuted?.outcome, 'refuted');
      assert.equal(refuted.finding.status, 'resolved');
    });
  }
});

describe('verify: lookups that fail', () => {
  const { findings, after, before } = scenario('gsa-binding-removed');
  const finding = findings.find((f) => f.kind === 'binding-missing') as Finding;
  const failing = (error: LookupError): LiveState => {
    const live = state(after);
    return { ...live, iam: { ...live.iam, getServiceAccountPolicy: () => Promise.reject(error) } };
  };

  it('pages unconfirmed, naming the permission, when wi-sentinel may not read the policy', async () => {
    const denied = new LookupError('403 on getIamPolicy', {
      api: 'iam',
      status: 403,
      retryable: false,
      permission: 'iam.serviceAccounts.getIamPolicy',
    });
    const [verdict] = await verify([finding], failing(denied), { inventory: before });
    assert.equal(verdict?.outcome, 'unverified');
    assert.equal(verdict.finding.status, 'firing', 'never taken for healthy');
    assert.match(
      verdict.finding.summary,
      /not confirmed against live state: wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy/,
    );
  });

  it('throws a transient failure so the delivery is retried, until the change is too old to wait for', async () => {
    const unavailable = new LookupError('503 from IAM', { api: 'iam', status: 503, retryable: true });
    const time = Date.parse(finding.cause?.time ?? '');
    await assert.rejects(
      verify([finding], failing(unavailable), { now: () => new Date(time + 60_000) }),
      unavailable,
    );
    const [late] = await verify([finding], failing(unavailable), { now: () => new Date(time + 11 * 60_000) });
    assert.equal(late?.outcome, 'unverified');
    assert.match(late.finding.summary, /the iam API is unavailable/);
  });

  it('pages unconfirmed when wi-sentinel has no Google credentials at all, or a read fails oddly: never dropped', async () => {
    const noCredentials = new LookupError('no Google credentials: Could not load the default credentials', {
      api: 'oauth2',
      status: 401,
      retryable: false,
    });
    const [verdict] = await verify([finding], failing(noCredentials), { inventory: before });
    assert.equal(verdict?.outcome, 'unverified');
    assert.match(verdict.finding.summary, /not confirmed against live state: no Google credentials/);
    const live = state(after);
    const odd: LiveState = {
      ...live,
      iam: { ...live.iam, getServiceAccountPolicy: () => Promise.reject(new TypeError('unexpected shape')) },
    };
    const [strange] = await verify([finding], odd, { inventory: before });
    assert.equal(strange?.outcome, 'unverified');
    assert.match(strange.finding.summary, /live state could not be read \(unexpected shape\)/);
  });

  it('keeps the event’s impact when only the Kubernetes reads fail', async () => {
    const live = state(after);
    const denied = new LookupError('403 listing pods', {
      api: 'kubernetes',
      status: 403,
      retryable: false,
      permission: 'container.pods.list',
    });
    const blind: LiveState = { ...live, kube: { ...live.kube, listPods: () => Promise.reject(denied) } };
    const [verdict] = await verify([finding], blind, { inventory: before });
    assert.equal(verdict?.outcome, 'confirmed');
    assert.deepEqual(verdict.finding.workloads, finding.workloads);
    assert.match(
      verdict.finding.summary,
      /who is hit could not be read: wi-sentinel lacks container\.pods\.list/,
    );
  });
});

describe('verify: impact from live state, not from the event', () => {
  it('counts the pods running now, in every cluster of the pool', async () => {
    const { findings, after, before } = scenario('gsa-binding-removed');
    const finding = findings.find((f) => f.kind === 'binding-missing') as Finding;
    const grown = structuredClone(after);
    const edge = grown.projects[0]?.clusters.find((c) => c.name === ORBIT.edge.name);
    const ksa = finding.ksas[0];
    assert.ok(edge && ksa);
    edge.serviceAccounts.push({ namespace: ksa.namespace, name: ksa.name, annotations: {} });
    edge.pods.push({
      namespace: ksa.namespace,
      name: `${ksa.name}-edge-1`,
      labels: {},
      serviceAccountName: ksa.name,
      nodePool: 'default-pool',
      owner: { kind: 'Deployment', name: ksa.name },
      env: [],
    });
    const [verdict] = await verify([finding], state(grown), { inventory: before });
    assert.equal(verdict?.outcome, 'confirmed');
    const clusters = new Set(verdict.finding.workloads?.map((w) => w.cluster));
    assert.ok(clusters.has(ORBIT.edge.name), 'the edge cluster, unknown to the event, is hit too');
    assert.match(verdict.finding.summary, /in 2 clusters\)$/);
  });
});

function sorted<T>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

describe('verify: a deleted GSA is repaired only when the KSAs it served may act as it again', () => {
  const before = loadSnapshot();
  const deletion = gsaLifecycle('delete', { gsa: ORBIT.indexer, gsaUniqueId: '104200000000000000012' });
  const [deleted] = detect(deletion, before).filter((f) => f.kind === 'gsa-missing') as [Finding];
  const gone = applyChange(before, deletion);
  const recreation = gsaLifecycle('create', { gsa: ORBIT.indexer, gsaUniqueId: '104200000000000000999' });
  const recreated = applyChange(gone, recreation);

  it('a GSA re-created under the email (a new principal, an empty policy) is still broken', async () => {
    assert.ok(deleted.ksas.length > 0);
    const [verdict] = await verify([deleted], state(recreated), { inventory: before });
    assert.equal(verdict?.outcome, 'confirmed', verdict?.reason);
    assert.equal(verdict.finding.status, 'firing');
    assert.match(verdict.reason, /exists, but its policy does not let .* act as it/);
    const [moved] = detect(recreation, gone).filter((f) => f.kind === 'gsa-missing') as [Finding];
    assert.equal(moved.status, 'firing');
    assert.equal(moved.fingerprint, deleted.fingerprint, 'the same incident');
    assert.equal((await verify([moved], state(recreated), { inventory: before }))[0]?.outcome, 'confirmed');
  });

  it('its KSAs bound again: resolved once live state shows it, not before', async () => {
    const binding = gsaPolicy(
      ORBIT.indexer,
      deleted.ksas.map((ksa) => add(classicMember(ksa.workloadPool, ksa.namespace, ksa.name))),
      { gsaUniqueId: '104200000000000000999' },
    );
    const repairs = detect(binding, recreated).filter((f) => f.kind === 'gsa-missing');
    assert.deepEqual(
      repairs.map((f) => [f.status, f.fingerprint]),
      [['resolved', deleted.fingerprint]],
    );
    const [seen] = await verify(repairs, state(applyChange(recreated, binding)));
    assert.equal(seen?.outcome, 'confirmed', seen?.reason);
    const [unseen] = await verify(repairs, state(recreated));
    assert.equal(unseen?.outcome, 'refuted', 'a repair live state does not show yet changes nothing');
  });

  it('undeleted: the same principal, resolved', async () => {
    const undeletion = gsaLifecycle('undelete', { gsaUniqueId: '104200000000000000012' });
    const repairs = detect(undeletion, gone).filter((f) => f.kind === 'gsa-missing');
    assert.equal(repairs[0]?.status, 'resolved');
    const [verdict] = await verify(repairs, state(applyChange(gone, undeletion)));
    assert.equal(verdict?.outcome, 'confirmed', verdict?.reason);
  });
});
