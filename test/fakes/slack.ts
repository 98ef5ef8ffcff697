/**
 * A fake Slack Web API on 127.0.0.1 (a free port) that the real `@slack/web-api` WebClient talks to,
 * for unit, function and e2e tests.
 *
 *   const slack = await startFakeSlack();             // or startFakeSlack({ token: 'xoxb-…' }) to check it
 *   slack.script({ status: 429, retryAfter: 1 }, { status: 500 }, { error: 'channel_not_found' }, 'hang', { delayMs: 200 });
 *   // … give slack.url (http://127.0.0.1:PORT/api/) as the WebClient's slackApiUrl / SLACK_API_URL …
 *   slack.calls      // every request, in order: API method, parsed body, headers, what the fake answered
 *   slack.messages   // the messages as they stand now (posts, thread replies, edits applied)
 *   await slack.stop();                                // also ends hanging requests
 *   validateBlocks(blocks)                              // the block checks, without HTTP
 *
 * `script` queues one step per request, in order of arrival, whatever the method; then back to 'ok'
 * (or to the `outage` step, while one is set).
 * A step 'ok' answers as Slack does:
 * - chat.postMessage: `channel` is an ID (C…, G…, D…) or a name (with or without '#'), which the fake
 *   maps to a stable ID; needs `text` or `blocks`; answers `{ ok, channel: ID, ts, message }`.
 * - usergroups.users.list: the members of `usergroup` as given in `usergroups` (startFakeSlack's
 *   option), else `no_such_subteam`; answers `{ ok, users }`
 *   (https://docs.slack.dev/reference/methods/usergroups.users.list).
 * - chat.update: `channel` must be an ID (Slack does not take names here) holding a message `ts`,
 *   else `channel_not_found` / `message_not_found`; answers `{ ok, channel, ts, text, message }`.
 * - a post's `metadata` (`{ event_type, event_payload }`) is kept with the message.
 * - conversations.history: `channel` an ID; the channel's top-level messages newest first, those
 *   after `oldest` when given (compared with when the fake took each post: its `ts` are synthetic), at most `limit` (default 100), with their `metadata` only when
 *   `include_all_metadata` is true (https://docs.slack.dev/reference/methods/conversations.history).
 * - conversations.list: the channels the fake knows (`{ id, name, is_private }`), cursor paginated
 *   by `limit` (https://docs.slack.dev/reference/methods/conversations.list).
 * - with `scopes` given, conversations.history needs `channels:history` (C…) or `groups:history`
 *   (G…) and conversations.list `channels:read`, else `missing_scope` with `needed` and `provided`.
 * - blocks are checked against Block Kit's documented limits (`invalid_blocks`, with Slack's
 *   `errors` list) and against the undocumented total that Slack answers with `msg_blocks_too_long`.
 * - a request without a token is `not_authed`; with `token` given, another token is `invalid_auth`.
 * Platform errors come as HTTP 200 `{ ok: false, error }`, as Slack sends them; a scripted 429 carries
 * `Retry-After` and `{ ok: false, error: 'ratelimited' }`. Shapes:
 * https://docs.slack.dev/reference/methods/chat.postMessage, https://docs.slack.dev/reference/methods/chat.update,
 * https://docs.slack.dev/apis/web-api/rate-limits.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the fake does with one request. */
export type FakeSlackStep =
  /** Answer as Slack does (the default). */
  | 'ok'
  /** Never answer (until stop()). */
  | 'hang'
  /** Answer as Slack does, `delayMs` late: a slow Slack. */
  | { delayMs: number }
  /** Do what Slack does (the post is made), then never answer: the answer is lost. */
  | 'accept-then-hang'
  /** Do what Slack does (the post is made), then drop the connection without answering. */
  | 'accept-then-drop'
  /** An HTTP status (429 gets `Retry-After` when given), with an optional body. */
  | { status: number; retryAfter?: number | string; body?: unknown }
  /** HTTP 200 `{ ok: false, error }`: a Slack platform error such as `channel_not_found`. */
  | { error: string };

