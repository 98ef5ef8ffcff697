// End to end: binding-breaking audit entries published to the Pub/Sub emulator at a steady rate,
// pushed to `auditEvents` served by functions-framework from the built dist/ (a child process, as
// deployed), which posts to a fake Slack (and pages a fake PagerDuty). Measured per rate: latency
// from the publish request to the fake Slack receiving the incident's post (p50, p99), deliveries
// lost (published, never posted), and the function process's peak RSS (VmHWM, reset per rate).
//
//   npm run bench -- e2e [--seconds N] [--state memory|firestore]
//
// --seconds (or BENCH_E2E_SECONDS): how long each rate publishes, default 30. --state: where the
// function keeps incidents, default memory, so the figures are the function's and the emulator's
// push path, not a Java Firestore emulator competing for the same cores (firestore runs it too).
// Each delivery breaks a link of its own (a new GSA and KSA), so each one opens an incident and
// posts once; no WI_SNAPSHOT, as a deployment without a simulated organization runs.
import { setTimeout as sleep } from 'node:timers/promises';
import { type FakePagerDuty, startFakePagerDuty } from '../test/fakes/pagerduty.ts';
import { type FakeSlack, startFakeSlack } from '../test/fakes/slack.ts';
import { type Emulator, startFirestoreEmulator, startPubSubEmulator } from '../test/support/emulators.ts';
import { memoryMB, resetPeak } from '../test/support/memory.ts';
import { FIRESTORE_PROJECT, type Pipeline, startPipeline } from '../test/support/pipeline.ts';
import { sinkMessage } from '../test/support/pubsub.ts';
import { bindingEntry, linkOf } from '../test/support/wi-stream.ts';
import { build, percentile, round, say } from './_support.ts';

const RATES = [20, 100];
const DEFAULT_SECONDS = 30;
const WARM_UP = 10;
/**
 * A delivery is lost when its post has not arrived once Slack has heard nothing new for QUIET_MS
 * (the pipeline is idle: the emulator redelivers a failed push within about a second), or at the
 * latest DRAIN_MS after the last publish; late is not lost.
 */
const QUIET_MS = 10_000;
const DRAIN_MS = 180_000;
const PROJECT = 'bench-prod';

interface Options {
  seconds: number;
  state: 'memory' | 'firestore';
}

function options(args: string[]): Options {
  const value = (name: string) => {
    const index = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
    if (index === -1) return undefined;
    const arg = args[index] as string;
    return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
  };
  const seconds = Number(value('seconds') ?? process.env.BENCH_E2E_SECONDS ?? DEFAULT_SECONDS);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error('--seconds must be a positive number');
  const state = value('state') ?? 'memory';
  if (state !== 'memory' && state !== 'firestore') throw new Error('--state must be memory or firestore');
  return { seconds, state };
}

/** The link a post is about: each delivery breaks `team-N/app-I`, and the post's text names it. */
function linkIndexOf(text: string | undefined): number | undefined {
  const match = /\bapp-(\d+)\b/.exec(text ?? '');
  return match ? Number(match[1]) : undefined;
}

class Posts {
  /** link index → when its first post arrived */
  readonly at = new Map<number, number>();
  extra = 0;
  private seen = 0;
  private readonly slack: FakeSlack;
  constructor(slack: FakeSlack) {
    this.slack = slack;
  }
  calls(): number {
    return this.slack.calls.length;
  }
  update(): void {
    const calls = this.slack.calls;
    for (; this.seen < calls.length; this.seen++) {
      const call = calls[this.seen];
      if (call === undefined || call.method !== 'chat.postMessage' || call.body.thread_ts !== undefined)
        continue;
      if (call.answered !== 200 || call.error !== undefined) continue;
      const index = linkIndexOf(typeof call.body.text === 'string' ? call.body.text : undefined);
      if (index === undefined) continue;
      if (this.at.has(index)) this.extra += 1;
      else this.at.set(index, call.receivedAt);
    }
  }
}

interface RateResult {
  rate: number;
  published: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  lost: number;
  extra: number;
  peakRssMB: number;
  achievedRate: number;
}

