// /wi-status under load: signed slash commands at 20 a second for 30 s (`--seconds N`, `--rate R`)
// against wiStatus served by functions-framework from the built dist/ (a child process, as
// deployed), starting cold: the clock of the first request starts when the process is spawned, so
// the figures include a cold start as Slack would see it. The mix is what on-call asks: the summary,
// a cluster, incidents, help, unknown input, and one in five a KSA check, which wiStatus acknowledges
// after publishing to the Pub/Sub emulator; wiCommands (another child process, behind a push
// subscription) runs it and posts to a fake response_url.
//
// Measured: acknowledgement latency (request sent → wiStatus's answer) p50 / p99 / max, the cold
// start (spawn → first answer), errors (a non-200, an answer that is not the expected document, a
// deferred command never answered at response_url), and, for information, deferred latency
// (request sent → the answer posted to response_url). Slack's deadline is 3 s.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FakeResponseUrl, startFakeResponseUrl } from '../test/fakes/response-url.ts';
import { startPubSubEmulator } from '../test/support/emulators.ts';
import { type FunctionServer, startFunction } from '../test/support/function-server.ts';
import { FIXTURES } from '../test/support/paths.ts';
import { pubSubClient, pushEndpoint } from '../test/support/pubsub.ts';
import { headerOf, postSigned, slashCommandBody } from '../test/support/slash-command.ts';
import { build, percentile, round, say } from './_support.ts';

const SECRET = 'bench-wi-status-signing-secret-4d3c';
const PROJECT = 'demo-wi-status-bench';
const TOPIC = 'wi-sentinel-commands';
const SLACK_DEADLINE_MS = 3_000;
/** How long a deferred command may take to be answered before it counts as lost. */
const DRAIN_MS = 30_000;

