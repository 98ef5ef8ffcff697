// Throughput of decode → classify → detect against the floor (base64-decode + JSON.parse of the same
// deliveries), in one process; and how long importing the auditEvents entry takes (built dist/).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSnapshotFile } from '../shared/live/snapshot-file.ts';
import { analyze } from '../shared/pipeline.ts';
import { build, median, REPO_ROOT, round, say } from './_support.ts';

const TOTAL = 50_000;
const WI_SHARE = 0.05;

interface Delivery {
  specversion: string;
  type: string;
  id: string;
  data: { message: { data: string; messageId: string } };
}

function asDelivery(entry: unknown, id: number): Delivery {
  return {
    specversion: '1.0',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    id: String(id),
    data: {
      message: { data: Buffer.from(`${JSON.stringify(entry)}\n`).toString('base64'), messageId: String(id) },
    },
  };
}

function readJsonFiles(dir: string): unknown[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(dir, file), 'utf8')));
}

function corpus() {
  const snapshot = readSnapshotFile(join(REPO_ROOT, 'test/fixtures/snapshot.json'));
  const own = readJsonFiles(join(REPO_ROOT, 'test/fixtures/events'));
  const changes = own.filter((entry) => {
    const analysis = analyze(entry, snapshot);
    return analysis.outcome === 'change' && analysis.findings.length > 0;
  });
  const publicDir = join(REPO_ROOT, '../shared/fixtures/public');
  const publicEntries = readJsonFiles(publicDir).filter((entry) => analyze(entry).outcome === 'ignored');
  const unrelated =
    publicEntries.length > 0 ? publicEntries : own.filter((entry) => analyze(entry).outcome === 'ignored');
  say(
    `corpus: ${unrelated.length} unrelated ${publicEntries.length > 0 ? 'public samples' : 'own fixtures (no ../shared/fixtures/public)'}, ${changes.length} WI changes`,
  );
  if (changes.length === 0 || unrelated.length === 0) throw new Error('empty corpus');
  // Each distinct entry is wrapped once and fed many times: a live heap of 50,000 large deliveries
  // would make the figure about the garbage collector's marking, which no function instance sees.
  const wrappedChanges = changes.map(asDelivery);
  const wrappedUnrelated = unrelated.map(asDelivery);
  const deliveries: Delivery[] = [];
  const every = Math.round(1 / WI_SHARE);
  for (let i = 0; i < TOTAL; i += 1) {
    const change = i % every === 0;
    const pool = change ? wrappedChanges : wrappedUnrelated;
    deliveries.push(pool[(change ? i / every : i) % pool.length] as Delivery);
  }
  return { deliveries, snapshot };
}

function rate(label: string, deliveries: Delivery[], work: (delivery: Delivery) => unknown): number {
  for (let i = 0; i < 2_000; i += 1) work(deliveries[i % deliveries.length] as Delivery);
  const rounds: number[] = [];
  for (let round = 0; round < 3; round += 1) {
    const start = process.hrtime.bigint();
    for (const delivery of deliveries) work(delivery);
    rounds.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  const perSecond = deliveries.length / median(rounds);
  say(
    `${label}: ${Math.round(perSecond).toLocaleString('en')} entries/s (median of 3 × ${deliveries.length.toLocaleString('en')})`,
  );
  return perSecond;
}

function importMs(): number {
  const entry = join(REPO_ROOT, 'dist/functions/index.js');
  const script = `const t = performance.now(); await import(${JSON.stringify(entry)}); console.log(performance.now() - t);`;
  const samples: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, WI_SNAPSHOT: '' },
    });
    if (run.status !== 0) throw new Error(run.stderr);
    samples.push(Number(run.stdout.trim()));
  }
  return median(samples);
}

export async function run(): Promise<void> {
  build();
  const { deliveries, snapshot } = corpus();
  let findings = 0;
  const ours = rate('decode → classify → detect', deliveries, (delivery) => {
    const analysis = analyze(delivery, snapshot);
    if (analysis.outcome === 'change') findings += analysis.findings.length;
  });
  const floor = rate('floor (base64 + JSON.parse)', deliveries, (delivery) =>
    JSON.parse(Buffer.from(delivery.data.message.data, 'base64').toString('utf8')),
  );
  say(`findings per pass: ${findings / 4}`);
  const imported = importMs();
  say(`import of the auditEvents entry (dist/functions/index.js): ${round(imported, 1)} ms (median of 5)`);
  say(
    JSON.stringify({
      bench: 'throughput',
      entriesPerSecond: Math.round(ours),
      floorEntriesPerSecond: Math.round(floor),
      ratio: round(floor / ours, 2),
      importMs: round(imported, 1),
    }),
  );
}
