import { clusterUnread, gsaUnread } from '../chain/snapshot-facts.ts';
import { LookupError } from '../errors.ts';
import type { GkeCluster, GsaInfo, LiveState } from '../gcp/ports.ts';
import { findCluster, findProject } from '../inventory/impact.ts';
import type { Snapshot, SnapshotCluster, SnapshotGsa, SnapshotProject } from '../inventory/snapshot.ts';

/**
 * The live-state ports answered from a Snapshot (WI_SNAPSHOT, replay, `--snapshot`, tests): the same
 * interfaces as the Google and Kubernetes adapters, so verification, impact and diagnose run
 * unchanged on a simulated organization. `current` is read on every call: the snapshot evolves as
 * events are applied to it. Missing objects answer as the APIs do: `undefined`, or a 404 LookupError.
 * What the snapshot does not know answers as a read that failed, never as absent: the Kubernetes
 * objects of a cluster an export left `incomplete`, a GSA left incomplete or of a project it does
 * not cover (the chain's snapshot facts take them so too: shared/chain/snapshot-facts.ts).
 */
export function snapshotState(current: () => Snapshot | undefined): LiveState {
  const clusterOf = (cluster: GkeCluster): SnapshotCluster => {
    const found = findCluster(current(), cluster.project, cluster);
    if (found === undefined) {
      throw notFound('kubernetes', `cluster ${cluster.project}/${cluster.location}/${cluster.name}`);
    }
    const unread = clusterUnread(cluster.project, found);
    if (unread !== undefined) throw new LookupError(unread, { api: 'kubernetes', retryable: false });
    return found;
  };
  const gsaOf = (email: string): { project: SnapshotProject; gsa: SnapshotGsa } | undefined => {
    const snapshot = current();
    const unread = snapshot && gsaUnread(snapshot, email);
    if (unread) throw new LookupError(unread, { api: 'iam', retryable: false });
    for (const project of snapshot?.projects ?? []) {
      const gsa = project.serviceAccounts.find((candidate) => candidate.email === email);
      if (gsa && !gsa.deleted) return { project, gsa };
    }
    return undefined;
  };
  return {
    gke: {
      async listClusters(project) {
        const found = findProject(current(), project);
        return (found?.clusters ?? []).map((cluster) => toGkeCluster(project, cluster));
      },
      async getCluster(key) {
        const cluster = findCluster(current(), key.project, key);
        return cluster ? toGkeCluster(key.project, cluster) : undefined;
      },
    },
    iam: {
      async getServiceAccount(email) {
        const found = gsaOf(email);
        return found ? toGsaInfo(found.project.projectId, found.gsa) : undefined;
      },
      async getServiceAccountPolicy(email) {
        const found = gsaOf(email);
        if (found === undefined) throw notFound('iam', `service account ${email}`);
        return found.gsa.iamPolicy;
      },
      async listServiceAccounts(project) {
        const found = findProject(current(), project);
        return (found?.serviceAccounts ?? [])
          .filter((gsa) => !gsa.deleted)
          .map((gsa) => toGsaInfo(project, gsa));
      },
      async getProjectPolicy(project) {
        const found = findProject(current(), project);
        if (found === undefined) throw notFound('cloudresourcemanager', `project ${project}`);
        return found.iamPolicy ?? { bindings: [] };
      },
    },
    kube: {
      async listServiceAccounts(cluster, namespace) {
        return clusterOf(cluster).serviceAccounts.filter(
          (ksa) => namespace === undefined || ksa.namespace === namespace,
        );
      },
      async getServiceAccount(cluster, namespace, name) {
        return clusterOf(cluster).serviceAccounts.find(
          (ksa) => ksa.namespace === namespace && ksa.name === name,
        );
      },
      async listPods(cluster, filter = {}) {
        return clusterOf(cluster).pods.filter(
          (pod) =>
            (filter.namespace === undefined || pod.namespace === filter.namespace) &&
            (filter.serviceAccountName === undefined || pod.serviceAccountName === filter.serviceAccountName),
        );
      },
      async listNetworkPolicies(cluster, namespace) {
        return clusterOf(cluster).networkPolicies.filter(
          (policy) => namespace === undefined || policy.metadata?.namespace === namespace,
        );
      },
      async listNamespaces(cluster) {
        const found = clusterOf(cluster);
        if (found.namespaces) return found.namespaces;
        // Kubernetes labels every namespace with its own name; a snapshot without namespaces has only those.
        const names = new Set([
          ...found.serviceAccounts.map((ksa) => ksa.namespace),
          ...found.pods.map((pod) => pod.namespace),
        ]);
        return [...names].map((name) => ({ name, labels: { 'kubernetes.io/metadata.name': name } }));
      },
    },
  };
}

function toGkeCluster(project: string, cluster: SnapshotCluster): GkeCluster {
  return {
    project,
    location: cluster.location,
    name: cluster.name,
    ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
    nodePools: cluster.nodePools,
    status: 'RUNNING',
  };
}

function toGsaInfo(project: string, gsa: SnapshotGsa): GsaInfo {
  return {
    email: gsa.email,
    ...(gsa.uniqueId ? { uniqueId: gsa.uniqueId } : {}),
    disabled: gsa.disabled,
    project,
  };
}

function notFound(api: string, what: string): LookupError {
  return new LookupError(`${what} not found`, { api, status: 404, retryable: false });
}
