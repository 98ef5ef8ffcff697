import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect } from '../../../shared/detect/index.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';
import { step } from '../../../shared/incidents/lifecycle.ts';
import { applyChange } from '../../../shared/inventory/apply.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { blindSpot, settle, sweep, type Unreachable } from '../../../shared/reconcile/sweep.ts';
import { clusterOf, loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';
import { add, gsaLifecycle, gsaPolicy, nodePool, remove } from '../detect/cases/events.ts';

const AT = new Date('2026-11-29T06:00:00.000Z');
const OPENED = new Date('2026-11-28T10:00:00.000Z');
const PROJECTS: string[] = [ORBIT.project];
const prints = (findings: readonly Finding[]) => findings.map((f) => f.fingerprint).sort();

/** The orbit-prod fixture without its one drift (the indexer's key file): healthy throughout. */
const healthy = () =>
  variant((s) => {
    for (const pod of s.projects.flatMap((p) => p.clusters).flatMap((c) => c.pods)) pod.env = [];
  });

/** An open incident, as the event path leaves it, for each finding. */
function opened(findings: readonly Finding[]): Incident[] {
  return findings.map((finding) => {
    const { next } = step(undefined, finding, `event:${finding.fingerprint}`, OPENED);
    assert.ok(next);
    return next;
  });
}

/** The firing findings of an event judged against `before`, and the inventory after it. */
function broken(before: Snapshot, event: Parameters<typeof detect>[0]) {
  const findings = detect(event, before).filter((f) => f.status === 'firing');
  assert.ok(findings.length > 0, 'the event breaks something');
  return { findings, after: applyChange(before, event) };
}

const CART_BINDING = `binding-missing/orbit-prod/${ORBIT.cart}/orbit-prod.svc.id.goog/checkout/cart`;
const HIGHMEM = 'nodepool-metadata-disabled/orbit-prod/europe-west4/core-1/highmem';
const KEY_FILE = 'key-file-override/orbit-prod/europe-west4/core-1/search/CronJob/indexer';

describe('sweep: every broken link of the swept projects', () => {
  test('a healthy organization: nothing', () => {
    assert.deepEqual(sweep(healthy(), { projects: PROJECTS }), []);
  });

  test('the fixture: its one drift, found without an event', () => {
    const findings = sweep(loadSnapshot(), { projects: PROJECTS });
    assert.deepEqual(prints(findings), [KEY_FILE]);
    assert.equal(findings[0]?.cause, undefined);
  });

  test('a project not swept: its findings are not the sweep’s', () => {
    assert.deepEqual(sweep(loadSnapshot(), { projects: ['other-prod'] }), []);
  });

  test('an unreachable cluster: nothing of it fires, the rest does', () => {
    const snapshot = variant((s) => {
      for (const name of ['core-1', 'edge-1']) {
        const pool = clusterOf(s, name).nodePools[0];
        if (pool) pool.workloadMetadataMode = 'GCE_METADATA';
      }
    });
    const all = sweep(snapshot, { projects: PROJECTS });
    assert.equal(all.length, 3, prints(all).join(', '));
    const unreachable: Unreachable = { clusters: [{ project: ORBIT.project, ...ORBIT.core }] };
    assert.deepEqual(prints(sweep(snapshot, { projects: PROJECTS, unreachable })), [
      'nodepool-metadata-disabled/orbit-prod/us-east1-b/edge-1/default-pool',
    ]);
  });

  test('a cluster the export marked incomplete counts as unreachable', () => {
    const snapshot = variant((s) => {
      const edge = clusterOf(s, 'edge-1');
      const pool = edge.nodePools[0];
      if (pool) pool.workloadMetadataMode = 'GCE_METADATA';
      edge.incomplete = 'pods: 403 container.pods.list';
    });
    assert.deepEqual(prints(sweep(snapshot, { projects: PROJECTS })), [KEY_FILE]);
  });

  test('a GSA IAM answered 403 for: no finding about it, the others still fire', () => {
    // Its policy unread, the export holds none: every KSA annotated with it looks unbound.
    const snapshot = variant((s) => {
      for (const gsa of s.projects[0]?.serviceAccounts ?? []) gsa.iamPolicy = { bindings: [] };
    });
    const all = prints(sweep(snapshot, { projects: PROJECTS }));
    assert.ok(all.includes(CART_BINDING));
    assert.ok(all.some((p) => p.startsWith(`binding-missing/orbit-prod/${ORBIT.indexer}/`)));
    const blind = prints(sweep(snapshot, { projects: PROJECTS, unreachable: { gsas: [ORBIT.cart] } }));
    assert.ok(!blind.some((p) => p.includes(ORBIT.cart)), blind.join(', '));
    assert.ok(blind.some((p) => p.startsWith(`binding-missing/orbit-prod/${ORBIT.indexer}/`)));
  });

  test("a project whose IAM could not be read: none of its GSAs' findings", () => {
    const snapshot = variant((s) => {
      const project = s.projects[0];
      if (project) project.serviceAccounts = [];
    });
    assert.ok(sweep(snapshot, { projects: PROJECTS }).some((f) => f.kind === 'gsa-missing'));
    const findings = sweep(snapshot, { projects: PROJECTS, unreachable: { iamProjects: [ORBIT.project] } });
    assert.deepEqual(prints(findings), [KEY_FILE]);
  });

  test('an orphaned binding is not proved while a cluster of its pool is unreachable', () => {
    const snapshot = variant((s) => {
      const cart = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.cart);
      cart?.iamPolicy.bindings[0]?.members.push(ORBIT.classic('checkout', 'ghost'));
    });
    const orphan = `binding-orphaned/orbit-prod/${ORBIT.cart}/orbit-prod.svc.id.goog/checkout/ghost`;
    assert.ok(prints(sweep(snapshot, { projects: PROJECTS })).includes(orphan));
    const unreachable = { clusters: [{ project: ORBIT.project, ...ORBIT.edge }] };
    assert.ok(!prints(sweep(snapshot, { projects: PROJECTS, unreachable })).includes(orphan));
  });
});

