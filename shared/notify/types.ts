import type { Incident, TransitionType } from '../incidents/incident.ts';

/** Where an incident is told: a Slack channel, a PagerDuty service (by its Events API v2 routing key). */
export type Destination = { type: 'slack'; channel: string } | { type: 'pagerduty'; routingKey: string };

/** What a sender is asked to deliver: the incident as it is now, and the transition that prompts it. */
export interface Delivery {
  incident: Incident;
  transition: TransitionType;
  /** The Slack message already standing for the incident in this destination, if any. */
  slack?: { channel: string; ts: string };
}

export interface SlackSender {
  /** Posts (or edits, when delivery.slack is set) the incident's message; returns where it stands. */
  send(channel: string, delivery: Delivery): Promise<{ channel: string; ts: string }>;
}

export interface PagerDutySender {
  send(routingKey: string, delivery: Delivery): Promise<void>;
}

export interface Senders {
  slack?: SlackSender;
  pagerduty?: PagerDutySender;
}
