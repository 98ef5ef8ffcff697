import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { GkeCluster, LiveState } from '../../../shared/gcp/ports.ts';
import { generateCertificates } from '../../fakes/fake-server.ts';
import { FAKE_TOKEN, type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { clusterOf, ORBIT, variant } from '../../support/snapshots.ts';

/** The orbit fixture, plus what a live cluster also holds: a finished pod, an ingress rule, a namespace label. */
const snapshot = () =>
  variant((s) => {
    const core = clusterOf(s, 'core-1');
    core.pods.push({
      namespace: 'search',
      name: 'reindex-28919040-x',
      labels: { job: 'reindex' },
      serviceAccountName: 'indexer',
      nodePool: 'spot',
      owner: { kind: 'Job', name: 'reindex-28919040' },
      env: ['GOOGLE_APPLICATION_CREDENTIALS'],
      phase: 'Succeeded',
    });
    core.networkPolicies.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'from-gateway', namespace: 'search' },
      spec: {
        podSelector: {},
        policyTypes: ['Ingress'],
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'gateway' } } }] }],
      },
    });
    core.namespaces = [
      { name: 'checkout', labels: { 'kubernetes.io/metadata.name': 'checkout', team: 'shop' } },
      { name: 'search', labels: { 'kubernetes.io/metadata.name': 'search' } },
    ];
  });

