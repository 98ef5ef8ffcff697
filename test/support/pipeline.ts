import {
  type Emulator,
  type EmulatorOptions,
  startFirestoreEmulator,
  startPubSubEmulator,
} from './emulators.ts';
import { type FunctionServer, startFunction, waitUntil } from './function-server.ts';
import { type PubSub, type PubSubMessage, pubSubClient, pushEndpoint } from './pubsub.ts';

/**
 * The real pipeline for e2e tests and the e2e bench: the Pub/Sub emulator pushes a topic's messages
 * to the functions-framework server of `auditEvents`, which keeps its state in the Firestore
 * emulator (or memory) and talks to whatever Slack and PagerDuty URLs it is given.
 */

export const TOPIC = 'wi-sentinel-audit';
/** Firestore's project: "demo-" projects never reach Google. */
export const FIRESTORE_PROJECT = 'demo-wi-sentinel-e2e';

export interface Emulators {
  pubsub: Emulator;
  firestore: Emulator;
  stop(): Promise<void>;
}

/**
 * Both emulators, started together. When either cannot start, the other is stopped and the error
 * names every emulator that failed and why (the starters' own messages), so a test run fails with
 * the reason instead of waiting on something that never comes.
 */
export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  const [pubsub, firestore] = await Promise.allSettled([
    startPubSubEmulator(options),
    startFirestoreEmulator(options),
  ]);
  if (pubsub.status === 'fulfilled' && firestore.status === 'fulfilled') {
    return {
      pubsub: pubsub.value,
      firestore: firestore.value,
      async stop() {
        await Promise.all([pubsub.value.stop(), firestore.value.stop()]);
      },
    };
  }
  const reasons: string[] = [];
  for (const started of [pubsub, firestore]) {
    if (started.status === 'fulfilled') await started.value.stop();
    else reasons.push((started.reason as Error).message);
  }
  throw new Error(`the e2e pipeline needs the Google Cloud emulators:\n${reasons.join('\n')}`);
}

/** What the function logged about one Pub/Sub message (its CloudEvent id is the message id). */
export interface Seen {
  /** Lines that end a delivery: acknowledged (finding lines, ignored, duplicate, undecodable…). */
  done: number;
  /** Deliveries that failed so Pub/Sub redelivers. */
  retried: number;
  lines: Record<string, unknown>[];
}

export interface Pipeline {
  fn: FunctionServer;
  pubsub: PubSub;
  /** Publishes sink messages to the topic; returns their ids. */
  publish(messages: readonly PubSubMessage[]): Promise<string[]>;
  /** What the function logged, by message id (parsed incrementally). */
  seen(): Map<string, Seen>;
  /** Log lines without an event id (start-up, the Slack client's warnings…). */
  other(): Record<string, unknown>[];
  /** Waits until every id has been acknowledged by the function at least once. */
  waitForDone(ids: readonly string[], timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The line that says the function acknowledged the delivery (see functions/audit-events.ts): one per
 * delivery, whatever it came to.
 */
export function isDone(line: Record<string, unknown>): boolean {
  return /^(ignored: |duplicate delivery acknowledged|undecodable delivery acknowledged|event dropped after a permanent failure|delivery handled: )/.test(
    String(line.message),
  );
}

/**
 * Serves `auditEvents`, creates the topic in its own Pub/Sub project (`projectId`: one per test,
 * so no two tests' subscriptions see each other's messages) and a push subscription to the function.
 */
export async function startPipeline({
  pubsubHost,
  projectId,
  env,
  source,
}: {
  pubsubHost: string;
  projectId: string;
  env: Record<string, string>;
  source?: string;
}): Promise<Pipeline> {
  const fn = await startFunction('auditEvents', { env, ...(source ? { source } : {}) });
  const pubsub = pubSubClient(pubsubHost, projectId);
  const subscription = `${TOPIC}-push`;
  try {
    await pubsub.createTopic(TOPIC);
    await pubsub.createPushSubscription(subscription, {
      topic: TOPIC,
      endpoint: pushEndpoint(fn.url, projectId, TOPIC),
    });
  } catch (error) {
    await fn.stop();
    throw error;
  }

  const byId = new Map<string, Seen>();
  const others: Record<string, unknown>[] = [];
  let parsed = 0;
  let previous: Record<string, unknown> | undefined;
  const seen = () => {
    for (; parsed < fn.lines.length; parsed++) {
      const text = fn.lines[parsed] as string;
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as Record<string, unknown>;
      if (typeof line.eventId !== 'string') {
        previous = line;
        others.push(line);
        continue;
      }
      let entry = byId.get(line.eventId);
      if (entry === undefined) {
        entry = { done: 0, retried: 0, lines: [] };
        byId.set(line.eventId, entry);
      }
      entry.lines.push(line);
      // One line per finding, written in one go: the lines after the first end the same delivery.
      const sameDelivery =
        line.finding !== undefined && previous?.finding !== undefined && previous.eventId === line.eventId;
      previous = line;
      if (sameDelivery) continue;
      if (isDone(line)) entry.done += 1;
      else if (/^delivery will be retried/.test(String(line.message))) entry.retried += 1;
    }
    return byId;
  };

  return {
    fn,
    pubsub,
    publish: (messages) => pubsub.publish(TOPIC, messages),
    seen,
    other: () => {
      seen();
      return others;
    },
    async waitForDone(ids, timeoutMs = 30_000) {
      try {
        await waitUntil(() => {
          const map = seen();
          return ids.every((id) => (map.get(id)?.done ?? 0) > 0);
        }, timeoutMs);
      } catch {
        const missing = ids.filter((id) => (seen().get(id)?.done ?? 0) === 0);
        throw new Error(
          `${missing.length} of ${ids.length} messages not acknowledged by the function within ${timeoutMs} ms ` +
            `(e.g. ${missing.slice(0, 5).join(', ')}); last lines:\n${fn.lines
              .slice(-10)
              .map((line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line))
              .join('\n')}`,
        );
      }
    },
    async stop() {
      // The subscription first, so the emulator stops pushing to a server that is going away.
      await pubsub.deleteSubscription(subscription).catch(() => {});
      await fn.stop();
    },
  };
}
