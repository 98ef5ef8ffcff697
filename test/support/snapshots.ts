import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSnapshot, type Snapshot, type SnapshotCluster } from '../../shared/inventory/snapshot.ts';
import { FIXTURES } from './paths.ts';

/** A fixture snapshot, parsed afresh on every call (impact indexes are cached per object). */
export function loadSnapshot(file = 'snapshot.json'): Snapshot {
  const result = parseSnapshot(JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')));
  if (!result.ok) throw new Error(`${file}: ${result.error}`);
  return result.snapshot;
}

/** A changed copy of a fixture snapshot: the change runs on a fresh parse, never on a shared object. */
export function variant(change: (snapshot: Snapshot) => void, file = 'snapshot.json'): Snapshot {
  const snapshot = loadSnapshot(file);
  change(snapshot);
  return snapshot;
}

export function clusterOf(snapshot: Snapshot, name: string): SnapshotCluster {
  const cluster = snapshot.projects.flatMap((p) => p.clusters).find((c) => c.name === name);
  if (cluster === undefined) throw new Error(`no cluster ${name} in the snapshot`);
  return cluster;
}

/** The orbit-prod fixture's names, so tests spell them once. */
export const ORBIT = {
  project: 'orbit-prod',
  pool: 'orbit-prod.svc.id.goog',
  core: { location: 'europe-west4', name: 'core-1' },
  edge: { location: 'us-east1-b', name: 'edge-1' },
  sandbox: { location: 'europe-west4-a', name: 'sandbox' },
  cart: 'cart@orbit-prod.iam.gserviceaccount.com',
  indexer: 'indexer@orbit-prod.iam.gserviceaccount.com',
  reports: 'reports@orbit-prod.iam.gserviceaccount.com',
  deployer: 'deployer@orbit-prod.iam.gserviceaccount.com',
  principal: (ns: string, ksa: string) =>
    `principal://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/orbit-prod.svc.id.goog/subject/ns/${ns}/sa/${ksa}`,
  principalSet: (ns: string) =>
    `principalSet://iam.googleapis.com/projects/731604512345/locations/global/workloadIdentityPools/orbit-prod.svc.id.goog/namespace/${ns}`,
  classic: (ns: string, ksa: string) => `serviceAccount:orbit-prod.svc.id.goog[${ns}/${ksa}]`,
} as const;
