// The symptom path: 100,000 container-log deliveries (99% noise: application logs, access logs,
// unrelated 403s, other tracebacks, and 5% of it look-alikes: other clouds' metadata services,
// sidecar access logs, other providers' invalid_grant; 1% credential failures in the wording of each
// library and era), each wrapped as Eventarc delivers a Pub/Sub message, through prescreen → decode →
// classify → resolve → window. Beside it, the same deliveries through the full decode of every entry,
// and the floor (base64 + JSON.parse), so the cost of decoding noise is visible. Then the workload
// sink's selectivity: the share of the noise and of the failures its filter routes, beside the
// needles-only filter it replaced and a severity floor.
import { join } from 'node:path';
import type { WindowState } from '../shared/domain/symptom-group.ts';
import { decode } from '../shared/events/decode.ts';
import type { Snapshot } from '../shared/inventory/snapshot.ts';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { classifySymptom } from '../shared/symptoms/classify.ts';
import { filterOf, workloadSinkFilter } from '../shared/symptoms/filter.ts';
import { worthDecoding } from '../shared/symptoms/prescreen.ts';
import { resolvePod } from '../shared/symptoms/resolve.ts';
import { NEEDLES } from '../shared/symptoms/signatures.ts';
import { emptyWindow, observe } from '../shared/symptoms/window.ts';
import { readSample, sampleFiles } from '../test/shared/symptoms/fixtures.ts';
import { compileFilter } from '../test/support/logging-filter.ts';
import { median, REPO_ROOT, round, say } from './_support.ts';

const TOTAL = 100_000;
const SYMPTOM_SHARE = 0.01;
/** Distinct deliveries of each sort, fed round-robin (see throughput.ts: a live heap of 100,000
 * large deliveries would measure the garbage collector, which no function instance meets). */
const DISTINCT_NOISE = 5_000;
const DISTINCT_SYMPTOMS = 1_000;
/** The share of the noise that looks like a failure (the noise samples of test/fixtures/symptoms). */
const LOOK_ALIKE_SHARE = 0.05;

interface Delivery {
  specversion: string;
  type: string;
  source: string;
  id: string;
  data: { message: { data: string; messageId: string; publishTime: string } };
}

function asDelivery(entry: unknown, id: number): Delivery {
  return {
    specversion: '1.0',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/orbit-prod/topics/wi-sentinel-workload-logs',
    id: String(id),
    data: {
      message: {
        data: Buffer.from(JSON.stringify(entry)).toString('base64'),
        messageId: String(id),
        publishTime: '2026-11-28T10:02:00.000Z',
      },
    },
  };
}

