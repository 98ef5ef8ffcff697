import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyze } from '../../shared/pipeline.ts';
import { FIXTURES } from './paths.ts';

/**
 * Generated audit-log traffic for the e2e test and bench: many distinct Workload Identity links
 * (one GSA per KSA, so breaking one touches no other) and the SetIAMPolicy entries that break and
 * repair them, shaped like the fixtures (policy delta, request and response policy), plus unrelated
 * entries taken from the repository's fixtures under fresh insertIds.
 */

export const WI_USER_ROLE = 'roles/iam.workloadIdentityUser';

export interface Link {
  index: number;
  project: string;
  pool: string;
  namespace: string;
  ksa: string;
  gsa: string;
  uniqueId: string;
}

export function linkOf(index: number, project: string, pool = `${project}.svc.id.goog`): Link {
  return {
    index,
    project,
    pool,
    namespace: `team-${index % 8}`,
    ksa: `app-${index}`,
    gsa: `app-${index}@${project}.iam.gserviceaccount.com`,
    uniqueId: String(120_000_000_000_000_000_000n + BigInt(index)),
  };
}

export function memberOf(link: Link): string {
  return `serviceAccount:${link.pool}[${link.namespace}/${link.ksa}]`;
}

/** The fingerprint detect() gives a broken binding (shared/detect/binding-missing.ts). */
export function bindingFingerprint(link: Link): string {
  return `binding-missing/${link.project}/${link.gsa}/${link.pool}/${link.namespace}/${link.ksa}`;
}

type Json = Record<string, unknown>;

/**
 * A snapshot with `count` more links in the first cluster that has a workload pool: the KSA
 * (annotated), its GSA (bound) and one running pod. Links are numbered from 0.
 */
export function withLinks(snapshot: Json, count: number): { snapshot: Json; links: Link[] } {
  const copy = structuredClone(snapshot) as {
    projects: {
      projectId: string;
      clusters: {
        workloadPool?: string;
        nodePools: { name: string }[];
        serviceAccounts: unknown[];
        pods: unknown[];
      }[];
      serviceAccounts: unknown[];
    }[];
  };
  const project = copy.projects.find((p) => p.clusters.some((c) => c.workloadPool));
  const cluster = project?.clusters.find((c) => c.workloadPool);
  if (project === undefined || cluster?.workloadPool === undefined) {
    throw new Error('the snapshot has no cluster with Workload Identity');
  }
  const nodePool = cluster.nodePools[0]?.name ?? 'default-pool';
  const links = Array.from({ length: count }, (_, i) => linkOf(i, project.projectId, cluster.workloadPool));
  for (const link of links) {
    cluster.serviceAccounts.push({
      namespace: link.namespace,
      name: link.ksa,
      annotations: { 'iam.gke.io/gcp-service-account': link.gsa },
    });
    cluster.pods.push({
      namespace: link.namespace,
      name: `${link.ksa}-0`,
      labels: { app: link.ksa },
      serviceAccountName: link.ksa,
      nodePool,
      owner: { kind: 'Deployment', name: link.ksa },
      env: [],
    });
    project.serviceAccounts.push({
      email: link.gsa,
      uniqueId: link.uniqueId,
      disabled: false,
      iamPolicy: { bindings: [{ role: WI_USER_ROLE, members: [memberOf(link)] }] },
    });
  }
  return { snapshot: copy as unknown as Json, links };
}

