/**
 * The real pipeline end to end: audit-log entries published as a Log Router sink publishes them to
 * the Pub/Sub emulator's `wi-sentinel-audit` topic, pushed to the functions-framework server of
 * `auditEvents` (a child process), which keeps incidents in the Firestore emulator and notifies a
 * fake Slack Web API and a fake PagerDuty Events API through the real clients.
 *
 * The emulators start once for the file, on first use; each test has its own Pub/Sub project (so
 * its subscription sees only its messages), its own Firestore collection prefix, its own fakes and
 * its own function process (each starts from the snapshot as the file says). When an emulator
 * cannot start, every test fails with the reason (WI_E2E_GCLOUD names another gcloud: scenario d).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isPagingKind } from '../../shared/domain/finding.ts';
import { createFirestoreStore } from '../../shared/incidents/firestore-store.ts';
import { analyze } from '../../shared/pipeline.ts';
import { type FakePagerDuty, startFakePagerDuty } from '../fakes/pagerduty.ts';
import { type FakeSlack, type FakeSlackStep, startFakeSlack } from '../fakes/slack.ts';
import { waitUntil } from '../support/function-server.ts';
import { FIXTURES, REPO_ROOT, sharedFixturesDir } from '../support/paths.ts';
import {
  type Emulators,
  FIRESTORE_PROJECT,
  type Pipeline,
  startEmulators,
  startPipeline,
} from '../support/pipeline.ts';
import { type PubSubMessage, sinkMessage } from '../support/pubsub.ts';
import {
  bindingEntry,
  bindingFingerprint,
  type Link,
  random,
  unrelatedEntries,
  withLinks,
} from '../support/wi-stream.ts';

const TOKEN = 'xoxb-e2e-0000-testtokentesttoken';
const ROUTING_KEY = 'E2EROUTINGKEYE2EROUTINGKEYE2E123';
const CHANNEL = '#wi-alerts';
const RUN = `e2e${Date.now().toString(36)}`;
const GCLOUD = process.env.WI_E2E_GCLOUD ?? 'gcloud';

type Json = Record<string, unknown>;

// --- the corpus: ../shared/fixtures/wi-events, else the repository's own events -------------------

interface Case {
  name: string;
  input: Json;
  /** kind and status of each finding the case must produce (other fields are the conformance suite's). */
  expect: { kind: string; status: string }[];
}

function corpus(): { source: string; snapshot: string; cases: Case[] } {
  const shared = sharedFixturesDir();
  const dir = shared === undefined ? undefined : join(shared, 'wi-events');
  if (dir !== undefined && existsSync(join(dir, 'snapshot.json'))) {
    const cases = readdirSync(dir)
      .filter((file) => file.endsWith('.json') && file !== 'snapshot.json')
      .sort()
      .map((file) => {
        const value = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json & { expect: Case['expect'] };
        return { name: file, input: value.input as Json, expect: value.expect };
      });
    return { source: dir, snapshot: join(dir, 'snapshot.json'), cases };
  }
  // No shared corpus: the repository's own events, each expected to produce what detect() says of it
  // (the conformance of detect() itself is other tests' business; here the path to people is).
  const own = join(FIXTURES, 'events');
  const snapshotFile = join(FIXTURES, 'snapshot.json');
  const snapshot = JSON.parse(readFileSync(snapshotFile, 'utf8'));
  const cases = readdirSync(own)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const input = JSON.parse(readFileSync(join(own, file), 'utf8')) as Json;
      const analysis = analyze(input, snapshot);
      const expect = analysis.outcome === 'change' ? analysis.findings : [];
      return { name: file, input, expect: expect.map(({ kind, status }) => ({ kind, status })) };
    });
  return { source: own, snapshot: snapshotFile, cases };
}

/** What a sink publishes for the case: the inner LogEntry of a push body or CloudEvent, as its bytes were. */
function messageOf(input: Json): PubSubMessage {
  const inner = (input.specversion !== undefined ? input.data : input) as Json | undefined;
  const message = inner?.message as { data?: string; attributes?: Record<string, string> } | undefined;
  if (message?.data === undefined) return sinkMessage(inner ?? input);
  const entry = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8')) as Json;
  return {
    data: message.data,
    attributes: {
      'logging.googleapis.com/timestamp': String(entry.timestamp ?? new Date().toISOString()),
      ...message.attributes,
    },
  };
}

