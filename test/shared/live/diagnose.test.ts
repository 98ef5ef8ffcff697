import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ChainLink, LinkState } from '../../../shared/chain/link.ts';
import type { ChainReport } from '../../../shared/chain/report.ts';
import { LookupError } from '../../../shared/errors.ts';
import type { LiveState } from '../../../shared/gcp/ports.ts';
import type { Snapshot } from '../../../shared/inventory/snapshot.ts';
import { type DiagnoseTarget, diagnose } from '../../../shared/live/diagnose.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { clusterOf, loadSnapshot, ORBIT, variant } from '../../support/snapshots.ts';

const CART: DiagnoseTarget = {
  project: ORBIT.project,
  cluster: ORBIT.core,
  namespace: 'checkout',
  name: 'cart',
};
const PRICING: DiagnoseTarget = { ...CART, name: 'pricing' };
const INDEXER: DiagnoseTarget = { ...CART, namespace: 'search', name: 'indexer' };
const NOW = () => new Date('2026-11-29T12:00:00Z');

function run(snapshot: Snapshot, target = CART): Promise<ChainReport> {
  return diagnose(
    snapshotState(() => snapshot),
    target,
    { now: NOW },
  );
}

function linkOf(report: ChainReport, number: number): ChainLink {
  const found = report.links.find((l) => l.link === number);
  assert.ok(found, `no link ${number} in the report`);
  return found;
}

function statuses(report: ChainReport): LinkState[] {
  return report.links.map((l) => l.status);
}

function commands(link: ChainLink): string[] {
  return link.repair.map((step) => step.command);
}

/** Repairs carry real names: never the placeholders of the guide. */
function assertNoPlaceholders(report: ChainReport) {
  for (const step of report.links.flatMap((l) => l.repair)) {
    assert.doesNotMatch(
      step.command,
      /PROJECT_ID|GSA_EMAIL|UNIQUE_ID|KSA_NAME|NAMESPACE\b|\bPOOL\b|\bCLUSTER\b|\bLOCATION\b|<[A-Z_]+>|\.\.\./,
      step.command,
    );
  }
}

const gsaIn = (snapshot: Snapshot, email: string) => {
  const gsa = snapshot.projects.flatMap((p) => p.serviceAccounts).find((g) => g.email === email);
  assert.ok(gsa, `no GSA ${email}`);
  return gsa;
};
const ksaIn = (snapshot: Snapshot, cluster: string, namespace: string, name: string) => {
  const ksa = clusterOf(snapshot, cluster).serviceAccounts.find(
    (k) => k.namespace === namespace && k.name === name,
  );
  assert.ok(ksa, `no KSA ${namespace}/${name}`);
  return ksa;
};
const poolIn = (snapshot: Snapshot, cluster: string, name: string) => {
  const pool = clusterOf(snapshot, cluster).nodePools.find((p) => p.name === name);
  assert.ok(pool, `no pool ${name}`);
  return pool;
};

