import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ChangeEvent, Classified, EventSource } from '../../../shared/events/change-event.ts';
import { classify, ignoreUnparsed } from '../../../shared/events/classify.ts';
import { decode } from '../../../shared/events/decode.ts';
import type { LogEntry } from '../../../shared/events/schemas.ts';
import { FIXTURES, sharedFixturesDir } from '../../support/paths.ts';

const DIR = join(FIXTURES, 'events');

function raw(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')) as Record<string, unknown>;
}

function entryOf(value: unknown): LogEntry {
  const decoded = decode(value);
  if (!decoded.ok) assert.fail(`does not decode: ${decoded.error}`);
  return decoded.delivery.entry;
}

function classifyFixture(name: string): Classified {
  return classify(entryOf(raw(name)));
}

/** A fixture changed in place: `edit` gets the parsed entry and its protoPayload. */
function variant(
  name: string,
  edit: (entry: Record<string, unknown>, payload: Record<string, unknown>) => void,
): Classified {
  const entry = raw(name);
  edit(entry, entry.protoPayload as Record<string, unknown>);
  return classify(entryOf(entry));
}

const P = 'orbit-prod';
const POOL = 'orbit-prod.svc.id.goog';
const WIU = 'roles/iam.workloadIdentityUser';
const CART = 'cart@orbit-prod.iam.gserviceaccount.com';
const INDEXER = 'indexer@orbit-prod.iam.gserviceaccount.com';
const REPORTS = 'reports@orbit-prod.iam.gserviceaccount.com';
const DEPLOYER = 'deployer@orbit-prod.iam.gserviceaccount.com';
const WI = 'iam.gke.io/gcp-service-account';
const CORE_1 = { location: 'europe-west4', name: 'core-1' };
const EDGE_1 = { location: 'us-east1-b', name: 'edge-1' };
const POLICY = 'type.googleapis.com/google.iam.v1.Policy';
const PRINCIPAL_INDEXER = `principal://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/${POOL}/subject/ns/search/sa/indexer`;
const SET_SEARCH = `principalSet://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/${POOL}/namespace/search`;
const classic = (ns: string, ksa: string) => `serviceAccount:${POOL}[${ns}/${ksa}]`;

const GCLOUD = /^google-cloud-sdk gcloud\/546\.0\.0 command\/gcloud\./;
const TERRAFORM = /^google-api-go-client\/0\.5 Terraform\/1\.13\.4 /;
const KUBECTL = /^kubectl\/v1\.33\.5 /;
const ARGOCD = /^argocd-controller\//;

/** The source as expected, the user agent matched by a pattern (absent: the entry has none). */
type ExpectedSource = Omit<EventSource, 'userAgent'> & { userAgent?: RegExp };

const erin = (method: string, insertId: string, time: string): ExpectedSource => ({
  method,
  insertId,
  time,
  actor: 'erin@example.org',
  callerIp: '198.51.100.23',
  userAgent: GCLOUD,
});

const gke = (
  method: string,
  insertId: string,
  time: string,
  operation: string,
  who: { actor: string; userAgent: RegExp } = { actor: DEPLOYER, userAgent: TERRAFORM },
): ExpectedSource => ({
  method,
  insertId,
  time,
  ...who,
  callerIp: '203.0.113.54',
  operation: { id: operation, first: true, last: false },
});

const k8s = (
  method: string,
  insertId: string,
  time: string,
  who: { actor: string; callerIp: string; userAgent: RegExp } = {
    actor: 'gwen@example.org',
    callerIp: '198.51.100.61',
    userAgent: KUBECTL,
  },
): ExpectedSource => ({
  method,
  insertId,
  time,
  ...who,
  operation: { id: insertId, first: true, last: true },
});

type Expected =
  | { event: DistributiveOmit<ChangeEvent, 'source'>; source: ExpectedSource }
  | { ignored: RegExp; source?: ExpectedSource };

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;

const SET_IAM = 'google.iam.admin.v1.SetIAMPolicy';
const UPDATE_POOL = 'google.container.v1.ClusterManager.UpdateNodePool';
const OP_HIGHMEM = 'operation-1762765830114-6f0a2c9e-3b1d-4e7a-9c5f-2a8d0e6b4c13';

const cartRemoved: Expected = {
  event: {
    type: 'gsa-policy',
    project: P,
    gsa: CART,
    gsaUniqueId: '104200000000000000011',
    deltas: [{ action: 'REMOVE', role: WIU, member: classic('checkout', 'cart') }],
    policy: {
      bindings: [{ role: WIU, members: [classic('checkout', 'pricing')] }],
      etag: 'BwZAq3Rv2Lk=',
      version: 1,
      '@type': POLICY,
    },
  },
  source: erin(SET_IAM, '1m8w3xe2k4bq', '2026-11-04T09:12:41.337214Z'),
};

