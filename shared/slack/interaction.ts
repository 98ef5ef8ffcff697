import { textField } from '../domain/well-formed.ts';
import { ACTION_IDS, type ActionId, SILENCE_CHOICES, type SilenceChoice } from '../notify/slack-render.ts';

/**
 * A press of one of the buttons of an incident's message: Slack's `block_actions` interaction
 * payload (https://docs.slack.dev/reference/interaction-payloads/block_actions-payload), posted to
 * the same request URL as the slash command, form-encoded with the JSON in its `payload` field, and
 * signed the same way. Pure: only what wi-sentinel acts on is read; anything else is a problem named
 * for the log, never an error.
 */

export type IncidentAction =
  | { kind: 'ack' | 'unsilence' | 'recheck'; incidentId: string }
  | { kind: 'silence'; incidentId: string; choice: SilenceChoice };

export interface Interaction {
  teamId: string;
  userId: string;
  userName?: string;
  /** Where the message stands (the channel, and the message's ts). */
  channelId?: string;
  messageTs?: string;
  /** https://hooks.slack.com/actions/…: ephemeral notes to the user who pressed. */
  responseUrl: string;
  action: IncidentAction;
}

export type ReadInteraction = { ok: true; interaction: Interaction } | { ok: false; problem: string };

/** Incident ids (incidents/lifecycle.ts incidentId: 16 hex digits, `-`, base-36 time), loosely. */
const INCIDENT_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/;
const SLACK_ID = /^[A-Z0-9]{2,40}$/;
const ACTIONS = new Set<string>(Object.values(ACTION_IDS));

const text = (value: unknown, max = 200): string | undefined => textField(value, max);

/** The interaction a `payload` field holds (its JSON text), or what is wrong with it. */
export function readInteraction(payload: string): ReadInteraction {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return { ok: false, problem: 'a payload that is not JSON' };
  }
  const p = (value ?? {}) as {
    type?: unknown;
    team?: { id?: unknown };
    user?: { id?: unknown; username?: unknown; name?: unknown; team_id?: unknown };
    channel?: { id?: unknown };
    container?: { channel_id?: unknown; message_ts?: unknown };
    message?: { ts?: unknown };
    response_url?: unknown;
    actions?: unknown;
  };
  if (p.type !== 'block_actions')
    return { ok: false, problem: `an interaction of type ${JSON.stringify(String(p.type)).slice(0, 40)}` };
  const teamId = text(p.team?.id) ?? text(p.user?.team_id);
  const userId = text(p.user?.id);
  const responseUrl = text(p.response_url, 1000);
  if (!teamId || !userId || !responseUrl)
    return { ok: false, problem: 'a block_actions payload without team, user or response_url' };
  if (!SLACK_ID.test(teamId) || !SLACK_ID.test(userId))
    return { ok: false, problem: 'a block_actions payload whose team or user is not a Slack id' };
  // One element is pressed at a time; only ours are read.
  const [first] = Array.isArray(p.actions) ? (p.actions as unknown[]) : [];
  const action = readAction(first);
  if (typeof action === 'string') return { ok: false, problem: action };
  const userName = text(p.user?.username, 100) ?? text(p.user?.name, 100);
  const channelId = text(p.container?.channel_id, 40) ?? text(p.channel?.id, 40);
  const messageTs = text(p.container?.message_ts, 40) ?? text(p.message?.ts, 40);
  return {
    ok: true,
    interaction: {
      teamId,
      userId,
      responseUrl,
      action,
      ...(userName ? { userName } : {}),
      ...(channelId ? { channelId } : {}),
      ...(messageTs ? { messageTs } : {}),
    },
  };
}

function readAction(value: unknown): IncidentAction | string {
  const a = (value ?? {}) as {
    action_id?: unknown;
    value?: unknown;
    selected_option?: { value?: unknown } | null;
  };
  const id = text(a.action_id, 255);
  if (id === undefined || !ACTIONS.has(id))
    return `an action ${JSON.stringify(String(a.action_id)).slice(0, 40)} that is not one of ours`;
  const kind = id as ActionId;
  if (kind === 'silence') {
    // The option's value is INCIDENT_ID/CHOICE (slack-render.ts); a deselection comes as null.
    const option = text(a.selected_option?.value, 150);
    const at = option?.lastIndexOf('/') ?? -1;
    const incidentId = option?.slice(0, at);
    const choice = SILENCE_CHOICES.find((c) => c.choice === option?.slice(at + 1))?.choice;
    if (!incidentId || !INCIDENT_ID.test(incidentId) || choice === undefined)
      return 'a silence choice that names no incident and duration of ours';
    return { kind, incidentId, choice };
  }
  const incidentId = text(a.value, 100);
  if (incidentId === undefined || !INCIDENT_ID.test(incidentId))
    return `a ${kind} button whose value is not an incident id`;
  return { kind, incidentId };
}