describe('diagnose: one broken link at a time', () => {
  interface Case {
    name: string;
    snapshot: () => Snapshot;
    target?: DiagnoseTarget;
    link: number;
    kind: string;
    detail: RegExp;
    repair: string[];
  }
  const cases: Case[] = [
    {
      name: 'cluster left its workload pool',
      snapshot: () =>
        variant((s) => {
          delete clusterOf(s, 'core-1').workloadPool;
        }),
      link: 1,
      kind: 'cluster-wi-disabled',
      detail: /core-1 has no workload pool/,
      repair: [
        'gcloud container clusters update core-1 --location europe-west4 --project orbit-prod --workload-pool=orbit-prod.svc.id.goog',
      ],
    },
    {
      name: 'a pod on a GCE_METADATA pool while the other pod is fine',
      snapshot: () =>
        variant((s) => {
          poolIn(s, 'core-1', 'spot').workloadMetadataMode = 'GCE_METADATA';
        }),
      link: 2,
      kind: 'nodepool-metadata-disabled',
      detail:
        /^cart-6d8-b on spot \(GCE_METADATA\) act as the node's service account.*1 pod on general fine$/,
      repair: [
        'gcloud container node-pools update spot --cluster core-1 --location europe-west4 --project orbit-prod --workload-metadata=GKE_METADATA',
      ],
    },
    {
      name: 'a pool with the mode unset',
      snapshot: () =>
        variant((s) => {
          delete poolIn(s, 'core-1', 'general').workloadMetadataMode;
        }),
      link: 2,
      kind: 'nodepool-metadata-disabled',
      detail: /cart-6d8-a on general \(unset, so GCE_METADATA\)/,
      repair: [
        'gcloud container node-pools update general --cluster core-1 --location europe-west4 --project orbit-prod --workload-metadata=GKE_METADATA',
      ],
    },
    {
      name: 'annotation removed while the GSA still binds the KSA in the classic form',
      snapshot: () =>
        variant((s) => {
          ksaIn(s, 'core-1', 'checkout', 'cart').annotations = {};
        }),
      link: 3,
      kind: 'annotation-missing',
      detail: /no iam\.gke\.io\/gcp-service-account annotation although cart@orbit-prod/,
      repair: [
        'gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod',
        'kubectl annotate serviceaccount cart -n checkout iam.gke.io/gcp-service-account=cart@orbit-prod.iam.gserviceaccount.com --overwrite',
        'kubectl rollout restart deployment/cart -n checkout',
      ],
    },
    {
      name: 'KSA deleted',
      snapshot: () =>
        variant((s) => {
          const cluster = clusterOf(s, 'core-1');
          cluster.serviceAccounts = cluster.serviceAccounts.filter((k) => k.name !== 'cart');
        }),
      link: 3,
      kind: 'annotation-missing',
      detail: /^KSA checkout\/cart does not exist in core-1$/,
      repair: [
        'gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod',
        'kubectl create serviceaccount cart -n checkout && kubectl annotate serviceaccount cart -n checkout iam.gke.io/gcp-service-account=cart@orbit-prod.iam.gserviceaccount.com --overwrite',
        'kubectl rollout restart deployment/cart -n checkout',
      ],
    },
    {
      name: 'GSA deleted',
      snapshot: () =>
        variant((s) => {
          gsaIn(s, ORBIT.cart).deleted = true;
        }),
      link: 4,
      kind: 'gsa-missing',
      detail: /^cart@orbit-prod\.iam\.gserviceaccount\.com does not exist/,
      repair: [
        `gcloud iam service-accounts undelete "$(gcloud logging read 'resource.type="service_account" AND resource.labels.email_id="cart@orbit-prod.iam.gserviceaccount.com" AND protoPayload.methodName="google.iam.admin.v1.DeleteServiceAccount"' --project orbit-prod --freshness 30d --limit 1 --format 'value(resource.labels.unique_id)')" --project orbit-prod`,
        'gcloud iam service-accounts create cart --project orbit-prod',
        'gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod.iam.gserviceaccount.com --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"',
      ],
    },
    {
      name: 'GSA disabled',
      snapshot: () =>
        variant((s) => {
          gsaIn(s, ORBIT.cart).disabled = true;
        }),
      link: 4,
      kind: 'gsa-disabled',
      detail: /cart@orbit-prod\.iam\.gserviceaccount\.com is disabled/,
      repair: ['gcloud iam service-accounts enable cart@orbit-prod.iam.gserviceaccount.com'],
    },
    {
      name: 'binding removed',
      snapshot: () =>
        variant((s) => {
          const gsa = gsaIn(s, ORBIT.cart);
          for (const binding of gsa.iamPolicy.bindings)
            binding.members = binding.members.filter((m) => m !== ORBIT.classic('checkout', 'cart'));
        }),
      link: 5,
      kind: 'binding-missing',
      detail:
        /policy of cart@orbit-prod\.iam\.gserviceaccount\.com grants roles\/iam\.workloadIdentityUser to no member covering serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]/,
      repair: [
        'gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod.iam.gserviceaccount.com --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"',
      ],
    },
    {
      name: 'the binding granted for another role only',
      snapshot: () =>
        variant((s) => {
          const binding = gsaIn(s, ORBIT.cart).iamPolicy.bindings[0];
          assert.ok(binding);
          binding.role = 'roles/iam.serviceAccountTokenCreator';
        }),
      link: 5,
      kind: 'binding-missing',
      detail: /grants roles\/iam\.workloadIdentityUser to no member/,
      repair: [
        'gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod.iam.gserviceaccount.com --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"',
      ],
    },
    {
      name: 'a default-deny egress NetworkPolicy (the pod no other policy lets out)',
      target: PRICING,
      snapshot: () =>
        variant((s) => {
          clusterOf(s, 'core-1').networkPolicies.push({
            apiVersion: 'networking.k8s.io/v1',
            kind: 'NetworkPolicy',
            metadata: { name: 'deny-egress', namespace: 'checkout' },
            spec: { podSelector: {}, policyTypes: ['Egress'] },
          });
        }),
      link: 6,
      kind: 'metadata-egress-blocked',
      detail:
        /^pricing-0 cannot reach 169\.254\.169\.254 on TCP 80 and 988: NetworkPolicy checkout\/deny-egress restricts their egress$/,
      repair: [
        'gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod',
        "kubectl apply -f - <<'EOF'",
      ],
    },
    {
      name: 'egress narrowed to 443: the web pods lose both metadata ports',
      snapshot: () =>
        variant((s) => {
          const policy = clusterOf(s, 'core-1').networkPolicies[0];
          const rule = policy?.spec.egress?.[0];
          assert.ok(rule);
          rule.ports = [{ protocol: 'TCP', port: 443 }];
        }),
      link: 6,
      kind: 'metadata-egress-blocked',
      detail: /on TCP 80 and 988: NetworkPolicy checkout\/web-egress restricts/,
      repair: [
        'gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod',
        "kubectl apply -f - <<'EOF'",
      ],
    },
    {
      name: 'a pod sets GOOGLE_APPLICATION_CREDENTIALS',
      snapshot: () =>
        variant((s) => {
          const pod = clusterOf(s, 'core-1').pods.find((p) => p.name === 'cart-6d8-b');
          pod?.env.push('GOOGLE_APPLICATION_CREDENTIALS');
        }),
      link: 7,
      kind: 'key-file-override',
      detail: /^cart-6d8-b sets GOOGLE_APPLICATION_CREDENTIALS/,
      repair: [
        'gcloud container clusters get-credentials core-1 --location europe-west4 --project orbit-prod',
        'kubectl set env deployment/cart -n checkout GOOGLE_APPLICATION_CREDENTIALS-',
      ],
    },
  ];

  for (const c of cases) {
    it(`${c.name}: link ${c.link} is broken as ${c.kind}, the others hold`, async () => {
      const report = await run(c.snapshot(), c.target);
      const broken = report.links.filter((l) => l.status === 'broken');
      assert.deepEqual(
        broken.map((l) => [l.link, l.kind]),
        [[c.link, c.kind]],
        JSON.stringify(report.links, null, 1),
      );
      const link = linkOf(report, c.link);
      assert.match(link.detail, c.detail);
      const got = commands(link);
      assert.equal(got.length, c.repair.length, got.join('\n'));
      for (const [index, expected] of c.repair.entries()) {
        assert.ok(got[index]?.startsWith(expected), `repair ${index}: ${got[index]}\nwanted ${expected}`);
      }
      assertNoPlaceholders(report);
      assert.equal(report.healthy, false);
      const { namespace, name } = c.target ?? CART;
      const verdict = `broken: link ${c.link} (${c.kind}) of ${namespace}/${name} in core-1`;
      assert.ok(report.verdict.startsWith(verdict), report.verdict);
      assert.ok(
        report.links.every((l) => l.status !== 'unknown'),
        'a snapshot answers every read: nothing unknown',
      );
    });
  }

  it('the egress repair is a policy for the namespace allowing 169.254.169.254/32 on TCP 80 and 988', async () => {
    const report = await run(
      variant((s) => {
        clusterOf(s, 'core-1').networkPolicies.push({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: 'deny-egress', namespace: 'checkout' },
          spec: { podSelector: {}, policyTypes: ['Egress'] },
        });
      }),
      PRICING,
    );
    const manifest = commands(linkOf(report, 6))[1] ?? '';
    assert.match(manifest, /namespace: checkout\n/);
    assert.match(manifest, /cidr: 169\.254\.169\.254\/32/);
    assert.match(manifest, /port: 80\n[\s\S]*port: 988\n/);
  });
});

