import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack } from '../fakes/slack.ts';
import { startFirestoreEmulator } from './emulators.ts';
import { type FunctionServer, startFunction } from './function-server.ts';
import { sinkMessage } from './pubsub.ts';
import { loadSnapshot } from './snapshots.ts';
import { type Link, withLinks } from './wi-stream.ts';

/**
 * auditEvents served by functions-framework on a simulated organization (the fixture's, with `links`
 * more Workload Identity links: wi-stream.ts), telling a fake Slack and PagerDuty when asked, its state
 * in memory or a Firestore emulator: what the hostile suite attacks. `push` delivers an entry as a Pub/Sub push does (its insertId as the
 * message id, unless one is given: the same id is the same delivery again).
 */
export interface ServedAuditEvents {
  server: FunctionServer;
  links: Link[];
  /** The fake Slack and PagerDuty it tells, when asked for. */
  slack: FakeSlack;
  pagerduty: FakePagerDuty;
  push(entry: Record<string, unknown>, messageId?: string): Promise<number>;
  stop(): Promise<void>;
}

export const NOTIFY_TOKEN = 'xoxb-hostile-suite-0000';
export const NOTIFY_ROUTING_KEY = 'R0UT1NGKEY000000000000000000H0ST';

export async function serveAuditEvents({
  links: count = 1,
  shape,
  slack: tellSlack = false,
  pagerduty: page = false,
  firestore = false,
  env = {},
}: {
  links?: number;
  /** Changes the organization (and the links) before it is served. */
  shape?: (snapshot: Record<string, unknown>, links: Link[]) => Link[];
  /** Tell a fake Slack (and PagerDuty), started here and stopped with the function. */
  slack?: boolean;
  pagerduty?: boolean;
  /** Keep state in a Firestore emulator, started here, instead of memory. */
  firestore?: boolean;
  env?: Record<string, string>;
}): Promise<ServedAuditEvents> {
  const [slack, pagerduty, emulator] = await Promise.all([
    startFakeSlack({ token: NOTIFY_TOKEN }),
    startFakePagerDuty(),
    firestore ? startFirestoreEmulator() : undefined,
  ]);
  const stopFakes = () => Promise.all([slack.stop(), pagerduty.stop(), emulator?.stop()]);
  const dir = await mkdtemp(join(tmpdir(), 'wi-hostile-'));
  const built = withLinks(loadSnapshot() as unknown as Record<string, unknown>, count);
  const links = shape ? shape(built.snapshot, built.links) : built.links;
  await writeFile(join(dir, 'snapshot.json'), JSON.stringify(built.snapshot));
  const server = await startFunction('auditEvents', {
    env: {
      WI_SNAPSHOT: join(dir, 'snapshot.json'),
      WI_STATE: 'memory',
      ...(tellSlack
        ? { SLACK_BOT_TOKEN: NOTIFY_TOKEN, SLACK_API_URL: slack.url, SLACK_CHANNEL: '#wi-alerts' }
        : {}),
      ...(page ? { PAGERDUTY_ROUTING_KEY: NOTIFY_ROUTING_KEY, PAGERDUTY_EVENTS_URL: pagerduty.url } : {}),
      ...(emulator
        ? {
            WI_STATE: 'firestore',
            FIRESTORE_EMULATOR_HOST: emulator.host,
            GOOGLE_CLOUD_PROJECT: emulator.projectId,
            WI_FIRESTORE_PREFIX: `hostile${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}-`,
          }
        : {}),
      ...env,
    },
  }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    await stopFakes();
    throw error;
  });
  return {
    server,
    links,
    slack,
    pagerduty,
    async push(entry, messageId = String(entry.insertId)) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          message: { ...sinkMessage(entry), messageId },
          subscription: 'projects/p/subscriptions/s',
        }),
      });
      await response.arrayBuffer();
      return response.status;
    },
    async stop() {
      await server.stop();
      await stopFakes();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Pushes and expects the delivery acknowledged (204), saying what the function last logged if not. */
export async function pushed(served: ServedAuditEvents, entry: Record<string, unknown>, messageId?: string) {
  const status = await served.push(entry, messageId);
  assert.equal(status, 204, served.server.lines.slice(-3).join('\n'));
}