describe('Kubernetes adapter (@kubernetes/client-node) against the fake API server, over TLS with the cluster CA', () => {
  let fakes: LiveFakes;
  let state: LiveState;
  let core: GkeCluster;
  let edge: GkeCluster;

  before(async () => {
    fakes = await startLiveFakes(snapshot(), { maxPageSize: 2 });
    state = fakes.liveState();
    const clusters = await state.gke.listClusters(ORBIT.project);
    core = clusters.find((cluster) => cluster.name === 'core-1') as GkeCluster;
    edge = clusters.find((cluster) => cluster.name === 'edge-1') as GkeCluster;
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
  });

  /** This test's calls (of one kind): a read that failed may leave its sibling reads finishing late. */
  const kubeCalls = (kind?: string) =>
    fakes.kubernetes.calls.filter((call) => kind === undefined || call.kind === kind);

  it('lists KSAs with their Workload Identity annotations only, page by page (limit / continue)', async () => {
    const ksas = await state.kube.listServiceAccounts(core);
    assert.deepEqual(ksas, clusterOf(snapshot(), 'core-1').serviceAccounts);
    const pages = kubeCalls('kubernetes.listServiceAccounts');
    assert.equal(pages.length, 3, 'five KSAs, two a page');
    assert.ok(
      pages.every((call) => call.path === '/clusters/orbit-prod/europe-west4/core-1/api/v1/serviceaccounts'),
    );
    assert.ok(pages.every((call) => call.query.limit === '500' && call.authorized));
    assert.equal(pages[0]?.query.continue, undefined);
    assert.ok(
      pages[1]?.query.continue &&
        pages[2]?.query.continue &&
        pages[1].query.continue !== pages[2].query.continue,
    );
  });

  it('lists the KSAs of one namespace, and reads one (undefined when absent)', async () => {
    const ksas = await state.kube.listServiceAccounts(core, 'search');
    assert.deepEqual(
      ksas.map((ksa) => ksa.name),
      ['indexer', 'query'],
    );
    assert.equal(
      kubeCalls()[0]?.path,
      '/clusters/orbit-prod/europe-west4/core-1/api/v1/namespaces/search/serviceaccounts',
    );
    assert.deepEqual(await state.kube.getServiceAccount(core, 'checkout', 'cart'), {
      namespace: 'checkout',
      name: 'cart',
      annotations: { 'iam.gke.io/gcp-service-account': ORBIT.cart },
    });
    assert.equal(await state.kube.getServiceAccount(core, 'checkout', 'nobody'), undefined);
  });

  it('lists running pods only, with node pool, owner (a ReplicaSet named for its Deployment) and env names', async () => {
    const pods = await state.kube.listPods(core);
    const podCalls = kubeCalls().filter((call) => call.kind === 'kubernetes.listPods');
    assert.ok(podCalls.every((call) => call.query.fieldSelector === 'status.phase=Running'));
    assert.ok(
      kubeCalls().some((call) => call.kind === 'kubernetes.listNodes'),
      'nodes give the pools',
    );
    assert.equal(pods.length, 6, 'the Succeeded pod is not listed');
    const cart = pods.find((pod) => pod.name === 'cart-6d8-b');
    assert.equal(cart?.nodePool, 'spot');
    assert.deepEqual(cart?.owner, { kind: 'Deployment', name: 'cart' });
    assert.deepEqual(cart?.env, ['PORT']);
    assert.equal(cart?.labels.tier, 'web');
    assert.match(cart?.labels['pod-template-hash'] ?? '', /^[0-9a-f]{10}$/);
    assert.deepEqual(pods.find((pod) => pod.name === 'pricing-0')?.owner, {
      kind: 'StatefulSet',
      name: 'pricing',
    });
    const toolbox = pods.find((pod) => pod.name === 'toolbox');
    assert.equal(toolbox?.owner, undefined);
    assert.equal(toolbox?.serviceAccountName, 'default');
    assert.deepEqual(pods.find((pod) => pod.name === 'indexer-x7')?.env, ['GOOGLE_APPLICATION_CREDENTIALS']);
  });

  it('never keeps an environment variable value', async () => {
    const pods = await state.kube.listPods(core);
    assert.ok(!JSON.stringify(pods).includes('value-of-'), 'the fake serves values; none is kept');
  });

  it('filters pods by namespace and KSA with a field selector', async () => {
    const pods = await state.kube.listPods(core, { namespace: 'checkout', serviceAccountName: 'cart' });
    assert.deepEqual(
      pods.map((pod) => pod.name),
      ['cart-6d8-a', 'cart-6d8-b'],
    );
    const call = kubeCalls().find((c) => c.kind === 'kubernetes.listPods');
    assert.equal(call?.path, '/clusters/orbit-prod/europe-west4/core-1/api/v1/namespaces/checkout/pods');
    assert.equal(call?.query.fieldSelector, 'status.phase=Running,spec.serviceAccountName=cart');
  });

  it('lists NetworkPolicies as the API serves them (ingress `from` kept as such)', async () => {
    const policies = await state.kube.listNetworkPolicies(core);
    assert.deepEqual(policies, clusterOf(snapshot(), 'core-1').networkPolicies);
    assert.deepEqual(
      (await state.kube.listNetworkPolicies(core, 'search')).map((p) => p.metadata.name),
      ['from-gateway'],
    );
  });

  it('lists namespaces with their labels', async () => {
    assert.deepEqual(await state.kube.listNamespaces(core), clusterOf(snapshot(), 'core-1').namespaces);
  });

  it('a control plane that hangs fails that cluster only, within its timeout, while another answers', async () => {
    fakes.kubernetes.fault({ match: '/clusters/orbit-prod/europe-west4/core-1/', hang: true });
    const quick = fakes.liveState({
      kubeTimeoutMs: 300,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, deadlineMs: 5_000 },
    });
    const started = Date.now();
    const [hung, answered] = await Promise.allSettled([
      quick.kube.listServiceAccounts(core),
      quick.kube.listServiceAccounts(edge),
    ]);
    assert.equal(hung.status, 'rejected');
    assert.match(
      String((hung as PromiseRejectedResult).reason.message),
      /the control plane of orbit-prod\/europe-west4\/core-1 did not answer within 300 ms \(gave up after 2 attempts/,
    );
    assert.equal((hung as PromiseRejectedResult).reason.retryable, true);
    assert.deepEqual(answered.status === 'fulfilled' && answered.value.map((ksa) => ksa.name), ['cart']);
    assert.ok(Date.now() - started < 3_000, 'bounded by the timeout');
  });

  it('reports RBAC refusal (403) naming the permission, never as "no pods"', async () => {
    fakes.kubernetes.fault({
      match: '/pods',
      status: 403,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Forbidden',
        code: 403,
        message:
          'pods is forbidden: User "wi-sentinel@orbit-prod.iam.gserviceaccount.com" cannot list resource "pods" in API group "" at the cluster scope',
      },
    });
    await assert.rejects(state.kube.listPods(core), {
      name: 'LookupError',
      api: 'kubernetes',
      status: 403,
      retryable: false,
      permission: 'container.pods.list',
      message:
        /running pods of cluster orbit-prod\/europe-west4\/core-1: kubernetes answered 403 .*needs container\.pods\.list: pods is forbidden/,
    });
  });

  it('retries a 503 from the control plane, then succeeds', async () => {
    fakes.kubernetes.fault({ match: '/namespaces', status: 503, times: 1 });
    assert.equal((await state.kube.listNamespaces(core)).length, 2);
    assert.deepEqual(
      kubeCalls('kubernetes.listNamespaces').map((call) => call.answered),
      [503, 200],
    );
  });

  it('restarts a list whose continue token expired (410)', async () => {
    fakes.kubernetes.fault({ match: /serviceaccounts\?.*continue=/, status: 410, times: 1 });
    const ksas = await state.kube.listServiceAccounts(core);
    assert.equal(ksas.length, 5, 'whole, and nothing twice');
    assert.deepEqual(
      kubeCalls('kubernetes.listServiceAccounts').map((call) => [
        call.answered,
        call.query.continue === undefined,
      ]),
      [
        [200, true],
        [410, false],
        [200, true],
        [200, false],
        [200, false],
      ],
    );
  });

  it('sends the Google token as bearer, and a refused one is a 401 with no token in the error', async () => {
    await state.kube.listNamespaces(edge);
    assert.ok(kubeCalls().every((call) => call.authorized));
    const wrong = fakes.liveState({ tokens: async () => 'ya29.wrong-token-value' });
    const error = await wrong.kube.listNamespaces(edge).then(
      () => assert.fail('resolved'),
      (failure: Error) => failure,
    );
    assert.equal((error as { status?: number }).status, 401);
    const text = `${error.message} ${JSON.stringify(error)} ${error.stack}`;
    assert.ok(!text.includes('wrong-token-value') && !text.includes(FAKE_TOKEN), text);
  });

  it('refuses a cluster whose certificate is not signed by the CA GKE gave', async () => {
    const otherCa = { ...core, caCertificate: Buffer.from(generateCertificates().caPem).toString('base64') };
    await assert.rejects(state.kube.listNamespaces(otherCa), {
      name: 'LookupError',
      retryable: true,
      message: /could not reach kubernetes/,
    });
  });

  it('says a cluster without an endpoint cannot be read', async () => {
    const { endpoint: _, ...unreachable } = core;
    await assert.rejects(state.kube.listPods({ ...unreachable, status: 'PROVISIONING' }), {
      retryable: false,
      message:
        /cluster orbit-prod\/europe-west4\/core-1 has no control-plane endpoint \(status PROVISIONING\)/,
    });
  });
});
