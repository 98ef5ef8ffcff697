import type { Incident, TransitionType } from '../domain/incident.ts';

/** Where an incident is told: a Slack channel, a PagerDuty service (by its Events API v2 routing key). */
export type Destination = { type: 'slack'; channel: string } | { type: 'pagerduty'; routingKey: string };

/**
 * What prompts a delivery: an incident transition, or `refreshed` when only what the incident shows
 * changed (fresh evidence, an explanation found) since the destination was last told: the standing
 * message is edited, nobody is paged again, and a resolved PagerDuty alert stays resolved.
 */
export type DeliveryTransition = TransitionType | 'refreshed';

/** What a sender is asked to deliver: the incident as it is now, and what prompts it. */
export interface Delivery {
  incident: Incident;
  transition: DeliveryTransition;
  /** The Slack message already standing for the incident in this destination, if any. */
  slack?: { channel: string; ts: string };
  /**
   * When a top-level post for the incident went out here without an answer (ISO 8601): Slack may
   * hold it, so it is looked for in the channel's history before anything is posted again.
   */
  unconfirmedPostSince?: string;
}

export interface SlackSender {
  /** Posts (or edits, when delivery.slack is set) the incident's message; returns where it stands. */
  send(channel: string, delivery: Delivery): Promise<{ channel: string; ts: string }>;
  /** Replies in the thread of the incident's message (`standing`): what a re-check found, say. */
  reply?(
    standing: { channel: string; ts: string },
    message: { text: string; blocks?: unknown[] },
  ): Promise<void>;
}

export interface PagerDutySender {
  send(routingKey: string, delivery: Delivery): Promise<void>;
}

export interface Senders {
  slack?: SlackSender;
  pagerduty?: PagerDutySender;
}
