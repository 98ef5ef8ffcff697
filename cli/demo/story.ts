import { gsa, member, PROJECT, PROJECT_NUMBER, uniqueIdOf } from './organization.ts';

/**
 * The demo's story: how Workload Identity really breaks, and the repairs, as the audit-log entries
 * Cloud Logging would write for them (Admin Activity, GKE and Kubernetes audit logs).
 */
/** An entry to deliver, or (`repeat`) the entry of an earlier step delivered again. */
export type Step =
  | { narration: string; entry: Record<string, unknown> }
  | { narration: string; repeat: number };

const LOG = `projects/${PROJECT}/logs/cloudaudit.googleapis.com%2Factivity`;
let clock = Date.parse('2026-11-24T10:02:00Z');
let sequence = 0;

function stamp() {
  clock += 97_000;
  sequence += 1;
  return {
    insertId: `demo-${sequence.toString().padStart(3, '0')}`,
    timestamp: new Date(clock).toISOString(),
  };
}

/** How a change was made: gcloud by hand, unless a pipeline's agent and delegation chain say otherwise. */
interface Caller {
  userAgent?: string;
  /** serviceAccountDelegationInfo: who the actor acted for. */
  delegation?: { principalSubject: string }[];
}

function audit(
  actor: string,
  serviceName: string,
  methodName: string,
  resourceName: string,
  extra: Record<string, unknown>,
  caller: Caller = {},
) {
  return {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    authenticationInfo: {
      principalEmail: actor,
      ...(caller.delegation ? { serviceAccountDelegationInfo: caller.delegation } : {}),
    },
    requestMetadata: {
      callerIp: '198.51.100.23',
      callerSuppliedUserAgent: caller.userAgent ?? 'google-cloud-sdk gcloud/528.0.0',
    },
    serviceName,
    methodName,
    resourceName,
    status: {},
    ...extra,
  };
}

function bindingChange(
  actor: string,
  account: string,
  action: 'ADD' | 'REMOVE',
  namespace: string,
  ksa: string,
  caller: Caller = {},
  others: { action: 'ADD' | 'REMOVE'; role: string; member: string }[] = [],
) {
  const email = gsa(account);
  return {
    ...stamp(),
    logName: LOG,
    protoPayload: audit(
      actor,
      'iam.googleapis.com',
      'google.iam.admin.v1.SetIAMPolicy',
      `projects/-/serviceAccounts/${email}`,
      {
        request: {
          '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest',
          resource: `projects/-/serviceAccounts/${email}`,
        },
        serviceData: {
          '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData',
          policyDelta: {
            bindingDeltas: [
              { action, role: 'roles/iam.workloadIdentityUser', member: member(namespace, ksa) },
              ...others,
            ],
          },
        },
      },
      caller,
    ),
    resource: { type: 'service_account', labels: { email_id: email, project_id: PROJECT } },
  };
}

function nodePoolUpdate(
  actor: string,
  pool: string,
  mode: string,
  operationId: string,
  phase: 'first' | 'last',
) {
  const name = `projects/${PROJECT}/locations/us-central1/clusters/shop-prod/nodePools/${pool}`;
  const first = phase === 'first';
  return {
    ...stamp(),
    logName: LOG,
    operation: {
      id: operationId,
      producer: 'container.googleapis.com',
      ...(first ? { first: true } : { last: true }),
    },
    protoPayload: first
      ? audit(actor, 'container.googleapis.com', 'google.container.v1.ClusterManager.UpdateNodePool', name, {
          request: {
            '@type': 'type.googleapis.com/google.container.v1alpha1.UpdateNodePoolRequest',
            name,
            workloadMetadataConfig: { mode },
          },
        })
      : {
          '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
          serviceName: 'container.googleapis.com',
          methodName: 'google.container.v1.ClusterManager.UpdateNodePool',
          resourceName: name,
          metadata: { operationType: 'UPDATE_NODE_POOL' },
          status: {},
        },
    resource: {
      type: 'gke_nodepool',
      labels: {
        cluster_name: 'shop-prod',
        location: 'us-central1',
        nodepool_name: pool,
        project_id: PROJECT,
      },
    },
  };
}

function accountLifecycle(actor: string, account: string, verb: 'Delete' | 'Undelete', uniqueId: string) {
  return {
    ...stamp(),
    logName: LOG,
    protoPayload: audit(
      actor,
      'iam.googleapis.com',
      `google.iam.admin.v1.${verb}ServiceAccount`,
      `projects/-/serviceAccounts/${uniqueId}`,
      {
        request: {
          name: `projects/${PROJECT}/serviceAccounts/${verb === 'Delete' ? gsa(account) : uniqueId}`,
        },
      },
    ),
    resource: {
      type: 'service_account',
      labels: { email_id: gsa(account), project_id: PROJECT, unique_id: uniqueId },
    },
  };
}