// --- what reached people ---------------------------------------------------------------------------

const answeredOk = (call: FakeSlack['calls'][number]) => call.answered === 200 && call.error === undefined;
const topLevel = (slack: FakeSlack) => slack.messages.filter((m) => m.thread_ts === undefined);
const replies = (slack: FakeSlack) => slack.messages.filter((m) => m.thread_ts !== undefined);
const pdAccepted = (pd: FakePagerDuty) =>
  pd.events
    .filter((e) => e.answered === 202)
    .map((e) => e.body as { event_action: string; dedup_key: string; payload?: { custom_details?: Json } });

function functionEnv(
  emulators: Emulators,
  prefix: string,
  snapshot: string,
  slack: FakeSlack,
  pd: FakePagerDuty,
): Record<string, string> {
  return {
    WI_STATE: 'firestore',
    FIRESTORE_EMULATOR_HOST: emulators.firestore.host,
    GOOGLE_CLOUD_PROJECT: FIRESTORE_PROJECT,
    WI_FIRESTORE_PREFIX: prefix,
    WI_SNAPSHOT: snapshot,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_API_URL: slack.url,
    SLACK_CHANNEL: CHANNEL,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: pd.url,
  };
}

/** Waits until nothing new happens for `quietMs`: no log line, no Slack call, no PagerDuty event. */
async function quiet(
  pipeline: Pipeline,
  slack: FakeSlack,
  pd: FakePagerDuty,
  quietMs: number,
  timeoutMs = 30_000,
) {
  const state = () => `${pipeline.fn.lines.length}/${slack.calls.length}/${pd.events.length}`;
  const deadline = Date.now() + timeoutMs;
  let last = state();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`still busy after ${timeoutMs} ms (${last})`);
    await sleep(100);
    const now = state();
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

/** A snapshot file of the test's own, removed with the rest of what it started. */
async function ownSnapshot(own: ReturnType<typeof resources>, name: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `wi-e2e-${name}-`));
  own.add({ stop: () => rm(dir, { recursive: true, force: true }) });
  return join(dir, 'snapshot.json');
}

/** Everything one test starts, stopped in reverse order whatever happened. */
function resources() {
  const stops: (() => Promise<unknown>)[] = [];
  return {
    add<T extends { stop(): Promise<unknown> }>(thing: T): T {
      stops.push(() => thing.stop());
      return thing;
    },
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
    },
  };
}

// --- the suite --------------------------------------------------------------------------------------

let started: Promise<Emulators> | undefined;
/** The emulators, started on first use; a failure to start fails every test that needs them, with the reason. */
function emulators(): Promise<Emulators> {
  started ??= startEmulators({ gcloud: GCLOUD });
  return started;
}

const { source, snapshot: snapshotFile, cases } = corpus();

