import type { Finding, FindingKind } from '../domain/finding.ts';
import type { Incident } from '../domain/incident.ts';
import type { IndexTimes, Reread } from '../live/asset-export.ts';

/**
 * The freshness rule: the sweep never resolves an incident on an Asset Inventory record older than
 * the event that opened it. The index lags live state by minutes: a binding removed a minute ago may
 * still show in it, and resolving on that would close an outage that is still there. So each
 * resolution is checked against what it rests on:
 *
 * - a GSA's state (disabled): its record's update time must be no older than the event;
 * - a GSA's policy, a project's policy: the index dates no policy, so they are always read again
 *   (gsa-missing among them: it resolves only when the KSAs it served are bound again, sweep.ts);
 * - GKE's view of a cluster or node pool: the record's update time, likewise.
 *
 * What fails the check is read directly (rereadDirectly) and the sweep judged again. The Kubernetes
 * side is read directly in every sweep, so nothing resting on it alone is read twice. Pure.
 */

/** Kinds resolved by a GSA's state alone (it is enabled again). */
const ON_GSA_STATE: ReadonlySet<FindingKind> = new Set(['gsa-disabled']);
/** Kinds resolved by GKE's view of the cluster (its workload pool) or of one node pool. */
const ON_CLUSTER: ReadonlySet<FindingKind> = new Set(['cluster-wi-disabled', 'nodepool-metadata-disabled']);
/** Kinds a project's own policy can resolve (a broad role gone; a KSA given direct access). */
const ON_PROJECT_POLICY: ReadonlySet<FindingKind> = new Set(['gsa-broad-role', 'annotation-missing']);

/** What to read directly before these resolutions may stand. */
export function staleResolutions(
  resolutions: readonly Finding[],
  open: readonly Incident[],
  indexed: IndexTimes,
): Reread {
  const gsas = new Set<string>();
  const clusters = new Map<string, { project: string; location: string; name: string }>();
  const projects = new Set<string>();
  const incidents = new Map(open.map((incident) => [incident.fingerprint, incident]));
  for (const finding of resolutions) {
    if (finding.status !== 'resolved') continue;
    const incident = incidents.get(finding.fingerprint);
    const since = incident ? eventTime(incident) : Number.POSITIVE_INFINITY;
    const older = (time: number | undefined) => time === undefined || time < since;
    if (
      finding.gsa !== undefined &&
      (!ON_GSA_STATE.has(finding.kind) || older(indexed.gsas.get(finding.gsa)))
    )
      gsas.add(finding.gsa);
    if (ON_CLUSTER.has(finding.kind) && finding.cluster) {
      const path = `${finding.project}/${finding.cluster.location}/${finding.cluster.name}`;
      const time =
        finding.kind === 'nodepool-metadata-disabled' && finding.nodePool !== undefined
          ? (indexed.pools.get(`${path}/${finding.nodePool}`) ?? indexed.clusters.get(path))
          : indexed.clusters.get(path);
      if (older(time)) clusters.set(path, { project: finding.project, ...finding.cluster });
    }
    if (ON_PROJECT_POLICY.has(finding.kind)) projects.add(finding.project);
  }
  return { gsas: [...gsas].sort(), clusters: [...clusters.values()], projects: [...projects].sort() };
}

export function isEmpty(reread: Reread): boolean {
  return reread.gsas.length === 0 && reread.clusters.length === 0 && reread.projects.length === 0;
}

/**
 * When the newest event behind an incident happened (ms): its transitions' causes (the change that
 * opened it, and any that arrived again since), else when it was opened (a sweep opened it).
 */
export function eventTime(incident: Incident): number {
  const times = incident.transitions
    .map((transition) => (transition.cause?.time ? Date.parse(transition.cause.time) : Number.NaN))
    .filter((time) => !Number.isNaN(time));
  const opened = Date.parse(incident.openedAt);
  return times.length > 0 ? Math.max(...times) : Number.isNaN(opened) ? Number.POSITIVE_INFINITY : opened;
}
