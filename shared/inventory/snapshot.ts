import { z } from 'zod';
import { networkPolicySchema } from './network-policy-schema.ts';

/** The Snapshot contract (architecture.md): the organization's inventory, simulated or exported live. */

export const WI_ANNOTATION = 'iam.gke.io/gcp-service-account';
export const WI_USER_ROLE = 'roles/iam.workloadIdentityUser';
/** Set in a pod, Google's libraries take their credentials from that key file, not from Workload Identity. */
export const KEY_FILE_VARIABLE = 'GOOGLE_APPLICATION_CREDENTIALS';

const bindingSchema = z.looseObject({
  role: z.string(),
  members: z.array(z.string()).default([]),
  condition: z.unknown().optional(),
});

export const iamPolicySchema = z.looseObject({
  bindings: z.array(bindingSchema).default([]),
  etag: z.string().optional(),
  version: z.number().optional(),
});

const nodePoolSchema = z.looseObject({
  name: z.string().min(1),
  /** GKE_METADATA, GCE_METADATA, or absent (unset). */
  workloadMetadataMode: z.string().optional(),
});

const kubernetesServiceAccountSchema = z.looseObject({
  namespace: z.string().min(1),
  name: z.string().min(1),
  annotations: z.record(z.string(), z.string()).default({}),
});

const podSchema = z.looseObject({
  namespace: z.string().min(1),
  name: z.string().min(1),
  labels: z.record(z.string(), z.string()).default({}),
  serviceAccountName: z.string().default('default'),
  nodePool: z.string().optional(),
  owner: z.looseObject({ kind: z.string(), name: z.string() }).optional(),
  /** Names of environment variables only, never values. */
  env: z.array(z.string()).default([]),
});

const clusterSchema = z.looseObject({
  name: z.string().min(1),
  location: z.string().min(1),
  /** Absent or empty: Workload Identity is off for the cluster. */
  workloadPool: z.string().optional(),
  nodePools: z.array(nodePoolSchema).default([]),
  serviceAccounts: z.array(kubernetesServiceAccountSchema).default([]),
  pods: z.array(podSchema).default([]),
  networkPolicies: z.array(networkPolicySchema).default([]),
  /** Namespace labels, for NetworkPolicy namespaceSelectors (extension; absent means unknown). */
  namespaces: z
    .array(z.looseObject({ name: z.string(), labels: z.record(z.string(), z.string()).default({}) }))
    .optional(),
});

const googleServiceAccountSchema = z.looseObject({
  email: z.string().min(1),
  uniqueId: z.string().optional(),
  disabled: z.boolean().default(false),
  /** Deleted but still within the 30-day undelete window (extension; kept for impact mapping). */
  deleted: z.boolean().optional(),
  iamPolicy: iamPolicySchema.default({ bindings: [] }),
});

const projectSchema = z.looseObject({
  projectId: z.string().min(1),
  projectNumber: z.string().optional(),
  clusters: z.array(clusterSchema).default([]),
  serviceAccounts: z.array(googleServiceAccountSchema).default([]),
  /** The project's own IAM policy (extension), for least-privilege checks. */
  iamPolicy: iamPolicySchema.optional(),
});

export const snapshotSchema = z.looseObject({
  projects: z.array(projectSchema),
});

export type Snapshot = z.infer<typeof snapshotSchema>;
export type SnapshotProject = Snapshot['projects'][number];
export type SnapshotCluster = SnapshotProject['clusters'][number];
export type SnapshotNodePool = SnapshotCluster['nodePools'][number];
export type SnapshotKsa = SnapshotCluster['serviceAccounts'][number];
export type SnapshotPod = SnapshotCluster['pods'][number];
export type SnapshotGsa = SnapshotProject['serviceAccounts'][number];
export type IamPolicy = z.infer<typeof iamPolicySchema>;
export type IamBinding = IamPolicy['bindings'][number];

export type SnapshotResult = { ok: true; snapshot: Snapshot } | { ok: false; error: string };

/** Validates a parsed Snapshot; errors name the path of each bad field. */
export function parseSnapshot(value: unknown): SnapshotResult {
  const result = snapshotSchema.safeParse(value);
  if (result.success) return { ok: true, snapshot: result.data };
  return { ok: false, error: formatIssues(result.error.issues) };
}

export function formatIssues(issues: readonly z.core.$ZodIssue[], max = 5): string {
  const shown = issues.slice(0, max).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
  const more = issues.length > max ? `; and ${issues.length - max} more` : '';
  return `${shown.join('; ')}${more}`;
}
