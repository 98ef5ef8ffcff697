import type { Topic } from '@google-cloud/pubsub';

/**
 * Publishes deferred commands to the commands topic with @google-cloud/pubsub, loaded on the first
 * deferred command (a summary never loads it). One message per publish, sent at once (no batching
 * delay: a user is waiting), and bounded: the client's own retries would outlast Slack's 3 seconds.
 * With `emulatorHost` it talks to the Pub/Sub emulator.
 */
export interface PublishedMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

export type PublishCommand = (message: PublishedMessage) => Promise<string>;

export function createCommandPublisher({
  topic,
  projectId,
  emulatorHost,
  timeoutMs = 2_000,
}: {
  topic: string;
  projectId?: string;
  emulatorHost?: string;
  timeoutMs?: number;
}): PublishCommand {
  let target: Promise<Topic> | undefined;
  const topicOf = () => {
    target ??= import('@google-cloud/pubsub').then(({ PubSub }) =>
      new PubSub({
        ...(projectId ? { projectId } : {}),
        ...(emulatorHost ? { apiEndpoint: emulatorHost, emulatorMode: true } : {}),
      }).topic(topic, {
        batching: { maxMessages: 1, maxMilliseconds: 0 },
        gaxOpts: { timeout: timeoutMs },
      }),
    );
    target.catch(() => {
      target = undefined;
    });
    return target;
  };
  return async (message) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const published = topicOf().then((t) => t.publishMessage(message));
    const timedOut = new Promise<never>((_, reject) =>
      deadline.addEventListener('abort', () =>
        reject(new Error(`publishing to ${topic} took longer than ${timeoutMs} ms`)),
      ),
    );
    // The race leaves no rejection unhandled, whichever side loses.
    published.catch(() => {});
    return Promise.race([published, timedOut]);
  };
}
