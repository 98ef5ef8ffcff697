// The sweep, read through Cloud Asset Inventory and read directly, side by side in one run: a
// synthetic organization (50 clusters × 8 node pools in 5 projects under one organization, 2,000 GSAs,
// 20,000 KSAs, 60,000 running pods) served by the fake GKE, IAM, Kubernetes and Asset Inventory
// APIs with 20 ms added to every call, in a child process. Each mode runs in a sweeper process of
// its own (so each peak RSS is its own): the real adapters read the inventory (assetInventory over
// the organization, or liveInventory over its projects, their default bounds), runSweep judges
// every link (a dry run: the whole verdict, nothing applied), then the inventory is encoded as the
// reconcile function stores it (its peak RSS counts; its time is printed apart). The two modes run
// twice, alternately, and each keeps its faster run: the machine is shared, and its other load
// only ever adds. With --x10, the same in Asset Inventory mode, once, over an organization ten
// times larger (500 clusters, 20,000 GSAs, 200,000 KSAs, 600,000 pods), which takes longer.
//
//   npm run bench -- sweep [--x10] [--latency MS] [--uncapped] [--clusters-at-once N]
//
// Sweepers run with V8's old space capped as a function's memory allows it (half of it: 128 MB of
// a 256 MB function for today's organization, as before; 512 MB of the reconcile function's 1 GiB
// for the 10× one) and 2 MB semi-spaces: V8 sizes its heap from the memory it sees (4 GB on a 24 GB
// machine, where it collects lazily and the heap grows to twice what is live), so an uncapped run
// measures the machine, not the sweep; --uncapped shows it.
// For each: API calls by kind (from the fakes' records), wall time, CPU time of the sweeper, peak
// RSS. The last line is JSON:
//   {"bench":"sweep","asset":{calls,wallMs,cpuMs,peakRssMB},"direct":{…},"x10":{…,"limitMB":1024}}
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { createAlerting } from '../shared/alerting/alerting.ts';
import { loadConfig } from '../shared/config.ts';
import { createLiveState, scopeReadersFromConfig } from '../shared/gcp/live.ts';
import { encodeInventory } from '../shared/incidents/inventory-codec.ts';
import { createMemoryStore } from '../shared/incidents/memory-store.ts';
import type { Snapshot, SnapshotProject } from '../shared/inventory/snapshot.ts';
import { defaultRouting } from '../shared/notify/routing.ts';
import { assetInventory, liveInventory } from '../shared/reconcile/live-inventory.ts';
import { runSweep } from '../shared/reconcile/run.ts';
import type { FakeCall } from '../test/fakes/fake-server.ts';
import { DEFAULT_HIERARCHY } from '../test/fakes/hierarchy.ts';
import { startLiveFakes } from '../test/support/live-fakes.ts';
import { REPO_ROOT, round, say } from './_support.ts';

export const SHAPE = {
  projects: 5,
  clustersPerProject: 10,
  pools: 8,
  gsasPerProject: 400,
  ksasPerCluster: 400,
  podsPerKsa: 3,
};
const DEFAULT_LATENCY_MS = 20;
/** The reconcile function's memory (infra/locals.tf), which the 10× organization must fit in. */
const RECONCILE_MB = 1024;
/** Half a function's memory to V8's old space: the rest is code, buffers, sockets and young space. */
const OLD_SPACE_MB = { today: 128, x10: RECONCILE_MB / 2 };
/**
 * V8's young generation sized for a small function: its default semi-spaces (16 MB each) are sized
 * for throughput on big machines; 2 MB cost about 10% more CPU here and save about 30 MB of RSS.
 * Set with NODE_OPTIONS on a function.
 */
const SEMI_SPACE_MB = 2;
const TOKEN = 'ya29.bench-token';
const ORGANIZATION = `organizations/${DEFAULT_HIERARCHY.organization}`;

type Mode = 'asset' | 'direct';

interface Row {
  calls: number;
  wallMs: number;
  cpuMs: number;
  peakRssMB: number;
}

/** What a sweeper process reports on its last line. */
interface Swept {
  mode: Mode;
  wallMs: number;
  readMs: number;
  encodeMs: number;
  cpuMs: number;
  peakRssMB: number;
  clusters: number;
  gsas: number;
  ksas: number;
  pods: number;
  firing: number;
  problems: string[];
  source: string;
}