/** One row per fixture in test/fixtures/events: the exact ChangeEvent, or why it is ignored. */
const CASES: Record<string, Expected> = {
  'gsa-binding-removed': cartRemoved,
  'gsa-binding-removed-snake-case': {
    // The same change exported with proto field names: the same event, `at_sign_type` passing through.
    event: {
      ...cartRemoved.event,
      policy: {
        bindings: [{ role: WIU, members: [classic('checkout', 'pricing')] }],
        etag: 'BwZAq3Rv2Lk=',
        version: 1,
        at_sign_type: POLICY,
      },
    } as DistributiveOmit<ChangeEvent, 'source'>,
    source: erin(SET_IAM, '1m8w3xe2k4bq', '2026-11-04T09:12:41.337214Z'),
  },
  'gsa-binding-removed-principal': {
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: INDEXER,
      gsaUniqueId: '104200000000000000012',
      deltas: [{ action: 'REMOVE', role: WIU, member: PRINCIPAL_INDEXER }],
      policy: {
        bindings: [{ role: 'roles/iam.serviceAccountTokenCreator', members: [`serviceAccount:${DEPLOYER}`] }],
        etag: 'BwZAr0G3hJc=',
        version: 1,
        '@type': POLICY,
      },
    },
    source: erin(SET_IAM, 'q0d71ve1x9rs', '2026-11-04T10:30:02.918004Z'),
  },
  'gsa-binding-removed-namespace-set': {
    // The last binding went: the response omits `bindings`, so the policy is the (empty) one requested.
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: REPORTS,
      gsaUniqueId: '104200000000000000013',
      deltas: [{ action: 'REMOVE', role: WIU, member: SET_SEARCH }],
      policy: { bindings: [], etag: 'BwZAsK0pYyM=', version: 1 },
    },
    source: erin(SET_IAM, '-v3c8p9e51ma', '2026-11-05T14:02:17.044310Z'),
  },
  'gsa-binding-added': {
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: CART,
      gsaUniqueId: '104200000000000000011',
      deltas: [{ action: 'ADD', role: WIU, member: classic('checkout', 'cart') }],
      policy: {
        bindings: [{ role: WIU, members: [classic('checkout', 'cart'), classic('checkout', 'pricing')] }],
        etag: 'BwZAq4Nn0sE=',
        version: 1,
        '@type': POLICY,
      },
    },
    source: erin(SET_IAM, '1m8w3xe2k7zt', '2026-11-04T09:19:05.772390Z'),
  },
  'gsa-policy-response-only': {
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: REPORTS,
      gsaUniqueId: '104200000000000000013',
      deltas: [],
      policy: {
        bindings: [{ role: WIU, members: [SET_SEARCH, classic('search', 'query')] }],
        etag: 'BwZAuN6bC8w=',
        version: 1,
        '@type': POLICY,
      },
    },
    source: erin(SET_IAM, 'p6a1hte0d3fj', '2026-11-07T13:44:09.508263Z'),
  },
  'gsa-binding-removed-external-federation': {
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: DEPLOYER,
      gsaUniqueId: '104200000000000000014',
      deltas: [
        {
          action: 'REMOVE',
          role: WIU,
          member:
            'principalSet://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/orbit-ci/attribute.repository/orbit/platform-deploy',
        },
      ],
      policy: { bindings: [], etag: 'BwZAuC3kP0Q=', version: 1 },
    },
    source: erin(SET_IAM, 'kx2r07e3b5wn', '2026-11-07T11:03:12.220598Z'),
  },
  'gsa-other-role-removed': {
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: CART,
      gsaUniqueId: '104200000000000000011',
      deltas: [
        { action: 'REMOVE', role: 'roles/iam.serviceAccountTokenCreator', member: 'user:erin@example.org' },
      ],
      policy: {
        bindings: [{ role: WIU, members: [classic('checkout', 'cart'), classic('checkout', 'pricing')] }],
        etag: 'BwZAtB7fXw0=',
        version: 1,
        '@type': POLICY,
      },
    },
    source: erin(SET_IAM, 'b41ke6e2mx0p', '2026-11-06T08:45:50.101775Z'),
  },
  'gsa-binding-removed-setiampolicy-casing': {
    event: {
      type: 'gsa-policy',
      project: P,
      gsa: CART,
      gsaUniqueId: '104200000000000000011',
      deltas: [{ action: 'REMOVE', role: WIU, member: classic('checkout', 'pricing') }],
      policy: {
        bindings: [{ role: WIU, members: [classic('checkout', 'cart')] }],
        etag: 'BwZAtR5sL1o=',
        version: 1,
        '@type': POLICY,
      },
    },
    source: erin('google.iam.admin.v1.SetIamPolicy', '3t9za2e1c8hd', '2026-11-06T16:20:33.640091Z'),
  },
  'project-editor-granted': {
    event: {
      type: 'project-policy',
      project: P,
      resource: `projects/${P}`,
      deltas: [{ action: 'ADD', role: 'roles/editor', member: `serviceAccount:${CART}` }],
    },
    source: erin('SetIamPolicy', '-f0k3s9e4wq1c', '2026-11-08T10:15:27.389506Z'),
  },
  'gsa-deleted': {
    event: {
      type: 'gsa-lifecycle',
      project: P,
      action: 'delete',
      gsa: INDEXER,
      gsaUniqueId: '104200000000000000012',
    },
    source: erin('google.iam.admin.v1.DeleteServiceAccount', 'z4u1cxe2p0ka', '2026-11-09T07:58:30.611402Z'),
  },
  'gsa-undeleted': {
    // Named by unique id only: the email comes from response.restoredAccount.
    event: {
      type: 'gsa-lifecycle',
      project: P,
      action: 'undelete',
      gsa: INDEXER,
      gsaUniqueId: '104200000000000000012',
    },
    source: erin('google.iam.admin.v1.UndeleteServiceAccount', 'z4u1cxe2r7nd', '2026-11-09T08:06:12.093385Z'),
  },
  'gsa-disabled': {
    event: {
      type: 'gsa-lifecycle',
      project: P,
      action: 'disable',
      gsa: CART,
      gsaUniqueId: '104200000000000000011',
    },
    source: erin('google.iam.admin.v1.DisableServiceAccount', '7hq0tbe3j2wy', '2026-11-10T12:30:45.330812Z'),
  },
  'gsa-enabled': {
    event: {
      type: 'gsa-lifecycle',
      project: P,
      action: 'enable',
      gsa: CART,
      gsaUniqueId: '104200000000000000011',
    },
    source: erin('google.iam.admin.v1.EnableServiceAccount', '7hq0tbe3k9ab', '2026-11-10T12:41:02.775016Z'),
  },
  'gsa-created': {
    event: {
      type: 'gsa-lifecycle',
      project: P,
      action: 'create',
      gsa: 'query@orbit-prod.iam.gserviceaccount.com',
      gsaUniqueId: '104200000000000000015',
    },
    source: erin('google.iam.admin.v1.CreateServiceAccount', 'c2m9w0e1y6fs', '2026-11-11T09:00:18.452209Z'),
  },
  'nodepool-gce-metadata': {
    event: {
      type: 'nodepool',
      project: P,
      action: 'update',
      cluster: CORE_1,
      nodePool: 'highmem',
      metadataServer: false,
      metadataMode: 'GCE_METADATA',
    },
    source: gke(UPDATE_POOL, 'm7ke0jd2h4xv', '2026-11-10T09:10:30.114552Z', OP_HIGHMEM),
  },
  'nodepool-expose-v1beta1': {
    event: {
      type: 'nodepool',
      project: P,
      action: 'update',
      cluster: CORE_1,
      nodePool: 'spot',
      metadataServer: false,
      metadataMode: 'EXPOSE',
    },
    source: gke(
      'google.container.v1beta1.ClusterManager.UpdateNodePool',
      'r2yd5hd1c0mu',
      '2026-11-10T09:50:15.440219Z',
      'operation-1762768215440-0d9b7f35-8e2a-4c61-b0f4-7a3e5c1d9b28',
      { actor: 'farid@example.org', userAgent: GCLOUD },
    ),
  },
  'nodepool-gke-metadata': {
    event: {
      type: 'nodepool',
      project: P,
      action: 'update',
      cluster: CORE_1,
      nodePool: 'highmem',
      metadataServer: true,
      metadataMode: 'GKE_METADATA',
    },
    source: gke(
      UPDATE_POOL,
      'n1gq8ad3w5ez',
      '2026-11-10T10:45:04.987336Z',
      'operation-1762771504987-b4e1a9d0-62c7-4f3e-8d5a-c09e7b2f1a64',
    ),
  },
  'nodepool-update-last': {
    // The completion entry: no request (so no metadata setting), no actor, the operation marked last.
    event: { type: 'nodepool', project: P, action: 'update', cluster: CORE_1, nodePool: 'highmem' },
    source: {
      method: UPDATE_POOL,
      insertId: 'm7ke0jd2k1pa',
      time: '2026-11-10T09:24:50.877031Z',
      operation: { id: OP_HIGHMEM, first: false, last: true },
    },
  },
  'nodepool-create-gce-metadata': {
    event: {
      type: 'nodepool',
      project: P,
      action: 'create',
      cluster: CORE_1,
      nodePool: 'batch',
      metadataServer: false,
      metadataMode: 'GCE_METADATA',
    },
    source: gke(
      'google.container.v1.ClusterManager.CreateNodePool',
      '8s3vn4d2b6rq',
      '2026-11-11T09:40:11.302751Z',
      'operation-1762854011302-3a7c5e19-d4b8-4f06-a2e1-98c6b0d4f7e2',
    ),
  },
  'nodepool-deleted': {
    event: { type: 'nodepool', project: P, action: 'delete', cluster: CORE_1, nodePool: 'spot' },
    source: gke(
      'google.container.v1.ClusterManager.DeleteNodePool',
      'u6pe1ed0x3lc',
      '2026-11-11T10:35:20.675418Z',
      'operation-1762857320675-e8b2d4f6-1a3c-4e5b-9d7f-0c2a4e6b8d11',
    ),
  },
  'nodepool-update-denied': {
    ignored: /^the request failed \(code 7: Required "container\.clusters\.update" permission/,
    source: {
      method: UPDATE_POOL,
      insertId: 'e9w2k5d1f8tb',
      time: '2026-11-12T15:02:44.118930Z',
      actor: 'gwen@example.org',
      callerIp: '203.0.113.54',
      userAgent: GCLOUD,
    },
  },
  'nodepool-image-update': {
    // Routed (it is an UpdateNodePool) but says nothing about the metadata server.
    event: { type: 'nodepool', project: P, action: 'update', cluster: EDGE_1, nodePool: 'default-pool' },
    source: gke(
      UPDATE_POOL,
      'k3nf6wd2q7bj',
      '2026-11-13T11:01:59.048372Z',
      'operation-1763031719048-5d7f9b1a-2c4e-4d6f-8b0a-3e5c7a9b1d68',
    ),
  },
  'cluster-wi-disabled': {
    event: { type: 'cluster', project: P, action: 'update', cluster: CORE_1, workloadPool: null },
    source: gke(
      'google.container.v1.ClusterManager.UpdateCluster',
      'y0cz3rd4a9go',
      '2026-11-12T09:46:42.559103Z',
      'operation-1762940802559-7c1e3a5b-9d0f-4b2e-8a6c-4e2f0b8d6a35',
      { actor: 'farid@example.org', userAgent: GCLOUD },
    ),
  },
  'cluster-wi-enabled': {
    event: {
      type: 'cluster',
      project: P,
      action: 'update',
      cluster: { location: 'europe-west4-a', name: 'sandbox' },
      workloadPool: POOL,
    },
    source: gke(
      'google.container.v1.ClusterManager.UpdateCluster',
      'g5rb7ud0n2ks',
      '2026-11-12T10:47:11.806627Z',
      'operation-1762944431806-2f9d7b5a-3c1e-4a8d-b6f0-5e3c1a9d7b46',
    ),
  },
  'cluster-create-wi-gce-pool': {
    event: {
      type: 'cluster',
      project: P,
      action: 'create',
      cluster: { location: 'europe-west4', name: 'batch-1' },
      workloadPool: POOL,
      nodePools: [
        { name: 'system', metadataServer: true, metadataMode: 'GKE_METADATA' },
        { name: 'legacy', metadataServer: false, metadataMode: 'GCE_METADATA' },
      ],
    },
    source: gke(
      'google.container.v1.ClusterManager.CreateCluster',
      'h8tq2fd1m6yr',
      '2026-11-13T09:30:08.311945Z',
      'operation-1763026208311-9a1c3e5f-7b2d-4f8a-a0c6-1d3f5b7e9c57',
    ),
  },
  'ksa-annotation-removed': {
    event: {
      type: 'k8s-serviceaccount',
      project: P,
      action: 'patch',
      cluster: CORE_1,
      namespace: 'checkout',
      name: 'cart',
      annotations: {},
      requestedGsa: null,
    },
    source: k8s(
      'io.k8s.core.v1.serviceaccounts.patch',
      '0d5a7c9e-2b4f-4a61-93c8-e7f1b3d5a902',
      '2026-11-14T13:05:22.418734Z',
    ),
  },
  'ksa-annotation-restored': {
    event: {
      type: 'k8s-serviceaccount',
      project: P,
      action: 'update',
      cluster: CORE_1,
      namespace: 'checkout',
      name: 'cart',
      annotations: { [WI]: CART, 'orbit.dev/owner': 'team-checkout' },
      requestedGsa: CART,
    },
    source: k8s(
      'io.k8s.core.v1.serviceaccounts.update',
      '6e8c0a2f-4d1b-4e93-b5a7-c9e1f3b5d714',
      '2026-11-14T13:21:47.902115Z',
      { actor: DEPLOYER, callerIp: '10.164.0.23', userAgent: ARGOCD },
    ),
  },
  'ksa-deleted': {
    // The response is the deleted object, annotation included: a delete must not report it as current.
    event: {
      type: 'k8s-serviceaccount',
      project: P,
      action: 'delete',
      cluster: CORE_1,
      namespace: 'search',
      name: 'indexer',
    },
    source: k8s(
      'io.k8s.core.v1.serviceaccounts.delete',
      'a3c5e7f9-1b2d-4c4e-86a8-0b2d4f6a8c35',
      '2026-11-15T08:12:03.355720Z',
    ),
  },
  'ksa-created': {
    event: {
      type: 'k8s-serviceaccount',
      project: P,
      action: 'create',
      cluster: EDGE_1,
      namespace: 'checkout',
      name: 'pricing',
      annotations: { [WI]: CART },
      requestedGsa: CART,
    },
    source: k8s(
      'io.k8s.core.v1.serviceaccounts.create',
      'c7e9a1b3-5d6f-4e08-a2c4-6e8a0c2e4f57',
      '2026-11-15T09:30:40.611908Z',
      { actor: DEPLOYER, callerIp: '10.164.0.23', userAgent: ARGOCD },
    ),
  },
  'ksa-token-create': {
    ignored: /^io\.k8s\.core\.v1\.serviceaccounts\.token\.create does not change a Workload Identity link$/,
    source: k8s(
      'io.k8s.core.v1.serviceaccounts.token.create',
      'f2b4d6f8-0a1c-4e3e-95b7-d9f1b3d5f791',
      '2026-11-15T10:00:00.734501Z',
      {
        actor: 'system:node:gke-core-1-general-7f3a9c1e-x2lq',
        callerIp: '10.164.15.202',
        userAgent: /^kubelet\//,
      },
    ),
  },
  'networkpolicy-deny-egress': {
    event: {
      type: 'k8s-networkpolicy',
      project: P,
      action: 'create',
      cluster: CORE_1,
      namespace: 'checkout',
      name: 'default-deny-egress',
      policy: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        '@type': 'networking.k8s.io/v1.NetworkPolicy',
        metadata: {
          creationTimestamp: '2026-11-16T14:00:12Z',
          generation: 1,
          name: 'default-deny-egress',
          namespace: 'checkout',
          resourceVersion: '48301185',
          uid: '3f5b7d9f-1e2a-4c4c-b6e8-0a2c4e6a8c13',
        },
        spec: { podSelector: {}, policyTypes: ['Egress'] },
      },
    },
    source: k8s(
      'io.k8s.networking.v1.networkpolicies.create',
      '4a6c8e0a-2c3e-4f5a-a7b9-1d3f5b7d9f24',
      '2026-11-16T14:00:12.207731Z',
    ),
  },
  'networkpolicy-metadata-allowed': {
    // A patch: the policy is the response (the whole object), never the partial request.
    event: {
      type: 'k8s-networkpolicy',
      project: P,
      action: 'patch',
      cluster: CORE_1,
      namespace: 'checkout',
      name: 'default-deny-egress',
      policy: {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        '@type': 'networking.k8s.io/v1.NetworkPolicy',
        metadata: {
          creationTimestamp: '2026-11-16T14:00:12Z',
          generation: 2,
          name: 'default-deny-egress',
          namespace: 'checkout',
          resourceVersion: '48302277',
          uid: '3f5b7d9f-1e2a-4c4c-b6e8-0a2c4e6a8c13',
        },
        spec: {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [
            {
              to: [{ ipBlock: { cidr: '169.254.169.254/32' } }],
              ports: [
                { protocol: 'TCP', port: 80 },
                { protocol: 'TCP', port: 988 },
              ],
            },
          ],
        },
      },
    },
    source: k8s(
      'io.k8s.networking.v1.networkpolicies.patch',
      '8e0a2c4e-6a7c-4e9e-b1d3-5f7b9d1f3b46',
      '2026-11-16T14:09:55.680143Z',
    ),
  },
  'networkpolicy-deleted': {
    event: {
      type: 'k8s-networkpolicy',
      project: P,
      action: 'delete',
      cluster: CORE_1,
      namespace: 'checkout',
      name: 'default-deny-egress',
    },
    source: k8s(
      'io.k8s.networking.v1.networkpolicies.delete',
      'b5d7f9b1-3d4f-4a6a-88ca-2e4a6c8e0a68',
      '2026-11-16T15:30:18.094467Z',
    ),
  },
  'data-access-get-iam-policy': {
    ignored: /^Data Access entry/,
    source: erin('google.iam.admin.v1.GetIAMPolicy', 'w9a2d4e1r5yn', '2026-11-17T08:00:04.201877Z'),
  },
  'k8s-container-log-line': { ignored: /^not an audit log entry \(no protoPayload\)$/ },
};