describe('the real pipeline: Pub/Sub emulator → auditEvents (functions-framework) → Firestore emulator → Slack, PagerDuty', () => {
  after(async () => {
    await started?.then(
      (e) => e.stop(),
      () => {},
    );
  });

  describe(`a. every Workload Identity case (${source})`, { concurrency: 4 }, () => {
    test('the corpus is there', () =>
      assert.ok(cases.length >= 10, `only ${cases.length} cases in ${source}`));

    cases.forEach((testCase, index) => {
      const firing = testCase.expect.filter((f) => f.status === 'firing');
      const paging = firing.filter((f) => isPagingKind(f.kind));
      const what =
        paging.length > 0
          ? `one Slack message and one PagerDuty trigger (${paging.map((f) => f.kind).join(', ')})`
          : firing.length > 0
            ? `one Slack message, no page (${firing.map((f) => f.kind).join(', ')})`
            : 'nothing reaches anyone';
      test(`${testCase.name}: ${what}`, async () => {
        const e = await emulators();
        const own = resources();
        try {
          const slack = own.add(await startFakeSlack({ token: TOKEN }));
          const pd = own.add(await startFakePagerDuty());
          const pipeline = own.add(
            await startPipeline({
              pubsubHost: e.pubsub.host,
              projectId: `demo-wi-e2e-a${index}`,
              env: functionEnv(e, `${RUN}-a${index}-`, snapshotFile, slack, pd),
            }),
          );
          const [id = ''] = await pipeline.publish([messageOf(testCase.input)]);
          await pipeline.waitForDone([id], 20_000);
          // A delivery answered with a failure would come back about a second later: wait past that.
          await quiet(pipeline, slack, pd, 1_500);
          const seen = pipeline.seen().get(id);
          assert.equal(seen?.done, 1, `acknowledged once: ${JSON.stringify(seen?.lines)}`);
          assert.equal(seen?.retried, 0);

          const posts = topLevel(slack);
          const pages = pdAccepted(pd);
          if (firing.length === 0) {
            assert.deepEqual(slack.calls, [], 'no Slack call');
            assert.deepEqual(pd.events, [], 'no PagerDuty event');
            return;
          }
          assert.equal(
            posts.length,
            1,
            `one Slack message: ${JSON.stringify(slack.calls.map((c) => c.method))}`,
          );
          assert.equal(replies(slack).length, 0, 'no thread reply');
          assert.ok(slack.calls.every(answeredOk), 'every Slack call accepted');
          const blocks = JSON.stringify(posts[0]?.blocks);
          for (const finding of firing)
            assert.ok(blocks.includes(`\`${finding.kind}\``), `${finding.kind} in ${blocks}`);
          if (paging.length === 0) {
            assert.deepEqual(pd.events, [], 'hygiene never pages');
            return;
          }
          assert.deepEqual(
            pages.map((p) => p.event_action),
            ['trigger'],
          );
          assert.ok(
            String(pages[0]?.payload?.custom_details?.fingerprint).startsWith(`${paging[0]?.kind}/`),
            JSON.stringify(pages[0]),
          );
        } finally {
          await own.stop();
        }
      });
    });
  });

  test('b. 1,000 deliveries, 10% duplicates, Slack failing 20% of calls: every incident told exactly once per destination and transition', {
    timeout: 150_000,
  }, async (t) => {
    const e = await emulators();
    const own = resources();
    const began = Date.now();
    try {
      const rnd = random(20261129);
      const { snapshot, links } = withLinks(JSON.parse(await readFile(snapshotFile, 'utf8')), 64);
      const file = await ownSnapshot(own, 'b');
      await writeFile(file, JSON.stringify(snapshot));

      const slack = own.add(await startFakeSlack({ token: TOKEN }));
      const pd = own.add(await startFakePagerDuty());
      const failures: FakeSlackStep[] = [
        { status: 500 },
        { status: 429, retryAfter: 0 },
        { status: 429, retryAfter: 1 },
      ];
      slack.script(
        ...Array.from(
          { length: 4_000 },
          (): FakeSlackStep =>
            rnd() < 0.2 ? (failures[Math.floor(rnd() * failures.length)] as FakeSlackStep) : 'ok',
        ),
      );
      const pipeline = own.add(
        await startPipeline({
          pubsubHost: e.pubsub.host,
          projectId: 'demo-wi-e2e-b',
          env: functionEnv(e, `${RUN}-b-`, file, slack, pd),
        }),
      );

      // The plan: each link is broken and repaired (every fourth one twice), one step per wave, so
      // a repair is published only once its break has been acknowledged; unrelated entries and
      // duplicates (right beside the original, or a wave later) fill every wave.
      type Item = { entry: Json; link?: Link };
      const waves: Item[][] = [];
      const cycles = (link: Link) => (link.index % 4 === 0 ? 2 : 1);
      for (const link of links) {
        const steps = cycles(link) * 2;
        for (let step = 0; step < steps; step++) {
          const wave = (link.index % 2) + step;
          waves[wave] ??= [];
          waves[wave].push({
            link,
            entry: bindingEntry(link, step % 2 === 0 ? 'REMOVE' : 'ADD', {
              insertId: `${RUN}-b-${link.index}-${step}`,
            }),
          });
        }
      }
      const wiCount = waves.flat().length;
      const unrelated = unrelatedEntries();
      const duplicates = 100;
      const unrelatedCount = 1_000 - duplicates - wiCount;
      for (let i = 0; i < unrelatedCount; i++) {
        waves[i % waves.length]?.push({ entry: unrelated(`${RUN}-b-other-${i}`) });
      }
      const originals = waves.flat();
      const wi = originals.filter((item) => item.link);
      const other = originals.filter((item) => !item.link);
      const chosen = new Set<Item>();
      while (chosen.size < duplicates) {
        const pool = chosen.size < 70 ? wi : other;
        chosen.add(pool[Math.floor(rnd() * pool.length)] as Item);
      }
      // Shuffled; then each duplicate right beside its original (both copies pushed at once, handled
      // concurrently) or somewhere in the next wave (after the original was acknowledged).
      const shuffle = <T>(list: T[]) => {
        for (let i = list.length - 1; i > 0; i--) {
          const j = Math.floor(rnd() * (i + 1));
          [list[i], list[j]] = [list[j] as T, list[i] as T];
        }
        return list;
      };
      const batches = waves.map((wave) => shuffle([...wave]));
      let beside = 0;
      for (const item of chosen) {
        const wave = waves.findIndex((w) => w.includes(item));
        const copy = { entry: item.entry };
        const next = batches[wave + 1];
        if (rnd() < 0.5 || next === undefined) {
          const batch = batches[wave] as Item[];
          batch.splice(batch.indexOf(item) + 1, 0, copy);
          beside += 1;
        } else {
          next.splice(Math.floor(rnd() * (next.length + 1)), 0, copy);
        }
      }

      const published: string[] = [];
      const waveMs: number[] = [];
      for (const batch of batches) {
        const start = Date.now();
        const ids = await pipeline.publish(batch.map((item) => sinkMessage(item.entry)));
        published.push(...ids);
        await pipeline.waitForDone(ids, 60_000);
        waveMs.push(Date.now() - start);
      }
      await quiet(pipeline, slack, pd, 2_500, 60_000);

      // Counts, for the CI log.
      const seen = pipeline.seen();
      const lost = published.filter((id) => (seen.get(id)?.done ?? 0) === 0);
      const redelivered = [...seen.values()].reduce((sum, s) => sum + s.retried, 0);
      const injected = slack.calls.filter((c) => c.answered === 500 || c.answered === 429).length;
      const posts = topLevel(slack);
      const threadReplies = replies(slack);
      const updates = slack.calls.filter((c) => c.method === 'chat.update' && answeredOk(c)).length;
      const pages = pdAccepted(pd);
      const counts = {
        published: published.length,
        duplicates,
        duplicatesBeside: beside,
        wiChanges: wiCount,
        slackCalls: slack.calls.length,
        slackFailuresInjected: injected,
        posts: posts.length,
        updates,
        threadReplies: threadReplies.length,
        pdEvents: pages.length,
        pdTriggers: pages.filter((p) => p.event_action === 'trigger').length,
        pdResolves: pages.filter((p) => p.event_action === 'resolve').length,
        redeliveries: redelivered,
        lost: lost.length,
        waveMs,
        seconds: Math.round((Date.now() - began) / 100) / 10,
      };
      t.diagnostic(`e2e counts: ${JSON.stringify(counts)}`);
      console.log(`e2e pipeline (b) counts: ${JSON.stringify(counts)}`);

      assert.equal(published.length, 1_000);
      assert.deepEqual(lost, [], 'every delivery acknowledged by the function');
      assert.ok(injected >= slack.calls.length * 0.1, `Slack failures were injected (${injected})`);
      const dropped = [...seen.values()]
        .flatMap((s) => s.lines)
        .filter((l) => /event dropped|failed permanently/.test(String(l.message)));
      assert.deepEqual(dropped, [], 'no permanent failure');

      // Exactly once per destination per transition.
      const incidents = links.reduce((sum, link) => sum + cycles(link), 0);
      const byIncident = new Map<string, number>();
      for (const post of posts) {
        const id = /incident ([0-9a-f]{16}-[0-9a-z]+)/.exec(JSON.stringify(post.blocks))?.[1] ?? 'none';
        byIncident.set(id, (byIncident.get(id) ?? 0) + 1);
      }
      assert.equal(byIncident.size, incidents, 'one incident per break');
      assert.deepEqual(
        [...byIncident].filter(([, n]) => n !== 1),
        [],
        'one post per opened incident',
      );
      for (const link of links) {
        const mine = posts.filter((p) => p.text?.includes(`${link.namespace}/${link.ksa} `));
        assert.equal(mine.length, cycles(link), `${link.ksa}: one post per incident`);
      }
      const repliesByPost = new Map<string, number>();
      for (const reply of threadReplies) {
        repliesByPost.set(reply.thread_ts ?? '', (repliesByPost.get(reply.thread_ts ?? '') ?? 0) + 1);
      }
      for (const post of posts) {
        assert.equal(repliesByPost.get(post.ts), 1, `one resolution reply under ${post.ts}: ${post.text}`);
        assert.ok(post.edits >= 1, `the message was edited on resolution: ${post.text}`);
        assert.match(JSON.stringify(post.blocks), /Resolved: /, 'and now shows the incident resolved');
      }
      assert.equal(threadReplies.length, incidents);
      assert.equal(
        updates,
        posts.reduce((sum, p) => sum + p.edits, 0),
      );

      const byKey = new Map<string, string[]>();
      for (const page of pages)
        byKey.set(page.dedup_key, [...(byKey.get(page.dedup_key) ?? []), page.event_action]);
      for (const link of links) {
        const key = createHash('sha256').update(bindingFingerprint(link)).digest('hex');
        const expected = Array.from({ length: cycles(link) }, () => ['trigger', 'resolve']).flat();
        assert.deepEqual(byKey.get(key), expected, `${link.ksa}: one trigger and one resolve per incident`);
      }
      assert.equal(pages.length, incidents * 2);

      // Nothing was given up on: the dead-letter topic infra/ attaches received nothing.
      assert.deepEqual(await pipeline.deadLetters(), [], 'no message in the dead-letter topic');

      const store = createFirestoreStore({
        projectId: FIRESTORE_PROJECT,
        prefix: `${RUN}-b-`,
        emulatorHost: e.firestore.host,
      });
      try {
        assert.deepEqual(await store.listOpen(), [], 'every incident resolved in Firestore');
      } finally {
        await store.close();
      }
    } finally {
      await own.stop();
    }
  });

  test('c. poison messages are acknowledged once each and block nothing published after them', {
    timeout: 60_000,
  }, async (t) => {
    const e = await emulators();
    const own = resources();
    try {
      const { snapshot, links } = withLinks(JSON.parse(await readFile(snapshotFile, 'utf8')), 5);
      const file = await ownSnapshot(own, 'c');
      await writeFile(file, JSON.stringify(snapshot));
      const slack = own.add(await startFakeSlack({ token: TOKEN }));
      const pd = own.add(await startFakePagerDuty());
      const pipeline = own.add(
        await startPipeline({
          pubsubHost: e.pubsub.host,
          projectId: 'demo-wi-e2e-c',
          env: functionEnv(e, `${RUN}-c-`, file, slack, pd),
        }),
      );
      const entry = bindingEntry(links[0] as Link, 'REMOVE', { insertId: `${RUN}-c-poison` });
      const text = `${JSON.stringify(entry)}\n`;
      const raw = (bytes: Buffer | string): PubSubMessage => ({
        data: Buffer.from(bytes).toString('base64'),
        attributes: { 'logging.googleapis.com/timestamp': String(entry.timestamp) },
      });
      // The emulator refuses to publish data that is not base64 (400), so "not base64" reaches the
      // function as what a producer meant to be base64: text that is not, and base64 encoded twice.
      const poison: { name: string; message: PubSubMessage; reason: RegExp }[] = [
        { name: 'not base64', message: raw('!!! not base64 !!!'), reason: /not a JSON LogEntry/ },
        {
          name: 'base64 twice',
          message: raw(Buffer.from(text).toString('base64')),
          reason: /not a JSON LogEntry/,
        },
        {
          name: 'not UTF-8, not JSON',
          message: raw(Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80])),
          reason: /not a JSON LogEntry/,
        },
        { name: 'truncated JSON', message: raw(text.slice(0, 200)), reason: /not a JSON LogEntry/ },
        {
          name: 'a CloudEvent of the wrong type',
          message: raw(
            JSON.stringify({
              specversion: '1.0',
              id: 'wrong-1',
              type: 'google.cloud.storage.object.v1.finalized',
              source: '//storage.googleapis.com/projects/_/buckets/b',
              data: entry,
            }),
          ),
          reason: /not a LogEntry/,
        },
        {
          name: 'an empty message',
          message: { data: '', attributes: { note: 'empty' } },
          reason: /has no data/,
        },
      ];
      const poisonIds = await pipeline.publish(poison.map((p) => p.message));
      const validIds = await pipeline.publish(
        links.map((link) =>
          sinkMessage(bindingEntry(link, 'REMOVE', { insertId: `${RUN}-c-${link.index}` })),
        ),
      );
      const empty = poison.findIndex((p) => p.message.data === '');
      await pipeline.waitForDone(
        [...poisonIds, ...validIds].filter((_, i) => i !== empty),
        20_000,
      );
      // The emulator pushes a failed message again about a second later: three seconds of quiet
      // means none is coming back.
      await quiet(pipeline, slack, pd, 3_000);

      const seen = pipeline.seen();
      poison.forEach((p, i) => {
        // functions-framework 5 converts a push body only when its message has data
        // (isRawPubSubRequestBody): an empty message reaches the function unconverted, as an event
        // without an id, so its line carries no eventId and is found by its reason instead.
        const lines =
          p.message.data === ''
            ? pipeline.other().filter((line) => p.reason.test(String(line.message)))
            : (seen.get(poisonIds[i] as string)?.lines ?? []);
        t.diagnostic(`${p.name}: the function saw it ${lines.length} time(s): ${lines[0]?.message}`);
        assert.equal(lines.length, 1, `${p.name}: seen once, ${JSON.stringify(lines)}`);
        assert.equal(lines[0]?.severity, 'WARNING');
        assert.match(String(lines[0]?.message), /^undecodable delivery acknowledged: /);
        assert.match(String(lines[0]?.message), p.reason);
      });
      for (const id of validIds) assert.equal(seen.get(id)?.done, 1);
      // Poison is acknowledged, never retried until it is dead-lettered.
      assert.deepEqual(await pipeline.deadLetters(), [], 'no message in the dead-letter topic');
      assert.equal(topLevel(slack).length, links.length, 'every valid message reached Slack');
      assert.deepEqual(
        pdAccepted(pd).map((p) => p.event_action),
        links.map(() => 'trigger'),
      );
    } finally {
      await own.stop();
    }
  });
  test('e. delivery exactly as infra/ declares it: a push that keeps failing is kept in the dead-letter topic and replays once; one that fails once is told once', {
    timeout: 150_000,
  }, async (t) => {
    const e = await emulators();
    const own = resources();
    try {
      const { snapshot, links } = withLinks(JSON.parse(await readFile(snapshotFile, 'utf8')), 2);
      const file = await ownSnapshot(own, 'e');
      await writeFile(file, JSON.stringify(snapshot));
      // Infra's retry policy (10 s to 10 min) with its lowest max_delivery_attempts, so the failing
      // message is dead-lettered within a minute rather than ten (each attempt is a real push).
      const start = async (name: string) => {
        const slack = own.add(await startFakeSlack({ token: TOKEN }));
        const pd = own.add(await startFakePagerDuty());
        const pipeline = own.add(
          await startPipeline({
            pubsubHost: e.pubsub.host,
            projectId: `demo-wi-e2e-${name}`,
            env: functionEnv(e, `${RUN}-${name}-`, file, slack, pd),
            delivery: { retryPolicy: true, maxDeliveryAttempts: 5 },
          }),
        );
        return { slack, pd, pipeline };
      };
      const [down, blip] = await Promise.all([start('e1'), start('e2')]);
      const attempts = down.pipeline.delivery.maxDeliveryAttempts;
      assert.equal(attempts, down.pipeline.delivery.minDeliveryAttempts);
      const message = (link: Link, key: string) =>
        sinkMessage(bindingEntry(link, 'REMOVE', { insertId: `${RUN}-e-${key}-${link.index}` }));
      const downMessage = message(links[0] as Link, 'down');

      // Slack fails every call for one pipeline, and for the other until its first push has failed.
      down.slack.outage({ status: 500 });
      blip.slack.outage({ status: 500 });
      const [[downId = ''], [blipId = '']] = await Promise.all([
        down.pipeline.publish([downMessage]),
        blip.pipeline.publish([message(links[1] as Link, 'blip')]),
      ]);
      await waitUntil(() => (blip.pipeline.seen().get(blipId)?.retried ?? 0) >= 1, 30_000);
      blip.slack.outage(undefined);
      await blip.pipeline.waitForDone([blipId], 60_000);

      // The failing one: pushed `attempts` times, then moved to the dead-letter topic, data intact.
      let deadLetters: Awaited<ReturnType<Pipeline['deadLetters']>> = [];
      for (const deadline = Date.now() + 120_000; deadLetters.length === 0; await sleep(1_000)) {
        if (Date.now() > deadline) throw new Error('nothing reached the dead-letter topic within 120 s');
        deadLetters.push(...(await down.pipeline.deadLetters()));
      }
      const downSeen = down.pipeline.seen().get(downId);
      t.diagnostic(
        `failing push: ${downSeen?.retried} attempts, then dead-lettered: ${JSON.stringify(deadLetters[0]?.attributes)}`,
      );
      assert.equal(deadLetters.length, 1);
      assert.equal(deadLetters[0]?.data, downMessage.data, 'the dead letter is the message as published');
      assert.equal(deadLetters[0]?.attributes.CloudPubSubDeadLetterSourceDeliveryCount, String(attempts));
      assert.equal(downSeen?.retried, attempts, 'each push failed so Pub/Sub retried');
      assert.equal(downSeen?.done, 0);
      assert.equal(topLevel(down.slack).length, 0);

      // Replayed as the README says (republish the data), once Slack is back: told exactly once.
      down.slack.outage(undefined);
      const [replayId = ''] = await down.pipeline.publish([
        { data: deadLetters[0]?.data ?? '', attributes: downMessage.attributes ?? {} },
      ]);
      await down.pipeline.waitForDone([replayId], 30_000);
      await Promise.all([
        quiet(down.pipeline, down.slack, down.pd, 1_500),
        quiet(blip.pipeline, blip.slack, blip.pd, 1_500),
      ]);
      for (const { slack, pd } of [down, blip]) {
        assert.equal(topLevel(slack).length, 1, 'one Slack message');
        assert.deepEqual(
          pdAccepted(pd).map((p) => p.event_action),
          ['trigger'],
        );
      }
      const blipSeen = blip.pipeline.seen().get(blipId);
      assert.equal(blipSeen?.done, 1, 'the blip was delivered once');
      assert.ok((blipSeen?.retried ?? 0) >= 1);
      assert.deepEqual(await blip.pipeline.deadLetters(), [], 'the blip was never dead-lettered');
      deadLetters = await down.pipeline.deadLetters();
      assert.deepEqual(deadLetters, [], 'the replay was not dead-lettered again');
    } finally {
      await own.stop();
    }
  });
});