export async function run(args: string[]): Promise<void> {
  const latencyMs = Number(optionOf(args, 'latency') ?? DEFAULT_LATENCY_MS);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error('--latency must be a number of ms');
  const scale = Number(optionOf(args, 'scale') ?? 1);
  if (args.includes('--serve-fakes')) return serveFakes(latencyMs, scale);
  const clustersAtOnce = optionOf(args, 'clusters-at-once');
  if (
    clustersAtOnce !== undefined &&
    !(Number.isInteger(Number(clustersAtOnce)) && Number(clustersAtOnce) > 0)
  )
    throw new Error('--clusters-at-once must be a positive whole number');
  const sweeper = optionOf(args, 'sweeper');
  if (sweeper === 'asset' || sweeper === 'direct') return sweep(sweeper, scale, Number(clustersAtOnce ?? 0));
  const atOnce = clustersAtOnce ? ['--clusters-at-once', clustersAtOnce] : [];
  const uncapped = args.includes('--uncapped');

  const today = await startFakesChild(latencyMs, 1);
  const rows: Partial<Record<Mode, Row>> = {};
  try {
    say(
      `sweep: ${SHAPE.projects * SHAPE.clustersPerProject} clusters (${SHAPE.pools} pools each), ${SHAPE.projects * SHAPE.gsasPerProject} GSAs, ${SHAPE.projects * SHAPE.clustersPerProject * SHAPE.ksasPerCluster} KSAs, ${SHAPE.projects * SHAPE.clustersPerProject * SHAPE.ksasPerCluster * SHAPE.podsPerKsa} running pods; ${latencyMs} ms added to every call; ${availableParallelism()} cores`,
    );
    for (const attempt of [1, 2]) {
      for (const mode of ['direct', 'asset'] as const) {
        const row = await measure(today, mode, 1, uncapped ? undefined : OLD_SPACE_MB.today, atOnce, attempt);
        const best = rows[mode];
        if (best === undefined || row.wallMs < best.wallMs) rows[mode] = row;
      }
    }
  } finally {
    await today.stop();
  }
  const { asset, direct } = rows as Record<Mode, Row>;
  say(
    `asset against direct: ${round(direct.calls / asset.calls, 1)}× fewer calls, wall ${round(asset.wallMs / direct.wallMs, 2)} of direct's (target ≤ 0.33), ${asset.calls} calls (target ≤ 400)`,
  );
  let x10: (Row & { limitMB: number }) | undefined;
  if (args.includes('--x10')) {
    const large = await startFakesChild(latencyMs, 10);
    try {
      say(
        `x10: ${10 * SHAPE.projects * SHAPE.clustersPerProject} clusters, ${10 * SHAPE.projects * SHAPE.gsasPerProject} GSAs, ${10 * SHAPE.projects * SHAPE.clustersPerProject * SHAPE.ksasPerCluster} KSAs, ${10 * SHAPE.projects * SHAPE.clustersPerProject * SHAPE.ksasPerCluster * SHAPE.podsPerKsa} running pods`,
      );
      const row = await measure(large, 'asset', 10, uncapped ? undefined : OLD_SPACE_MB.x10, atOnce, 1);
      x10 = { ...row, limitMB: RECONCILE_MB };
      say(`x10 peak RSS ${row.peakRssMB} MB of the reconcile function's ${RECONCILE_MB} MB`);
    } finally {
      await large.stop();
    }
  }
  say(JSON.stringify({ bench: 'sweep', asset, direct, ...(x10 ? { x10 } : {}) }));
}

/** One mode against the fakes: a sweeper process, the fakes' records of what it asked. */
async function measure(
  fakes: FakesChild,
  mode: Mode,
  scale: number,
  oldSpaceMB: number | undefined,
  extra: string[],
  attempt: number,
): Promise<Row> {
  await fakes.clear();
  const swept = await runSweeper(fakes.env, mode, scale, oldSpaceMB, extra);
  const { calls } = await fakes.calls();
  const byKind = countByKind(calls);
  const row = { calls: calls.length, wallMs: swept.wallMs, cpuMs: swept.cpuMs, peakRssMB: swept.peakRssMB };
  const seconds = (ms: number) => `${round(ms / 1000, 2)} s`;
  say(
    `${mode} (run ${attempt}): ${swept.clusters} clusters, ${swept.gsas} GSAs, ${swept.ksas} KSAs, ${swept.pods} pods read (source ${swept.source}); ${swept.firing} broken links`,
  );
  if (swept.problems.length > 0) say(`  PROBLEMS: ${swept.problems.length}, first: ${swept.problems[0]}`);
  say(
    `  wall ${seconds(swept.wallMs)} (inventory ${seconds(swept.readMs)}; then encoded for the store in ${seconds(swept.encodeMs)}), CPU ${seconds(swept.cpuMs)}, peak RSS ${swept.peakRssMB} MB (${oldSpaceMB ? `old space ${oldSpaceMB} MB, semi-spaces ${SEMI_SPACE_MB} MB` : 'uncapped'})`,
  );
  say(
    `  API calls: ${calls.length} (${Object.entries(byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')})`,
  );
  return row;
}

