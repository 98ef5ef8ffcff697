import type { BindingDelta, ChangeEvent } from '../events/change-event.ts';
import type { IamPolicy, Snapshot, SnapshotCluster, SnapshotProject } from './snapshot.ts';
import { WI_ANNOTATION } from './snapshot.ts';

/**
 * Applies a change to the inventory, as live APIs would show it afterwards: how `replay` and a
 * WI_SNAPSHOT deployment keep their simulated organization in step with the events they process.
 * Pure: returns a new Snapshot and leaves the given one untouched.
 */
export function applyChange(snapshot: Snapshot, event: ChangeEvent): Snapshot {
  const next = structuredClone(snapshot);
  const project = next.projects.find((p) => p.projectId === event.project);
  if (project === undefined) return next;
  switch (event.type) {
    case 'gsa-policy': {
      const gsa = project.serviceAccounts.find((g) => g.email === event.gsa);
      if (gsa)
        gsa.iamPolicy = event.policy
          ? structuredClone(event.policy)
          : applyDeltas(gsa.iamPolicy, event.deltas);
      break;
    }
    case 'project-policy':
      project.iamPolicy = applyDeltas(project.iamPolicy ?? { bindings: [] }, event.deltas);
      break;
    case 'gsa-lifecycle':
      applyGsaLifecycle(project, event.action, event.gsa, event.gsaUniqueId);
      break;
    case 'nodepool': {
      const cluster = clusterOf(project, event.cluster);
      if (cluster === undefined) break;
      const pool = cluster.nodePools.find((p) => p.name === event.nodePool);
      if (event.action === 'delete') {
        cluster.nodePools = cluster.nodePools.filter((p) => p.name !== event.nodePool);
      } else if (event.metadataServer !== undefined) {
        const mode = event.metadataServer ? 'GKE_METADATA' : 'GCE_METADATA';
        if (pool) pool.workloadMetadataMode = mode;
        else cluster.nodePools.push({ name: event.nodePool, workloadMetadataMode: mode });
      } else if (event.action === 'create' && pool === undefined && event.source.operation?.last !== true) {
        // No setting: the pool inherits the cluster's (GKE_METADATA in a WI cluster).
        cluster.nodePools.push({
          name: event.nodePool,
          ...(cluster.workloadPool ? { workloadMetadataMode: 'GKE_METADATA' } : {}),
        });
      }
      break;
    }
    case 'cluster': {
      const cluster = clusterOf(project, event.cluster);
      if (event.action === 'delete') {
        project.clusters = project.clusters.filter((c) => c !== cluster);
      } else if (event.action === 'create' && cluster === undefined && event.workloadPool !== undefined) {
        project.clusters.push({
          name: event.cluster.name,
          location: event.cluster.location,
          ...(event.workloadPool ? { workloadPool: event.workloadPool } : {}),
          nodePools: (event.nodePools ?? []).map((p) => ({
            name: p.name,
            ...(p.metadataServer === undefined
              ? {}
              : { workloadMetadataMode: p.metadataServer ? 'GKE_METADATA' : 'GCE_METADATA' }),
          })),
          serviceAccounts: [],
          pods: [],
          networkPolicies: [],
        });
      } else if (cluster && event.workloadPool !== undefined) {
        if (event.workloadPool) cluster.workloadPool = event.workloadPool;
        else delete cluster.workloadPool;
      }
      break;
    }
    case 'k8s-serviceaccount': {
      const cluster = clusterOf(project, event.cluster);
      if (cluster === undefined) break;
      const others = cluster.serviceAccounts.filter(
        (k) => !(k.namespace === event.namespace && k.name === event.name),
      );
      const known = cluster.serviceAccounts.find(
        (k) => k.namespace === event.namespace && k.name === event.name,
      );
      if (event.action === 'delete') {
        cluster.serviceAccounts = others;
        break;
      }
      let annotations = event.annotations ?? { ...(known?.annotations ?? {}) };
      if (event.annotations === undefined && event.requestedGsa !== undefined) {
        const { [WI_ANNOTATION]: _, ...rest } = annotations;
        annotations = event.requestedGsa === null ? rest : { ...rest, [WI_ANNOTATION]: event.requestedGsa };
      }
      cluster.serviceAccounts = [...others, { namespace: event.namespace, name: event.name, annotations }];
      break;
    }
    case 'k8s-networkpolicy': {
      const cluster = clusterOf(project, event.cluster);
      if (cluster === undefined) break;
      const others = cluster.networkPolicies.filter(
        (p) =>
          !(p.metadata.name === event.name && (p.metadata.namespace ?? event.namespace) === event.namespace),
      );
      cluster.networkPolicies = event.policy ? [...others, structuredClone(event.policy)] : others;
      break;
    }
  }
  return next;
}

function clusterOf(
  project: SnapshotProject,
  ref: { location: string; name: string },
): SnapshotCluster | undefined {
  return project.clusters.find((c) => c.name === ref.name && c.location === ref.location);
}

function applyGsaLifecycle(project: SnapshotProject, action: string, email?: string, uniqueId?: string) {
  const gsa = project.serviceAccounts.find(
    (g) => (email && g.email === email) || (uniqueId && g.uniqueId === uniqueId),
  );
  switch (action) {
    case 'delete':
      if (gsa) gsa.deleted = true;
      break;
    case 'undelete':
      if (gsa) gsa.deleted = false;
      break;
    case 'disable':
      if (gsa) gsa.disabled = true;
      break;
    case 'enable':
      if (gsa) gsa.disabled = false;
      break;
    case 'create':
      if (gsa) {
        // A GSA recreated under the same email is a new principal: the old bindings do not apply.
        gsa.deleted = false;
        gsa.iamPolicy = { bindings: [] };
        if (uniqueId) gsa.uniqueId = uniqueId;
      } else if (email) {
        project.serviceAccounts.push({
          email,
          ...(uniqueId ? { uniqueId } : {}),
          disabled: false,
          iamPolicy: { bindings: [] },
        });
      }
      break;
  }
}

export function applyDeltas(policy: IamPolicy, deltas: readonly BindingDelta[]): IamPolicy {
  const bindings = policy.bindings.map((b) => ({ ...b, members: [...b.members] }));
  for (const delta of deltas) {
    let binding = bindings.find((b) => b.role === delta.role && b.condition === undefined);
    if (delta.action === 'ADD') {
      if (binding === undefined) {
        binding = { role: delta.role, members: [] };
        bindings.push(binding);
      }
      if (!binding.members.includes(delta.member)) binding.members.push(delta.member);
    } else if (binding) {
      binding.members = binding.members.filter((m) => m !== delta.member);
    }
  }
  return { ...policy, bindings: bindings.filter((b) => b.members.length > 0) };
}
