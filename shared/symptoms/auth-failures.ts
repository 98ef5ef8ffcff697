import { modeLabel, runsGkeMetadata } from '../chain/judge.ts';
import { LINK_NAMES } from '../chain/link.ts';
import { enableClusterWi, getCredentials, poolBackToGkeMetadata } from '../chain/remediation.ts';
import type { ChainReport } from '../chain/report.ts';
import type { Finding, Remediation, WorkloadRef } from '../domain/finding.ts';
import type { Incident, IncidentDiagnosis } from '../domain/incident.ts';
import type { SymptomGroupRecord } from '../domain/symptom-group.ts';
import type { LiveState } from '../gcp/ports.ts';
import { couldNotCheck, diagnose } from '../live/diagnose.ts';
import { duration, kindWords } from '../notify/evidence-render.ts';
import { poolOf } from './evidence.ts';
import { authFingerprint, isActive, type SymptomOptions } from './group.ts';

/**
 * `wi-auth-failures`: credential failures that no open incident explains still reach someone, with
 * the live diagnosis of the KSA's chain, so the on-call engineer starts from the broken link (or
 * learns the chain is healthy, and the cause lies elsewhere: a user's OAuth token, a key file). It
 * resolves once the group has been quiet for the window. Everything here is pure but `diagnoseGroup`.
 */

export interface GroupDiagnosis {
  diagnosis?: IncidentDiagnosis;
  /** Repair commands of the broken links, in chain order. */
  repairs: Remediation[];
}

function diagnosisOf(report: ChainReport): IncidentDiagnosis {
  return {
    checkedAt: report.checkedAt,
    healthy: report.healthy,
    verdict: report.verdict,
    links: report.links.map((l) => ({
      link: l.link,
      name: l.name,
      status: l.status,
      detail: l.detail,
      ...(l.kind ? { kind: l.kind } : {}),
    })),
  };
}

/**
 * The live diagnosis for a group: the whole chain of its KSA; for the metadata server's own errors,
 * the cluster's two links (workload pool, node pools on GKE_METADATA); nothing when the KSA is unknown.
 */
export async function diagnoseGroup(
  live: LiveState,
  group: SymptomGroupRecord,
  now: () => Date,
): Promise<GroupDiagnosis> {
  if (group.scope === 'ksa' && group.ksa !== undefined) {
    const report = await diagnose(
      live,
      { project: group.project, cluster: group.cluster, namespace: group.namespace, name: group.ksa },
      { now },
    );
    const repairs = report.links.filter((l) => l.status === 'broken').flatMap((l) => l.repair);
    return { diagnosis: diagnosisOf(report), repairs };
  }
  if (group.scope === 'cluster') return diagnoseCluster(live, group, now);
  return { repairs: [] };
}