function assertSource(actual: EventSource | undefined, expected: ExpectedSource | undefined): void {
  if (expected === undefined) {
    assert.equal(actual, undefined);
    return;
  }
  assert.ok(actual, 'the event has a source');
  const { userAgent, ...rest } = actual;
  const { userAgent: pattern, ...expectedRest } = expected;
  assert.deepEqual(rest, expectedRest);
  if (pattern === undefined) assert.equal(userAgent, undefined);
  else assert.match(userAgent ?? '', pattern);
}

describe('classify: the project fixtures', () => {
  it('has a row for every fixture file and a file for every row', () => {
    const files = readdirSync(DIR)
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.replace(/\.json$/, ''))
      .sort();
    assert.deepEqual(files, Object.keys(CASES).sort());
  });

  for (const [name, expected] of Object.entries(CASES)) {
    it(name, () => {
      const result = classifyFixture(name);
      if ('ignored' in expected) {
        assert.equal(result.type, 'ignored');
        assert.match((result as Extract<Classified, { type: 'ignored' }>).reason, expected.ignored);
        assertSource(result.source, expected.source);
        return;
      }
      assert.notEqual(result.type, 'ignored', JSON.stringify(result));
      const { source, ...event } = result as ChangeEvent;
      assert.deepEqual(event, expected.event);
      assertSource(source, expected.source);
    });
  }
});

