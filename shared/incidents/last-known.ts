import type { Snapshot } from '../inventory/snapshot.ts';
import type { IncidentStore } from './store.ts';

/**
 * The last-known inventory (saved by the sweep), as an instance keeps it: loaded on first use, and
 * loaded again only when a newer sweep saved another one. The cheap metadata read that tells is made
 * at most once per `checkEveryMs`, so a burst of events costs one store read, not one each.
 */
export interface LastKnownOptions {
  checkEveryMs?: number;
  now?: () => number;
}

export const CHECK_EVERY_MS = 60_000;

export function lastKnownInventory(
  store: Pick<IncidentStore, 'inventoryMeta' | 'loadInventory'>,
  { checkEveryMs = CHECK_EVERY_MS, now = Date.now }: LastKnownOptions = {},
): () => Promise<Snapshot | undefined> {
  let cached: { sweptAt: string; snapshot: Snapshot } | undefined;
  let checkedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<Snapshot | undefined> | undefined;

  async function refresh(): Promise<Snapshot | undefined> {
    const meta = await store.inventoryMeta();
    checkedAt = now();
    if (meta === undefined) {
      cached = undefined;
      return undefined;
    }
    if (cached?.sweptAt === meta.sweptAt) return cached.snapshot;
    const stored = await store.loadInventory();
    cached = stored ? { sweptAt: stored.sweptAt, snapshot: stored.snapshot } : undefined;
    return cached?.snapshot;
  }

  return async () => {
    if (now() - checkedAt < checkEveryMs) return cached?.snapshot;
    // Events handled at the same time share one read.
    pending ??= refresh().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
