import { judgeKsa, namesKsa } from '../chain/judge.ts';
import { annotate, getCredentials, restartWorkloads } from '../chain/remediation.ts';
import { snapshotFacts } from '../chain/snapshot-facts.ts';
import type { Finding, Remediation } from '../domain/finding.ts';
import { findCluster, gsaOf, impactOfSubject, workloadsOf } from '../inventory/impact.ts';
import { type Snapshot, type SnapshotCluster, WI_ANNOTATION } from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity, PAST_TENSE } from './build.ts';
import type { Detector } from './detector.ts';
import { FOUND_BY_SWEEP, targetOf, wiClusters } from './scan-support.ts';

/**
 * The KSA no longer names its GSA (annotation removed, or the KSA deleted): its pods fall back to
 * no Google identity. The annotation's previous value comes from the inventory; without one, a patch
 * that sets it to null still tells that it was removed.
 */
export const annotationMissing: Detector = {
  kind: 'annotation-missing',
  severity: 'critical',
  title: 'A Workload Identity KSA lost its iam.gke.io/gcp-service-account annotation',
  detect(event, snapshot) {
    if (event.type !== 'k8s-serviceaccount') return [];
    const cluster = findCluster(snapshot, event.project, event.cluster);
    if (cluster !== undefined && !cluster.workloadPool) return [];
    const known = cluster?.serviceAccounts.find(
      (ksa) => ksa.namespace === event.namespace && ksa.name === event.name,
    );
    const before = known ? gsaOf(known) : undefined;
    // An empty annotation names no GSA, as the classifier reads a request's.
    const after =
      event.action === 'delete'
        ? null
        : event.annotations
          ? event.annotations[WI_ANNOTATION] || null
          : event.requestedGsa;
    if (after === undefined) return [];
    const workloadPool = cluster?.workloadPool ?? `${event.project}.svc.id.goog`;
    const subject = { workloadPool, namespace: event.namespace, name: event.name };
    const base = {
      kind: 'annotation-missing' as const,
      key: [event.project, event.cluster.location, event.cluster.name, event.namespace, event.name],
      project: event.project,
      cluster: event.cluster,
      source: event.source,
    };
    if (after !== null) {
      // Resolved only where the annotation was missing: an inventory that says so, or a request that sets it.
      const wasMissing = known
        ? before === undefined
        : event.action === 'create' || typeof event.requestedGsa === 'string';
      if (!wasMissing) return [];
      return [
        makeFinding({
          ...base,
          status: 'resolved',
          severity: 'critical',
          gsa: after,
          ksas: [subject],
          summary: `${event.namespace}/${event.name} names ${after} again (${PAST_TENSE[event.action]}${by(event.source)})`,
        }),
      ];
    }
    // A KSA the inventory knows without an annotation had nothing to lose; one it does not know
    // used WI only if the request explicitly removes the annotation.
    if (before === undefined && (known !== undefined || event.requestedGsa !== null)) return [];
    const impact = snapshot && cluster ? clusterImpact(snapshot, cluster, subject) : undefined;
    const deleted = event.action === 'delete';
    return [
      makeFinding({
        ...base,
        status: 'firing',
        severity: outageSeverity(impact),
        ...(before ? { gsa: before } : {}),
        ksas: [subject],
        ...(impact ? { workloads: impact.workloads } : {}),
        summary: `${event.namespace}/${event.name}${deleted ? `${before ? ` (annotated with ${before})` : ''} was deleted${by(event.source)}` : ` lost its annotation${before ? ` naming ${before}` : ''} (${PAST_TENSE[event.action]}${by(event.source)})`}: its pods get no Google credentials${describeImpact(impact)}`,
        remediation: [
          getCredentials(event.project, event.cluster),
          ...(before && !deleted ? [annotate(event.namespace, event.name, before)] : []),
          ...(before && deleted ? [recreate(event.namespace, event.name, before)] : []),
          ...(before
            ? []
            : [
                {
                  title: 'Inspect the KSA',
                  command: `kubectl get serviceaccount ${event.name} -n ${event.namespace} -o yaml`,
                },
              ]),
          ...restartWorkloads(impact?.workloads ?? []),
        ],
      }),
    ];
  },
  scan: scanAnnotations,
};