describe('diagnose: healthy chains and their variants', () => {
  it('a healthy KSA: seven links ok, its pods and workloads with their node pools', async () => {
    const report = await run(loadSnapshot());
    assert.deepEqual(statuses(report), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    assert.equal(report.healthy, true);
    assert.equal(report.verdict, 'healthy: every link of checkout/cart in core-1 holds');
    assert.equal(report.checkedAt, '2026-11-29T12:00:00.000Z');
    assert.deepEqual(report.target, CART);
    assert.equal(report.workloadPool, ORBIT.pool);
    assert.deepEqual(report.gsas, [ORBIT.cart]);
    assert.deepEqual(
      report.links.map((l) => l.link),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.ok(report.links.every((l) => l.repair.length === 0 && l.kind === undefined));
    assert.deepEqual(report.pods, [
      {
        name: 'cart-6d8-a',
        workload: { kind: 'Deployment', name: 'cart' },
        nodePool: 'general',
        metadataMode: 'GKE_METADATA',
      },
      {
        name: 'cart-6d8-b',
        workload: { kind: 'Deployment', name: 'cart' },
        nodePool: 'spot',
        metadataMode: 'GKE_METADATA',
      },
    ]);
    assert.deepEqual(
      report.workloads.map((w) => [w.kind, w.name, w.nodePool, w.pods]),
      [
        ['Deployment', 'cart', 'general', 1],
        ['Deployment', 'cart', 'spot', 1],
      ],
    );
    assert.match(
      linkOf(report, 5).detail,
      /grants serviceAccount:orbit-prod\.svc\.id\.goog\[checkout\/cart\]/,
    );
    assert.match(
      linkOf(report, 6).detail,
      /checkout\/web-egress allows 169\.254\.169\.254 on TCP 80 and 988/,
    );
  });

  it('the same KSA in another cluster of the pool is judged there', async () => {
    const report = await run(loadSnapshot(), { ...CART, cluster: ORBIT.edge });
    assert.equal(report.healthy, true);
    assert.deepEqual(
      report.pods.map((p) => [p.name, p.nodePool]),
      [
        ['cart-edge-1', 'default-pool'],
        ['cart-edge-2', 'default-pool'],
      ],
    );
    assert.match(linkOf(report, 6).detail, /no NetworkPolicy restricts/);
  });

  it('a GSA of another project: found by email, named with its project, repairs in its project', async () => {
    const shared = 'cart@orbit-shared-iam.iam.gserviceaccount.com';
    const healthy = variant((s) => {
      ksaIn(s, 'core-1', 'checkout', 'cart').annotations['iam.gke.io/gcp-service-account'] = shared;
      s.projects.push({
        projectId: 'orbit-shared-iam',
        clusters: [],
        serviceAccounts: [
          {
            email: shared,
            uniqueId: '104200000000000000099',
            disabled: false,
            iamPolicy: {
              bindings: [
                { role: 'roles/iam.workloadIdentityUser', members: [ORBIT.classic('checkout', 'cart')] },
              ],
            },
          },
        ],
      });
    });
    const report = await run(healthy);
    assert.equal(report.healthy, true, JSON.stringify(report.links, null, 1));
    assert.deepEqual(report.gsas, [shared]);
    assert.match(
      linkOf(report, 4).detail,
      /cart@orbit-shared-iam\.iam\.gserviceaccount\.com \(project orbit-shared-iam\) exists/,
    );

    const gone = structuredClone(healthy);
    const gsa = gone.projects[1]?.serviceAccounts[0];
    assert.ok(gsa);
    gsa.deleted = true;
    const broken = await run(gone);
    const link = linkOf(broken, 4);
    assert.equal(link.kind, 'gsa-missing');
    assert.match(link.detail, /\(project orbit-shared-iam\) does not exist/);
    assert.ok(
      commands(link).some((c) => c === 'gcloud iam service-accounts create cart --project orbit-shared-iam'),
    );
    assert.ok(commands(link)[0]?.endsWith('--project orbit-shared-iam'));
    assert.equal(linkOf(broken, 5).status, 'not-applicable');
  });

  it('a KSA bound by name as a principal but not annotated cannot act as the GSA: annotation-missing, as the sweep says', async () => {
    const report = await run(
      variant((s) => {
        ksaIn(s, 'core-1', 'search', 'indexer').annotations = {};
      }),
      INDEXER,
    );
    const link3 = linkOf(report, 3);
    assert.equal(link3.status, 'broken');
    assert.equal(link3.kind, 'annotation-missing');
    assert.match(link3.detail, /no iam\.gke\.io\/gcp-service-account annotation although indexer@orbit-prod/);
    assert.match(link3.detail, /principal:\/\/iam\.googleapis\.com\/.*\/subject\/ns\/search\/sa\/indexer/);
    assert.ok(
      link3.repair.some((r) =>
        r.command.includes(
          'kubectl annotate serviceaccount indexer -n search iam.gke.io/gcp-service-account=indexer@orbit-prod.iam.gserviceaccount.com',
        ),
      ),
      JSON.stringify(link3.repair),
    );
    // The fixture also binds the whole search namespace on reports: both are found.
    assert.deepEqual(report.gsas, [ORBIT.indexer, ORBIT.reports]);
    // The fixture's indexer pod also sets a key file.
    assert.deepEqual(
      report.links.filter((l) => l.status === 'broken').map((l) => l.kind),
      ['annotation-missing', 'key-file-override'],
    );
  });

  it('a KSA covered only by a namespace-wide principalSet acts as its own principal: not reported', async () => {
    const report = await run(loadSnapshot(), { ...CART, namespace: 'search', name: 'query' });
    assert.equal(report.healthy, true);
    assert.match(
      linkOf(report, 3).detail,
      /reports@orbit-prod\.iam\.gserviceaccount\.com \(principalSet:.*binds its whole namespace/,
    );
    assert.deepEqual(report.gsas, [ORBIT.reports]);
  });

  it('a KSA with direct principal access on the project needs no GSA: links 4 and 5 do not apply', async () => {
    const report = await run(
      variant((s) => {
        const project = s.projects[0];
        assert.ok(project);
        project.iamPolicy = {
          bindings: [
            {
              role: 'roles/storage.objectViewer',
              members: [ORBIT.principal('checkout', 'default')],
            },
          ],
        };
      }),
      { ...CART, name: 'default' },
    );
    assert.deepEqual(statuses(report), ['ok', 'ok', 'ok', 'not-applicable', 'not-applicable', 'ok', 'ok']);
    assert.match(
      linkOf(report, 3).detail,
      /direct principal access \(orbit-prod grants it roles\/storage\.objectViewer\)/,
    );
    assert.equal(report.healthy, true);
  });

  it('a KSA that names no GSA and that nothing binds is broken at link 3, with a real command', async () => {
    const report = await run(loadSnapshot(), { ...CART, name: 'default' });
    const link = linkOf(report, 3);
    assert.equal(link.kind, 'annotation-missing');
    assert.match(link.detail, /no GSA of orbit-prod binds it/);
    assert.deepEqual(commands(link).at(-1), 'gcloud iam service-accounts list --project orbit-prod');
    assert.equal(linkOf(report, 4).status, 'not-applicable');
  });

  it('no running pods: links 2, 6 and 7 say so and do not apply; the rest is judged', async () => {
    const report = await run(
      variant((s) => {
        const cluster = clusterOf(s, 'core-1');
        cluster.pods = cluster.pods.filter((p) => p.serviceAccountName !== 'cart');
        poolIn(s, 'core-1', 'spot').workloadMetadataMode = 'GCE_METADATA';
      }),
    );
    assert.deepEqual(statuses(report), [
      'ok',
      'not-applicable',
      'ok',
      'ok',
      'ok',
      'not-applicable',
      'not-applicable',
    ]);
    assert.match(
      linkOf(report, 2).detail,
      /no running pod uses checkout\/cart \(new pods could land on spot \(GCE_METADATA\)\)/,
    );
    assert.match(linkOf(report, 7).detail, /no running pod uses checkout\/cart/);
    assert.deepEqual(report.pods, []);
    assert.equal(report.healthy, true);
  });

  it('a cluster that does not exist: link 1 broken, the rest not checked', async () => {
    const report = await run(loadSnapshot(), {
      ...CART,
      cluster: { location: 'europe-west4', name: 'core-9' },
    });
    assert.equal(linkOf(report, 1).status, 'broken');
    assert.match(linkOf(report, 1).detail, /cluster orbit-prod\/europe-west4\/core-9 does not exist/);
    assert.deepEqual(commands(linkOf(report, 1)), ['gcloud container clusters list --project orbit-prod']);
    assert.ok(report.links.slice(1).every((l) => l.status === 'not-applicable'));
    assert.equal(report.healthy, false);
  });

  it('several links broken at once are all reported, in chain order', async () => {
    const report = await run(
      variant((s) => {
        poolIn(s, 'core-1', 'general').workloadMetadataMode = 'GCE_METADATA';
        gsaIn(s, ORBIT.cart).disabled = true;
        gsaIn(s, ORBIT.cart).iamPolicy = { bindings: [] };
      }),
    );
    assert.deepEqual(
      report.links.filter((l) => l.status === 'broken').map((l) => l.kind),
      ['nodepool-metadata-disabled', 'gsa-disabled', 'binding-missing'],
    );
    assert.match(
      report.verdict,
      /^broken: links 2 \(nodepool-metadata-disabled\), 4 \(gsa-disabled\), 5 \(binding-missing\)/,
    );
  });
});

/** Live state whose port `port.method` fails with `error`; everything else answers from the snapshot. */
function failing(snapshot: Snapshot, port: 'gke' | 'iam' | 'kube', method: string, error: Error): LiveState {
  const state = snapshotState(() => snapshot);
  const target = state[port] as unknown as Record<string, unknown>;
  target[method] = async () => {
    throw error;
  };
  return state;
}

describe('diagnose: reads that fail are unknown, never healthy', () => {
  const denied = (api: string, permission?: string) =>
    new LookupError(`${api} said 403`, {
      api,
      status: 403,
      retryable: false,
      ...(permission ? { permission } : {}),
    });

  const cases: {
    name: string;
    port: 'gke' | 'iam' | 'kube';
    method: string;
    error: Error;
    unknown: number[];
    detail: RegExp;
  }[] = [
    {
      name: 'a 403 on the GSA policy',
      port: 'iam',
      method: 'getServiceAccountPolicy',
      error: denied('iam', 'iam.serviceAccounts.getIamPolicy'),
      unknown: [5],
      detail: /^could not check: wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy$/,
    },
    {
      name: 'a 403 naming no permission: the read names it',
      port: 'iam',
      method: 'getServiceAccount',
      error: denied('iam'),
      unknown: [4],
      detail: /^could not check: wi-sentinel lacks iam\.serviceAccounts\.get$/,
    },
    {
      name: 'a 401',
      port: 'kube',
      method: 'listNetworkPolicies',
      error: new LookupError('unauthorized', { api: 'kubernetes', status: 401, retryable: false }),
      unknown: [6],
      detail:
        /^could not check: wi-sentinel lacks container\.networkPolicies\.list \(its credentials were refused: 401\)$/,
    },
    {
      name: 'a 503 from IAM',
      port: 'iam',
      method: 'getServiceAccountPolicy',
      error: new LookupError('unavailable', { api: 'iam', status: 503, retryable: true }),
      unknown: [5],
      detail: /^could not check: the IAM API unavailable \(503\), retry$/,
    },
    {
      name: 'pods that cannot be listed',
      port: 'kube',
      method: 'listPods',
      error: denied('kubernetes'),
      unknown: [2, 6, 7],
      detail: /^could not check: wi-sentinel lacks container\.pods\.list$/,
    },
    {
      name: 'a KSA that cannot be read',
      port: 'kube',
      method: 'getServiceAccount',
      error: denied('kubernetes'),
      unknown: [3, 4, 5],
      detail: /^could not check: wi-sentinel lacks container\.serviceAccounts\.get$/,
    },
    {
      name: 'a cluster that cannot be read',
      port: 'gke',
      method: 'getCluster',
      error: denied('container'),
      unknown: [1, 2, 3, 4, 5, 6, 7],
      detail: /^could not check: wi-sentinel lacks container\.clusters\.get$/,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: links ${c.unknown.join(', ')} unknown, the report not healthy`, async () => {
      const report = await diagnose(failing(loadSnapshot(), c.port, c.method, c.error), CART, { now: NOW });
      assert.deepEqual(
        report.links.filter((l) => l.status === 'unknown').map((l) => l.link),
        c.unknown,
      );
      assert.match(linkOf(report, c.unknown[0] ?? 0).detail, c.detail);
      assert.ok(report.links.every((l) => l.status !== 'broken'));
      assert.equal(report.healthy, false);
      assert.match(report.verdict, /^not verified: could not check link/);
      assert.doesNotMatch(report.verdict, /healthy/);
    });
  }

  it('a break found beside a read that failed is still reported as broken', async () => {
    const snapshot = variant((s) => {
      poolIn(s, 'core-1', 'spot').workloadMetadataMode = 'GCE_METADATA';
    });
    const report = await diagnose(
      failing(snapshot, 'iam', 'getServiceAccountPolicy', denied('iam', 'iam.serviceAccounts.getIamPolicy')),
      CART,
    );
    assert.equal(linkOf(report, 2).status, 'broken');
    assert.equal(linkOf(report, 5).status, 'unknown');
    assert.match(
      report.verdict,
      /^broken: link 2 \(nodepool-metadata-disabled\) .*; could not check link 5$/,
    );
  });

  it('the GSA search of an unannotated KSA fails: link 3 unknown, naming the listing permission', async () => {
    const snapshot = variant((s) => {
      ksaIn(s, 'core-1', 'search', 'indexer').annotations = {};
    });
    const report = await diagnose(failing(snapshot, 'iam', 'listServiceAccounts', denied('iam')), INDEXER);
    assert.equal(linkOf(report, 3).status, 'unknown');
    assert.match(
      linkOf(report, 3).detail,
      /wi-sentinel lacks iam\.serviceAccounts\.list \(to find a GSA that binds it\)/,
    );
    assert.equal(linkOf(report, 4).status, 'unknown');
    assert.equal(report.healthy, false);
  });

  it('an annotated KSA does not depend on the speculative project reads', async () => {
    const state = failing(loadSnapshot(), 'iam', 'listServiceAccounts', denied('iam'));
    state.iam.getProjectPolicy = async () => {
      throw denied('cloudresourcemanager');
    };
    const report = await diagnose(state, CART);
    assert.equal(report.healthy, true);
  });
});

describe('diagnose: round trips', () => {
  /** Wraps every port method: a call's depth is one more than the deepest call finished before it began. */
  function measured(state: LiveState) {
    const finished: number[] = [];
    const calls: { name: string; depth: number }[] = [];
    const wrap = <T extends object>(port: T, portName: string): T => {
      const wrapped: Record<string, unknown> = {};
      for (const [name, method] of Object.entries(port)) {
        wrapped[name] = async (...args: unknown[]) => {
          const depth = 1 + Math.max(0, ...finished);
          calls.push({ name: `${portName}.${name}`, depth });
          await new Promise((resolve) => setTimeout(resolve, 2));
          try {
            return await (method as (...a: unknown[]) => Promise<unknown>)(...args);
          } finally {
            finished.push(depth);
          }
        };
      }
      return wrapped as T;
    };
    return {
      state: { gke: wrap(state.gke, 'gke'), iam: wrap(state.iam, 'iam'), kube: wrap(state.kube, 'kube') },
      calls,
    };
  }

  for (const [name, target, snapshot] of [
    ['an annotated KSA', CART, loadSnapshot()],
    [
      'a KSA found through the project GSA search',
      { ...CART, namespace: 'search', name: 'query' },
      loadSnapshot(),
    ],
  ] as const) {
    it(`${name}: at most 3 sequential round trips, independent reads in parallel`, async () => {
      const { state, calls } = measured(snapshotState(() => snapshot));
      const report = await diagnose(state, target);
      assert.ok(report.links.every((l) => l.status !== 'unknown'));
      const depth = Math.max(...calls.map((c) => c.depth));
      assert.ok(depth <= 3, JSON.stringify(calls));
      const byDepth = (d: number) =>
        calls
          .filter((c) => c.depth === d)
          .map((c) => c.name)
          .sort();
      assert.ok(byDepth(2).includes('kube.listPods') && byDepth(2).includes('kube.getServiceAccount'));
      assert.ok(byDepth(3).includes('iam.getServiceAccountPolicy'));
    });
  }
});

describe('diagnose against the real adapters and fake Google and Kubernetes APIs', () => {
  let fakes: LiveFakes;
  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
  });

  it('a healthy KSA: seven links ok; the fakes were asked for this cluster, KSA and GSA only', async () => {
    const report = await diagnose(fakes.liveState(), CART, { now: NOW });
    assert.deepEqual(
      statuses(report),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
      JSON.stringify(report.links),
    );
    assert.deepEqual(
      report.pods.map((p) => [p.name, p.nodePool, p.metadataMode]),
      [
        ['cart-6d8-a', 'general', 'GKE_METADATA'],
        ['cart-6d8-b', 'spot', 'GKE_METADATA'],
      ],
    );
    const calls = fakes.calls();
    const paths = (kind: string) => calls.filter((c) => c.kind === kind).map((c) => c.path);
    assert.ok(paths('gke.getCluster').every((p) => p.endsWith('/locations/europe-west4/clusters/core-1')));
    assert.ok(
      paths('kubernetes.getServiceAccount').every((p) =>
        p.endsWith('/namespaces/checkout/serviceaccounts/cart'),
      ),
    );
    assert.ok(paths('kubernetes.listNetworkPolicies').every((p) => p.includes('/namespaces/checkout/')));
    assert.ok(paths('iam.getIamPolicy').every((p) => p.includes(ORBIT.cart)));
    assert.equal(paths('iam.getIamPolicy').length, 1);
  });

  const faults: [string, 'iam' | 'kubernetes' | 'gke', string, number, number, RegExp][] = [
    [
      'a 403 on the GSA policy',
      'iam',
      ':getIamPolicy',
      403,
      5,
      /^could not check: wi-sentinel lacks iam\.serviceAccounts\.getIamPolicy$/,
    ],
    [
      'a 403 on NetworkPolicies',
      'kubernetes',
      'networkpolicies',
      403,
      6,
      /^could not check: wi-sentinel lacks container\.networkPolicies\.list$/,
    ],
    [
      'IAM down',
      'iam',
      'GET /v1/projects/-/serviceAccounts/cart@',
      503,
      4,
      /^could not check: the IAM API unavailable \(503\), retry$/,
    ],
  ];
  for (const [name, api, match, status, number, detail] of faults) {
    it(`${name}: link ${number} unknown, never ok; the report not healthy`, async () => {
      fakes[api].fault({ match, status });
      const report = await diagnose(fakes.liveState(), CART, { now: NOW });
      const link = linkOf(report, number);
      assert.equal(link.status, 'unknown', JSON.stringify(report.links));
      assert.match(link.detail, detail);
      assert.equal(report.healthy, false);
      assert.ok(fakes.calls().some((call) => call.answered === status));
      assert.ok(report.links.filter((l) => l.link !== number).every((l) => l.status === 'ok'));
    });
  }
});