describe('d. an emulator that cannot start', () => {
  test('fails the run with the reason instead of hanging', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wi-e2e-d-'));
    try {
      // This file's scenario c, run as CI runs it, with a gcloud that does not exist. (The runner
      // marks its children with NODE_TEST_CONTEXT and refuses to nest: this child is a run of its own.)
      const { NODE_TEST_CONTEXT: _, ...env } = process.env;
      const child = spawn(
        process.execPath,
        [
          '--test',
          '--test-reporter=spec',
          '--test-name-pattern=^c\\. poison',
          fileURLToPath(import.meta.url),
        ],
        { cwd: REPO_ROOT, env: { ...env, WI_E2E_GCLOUD: join(dir, 'no-gcloud') }, stdio: 'pipe' },
      );
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
        output += chunk;
      });
      const began = Date.now();
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      assert.equal(code, 1, output);
      assert.ok(Date.now() - began < 30_000, 'ended promptly');
      assert.match(
        output,
        /Pub\/Sub emulator: \S*no-gcloud not found \(install google-cloud-cli and google-cloud-cli-pubsub-emulator\)/,
      );
      assert.match(
        output,
        /Firestore emulator: \S*no-gcloud not found \(install google-cloud-cli and google-cloud-cli-firestore-emulator\)/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('one that starts is stopped when the other cannot', { timeout: 60_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wi-e2e-d-'));
    try {
      // gcloud for Pub/Sub, a broken installation for Firestore; the wrapper records its process group.
      const gcloud = join(dir, 'gcloud');
      const groups = join(dir, 'groups');
      await writeFile(
        gcloud,
        `#!/bin/sh\necho $$ >> ${groups}\ncase "$*" in *firestore*) echo "ERROR: (gcloud.emulators.firestore.start) cloud-firestore-emulator.jar is missing" >&2; exit 1;; esac\nexec gcloud "$@"\n`,
      );
      await chmod(gcloud, 0o755);
      await assert.rejects(
        startEmulators({ gcloud }),
        (error: Error) =>
          /Firestore emulator exited \(code 1\).*cloud-firestore-emulator\.jar is missing/s.test(
            error.message,
          ) && !/Pub\/Sub/.test(error.message),
      );
      const pgids = (await readFile(groups, 'utf8')).trim().split('\n').map(Number);
      assert.equal(pgids.length, 2);
      for (const pgid of pgids) {
        assert.throws(() => process.kill(-pgid, 0), { code: 'ESRCH' }, `process group ${pgid} is gone`);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