/** A small deterministic generator, so every run feeds the same corpus. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const WORKLOADS = [
  { namespace: 'checkout', pod: 'cart-6d8-a', container: 'cart' },
  { namespace: 'checkout', pod: 'cart-6d8-b', container: 'cart' },
  { namespace: 'checkout', pod: 'pricing-0', container: 'pricing' },
  { namespace: 'search', pod: 'query-1', container: 'query' },
  { namespace: 'search', pod: 'indexer-x7', container: 'indexer' },
  { namespace: 'frontend', pod: 'web-5c7f9-k2x8d', container: 'nginx' },
  { namespace: 'frontend', pod: 'web-5c7f9-p9q3z', container: 'nginx' },
  { namespace: 'payments', pod: 'ledger-0', container: 'ledger' },
];

const PATHS = [
  '/api/cart',
  '/api/orders',
  '/api/prices/sku-1842',
  '/search?q=lamp',
  '/healthz',
  '/admin/discounts',
];

/** Realistic application noise, in the shapes GKE's logging agent writes. */
function noiseEntry(i: number, next: () => number): Record<string, unknown> {
  const w = WORKLOADS[i % WORKLOADS.length] as (typeof WORKLOADS)[number];
  const time = new Date(Date.parse('2026-11-28T10:00:00Z') + i * 37).toISOString();
  const path = PATHS[Math.floor(next() * PATHS.length)] as string;
  const ms = Math.round(next() * 900) / 10;
  const bodies: (() => Record<string, unknown>)[] = [
    () => ({
      textPayload: `10.52.${i % 200}.${i % 250} - - [28/Nov/2026:10:00:${String(i % 60).padStart(2, '0')} +0000] "GET ${path} HTTP/1.1" ${path === '/admin/discounts' ? 403 : 200} ${Math.round(next() * 9000)} "-" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"\n`,
      severity: 'INFO',
    }),
    () => ({
      textPayload:
        '10.52.1.1 - - [28/Nov/2026:10:00:05 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.33"\n',
      severity: 'INFO',
    }),
    () => ({
      jsonPayload: {
        level: 'info',
        ts: 1795860000 + i / 100,
        caller: 'orders/handler.go:142',
        msg: 'order placed',
        order_id: `ord-${i.toString(36)}`,
        items: 1 + (i % 7),
        amount_cents: Math.round(next() * 90_000),
        duration_ms: ms,
      },
      severity: 'INFO',
    }),
    () => ({
      jsonPayload: {
        level: 'error',
        msg: 'payment declined',
        error: `card_declined: insufficient funds (request ${i.toString(16)})`,
        customer: `c-${i % 997}`,
      },
      severity: 'ERROR',
    }),
    () => ({
      jsonPayload: {
        level: 30,
        time: 1795860000000 + i,
        pid: 1,
        hostname: w.pod,
        msg: 'request completed',
        req: { method: 'GET', url: path, headers: { 'user-agent': 'orbit-mobile/4.2' } },
        res: { statusCode: path === '/admin/discounts' ? 403 : 200 },
        responseTime: ms,
      },
      severity: 'INFO',
    }),
    () => ({
      jsonPayload: {
        '@timestamp': time,
        level: 'WARN',
        logger_name: 'io.orbit.pricing.Repository',
        thread_name: `http-nio-8080-exec-${i % 16}`,
        message: `Slow query took ${Math.round(ms * 20)} ms: SELECT price FROM prices WHERE sku = ?`,
      },
      severity: 'WARNING',
    }),
    () => ({
      jsonPayload: {
        level: 'ERROR',
        logger_name: 'io.orbit.pricing.PriceController',
        message: 'Request processing failed',
        stack_trace:
          'java.lang.NullPointerException: Cannot invoke "io.orbit.pricing.Sku.code()" because "sku" is null\n\tat io.orbit.pricing.PriceController.price(PriceController.java:58)\n\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke(DirectMethodHandleAccessor.java:103)',
      },
      severity: 'ERROR',
    }),
    () => ({
      textPayload: `Traceback (most recent call last):\n  File "/app/indexer/batch.py", line 88, in run\n    doc = build(row)\n  File "/app/indexer/build.py", line 31, in build\n    return {"sku": row["sku"], "title": row["title"]}\nKeyError: 'title'\n`,
      severity: 'ERROR',
    }),
    () => ({
      // An unrelated 403: credentials work, a role is missing.
      textPayload: `google.api_core.exceptions.Forbidden: 403 GET https://storage.googleapis.com/storage/v1/b/orbit-exports/o/day-${i % 30}.csv?alt=media: indexer@orbit-prod.iam.gserviceaccount.com does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).\n`,
      severity: 'ERROR',
    }),
    () => ({
      // Another, from a partner API, with "token" in it.
      jsonPayload: {
        level: 'warn',
        msg: 'partner API refused the request',
        error:
          'HTTP 403 from https://api.partner.example.com/v2/stock: access token expired for partner key pk_live_42',
      },
      severity: 'WARNING',
    }),
    () => ({
      jsonPayload: {
        level: 'info',
        msg: `refreshed CSRF token for session ${i.toString(36)}; rate limiter has ${i % 50} tokens left`,
      },
      severity: 'INFO',
    }),
    () => ({
      jsonPayload: {
        level: 'warn',
        msg: 'upstream call failed',
        error: 'rpc error: code = PermissionDenied desc = The caller does not have permission',
      },
      severity: 'WARNING',
    }),
  ];
  const body = (bodies[Math.floor(next() * bodies.length)] as () => Record<string, unknown>)();
  return {
    insertId: `n${i.toString(36)}`,
    logName: `projects/orbit-prod/logs/${body.severity === 'ERROR' ? 'stderr' : 'stdout'}`,
    receiveTimestamp: time,
    resource: {
      type: 'k8s_container',
      labels: {
        project_id: 'orbit-prod',
        location: 'europe-west4',
        cluster_name: 'core-1',
        namespace_name: w.namespace,
        pod_name: w.pod,
        container_name: w.container,
      },
    },
    timestamp: time,
    labels: {
      'compute.googleapis.com/resource_name': 'gke-core-1-general-5f2c9a1e-x8kq',
      'k8s-pod/app': w.container,
    },
    ...body,
  };
}

function samples(side: 'match' | 'noise'): Record<string, unknown>[] {
  return sampleFiles(side).map(readSample);
}