/** The audit entry of `gcloud iam service-accounts {remove,add}-iam-policy-binding` on the link's GSA. */
export function bindingEntry(
  link: Link,
  action: 'REMOVE' | 'ADD',
  { insertId, time = new Date() }: { insertId: string; time?: Date },
): Json {
  const resourceName = `projects/-/serviceAccounts/${link.uniqueId}`;
  const policy = { bindings: action === 'ADD' ? [{ role: WI_USER_ROLE, members: [memberOf(link)] }] : [] };
  return iamEntry(
    link,
    link.uniqueId,
    { insertId, timestamp: time.toISOString() },
    {
      requestMetadata: {
        callerIp: '203.0.113.9',
        callerSuppliedUserAgent: `google-cloud-sdk gcloud/528.0.0 command/gcloud.iam.service-accounts.${action === 'ADD' ? 'add' : 'remove'}-iam-policy-binding`,
      },
      methodName: 'google.iam.admin.v1.SetIAMPolicy',
      authorizationInfo: [
        { resource: resourceName, permission: 'iam.serviceAccounts.setIamPolicy', granted: true },
      ],
      resourceName,
      request: {
        '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest',
        resource: `projects/-/serviceAccounts/${link.gsa}`,
        policy: { ...policy, etag: 'BwYmZ3W1q0E=', version: 1 },
      },
      response: {
        '@type': 'type.googleapis.com/google.iam.v1.Policy',
        ...policy,
        etag: 'BwYmZ3X2r1F=',
        version: 1,
      },
      serviceData: {
        '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData',
        policyDelta: { bindingDeltas: [{ action, role: WI_USER_ROLE, member: memberOf(link) }] },
      },
    },
  );
}

/**
 * The audit entry of `gcloud iam service-accounts {delete,undelete,create}` for the link's GSA, shaped
 * like test/fixtures/events/gsa-deleted.json and gsa-created.json. `uniqueId`: the account's (a new
 * one for a create under an old email).
 */
export function gsaLifecycleEntry(
  link: Link,
  verb: 'Delete' | 'Undelete' | 'Create',
  {
    insertId,
    uniqueId = link.uniqueId,
    timestamp = new Date().toISOString(),
  }: { insertId: string; uniqueId?: string; timestamp?: string },
): Json {
  const accountId = link.gsa.split('@')[0] ?? '';
  const created = verb === 'Create';
  return iamEntry(
    link,
    uniqueId,
    { insertId, timestamp },
    {
      methodName: `google.iam.admin.v1.${verb}ServiceAccount`,
      resourceName: created ? `projects/${link.project}` : `projects/-/serviceAccounts/${uniqueId}`,
      request: created
        ? { name: `projects/${link.project}`, accountId }
        : { name: `projects/${link.project}/serviceAccounts/${verb === 'Delete' ? link.gsa : uniqueId}` },
      ...(created
        ? {
            response: {
              email: link.gsa,
              uniqueId,
              name: `projects/${link.project}/serviceAccounts/${link.gsa}`,
            },
          }
        : {}),
    },
  );
}

/** An IAM Admin Activity entry about the link's GSA (account `uniqueId`), with these payload fields. */
function iamEntry(
  link: Link,
  uniqueId: string,
  { insertId, timestamp }: { insertId: string; timestamp: string },
  payload: Json,
): Json {
  return {
    insertId,
    logName: `projects/${link.project}/logs/cloudaudit.googleapis.com%2Factivity`,
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      status: {},
      authenticationInfo: { principalEmail: 'e2e@example.com' },
      serviceName: 'iam.googleapis.com',
      ...payload,
    },
    resource: {
      type: 'service_account',
      labels: { project_id: link.project, unique_id: uniqueId, email_id: link.gsa },
    },
    timestamp,
    severity: 'NOTICE',
    receiveTimestamp: timestamp,
  };
}

/**
 * Entries of the repository's fixtures that wi-sentinel ignores (Data Access reads, container
 * logs, token requests…): unrelated traffic. `unrelated(n)` gives each a fresh insertId.
 */
export function unrelatedEntries(): (insertId: string) => Json {
  const dir = join(FIXTURES, 'events');
  const pool = readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json)
    .filter((entry) => {
      const analysis = analyze(entry);
      // A failed operation's last entry consults the store: not unrelated traffic.
      return analysis.outcome === 'ignored' && !analysis.delivery.entry.operation?.last;
    });
  if (pool.length === 0) throw new Error(`no ignored entries in ${dir}`);
  let n = 0;
  return (insertId) => ({ ...(pool[n++ % pool.length] as Json), insertId });
}

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