async function diagnoseCluster(
  live: LiveState,
  group: SymptomGroupRecord,
  now: () => Date,
): Promise<GroupDiagnosis> {
  const checkedAt = now().toISOString();
  const { project, cluster } = group;
  const where = `${project}/${cluster.location}/${cluster.name}`;
  const name = (link: number) => LINK_NAMES[link - 1] as string;
  let found: Awaited<ReturnType<LiveState['gke']['getCluster']>>;
  try {
    found = await live.gke.getCluster({ project, ...cluster });
  } catch (error) {
    const detail = couldNotCheck('gke.getCluster', error);
    return {
      diagnosis: {
        checkedAt,
        healthy: false,
        verdict: `not verified: could not read cluster ${where}`,
        links: [1, 2].map((link) => ({ link, name: name(link), status: 'unknown', detail })),
      },
      repairs: [],
    };
  }
  if (found === undefined) {
    return {
      diagnosis: {
        checkedAt,
        healthy: false,
        verdict: `cluster ${where} does not exist`,
        links: [{ link: 1, name: name(1), status: 'broken', detail: `cluster ${where} does not exist` }],
      },
      repairs: [],
    };
  }
  const repairs: Remediation[] = [];
  const links: IncidentDiagnosis['links'] = [];
  if (found.workloadPool) {
    links.push({
      link: 1,
      name: name(1),
      status: 'ok',
      detail: `${cluster.name} is joined to ${found.workloadPool}`,
    });
  } else {
    const pool = `${project}.svc.id.goog`;
    links.push({
      link: 1,
      name: name(1),
      status: 'broken',
      detail: `${cluster.name} has no workload pool`,
      kind: 'cluster-wi-disabled',
    });
    repairs.push(enableClusterWi(project, cluster, pool));
  }
  const pools =
    group.nodePools.length > 0
      ? found.nodePools.filter((p) => group.nodePools.includes(p.name))
      : found.nodePools;
  const off = pools.filter((p) => !runsGkeMetadata(p));
  if (off.length === 0) {
    links.push({
      link: 2,
      name: name(2),
      status: 'ok',
      detail: `${pools.map((p) => p.name).join(', ') || 'no node pool'}: all GKE_METADATA`,
    });
  } else {
    links.push({
      link: 2,
      name: name(2),
      status: 'broken',
      detail: off.map((p) => `${p.name} is on ${modeLabel(p.workloadMetadataMode)}`).join(', '),
      kind: 'nodepool-metadata-disabled',
    });
    for (const p of off) repairs.push(poolBackToGkeMetadata(project, cluster, p.name));
  }
  const broken = links.filter((l) => l.status === 'broken');
  return {
    diagnosis: {
      checkedAt,
      healthy: broken.length === 0,
      verdict:
        broken.length === 0
          ? `the workload pool and node pools of ${cluster.name} hold: the metadata server itself fails`
          : `broken: link ${broken.map((l) => `${l.link} (${l.kind})`).join(', ')} of ${cluster.name}`,
      links,
    },
    repairs,
  };
}

/** Who failed: `ns/ksa in cluster`, `pods of ns in cluster`, or the cluster's metadata server. */
function groupName(group: Pick<SymptomGroupRecord, 'scope' | 'namespace' | 'ksa' | 'cluster'>): string {
  if (group.scope === 'cluster') return `the GKE metadata server of ${group.cluster.name}`;
  if (group.ksa) return `${group.namespace}/${group.ksa} in ${group.cluster.name}`;
  return `pods of ${group.namespace} in ${group.cluster.name} (KSA unknown to the last inventory)`;
}

function utc(iso: string): string {
  return `${new Date(Date.parse(iso)).toISOString().slice(11, 16)} UTC`;
}

function dominantKind(group: SymptomGroupRecord): string | undefined {
  return Object.entries(group.kinds).sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))[0]?.[0];
}

/** When every link holds, where the failures more likely come from, by what the libraries said. */
const HEALTHY_CHAIN: Record<string, string> = {
  'invalid-grant':
    'invalid_grant comes from a key file or a user OAuth refresh token (revoked, expired, a password change), never from Workload Identity',
  'token-denied':
    'IAM refused tokens it now grants: a repair already made, IAM still propagating, or the pod impersonating another GSA',
  'metadata-unreachable':
    'nothing wi-sentinel reads blocks the metadata server: look for a policy it cannot see (Calico, Cilium), a sidecar, or an unready gke-metadata-server on the node',
  'no-credentials':
    'the library found no credentials at all: the pod may run outside a Workload Identity node pool, or override Application Default Credentials',
  'metadata-server-error': 'the GKE metadata server itself answered errors: look at its pods in kube-system',
};

/** What to run when no link is broken: see what the pod authenticates as, and the metadata server. */
function verifySteps(group: SymptomGroupRecord): Remediation[] {
  const pod = group.samples[0]?.pod ?? group.pods[0];
  const steps: Remediation[] = [getCredentials(group.project, group.cluster)];
  if (group.scope !== 'cluster' && pod) {
    steps.push({
      title: `See which account ${pod} authenticates as`,
      command: `kubectl exec -n ${group.namespace} ${pod} -- gcloud auth list`,
    });
  }
  steps.push({
    title: 'Check the GKE metadata server pods',
    command: 'kubectl get pods -n kube-system -l k8s-app=gke-metadata-server -o wide',
  });
  return steps;
}

