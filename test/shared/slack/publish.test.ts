import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import { createCommandPublisher } from '../../../shared/slack/publish.ts';

const TOKEN = 'ya29.publish-test-token';

/** Pub/Sub's REST publish, as a small server: answers as scripted, records what it received. */
function fakePubSub() {
  const received: { url: string; headers: IncomingHttpHeaders; body: unknown }[] = [];
  let next: 'ok' | 'hang' | number = 'ok';
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString()),
      });
      const step = next;
      next = 'ok';
      if (step === 'hang') return;
      res.writeHead(step === 'ok' ? 200 : step, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify(
          step === 'ok'
            ? { messageIds: [String(received.length)] }
            : {
                error: {
                  code: step,
                  message: 'The caller does not have permission',
                  status: 'PERMISSION_DENIED',
                },
              },
        ),
      );
    });
  });
  return {
    received,
    script: (step: typeof next) => {
      next = step;
    },
    start: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () =>
          resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        ),
      ),
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('createCommandPublisher (Pub/Sub REST publish)', () => {
  const pubsub = fakePubSub();
  let url: string;
  before(async () => {
    url = await pubsub.start();
  });
  after(() => pubsub.stop());

  const publisher = (timeoutMs = 2_000) =>
    createCommandPublisher({
      topic: 'wi-sentinel-commands',
      projectId: 'orbit-ops',
      tokens: async () => TOKEN,
      apiUrl: url,
      timeoutMs,
    });

  it('publishes the data base64-encoded with its attributes, with a bearer token, and returns the message id', async () => {
    const id = await publisher()({ data: Buffer.from('{"v":1}'), attributes: { mac: 'ab12' } });
    assert.equal(id, '1');
    const [request] = pubsub.received;
    assert.equal(request?.url, '/v1/projects/orbit-ops/topics/wi-sentinel-commands:publish');
    assert.equal(request?.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(request?.body, {
      messages: [{ data: Buffer.from('{"v":1}').toString('base64'), attributes: { mac: 'ab12' } }],
    });
  });

  it('names the missing permission on a 403, without the token', async () => {
    pubsub.script(403);
    await assert.rejects(publisher()({ data: Buffer.from('x'), attributes: {} }), (error: unknown) => {
      assert.ok(error instanceof LookupError);
      assert.match(error.message, /pubsub\.topics\.publish/);
      assert.ok(!error.message.includes(TOKEN));
      return true;
    });
  });

  it('gives up within its budget when Pub/Sub does not answer', async () => {
    pubsub.script('hang');
    const started = Date.now();
    await assert.rejects(publisher(300)({ data: Buffer.from('x'), attributes: {} }), LookupError);
    assert.ok(Date.now() - started < 1_500, `${Date.now() - started} ms`);
  });

  it('refuses to publish without a project', async () => {
    const none = createCommandPublisher({
      topic: 't-1',
      projectId: undefined,
      tokens: async () => TOKEN,
      apiUrl: url,
    });
    await assert.rejects(none({ data: Buffer.from('x'), attributes: {} }), /GOOGLE_CLOUD_PROJECT is not set/);
  });
});
