import { findCluster, gsaOf, impactOfSubject } from '../inventory/impact.ts';
import { WI_ANNOTATION } from '../inventory/snapshot.ts';
import { by, describeImpact, makeFinding, outageSeverity, PAST_TENSE } from './build.ts';
import type { Detector } from './detector.ts';
import { annotate, getCredentials, restartWorkloads } from './remediation.ts';

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
          ...(before && deleted
            ? [
                {
                  title: 'Recreate the KSA with its annotation',
                  command: `kubectl create serviceaccount ${event.name} -n ${event.namespace} && kubectl annotate serviceaccount ${event.name} -n ${event.namespace} ${WI_ANNOTATION}=${before}`,
                },
              ]
            : []),
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
};

/** Only this cluster's pods: the annotation lives on one cluster's KSA object. */
function clusterImpact(
  snapshot: Parameters<typeof impactOfSubject>[0],
  cluster: NonNullable<ReturnType<typeof findCluster>>,
  subject: { workloadPool: string; namespace: string; name: string },
) {
  const impact = impactOfSubject(snapshot, subject);
  return { ksas: impact.ksas, workloads: impact.workloads.filter((w) => w.cluster === cluster.name) };
}
