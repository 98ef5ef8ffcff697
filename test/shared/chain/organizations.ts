import fc from 'fast-check';
import type { NetworkPolicy } from '../../../shared/inventory/network-policy-schema.ts';
import {
  KEY_FILE_VARIABLE,
  parseSnapshot,
  type Snapshot,
  WI_ANNOTATION,
  WI_USER_ROLE,
} from '../../../shared/inventory/snapshot.ts';
import { ALLOW_METADATA, DENY_EGRESS } from '../detect/cases/events.ts';

/**
 * Generated organizations for the differential property test: small ones, built from a few names so
 * that the cases collide (a KSA bound in one form and annotated in another, a pod on a pool switched
 * off, a namespace's policies adding up). Every Kubernetes name comes from NAMESPACES × KSAS, so a
 * test can ask about every KSA slot of every cluster, whether the KSA exists or only its pods do.
 *
 * What the generator leaves out, and why (the chain's two gatherers see differently there):
 * - a GSA's policy names only its own project's workload pool, and a project grants roles only to its
 *   own pool's workloads: a live `diagnose` searches the KSA's own project, the inventory all of them;
 * - a cluster read in part holds no Kubernetes object, as an export whose Kubernetes reads all failed.
 */

export const PROJECTS = ['tern-one', 'tern-two'] as const;
export const NAMESPACES = ['shop', 'jobs'] as const;
export const KSAS = ['api', 'worker', 'cron'] as const;
const POOL_NAMES = ['general', 'spot', 'highmem'] as const;
const LOCATIONS = ['europe-west4', 'us-east1-b'] as const;
const MODES = ['GKE_METADATA', 'GCE_METADATA', 'EXPOSE', undefined] as const;

const poolOf = (project: string) => `${project}.svc.id.goog`;
const numberOf = (project: string) => String(100_000 + PROJECTS.indexOf(project as never));
const gsaEmail = (name: string, project: string) => `${name}@${project}.iam.gserviceaccount.com`;

type Form = 'classic' | 'principal' | 'principalSet';

function member(form: Form, project: string, namespace: string, ksa: string): string {
  const base = `iam.googleapis.com/projects/${numberOf(project)}/locations/global/workloadIdentityPools/${poolOf(project)}`;
  if (form === 'classic') return `serviceAccount:${poolOf(project)}[${namespace}/${ksa}]`;
  if (form === 'principal') return `principal://${base}/subject/ns/${namespace}/sa/${ksa}`;
  return `principalSet://${base}/namespace/${namespace}`;
}

const subject = fc.record({
  form: fc.constantFrom<Form>('classic', 'principal', 'principalSet'),
  namespace: fc.constantFrom(...NAMESPACES),
  ksa: fc.constantFrom(...KSAS),
});

/** The NetworkPolicies a namespace may hold, by what they do to the metadata server. */
const POLICIES: Record<string, NetworkPolicy['spec']> = {
  'deny-egress': DENY_EGRESS,
  'deny-web-egress': { podSelector: { matchLabels: { tier: 'web' } }, policyTypes: ['Egress'] },
  'allow-metadata': ALLOW_METADATA,
  'allow-metadata-80': {
    podSelector: { matchLabels: { tier: 'web' } },
    policyTypes: ['Egress'],
    egress: [{ to: [{ ipBlock: { cidr: '169.254.169.254/32' } }], ports: [{ protocol: 'TCP', port: 80 }] }],
  },
  'allow-https': {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ ports: [{ protocol: 'TCP', port: 443 }] }],
  },
  'ingress-only': { podSelector: {}, policyTypes: ['Ingress'] },
};

/** What a KSA slot's annotation names: nothing, an empty value, or a GSA that may or may not exist. */
const annotation = fc.option(
  fc.constantFrom(
    gsaEmail('g1', PROJECTS[0]),
    gsaEmail('g2', PROJECTS[0]),
    gsaEmail('g1', PROJECTS[1]),
    gsaEmail('gone', PROJECTS[0]),
    gsaEmail('far', 'tern-elsewhere'),
    '',
  ),
  { nil: undefined },
);

const pod = fc.record({
  pool: fc.option(fc.nat({ max: POOL_NAMES.length - 1 }), { nil: undefined }),
  keyFile: fc.boolean(),
  web: fc.boolean(),
});

const slot = fc.record({
  exists: fc.boolean(),
  annotation,
  pods: fc.array(pod, { maxLength: 2 }),
});

const cluster = fc.record({
  location: fc.constantFrom(...LOCATIONS),
  wi: fc.boolean(),
  /** Rare, as exports left partial are: shrinks to false. */
  incomplete: fc.constantFrom(false, false, false, false, true),
  modes: fc.array(fc.constantFrom(...MODES), { minLength: 1, maxLength: POOL_NAMES.length }),
  /** Slots by NAMESPACES × KSAS, in that order. */
  slots: fc.array(slot, {
    minLength: NAMESPACES.length * KSAS.length,
    maxLength: NAMESPACES.length * KSAS.length,
  }),
  policies: fc.array(fc.subarray(Object.keys(POLICIES), { maxLength: 2 }), {
    minLength: NAMESPACES.length,
    maxLength: NAMESPACES.length,
  }),
});

