import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createWiStatusHandler } from '../../functions/wi-status.ts';
import { createMemoryStore } from '../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../shared/incidents/store.ts';
import { readSnapshotFile } from '../../shared/live/snapshot-file.ts';
import { signSlackRequest } from '../../shared/slack/verify.ts';
import { FIXTURES } from '../support/paths.ts';
import { slashCommandBody } from '../support/slash-command.ts';
import { cartFailures, storeGroup } from '../support/symptom-groups.ts';

const SECRET = 'test-signing-secret-0123456789';
const NOW = new Date('2026-11-29T11:00:00Z');

/** Three token failures of checkout/cart in core-1, as the symptom path stores them. */
async function storeWithFailures(): Promise<IncidentStore> {
  const store = createMemoryStore();
  await storeGroup(store, cartFailures(NOW));
  return store;
}

/** Runs the handler on a signed slash command as functions-framework hands it over. */
async function ask(store: IncidentStore, text: string): Promise<string> {
  const handler = createWiStatusHandler({
    signingSecret: SECRET,
    store,
    inventory: async () => readSnapshotFile(join(FIXTURES, 'snapshot.json')),
    publish: async () => {
      throw new Error('nothing is deferred here');
    },
    silencePolicy: { users: [] },
    logger: { log() {} },
    now: () => NOW,
  });
  const body = slashCommandBody(text);
  const headers = signSlackRequest(SECRET, body, Math.floor(NOW.getTime() / 1000));
  const req = {
    method: 'POST',
    headers: {
      ...headers,
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(body.length),
    },
    rawBody: Buffer.from(body),
  };
  let sent: unknown;
  const res = {
    status: () => res,
    set: () => res,
    type: () => res,
    send: (value: unknown) => {
      sent = value;
    },
    json: (value: unknown) => {
      sent = value;
    },
  };
  await handler(req as never, res as never);
  return JSON.stringify(sent);
}

describe('/wi-status shows workloads’ credential failures from the store', () => {
  it('in the summary and beside the KSA in the cluster view', async () => {
    const store = await storeWithFailures();
    const summary = await ask(store, '');
    assert.match(summary, /3 credential failures in the last 15 min/);
    assert.match(summary, /core-1 checkout\/cart/);
    const cluster = await ask(store, 'core-1');
    assert.match(cluster, /checkout\/cart[^"]*🔥 \*?3 credential failures/);
  });

  it('says so when the failures cannot be read, never that there are none', async () => {
    const store = await storeWithFailures();
    const broken: IncidentStore = {
      ...store,
      listOpen: () => store.listOpen(),
      listSymptomGroups: () => Promise.reject(new Error('store down')),
    };
    assert.match(await ask(broken, ''), /Credential failures not shown/);
    assert.match(await ask(broken, 'core-1'), /Credential failures not shown/);
  });
});
