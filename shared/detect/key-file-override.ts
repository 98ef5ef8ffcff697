import { setsKeyFile } from '../chain/judge.ts';
import { getCredentials, unsetKeyFile } from '../chain/remediation.ts';
import type { Finding, WorkloadRef } from '../domain/finding.ts';
import { usesWorkloadIdentity, workloadsOf } from '../inventory/impact.ts';
import { KEY_FILE_VARIABLE } from '../inventory/snapshot.ts';
import { makeFinding } from './build.ts';
import type { Detector } from './detector.ts';
import { FOUND_BY_SWEEP } from './scan-support.ts';

/**
 * A pod whose KSA uses Workload Identity sets GOOGLE_APPLICATION_CREDENTIALS: Google's client
 * libraries read the key file first, so WI is silently bypassed (and a long-lived key is in use).
 * Pod specs are not in the audit stream the sink forwards, so this kind is found by scanning the
 * inventory (the sweep), never from a single event.
 */
export const keyFileOverride: Detector = {
  kind: 'key-file-override',
  severity: 'warning',
  title: 'A Workload Identity pod overrides its credentials with a key file',
  detect: () => [],
  scan(snapshot) {
    const findings: Finding[] = [];
    for (const project of snapshot.projects) {
      for (const cluster of project.clusters) {
        const wiKsas = new Set(
          cluster.serviceAccounts
            .filter((ksa) => usesWorkloadIdentity(snapshot, cluster, ksa))
            .map((k) => `${k.namespace}/${k.name}`),
        );
        const pods = cluster.pods.filter(
          (pod) => setsKeyFile(pod) && wiKsas.has(`${pod.namespace}/${pod.serviceAccountName}`),
        );
        // workloadsOf splits a workload by node pool; the fingerprint names the workload, so one finding each.
        const byWorkload = new Map<string, WorkloadRef[]>();
        for (const entry of workloadsOf(cluster, pods)) {
          const key = `${entry.namespace}\u0000${entry.kind}\u0000${entry.name}`;
          byWorkload.set(key, [...(byWorkload.get(key) ?? []), entry]);
        }
        for (const [workload, ...others] of byWorkload.values()) {
          if (workload === undefined) continue;
          const ref = { location: cluster.location, name: cluster.name };
          const pod = pods.find(
            (p) =>
              p.namespace === workload.namespace &&
              (p.owner?.kind ?? 'Pod') === workload.kind &&
              (p.owner?.name ?? p.name) === workload.name,
          );
          const ksa = pod?.serviceAccountName ?? 'default';
          findings.push(
            makeFinding({
              kind: 'key-file-override',
              status: 'firing',
              severity: 'warning',
              key: [
                project.projectId,
                cluster.location,
                cluster.name,
                workload.namespace,
                workload.kind,
                workload.name,
              ],
              project: project.projectId,
              cluster: ref,
              ksas: [{ workloadPool: cluster.workloadPool ?? '', namespace: workload.namespace, name: ksa }],
              workloads: [workload, ...others],
              summary: `${workload.kind} ${workload.namespace}/${workload.name} sets ${KEY_FILE_VARIABLE} although its KSA ${ksa} uses Workload Identity (${FOUND_BY_SWEEP}): the key file wins`,
              remediation: [getCredentials(project.projectId, ref), unsetKeyFile(workload)],
            }),
          );
        }
      }
    }
    return findings;
  },
};
