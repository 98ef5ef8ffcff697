import { LookupError } from '../errors.ts';
import type { NetworkPolicy } from '../inventory/network-policy-schema.ts';
import type { IamPolicy, SnapshotKsa, SnapshotNodePool, SnapshotPod } from '../inventory/snapshot.ts';

/**
 * The narrow ports through which wi-sentinel reads live state. Two implementations of each: the
 * adapters in this folder (Google and Kubernetes APIs, client libraries loaded on first use) and the
 * snapshot-backed ones (WI_SNAPSHOT, replay, tests). Everything above this folder (verification,
 * impact, diagnose, the sweep) sees only these interfaces, and shapes from the Snapshot contract.
 */

export interface ClusterKey {
  project: string;
  location: string;
  name: string;
}

/** `PROJECT/LOCATION/NAME`: how a cluster is named in messages, commands and cache keys. */
export function clusterPath(cluster: ClusterKey): string {
  return `${cluster.project}/${cluster.location}/${cluster.name}`;
}

/** A GKE cluster as the container API describes it: Workload Identity, pools, how to reach it. */
export interface GkeCluster extends ClusterKey {
  /** Absent or empty: Workload Identity is off for the cluster. */
  workloadPool?: string;
  nodePools: SnapshotNodePool[];
  /** Where the Kubernetes API answers: the DNS-based endpoint when the cluster has one, else the IP. */
  endpoint?: string;
  /** Base64 PEM of the cluster CA (absent for DNS endpoints, which use public CAs). */
  caCertificate?: string;
  /** RUNNING, RECONCILING, PROVISIONING, STOPPING, ERROR, DEGRADED. */
  status?: string;
}

export interface GkePort {
  /**
   * Every cluster of the project, across all locations (`locations/-`), with its node pools. When
   * GKE could not answer for some zones, rejects with an IncompleteClusterListError (retryable)
   * that carries the clusters it did return: a partial list is never passed off as the whole.
   */
  listClusters(project: string): Promise<GkeCluster[]>;
  /** One cluster; `undefined` when it does not exist (404). */
  getCluster(key: ClusterKey): Promise<GkeCluster | undefined>;
}

/** GKE listed the project's clusters but not those of `missingZones` (its `missingZones` field). */
export class IncompleteClusterListError extends LookupError {
  readonly clusters: GkeCluster[];
  readonly missingZones: string[];
  constructor(project: string, clusters: GkeCluster[], missingZones: string[]) {
    super(`clusters of project ${project}: GKE did not answer for zones ${missingZones.join(', ')}`, {
      api: 'container',
      retryable: true,
    });
    this.clusters = clusters;
    this.missingZones = missingZones;
  }
}

/** A Google service account as IAM describes it. */
export interface GsaInfo {
  email: string;
  uniqueId?: string;
  disabled: boolean;
  project: string;
}

export interface IamPort {
  /** `undefined` when the service account does not exist (404). */
  getServiceAccount(email: string): Promise<GsaInfo | undefined>;
  /** The policy on the service account (who may act as it); a 404 LookupError when it does not exist. */
  getServiceAccountPolicy(email: string): Promise<IamPolicy>;
  listServiceAccounts(project: string): Promise<GsaInfo[]>;
  /** The project's own IAM policy (least-privilege checks). */
  getProjectPolicy(project: string): Promise<IamPolicy>;
}

/** Kubernetes reads of one cluster. Pods come with their node pool resolved from their node. */
export interface KubePort {
  listServiceAccounts(cluster: GkeCluster, namespace?: string): Promise<SnapshotKsa[]>;
  /** `undefined` when the KSA does not exist (404). */
  getServiceAccount(cluster: GkeCluster, namespace: string, name: string): Promise<SnapshotKsa | undefined>;
  /** Running pods (optionally of one namespace, or of one KSA); env var names only, never values. */
  listPods(
    cluster: GkeCluster,
    filter?: { namespace?: string; serviceAccountName?: string },
  ): Promise<SnapshotPod[]>;
  listNetworkPolicies(cluster: GkeCluster, namespace?: string): Promise<NetworkPolicy[]>;
  listNamespaces(cluster: GkeCluster): Promise<{ name: string; labels: Record<string, string> }[]>;
}

/**
 * What Cloud Asset Inventory's search index holds of a scope (`organizations/N`, `folders/N`,
 * `projects/P`): a few paged searches over a whole organization, where direct reads take one call
 * per GSA. Its data lags live state by minutes (see shared/live/asset-export.ts): callers that
 * resolve on it must know how old each record is.
 * https://cloud.google.com/asset-inventory/docs/reference/rest/v1/TopLevel/searchAllResources
 */
export interface AssetPort {
  /** Every resource of these asset types in the scope, with its resource as its own API gives it. */
  searchResources(scope: string, assetTypes: readonly string[]): Promise<AssetResource[]>;
  /** Every IAM policy set on a resource of these types in the scope, whole (no query narrows it). */
  searchPolicies(scope: string, assetTypes: readonly string[]): Promise<AssetPolicy[]>;
}

export interface AssetResource {
  /** The full resource name: `//container.googleapis.com/projects/P/locations/L/clusters/C`. */
  name: string;
  assetType: string;
  /** `projects/NUMBER`, when the resource belongs to a project. */
  project?: string;
  /** When the resource last changed, as far as the index knows (RFC 3339). */
  updateTime?: string;
  state?: string;
  /** The resource in its API's own JSON (versionedResources; v1 when several are given). */
  resource?: Record<string, unknown>;
}

export interface AssetPolicy {
  /** The full name of the resource the policy is set on. */
  resource: string;
  assetType: string;
  /** `projects/NUMBER`, when the resource belongs to a project. */
  project?: string;
  policy: IamPolicy;
}

/** Resource Manager: the projects below an organization or folder, for direct reads of a scope. */
export interface ProjectsPort {
  /** Project ids of every active project below `organizations/N` or `folders/N`, at any depth. */
  projectsUnder(parent: string): Promise<string[]>;
}

/** Everything live state is read through. */
export interface LiveState {
  gke: GkePort;
  iam: IamPort;
  kube: KubePort;
  /** The same reads without a cache (live.ts cachedLiveState): what "check again now" must see. */
  uncached?: () => LiveState;
}