describe('classify: IAM policy deltas', () => {
  const deltasOf = (result: Classified) => {
    assert.equal(result.type, 'gsa-policy');
    return result.type === 'gsa-policy' ? result.deltas : [];
  };

  it('reads every delta, not only the last', () => {
    const result = variant('gsa-binding-removed', (_, payload) => {
      const data = payload.serviceData as { policyDelta: { bindingDeltas: unknown[] } };
      data.policyDelta.bindingDeltas.push(
        { action: 'REMOVE', role: WIU, member: classic('checkout', 'pricing') },
        { action: 'ADD', role: 'roles/iam.serviceAccountUser', member: 'user:erin@example.org' },
      );
    });
    assert.deepEqual(
      deltasOf(result).map((d) => `${d.action} ${d.member}`),
      [
        `REMOVE ${classic('checkout', 'cart')}`,
        `REMOVE ${classic('checkout', 'pricing')}`,
        'ADD user:erin@example.org',
      ],
    );
  });

  it('keeps the good deltas when one is malformed or unspecified', () => {
    const result = variant('gsa-binding-removed', (_, payload) => {
      const data = payload.serviceData as { policyDelta: { bindingDeltas: unknown[] } };
      data.policyDelta.bindingDeltas.unshift(
        'junk',
        { action: 'REMOVE', role: 7, member: classic('checkout', 'pricing') },
        { role: WIU, member: classic('search', 'query') },
        { action: 'ACTION_UNSPECIFIED', role: WIU, member: classic('search', 'query') },
      );
    });
    assert.deepEqual(deltasOf(result), [
      { action: 'REMOVE', role: WIU, member: classic('checkout', 'cart') },
    ]);
  });

  it('accepts enum numbers (1 ADD, 2 REMOVE) and lower-case actions', () => {
    const result = variant('gsa-binding-removed', (_, payload) => {
      (payload.serviceData as { policyDelta: unknown }).policyDelta = {
        bindingDeltas: [
          { action: 2, role: WIU, member: classic('checkout', 'cart') },
          { action: 1, role: WIU, member: classic('checkout', 'pricing') },
          { action: 'remove', role: WIU, member: classic('search', 'query') },
        ],
      };
    });
    assert.deepEqual(
      deltasOf(result).map((d) => d.action),
      ['REMOVE', 'ADD', 'REMOVE'],
    );
  });

  it('reads policyDelta from metadata when serviceData has none', () => {
    const result = variant('gsa-binding-removed', (_, payload) => {
      payload.metadata = { policy_delta: (payload.serviceData as { policyDelta: unknown }).policyDelta };
      delete payload.serviceData;
    });
    assert.deepEqual(deltasOf(result), [
      { action: 'REMOVE', role: WIU, member: classic('checkout', 'cart') },
    ]);
  });

  it('lets the camelCase key win when an object carries both spellings', () => {
    const result = variant('gsa-binding-removed', (_, payload) => {
      const data = payload.serviceData as Record<string, unknown>;
      data.policy_delta = { binding_deltas: [{ action: 'ADD', role: WIU, member: classic('x', 'y') }] };
    });
    assert.deepEqual(deltasOf(result), [
      { action: 'REMOVE', role: WIU, member: classic('checkout', 'cart') },
    ]);
  });

  it('names the GSA from the request or the resource name when resource labels are missing', () => {
    const result = variant('gsa-binding-removed', (entry) => {
      entry.resource = { type: 'service_account' };
    });
    assert.equal(result.type, 'gsa-policy');
    if (result.type !== 'gsa-policy') return;
    assert.equal(result.gsa, CART);
    assert.equal(result.project, P, 'the project comes from logName');
    assert.equal(result.gsaUniqueId, undefined);
  });

  it('ignores a SetIAMPolicy that names no service account, saying so', () => {
    const result = variant('gsa-binding-removed', (entry, payload) => {
      entry.resource = { type: 'service_account' };
      delete payload.request;
    });
    assert.equal(result.type, 'ignored');
    assert.match(result.type === 'ignored' ? result.reason : '', /names no service account/);
  });

  it('ignores SetIamPolicy of other services, naming the service', () => {
    const result = variant('project-editor-granted', (_, payload) => {
      payload.serviceName = 'storage.googleapis.com';
    });
    assert.equal(result.type, 'ignored');
    assert.match(result.type === 'ignored' ? result.reason : '', /storage\.googleapis\.com/);
  });
});

