import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import { detect } from '../../../shared/detect/index.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import type { IamPolicy, Snapshot } from '../../../shared/inventory/snapshot.ts';
import { createLogger } from '../../../shared/log.ts';
import { defaultRouting } from '../../../shared/notify/routing.ts';
import { createTerminalPagerDuty, createTerminalSlack } from '../../../shared/notify/terminal.ts';
import { assetInventory, liveInventory } from '../../../shared/reconcile/live-inventory.ts';
import { runSweep } from '../../../shared/reconcile/run.ts';
import { clusterAssetName, serviceDisabledBody } from '../../fakes/asset.ts';
import { type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { ORBIT, variant } from '../../support/snapshots.ts';
import { gsaPolicy, nodePool, remove } from '../detect/cases/events.ts';

const ORG = 'organizations/433637338589';
const hierarchy = {
  organization: '433637338589',
  folders: { '2001': ORG },
  parents: { 'orbit-prod': 'folders/2001' },
};
const CART_BINDING = `binding-missing/orbit-prod/${ORBIT.cart}/orbit-prod.svc.id.goog/checkout/cart`;
const HIGHMEM = 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem';
/** After the events of the cases (2026-11-28T10:00:00Z). */
const AFTER_EVENTS = '2026-11-28T10:05:00Z';

/**
 * The fake organization: the orbit-prod fixture under a folder, with a broad role on its policy and
 * a GSA that holds another role than Workload Identity's; a second project, orbit-data, right under
 * the organization, with one GSA and one cluster.
 */
function organization(): Snapshot {
  return variant((s) => {
    const orbit = s.projects[0];
    if (!orbit) throw new Error('no project');
    orbit.iamPolicy = {
      bindings: [
        { role: 'roles/editor', members: [`serviceAccount:${ORBIT.cart}`] },
        { role: 'roles/storage.objectViewer', members: [ORBIT.principalSet('search')] },
      ],
    };
    const reports = orbit.serviceAccounts.find((gsa) => gsa.email === ORBIT.reports);
    reports?.iamPolicy.bindings.push({
      role: 'roles/iam.serviceAccountTokenCreator',
      members: ['user:ops@example.org'],
    });
    const core = orbit.clusters.find((c) => c.name === 'core-1');
    s.projects.push({
      projectId: 'orbit-data',
      // A Workload Identity cluster with nothing running yet.
      clusters: core
        ? [
            {
              ...structuredClone(core),
              name: 'etl-1',
              location: 'us-central1',
              workloadPool: 'orbit-data.svc.id.goog',
              serviceAccounts: [],
              pods: [],
              networkPolicies: [],
            },
          ]
        : [],
      serviceAccounts: [
        {
          email: 'etl@orbit-data.iam.gserviceaccount.com',
          uniqueId: '104200000000000000091',
          disabled: true,
          iamPolicy: { bindings: [] },
        },
      ],
    });
  });
}

/** A Snapshot as both reads must agree on it: order and policy etags aside (the index gives none). */
function normalized(snapshot: Snapshot): Snapshot {
  const policy = (p: IamPolicy | undefined) => p && { bindings: p.bindings };
  return {
    projects: [...snapshot.projects]
      .sort((a, b) => a.projectId.localeCompare(b.projectId))
      .map((project) => ({
        ...project,
        ...(project.iamPolicy ? { iamPolicy: policy(project.iamPolicy) as IamPolicy } : {}),
        clusters: [...project.clusters].sort((a, b) =>
          `${a.location}/${a.name}`.localeCompare(`${b.location}/${b.name}`),
        ),
        serviceAccounts: [...project.serviceAccounts]
          .sort((a, b) => a.email.localeCompare(b.email))
          .map((gsa) => ({ ...gsa, iamPolicy: policy(gsa.iamPolicy) as IamPolicy })),
      })),
  };
}

describe('the sweep through Cloud Asset Inventory (fake Asset Inventory, GKE, IAM, Kubernetes; the real adapters)', () => {
  let fakes: LiveFakes;
  let store: IncidentStore;
  let alerting: ReturnType<typeof createAlerting>;
  const deps = () => ({
    state: fakes.liveState(),
    assets: fakes.assetPort(),
    projects: fakes.projectsPort(),
  });

  before(async () => {
    // Two results a page: every search pages, as a large organization's do at 500.
    fakes = await startLiveFakes(organization(), { hierarchy, assetPageSize: 2 });
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.setSnapshot(organization());
    fakes.assets.clearUpdateTimes();
    fakes.clearFaults();
    fakes.clearCalls();
    store = createMemoryStore();
    alerting = createAlerting({
      store,
      senders: { slack: createTerminalSlack(() => {}), pagerduty: createTerminalPagerDuty(() => {}) },
      routing: defaultRouting({ slackChannel: '#wi', pagerdutyRoutingKey: 'P'.repeat(32) }),
      logger: { log() {} },
    });
  });

  test('read through the index or directly, the inventory and the verdict are the same', async () => {
    const direct = await liveInventory(fakes.liveState(), ['orbit-data', 'orbit-prod'])();
    const directCalls = fakes.countByKind();
    fakes.clearCalls();
    const indexed = await assetInventory(deps(), [ORG])();
    const assetCalls = fakes.countByKind();

    assert.deepEqual(indexed.problems, []);
    assert.equal(indexed.source, 'asset');
    assert.deepEqual(indexed.projects, ['orbit-data', 'orbit-prod']);
    assert.deepEqual(normalized(indexed.snapshot), normalized(direct.snapshot));

    const verdict = async (inventory: typeof direct) =>
      (await runSweep({ inventory: async () => inventory, alerting, store, dryRun: true })).findings
        .map((finding) => finding.fingerprint)
        .sort();
    const findings = await verdict(indexed);
    assert.deepEqual(findings, await verdict(direct));
    assert.ok(findings.includes(`gsa-broad-role/orbit-prod/${ORBIT.cart}/roles/editor`), findings.join('\n'));

    // Directly: a policy read per GSA, lists per project. Through the index: searches, and the
    // Kubernetes lists, which both make alike.
    assert.equal(directCalls['iam.getIamPolicy'], 5);
    for (const kind of ['iam.getIamPolicy', 'iam.listServiceAccounts', 'gke.listClusters', 'gke.getCluster'])
      assert.equal(assetCalls[kind], undefined, kind);
    assert.ok((assetCalls['asset.searchAllResources'] ?? 0) >= 3);
    assert.ok((assetCalls['asset.searchAllIamPolicies'] ?? 0) >= 2);
    assert.equal(assetCalls['kubernetes.listPods'], directCalls['kubernetes.listPods']);
  });

  test('the Asset API not enabled: direct reads, said once in the report with the command that enables it', async () => {
    fakes.assets.fault({ match: ':search', status: 403, body: serviceDisabledBody('wi-host') });
    const lines: string[] = [];
    const report = await runSweep({
      inventory: assetInventory(deps(), [ORG]),
      alerting,
      store,
      dryRun: true,
      logger: createLogger((line) => lines.push(line)),
    });
    assert.equal(report.source, 'direct');
    assert.deepEqual(report.projects, ['orbit-data', 'orbit-prod']);
    assert.equal(report.fallback?.reason, 'the Cloud Asset API is not enabled in project wi-host');
    assert.deepEqual(
      report.fallback?.remediation.map((r) => r.command),
      ['gcloud services enable cloudasset.googleapis.com --project=wi-host'],
    );
    assert.equal(lines.filter((line) => line.includes('Cloud Asset Inventory not used')).length, 1);
    assert.deepEqual(report.problems, []);
    // The organization's projects came from Resource Manager; each was then read as before.
    assert.ok(fakes.iam.calls.some((call) => call.kind === 'resourcemanager.projects.list'));
    assert.equal(fakes.countByKind()['iam.getIamPolicy'], 5);
    assert.ok(report.findings.some((f) => f.kind === 'gsa-broad-role'));
  });

  test('a 403 on the search: the grant at the scope that repairs it', async () => {
    fakes.assets.fault({ match: ':search', status: 403 });
    const inventory = await assetInventory(deps(), [ORG, 'projects/orbit-data'], {
      identity: async () => 'wi-sentinel-reconcile@wi-host.iam.gserviceaccount.com',
    })();
    assert.equal(inventory.source, 'direct');
    assert.match(
      inventory.fallback?.reason ?? '',
      /may not search Cloud Asset Inventory \(cloudasset\.assets\.search/,
    );
    assert.deepEqual(
      inventory.fallback?.remediation.map((r) => r.command),
      [
        'gcloud organizations add-iam-policy-binding 433637338589 --member=serviceAccount:wi-sentinel-reconcile@wi-host.iam.gserviceaccount.com --role=roles/cloudasset.viewer',
        'gcloud projects add-iam-policy-binding orbit-data --member=serviceAccount:wi-sentinel-reconcile@wi-host.iam.gserviceaccount.com --role=roles/cloudasset.viewer',
      ],
    );
  });

  /** Opens the incidents the events find, as the event path does. */
  async function openBy(events: Parameters<typeof detect>[0][]): Promise<void> {
    const snapshot = organization();
    const findings = events.flatMap((event) => detect(event, snapshot)).filter((f) => f.status === 'firing');
    await alerting.applyFindings(findings, 'events');
  }

  test('the index still shows a binding the event removed: the GSA is read directly and the incident stays open', async () => {
    await openBy([gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))])]);
    // Live: the binding is gone. The index: not yet.
    fakes.iam.setSnapshot(
      variant((s) => {
        const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
        if (cart) cart.iamPolicy = { bindings: [] };
      }),
    );
    const lines: string[] = [];
    const report = await runSweep({
      inventory: assetInventory(deps(), [ORG]),
      alerting,
      store,
      logger: createLogger((line) => lines.push(line)),
    });
    assert.deepEqual(report.resolved, []);
    assert.ok(report.findings.some((f) => f.fingerprint === CART_BINDING));
    assert.deepEqual(report.reread, { gsas: [ORBIT.cart], clusters: [], projects: [] });
    const policyReads = fakes.iam.calls.filter((call) => call.kind === 'iam.getIamPolicy').map((c) => c.path);
    assert.deepEqual(policyReads, [`/v1/projects/-/serviceAccounts/${ORBIT.cart}:getIamPolicy`]);
    assert.ok(
      lines.some((line) =>
        line.includes(`read directly before resolving on Cloud Asset Inventory: ${ORBIT.cart}`),
      ),
    );
    assert.ok((await store.listOpen()).some((i) => i.fingerprint === CART_BINDING));
  });

  test('the binding is back, in the index and live: read directly, then resolved', async () => {
    await openBy([gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))])]);
    const report = await runSweep({ inventory: assetInventory(deps(), [ORG]), alerting, store });
    assert.deepEqual(
      report.resolved.map((f) => f.fingerprint),
      [CART_BINDING],
    );
    assert.deepEqual(report.reread?.gsas, [ORBIT.cart]);
    assert.ok(!(await store.listOpen()).some((i) => i.fingerprint === CART_BINDING));
  });

  test('the GSA cannot be read directly: the incident is left as it is, the problem named', async () => {
    await openBy([gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))])]);
    fakes.iam.fault({ match: `serviceAccounts/${ORBIT.cart}`, status: 403 });
    const report = await runSweep({
      inventory: assetInventory(deps(), [ORG]),
      alerting,
      store,
      dryRun: true,
    });
    assert.deepEqual(report.resolved, []);
    assert.deepEqual(report.untouched, [
      { fingerprint: CART_BINDING, reason: `${ORBIT.cart} could not be read` },
    ]);
    assert.match(report.problems[0]?.message ?? '', /^orbit-prod: service account cart@.*403/);
  });

  test('a node pool record newer than the event resolves as it is; an older one waits for GKE', async () => {
    await openBy([nodePool('update', 'highmem', { metadataServer: false })]);
    const pool = `${clusterAssetName('orbit-prod', ORBIT.core)}/nodePools/highmem`;

    // Older (the default): GKE is asked for the cluster before the incident may resolve.
    const older = await runSweep({ inventory: assetInventory(deps(), [ORG]), alerting, store, dryRun: true });
    assert.deepEqual(older.reread?.clusters, [{ project: 'orbit-prod', ...ORBIT.core }]);
    assert.deepEqual(
      fakes.gke.calls.map((call) => call.kind),
      ['gke.getCluster'],
    );
    assert.deepEqual(
      older.resolved.map((f) => f.fingerprint),
      [HIGHMEM],
    );

    fakes.clearCalls();
    fakes.assets.setUpdateTime(pool, AFTER_EVENTS);
    const newer = await runSweep({ inventory: assetInventory(deps(), [ORG]), alerting, store, dryRun: true });
    assert.equal(newer.reread, undefined);
    assert.deepEqual(fakes.gke.calls, []);
    assert.deepEqual(
      newer.resolved.map((f) => f.fingerprint),
      [HIGHMEM],
    );
  });

  test('the index still shows a pool the event moved back to GKE_METADATA: GKE says otherwise, it stays open', async () => {
    await openBy([nodePool('update', 'highmem', { metadataServer: false })]);
    fakes.gke.setSnapshot(
      variant((s) => {
        const highmem = s.projects[0]?.clusters[0]?.nodePools.find((p) => p.name === 'highmem');
        if (highmem) highmem.workloadMetadataMode = 'GCE_METADATA';
      }),
    );
    const report = await runSweep({
      inventory: assetInventory(deps(), [ORG]),
      alerting,
      store,
      dryRun: true,
    });
    assert.deepEqual(report.resolved, []);
    assert.ok(report.findings.some((f) => f.fingerprint === HIGHMEM));
  });

  test('a cluster record without what reaches it (the index strips some fields): GKE gives them', async () => {
    fakes.assets.stripFromClusters(['masterAuth']);
    try {
      const inventory = await assetInventory(deps(), [ORG])();
      assert.deepEqual(inventory.problems, []);
      assert.deepEqual(
        fakes.gke.calls.map((call) => call.kind),
        ['gke.getCluster', 'gke.getCluster', 'gke.getCluster', 'gke.getCluster'],
      );
      assert.ok(inventory.snapshot.projects.every((p) => p.clusters.every((c) => c.pods.length >= 0)));
      assert.equal(inventory.snapshot.projects.flatMap((p) => p.clusters).length, 4);
    } finally {
      fakes.assets.stripFromClusters([]);
    }
  });
});
