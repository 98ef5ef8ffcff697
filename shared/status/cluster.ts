import { runsGkeMetadata } from '../chain/judge.ts';
import { LINK_LABELS } from '../chain/link.ts';
import type { Incident } from '../domain/incident.ts';
import type { SymptomCount } from '../domain/symptom-group.ts';
import { clusterPath } from '../gcp/ports.ts';
import { usesWorkloadIdentity } from '../inventory/impact.ts';
import type { Snapshot, SnapshotCluster, SnapshotProject } from '../inventory/snapshot.ts';
import { chainState, inventoryChain, type KsaChain } from './chain.ts';
import { type DocLine, type DocSection, MARKS, plural, type StatusDoc } from './doc.ts';
import {
  type IncidentLine,
  incidentDocLine,
  incidentLine,
  openIncidents,
  touchesCluster,
} from './summary.ts';
import {
  alertLine,
  byRecent,
  clusterSymptoms,
  groupSymptomLine,
  ksaSymptomLine,
  ksaSymptoms,
  recentTotal,
  type StatusSymptoms,
  windowText,
} from './symptoms.ts';

/**
 * One cluster in detail, from the last inventory and the open incidents: its workload pool, each
 * node pool's metadata mode and the WI pods on it, each WI KSA with its GSA and the links the
 * inventory shows broken, and the incidents that touch it. Pure.
 */

export interface ClusterInInventory {
  project: SnapshotProject;
  cluster: SnapshotCluster;
}

export type ClusterLookup =
  | { found: 'one'; match: ClusterInInventory }
  | { found: 'none' }
  | { found: 'many'; candidates: string[] };

/** `NAME` or `PROJECT/LOCATION/NAME`; a name in several projects or locations asks which one. */
export function findClusters(snapshot: Snapshot | undefined, query: string): ClusterLookup {
  const parts = query.split('/');
  const all = (snapshot?.projects ?? []).flatMap((project) =>
    project.clusters.map((cluster) => ({ project, cluster })),
  );
  const matches = all.filter(({ project, cluster }) =>
    parts.length === 3
      ? project.projectId === parts[0] && cluster.location === parts[1] && cluster.name === parts[2]
      : cluster.name === query,
  );
  const [only] = matches;
  if (only === undefined) return { found: 'none' };
  if (matches.length === 1) return { found: 'one', match: only };
  return {
    found: 'many',
    candidates: matches.map(({ project, cluster }) =>
      clusterPath({ project: project.projectId, location: cluster.location, name: cluster.name }),
    ),
  };
}

export interface ClusterDetail {
  project: string;
  location: string;
  name: string;
  workloadPool?: string;
  pools: { name: string; mode: string; healthy: boolean; wiPods: number }[];
  ksas: KsaChain[];
  networkPolicies: number;
  incidents: IncidentLine[];
  /** The cluster's credential failures and metadata-server alert, when the symptom groups were read. */
  symptoms?: StatusSymptoms;
}

export function clusterDetail(
  snapshot: Snapshot,
  { project, cluster }: ClusterInInventory,
  incidents: readonly Incident[],
  symptoms?: StatusSymptoms,
): ClusterDetail {
  const felt = symptoms ? clusterSymptoms(symptoms, project.projectId, cluster) : undefined;
  const own: StatusSymptoms | undefined =
    symptoms && felt
      ? { ...symptoms, counts: felt.counts, alerts: felt.alert ? [felt.alert] : [] }
      : undefined;
  const failing = (chain: KsaChain) =>
    own ? (ksaSymptoms(own, project.projectId, cluster, chain.namespace, chain.name)?.recent ?? 0) : 0;
  const ksas = cluster.serviceAccounts
    .filter((ksa) => usesWorkloadIdentity(snapshot, cluster, ksa))
    .map((ksa) => inventoryChain(snapshot, project, cluster, ksa.namespace, ksa.name));
  const wi = new Set(ksas.map((k) => `${k.namespace}/${k.name}`));
  const wiPods = cluster.pods.filter((pod) => wi.has(`${pod.namespace}/${pod.serviceAccountName}`));
  return {
    project: project.projectId,
    location: cluster.location,
    name: cluster.name,
    ...(cluster.workloadPool ? { workloadPool: cluster.workloadPool } : {}),
    pools: cluster.nodePools.map((pool) => ({
      name: pool.name,
      mode: pool.workloadMetadataMode ?? 'unset',
      healthy: !cluster.workloadPool || runsGkeMetadata(pool),
      wiPods: wiPods.filter((pod) => pod.nodePool === pool.name).length,
    })),
    // Broken first, then failing, so a phone shows what matters on the first screen.
    ksas: [...ksas].sort((a, b) => rank(a, failing(a)) - rank(b, failing(b)) || failing(b) - failing(a)),
    networkPolicies: cluster.networkPolicies.length,
    incidents: openIncidents(incidents)
      .filter((i) => touchesCluster(i, project.projectId, cluster))
      .map(incidentLine),
    ...(own ? { symptoms: own } : {}),
  };
}

