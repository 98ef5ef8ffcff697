/**
 * Replays of a captured signed request (issue 18, failure 2): within Slack's 5-minute window the
 * signature still verifies, so only memory can tell a replay. wiStatus remembers each signature it
 * took in the store (the Firestore emulator, shared with wiCommands as deployed) and refuses it
 * again; a deferred command carries its request's own id, so even a wiStatus that never saw the
 * first copy cannot make wiCommands act twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeResponseUrl } from '../fakes/response-url.ts';
import { type FunctionServer, startFunction, waitUntil } from '../support/function-server.ts';
import { headerOf, postSigned, slashCommandBody } from '../support/slash-command.ts';
import { type SlashPipeline, startSlashPipeline } from '../support/slash-pipeline.ts';

const SECRET = 'hostile-replay-signing-secret-5c4d';
const PROJECT = 'demo-hostile-replay';

describe('a replayed signed request counts once', () => {
  let pipeline: SlashPipeline;
  let hooks: FakeResponseUrl;
  let status: FunctionServer;
  let commands: FunctionServer;
  let forgetful: FunctionServer;

  before(async () => {
    pipeline = await startSlashPipeline({ projectId: PROJECT, secret: SECRET, prefix: 'replay' });
    ({ hooks, status, commands } = pipeline);
    // Another instance that keeps no memory of requests at all (its own memory store).
    forgetful = await startFunction('wiStatus', {
      signatureType: 'http',
      env: { ...pipeline.env, WI_STATE: 'memory' },
    });
    pipeline.also(forgetful);
  });
  after(() => pipeline?.stop());

  const activeSilences = async () => {
    const blocks = JSON.stringify(
      (await postSigned(status.url, SECRET, slashCommandBody('incidents', { responseUrl: hooks.newUrl() })))
        .json?.blocks,
    );
    return Number(/Active silences \((\d+)\)/.exec(blocks)?.[1] ?? 0);
  };

  test('three replays of a silence within the window are refused; a replay after unsilence too', async () => {
    const url = hooks.newUrl();
    const body = slashCommandBody('silence namespace=checkout 1h deploying', { responseUrl: url });
    const timestampSeconds = Math.floor(Date.now() / 1000);
    const send = (to = status.url) => postSigned(to, SECRET, body, { timestampSeconds });

    const first = await send();
    assert.equal(headerOf(first), '⏳ Silencing for 1h…');
    const [silenced] = await hooks.waitFor(1, url, 20_000);
    const id = /`(s-[0-9a-f]{10})`/.exec(JSON.stringify(silenced?.body?.blocks))?.[1];
    assert.ok(id);

    const fromLogs = status.logs().length;
    for (let i = 0; i < 3; i++) {
      const replay = await send();
      assert.equal(replay.status, 401);
      assert.equal(replay.text, 'invalid request');
    }
    const logs = await status.waitForLogs(fromLogs + 3);
    assert.equal(logs.slice(fromLogs).filter((l) => l.reason === 'replayed').length, 3);
    assert.equal(await activeSilences(), 1);

    const ending = hooks.newUrl();
    await postSigned(status.url, SECRET, slashCommandBody(`unsilence ${id}`, { responseUrl: ending }));
    await hooks.waitFor(1, ending, 20_000);
    assert.equal(await activeSilences(), 0);

    assert.equal((await send()).status, 401, 'a replay after unsilence');
    // An instance that never saw the request takes it, but its command has the request's own id:
    // wiCommands has run that one already and runs it no more.
    const fromCommands = commands.logs().length;
    assert.equal(headerOf(await send(forgetful.url)), '⏳ Silencing for 1h…');
    await waitUntil(
      () =>
        commands
          .logs()
          .slice(fromCommands)
          .some((l) => l.message === 'wiCommands: duplicate delivery acknowledged'),
      20_000,
    );
    assert.equal(await activeSilences(), 0);
    assert.equal(hooks.accepted(url).length, 1, 'answered once at response_url');
  });
});
