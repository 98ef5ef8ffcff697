import type { TokenSource } from '../gcp/auth.ts';
import { createGoogleHttp } from '../gcp/http.ts';

/**
 * Publishes deferred commands to the commands topic through Pub/Sub's REST API
 * (https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics/publish), over fetch with
 * the project's Google HTTP client, as the IAM and Resource Manager adapters do.
 *
 * Why not @google-cloud/pubsub: a user is waiting, within Slack's 3 seconds, and the first publish of
 * a cold instance through the client library cost about 0.9 s here (0.5 s to import it and its gRPC
 * stack, 0.4 s for the first call; measured against the emulator on this machine under load), and
 * twice that when requests queued behind it: the bench saw it miss a 2 s budget. Over fetch the
 * first publish costs a token (google-auth-library, about 30 ms to load) and one HTTP request.
 * With `emulatorHost` it talks to the Pub/Sub emulator, which takes no credentials.
 */
export interface PublishedMessage {
  data: Buffer;
  attributes: Record<string, string>;
}

export type PublishCommand = (message: PublishedMessage) => Promise<string>;

export const PUBSUB_API_URL = 'https://pubsub.googleapis.com';

export function createCommandPublisher({
  topic,
  projectId,
  tokens,
  emulatorHost,
  apiUrl = PUBSUB_API_URL,
  timeoutMs = 2_000,
  fetch = globalThis.fetch,
}: {
  topic: string;
  projectId: string | undefined;
  tokens: TokenSource;
  emulatorHost?: string;
  apiUrl?: string;
  /** The whole publish, retries included: it must fit within Slack's deadline. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
}): PublishCommand {
  const base = emulatorHost ? `http://${emulatorHost}` : apiUrl.replace(/\/$/, '');
  const http = createGoogleHttp({
    // The emulator takes no credentials: asking ADC for a token there would only cost time.
    tokens: emulatorHost ? async () => 'emulator' : tokens,
    timeoutMs,
    retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 200, deadlineMs: timeoutMs },
    fetch,
  });
  return async ({ data, attributes }) => {
    if (!projectId) throw new Error('GOOGLE_CLOUD_PROJECT is not set: the commands topic has no project');
    const answer = await http.request<{ messageIds?: string[] }>({
      api: 'pubsub',
      method: 'POST',
      url: `${base}/v1/projects/${encodeURIComponent(projectId)}/topics/${encodeURIComponent(topic)}:publish`,
      body: { messages: [{ data: data.toString('base64'), attributes }] },
      permission: 'pubsub.topics.publish',
      what: `topic ${topic}`,
    });
    const [id] = answer.messageIds ?? [];
    if (id === undefined) throw new Error(`publishing to ${topic}: Pub/Sub answered without a message id`);
    return id;
  };
}
