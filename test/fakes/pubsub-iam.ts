/**
 * A fake Pub/Sub API on 127.0.0.1 serving the IAM policies of topics, for the self-check that the
 * audit sink may still publish, and the topics and subscriptions `wi-sentinel doctor` reads; it
 * records every call.
 *
 *   const pubsub = await startFakePubsubIam({ token, topics: { 'projects/p/topics/t': policy } });
 *   pubsub.setSubscription('projects/p/subscriptions/s', { topic: 'projects/p/topics/t', pushConfig: … });
 *
 * A topic exists when it has a policy (setTopic). `GET /v1/projects/P/topics/T` and
 * `GET /v1/projects/P/subscriptions/S` answer the resource or 404
 * (https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions/get).
 *
 * Route (https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.topics/getIamPolicy):
 * `GET /v1/projects/P/topics/T:getIamPolicy` as Google documents it, and `POST` with the request
 * in the body, which is what `@google-cloud/pubsub`'s REST transport sends (the generic IAMPolicy
 * rule). The policy, or 404 when the topic does not exist.
 */
import type { IamPolicy } from '../../shared/inventory/snapshot.ts';
import {
  type FakeRoute,
  type FakeServer,
  googleError,
  putOrDelete,
  startGoogleFake,
  unknownMethod,
} from './fake-server.ts';

export interface FakePubsubIamOptions {
  token: string;
  topics?: Record<string, IamPolicy>;
}

/** A Subscription as the REST API returns it (the fields doctor reads). */
export interface FakeSubscription {
  topic: string;
  pushConfig?: { pushEndpoint: string; oidcToken?: { serviceAccountEmail: string; audience?: string } };
  deadLetterPolicy?: { deadLetterTopic: string; maxDeliveryAttempts: number };
  ackDeadlineSeconds?: number;
  state?: string;
}

export interface FakePubsubIam extends FakeServer {
  setTopic(name: string, policy: IamPolicy | undefined): void;
  setSubscription(name: string, subscription: FakeSubscription | undefined): void;
}

export async function startFakePubsubIam(options: FakePubsubIamOptions): Promise<FakePubsubIam> {
  const topics = new Map(Object.entries(options.topics ?? {}));
  const subscriptions = new Map<string, FakeSubscription>();

  function route(request: { method: string; path: string }): FakeRoute {
    const match = /^\/v1\/(projects\/[^/]+\/topics\/[^/:]+):getIamPolicy$/.exec(request.path);
    if (match && (request.method === 'GET' || request.method === 'POST')) {
      const name = match[1] as string;
      return {
        kind: 'pubsub.getIamPolicy',
        answer: () => {
          const policy = topics.get(name);
          if (policy === undefined) return { status: 404, body: googleError(404, 'Resource not found') };
          const conditional = policy.bindings.some((binding) => binding.condition !== undefined);
          return {
            status: 200,
            body: {
              version: conditional ? 3 : 1,
              etag: 'BwXhqDvMWdg=',
              ...(policy.bindings.length > 0 ? { bindings: policy.bindings } : {}),
            },
          };
        },
      };
    }
    const topic = /^\/v1\/(projects\/[^/]+\/topics\/[^/:]+)$/.exec(request.path);
    if (request.method === 'GET' && topic) {
      const name = topic[1] as string;
      return {
        kind: 'pubsub.getTopic',
        answer: () =>
          topics.has(name)
            ? { status: 200, body: { name } }
            : { status: 404, body: googleError(404, 'Resource not found') },
      };
    }
    const subscription = /^\/v1\/(projects\/[^/]+\/subscriptions\/[^/:]+)$/.exec(request.path);
    if (request.method === 'GET' && subscription) {
      const name = subscription[1] as string;
      return {
        kind: 'pubsub.getSubscription',
        answer: () => {
          const found = subscriptions.get(name);
          return found === undefined
            ? { status: 404, body: googleError(404, 'Resource not found') }
            : { status: 200, body: { name, ackDeadlineSeconds: 10, state: 'ACTIVE', ...found } };
        },
      };
    }
    return unknownMethod('pubsub', request);
  }

  const server = await startGoogleFake('pubsub', options, route);
  return Object.assign(server, {
    setTopic(name: string, policy: IamPolicy | undefined) {
      putOrDelete(topics, name, policy);
    },
    setSubscription(name: string, next: FakeSubscription | undefined) {
      putOrDelete(subscriptions, name, next);
    },
  });
}
