/**
 * A fake of Slack's response_url endpoint (https://hooks.slack.com/commands/T…/…/…, and
 * …/actions/… for interactions) on 127.0.0.1,
 * for tests and the bench: the real poster (shared/slack/respond.ts) talks to it over HTTP.
 *
 *   const hooks = await startFakeResponseUrl();
 *   const url = hooks.newUrl();          // http://127.0.0.1:PORT/commands/T0FAKE/1/<random>
 *   hooks.posts                          // every POST received, in order, with its parsed JSON
 *   hooks.script({ status: 500 })        // the next answers, one per request; then back to 'ok'
 *
 * As Slack does: a URL takes at most 5 posts (the 6th is 404 `used_url`) within 30 minutes of its
 * command (`expireAfterMs`: later, 404 `expired_url`), unknown paths are 404 `invalid_url`, and a body
 * that is not JSON with `text` or `blocks` is 400 `invalid_payload`; blocks are checked with the fake
 * Slack's Block Kit rules. https://docs.slack.dev/interactivity/handling-user-interaction#message_responses
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateBlocks } from './slack.ts';

export interface ResponsePost {
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  body: Record<string, unknown> | undefined;
  answered: number;
  error?: string;
  receivedAt: number;
}

export type ResponseStep = 'ok' | { status: number } | { delayMs: number } | 'hang';

export interface FakeResponseUrl {
  origin: string;
  /** A fresh response URL, as Slack gives one per command (`actions`: per interaction). */
  newUrl(kind?: 'commands' | 'actions'): string;
  posts: ResponsePost[];
  /** Posts accepted (2xx) for one URL. */
  accepted(url: string): ResponsePost[];
  script(...steps: ResponseStep[]): void;
  /** Waits until `count` posts have been accepted for the URL (or all URLs when none given). */
  waitFor(count: number, url?: string, timeoutMs?: number): Promise<ResponsePost[]>;
  stop(): Promise<void>;
}

const MAX_POSTS = 5;

export async function startFakeResponseUrl({
  expireAfterMs = 30 * 60_000,
}: {
  expireAfterMs?: number;
} = {}): Promise<FakeResponseUrl> {
  const posts: ResponsePost[] = [];
  const issued = new Map<string, number>();
  const queue: ResponseStep[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let counter = 0;

  function judge(
    path: string,
    body: Record<string, unknown> | undefined,
  ): { status: number; error?: string } {
    const issuedAt = issued.get(path);
    if (issuedAt === undefined) return { status: 404, error: 'invalid_url' };
    if (Date.now() - issuedAt > expireAfterMs) return { status: 404, error: 'expired_url' };
    const used = posts.filter((p) => p.path === path && p.answered === 200).length;
    if (used >= MAX_POSTS) return { status: 404, error: 'used_url' };
    if (body === undefined) return { status: 400, error: 'invalid_payload' };
    const hasText = typeof body.text === 'string' && body.text !== '';
    const blocks = body.blocks;
    if (!hasText && !(Array.isArray(blocks) && blocks.length > 0)) return { status: 400, error: 'no_text' };
    if (blocks !== undefined && (!Array.isArray(blocks) || validateBlocks(blocks).length > 0))
      return { status: 400, error: 'invalid_blocks' };
    const type = body.response_type;
    if (type !== undefined && type !== 'ephemeral' && type !== 'in_channel')
      return { status: 400, error: 'invalid_response_type' };
    return { status: 200 };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> | undefined;
      try {
        const value: unknown = JSON.parse(raw);
        if (typeof value === 'object' && value !== null && !Array.isArray(value))
          body = value as Record<string, unknown>;
      } catch {
        body = undefined;
      }
      const post: ResponsePost = {
        path: req.url ?? '',
        headers: req.headers,
        raw,
        body,
        answered: 0,
        receivedAt: Date.now(),
      };
      const step = queue.shift() ?? 'ok';
      if (step === 'hang') {
        post.answered = -1;
        posts.push(post);
        return;
      }
      const respond = () => {
        const verdict =
          step === 'ok' || 'delayMs' in step
            ? req.method === 'POST'
              ? judge(post.path, body)
              : { status: 405, error: 'method_not_allowed' }
            : { status: step.status, error: `scripted_${step.status}` };
        post.answered = verdict.status;
        if (verdict.error) post.error = verdict.error;
        posts.push(post);
        res.writeHead(verdict.status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(verdict.error ?? 'ok');
      };
      if (typeof step === 'object' && 'delayMs' in step) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          respond();
        }, step.delayMs);
        timers.add(timer);
      } else {
        respond();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const pathOf = (url: string) => new URL(url).pathname;
  const accepted = (url?: string) =>
    posts.filter((p) => p.answered === 200 && (url === undefined || p.path === pathOf(url)));

  return {
    origin,
    newUrl(kind = 'commands') {
      counter += 1;
      const path = `/${kind}/T0FAKETEAM/${1_000_000 + counter}/${randomBytes(12).toString('hex')}`;
      issued.set(path, Date.now());
      return `${origin}${path}`;
    },
    posts,
    accepted: (url) => accepted(url),
    script(...steps) {
      queue.push(...steps);
    },
    async waitFor(count, url, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (accepted(url).length < count) {
        if (Date.now() > deadline)
          throw new Error(
            `fake response_url: ${accepted(url).length} of ${count} posts within ${timeoutMs} ms (all: ${posts
              .map((p) => `${p.answered}${p.error ? ` ${p.error}` : ''}`)
              .join(', ')})`,
          );
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return accepted(url);
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
