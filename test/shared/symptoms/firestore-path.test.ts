import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Firestore } from '@google-cloud/firestore';
import { createFirestoreStore, firestoreSettings } from '../../../shared/incidents/firestore-store.ts';
import { resolveQuietSymptoms } from '../../../shared/symptoms/quiet.ts';
import { type Emulator, startFirestoreEmulator } from '../../support/emulators.ts';
import { useNotifyFakes } from '../../support/notify-fakes.ts';
import {
  auditEvent,
  edits,
  failureDelivery,
  harness,
  pdBodies,
  posts,
  replies,
  slackText,
  TEXT,
} from './support.ts';

/** The symptom path on the production store: groups, evidence and links as Firestore keeps them. */
describe('symptoms on Firestore (emulator)', () => {
  let emulator: Emulator | undefined;
  let client: Firestore | undefined;
  const fakes = useNotifyFakes();
  before(async () => {
    emulator = await startFirestoreEmulator();
    client = new Firestore(firestoreSettings({ emulatorHost: emulator.host, projectId: emulator.projectId }));
  });
  after(async () => {
    await client?.terminate();
    await emulator?.stop();
  });

  test('a symptom incident, explained by the change that arrives late, resolved after the quiet window', async () => {
    assert.ok(client, 'the Firestore emulator did not start');
    const store = createFirestoreStore({ firestore: client, prefix: 'symptoms-' });
    const start = Date.parse('2026-11-04T09:12:50Z');
    const h = harness(fakes, start, { store });
    const cart = (at: number) => ({
      namespace: 'checkout',
      pod: 'cart-6d8-a',
      node: 'gke-core-1-general-7f3a9c1e-x2lq',
      at,
      text: TEXT.goDenied,
    });
    for (const s of [0, 60, 130]) {
      h.clock.set(start + s * 1000 + 2_000);
      await h.alerting.handle(failureDelivery(cart(start + s * 1000)));
    }
    const group = await store.symptomGroup('orbit-prod/europe-west4/core-1/checkout/cart');
    assert.equal(group?.count, 3);
    const [symptomIncident] = await store.listOpen();
    assert.equal(symptomIncident?.kind, 'wi-auth-failures');
    assert.equal(symptomIncident?.evidence?.[0]?.count, 3);
    assert.equal(symptomIncident?.diagnosis?.healthy, true);

    h.clock.set(start + 140_000);
    await h.alerting.handle(auditEvent('gsa-binding-removed'));
    const open = await store.listOpen();
    assert.deepEqual(open.map((i) => i.kind).sort(), ['binding-missing', 'wi-auth-failures']);
    const binding = open.find((i) => i.kind === 'binding-missing');
    assert.equal(binding?.evidence?.[0]?.count, 3);
    const explained = open.find((i) => i.kind === 'wi-auth-failures');
    assert.equal(explained?.explainedBy?.[0]?.id, binding?.id);
    const linked = await store.symptomGroup('orbit-prod/europe-west4/core-1/checkout/cart');
    assert.deepEqual(
      linked?.links.map((l) => l.fingerprint).sort(),
      [binding?.fingerprint, explained?.fingerprint].sort(),
    );
    assert.equal(posts(fakes.slack).length, 2);
    assert.equal(replies(fakes.slack).length, 1);
    assert.match(slackText(edits(fakes.slack).at(-1) as never), /Explained by/);

    const symptoms = h.alerting.symptoms;
    assert.ok(symptoms);
    h.clock.set(start + 130_000 + 16 * 60_000);
    const quiet = await resolveQuietSymptoms({ symptoms, runId: 'fs-run', now: h.clock.now });
    assert.deepEqual(
      quiet.resolved.map((f) => f.kind),
      ['wi-auth-failures'],
    );
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.kind),
      ['binding-missing'],
      'the binding stays broken until repaired',
    );
    assert.deepEqual(
      pdBodies(fakes.pd).map((e) => e.event_action),
      ['trigger', 'trigger', 'trigger', 'resolve'],
    );
  });
});
