import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signPagerDutyWebhook } from '../../shared/notify/pagerduty-webhook.ts';
import { FIXTURES } from './paths.ts';

/**
 * Slack's side of a button press and PagerDuty's side of a webhook, for tests: the form Slack posts
 * for a `block_actions` interaction (test/fixtures/slack/block-actions.json with the action of each
 * test), to be signed as Slack signs it (postSigned in slash-command.ts), and a PagerDuty v3 webhook
 * body signed as PagerDuty signs it.
 */
const TEMPLATE = JSON.parse(readFileSync(join(FIXTURES, 'slack/block-actions.json'), 'utf8')) as Record<
  string,
  unknown
>;

export type Press =
  | { action: 'ack' | 'unsilence' | 'recheck'; incidentId: string }
  | { action: 'silence'; incidentId: string; choice: string };

/** The form body of one press; each gets a trigger_id of its own, as Slack gives every interaction. */
export function buttonPressBody(
  press: Press,
  {
    responseUrl,
    userId = 'U0ALICE',
    userName = 'alice',
  }: { responseUrl: string; userId?: string; userName?: string },
): string {
  const { _source: _, ...template } = TEMPLATE;
  const action =
    press.action === 'silence'
      ? {
          action_id: 'silence',
          block_id: `wi-actions/${press.incidentId}`,
          type: 'static_select',
          selected_option: {
            text: { type: 'plain_text', text: press.choice, emoji: true },
            value: `${press.incidentId}/${press.choice}`,
          },
          placeholder: { type: 'plain_text', text: 'Silence…', emoji: true },
          action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
        }
      : {
          action_id: press.action,
          block_id: `wi-actions/${press.incidentId}`,
          type: 'button',
          value: press.incidentId,
          text: { type: 'plain_text', text: press.action, emoji: true },
          action_ts: `${Math.floor(Date.now() / 1000)}.000001`,
        };
  const payload = {
    ...template,
    user: { id: userId, username: userName, name: userName, team_id: 'T0FAKETEAM' },
    trigger_id: `${Date.now()}.${process.pid}.${randomBytes(16).toString('hex')}`,
    response_url: responseUrl,
    actions: [action],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/**
 * A PagerDuty v3 webhook event (the shape of developer-docs docs/webhooks/01-Overview.md "Event
 * Data"; ids made up) about the incident opened under `incidentKey` (our dedup_key).
 */
export function pagerDutyEventBody(
  type: string,
  incidentKey: string,
  {
    id = `01${randomBytes(12).toString('hex').toUpperCase()}`,
    agent = 'Bob Oncall',
    assignees = [] as string[],
  } = {},
): string {
  return JSON.stringify({
    event: {
      id,
      event_type: type,
      resource_type: 'incident',
      occurred_at: new Date().toISOString(),
      agent: {
        html_url: 'https://orbit.pagerduty.com/users/PBOB001',
        id: 'PBOB001',
        self: 'https://api.pagerduty.com/users/PBOB001',
        summary: agent,
        type: 'user_reference',
      },
      client: null,
      data: {
        id: 'Q0WISENTINEL1',
        type: 'incident',
        self: 'https://api.pagerduty.com/incidents/Q0WISENTINEL1',
        html_url: 'https://orbit.pagerduty.com/incidents/Q0WISENTINEL1',
        number: 42,
        status:
          type === 'incident.resolved'
            ? 'resolved'
            : type === 'incident.acknowledged'
              ? 'acknowledged'
              : 'triggered',
        incident_key: incidentKey,
        title: 'binding-missing',
        assignees: assignees.map((name, i) => ({ id: `PUSER${i}`, summary: name, type: 'user_reference' })),
      },
    },
  });
}

/** Posts a webhook body to a served pagerdutyWebhook, signed with `secrets` (none: unsigned). */
export async function postWebhook(
  url: string,
  body: string,
  secrets: readonly string[],
  signature = secrets.length > 0 ? signPagerDutyWebhook(secrets, body) : undefined,
): Promise<{ status: number; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-pagerduty-signature': signature } : {}),
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}
