/**
 * The forms of what routes name, checked at start-up so a typo stops the deployment instead of
 * dropping every alert on that route later (PagerDuty answers a bad key with a 400, which is
 * permanent; Slack a bad channel with channel_not_found). Messages name the variable or field,
 * never a value: a routing key is a secret.
 */

/** An Events API v2 integration (routing) key: 32 characters. */
const ROUTING_KEY = /^[A-Za-z0-9]{32}$/;
export const ROUTING_KEY_PROBLEM = 'must be a 32-character Events API v2 routing key';

export function isRoutingKey(value: string): boolean {
  return ROUTING_KEY.test(value);
}

/** A Slack conversation ID: public C…, private G…, direct D…. */
const CHANNEL_ID = /^[CGD][A-Z0-9]{8,}$/;
/**
 * A channel name, with or without `#`: lowercase letters, numbers, hyphens and underscores, at most
 * 80 characters (https://docs.slack.dev/reference/methods/conversations.create, "Naming"). Letters
 * without case (and their marks) are lowercase here, as Slack takes them.
 */
const CHANNEL_NAME = /^#?[\p{Ll}\p{Lo}\p{Lm}\p{M}\p{Nd}_-]{1,80}$/u;
export const CHANNEL_PROBLEM =
  'must be a Slack channel ID (C…, G…) or name (#lowercase-letters-digits-_-, at most 80)';

export function isSlackChannel(value: string): boolean {
  return CHANNEL_ID.test(value) || CHANNEL_NAME.test(value);
}
