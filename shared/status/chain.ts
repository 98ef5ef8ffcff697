import { judgeChain } from '../chain/judge.ts';
import type { ChainLink } from '../chain/link.ts';
import { type ChainState, chainStateOf } from '../chain/link.ts';
import { gsasOf } from '../chain/report.ts';
import { snapshotFacts } from '../chain/snapshot-facts.ts';
import type { Snapshot, SnapshotCluster, SnapshotProject } from '../inventory/snapshot.ts';

/**
 * One KSA's chain as `/wi-status` lists it, judged by the chain (shared/chain/judge.ts) from the
 * last inventory or a simulated organization. A link the inventory cannot judge (a GSA of a project
 * it does not cover, a cluster read only in part) is `unknown`, never taken for healthy.
 */
export interface KsaChain {
  project: string;
  cluster: { location: string; name: string };
  namespace: string;
  name: string;
  exists: boolean;
  /** The GSA it names, else the first whose policy binds it. */
  gsa?: string;
  pods: number;
  links: ChainLink[];
}

export function inventoryChain(
  snapshot: Snapshot,
  project: SnapshotProject,
  cluster: SnapshotCluster,
  namespace: string,
  name: string,
): KsaChain {
  const facts = snapshotFacts(snapshot, {
    project: project.projectId,
    cluster: { location: cluster.location, name: cluster.name },
    namespace,
    name,
  });
  const [gsa] = gsasOf(facts.gsa);
  return {
    project: project.projectId,
    cluster: { location: cluster.location, name: cluster.name },
    namespace,
    name,
    exists: facts.ksa?.ok === true && facts.ksa.value !== undefined,
    ...(gsa ? { gsa } : {}),
    pods: facts.pods?.ok ? facts.pods.value.length : 0,
    links: judgeChain(facts).links,
  };
}

/** The chain's verdict: broken when a link is, unknown when one cannot be judged, else healthy. */
export function chainState(chain: KsaChain): ChainState {
  return chainStateOf(chain.links);
}
