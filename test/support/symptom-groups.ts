import type { SymptomGroupRecord } from '../../shared/domain/symptom-group.ts';
import type { IncidentStore } from '../../shared/incidents/store.ts';
import type { Symptom } from '../../shared/symptoms/classify.ts';
import { recordSymptom } from '../../shared/symptoms/group.ts';

/**
 * The symptom group the symptom path stores for checkout/cart in orbit-prod's core-1 after token
 * failures `minutesAgo` before `now` (one failure each), for tests of what shows the counts.
 */
export function cartFailures(now: Date, minutesAgo: readonly number[] = [6, 4, 2]): SymptomGroupRecord {
  let record: SymptomGroupRecord | undefined;
  for (const minutes of minutesAgo) {
    const time = new Date(now.getTime() - minutes * 60_000).toISOString();
    const symptom: Symptom = {
      kind: 'token-denied',
      library: 'node',
      signature: 'node/token-denied',
      project: 'orbit-prod',
      cluster: { location: 'europe-west4', name: 'core-1' },
      namespace: 'checkout',
      pod: 'cart-6d8-a',
      container: 'cart',
      message: 'Could not refresh access token: A Forbidden error was returned',
      time,
      insertId: `cart-${minutes}`,
    };
    record = recordSymptom(record, symptom, { ksa: 'cart', match: 'pod' }, new Date(time)).record;
  }
  if (record === undefined) throw new Error('cartFailures needs at least one failure');
  return record;
}

/** Stores the group as the symptom path would. */
export async function storeGroup(
  store: Pick<IncidentStore, 'transactSymptomGroup'>,
  group: SymptomGroupRecord,
) {
  await store.transactSymptomGroup(group.key, () => ({ next: group, result: undefined }));
}
