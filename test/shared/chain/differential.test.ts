import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { ChainFacts } from '../../../shared/chain/facts.ts';
import { namesKsa } from '../../../shared/chain/judge.ts';
import type { ChainLink } from '../../../shared/chain/link.ts';
import { reportChain } from '../../../shared/chain/report.ts';
import { isPagingKind } from '../../../shared/domain/finding.ts';
import { clustersInPool, gsaOf } from '../../../shared/inventory/impact.ts';
import type { Snapshot, SnapshotCluster, SnapshotProject } from '../../../shared/inventory/snapshot.ts';
import { gatherLive } from '../../../shared/live/diagnose.ts';
import { snapshotState } from '../../../shared/live/snapshot-state.ts';
import { sweep } from '../../../shared/reconcile/sweep.ts';
import { inventoryChain } from '../../../shared/status/chain.ts';
import { KSAS, NAMESPACES, organization } from './organizations.ts';

/**
 * The differential property: for every KSA slot of every generated organization, the sweep's firing
 * findings, `diagnose` over the organization as live state (snapshotState) and the `/wi-status` chain
 * (the inventory's) name the same broken links. A failure prints the seed and the organization,
 * shrunk to a minimal one; replay it with WI_PROPERTY_SEED=<seed> (and WI_PROPERTY_PATH=<path>).
 *
 * What the sweep reports of a KSA, beside what its chain says, follows the sweep's own scope:
 * - only KSAs that use Workload Identity (annotated, bound, or granted roles directly); pods of a
 *   deleted KSA only while a GSA still binds it by name and no project grants it roles;
 * - of a cluster off Workload Identity only that (cluster-wi-disabled), the root of what breaks below;
 * - of a deleted KSA only its link 3 (annotation-missing);
 * - nothing that rests on a cluster read only in part.
 */

const SEED = Number(process.env.WI_PROPERTY_SEED ?? 1_302_013);
const RUNS = Number(process.env.WI_PROPERTY_RUNS ?? 1_000);
const PATH = process.env.WI_PROPERTY_PATH;
const NOW = '2026-11-29T12:00:00.000Z';

interface Slot {
  project: SnapshotProject;
  cluster: SnapshotCluster;
  namespace: string;
  name: string;
}

const slotKey = (project: string, cluster: { location: string; name: string }, ns: string, name: string) =>
  `${project}/${cluster.location}/${cluster.name} ${ns}/${name}`;

function slotsOf(snapshot: Snapshot): Slot[] {
  return snapshot.projects.flatMap((project) =>
    project.clusters.flatMap((cluster) =>
      NAMESPACES.flatMap((namespace) => KSAS.map((name) => ({ project, cluster, namespace, name }))),
    ),
  );
}

/** The kinds of the sweep's firing outage findings that name each KSA slot, in its cluster. */
function sweptKinds(snapshot: Snapshot): Map<string, Set<string>> {
  const projects = snapshot.projects.map((p) => p.projectId);
  const named = new Map<string, Set<string>>();
  const name = (key: string, kind: string) => named.set(key, (named.get(key) ?? new Set()).add(kind));
  for (const finding of sweep(snapshot, { projects })) {
    if (!isPagingKind(finding.kind)) continue;
    for (const ksa of finding.ksas) {
      if (finding.cluster) {
        name(slotKey(finding.project, finding.cluster, ksa.namespace, ksa.name), finding.kind);
        continue;
      }
      // A binding or a GSA is named per workload pool: it hits the KSA where it is annotated with it.
      for (const { project, cluster } of clustersInPool(snapshot, ksa.workloadPool)) {
        const object = cluster.serviceAccounts.find(
          (k) => k.namespace === ksa.namespace && k.name === ksa.name,
        );
        if (object && gsaOf(object) === finding.gsa)
          name(slotKey(project.projectId, cluster, ksa.namespace, ksa.name), finding.kind);
      }
    }
  }
  return named;
}