/** Samples made distinct entries (an insert id and a time of their own): a crash loop, a noisy neighbour. */
function distinct(from: Record<string, unknown>[], count: number, prefix: string, start: string) {
  return Array.from({ length: count }, (_, i) => {
    const entry = structuredClone(from[i % from.length] as Record<string, unknown>);
    const time = new Date(Date.parse(start) + i * 1_000).toISOString();
    entry.insertId = `${prefix}${i.toString(36)}`;
    entry.timestamp = time;
    entry.receiveTimestamp = time;
    return entry;
  });
}

/** The real-wording samples (test/fixtures/symptoms/match), each made a distinct entry. */
function symptomEntries(): Record<string, unknown>[] {
  return distinct(samples('match'), DISTINCT_SYMPTOMS, 's', '2026-11-28T10:02:00Z');
}

/** Application noise, a few in twenty of them look-alikes (test/fixtures/symptoms/noise). */
function noiseEntries(): Record<string, unknown>[] {
  const next = random(42);
  const every = Math.round(1 / LOOK_ALIKE_SHARE);
  const lookAlikes = distinct(
    samples('noise'),
    Math.ceil(DISTINCT_NOISE / every),
    'l',
    '2026-11-28T10:00:00Z',
  );
  return Array.from({ length: DISTINCT_NOISE }, (_, i) =>
    i % every === every - 1
      ? (lookAlikes[Math.floor(i / every)] as Record<string, unknown>)
      : noiseEntry(i, next),
  );
}

let noiseCorpus: Record<string, unknown>[] = [];
let symptomCorpus: Record<string, unknown>[] = [];

function corpus(): Delivery[] {
  noiseCorpus = noiseEntries();
  symptomCorpus = symptomEntries();
  const noise = noiseCorpus.map((entry, i) => asDelivery(entry, i));
  const symptoms = symptomCorpus.map((entry, i) => asDelivery(entry, DISTINCT_NOISE + i));
  const every = Math.round(1 / SYMPTOM_SHARE);
  const deliveries: Delivery[] = [];
  for (let i = 0; i < TOTAL; i += 1) {
    const symptom = i % every === every - 1;
    const pool = symptom ? symptoms : noise;
    deliveries.push(pool[(symptom ? Math.floor(i / every) : i) % pool.length] as Delivery);
  }
  return deliveries;
}

interface Pass {
  decoded: number;
  symptoms: number;
  state: WindowState;
}

/** One delivery through the symptom path; `screen` decides whether noise is dropped before decoding. */
function process(delivery: Delivery, snapshot: Snapshot, pass: Pass, screen: boolean): void {
  if (screen && !worthDecoding(delivery)) return;
  pass.decoded += 1;
  const decoded = decode(delivery);
  if (!decoded.ok) return;
  const result = classifySymptom(decoded.delivery.entry);
  if (result.type !== 'symptom') return;
  pass.symptoms += 1;
  const identity = resolvePod(snapshot, result.symptom);
  pass.state = observe(pass.state, result.symptom, identity).state;
}

/**
 * Entries per second of CPU time (user + system) of this process: the machine running the bench
 * is shared, and wall time would measure the neighbours too.
 */
function rate(label: string, deliveries: Delivery[], work: () => (delivery: Delivery) => void): number {
  const warm = work();
  for (let i = 0; i < 2_000; i += 1) warm(deliveries[i % deliveries.length] as Delivery);
  const rounds: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    const each = work();
    const start = globalThis.process.cpuUsage();
    for (const delivery of deliveries) each(delivery);
    const used = globalThis.process.cpuUsage(start);
    rounds.push((used.user + used.system) / 1e6);
  }
  const perSecond = deliveries.length / median(rounds);
  say(
    `${label}: ${Math.round(perSecond).toLocaleString('en')} entries per CPU second (median of 3 × ${deliveries.length.toLocaleString('en')})`,
  );
  return perSecond;
}

function peakRssMB(): number {
  return round(globalThis.process.resourceUsage().maxRSS / 1024, 1);
}