describe('settle: open incidents against the sweep', () => {
  test('an incident an event opened, found healthy: resolved, the sweep says so', () => {
    const { findings } = broken(
      loadSnapshot(),
      gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))]),
    );
    const snapshot = healthy();
    const verdict = settle(sweep(snapshot, { projects: PROJECTS }), opened(findings), {
      projects: PROJECTS,
      snapshot,
      at: AT,
    });
    assert.deepEqual(verdict, [
      {
        kind: 'binding-missing',
        status: 'resolved',
        severity: 'critical',
        fingerprint: CART_BINDING,
        project: ORBIT.project,
        gsa: ORBIT.cart,
        ksas: [{ workloadPool: ORBIT.pool, namespace: 'checkout', name: 'cart' }],
        summary: `the sweep of 2026-11-29T06:00:00.000Z found the binding of checkout/cart on ${ORBIT.cart} healthy`,
      },
    ]);
  });

  test('an incident still broken: the firing finding, not a resolution', () => {
    const { findings, after } = broken(
      loadSnapshot(),
      nodePool('update', 'highmem', { metadataServer: false }),
    );
    const firing = sweep(after, { projects: PROJECTS });
    const verdict = settle(firing, opened(findings), { projects: PROJECTS, snapshot: after, at: AT });
    assert.deepEqual(
      verdict.map((f) => `${f.status} ${f.fingerprint}`),
      [`firing ${HIGHMEM}`, `firing ${KEY_FILE}`],
    );
  });

  test("an incident of a kind the sweep does not judge (wi-sentinel's own) is left alone", () => {
    const [finding] = sweep(loadSnapshot(), { projects: PROJECTS });
    assert.ok(finding);
    const own = {
      ...finding,
      kind: 'sentinel-degraded' as const,
      fingerprint: 'sentinel-degraded/orbit-prod/sink',
    };
    const scope = { projects: PROJECTS, snapshot: healthy(), at: AT };
    assert.deepEqual(settle([], opened([own]), scope), []);
    assert.equal(blindSpot(own, scope), 'the sweep does not judge sentinel-degraded');
  });

  test('an incident already resolved is left alone', () => {
    const [incident] = opened(sweep(loadSnapshot(), { projects: PROJECTS }));
    assert.ok(incident);
    const snapshot = healthy();
    const done: Incident = { ...incident, status: 'resolved' };
    assert.deepEqual(settle([], [done], { projects: PROJECTS, snapshot, at: AT }), []);
  });

  describe('a deleted GSA re-created under its email (a new principal, an empty policy)', () => {
    const deleted = broken(healthy(), gsaLifecycle('delete', { gsa: ORBIT.indexer }));
    const open = opened(deleted.findings);
    const GSA_GONE = `gsa-missing/orbit-prod/${ORBIT.indexer}`;
    const INDEXER_BINDING = `binding-missing/orbit-prod/${ORBIT.indexer}/${ORBIT.pool}/search/indexer`;
    const RANKER_BINDING = `binding-missing/orbit-prod/${ORBIT.indexer}/${ORBIT.pool}/search/ranker`;
    const recreated = applyChange(
      deleted.after,
      gsaLifecycle('create', { gsa: ORBIT.indexer, gsaUniqueId: '9' }),
    );
    const ksas = deleted.findings[0]?.ksas ?? [];
    const bind = (snapshot: Snapshot, names: readonly { namespace: string; name: string }[]) =>
      applyChange(
        snapshot,
        gsaPolicy(
          ORBIT.indexer,
          names.map((k) => add(ORBIT.classic(k.namespace, k.name))),
        ),
      );
    /** search/ranker annotated with the GSA after the incident opened: the incident does not name it. */
    const withRanker = (snapshot: Snapshot) => {
      const copy = structuredClone(snapshot);
      clusterOf(copy, 'core-1').serviceAccounts.push({
        namespace: 'search',
        name: 'ranker',
        annotations: { 'iam.gke.io/gcp-service-account': ORBIT.indexer },
      });
      return copy;
    };
    const verdictOn = (snapshot: Snapshot, incidents = open) => {
      const scope = { projects: PROJECTS, snapshot, at: AT };
      const verdict = settle(sweep(snapshot, scope), incidents, scope);
      const of = (status: Finding['status']) =>
        verdict.filter((f) => f.status === status && f.fingerprint !== KEY_FILE).map((f) => f.fingerprint);
      return {
        firing: of('firing').sort(),
        resolved: of('resolved').sort(),
        raw: prints(sweep(snapshot, scope)),
      };
    };

    test('the incident names the KSAs it served', () => {
      assert.deepEqual(
        ksas.map((k) => `${k.workloadPool}/${k.namespace}/${k.name}`),
        [`${ORBIT.pool}/search/indexer`],
      );
    });

    test('unbound: the scans see a binding-missing, the sweep pages none; the incident stays open', () => {
      const { firing, resolved, raw } = verdictOn(recreated);
      assert.ok(raw.includes(INDEXER_BINDING), 'the scan alone cannot tell it from a binding never granted');
      assert.deepEqual(firing, [], 'one outage, one incident: the open gsa-missing');
      assert.deepEqual(resolved, []);
    });

    test('bound again: the incident resolves, and nothing else fires', () => {
      const { firing, resolved } = verdictOn(bind(recreated, ksas));
      assert.deepEqual(firing, []);
      assert.deepEqual(resolved, [GSA_GONE]);
    });

    test('a KSA the incident does not name is binding-missing as usual, before and after the repair', () => {
      const unbound = verdictOn(withRanker(recreated));
      assert.deepEqual(unbound.firing, [RANKER_BINDING]);
      assert.deepEqual(unbound.resolved, []);
      const repaired = verdictOn(bind(withRanker(recreated), ksas));
      assert.deepEqual(repaired.firing, [RANKER_BINDING]);
      assert.deepEqual(repaired.resolved, [GSA_GONE]);
    });

    test('a binding-missing incident already open for a named KSA is confirmed, never found healthy', () => {
      const binding = sweep(recreated, { projects: PROJECTS }).find((f) => f.fingerprint === INDEXER_BINDING);
      assert.ok(binding);
      const { firing, resolved } = verdictOn(recreated, [...open, ...opened([binding])]);
      assert.deepEqual(firing, [INDEXER_BINDING]);
      assert.deepEqual(resolved, []);
    });
  });

  describe('scope: what the sweep could not read is neither resolved nor re-fired', () => {
    const snapshot = healthy();
    const pool = broken(loadSnapshot(), nodePool('update', 'highmem', { metadataServer: false }));
    const binding = broken(
      loadSnapshot(),
      gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))]),
    );
    const deleted = broken(loadSnapshot(), gsaLifecycle('delete', { gsa: ORBIT.indexer }));
    const open = opened([...pool.findings, ...binding.findings, ...deleted.findings]);
    const resolvedBy = (unreachable: Unreachable, projects = PROJECTS) =>
      settle(sweep(snapshot, { projects, unreachable }), open, { projects, unreachable, snapshot, at: AT })
        .filter((f) => f.status === 'resolved')
        .map((f) => f.fingerprint)
        .sort();
    const GSA_GONE = `gsa-missing/orbit-prod/${ORBIT.indexer}`;

    test('everything readable: all three resolved', () => {
      assert.deepEqual(resolvedBy({}), [CART_BINDING, GSA_GONE, HIGHMEM].sort());
    });

    test('the pool’s cluster unreachable: the pool incident stays open; IAM shows the rest repaired', () => {
      const unreachable = { clusters: [{ project: ORBIT.project, ...ORBIT.core }] };
      assert.deepEqual(resolvedBy(unreachable), [CART_BINDING, GSA_GONE].sort());
      assert.equal(
        blindSpot(pool.findings[0] as Finding, { projects: PROJECTS, unreachable, snapshot }),
        'cluster core-1 could not be read',
      );
    });

    test('a GSA IAM answered 403 for: its incident stays open', () => {
      assert.deepEqual(resolvedBy({ gsas: [ORBIT.cart] }), [GSA_GONE, HIGHMEM].sort());
    });

    test('a project not swept: its incidents are untouched', () => {
      assert.deepEqual(resolvedBy({}, ['other-prod']), []);
    });

    test('still deleted, no visible user, a cluster unreachable: a GSA-wide incident stays open', () => {
      const stillGone = variant((s) => {
        for (const pod of s.projects.flatMap((p) => p.clusters).flatMap((c) => c.pods)) pod.env = [];
        const indexer = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.indexer);
        if (indexer) Object.assign(indexer, { deleted: true, iamPolicy: { bindings: [] } });
        const ksa = clusterOf(s, 'core-1').serviceAccounts.find((k) => k.name === 'indexer');
        if (ksa) ksa.annotations = {};
      });
      const unreachable = { clusters: [{ project: ORBIT.project, ...ORBIT.edge }] };
      const scope = { projects: PROJECTS, unreachable, snapshot: stillGone, at: AT };
      const gone = opened(deleted.findings);
      assert.deepEqual(settle(sweep(stillGone, scope), gone, scope), []);
      assert.match(
        blindSpot(deleted.findings[0] as Finding, scope) ?? '',
        /^a cluster of orbit-prod\.svc\.id\.goog could not be read$/,
      );
      // With every cluster read, no KSA names it any more: nothing is broken behind it.
      const readable = { projects: PROJECTS, snapshot: stillGone, at: AT };
      assert.deepEqual(
        settle(sweep(stillGone, readable), gone, readable).map((f) => `${f.status} ${f.fingerprint}`),
        [`resolved ${GSA_GONE}`],
      );
    });

    test('a GSA-wide incident that names no KSA: any unreachable cluster may hold its users', () => {
      const [finding] = detect(gsaLifecycle('delete', { gsa: ORBIT.deployer }));
      assert.ok(finding);
      assert.deepEqual(finding.ksas, []);
      const gone = variant((s) => {
        const deployer = s.projects[0]?.serviceAccounts.find((g) => g.email === ORBIT.deployer);
        if (deployer) deployer.deleted = true;
      });
      const unreachable = { clusters: [{ project: ORBIT.project, ...ORBIT.edge }] };
      const scope = { projects: PROJECTS, unreachable, snapshot: gone, at: AT };
      assert.deepEqual(settle([], opened([finding]), scope), []);
      assert.match(blindSpot(finding, scope) ?? '', /any cluster may hold a KSA that uses the GSA$/);
    });

    test("a KSA of a pool no swept cluster belongs to: the binding incident can't be judged", () => {
      const foreign = broken(
        loadSnapshot(),
        gsaPolicy(ORBIT.cart, [remove('serviceAccount:other-prod.svc.id.goog[checkout/cart]')]),
      );
      const scope = { projects: PROJECTS, snapshot, at: AT };
      assert.deepEqual(settle([], opened(foreign.findings), scope), []);
      assert.equal(
        blindSpot(foreign.findings[0] as Finding, scope),
        'no swept cluster belongs to other-prod.svc.id.goog',
      );
    });

    test('a broad role removed is seen in the project policy, however many clusters are unreadable', () => {
      const granted = variant((s) => {
        const project = s.projects[0];
        if (project)
          project.iamPolicy = {
            bindings: [{ role: 'roles/owner', members: [`serviceAccount:${ORBIT.cart}`] }],
          };
      });
      const firing = sweep(granted, { projects: PROJECTS });
      const role = firing.filter((f) => f.kind === 'gsa-broad-role');
      assert.equal(role.length, 1);
      const revoked = variant((s) => {
        const project = s.projects[0];
        if (project) project.iamPolicy = { bindings: [] };
      });
      const unreachable = { clusters: [{ project: ORBIT.project, ...ORBIT.edge }] };
      const scope = { projects: PROJECTS, unreachable, snapshot: revoked, at: AT };
      assert.deepEqual(
        settle([], opened(role), scope).map((f) => f.summary),
        [
          `the sweep of 2026-11-29T06:00:00.000Z found ${ORBIT.cart} (no longer roles/owner on orbit-prod) healthy`,
        ],
      );
      // With no project policy read at all, nothing says the role is gone.
      const unread = { projects: PROJECTS, snapshot: healthy(), at: AT };
      assert.deepEqual(settle([], opened(role), unread), []);
      assert.deepEqual(
        prints(sweep(granted, { projects: PROJECTS, unreachable: { iamProjects: [ORBIT.project] } })).filter(
          (p) => p.startsWith('gsa-broad-role'),
        ),
        [],
      );
    });
  });
});