async function runRate(
  pipeline: Pipeline,
  posts: Posts,
  rate: number,
  seconds: number,
  first: number,
): Promise<RateResult> {
  const total = Math.round(rate * seconds);
  const publishedAt = new Map<number, number>();
  const pending: Promise<unknown>[] = [];
  const peakReset = resetPeak(pipeline.fn.pid);
  const start = Date.now();
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    const index = first + i;
    const entry = bindingEntry(linkOf(index, PROJECT), 'REMOVE', { insertId: `bench-${index}` });
    publishedAt.set(index, Date.now());
    pending.push(pipeline.publish([sinkMessage(entry)]));
  }
  const publishSeconds = (Date.now() - start) / 1000;
  await Promise.all(pending);
  const deadline = Date.now() + DRAIN_MS;
  const extraBefore = posts.extra;
  let calls = -1;
  let changed = Date.now();
  for (;;) {
    posts.update();
    const arrived = [...publishedAt.keys()].filter((index) => posts.at.has(index)).length;
    if (posts.calls() !== calls) {
      calls = posts.calls();
      changed = Date.now();
    }
    if (arrived === total || Date.now() - changed > QUIET_MS || Date.now() > deadline) break;
    await sleep(50);
  }
  const latencies = [...publishedAt]
    .filter(([index]) => posts.at.has(index))
    .map(([index, at]) => (posts.at.get(index) as number) - at)
    .sort((a, b) => a - b);
  const peak = memoryMB(pipeline.fn.pid, 'VmHWM');
  const result: RateResult = {
    rate,
    published: total,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? Number.NaN,
    lost: total - latencies.length,
    extra: posts.extra - extraBefore,
    peakRssMB: round(peak, 1),
    achievedRate: round(total / publishSeconds, 1),
  };
  say(
    `rate ${rate}/s for ${seconds} s: ${total} published (${result.achievedRate}/s achieved), ` +
      `${latencies.length} posted, publish → Slack post p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ` +
      `max ${result.maxMs} ms, lost ${result.lost}, extra posts ${result.extra}, ` +
      `function peak RSS ${result.peakRssMB} MB${peakReset ? '' : ' (since start: VmHWM could not be reset)'}`,
  );
  return result;
}

export async function run(args: string[]): Promise<void> {
  const { seconds, state } = options(args);
  build();
  const started: { stop(): Promise<unknown> }[] = [];
  let failed = false;
  try {
    const [pubsub, firestore] = await Promise.all([
      startPubSubEmulator(),
      state === 'firestore' ? startFirestoreEmulator() : Promise.resolve(undefined),
    ]);
    started.push(pubsub);
    if (firestore) started.push(firestore);
    const slack: FakeSlack = await startFakeSlack();
    started.push(slack);
    const pd: FakePagerDuty = await startFakePagerDuty();
    started.push(pd);
    const pipeline = await startPipeline({
      pubsubHost: pubsub.host,
      projectId: 'demo-wi-bench',
      source: 'dist/functions/index.js',
      env: {
        WI_STATE: state,
        ...(firestore ? firestoreEnv(firestore) : {}),
        SLACK_BOT_TOKEN: 'xoxb-bench-0000-benchtokenbenchtoken',
        SLACK_API_URL: slack.url,
        SLACK_CHANNEL: '#wi-alerts',
        PAGERDUTY_ROUTING_KEY: 'BENCHROUTINGKEYBENCHROUTINGKEY12',
        PAGERDUTY_EVENTS_URL: pd.url,
      },
    });
    started.push(pipeline);
    say(
      `auditEvents from dist/ (pid ${pipeline.fn.pid}), state ${state}, Pub/Sub emulator push, fake Slack and PagerDuty; ` +
        `${WARM_UP} warm-up deliveries, then ${RATES.join(' and ')} deliveries/s for ${seconds} s each`,
    );
    const posts = new Posts(slack);
    // Warm-up: the first deliveries load the Slack client (and Firestore's); not measured.
    await runQuietly(pipeline, posts, 0);
    const results: RateResult[] = [];
    let first = WARM_UP;
    for (const rate of RATES) {
      results.push(await runRate(pipeline, posts, rate, seconds, first));
      first += Math.round(rate * seconds);
    }
    const top = results.at(-1) as RateResult;
    failed = results.some((r) => r.lost > 0);
    say(
      JSON.stringify({
        bench: 'e2e',
        rates: RATES,
        p50Ms: top.p50Ms,
        p99Ms: top.p99Ms,
        lost: top.lost,
        peakRssMB: top.peakRssMB,
      }),
    );
  } finally {
    for (const thing of started.reverse()) await thing.stop().catch(() => {});
  }
  if (failed) process.exitCode = 1;
}

async function runQuietly(pipeline: Pipeline, posts: Posts, first: number): Promise<void> {
  const ids = await pipeline.publish(
    Array.from({ length: WARM_UP }, (_, i) =>
      sinkMessage(bindingEntry(linkOf(first + i, PROJECT), 'REMOVE', { insertId: `bench-${first + i}` })),
    ),
  );
  await pipeline.waitForDone(ids, 60_000);
  posts.update();
}

function firestoreEnv(firestore: Emulator): Record<string, string> {
  return {
    FIRESTORE_EMULATOR_HOST: firestore.host,
    GOOGLE_CLOUD_PROJECT: FIRESTORE_PROJECT,
    WI_FIRESTORE_PREFIX: `bench${Date.now().toString(36)}-`,
  };
}