/** Runs one sweeper process; its last line is its report. */
async function runSweeper(
  env: Record<string, string>,
  mode: Mode,
  scale: number,
  oldSpaceMB: number | undefined,
  extra: string[],
): Promise<Swept> {
  const flags = oldSpaceMB
    ? [`--max-old-space-size=${oldSpaceMB}`, `--max-semi-space-size=${SEMI_SPACE_MB}`]
    : [];
  const child = spawn(
    process.execPath,
    [...flags, 'bench/run.ts', 'sweep', '--sweeper', mode, '--scale', String(scale), ...extra],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  );
  let last = '';
  for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) last = line;
  const code = await new Promise<number | null>((resolve) =>
    child.exitCode === null ? child.once('exit', resolve) : resolve(child.exitCode),
  );
  if (code !== 0) throw new Error(`the ${mode} sweeper exited with ${code}`);
  return JSON.parse(last) as Swept;
}

/** Sweeper side: read the organization in one mode and judge it; print a report line. */
async function sweep(mode: Mode, scale: number, clustersAtOnce: number): Promise<void> {
  const config = loadConfig(process.env);
  const state = createLiveState({
    tokens: async () => TOKEN,
    gkeUrl: config.GKE_API_URL,
    iamUrl: config.IAM_API_URL,
    resourceManagerUrl: config.RESOURCE_MANAGER_API_URL,
  });
  const projects = Array.from({ length: SHAPE.projects * scale }, (_, p) => projectId(p));
  const options = clustersAtOnce > 0 ? { concurrency: clustersAtOnce } : {};
  const inventory =
    mode === 'asset'
      ? assetInventory({ state, ...scopeReadersFromConfig(config) }, [ORGANIZATION], options)
      : liveInventory(state, projects, options);
  const store = createMemoryStore();
  const alerting = createAlerting({ store, senders: {}, routing: defaultRouting({}), logger: { log() {} } });

  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let readMs = 0;
  const report = await runSweep({
    inventory: async () => {
      const read = await inventory();
      readMs = performance.now() - started;
      return read;
    },
    alerting,
    store,
    dryRun: true,
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  // As the reconcile function keeps the inventory (its memory counts in the peak).
  const encodeStarted = performance.now();
  await encodeInventory(report.snapshot);
  const encodeMs = performance.now() - encodeStarted;
  const clusters = report.snapshot.projects.flatMap((project) => project.clusters);
  const swept: Swept = {
    mode,
    wallMs: round(wallMs),
    readMs: round(readMs),
    encodeMs: round(encodeMs),
    cpuMs: round((cpu.user + cpu.system) / 1000),
    peakRssMB: round(process.resourceUsage().maxRSS / 1024, 1),
    clusters: clusters.length,
    gsas: report.snapshot.projects.reduce((n, project) => n + project.serviceAccounts.length, 0),
    ksas: clusters.reduce((n, cluster) => n + cluster.serviceAccounts.length, 0),
    pods: clusters.reduce((n, cluster) => n + cluster.pods.length, 0),
    firing: report.findings.length,
    problems: report.problems.map((problem) => problem.message),
    source: report.source,
  };
  say(JSON.stringify(swept));
}

const projectId = (p: number) => `sweep-org-${p}`;

/**
 * The synthetic organization, `scale` times today's projects. Each project has one workload pool;
 * its 10 clusters run the same 400 KSAs (20 namespaces × 20 apps, as a fleet deploys one release
 * everywhere), each KSA bound on its own GSA. Most KSAs are annotated, 1 in 20 uses direct principal
 * access (bound, not annotated), 1 in 20 uses no Workload Identity. Three pods per KSA, spread over
 * the 8 pools (one on GCE_METADATA).
 */
export function syntheticOrganization(scale = 1): Snapshot {
  return { projects: Array.from({ length: SHAPE.projects * scale }, (_, p) => syntheticProject(p)) };
}

function syntheticProject(p: number): SnapshotProject {
  const project = projectId(p);
  const pool = `${project}.svc.id.goog`;
  const apps = Array.from({ length: SHAPE.ksasPerCluster }, (_, i) => ({
    namespace: `team-${Math.floor(i / 20)}`,
    name: `app-${i}`,
    gsa: `app-${i}@${project}.iam.gserviceaccount.com`,
    wi: i % 20 === 19 ? 'none' : i % 20 === 18 ? 'bound-only' : 'annotated',
  }));
  const pools = Array.from({ length: SHAPE.pools }, (_, k) => ({
    name: `pool-${k}`,
    workloadMetadataMode: k === SHAPE.pools - 1 ? 'GCE_METADATA' : 'GKE_METADATA',
  }));
  const clusters = Array.from({ length: SHAPE.clustersPerProject }, (_, c) => ({
    name: `cluster-${c}`,
    location: ['europe-west4', 'us-central1', 'asia-east1'][c % 3] as string,
    workloadPool: pool,
    nodePools: pools,
    serviceAccounts: apps.map((app) => ({
      namespace: app.namespace,
      name: app.name,
      annotations: app.wi === 'annotated' ? { 'iam.gke.io/gcp-service-account': app.gsa } : {},
    })),
    pods: apps.flatMap((app, i) =>
      Array.from({ length: SHAPE.podsPerKsa }, (_, r) => ({
        namespace: app.namespace,
        name: `${app.name}-7d9f8c6b5-${r}${c}`,
        labels: { app: app.name, team: app.namespace },
        serviceAccountName: app.name,
        nodePool: `pool-${(i + r + c) % SHAPE.pools}`,
        owner: { kind: 'Deployment', name: app.name },
        env: i % 50 === 0 ? ['PORT', 'GOOGLE_APPLICATION_CREDENTIALS'] : ['PORT', 'LOG_LEVEL'],
      })),
    ),
    networkPolicies: Array.from({ length: 20 }, (_, t) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-egress', namespace: `team-${t}` },
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [
          {
            to: [{ ipBlock: { cidr: '169.254.169.254/32' } }],
            ports: [
              { protocol: 'TCP', port: 80 },
              { protocol: 'TCP', port: 988 },
            ],
          },
          { to: [{ namespaceSelector: {} }] },
        ],
      },
    })),
  }));
  const serviceAccounts = apps.map((app, i) => ({
    email: app.gsa,
    uniqueId: `1${String(p).padStart(2, '0')}${String(i).padStart(18, '0')}`,
    disabled: false,
    iamPolicy: {
      bindings:
        app.wi === 'none'
          ? []
          : [
              {
                role: 'roles/iam.workloadIdentityUser',
                members: [`serviceAccount:${pool}[${app.namespace}/${app.name}]`],
              },
            ],
    },
  }));
  return { projectId: project, clusters, serviceAccounts };
}

