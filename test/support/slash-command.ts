import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signSlackRequest } from '../../shared/slack/verify.ts';
import { FIXTURES } from './paths.ts';

/**
 * Slack's side of a slash command, for tests and the bench: the form Slack posts (the fields of
 * test/fixtures/slack/slash-command.json, the text and response_url of each test), signed as Slack
 * signs it (the algorithm is public: tests sign with a test secret), posted to a served function.
 */
const TEMPLATE = JSON.parse(readFileSync(join(FIXTURES, 'slack/slash-command.json'), 'utf8')) as Record<
  string,
  string
>;

let triggers = 0;

/**
 * The form of one slash command. Each gets a trigger_id of its own, as Slack gives every invocation:
 * two commands are never the same bytes, so never the same signature (which wiStatus takes once).
 */
export function slashCommandBody(
  text: string,
  { responseUrl, userId, userName }: { responseUrl?: string; userId?: string; userName?: string } = {},
): string {
  triggers += 1;
  return new URLSearchParams({
    ...TEMPLATE,
    trigger_id: `${Date.now()}.${process.pid}${triggers}.${randomBytes(16).toString('hex')}`,
    text,
    ...(responseUrl ? { response_url: responseUrl } : {}),
    ...(userId ? { user_id: userId } : {}),
    ...(userName ? { user_name: userName } : {}),
  }).toString();
}

export interface SlackAnswer {
  status: number;
  /** The JSON body, when it is JSON. */
  json: Record<string, unknown> | undefined;
  text: string;
  headers: Headers;
  ms: number;
}

/** Posts `body` signed with `secret` (at `timestampSeconds`, now by default), with any header overridden. */
export async function postSigned(
  url: string,
  secret: string,
  body: string | Buffer,
  {
    timestampSeconds,
    headers = {},
    contentType = 'application/x-www-form-urlencoded',
    method = 'POST',
  }: {
    timestampSeconds?: number;
    headers?: Record<string, string>;
    contentType?: string;
    method?: string;
  } = {},
): Promise<SlackAnswer> {
  const signed = signSlackRequest(
    secret,
    typeof body === 'string' ? body : new Uint8Array(body),
    timestampSeconds,
  );
  const started = performance.now();
  const response = await fetch(url, {
    method,
    headers: { 'content-type': contentType, ...signed, ...headers },
    ...(method === 'GET' ? {} : { body: typeof body === 'string' ? body : new Uint8Array(body) }),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: response.status, json, text, headers: response.headers, ms };
}

/** The header text of a Block Kit answer (its first block). */
export function headerOf(
  answer: { json?: Record<string, unknown> | undefined } | Record<string, unknown> | undefined,
): string {
  const json = (answer && 'json' in answer ? answer.json : answer) as
    | { blocks?: { type: string; text?: { text: string } }[] }
    | undefined;
  const header = json?.blocks?.find((b) => b.type === 'header');
  return header?.text?.text ?? '';
}