export interface FakeSlackCall {
  /** The Web API method from the path, e.g. `chat.postMessage`. */
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent. */
  raw: string;
  /** Form or JSON fields; `blocks`, `attachments` and `metadata` parsed from their JSON strings. */
  body: Record<string, unknown>;
  /** The HTTP status the fake answered, or 'hang'. */
  answered: number | 'hang';
  /** The Slack error code answered, if any. */
  error?: string;
  /** When the whole request had arrived (Date.now()): what latency measurements end on. */
  receivedAt: number;
}

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text: string | undefined;
  blocks: unknown[] | undefined;
  thread_ts?: string;
  /** The message metadata posted with it (`{ event_type, event_payload }`). */
  metadata?: unknown;
  /** When the fake took the post (Date.now()). */
  postedAt: number;
  /** How many times chat.update edited it. */
  edits: number;
}

export interface FakeSlack {
  /** The `slackApiUrl` to give the client: http://127.0.0.1:PORT/api/ */
  url: string;
  /** Every request received, in order (live array). */
  calls: FakeSlackCall[];
  /** Messages as they stand (live array): posts and thread replies, with edits applied. */
  messages: FakeSlackMessage[];
  /** Queues steps for the next requests, one per request; then back to 'ok'. */
  script(...steps: FakeSlackStep[]): void;
  /** Answers every request with `step` (after any scripted ones) until called with undefined: an outage. */
  outage(step: FakeSlackStep | undefined): void;
  stop(): Promise<void>;
}

const BOT = { user: 'U0FAKEBOT1', bot_id: 'B0FAKEBOT1', team: 'T0FAKETEAM' };
/** Fixed, so tests may expect exact timestamps: the n-th message is `${BASE_SECONDS + n}.${n padded to 6}`. */
const BASE_SECONDS = 1_795_000_000;
const JSON_FIELDS = ['blocks', 'attachments', 'metadata'];
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