describe('classify: odd entries', () => {
  it('ignores an entry without a methodName', () => {
    const result = variant('gsa-disabled', (_, payload) => {
      delete payload.methodName;
    });
    assert.equal(result.type, 'ignored');
    assert.match(result.type === 'ignored' ? result.reason : '', /without a methodName/);
  });

  it('ignores a lifecycle entry that names no account', () => {
    const result = variant('gsa-disabled', (entry, payload) => {
      entry.resource = { type: 'service_account', labels: { project_id: P } };
      payload.resourceName = 'projects/-/serviceAccounts/-';
      delete payload.request;
    });
    assert.equal(result.type, 'ignored');
    assert.match(
      result.type === 'ignored' ? result.reason : '',
      /disable of a service account the entry does not name/,
    );
  });

  it('finds a deleted GSA by email and unique id without resource labels (undelete needs the id)', () => {
    const result = variant('gsa-deleted', (entry) => {
      entry.resource = { type: 'service_account' };
    });
    assert.equal(result.type, 'gsa-lifecycle');
    if (result.type !== 'gsa-lifecycle') return;
    assert.deepEqual(
      { project: result.project, gsa: result.gsa, gsaUniqueId: result.gsaUniqueId },
      { project: P, gsa: INDEXER, gsaUniqueId: '104200000000000000012' },
    );
  });

  it('reads GKE names from resourceName when the resource has no labels', () => {
    const result = variant('nodepool-gce-metadata', (entry) => {
      entry.resource = { type: 'gke_nodepool' };
    });
    assert.equal(result.type, 'nodepool');
    if (result.type !== 'nodepool') return;
    assert.deepEqual(
      { project: result.project, cluster: result.cluster, nodePool: result.nodePool },
      { project: P, cluster: CORE_1, nodePool: 'highmem' },
    );
  });

  it('ignores a Kubernetes entry from an unnamed cluster', () => {
    const result = variant('ksa-annotation-removed', (entry) => {
      entry.resource = { type: 'k8s_cluster', labels: { project_id: P } };
    });
    assert.equal(result.type, 'ignored');
    assert.match(
      result.type === 'ignored' ? result.reason : '',
      /serviceaccounts\.patch entry names no cluster, namespace and name/,
    );
  });

  it('ignores a NetworkPolicy write whose body is not a NetworkPolicy', () => {
    const result = variant('networkpolicy-deny-egress', (_, payload) => {
      payload.request = { kind: 'NetworkPolicy', spec: 'all' };
      payload.response = { kind: 'NetworkPolicy', metadata: { name: 'default-deny-egress' } };
    });
    assert.equal(result.type, 'ignored');
    assert.match(
      result.type === 'ignored' ? result.reason : '',
      /networkpolicies\.create entry records no valid NetworkPolicy/,
    );
  });

  it('takes the legacy nodeMetadata GKE_METADATA_SERVER as the GKE metadata server', () => {
    const result = variant('nodepool-expose-v1beta1', (_, payload) => {
      (payload.request as Record<string, unknown>).workloadMetadataConfig = {
        nodeMetadata: 'GKE_METADATA_SERVER',
      };
    });
    assert.equal(result.type, 'nodepool');
    if (result.type !== 'nodepool') return;
    assert.equal(result.metadataServer, true);
    assert.equal(result.metadataMode, 'GKE_METADATA_SERVER');
  });

  it('never throws, whatever shape request and response fields take', () => {
    const junk: unknown[] = [null, 7, 'x', true, [], [[{}]], {}, { name: 3, mode: [] }];
    for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
      const entry = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Record<string, unknown>;
      const payload = entry.protoPayload as Record<string, Record<string, unknown> | undefined> | undefined;
      for (const body of ['request', 'response', 'serviceData', 'metadata'] as const) {
        const object = payload?.[body];
        if (object === undefined) continue;
        for (const key of Object.keys(object)) {
          const original = object[key];
          for (const value of junk) {
            object[key] = value;
            const decoded = decode(entry);
            if (!decoded.ok) assert.fail(`${file} ${body}.${key}: ${decoded.error}`);
            const result = classify(decoded.delivery.entry);
            assert.equal(typeof result.type, 'string', `${file} ${body}.${key}`);
          }
          object[key] = original;
        }
      }
    }
  });
});