/** A KSA whose pods fail to get credentials ranks right after a broken one, whatever its chain says. */
function rank(chain: KsaChain, failing: number): number {
  const state = chainState(chain);
  if (state === 'broken') return 0;
  if (failing > 0) return 1;
  return state === 'unknown' ? 2 : 3;
}

export function clusterDoc(
  detail: ClusterDetail,
  { command = '/wi-status', maxKsas = 25 }: { command?: string; maxKsas?: number } = {},
): StatusDoc {
  const brokenPools = detail.pools.filter((p) => !p.healthy);
  const brokenKsas = detail.ksas.filter((k) => chainState(k) === 'broken');
  const symptoms = detail.symptoms;
  const failures = symptoms ? recentTotal(symptoms.counts) : 0;
  const alert = symptoms?.alerts[0];
  const healthy =
    detail.incidents.length === 0 &&
    brokenPools.length === 0 &&
    brokenKsas.length === 0 &&
    failures === 0 &&
    alert === undefined;
  const problems = [
    detail.incidents.length > 0 ? plural(detail.incidents.length, 'open incident') : '',
    brokenKsas.length > 0 ? `${plural(brokenKsas.length, 'KSA')} with a broken link` : '',
    brokenPools.length > 0 ? `${plural(brokenPools.length, 'pool')} off the GKE metadata server` : '',
    symptoms && failures > 0 ? `${plural(failures, 'credential failure')} ${windowText(symptoms)}` : '',
    alert ? 'metadata server errors' : '',
  ].filter(Boolean);
  const title = `${healthy ? MARKS.healthy : MARKS.unhealthy} ${detail.name} (${detail.project} · ${detail.location}): ${
    healthy ? (detail.workloadPool ? 'healthy' : 'Workload Identity off') : problems.join(', ')
  }`;
  const sections: DocSection[] = [
    {
      lines: [
        detail.workloadPool
          ? { mark: MARKS.ok, lead: 'Workload Identity on', text: `: ${detail.workloadPool}` }
          : { mark: MARKS.broken, lead: 'Workload Identity off', text: ': the cluster has no workload pool' },
        {
          mark: MARKS.info,
          text: `${plural(detail.ksas.length, 'WI KSA')}, ${plural(
            detail.pools.reduce((n, p) => n + p.wiPods, 0),
            'WI pod',
          )}, ${plural(detail.networkPolicies, 'NetworkPolicy', 'NetworkPolicies')}`,
        },
      ],
    },
  ];
  if (symptoms && alert) sections[0]?.lines.push(alertLine(alert, symptoms, false));
  if (detail.incidents.length > 0) {
    sections.push({
      heading: `Open incidents (${detail.incidents.length})`,
      lines: detail.incidents.slice(0, 5).map(incidentDocLine),
      more: { count: Math.max(0, detail.incidents.length - 5), what: 'incidents' },
    });
  }
  sections.push({
    heading: `Node pools (${detail.pools.length})`,
    lines: detail.pools.map((p) => ({
      mark: detail.workloadPool ? (p.healthy ? MARKS.ok : MARKS.broken) : '·',
      lead: p.name,
      text: `: ${p.mode} · ${plural(p.wiPods, 'WI pod')}${
        p.healthy ? '' : p.wiPods > 0 ? ' act as the node’s service account' : ''
      }`,
    })),
  });
  if (detail.ksas.length > 0) {
    sections.push({
      heading: `WI KSAs (${detail.ksas.length})`,
      lines: detail.ksas.slice(0, maxKsas).flatMap((k) => ksaLines(k, detail)),
      more: { count: Math.max(0, detail.ksas.length - maxKsas), what: 'KSAs' },
    });
  }
  const others = otherFailures(detail);
  if (symptoms && others.length > 0) {
    sections.push({
      heading: `Other credential failures (${others.length})`,
      lines: others.slice(0, 10).map((count) => groupSymptomLine(count, symptoms, false)),
      more: { count: Math.max(0, others.length - 10), what: 'groups' },
    });
  }
  return {
    title,
    sections,
    notes: [
      symptoms
        ? 'From the last inventory, the open incidents and workloads’ credential failures.'
        : 'From the last inventory and the open incidents.',
      `\`${command} NAMESPACE/KSA --cluster ${detail.name}\` checks every link of one KSA`,
    ],
  };
}

