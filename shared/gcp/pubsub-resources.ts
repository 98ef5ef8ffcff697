import { type GoogleHttp, unlessNotFound } from './http.ts';

/**
 * Pub/Sub topics and subscriptions as `wi-sentinel doctor` reads them, over the REST API
 * (https://cloud.google.com/pubsub/docs/reference/rest/v1/projects.subscriptions/get): plain
 * authorized requests, so no Pub/Sub client library is loaded for two reads.
 */
export interface SubscriptionInfo {
  name: string;
  topic: string;
  pushEndpoint?: string;
  /** The identity of the push's OIDC token. */
  pushIdentity?: string;
  deadLetterTopic?: string;
  maxDeliveryAttempts?: number;
  ackDeadlineSeconds?: number;
  /** ACTIVE, or RESOURCE_ERROR when Pub/Sub cannot push or write. */
  state?: string;
}

export interface PubSubResourcesPort {
  /** `projects/P/topics/T`: false when it does not exist. */
  topicExists(name: string): Promise<boolean>;
  /** `projects/P/subscriptions/S`: undefined when it does not exist. */
  getSubscription(name: string): Promise<SubscriptionInfo | undefined>;
}

interface SubscriptionResource {
  name?: string;
  topic?: string;
  pushConfig?: { pushEndpoint?: string; oidcToken?: { serviceAccountEmail?: string } };
  deadLetterPolicy?: { deadLetterTopic?: string; maxDeliveryAttempts?: number };
  ackDeadlineSeconds?: number;
  state?: string;
}

export function createPubSubResourcesPort({
  http,
  apiUrl = 'https://pubsub.googleapis.com',
}: {
  http: GoogleHttp;
  apiUrl?: string;
}): PubSubResourcesPort {
  const base = apiUrl.replace(/\/+$/, '');
  return {
    async topicExists(name) {
      const topic = await unlessNotFound(
        http.request({
          api: 'pubsub',
          method: 'GET',
          url: `${base}/v1/${name}`,
          permission: 'pubsub.topics.get',
          what: `topic ${name}`,
        }),
      );
      return topic !== undefined;
    },
    async getSubscription(name) {
      const sub = await unlessNotFound(
        http.request<SubscriptionResource>({
          api: 'pubsub',
          method: 'GET',
          url: `${base}/v1/${name}`,
          permission: 'pubsub.subscriptions.get',
          what: `subscription ${name}`,
        }),
      );
      if (sub === undefined) return undefined;
      const push = sub.pushConfig;
      const deadLetter = sub.deadLetterPolicy;
      return {
        name: sub.name ?? name,
        topic: sub.topic ?? '',
        ...(push?.pushEndpoint ? { pushEndpoint: push.pushEndpoint } : {}),
        ...(push?.oidcToken?.serviceAccountEmail ? { pushIdentity: push.oidcToken.serviceAccountEmail } : {}),
        ...(deadLetter?.deadLetterTopic ? { deadLetterTopic: deadLetter.deadLetterTopic } : {}),
        ...(deadLetter?.maxDeliveryAttempts ? { maxDeliveryAttempts: deadLetter.maxDeliveryAttempts } : {}),
        ...(sub.ackDeadlineSeconds ? { ackDeadlineSeconds: sub.ackDeadlineSeconds } : {}),
        ...(sub.state ? { state: sub.state } : {}),
      };
    },
  };
}