describe('ignoreUnparsed: the quick look before the schema parse', () => {
  /** Every entry the repository and (when present) the shared corpora hold, as raw JSON. */
  function corpus(): Record<string, unknown>[] {
    const dirs = [DIR, join(FIXTURES, 'drift'), join(FIXTURES, 'symptoms')];
    const shared = sharedFixturesDir();
    if (shared) dirs.push(join(shared, 'public'), join(shared, 'wi-events'));
    const entries: Record<string, unknown>[] = [];
    for (const dir of dirs) {
      for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.json')) continue;
        const value: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
        for (const item of Array.isArray(value) ? value : [value]) {
          if (typeof item === 'object' && item !== null) entries.push(item as Record<string, unknown>);
        }
      }
    }
    return entries;
  }

  it('gives, for every entry it decides, the reason classify gives after the parse', () => {
    let decided = 0;
    for (const value of corpus()) {
      const reason = ignoreUnparsed(value);
      if (reason === undefined) continue;
      decided += 1;
      const decoded = decode(value);
      assert.ok(decoded.ok, `${JSON.stringify(value).slice(0, 80)} does not decode`);
      const classified = classify(decoded.delivery.entry);
      assert.equal(classified.type, 'ignored');
      assert.equal((classified as { reason: string }).reason, reason);
    }
    assert.ok(decided >= 2, `only ${decided} entries decided without the parse`);
  });

  it('leaves every watched change to the parse and classify', () => {
    for (const name of ['gsa-binding-removed', 'nodepool-gce-metadata', 'ksa-annotation-removed']) {
      assert.equal(ignoreUnparsed(raw(name)), undefined, name);
    }
  });

  it('decides an unwatched method, Data Access and an unwatched service at once', () => {
    const entry = raw('gsa-binding-removed');
    const payload = entry.protoPayload as Record<string, unknown>;
    assert.equal(
      ignoreUnparsed({ ...entry, protoPayload: { ...payload, methodName: 'storage.objects.create' } }),
      'storage.objects.create does not change a Workload Identity link',
    );
    assert.equal(
      ignoreUnparsed({ ...entry, logName: 'projects/p/logs/cloudaudit.googleapis.com%2Fdata_access' }),
      'Data Access entry: reads change nothing',
    );
    assert.equal(
      ignoreUnparsed({
        ...entry,
        protoPayload: { ...payload, methodName: 'SetIamPolicy', serviceName: 'storage.googleapis.com' },
      }),
      'SetIamPolicy on storage.googleapis.com does not touch Workload Identity',
    );
  });

  it('leaves to the parse what the schema renames or would refuse, and failed requests', () => {
    const entry = raw('gsa-binding-removed');
    const payload = entry.protoPayload as Record<string, unknown>;
    const other = { ...payload, methodName: 'storage.objects.create' };
    const cases: Record<string, unknown>[] = [
      { ...entry, protoPayload: other, insert_id: 'x' },
      { ...entry, protoPayload: { ...other, method_name: 'x' } },
      { ...entry, protoPayload: other, logName: 42 },
      { ...entry, protoPayload: other, insertId: 7 },
      { ...entry, protoPayload: { ...other, serviceName: 3 } },
      { ...entry, protoPayload: { ...other, status: { code: 7 } } },
      { ...entry, protoPayload: { ...other, status: 'failed' } },
      { ...entry, protoPayload: { ...other, methodName: '' } },
      { ...entry, protoPayload: [] },
      { ...entry, protoPayload: undefined },
    ];
    for (const value of cases)
      assert.equal(ignoreUnparsed(value), undefined, JSON.stringify(value).slice(0, 120));
  });
});
