import type { ChainReport } from '../chain/report.ts';
import { LookupError } from '../errors.ts';
import { type ClusterKey, clusterPath, type LiveState } from '../gcp/ports.ts';
import type { Snapshot } from '../inventory/snapshot.ts';
import { diagnose } from '../live/diagnose.ts';
import { findClusters } from '../status/cluster.ts';
import { diagnoseDoc } from '../status/diagnose-doc.ts';
import { MARKS, type StatusDoc } from '../status/doc.ts';
import type { StatusSymptoms } from '../status/symptoms.ts';
import { problemDoc } from '../status/views.ts';
import type { Runner } from './commands.ts';

/**
 * The deferred `NAMESPACE/KSA [--cluster CLUSTER]`: finds the cluster(s), then runs diagnose's chain
 * check against live state (or the simulated organization of WI_SNAPSHOT, through the same ports).
 *
 * Which cluster: `--cluster` names it (NAME, or PROJECT/LOCATION/NAME), looked up in the last
 * inventory, else among the clusters of the watched projects. Without it, the clusters where the
 * last inventory has that KSA (at most MAX_CLUSTERS), else the only Workload Identity cluster of the
 * watched projects; when that leaves a choice, the answer asks which one, listing the commands.
 */
export interface KsaCheckDeps {
  live: LiveState;
  /** The watched projects (WI_PROJECTS, else GOOGLE_CLOUD_PROJECT, else the inventory's). */
  projects: () => Promise<readonly string[]>;
  inventory: () => Promise<Snapshot | undefined>;
  /** Where the answer comes from, for its small print: "live state", "the simulated organization". */
  source: string;
  /** Workloads' credential failures, shown above the links (a failed read shows none). */
  symptoms?: () => Promise<StatusSymptoms | undefined>;
  now?: () => Date;
}

const MAX_CLUSTERS = 3;

type Resolved = { keys: ClusterKey[] } | { doc: StatusDoc };

export function ksaRunner(deps: KsaCheckDeps): (...args: Parameters<Runner<'ksa'>>) => Promise<StatusDoc> {
  return (task) => checkKsa(deps, task);
}

/** The check itself (wiCommands' runner, and `wi-sentinel status NS/KSA`). */
export async function checkKsa(
  deps: KsaCheckDeps,
  task: { namespace: string; name: string; cluster?: string | undefined },
): Promise<StatusDoc> {
  let resolved: Resolved;
  try {
    resolved = await resolveClusters(deps, task);
  } catch (error) {
    // A retry may cure an outage (the command is redelivered); a missing permission it will not.
    if (error instanceof LookupError && !error.retryable)
      return problemDoc('I could not list the clusters of the watched projects', error.message);
    throw error;
  }
  if ('doc' in resolved) return resolved.doc;
  const felt = deps.symptoms?.().catch(() => undefined);
  const reports: ChainReport[] = await Promise.all(
    resolved.keys.map((key) =>
      diagnose(
        deps.live,
        {
          project: key.project,
          cluster: { location: key.location, name: key.name },
          namespace: task.namespace,
          name: task.name,
        },
        deps.now ? { now: deps.now } : {},
      ),
    ),
  );
  const symptoms = await felt;
  return diagnoseDoc(reports, { source: deps.source, ...(symptoms ? { symptoms } : {}) });
}

async function resolveClusters(
  deps: KsaCheckDeps,
  task: { namespace: string; name: string; cluster?: string | undefined },
): Promise<Resolved> {
  const snapshot = await deps.inventory();
  const who = `${task.namespace}/${task.name}`;
  const command = (path: string) => `/wi-status ${who} --cluster ${path}`;
  if (task.cluster !== undefined) {
    const known = findClusters(snapshot, task.cluster);
    if (known.found === 'one') {
      const { project, cluster } = known.match;
      return { keys: [{ project: project.projectId, location: cluster.location, name: cluster.name }] };
    }
    if (known.found === 'many') return { doc: whichOne(who, known.candidates.map(command)) };
    const parts = task.cluster.split('/');
    if (parts.length === 3) {
      const [project = '', location = '', name = ''] = parts;
      return { keys: [{ project, location, name }] };
    }
    const live = (await liveClusters(deps)).filter((c) => c.name === task.cluster);
    if (live.length === 1) return { keys: live };
    if (live.length > 1)
      return {
        doc: whichOne(
          who,
          live.map((c) => command(clusterPath(c))),
        ),
      };
    return {
      doc: {
        title: `${MARKS.info} No cluster ${task.cluster} in the watched projects`,
        sections: [],
        notes: ['`/wi-status` lists the clusters I know'],
      },
    };
  }
  const withKsa = (snapshot?.projects ?? []).flatMap((project) =>
    project.clusters
      .filter(
        (c) =>
          c.workloadPool &&
          c.serviceAccounts.some((k) => k.namespace === task.namespace && k.name === task.name),
      )
      .map((c) => ({ project: project.projectId, location: c.location, name: c.name })),
  );
  if (withKsa.length > 0 && withKsa.length <= MAX_CLUSTERS) return { keys: withKsa };
  if (withKsa.length > MAX_CLUSTERS)
    return {
      doc: whichOne(
        who,
        withKsa.map((c) => command(clusterPath(c))),
      ),
    };
  const wiClusters = (await liveClusters(deps)).filter((c) => c.workloadPool);
  if (wiClusters.length === 1) return { keys: wiClusters };
  if (wiClusters.length === 0) {
    return {
      doc: {
        title: `${MARKS.info} No Workload Identity cluster in the watched projects to check ${who} in`,
        sections: [],
      },
    };
  }
  return {
    doc: whichOne(
      who,
      wiClusters.map((c) => command(clusterPath(c))),
    ),
  };
}

async function liveClusters(deps: KsaCheckDeps) {
  const projects = await deps.projects();
  const lists = await Promise.all(projects.map((project) => deps.live.gke.listClusters(project)));
  return lists.flat();
}

function whichOne(who: string, commands: string[]): StatusDoc {
  return {
    title: `${MARKS.info} ${who} may be in ${commands.length} clusters: which one?`,
    sections: [
      {
        lines: commands.slice(0, 15).map((code) => ({ mark: '·', code })),
        more: { count: Math.max(0, commands.length - 15), what: 'clusters' },
      },
    ],
  };
}