/** What on-call asks, in turn; `deferred` commands are answered at response_url. */
const MIX: { text: string; expect: RegExp; deferred?: boolean }[] = [
  { text: '', expect: /^⚠️ No open incident, but the last inventory shows broken links/ },
  { text: 'core-1', expect: /^❌ core-1 \(orbit-prod · europe-west4\)/ },
  { text: 'incidents', expect: /^✅ No open incident$/ },
  { text: 'public edge-1', expect: /^✅ edge-1 / },
  {
    text: 'checkout/cart --cluster core-1',
    expect: /^⏳ Checking checkout\/cart in core-1 live…$/,
    deferred: true,
  },
  { text: 'help', expect: /^ℹ️ \/wi-status: is Workload Identity healthy\?$/ },
  { text: 'what is broken', expect: /^ℹ️ I don't know `what`$/ },
  { text: 'orbit-prod/us-east1-b/edge-1', expect: /^✅ edge-1 / },
  { text: 'incidents', expect: /^✅ No open incident$/ },
  { text: 'search/indexer', expect: /^⏳ Checking search\/indexer live…$/, deferred: true },
];
const DEFERRED_ANSWER = /^(✅ healthy|❌ broken)/;

function options(args: string[]): { seconds: number; rate: number } {
  const value = (name: string) => {
    const index = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
    if (index === -1) return undefined;
    const arg = args[index] as string;
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
  };
  const seconds = Number(value('seconds') ?? 30);
  const rate = Number(value('rate') ?? 20);
  if (!(seconds > 0) || !(rate > 0)) throw new Error('--seconds and --rate must be positive numbers');
  return { seconds, rate };
}

interface Sample {
  ms: number;
  error?: string;
  /** For a deferred command: its response_url and when it was asked. */
  deferred?: { url: string; sentAt: number };
}

async function ask(
  server: FunctionServer,
  hooks: FakeResponseUrl,
  index: number,
  startedAt?: number,
): Promise<Sample> {
  const item = MIX[index % MIX.length] as (typeof MIX)[number];
  const url = hooks.newUrl();
  const sentAt = startedAt ?? performance.now();
  const wall = Date.now();
  try {
    const answer = await postSigned(server.url, SECRET, slashCommandBody(item.text, { responseUrl: url }));
    const ms = performance.now() - sentAt;
    const header = headerOf(answer);
    if (answer.status !== 200) return { ms, error: `HTTP ${answer.status} for ${JSON.stringify(item.text)}` };
    if (!item.expect.test(header))
      return { ms, error: `${JSON.stringify(item.text)} answered ${JSON.stringify(header)}` };
    return { ms, ...(item.deferred ? { deferred: { url, sentAt: wall } } : {}) };
  } catch (error) {
    return {
      ms: performance.now() - sentAt,
      error: `${JSON.stringify(item.text)}: ${(error as Error).message}`,
    };
  }
}

export async function run(args: string[]): Promise<void> {
  const { seconds, rate } = options(args);
  build();
  const started: { stop(): Promise<unknown> }[] = [];
  let failed = false;
  try {
    const emulator = await startPubSubEmulator({ projectId: PROJECT });
    started.push(emulator);
    const hooks = await startFakeResponseUrl();
    started.push(hooks);
    const env = {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_RESPONSE_URL_ORIGINS: hooks.origin,
      WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'),
      WI_STATE: 'memory',
      PUBSUB_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: PROJECT,
    };
    const source = 'dist/functions/index.js';
    const commands = await startFunction('wiCommands', { env, source });
    started.push(commands);
    const pubsub = pubSubClient(emulator.host, PROJECT);
    await pubsub.createTopic(TOPIC);
    await pubsub.createPushSubscription(`${TOPIC}-push`, {
      topic: TOPIC,
      endpoint: pushEndpoint(commands.url, PROJECT, TOPIC),
    });

    // Cold: the first request's clock starts at spawn; it is sent as soon as the server listens.
    const spawnedAt = performance.now();
    const status = await startFunction('wiStatus', { signatureType: 'http', env, source });
    started.push(status);
    const first = await ask(status, hooks, 0, spawnedAt);
    const coldStartMs = first.ms;
    say(
      `wiStatus from dist/ (pid ${status.pid}), memory state, WI_SNAPSHOT; cold start (spawn → first answer) ${round(coldStartMs)} ms; ` +
        `then ${rate} signed commands/s for ${seconds} s (1 in 5 deferred through the Pub/Sub emulator to wiCommands)`,
    );

    const total = Math.round(rate * seconds);
    const pending: Promise<Sample>[] = [];
    const start = performance.now();
    for (let i = 1; i <= total; i++) {
      const wait = start + ((i - 1) * 1000) / rate - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(ask(status, hooks, i));
    }
    const samples = [first, ...(await Promise.all(pending))];
    const achieved = total / ((performance.now() - start) / 1000);

    // Every deferred command must be answered at its response_url.
    const deferred = samples.flatMap((s) => (s.deferred ? [s.deferred] : []));
    const deadline = Date.now() + DRAIN_MS;
    while (Date.now() < deadline && deferred.some((d) => hooks.accepted(d.url).length === 0))
      await sleep(100);
    const answered = deferred.flatMap((d) => {
      const [post] = hooks.accepted(d.url);
      return post ? [{ ms: post.receivedAt - d.sentAt, header: headerOf(post.body) }] : [];
    });
    const errors = samples.flatMap((s) => (s.error ? [s.error] : []));
    errors.push(
      ...answered
        .filter((a) => !DEFERRED_ANSWER.test(a.header))
        .map((a) => `deferred answer ${JSON.stringify(a.header)}`),
    );
    const lost = deferred.length - answered.length;
    if (lost > 0) errors.push(`${lost} deferred commands never answered at response_url`);

    const ack = samples.map((s) => s.ms).sort((a, b) => a - b);
    const late = ack.filter((ms) => ms > SLACK_DEADLINE_MS).length;
    const deferredMs = answered.map((a) => a.ms).sort((a, b) => a - b);
    say(
      `${samples.length} commands (${round(achieved, 1)}/s achieved): acknowledgement p50 ${round(percentile(ack, 50))} ms, ` +
        `p99 ${round(percentile(ack, 99))} ms, max ${round(ack.at(-1) ?? Number.NaN)} ms (the cold one included), ` +
        `${late} past Slack's 3 s; errors ${errors.length}`,
    );
    say(
      `deferred: ${answered.length} of ${deferred.length} answered at response_url, request → answer p50 ` +
        `${round(percentile(deferredMs, 50))} ms, p99 ${round(percentile(deferredMs, 99))} ms [informational]`,
    );
    for (const error of errors.slice(0, 10)) say(`error: ${error}`);
    failed = errors.length > 0 || late > 0;
    say(
      JSON.stringify({
        bench: 'wi-status',
        p50Ms: round(percentile(ack, 50)),
        p99Ms: round(percentile(ack, 99)),
        errors: errors.length,
        maxMs: round(ack.at(-1) ?? Number.NaN),
        coldStartMs: round(coldStartMs),
        deferredP50Ms: round(percentile(deferredMs, 50)),
      }),
    );
    await pubsub.deleteSubscription(`${TOPIC}-push`).catch(() => {});
  } finally {
    for (const thing of started.reverse()) await thing.stop().catch(() => {});
  }
  if (failed) process.exitCode = 1;
}
