import type { v1 } from '@google-cloud/pubsub';
import { LookupError } from '../errors.ts';
import type { IamPolicy } from '../inventory/snapshot.ts';
import { oauthClientFor, type TokenSource } from './auth.ts';
import { gaxEndpoint, gaxLookupError } from './gax-error.ts';
import { DEFAULT_TIMEOUT_MS } from './http.ts';
import { DEFAULT_RETRY, type RetryHooks, type RetryPolicy, withRetries } from './retry.ts';

/**
 * The IAM policy of a Pub/Sub topic, through `@google-cloud/pubsub`'s PublisherClient (loaded on
 * first use): gRPC to Google, its REST transport to any other URL. The self-checks read it to see
 * that the audit sink's writer identity may still publish.
 * https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics/getIamPolicy
 */
export interface TopicIamPort {
  /** `topic` is `projects/P/topics/T`; `undefined` when the topic does not exist (404). */
  getTopicPolicy(topic: string): Promise<IamPolicy | undefined>;
}

export interface TopicIamAdapterOptions {
  tokens: TokenSource;
  /** Default https://pubsub.googleapis.com */
  apiUrl?: string;
  /** Per attempt, ms. */
  timeoutMs?: number;
  retry?: RetryPolicy;
  hooks?: RetryHooks;
}

const GOOGLE_HOST = 'pubsub.googleapis.com';
/** Conditional bindings come back only when version 3 is asked for. */
const POLICY_VERSION = 3;

type PublisherClient = InstanceType<typeof v1.PublisherClient>;
type AuthClientOption = NonNullable<
  NonNullable<ConstructorParameters<typeof v1.PublisherClient>[0]>['authClient']
>;

export function createTopicIamPort({
  tokens,
  apiUrl = `https://${GOOGLE_HOST}`,
  timeoutMs = DEFAULT_TIMEOUT_MS,
  retry = DEFAULT_RETRY,
  hooks = {},
}: TopicIamAdapterOptions): TopicIamPort {
  let client: Promise<PublisherClient> | undefined;
  const clientOf = () => {
    client ??= createPublisherClient(apiUrl, tokens).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
    return client;
  };
  const callOptions = { timeout: timeoutMs, retry: null };

  return {
    async getTopicPolicy(topic) {
      const what = `IAM policy of topic ${topic}`;
      try {
        const [policy] = await withRetries(
          async () => {
            const c = await clientOf();
            try {
              // The typings ask for the message class; a plain object is what the client encodes.
              const request = { resource: topic, options: { requestedPolicyVersion: POLICY_VERSION } };
              return await c.getIamPolicy(
                request as Parameters<PublisherClient['getIamPolicy']>[0],
                callOptions,
              );
            } catch (error) {
              throw gaxLookupError(error, {
                api: 'pubsub',
                what,
                permission: 'pubsub.topics.getIamPolicy',
                timeoutMs,
              });
            }
          },
          retry,
          hooks,
        );
        return {
          bindings: (policy.bindings ?? []).map((binding) => ({
            role: binding.role ?? '',
            members: binding.members ?? [],
            ...(binding.condition ? { condition: binding.condition } : {}),
          })),
        };
      } catch (error) {
        if (error instanceof LookupError && error.status === 404) return undefined;
        throw error;
      }
    },
  };
}

async function createPublisherClient(apiUrl: string, tokens: TokenSource): Promise<PublisherClient> {
  const [{ v1 }, authClient] = await Promise.all([import('@google-cloud/pubsub'), oauthClientFor(tokens)]);
  const endpoint = gaxEndpoint(apiUrl, GOOGLE_HOST);
  // A URL of our choosing never turns on the library's emulator mode (PUBSUB_EMULATOR_HOST): the
  // client is built directly, so only `apiUrl` decides where it talks.
  // Its google-auth-library is a nested copy of the same major version: the types differ, not the API.
  return new v1.PublisherClient({ authClient: authClient as unknown as AuthClientOption, ...endpoint });
}
