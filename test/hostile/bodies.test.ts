/**
 * Hostile bodies and uniform refusals, against the functions as functions-framework serves them
 * (issue 18, failures 1 and 7): nothing unauthenticated is inflated, parsed or buffered past its cap,
 * and whatever is refused gets one short answer and one structured log line, never a stack trace,
 * a file path or a 500 for input no retry can cure.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { signSlackRequest } from '../../shared/slack/verify.ts';
import { type FunctionServer, startFunction, waitUntil } from '../support/function-server.ts';
import { memoryMB, resetPeak } from '../support/memory.ts';
import { FIXTURES } from '../support/paths.ts';
import { gzipBomb, sendRaw, zerosArray } from '../support/raw-request.ts';
import { slashCommandBody } from '../support/slash-command.ts';

const SECRET = 'hostile-bodies-signing-secret-1a2b';
const MiB = 1024 * 1024;

/** What no answer may contain: a stack frame, a file path, an HTML page. */
function assertShort(answer: { text: string; headers: Record<string, unknown> }) {
  assert.ok(answer.text.length < 100, `answer too long: ${answer.text.slice(0, 200)}`);
  assert.doesNotMatch(answer.text, /\bat [\w.<>]+ \(|node_modules|\/work\/|<html|<pre>/i);
  assert.match(String(answer.headers['content-type']), /^text\/plain/);
}

/**
 * The log lines after `from` that refuse a request, as structured JSON: waits for the first (the
 * answer can come before the child's stdout is read), then a little longer for any second one.
 */
async function refusals(server: FunctionServer, from: number) {
  const lines = () =>
    server
      .logs()
      .slice(from)
      .filter((l) => String(l.message).startsWith('request refused'));
  await waitUntil(() => lines().length > 0, 5_000);
  await sleep(100);
  return lines();
}

/** No line the function printed after `from` is a stack trace. */
function assertNoStackPrinted(server: FunctionServer, from: number) {
  const printed = server.lines.slice(from).join('\n');
  assert.doesNotMatch(printed, /\n\s+at [\w.<>]+ \(|node_modules\//);
}

describe('wiStatus under hostile bodies', () => {
  let server: FunctionServer;
  before(async () => {
    server = await startFunction('wiStatus', {
      signatureType: 'http',
      env: { SLACK_SIGNING_SECRET: SECRET, WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'), WI_STATE: 'memory' },
    });
  });
  after(() => server.stop());

  test('a gzip bomb is refused unread (415), correctly signed or not, and costs no memory', async () => {
    const bomb = await gzipBomb(200);
    assert.ok(bomb.length < 300 * 1024);
    resetPeak(server.pid);
    const baseline = memoryMB(server.pid, 'VmRSS');
    const fromLogs = server.logs().length;
    const answer = await sendRaw(server.url, bomb, {
      'content-type': 'application/x-www-form-urlencoded',
      'content-encoding': 'gzip',
      ...signSlackRequest(SECRET, bomb),
    });
    assert.equal(answer.status, 415);
    assert.equal(answer.text, 'unsupported content encoding');
    assertShort(answer);
    assert.ok(memoryMB(server.pid, 'VmHWM') - baseline < 40, 'the bomb was inflated');
    const [line] = await refusals(server, fromLogs);
    assert.equal(line?.status, 415);
    assert.match(String(line?.reason), /content encoding "gzip"/);
  });

  test('a 32 MiB body is refused by its length before a byte is read', async () => {
    resetPeak(server.pid);
    const baseline = memoryMB(server.pid, 'VmRSS');
    const answer = await sendRaw(
      server.url,
      { declaredBytes: 32 * MiB },
      { 'content-type': 'application/json' },
    );
    assert.equal(answer.status, 413);
    assert.equal(answer.text, 'request too large');
    // And sent for real, as fast as it goes: refused all the same (or cut off while still sending).
    const sent = await sendRaw(server.url, zerosArray(32 * MiB), { 'content-type': 'application/json' });
    assert.ok([413, 'EPIPE', 'ECONNRESET'].includes(sent.status), String(sent.status));
    assert.ok(memoryMB(server.pid, 'VmHWM') - baseline < 40, 'the body was read');
  });

  test('a chunked body is answered at the cap, while the rest is still being sent', async () => {
    const chunk = Buffer.alloc(16 * 1024, 'a');
    const answer = await sendRaw(
      server.url,
      { chunk, count: 512, pauseMs: 2 },
      { 'content-type': 'application/x-www-form-urlencoded' },
    );
    assert.equal(answer.status, 413);
    // 8 MiB would have been sent; the answer came at 64 KiB and a little.
    assert.ok(answer.sentBytes < 1 * MiB, `answered after ${answer.sentBytes} bytes`);
  });

  test('form fields are never parsed before the signature is verified', async () => {
    // body-parser refuses more than 1,000 fields (413 with a stack trace) before any handler runs.
    const body = Array.from({ length: 2_000 }, (_, i) => `f${i}=1`).join('&');
    const from = server.lines.length;
    const answer = await sendRaw(server.url, Buffer.from(body), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(answer.status, 401);
    assert.equal(answer.text, 'invalid request');
    assertNoStackPrinted(server, from);
  });

  test('a legitimate signed command is still answered', async () => {
    const body = Buffer.from(slashCommandBody('incidents'));
    const answer = await sendRaw(server.url, body, {
      'content-type': 'application/x-www-form-urlencoded',
      ...signSlackRequest(SECRET, body),
    });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /No open incident/);
  });
});

describe('auditEvents refuses what is not a Pub/Sub delivery, with 400 and one log line', () => {
  let server: FunctionServer;
  before(async () => {
    server = await startFunction('auditEvents', {
      env: { WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'), WI_STATE: 'memory' },
    });
    // The readiness probe (a GET) is refused too: its line is the suite's to ignore.
    await waitUntil(() => server.logs().some((l) => l.status === 405), 5_000);
  });
  after(() => server.stop());

  const cases: [string, Buffer, Record<string, string>, number, RegExp][] = [
    ['malformed JSON', Buffer.from('{"message": '), { 'content-type': 'application/json' }, 400, /not JSON/],
    ['an empty body', Buffer.alloc(0), { 'content-type': 'application/json' }, 400, /empty body/],
    ['a text/plain body', Buffer.from('hello'), { 'content-type': 'text/plain' }, 400, /not JSON/],
    ['a JSON array', Buffer.from('[1,2]'), { 'content-type': 'application/json' }, 400, /an array/],
    [
      'an object that is neither a push nor a CloudEvent',
      Buffer.from('{"hello":"world"}'),
      { 'content-type': 'application/json' },
      400,
      /neither a Pub\/Sub push/,
    ],
    [
      'an unsupported encoding',
      Buffer.from('{}'),
      { 'content-type': 'application/json', 'content-encoding': 'br' },
      415,
      /content encoding "br"/,
    ],
    [
      'a body the framework cannot convert',
      Buffer.from('{"message":{},"context":5,"data":1}'),
      { 'content-type': 'application/json' },
      400,
      /the framework refused it/,
    ],
  ];
  for (const [name, body, headers, status, reason] of cases) {
    test(`${name}: ${status}, short, logged once with its reason`, async () => {
      const from = server.lines.length;
      const fromLogs = server.logs().length;
      const answer = await sendRaw(server.url, body, headers);
      assert.equal(answer.status, status);
      assertShort(answer);
      const lines = await refusals(server, fromLogs);
      assert.equal(lines.length, 1, JSON.stringify(server.logs().slice(fromLogs)));
      assert.match(String(lines[0]?.reason), reason);
      assert.equal(lines[0]?.severity, 'WARNING');
      assertNoStackPrinted(server, from);
    });
  }

  test('a method other than POST: 405, short', async () => {
    const answer = await sendRaw(server.url, Buffer.alloc(0), {}, 'PUT');
    assert.equal(answer.status, 405);
    assertShort(answer);
  });

  test('a body over a Pub/Sub message’s size is refused at its length', async () => {
    const answer = await sendRaw(
      server.url,
      { declaredBytes: 32 * MiB },
      { 'content-type': 'application/json' },
    );
    assert.equal(answer.status, 413);
  });

  test('an undecodable Pub/Sub delivery is still acknowledged, not refused (no redelivery)', async () => {
    const push = { message: { data: 'bm90IGpzb24=', messageId: 'm-bad' }, subscription: 's' };
    const answer = await sendRaw(server.url, Buffer.from(JSON.stringify(push)), {
      'content-type': 'application/json',
    });
    assert.ok(Number(answer.status) >= 200 && Number(answer.status) < 300, String(answer.status));
  });
});