export async function startFakeSlack({
  token,
  usergroups = {},
  scopes,
}: {
  token?: string;
  /** User group ID → member user IDs, for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** The bot token's scopes; without them every method is allowed. */
  scopes?: string[];
} = {}): Promise<FakeSlack> {
  const calls: FakeSlackCall[] = [];
  const messages: FakeSlackMessage[] = [];
  const queue: FakeSlackStep[] = [];
  let down: FakeSlackStep | undefined;
  const channelIds = new Map<string, string>();
  const delayed = new Set<NodeJS.Timeout>();
  let counter = 0;

  function idOf(channel: string): string {
    if (CHANNEL_ID.test(channel)) return channel;
    const name = channel.replace(/^#/, '');
    let id = channelIds.get(name);
    if (id === undefined) {
      id = `C0FAKE${String(channelIds.size + 1).padStart(4, '0')}`;
      channelIds.set(name, id);
    }
    return id;
  }

  function answer(call: FakeSlackCall, authorization: string | undefined): { status: number; body: unknown } {
    const { body } = call;
    const given =
      authorization?.replace(/^Bearer /, '') ?? (typeof body.token === 'string' ? body.token : undefined);
    if (!given) return platformError('not_authed');
    if (token !== undefined && given !== token) return platformError('invalid_auth');
    if (call.method === 'usergroups.users.list') {
      const group = typeof body.usergroup === 'string' ? body.usergroup : '';
      const members = Object.hasOwn(usergroups, group) ? usergroups[group] : undefined;
      if (members === undefined) return platformError('no_such_subteam');
      return { status: 200, body: { ok: true, users: members } };
    }
    if (call.method === 'conversations.history') return history(body);
    if (call.method === 'conversations.list') return list(body);
    if (call.method !== 'chat.postMessage' && call.method !== 'chat.update')
      return platformError('unknown_method');
    const channel = typeof body.channel === 'string' ? body.channel : '';
    if (channel === '') return platformError('channel_not_found');
    const text = typeof body.text === 'string' ? body.text : undefined;
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;
    if (body.blocks !== undefined && blocks === undefined) return platformError('invalid_blocks_format');
    if ((text === undefined || text === '') && (blocks === undefined || blocks.length === 0)) {
      return platformError('no_text');
    }
    if (blocks) {
      if (totalText(blocks) > MSG_BLOCKS_TEXT_LIMIT) return platformError('msg_blocks_too_long');
      const errors = validateBlocks(blocks);
      if (errors.length > 0) {
        return {
          status: 200,
          body: {
            ok: false,
            error: 'invalid_blocks',
            errors,
            response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
          },
        };
      }
    }
    if (call.method === 'chat.postMessage') {
      counter += 1;
      const message: FakeSlackMessage = {
        channel: idOf(channel),
        ts: `${BASE_SECONDS + counter}.${String(counter).padStart(6, '0')}`,
        text,
        blocks,
        edits: 0,
        postedAt: Date.now(),
      };
      if (typeof body.thread_ts === 'string') message.thread_ts = body.thread_ts;
      if (body.metadata !== undefined) message.metadata = body.metadata;
      messages.push(message);
      return {
        status: 200,
        body: {
          ok: true,
          channel: message.channel,
          ts: message.ts,
          message: {
            type: 'message',
            ...BOT,
            text,
            blocks,
            ts: message.ts,
            ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}),
          },
        },
      };
    }
    // chat.update takes only a channel ID.
    if (!CHANNEL_ID.test(channel) || !messages.some((m) => m.channel === channel))
      return platformError('channel_not_found');
    const message = messages.find((m) => m.channel === channel && m.ts === body.ts);
    if (!message) return platformError('message_not_found');
    message.text = text;
    message.blocks = blocks;
    message.edits += 1;
    return {
      status: 200,
      body: {
        ok: true,
        channel,
        ts: message.ts,
        text,
        message: {
          type: 'message',
          ...BOT,
          text,
          blocks,
          edited: { user: BOT.user, ts: `${BASE_SECONDS + counter}.999999` },
        },
      },
    };
  }

  function missingScope(needed: string): { status: number; body: unknown } | undefined {
    if (scopes === undefined || scopes.includes(needed)) return undefined;
    return { status: 200, body: { ok: false, error: 'missing_scope', needed, provided: scopes.join(',') } };
  }

  function history(body: Record<string, unknown>): { status: number; body: unknown } {
    const channel = typeof body.channel === 'string' ? body.channel : '';
    if (!CHANNEL_ID.test(channel)) return platformError('channel_not_found');
    const refused = missingScope(channel.startsWith('G') ? 'groups:history' : 'channels:history');
    if (refused) return refused;
    const oldest = Number(body.oldest ?? 0);
    const limit = Math.min(999, Number(body.limit ?? 100) || 100);
    const withMetadata = body.include_all_metadata === true || body.include_all_metadata === 'true';
    const found = messages
      .filter((m) => m.channel === channel && m.thread_ts === undefined && m.postedAt / 1000 > oldest)
      .reverse();
    return {
      status: 200,
      body: {
        ok: true,
        messages: found.slice(0, limit).map((m) => ({
          type: 'message',
          ...BOT,
          text: m.text,
          ts: m.ts,
          ...(withMetadata && m.metadata !== undefined ? { metadata: m.metadata } : {}),
        })),
        has_more: found.length > limit,
      },
    };
  }

  function list(body: Record<string, unknown>): { status: number; body: unknown } {
    const refused = missingScope('channels:read');
    if (refused) return refused;
    const all = [...channelIds].map(([name, id]) => ({ id, name, is_private: id.startsWith('G') }));
    const start = Number(body.cursor ?? 0) || 0;
    const limit = Number(body.limit ?? 100) || 100;
    const next = start + limit < all.length ? String(start + limit) : '';
    return {
      status: 200,
      body: { ok: true, channels: all.slice(start, start + limit), response_metadata: { next_cursor: next } },
    };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '';
      const call: FakeSlackCall = {
        method: path.split('?')[0]?.replace(/^\/api\//, '') ?? '',
        path,
        headers: req.headers,
        raw,
        body: parseBody(raw, req.headers['content-type']),
        answered: 'hang',
        receivedAt: Date.now(),
      };
      calls.push(call);
      const step = queue.shift() ?? down ?? 'ok';
      if (step === 'hang') return;
      if (step === 'accept-then-hang' || step === 'accept-then-drop') {
        // Slack did it; the answer never reaches the client.
        const done = answer(call, req.headers.authorization);
        const error = (done.body as { error?: unknown } | undefined)?.error;
        if (typeof error === 'string') call.error = error;
        if (step === 'accept-then-drop') req.socket.destroy();
        return;
      }
      const respond = () => {
        const { status, body, headers } =
          step === 'ok' || 'delayMs' in step
            ? { ...answer(call, req.headers.authorization), headers: {} }
            : 'error' in step
              ? { ...platformError(step.error), headers: {} }
              : scripted(step);
        call.answered = status;
        const error = (body as { ok?: boolean; error?: unknown } | undefined)?.error;
        if (typeof error === 'string') call.error = error;
        reply(res, status, body, headers);
      };
      if (typeof step === 'object' && 'delayMs' in step) {
        const timer = setTimeout(() => {
          delayed.delete(timer);
          respond();
        }, step.delayMs);
        delayed.add(timer);
      } else {
        respond();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    script(...steps) {
      queue.push(...steps);
    },
    outage(step) {
      down = step;
    },
    async stop() {
      for (const timer of delayed) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

function platformError(error: string): { status: number; body: unknown } {
  return { status: 200, body: { ok: false, error } };
}

function scripted(step: { status: number; retryAfter?: number | string; body?: unknown }) {
  const headers: Record<string, string> = {};
  if (step.retryAfter !== undefined) headers['retry-after'] = String(step.retryAfter);
  const body =
    step.body ??
    (step.status === 429
      ? { ok: false, error: 'ratelimited' }
      : step.status === 200
        ? { ok: true }
        : `scripted ${step.status}`);
  return { status: step.status, body, headers };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type':
      typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...headers,
  });
  res.end(text);
}

/** WebClient sends application/x-www-form-urlencoded with JSON-encoded objects; JSON bodies are read too. */
function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  let fields: Record<string, unknown> = {};
  if (contentType?.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        fields = parsed as Record<string, unknown>;
    } catch {
      // An unreadable body has no fields.
    }
  } else {
    fields = Object.fromEntries(new URLSearchParams(raw));
  }
  for (const key of JSON_FIELDS) {
    const value = fields[key];
    if (typeof value !== 'string') continue;
    try {
      fields[key] = JSON.parse(value);
    } catch {
      // Left as sent: the answer says invalid_blocks_format.
    }
  }
  return fields;
}

