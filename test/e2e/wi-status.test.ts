/**
 * /wi-status end to end: signed slash commands to `wiStatus` (functions-framework, a child process),
 * which answers from stored state (the Firestore emulator, WI_SNAPSHOT) or acknowledges and publishes
 * to the Pub/Sub emulator's `wi-sentinel-commands` topic; a push subscription delivers to `wiCommands`
 * (another child process), which runs the command and posts to a fake response_url. Both functions
 * share the Firestore emulator, as deployed functions share Firestore, so a silence set through
 * wiCommands shows in wiStatus's answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { FakeResponseUrl } from '../fakes/response-url.ts';
import { validateBlocks } from '../fakes/slack.ts';
import { type FunctionServer, waitUntil } from '../support/function-server.ts';
import type { PubSub } from '../support/pubsub.ts';
import { headerOf, postSigned, slashCommandBody } from '../support/slash-command.ts';
import { COMMANDS_TOPIC, type SlashPipeline, startSlashPipeline } from '../support/slash-pipeline.ts';

const SECRET = 'e2e-wi-status-signing-secret-77aa';
const PROJECT = 'demo-wi-status-e2e';
const GCLOUD = process.env.WI_E2E_GCLOUD ?? 'gcloud';

describe('/wi-status end to end: wiStatus → Pub/Sub emulator → wiCommands → response_url', () => {
  let pipeline: SlashPipeline;
  let hooks: FakeResponseUrl;
  let status: FunctionServer;
  let commands: FunctionServer;
  let pubsub: PubSub;

  before(async () => {
    pipeline = await startSlashPipeline({
      projectId: PROJECT,
      secret: SECRET,
      prefix: 'wistatus',
      gcloud: GCLOUD,
    });
    ({ hooks, status, commands, pubsub } = pipeline);
  });
  after(() => pipeline?.stop());

  const ask = (text: string, responseUrl: string, userId?: string) =>
    postSigned(status.url, SECRET, slashCommandBody(text, { responseUrl, ...(userId ? { userId } : {}) }));

  test('a KSA check is acknowledged at once, then answered at response_url by wiCommands', async () => {
    const url = hooks.newUrl();
    const ack = await ask('public checkout/cart --cluster core-1', url);
    assert.equal(ack.status, 200);
    assert.ok(ack.ms < 3_000, `acknowledged in ${Math.round(ack.ms)} ms`);
    assert.equal(ack.json?.response_type, 'ephemeral', 'the acknowledgement is for the asker');
    assert.equal(headerOf(ack), '⏳ Checking checkout/cart in core-1 live…');
    const [answer] = await hooks.waitFor(1, url, 20_000);
    assert.equal(answer?.body?.response_type, 'in_channel', 'the answer goes where it was asked');
    assert.deepEqual(validateBlocks(answer?.body?.blocks as unknown[]), []);
    assert.equal(headerOf(answer?.body), '✅ healthy: every link of checkout/cart in core-1 holds');
  });

  test('a silence set through wiCommands shows in wiStatus’s incidents, and unsilence ends it', async () => {
    const url = hooks.newUrl();
    const ack = await ask('silence namespace=checkout,kind=binding-* 2h migrating the cart GSA', url);
    assert.equal(headerOf(ack), '⏳ Silencing for 2h…');
    const [silenced] = await hooks.waitFor(1, url, 20_000);
    assert.match(headerOf(silenced?.body), /^🔕 Silenced for 2 h, until /);
    const id = /`(s-[0-9a-f]{10})`/.exec(JSON.stringify(silenced?.body?.blocks))?.[1];
    assert.ok(id, JSON.stringify(silenced?.body));

    const listed = await ask('incidents', hooks.newUrl());
    assert.equal(headerOf(listed), '✅ No open incident');
    const blocks = JSON.stringify(listed.json?.blocks);
    assert.match(
      blocks,
      new RegExp(
        `Active silences \\(1\\)\\*\\\\n🔕 \\*${id}\\* until .* · @alice \\(U0ALICE\\): migrating the cart GSA`,
      ),
    );
    assert.match(blocks, /`namespace=checkout,kind=binding-\*`/);

    const again = hooks.newUrl();
    assert.equal(headerOf(await ask(`unsilence ${id}`, again)), `⏳ Ending silence ${id}…`);
    const [ended] = await hooks.waitFor(1, again, 20_000);
    assert.equal(headerOf(ended?.body), `🔔 Silence ${id} ended: its incidents alert again`);
    assert.doesNotMatch(
      JSON.stringify((await ask('incidents', hooks.newUrl())).json?.blocks),
      /Active silences/,
    );
  });

  test('a message put on the topic without the MAC is refused: nothing runs, nothing is posted', async () => {
    const url = hooks.newUrl();
    const forged = {
      v: 1,
      id: 'forged-0000-0000',
      requestedAt: new Date().toISOString(),
      task: { kind: 'unsilence', id: 's-0000000000' },
      slack: { teamId: 'T0FAKETEAM', userId: 'U0ALICE', responseUrl: url, responseType: 'in_channel' },
    };
    const before = commands.logs().length;
    await pubsub.publish(COMMANDS_TOPIC, [{ data: Buffer.from(JSON.stringify(forged)).toString('base64') }]);
    await waitUntil(
      () =>
        commands
          .logs()
          .slice(before)
          .some((l) => l.message === 'wiCommands: command refused (bad-mac); dropped'),
      20_000,
    );
    assert.equal(hooks.posts.filter((p) => p.path === new URL(url).pathname).length, 0);
  });
});