/** Failures of pods whose KSA is unknown, of the metadata server, or of KSAs not listed as WI KSAs. */
function otherFailures(detail: ClusterDetail): SymptomCount[] {
  const listed = new Set(detail.ksas.map((k) => `${k.namespace}/${k.name}`));
  return (detail.symptoms?.counts ?? [])
    .filter((count) => count.ksa === undefined || !listed.has(`${count.namespace}/${count.ksa}`))
    .sort(byRecent);
}

function ksaLines(chain: KsaChain, detail: ClusterDetail): DocLine[] {
  const state = chainState(chain);
  const symptoms = detail.symptoms;
  const count = symptoms
    ? ksaSymptoms(symptoms, detail.project, detail, chain.namespace, chain.name)
    : undefined;
  // A chain the inventory finds whole, whose pods still fail: not a ✓.
  const failing = state === 'ok' && (count?.recent ?? 0) > 0;
  const mark =
    state === 'broken'
      ? MARKS.broken
      : state === 'unknown'
        ? MARKS.unknown
        : failing
          ? MARKS.warning
          : MARKS.ok;
  const lines: DocLine[] = [
    {
      mark,
      lead: `${chain.namespace}/${chain.name}`,
      text: ` → ${chain.gsa ?? 'no GSA'} · ${plural(chain.pods, 'pod')}`,
    },
  ];
  for (const link of chain.links.filter((l) => l.status === 'broken'))
    lines.push({
      indent: true,
      mark: MARKS.broken,
      lead: LINK_LABELS[link.link - 1] ?? link.name,
      text: `: ${link.brief ?? link.detail}`,
    });
  if (symptoms && count) lines.push(ksaSymptomLine(count, symptoms));
  return lines;
}

/** `/wi-status CLUSTER` when the inventory does not know it, or knows several. */
export function clusterNotFoundDoc(
  query: string,
  lookup: Exclude<ClusterLookup, { found: 'one' }>,
  snapshot: Snapshot | undefined,
  { command = '/wi-status' }: { command?: string } = {},
): StatusDoc {
  if (lookup.found === 'many') {
    return {
      title: `${MARKS.info} ${lookup.candidates.length} clusters are named ${query}: which one?`,
      sections: [{ lines: lookup.candidates.map((path) => ({ mark: '·', code: `${command} ${path}` })) }],
    };
  }
  const known = [...new Set((snapshot?.projects ?? []).flatMap((p) => p.clusters.map((c) => c.name)))];
  return {
    title: `${MARKS.info} No cluster ${query} in the last inventory`,
    sections: [
      snapshot === undefined
        ? { lines: [{ text: 'There is no inventory yet.' }] }
        : {
            heading: 'Clusters I know',
            lines: [{ text: known.length > 0 ? known.slice(0, 30).join(', ') : 'none' }],
            more: { count: Math.max(0, known.length - 30), what: 'clusters' },
          },
    ],
    notes: [`\`${command} help\` shows what I answer`],
  };
}