/**
 * Slack answers msg_blocks_too_long from about 13,000 characters of block text, below every documented
 * limit (https://github.com/slackapi/bolt-js/issues/2509); the fake draws the line at 13,000.
 */
const MSG_BLOCKS_TEXT_LIMIT = 13_000;

/** Every text in the blocks, summed (what msg_blocks_too_long counts, as far as anyone can tell). */
export function totalText(blocks: readonly unknown[]): number {
  let sum = 0;
  const walk = (value: unknown, key?: string): void => {
    if (typeof value === 'string') {
      if (key === 'text') sum += value.length;
    } else if (Array.isArray(value)) {
      for (const item of value) walk(item);
    } else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) walk(v, k);
    }
  };
  walk(blocks);
  return sum;
}

/**
 * The Block Kit checks for the block types this project sends, with Slack's limits and error style
 * (`must be less than 3001 characters [json-pointer:/blocks/0/text/text]`). Documented at
 * https://docs.slack.dev/reference/block-kit/blocks (50 blocks), …/header-block (150),
 * …/section-block (text 3000, fields 10 × 2000), …/context-block (10 elements), …/divider-block.
 */
export function validateBlocks(blocks: readonly unknown[]): string[] {
  const errors: string[] = [];
  if (blocks.length > 50) errors.push('no more than 50 items allowed [json-pointer:/blocks]');
  const textObject = (value: unknown, pointer: string, max: number, plainOnly = false) => {
    const object = value as { type?: unknown; text?: unknown } | undefined;
    if (typeof object !== 'object' || object === null) {
      errors.push(`must provide an object [json-pointer:${pointer}]`);
      return;
    }
    const types = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (!types.includes(object.type as string))
      errors.push(`must be one of ${types.join(', ')} [json-pointer:${pointer}/type]`);
    if (typeof object.text !== 'string' || object.text.length === 0) {
      errors.push(`must be more than 0 characters [json-pointer:${pointer}/text]`);
    } else if (object.text.length > max) {
      errors.push(`must be less than ${max + 1} characters [json-pointer:${pointer}/text]`);
    }
  };
  blocks.forEach((value, index) => {
    const pointer = `/blocks/${index}`;
    const block = value as Record<string, unknown>;
    switch (block?.type) {
      case 'header':
        textObject(block.text, `${pointer}/text`, 150, true);
        break;
      case 'section': {
        if (block.text === undefined && block.fields === undefined) {
          errors.push(`must provide text or fields [json-pointer:${pointer}]`);
        }
        if (block.text !== undefined) textObject(block.text, `${pointer}/text`, 3000);
        if (block.fields !== undefined) {
          const fields = Array.isArray(block.fields) ? block.fields : [];
          if (fields.length === 0 || fields.length > 10) {
            errors.push(`must provide 1 to 10 items [json-pointer:${pointer}/fields]`);
          }
          for (const [i, field] of fields.entries()) textObject(field, `${pointer}/fields/${i}`, 2000);
        }
        break;
      }
      case 'context': {
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length === 0 || elements.length > 10) {
          errors.push(`must provide 1 to 10 items [json-pointer:${pointer}/elements]`);
        }
        for (const [i, element] of elements.entries()) textObject(element, `${pointer}/elements/${i}`, 3000);
        break;
      }
      case 'divider':
        break;
      case 'actions': {
        // https://docs.slack.dev/reference/block-kit/blocks/actions-block: at most 25 elements;
        // buttons (…/button-element: text 75, action_id 255, value 2000) and static selects
        // (…/select-menu-element: placeholder 150, 100 options; option-object: text 75, value 150).
        const elements = Array.isArray(block.elements) ? block.elements : [];
        if (elements.length === 0 || elements.length > 25) {
          errors.push(`must provide 1 to 25 items [json-pointer:${pointer}/elements]`);
        }
        const ids = new Set<string>();
        for (const [i, value] of elements.entries()) {
          const element = value as Record<string, unknown>;
          const at = `${pointer}/elements/${i}`;
          const id = element.action_id;
          if (typeof id !== 'string' || id.length === 0 || id.length > 255)
            errors.push(`must be 1 to 255 characters [json-pointer:${at}/action_id]`);
          else if (ids.has(id))
            errors.push(`action_id must be unique in the block [json-pointer:${at}/action_id]`);
          else ids.add(id);
          if (element.type === 'button') {
            textObject(element.text, `${at}/text`, 75, true);
            if (
              element.value !== undefined &&
              (typeof element.value !== 'string' || element.value.length > 2000)
            )
              errors.push(`must be less than 2001 characters [json-pointer:${at}/value]`);
          } else if (element.type === 'static_select') {
            textObject(element.placeholder, `${at}/placeholder`, 150, true);
            const options = Array.isArray(element.options) ? element.options : [];
            if (options.length === 0 || options.length > 100)
              errors.push(`must provide 1 to 100 items [json-pointer:${at}/options]`);
            for (const [j, option] of options.entries()) {
              const o = option as { text?: unknown; value?: unknown };
              textObject(o.text, `${at}/options/${j}/text`, 75, true);
              if (typeof o.value !== 'string' || o.value.length === 0 || o.value.length > 150)
                errors.push(`must be 1 to 150 characters [json-pointer:${at}/options/${j}/value]`);
            }
          } else {
            errors.push(`unsupported element type [json-pointer:${at}/type]`);
          }
        }
        break;
      }
      default:
        errors.push(`unsupported block type [json-pointer:${pointer}/type]`);
    }
  });
  return errors;
}