export async function run(): Promise<void> {
  const snapshot = readSnapshotFile(join(REPO_ROOT, 'test/fixtures/snapshot.json'));
  const before = peakRssMB();
  const deliveries = corpus();
  const withCorpus = peakRssMB();
  const bytes = deliveries.reduce((sum, d) => sum + d.data.message.data.length, 0);
  say(
    `corpus: ${TOTAL.toLocaleString('en')} deliveries (${DISTINCT_NOISE.toLocaleString('en')} distinct noise, ${DISTINCT_SYMPTOMS.toLocaleString('en')} distinct credential failures at ${SYMPTOM_SHARE * 100}%), ${Math.round(bytes / TOTAL)} base64 bytes each on average`,
  );

  let last: Pass = { decoded: 0, symptoms: 0, state: emptyWindow() };
  const screened = rate('prescreen → decode → classify → resolve → window', deliveries, () => {
    const pass: Pass = { decoded: 0, symptoms: 0, state: emptyWindow() };
    last = pass;
    return (delivery) => process(delivery, snapshot, pass, true);
  });
  const screenedPass = last;
  // The peak so far: the corpus and the symptom path, before the comparison passes below add theirs.
  const peak = peakRssMB();
  const full = rate('decode every entry → classify → resolve → window', deliveries, () => {
    const pass: Pass = { decoded: 0, symptoms: 0, state: emptyWindow() };
    last = pass;
    return (delivery) => process(delivery, snapshot, pass, false);
  });
  if (last.symptoms !== screenedPass.symptoms) {
    throw new Error(`the prescreen lost symptoms: ${screenedPass.symptoms} of ${last.symptoms}`);
  }
  const floor = rate('floor (base64 + JSON.parse)', deliveries, () => (delivery) => {
    JSON.parse(Buffer.from(delivery.data.message.data, 'base64').toString('utf8'));
  });
  const groups = Object.values(screenedPass.state.groups);
  say(
    `symptoms per pass: ${screenedPass.symptoms.toLocaleString('en')}, in ${groups.length} groups (${groups
      .map((g) => `${g.namespace}/${g.ksa ?? '*'} ${g.count}`)
      .join(
        ', ',
      )}); window state ${Math.round(Buffer.byteLength(JSON.stringify(screenedPass.state)) / 1024)} KiB`,
  );
  say(
    `prescreen let ${screenedPass.decoded.toLocaleString('en')} of ${TOTAL.toLocaleString('en')} deliveries through to decode`,
  );
  say(`decoding every entry costs ${round(screened / full, 1)}× the prescreened path`);
  say(
    `peak RSS: ${before} MB once loaded, ${withCorpus} MB with the corpus built, ${peak} MB after the symptom path, ${peakRssMB()} MB after the comparison passes`,
  );
  const sink = selectivity();
  say(
    JSON.stringify({
      bench: 'symptoms',
      entriesPerSecond: Math.round(screened),
      peakRssMB: peak,
      fullDecodeEntriesPerSecond: Math.round(full),
      floorEntriesPerSecond: Math.round(floor),
      sinkRoutedNoisePercent: sink.noisePercent,
      sinkRoutedFailuresPercent: sink.failuresPercent,
      sinkFilterChars: sink.chars,
    }),
  );
}

/**
 * What the workload sink's filter routes, as the Log Router would evaluate it (test/support/
 * logging-filter.ts): the share of the noise (what routing costs) beside the share of the failures
 * (what it must never lose), for the filter infra/ deploys, the needles-only filter it replaced, and
 * the same filter with a severity floor.
 */
function selectivity(): { noisePercent: number; failuresPercent: number; chars: number } {
  const filter = workloadSinkFilter();
  const variants: [string, string][] = [
    ['sink filter (needles, broad ones beside an alongside term)', filter],
    ['every needle alone (the filter before)', filterOf([{ needles: [...NEEDLES] }])],
    ['with a severity floor (>= WARNING)', `(${filter})\nAND severity>=WARNING`],
  ];
  const share = (passes: (entry: unknown) => boolean, entries: Record<string, unknown>[]) =>
    entries.filter((entry) => passes(entry)).length;
  let chosen = { noisePercent: 0, failuresPercent: 0, chars: filter.length };
  for (const [label, text] of variants) {
    const passes = compileFilter(text);
    const noise = share(passes, noiseCorpus);
    const failures = share(passes, symptomCorpus);
    const noisePercent = round((noise / noiseCorpus.length) * 100, 2);
    const failuresPercent = round((failures / symptomCorpus.length) * 100, 1);
    say(
      `${label}, ${text.length.toLocaleString('en')} characters: routes ${noisePercent}% of the noise (${noise} of ${noiseCorpus.length.toLocaleString('en')}) and ${failuresPercent}% of the failures (${failures} of ${symptomCorpus.length.toLocaleString('en')})`,
    );
    if (text === filter) chosen = { noisePercent, failuresPercent, chars: filter.length };
  }
  return chosen;
}