interface FakesChild {
  env: Record<string, string>;
  calls(): Promise<{ calls: Pick<FakeCall, 'api' | 'kind'>[] }>;
  clear(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the fakes in a child process (this file with --serve-fakes) and talks to it over stdio. */
async function startFakesChild(latencyMs: number, scale: number): Promise<FakesChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['bench/run.ts', 'sweep', '--serve-fakes', '--latency', String(latencyMs), '--scale', String(scale)],
    { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`the fakes' process exited (${code})`)));
    });
  const ready = JSON.parse(await next()) as { env: Record<string, string> };
  const ask = async (command: string) => {
    child.stdin?.write(`${command}\n`);
    return next();
  };
  return {
    env: ready.env,
    calls: async () => JSON.parse(await ask('calls')) as { calls: Pick<FakeCall, 'api' | 'kind'>[] },
    clear: async () => {
      await ask('clear');
    },
    async stop() {
      child.stdin?.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Child side: serve the synthetic organization until stdin ends; `calls` prints the records. */
async function serveFakes(latencyMs: number, scale: number): Promise<void> {
  const fakes = await startLiveFakes(syntheticOrganization(scale), {
    latencyMs,
    token: TOKEN,
    memoize: true,
  });
  process.stdout.write(`${JSON.stringify({ env: fakes.env })}\n`);
  const input = createInterface({ input: process.stdin });
  for await (const line of input) {
    if (line.trim() === 'calls') {
      // Only what the parent counts: paths, query strings and bodies stay here.
      const calls = fakes.calls().map(({ api, kind }) => ({ api, kind }));
      process.stdout.write(`${JSON.stringify({ calls })}\n`);
    } else if (line.trim() === 'clear') {
      fakes.clearCalls();
      process.stdout.write('{}\n');
    }
  }
  await fakes.stop();
}

function countByKind(calls: readonly Pick<FakeCall, 'kind'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.kind] = (counts[call.kind] ?? 0) + 1;
  return counts;
}

function optionOf(args: string[], name: string): string | undefined {
  const index = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index === -1) return undefined;
  const arg = args[index] as string;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
}