/**
 * The sweep's view: link 3 of a KSA's chain broken while some GSA's policy binds it by name (classic
 * or principal:// member), so its pods never act as that GSA. As the chain judges it:
 * - a namespace-wide principalSet names no KSA in particular: its unannotated KSAs are not reported;
 * - a KSA that holds roles itself on an inventoried project (a principal:// or principalSet:// member
 *   of the project's policy) uses direct resource access, which needs no annotation: its leftover
 *   GSA binding is not an outage.
 * A KSA deleted while pods still run as it (and a GSA still binds it) is reported too, as the event
 * path reports the deletion; with no pod left, the binding is binding-orphaned's to tell.
 */
function scanAnnotations(snapshot: Snapshot): Finding[] {
  const findings: Finding[] = [];
  for (const { project, cluster } of wiClusters(snapshot)) {
    const pool = cluster.workloadPool ?? '';
    const ref = { location: cluster.location, name: cluster.name };
    const judge = (namespace: string, name: string, deleted: boolean) => {
      const facts = snapshotFacts(snapshot, targetOf(project, cluster, { namespace, name }));
      if (judgeKsa(facts).status !== 'broken' || facts.gsa.via !== 'search' || !facts.gsa.search.ok) return;
      // Only a GSA that names it tells that it expects to act as a GSA: not a namespace-wide member,
      // nor roles granted to it directly (a deleted KSA so granted is no GSA's outage either).
      const gsas = facts.gsa.search.value.filter((b) => namesKsa(b.member)).map((b) => b.gsa.email);
      const direct = facts.gsa.directGrants.ok ? facts.gsa.directGrants.value : [];
      if (gsas.length === 0 || direct.length > 0) return;
      const subject = { workloadPool: pool, namespace, name };
      // The annotation lives on this cluster's KSA: only its pods here are hit.
      const pods = facts.pods?.ok ? facts.pods.value : [];
      const impact = { ksas: [subject], workloads: workloadsOf(cluster, pods) };
      const [gsa = '', ...others] = [...gsas].sort();
      const alternatives = others.length > 0 ? ` (also bound on ${others.join(', ')})` : '';
      findings.push(
        makeFinding({
          kind: 'annotation-missing',
          status: 'firing',
          severity: outageSeverity(impact),
          key: [project.projectId, cluster.location, cluster.name, namespace, name],
          project: project.projectId,
          cluster: ref,
          gsa,
          ksas: [subject],
          workloads: impact.workloads,
          summary: deleted
            ? `${namespace}/${name} no longer exists in ${cluster.name} (${FOUND_BY_SWEEP}), yet pods still run as it and ${gsa}${alternatives} binds it: they get no Google credentials${describeImpact(impact)}`
            : `${namespace}/${name} in ${cluster.name} is bound on ${gsa}${alternatives} but not annotated (${FOUND_BY_SWEEP}): its pods get no Google credentials${describeImpact(impact)}`,
          remediation: [
            getCredentials(project.projectId, ref),
            deleted ? recreate(namespace, name, gsa) : annotate(namespace, name, gsa),
            ...restartWorkloads(impact.workloads),
          ],
        }),
      );
    };
    for (const ksa of cluster.serviceAccounts) {
      if (gsaOf(ksa) === undefined) judge(ksa.namespace, ksa.name, false);
    }
    const existing = new Set(cluster.serviceAccounts.map((ksa) => `${ksa.namespace}/${ksa.name}`));
    const orphans = new Set(
      cluster.pods
        .map((pod) => `${pod.namespace}/${pod.serviceAccountName}`)
        .filter((id) => !existing.has(id)),
    );
    for (const id of orphans) {
      const [namespace = '', name = ''] = id.split('/');
      judge(namespace, name, true);
    }
  }
  return findings;
}

function recreate(namespace: string, name: string, gsa: string): Remediation {
  return {
    title: 'Recreate the KSA with its annotation',
    command: `kubectl create serviceaccount ${name} -n ${namespace} && kubectl annotate serviceaccount ${name} -n ${namespace} ${WI_ANNOTATION}=${gsa}`,
  };
}

/** Only this cluster's pods: the annotation lives on one cluster's KSA object. */
function clusterImpact(
  snapshot: Snapshot,
  cluster: SnapshotCluster,
  subject: { workloadPool: string; namespace: string; name: string },
) {
  const impact = impactOfSubject(snapshot, subject);
  return { ksas: impact.ksas, workloads: impact.workloads.filter((w) => w.cluster === cluster.name) };
}
