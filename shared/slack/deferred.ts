import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * A command that takes longer than Slack's 3 seconds: wiStatus acknowledges it, publishes it to the
 * `wi-sentinel-commands` topic as one of these, and wiCommands runs it and answers at `responseUrl`.
 *
 * Messages are authenticated twice: only principals allowed to publish on the topic can put one
 * there, and each carries a MAC (HMAC-SHA256 with a key derived from the Slack signing secret, in
 * the `mac` attribute) over its exact bytes, so a message someone else published, or one altered
 * on the way, is refused. The verified Slack team and user ride inside, and wiCommands checks
 * permissions again with them. A message older than Slack's 30 minutes for `response_url` is refused
 * too: there is nobody left to answer.
 */

export const COMMAND_VERSION = 1;
/** response_url works for 30 minutes after the command. */
export const COMMAND_TTL_MS = 30 * 60_000;
export const MAC_ATTRIBUTE = 'mac';

const matchersSchema = z.strictObject({
  project: z.string().max(300).optional(),
  cluster: z.string().max(300).optional(),
  namespace: z.string().max(300).optional(),
  ksa: z.string().max(300).optional(),
  kind: z.string().max(300).optional(),
  fingerprint: z.string().max(500).optional(),
  actor: z.string().max(300).optional(),
  tool: z.string().max(60).optional(),
});

const taskSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ksa'),
    namespace: z.string().min(1).max(253),
    name: z.string().min(1).max(253),
    cluster: z.string().min(1).max(300).optional(),
  }),
  z.strictObject({
    kind: z.literal('silence'),
    target: z.union([
      z.strictObject({ matchers: matchersSchema }),
      z.strictObject({ fingerprint: z.string().min(1).max(500) }),
      z.strictObject({ incidentId: z.string().min(1).max(100) }),
    ]),
    durationMs: z.number().int().positive(),
    reason: z.string().min(1).max(300),
  }),
  z.strictObject({
    kind: z.literal('plan'),
    matchers: matchersSchema,
    durationMs: z.number().int().positive(),
    reason: z.string().min(1).max(300),
  }),
  z.strictObject({ kind: z.literal('unsilence'), id: z.string().min(1).max(64) }),
  // A button of an incident's message (interaction.ts): the incident by id, and for a silence its choice.
  z.strictObject({
    kind: z.literal('incident'),
    action: z.enum(['ack', 'silence', 'unsilence', 'recheck']),
    incidentId: z.string().min(1).max(100),
    choice: z.enum(['1h', '4h', '1d', 'resolved']).optional(),
  }),
]);

const commandSchema = z.strictObject({
  v: z.literal(COMMAND_VERSION),
  /** Unique per slash-command invocation: redeliveries are recognised by it. */
  id: z.string().min(8).max(100),
  requestedAt: z.iso.datetime(),
  task: taskSchema,
  slack: z.strictObject({
    teamId: z.string().min(1).max(40),
    userId: z.string().min(1).max(40),
    userName: z.string().max(100).optional(),
    channelId: z.string().max(40).optional(),
    /** The message a button was pressed on. */
    messageTs: z.string().max(40).optional(),
    responseUrl: z.string().min(1).max(1000),
    responseType: z.enum(['ephemeral', 'in_channel']),
  }),
});

export type DeferredCommand = z.infer<typeof commandSchema>;
export type DeferredTask = DeferredCommand['task'];

/** The key that signs commands: derived, so the Slack signing secret itself signs only Slack's scheme. */
function commandKey(signingSecret: string): Buffer {
  return createHmac('sha256', signingSecret).update('wi-sentinel/commands/v1').digest();
}

function macOf(signingSecret: string, data: Buffer): Buffer {
  return createHmac('sha256', commandKey(signingSecret)).update(data).digest();
}

/** The Pub/Sub message for a command: its JSON bytes and the MAC attribute. */
export function encodeCommand(
  command: DeferredCommand,
  signingSecret: string,
): { data: Buffer; attributes: Record<string, string> } {
  const data = Buffer.from(JSON.stringify(command), 'utf8');
  return { data, attributes: { [MAC_ATTRIBUTE]: macOf(signingSecret, data).toString('hex') } };
}

export type DecodedCommand =
  | { ok: true; command: DeferredCommand }
  | { ok: false; reason: 'bad-mac' | 'unreadable' | 'expired' | 'from-the-future'; detail?: string };

/** Checks the MAC over the exact bytes, then the shape, then the age. Never throws on data. */
export function decodeCommand(
  data: Buffer,
  mac: string | undefined,
  signingSecret: string,
  nowMs: number = Date.now(),
): DecodedCommand {
  if (mac === undefined || !/^[0-9a-f]{64}$/.test(mac)) return { ok: false, reason: 'bad-mac' };
  const given = Buffer.from(mac, 'hex');
  const expected = macOf(signingSecret, data);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'bad-mac' };
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'unreadable', detail: 'not JSON' };
  }
  const parsed = commandSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: 'unreadable',
      detail: issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid',
    };
  }
  const age = nowMs - Date.parse(parsed.data.requestedAt);
  if (age > COMMAND_TTL_MS) return { ok: false, reason: 'expired' };
  // A little clock skew between instances is normal; minutes ahead is not.
  if (age < -60_000) return { ok: false, reason: 'from-the-future' };
  return { ok: true, command: parsed.data };
}