/** The `wi-auth-failures` finding of an unexplained group, its diagnosis (if any) in summary and steps. */
export function authFailureFinding(group: SymptomGroupRecord, diagnosed: GroupDiagnosis): Finding {
  const diagnosis = diagnosed.diagnosis;
  const broken = diagnosis?.links.some((l) => l.status === 'broken') === true;
  const failures = group.alert
    ? `has answered errors above the alert threshold since ${utc(group.firstSeen)} (Cloud Monitoring incident ${group.alert.incidentId})`
    : `${group.scope === 'namespace' ? 'have' : 'has'} failed ${group.count} token request${group.count === 1 ? '' : 's'} since ${utc(group.firstSeen)} (${kindWords(group.kinds as Record<string, number>)})`;
  const kind = dominantKind(group);
  const diagnosisWords =
    diagnosis === undefined
      ? 'no live diagnosis: the pods’ KSA is unknown'
      : broken
        ? `live diagnosis: ${diagnosis.verdict}`
        : diagnosis.healthy
          ? `live diagnosis: every Workload Identity link holds, so ${HEALTHY_CHAIN[kind ?? ''] ?? 'the cause lies outside Workload Identity'}`
          : `live diagnosis: ${diagnosis.verdict}`;
  const workloads: WorkloadRef[] = group.workloads.map((w) => {
    const [kindName = 'Pod', ...rest] = w.split('/');
    return { cluster: group.cluster.name, namespace: group.namespace, kind: kindName, name: rest.join('/') };
  });
  return {
    kind: 'wi-auth-failures',
    status: 'firing',
    severity: broken ? 'critical' : 'error',
    fingerprint: authFingerprint(group),
    project: group.project,
    cluster: { ...group.cluster },
    ...(group.nodePools.length === 1 ? { nodePool: group.nodePools[0] as string } : {}),
    ...(group.gsa ? { gsa: group.gsa } : {}),
    ksas: group.ksa ? [{ workloadPool: poolOf(group), namespace: group.namespace, name: group.ksa }] : [],
    ...(workloads.length > 0 ? { workloads } : {}),
    summary: `${groupName(group)} ${failures}, and no change wi-sentinel saw explains it; ${diagnosisWords}`,
    remediation: diagnosed.repairs.length > 0 ? diagnosed.repairs : verifySteps(group),
  };
}

/**
 * Pure: the `wi-auth-failures` incidents to resolve at `now`: those whose groups have all been quiet
 * for the window (a Monitoring alert: closed), or are gone (expired after a long quiet).
 */
export function quietResolutions(
  open: readonly Incident[],
  groups: readonly SymptomGroupRecord[],
  now: Date,
  options: Pick<SymptomOptions, 'window'>,
): Finding[] {
  const at = now.getTime();
  const byFingerprint = new Map<string, SymptomGroupRecord[]>();
  for (const group of groups) {
    const fingerprint = authFingerprint(group);
    byFingerprint.set(fingerprint, [...(byFingerprint.get(fingerprint) ?? []), group]);
  }
  return open
    .filter((incident) => incident.status === 'open' && incident.kind === 'wi-auth-failures')
    .flatMap((incident) => {
      const own = byFingerprint.get(incident.fingerprint) ?? [];
      if (own.some((group) => isActive(group, at))) return [];
      return [quietFinding(incident, own, now, options.window.quietMs)];
    });
}

function quietFinding(
  incident: Incident,
  groups: readonly SymptomGroupRecord[],
  now: Date,
  quietMs: number,
): Finding {
  const last = groups.map((g) => g.lastSeen).sort((a, b) => Date.parse(b) - Date.parse(a))[0];
  const alert = groups.find((g) => g.alert?.state === 'closed');
  const who = incident.finding.ksas[0]
    ? `${incident.finding.ksas[0].namespace}/${incident.finding.ksas[0].name}`
    : (incident.finding.cluster?.name ?? incident.finding.project);
  const summary = alert
    ? `Cloud Monitoring closed incident ${alert.alert?.incidentId}: the metadata server's error rate is back under the threshold`
    : last
      ? `no credential failure from ${who} since ${utc(last)} (quiet for ${duration(now.getTime() - Date.parse(last))})`
      : `no credential failure from ${who} for ${duration(quietMs)}`;
  return { ...incident.finding, status: 'resolved', summary };
}