const gsa = fc.record({
  name: fc.constantFrom('g1', 'g2', 'g3'),
  disabled: fc.constantFrom(false, false, true),
  deleted: fc.constantFrom(false, false, false, true),
  incomplete: fc.constantFrom(false, false, false, false, false, true),
  bound: fc.array(subject, { maxLength: 6 }),
  /** Members under another role: never a workloadIdentityUser binding. */
  other: fc.array(subject, { maxLength: 1 }),
});

const grant = fc.record({
  role: fc.constantFrom('roles/storage.objectViewer', 'roles/pubsub.subscriber'),
  to: subject,
});

const project = fc.record({
  clusters: fc.array(cluster, { minLength: 1, maxLength: 2 }),
  gsas: fc.uniqueArray(gsa, { maxLength: 3, selector: (g) => g.name }),
  grants: fc.option(fc.array(grant, { maxLength: 2 }), { nil: undefined }),
});

/** An organization of one or two projects, as a validated Snapshot. */
export const organization: fc.Arbitrary<Snapshot> = fc
  .array(project, { minLength: 1, maxLength: PROJECTS.length })
  .map((projects) => build(projects));

type ProjectSpec = typeof project extends fc.Arbitrary<infer T> ? T : never;

function build(projects: ProjectSpec[]): Snapshot {
  const raw = {
    projects: projects.map((spec, p) => {
      const projectId = PROJECTS[p] as string;
      return {
        projectId,
        projectNumber: numberOf(projectId),
        clusters: spec.clusters.map((c, i) => buildCluster(projectId, i, c)),
        serviceAccounts: spec.gsas.map((g) => ({
          email: gsaEmail(g.name, projectId),
          uniqueId: `${numberOf(projectId)}${g.name}`,
          disabled: g.disabled,
          ...(g.deleted ? { deleted: true } : {}),
          // An export that could not read the policy keeps an empty one and says so.
          ...(g.incomplete ? { incomplete: 'IAM policy: 503 unavailable' } : {}),
          iamPolicy: {
            bindings: g.incomplete
              ? []
              : [
                  {
                    role: WI_USER_ROLE,
                    members: g.bound.map((s) => member(s.form, projectId, s.namespace, s.ksa)),
                  },
                  {
                    role: 'roles/iam.serviceAccountTokenCreator',
                    members: g.other.map((s) => member(s.form, projectId, s.namespace, s.ksa)),
                  },
                ],
          },
        })),
        ...(spec.grants
          ? {
              iamPolicy: {
                bindings: spec.grants.map((g) => ({
                  role: g.role,
                  members: [member(g.to.form, projectId, g.to.namespace, g.to.ksa)],
                })),
              },
            }
          : {}),
      };
    }),
  };
  const parsed = parseSnapshot(raw);
  if (!parsed.ok) throw new Error(`generated an invalid snapshot: ${parsed.error}`);
  return parsed.snapshot;
}

type ClusterSpec = typeof cluster extends fc.Arbitrary<infer T> ? T : never;

function buildCluster(projectId: string, index: number, spec: ClusterSpec) {
  const pools = spec.modes.map((mode, i) => ({
    name: POOL_NAMES[i] as string,
    ...(mode ? { workloadMetadataMode: mode } : {}),
  }));
  const serviceAccounts = [];
  const pods = [];
  for (const [n, namespace] of NAMESPACES.entries()) {
    for (const [k, ksa] of KSAS.entries()) {
      const s = spec.slots[n * KSAS.length + k];
      if (s === undefined) continue;
      if (s.exists) {
        serviceAccounts.push({
          namespace,
          name: ksa,
          annotations: s.annotation === undefined ? {} : { [WI_ANNOTATION]: s.annotation },
        });
      }
      for (const [i, p] of s.pods.entries()) {
        const pool = p.pool === undefined ? undefined : pools[p.pool % pools.length]?.name;
        pods.push({
          namespace,
          name: `${ksa}-${i}`,
          labels: { app: ksa, tier: p.web ? 'web' : 'batch' },
          serviceAccountName: ksa,
          ...(pool ? { nodePool: pool } : {}),
          owner: { kind: 'Deployment', name: ksa },
          env: p.keyFile ? ['PORT', KEY_FILE_VARIABLE] : ['PORT'],
        });
      }
    }
  }
  const networkPolicies = NAMESPACES.flatMap((namespace, n) =>
    (spec.policies[n] ?? []).map((name) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name, namespace },
      spec: POLICIES[name],
    })),
  );
  return {
    name: `c${index + 1}`,
    location: spec.location,
    ...(spec.wi ? { workloadPool: poolOf(projectId) } : {}),
    nodePools: pools,
    // A cluster whose Kubernetes API did not answer: the export holds none of its objects.
    ...(spec.incomplete
      ? {
          serviceAccounts: [],
          pods: [],
          networkPolicies: [],
          incomplete:
            'service accounts: 503 unavailable; pods: 503 unavailable; NetworkPolicies: 503 unavailable',
        }
      : { serviceAccounts, pods, networkPolicies }),
  };
}
