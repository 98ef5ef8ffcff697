import type { ClusterRef, Remediation, WorkloadRef } from '../domain/finding.ts';
import { projectOfEmail } from '../inventory/members.ts';
import { METADATA_IP, METADATA_PORTS } from '../inventory/network-policy.ts';
import { KEY_FILE_VARIABLE } from '../inventory/snapshot.ts';

/** Repair commands with the real names filled in (never a placeholder). */

export function getCredentials(project: string, cluster: ClusterRef): Remediation {
  return {
    title: `Point kubectl at ${cluster.name}`,
    command: `gcloud container clusters get-credentials ${cluster.name} --location ${cluster.location} --project ${project}`,
  };
}

export function addBinding(gsa: string, member: string): Remediation {
  return {
    title: 'Restore the Workload Identity binding',
    command: `gcloud iam service-accounts add-iam-policy-binding ${gsa} --role roles/iam.workloadIdentityUser --member "${member}"`,
  };
}

export function showPolicy(gsa: string): Remediation {
  return { title: 'Check the policy', command: `gcloud iam service-accounts get-iam-policy ${gsa}` };
}

export function poolBackToGkeMetadata(project: string, cluster: ClusterRef, pool: string): Remediation {
  return {
    title: `Put ${pool} back on the GKE metadata server`,
    command: `gcloud container node-pools update ${pool} --cluster ${cluster.name} --location ${cluster.location} --project ${project} --workload-metadata=GKE_METADATA`,
  };
}

export function enableClusterWi(project: string, cluster: ClusterRef, workloadPool: string): Remediation {
  return {
    title: `Rejoin ${cluster.name} to ${workloadPool}`,
    command: `gcloud container clusters update ${cluster.name} --location ${cluster.location} --project ${project} --workload-pool=${workloadPool}`,
  };
}

export function annotate(namespace: string, ksa: string, gsa: string): Remediation {
  return {
    title: 'Restore the annotation',
    command: `kubectl annotate serviceaccount ${ksa} -n ${namespace} iam.gke.io/gcp-service-account=${gsa} --overwrite`,
  };
}

/**
 * Remove GOOGLE_APPLICATION_CREDENTIALS from what runs the pods: `kubectl set env` edits a pod
 * template; a bare Pod's spec cannot change, so it is recreated without the variable.
 */
export function unsetKeyFile(workload: Pick<WorkloadRef, 'kind' | 'name' | 'namespace'>): Remediation {
  if (workload.kind === 'Pod') {
    return {
      title: `Recreate Pod ${workload.namespace}/${workload.name} without ${KEY_FILE_VARIABLE}`,
      command: `kubectl get pod ${workload.name} -n ${workload.namespace} -o yaml > ${workload.name}.yaml  # delete the ${KEY_FILE_VARIABLE} entry, then: kubectl replace --force -f ${workload.name}.yaml`,
    };
  }
  return {
    title: `Stop overriding Workload Identity in ${workload.kind} ${workload.name}`,
    command: `kubectl set env ${workload.kind.toLowerCase()}/${workload.name} -n ${workload.namespace} ${KEY_FILE_VARIABLE}-`,
  };
}

/** Pods read the annotation when they start: restart what runs as the KSA. */
export function restartWorkloads(workloads: readonly WorkloadRef[]): Remediation[] {
  const restartable = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);
  const seen = new Set<string>();
  const out: Remediation[] = [];
  for (const workload of workloads) {
    if (!restartable.has(workload.kind)) continue;
    const ref = `${workload.kind.toLowerCase()}/${workload.name} -n ${workload.namespace}`;
    if (seen.has(ref)) continue;
    seen.add(ref);
    out.push({
      title: `Restart ${workload.kind} ${workload.namespace}/${workload.name}`,
      command: `kubectl rollout restart ${ref}`,
    });
  }
  return out;
}

export function undeleteGsa(project: string, uniqueId: string): Remediation {
  return {
    title: 'Undelete the service account (possible within 30 days of deletion)',
    command: `gcloud iam service-accounts undelete ${uniqueId} --project ${project}`,
  };
}

/** The account id is the email's local part; the project is the email's own when it names one. */
export function recreateGsa(project: string, gsa: string): Remediation {
  const [accountId = gsa] = gsa.split('@');
  const owner = projectOfEmail(gsa) ?? project;
  return {
    title: 'Recreate the service account (a new principal: grant its roles and bindings again)',
    command: `gcloud iam service-accounts create ${accountId} --project ${owner}`,
  };
}

export function enableGsa(gsa: string): Remediation {
  return { title: 'Enable the service account', command: `gcloud iam service-accounts enable ${gsa}` };
}

/** A NetworkPolicy that only adds: egress to the metadata server for every pod of the namespace. */
export function metadataEgressManifest(namespace: string): string {
  return [
    'apiVersion: networking.k8s.io/v1',
    'kind: NetworkPolicy',
    'metadata:',
    '  name: allow-gke-metadata-server',
    `  namespace: ${namespace}`,
    'spec:',
    '  podSelector: {}',
    '  policyTypes: ["Egress"]',
    '  egress:',
    '  - to:',
    '    - ipBlock:',
    `        cidr: ${METADATA_IP}/32`,
    '    ports:',
    ...METADATA_PORTS.flatMap((port) => ['    - protocol: TCP', `      port: ${port}`]),
  ].join('\n');
}

export function allowMetadataEgress(namespace: string): Remediation {
  return {
    title: 'Allow egress to the GKE metadata server (169.254.169.254, TCP 80 and 988)',
    command: `kubectl apply -f - <<'EOF'\n${metadataEgressManifest(namespace)}\nEOF`,
  };
}

export function removeProjectRole(resource: string, member: string, role: string): Remediation {
  const [type, id] = resource.split('/');
  const group =
    type === 'organizations' ? 'organizations' : type === 'folders' ? 'resource-manager folders' : 'projects';
  return {
    title: `Remove ${role} from the Workload Identity service account`,
    command: `gcloud ${group} remove-iam-policy-binding ${id} --member "${member}" --role ${role}`,
  };
}