function networkPolicy(actor: string, verb: 'create' | 'patch', egress: unknown[]) {
  const policy = {
    '@type': 'networking.k8s.io/v1.NetworkPolicy',
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'default-deny-egress', namespace: 'checkout' },
    spec: { podSelector: {}, policyTypes: ['Egress'], egress },
  };
  return {
    ...stamp(),
    logName: LOG,
    operation: { id: `k8s-${sequence}`, producer: 'k8s.io', first: true, last: true },
    protoPayload: audit(
      actor,
      'k8s.io',
      `io.k8s.networking.v1.networkpolicies.${verb}`,
      'networking.k8s.io/v1/namespaces/checkout/networkpolicies/default-deny-egress',
      { request: verb === 'create' ? policy : { '@type': 'k8s.io/Patch' }, response: policy },
    ),
    resource: {
      type: 'k8s_cluster',
      labels: { cluster_name: 'shop-prod', location: 'us-central1', project_id: PROJECT },
    },
  };
}

const DNS = {
  to: [{ namespaceSelector: {}, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
  ports: [{ protocol: 'UDP', port: 53 }],
};
const METADATA = {
  to: [{ ipBlock: { cidr: '169.254.169.254/32' } }],
  ports: [
    { protocol: 'TCP', port: 80 },
    { protocol: 'TCP', port: 988 },
  ],
};

/**
 * The platform team's pipeline: GitHub Actions federated into deployer@ runs Terraform, whose
 * provider writes this user agent (terraform-plugin-sdk's format; see test/fixtures/attribution).
 */
const PIPELINE: Caller = {
  userAgent:
    'google-api-go-client/0.5 Terraform/1.9.8 (+https://www.terraform.io) Terraform-Plugin-SDK/2.36.1 terraform-provider-google/6.12.0,gzip(gfe)',
  delegation: [
    {
      principalSubject: `principal://iam.googleapis.com/projects/${PROJECT_NUMBER}/locations/global/workloadIdentityPools/github/subject/repo:acme/platform-infra:ref:refs/heads/main`,
    },
  ],
};
const DEPLOYER = `deployer@${PROJECT}.iam.gserviceaccount.com`;
const CI_TOKENS = {
  role: 'roles/iam.serviceAccountTokenCreator',
  member: `serviceAccount:ci@${PROJECT}.iam.gserviceaccount.com`,
};

export function demoStory(): Step[] {
  clock = Date.parse('2026-11-24T10:02:00Z');
  sequence = 0;
  const mailerId = uniqueIdOf('mailer');
  return [
    {
      narration:
        'carol@acme.example moves batch-pool (3 nodes) to GCE_METADATA while migrating its node image',
      entry: nodePoolUpdate(
        'carol@acme.example',
        'batch-pool',
        'GCE_METADATA',
        'operation-1764-batch-a',
        'first',
      ),
    },
    {
      narration: 'GKE finishes the operation',
      entry: nodePoolUpdate(
        'carol@acme.example',
        'batch-pool',
        'GCE_METADATA',
        'operation-1764-batch-a',
        'last',
      ),
    },
    {
      narration: 'bob@acme.example removes a binding he takes for stale: orders/worker on orders@',
      entry: bindingChange('bob@acme.example', 'orders', 'REMOVE', 'orders', 'worker'),
    },
    {
      narration: 'alice@acme.example sees the page and restores the binding',
      entry: bindingChange('alice@acme.example', 'orders', 'ADD', 'orders', 'worker'),
    },
    {
      narration:
        "the platform pipeline's terraform apply sets analytics@'s whole policy (google_service_account_iam_policy) without analytics/reports",
      entry: bindingChange(DEPLOYER, 'analytics', 'REMOVE', 'analytics', 'reports', PIPELINE, [
        { action: 'ADD', ...CI_TOKENS },
      ]),
    },
    {
      narration: 'the fix is merged into the policy in Terraform; the pipeline applies it',
      entry: bindingChange(DEPLOYER, 'analytics', 'ADD', 'analytics', 'reports', PIPELINE),
    },
    {
      narration: 'dave@acme.example deletes mailer@ during a service-account clean-up',
      entry: accountLifecycle('dave@acme.example', 'mailer', 'Delete', mailerId),
    },
    {
      narration: 'erin@acme.example applies a default-deny egress policy in checkout (DNS only)',
      entry: networkPolicy('erin@acme.example', 'create', [DNS]),
    },
    {
      narration: 'the same log entry arrives again (Pub/Sub delivers at least once)',
      repeat: 7,
    },
    {
      narration: 'erin@acme.example adds egress to the metadata server (169.254.169.254, TCP 80 and 988)',
      entry: networkPolicy('erin@acme.example', 'patch', [DNS, METADATA]),
    },
    {
      narration: 'carol@acme.example puts batch-pool back on GKE_METADATA',
      entry: nodePoolUpdate(
        'carol@acme.example',
        'batch-pool',
        'GKE_METADATA',
        'operation-1764-batch-b',
        'first',
      ),
    },
    {
      narration: 'dave@acme.example undeletes mailer@ (within the 30 days)',
      entry: accountLifecycle('dave@acme.example', 'mailer', 'Undelete', mailerId),
    },
  ];
}
