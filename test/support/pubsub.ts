/**
 * The Pub/Sub emulator's REST API, as the e2e tests and the e2e bench use it: a topic, a push
 * subscription to a served function, and publishing messages as a Log Router sink writes them
 * (the LogEntry as JSON with a trailing newline, base64 in `data`, and the entry's timestamp in the
 * `logging.googleapis.com/timestamp` attribute).
 *
 * What this emulator does (checked 2026-11-29, google-cloud-cli-pubsub-emulator): a push that is
 * answered with a non-2xx status is redelivered about a second later, again and again;
 * `ackDeadlineSeconds` (minimum 10) is how long it waits for an answer before pushing the same
 * message again, concurrently; a `retryPolicy` is honoured, but a small one (0.1 s to 0.5 s) makes
 * redelivery slower (about 3 s apart) than none at all; infra's (10 s to 600 s) pushes a failing
 * message again after about 1, 14, 33 and 58 s (checked 2026-12-03). A `deadLetterPolicy` is honoured:
 * after maxDeliveryAttempts failed pushes the message is published to the dead-letter topic with the
 * attributes CloudPubSubDeadLetterSourceDeliveryCount and CloudPubSubDeadLetterSourceSubscription.
 * Publishing data that is not base64 is refused with 400, so a function behind it only ever sees
 * base64 data.
 */

export interface PubSubMessage {
  /** base64 */
  data: string;
  attributes?: Record<string, string>;
  orderingKey?: string;
}

export interface PushSubscriptionOptions {
  topic: string;
  endpoint: string;
  ackDeadlineSeconds?: number;
  /** After this many failed pushes, the message moves to `deadLetterTopic` (a topic id of this project). */
  deadLetter?: { topic: string; maxDeliveryAttempts: number };
  /** Exponential backoff between pushes of one message (`"10s"`); none: the emulator's own pace. */
  retryPolicy?: { minimumBackoff: string; maximumBackoff: string };
}

/** A message pulled from a subscription, with what Pub/Sub added (dead-letter attributes). */
export interface PulledMessage {
  messageId: string;
  data: string;
  attributes: Record<string, string>;
}

export interface PubSub {
  projectId: string;
  createTopic(topic: string): Promise<void>;
  /** A pull subscription (for a dead-letter topic). */
  createPullSubscription(name: string, topic: string): Promise<void>;
  /** A push subscription; `endpoint` receives the Pub/Sub push body. */
  createPushSubscription(name: string, options: PushSubscriptionOptions): Promise<void>;
  deleteSubscription(name: string): Promise<void>;
  /** Pulls and acknowledges what a pull subscription holds (at most 1,000 messages). */
  pullAll(subscription: string): Promise<PulledMessage[]>;
  /** Publishes in requests of at most 1,000 messages (the API's limit); returns the message ids in order. */
  publish(topic: string, messages: readonly PubSubMessage[]): Promise<string[]>;
}

/** Pub/Sub's per-request limit: https://cloud.google.com/pubsub/quotas#resource_limits */
const MAX_MESSAGES_PER_PUBLISH = 1_000;

/** A client for one project of the emulator at `host` (`127.0.0.1:PORT`). */
export function pubSubClient(host: string, projectId: string): PubSub {
  const base = `http://${host}/v1/projects/${projectId}`;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${base}/${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`Pub/Sub emulator: ${method} ${path}: HTTP ${response.status} ${text}`);
    return text === '' ? {} : JSON.parse(text);
  }

  return {
    projectId,
    async createTopic(topic) {
      await call('PUT', `topics/${topic}`);
    },
    async createPullSubscription(name, topic) {
      await call('PUT', `subscriptions/${name}`, { topic: `projects/${projectId}/topics/${topic}` });
    },
    // 60 s by default, not the minimum 10: a function's first delivery on a busy 2-core machine (a
    // cold start and the first Firestore transaction) can take longer, and a redelivery for want of
    // patience is not what the tests are about; failures are still redelivered about a second later.
    async createPushSubscription(
      name,
      { topic, endpoint, ackDeadlineSeconds = 60, deadLetter, retryPolicy },
    ) {
      await call('PUT', `subscriptions/${name}`, {
        topic: `projects/${projectId}/topics/${topic}`,
        ackDeadlineSeconds,
        pushConfig: { pushEndpoint: endpoint },
        ...(deadLetter
          ? {
              deadLetterPolicy: {
                deadLetterTopic: `projects/${projectId}/topics/${deadLetter.topic}`,
                maxDeliveryAttempts: deadLetter.maxDeliveryAttempts,
              },
            }
          : {}),
        ...(retryPolicy ? { retryPolicy } : {}),
      });
    },
    async pullAll(subscription) {
      const pulled: PulledMessage[] = [];
      for (;;) {
        const answer = (await call('POST', `subscriptions/${subscription}:pull`, {
          maxMessages: 1_000,
          returnImmediately: true,
        })) as { receivedMessages?: { ackId: string; message: Partial<PulledMessage> }[] };
        const received = answer.receivedMessages ?? [];
        if (received.length === 0) return pulled;
        for (const { message } of received) {
          pulled.push({
            messageId: message.messageId ?? '',
            data: message.data ?? '',
            attributes: message.attributes ?? {},
          });
        }
        await call('POST', `subscriptions/${subscription}:acknowledge`, {
          ackIds: received.map((r) => r.ackId),
        });
      }
    },
    async deleteSubscription(name) {
      await call('DELETE', `subscriptions/${name}`);
    },
    async publish(topic, messages) {
      const ids: string[] = [];
      for (let start = 0; start < messages.length; start += MAX_MESSAGES_PER_PUBLISH) {
        const chunk = messages.slice(start, start + MAX_MESSAGES_PER_PUBLISH);
        const answer = (await call('POST', `topics/${topic}:publish`, { messages: chunk })) as {
          messageIds?: string[];
        };
        if (answer.messageIds?.length !== chunk.length) {
          throw new Error(`Pub/Sub emulator: publish answered ${JSON.stringify(answer)}`);
        }
        ids.push(...answer.messageIds);
      }
      return ids;
    },
  };
}

/** A LogEntry as a Log Router sink publishes it. */
export function sinkMessage(entry: Record<string, unknown>): PubSubMessage {
  const timestamp = typeof entry.timestamp === 'string' ? entry.timestamp : new Date().toISOString();
  return {
    data: Buffer.from(`${JSON.stringify(entry)}\n`).toString('base64'),
    attributes: { 'logging.googleapis.com/timestamp': timestamp },
  };
}

/**
 * Where a push subscription sends a topic's messages to a served cloudEvent function: the path
 * names the topic, so functions-framework's CloudEvent `source` does too.
 */
export function pushEndpoint(functionUrl: string, projectId: string, topic: string): string {
  return new URL(`projects/${projectId}/topics/${topic}`, functionUrl).toString();
}