const brokenKinds = (links: readonly ChainLink[]) =>
  links.filter((l) => l.status === 'broken').map((l) => l.kind ?? `link ${l.link}`);

/**
 * Which of the chain's broken links the sweep reports of the slot (see the header), from the facts
 * diagnose read live: whether the KSA exists, what it names, who binds it, what it is granted.
 */
function reportedBySweep(facts: ChainFacts, links: readonly ChainLink[]): string[] | 'at most link 1' {
  const cluster = facts.cluster.ok ? facts.cluster.value : undefined;
  if (cluster === undefined || !facts.ksa?.ok || !facts.pods?.ok) return [];
  const { gsa } = facts;
  const bound = gsa.via === 'search' && gsa.search.ok ? gsa.search.value : [];
  const byName = bound.some((b) => namesKsa(b.member));
  const direct = gsa.via === 'search' && gsa.directGrants.ok ? gsa.directGrants.value : [];
  if (facts.ksa.value === undefined) {
    const expected = facts.pods.value.length > 0 && byName && direct.length === 0;
    return expected && cluster.workloadPool ? ['annotation-missing'] : [];
  }
  const annotated = gsa.via === 'annotation';
  if (!annotated && bound.length === 0 && direct.length === 0) return [];
  if (!cluster.workloadPool) {
    // The sweep tells of the cluster when some KSA of it expects WI; this one surely does when it names a GSA.
    return annotated || byName ? ['cluster-wi-disabled'] : 'at most link 1';
  }
  return brokenKinds(links);
}

async function disagreements(snapshot: Snapshot): Promise<string[]> {
  const problems: string[] = [];
  const live = snapshotState(() => snapshot);
  const swept = sweptKinds(snapshot);
  const seen = new Set<string>();
  for (const slot of slotsOf(snapshot)) {
    const { project, cluster, namespace, name } = slot;
    const key = slotKey(project.projectId, cluster, namespace, name);
    seen.add(key);
    const status = inventoryChain(snapshot, project, cluster, namespace, name);
    const facts = await gatherLive(live, {
      project: project.projectId,
      cluster: { location: cluster.location, name: cluster.name },
      namespace,
      name,
    });
    const report = reportChain(facts, NOW);
    const states = (links: readonly ChainLink[]) =>
      links.map((l) => `${l.status}${l.kind ? `:${l.kind}` : ''}`);
    if (states(report.links).join() !== states(status.links).join())
      problems.push(`${key}: diagnose says [${states(report.links)}], /wi-status [${states(status.links)}]`);
    const chain = brokenKinds(status.links).sort();
    const sweepSays = [...(swept.get(key) ?? [])].sort();
    const expected = reportedBySweep(facts, status.links);
    if (expected === 'at most link 1') {
      if (sweepSays.some((kind) => kind !== 'cluster-wi-disabled'))
        problems.push(`${key}: the sweep names [${sweepSays}] of a KSA in a cluster off WI`);
      continue;
    }
    if (expected.sort().join() !== sweepSays.join())
      problems.push(
        `${key}: the sweep names [${sweepSays}], its chain [${chain}] (the sweep would report [${expected}])`,
      );
  }
  for (const key of swept.keys())
    if (!seen.has(key)) problems.push(`${key}: the sweep names a KSA outside every cluster's slots`);
  return problems;
}

describe('the chain: the sweep, diagnose and /wi-status name the same broken links', () => {
  it(`${RUNS} generated organizations (seed ${SEED}), shrunk to a minimal one on failure`, async (t) => {
    t.diagnostic(`seed ${SEED}: replay with WI_PROPERTY_SEED=${SEED}`);
    await fc.assert(
      fc.asyncProperty(organization, async (snapshot) => {
        const problems = await disagreements(snapshot);
        assert.equal(problems.length, 0, problems.join('\n'));
      }),
      { numRuns: RUNS, seed: SEED, ...(PATH ? { path: PATH } : {}), endOnFailure: false },
    );
  });
});
