// The sweep: a synthetic organization (50 clusters × 8 node pools in 5 projects, 2,000 GSAs, 20,000
// KSAs, 60,000 running pods) served by the fake GKE, IAM and Kubernetes APIs with 20 ms added to
// every call, in a child process (so the peak RSS measured is the sweeper's alone). The sweeper
// exports it through the real adapters (createLiveState + exportSnapshot, their default bounds) and
// builds the full impact model: every Workload Identity KSA with its workloads.
//
//   npm run bench -- sweep [--latency MS] [--clusters-at-once N] [--gsas-at-once N] [--page-size N] [--uncapped]
//
// The sweeper runs with V8's old space capped at 128 MB and 2 MB semi-spaces, as in a 256 MB function: V8 sizes its heap
// from the memory it sees (4 GB on a 24 GB machine, where it collects lazily and the heap grows to
// twice what is live), so an uncapped run measures the machine, not the sweep; --uncapped shows it.
// Prints wall time (export, impact), the slowest cluster's span beside the sum of all clusters' spans
// and the GSA policy phase (from the fakes' records), API calls by kind, CPU time of the sweeper and
// of the fakes (wall time on a shared machine follows CPU contention), peak RSS; the last line is JSON.
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { createLiveState } from '../shared/gcp/live.ts';
import { impactOfCluster } from '../shared/inventory/impact.ts';
import type { Snapshot, SnapshotCluster, SnapshotProject } from '../shared/inventory/snapshot.ts';
import { exportSnapshot } from '../shared/live/export.ts';
import type { FakeCall } from '../test/fakes/fake-server.ts';
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
/** What a 256 MB function leaves V8's old space: half, the rest for code, buffers and sockets. */
const FUNCTION_OLD_SPACE_MB = 128;
/**
 * V8's young generation sized for a small function: its default semi-spaces (16 MB each) are sized
 * for throughput on big machines; 2 MB cost about 10% more CPU here and save about 30 MB of RSS.
 * Set with NODE_OPTIONS on a function given 256 MB.
 */
const FUNCTION_SEMI_SPACE_MB = 2;
const TOKEN = 'ya29.bench-token';

export async function run(args: string[]): Promise<void> {
  const latencyMs = Number(optionOf(args, 'latency') ?? DEFAULT_LATENCY_MS);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new Error('--latency must be a number of ms');
  if (args.includes('--serve-fakes')) return serveFakes(latencyMs);
  const capped = process.execArgv.some((arg) => arg.startsWith('--max-old-space-size'));
  if (!capped && !args.includes('--uncapped')) return runCapped(args);

  const numeric = (name: string) => {
    const value = optionOf(args, name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
    return n;
  };
  const clustersAtOnce = numeric('clusters-at-once');
  const gsasAtOnce = numeric('gsas-at-once');
  const pageSize = numeric('page-size');

  const fakes = await startFakesChild(latencyMs);
  try {
    const state = createLiveState({
      tokens: async () => TOKEN,
      gkeUrl: fakes.env.GKE_API_URL as string,
      iamUrl: fakes.env.IAM_API_URL as string,
      resourceManagerUrl: fakes.env.RESOURCE_MANAGER_API_URL as string,
      ...(gsasAtOnce ? { concurrency: gsasAtOnce } : {}),
      ...(pageSize ? { kubePageSize: pageSize } : {}),
    });
    const projects = Array.from({ length: SHAPE.projects }, (_, p) => projectId(p));

    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const { snapshot, problems } = await exportSnapshot(state, projects, {
      ...(clustersAtOnce ? { concurrency: clustersAtOnce } : {}),
      ...(gsasAtOnce ? { gsaConcurrency: gsasAtOnce } : {}),
    });
    const exported = performance.now();
    const impact = impactModel(snapshot);
    const done = performance.now();
    const cpu = process.cpuUsage(cpuBefore);

    const { calls, cpu: fakesCpu } = await fakes.calls();
    const byKind = countByKind(calls);
    const spans = clusterSpans(calls, latencyMs);
    const apiCalls = calls.length;
    const clusters = snapshot.projects.reduce((n, project) => n + project.clusters.length, 0);
    const gsas = snapshot.projects.reduce((n, project) => n + project.serviceAccounts.length, 0);
    const ksas = allClusters(snapshot).reduce((n, cluster) => n + cluster.serviceAccounts.length, 0);
    const pods = allClusters(snapshot).reduce((n, cluster) => n + cluster.pods.length, 0);
    const peakRssMB = round(process.resourceUsage().maxRSS / 1024, 1);
    const wallSeconds = round((done - started) / 1000, 2);
    const seconds = (ms: number) => `${round(ms / 1000, 2)} s`;

    say(
      `sweep: ${clusters} clusters (${SHAPE.pools} pools each), ${gsas} GSAs, ${ksas} KSAs, ${pods} running pods; ${latencyMs} ms added to every call`,
    );
    if (problems.length > 0)
      say(`PROBLEMS: ${problems.length}, first: ${problems[0]?.what}: ${problems[0]?.reason}`);
    say(
      `wall: ${wallSeconds} s (export ${seconds(exported - started)}, impact model ${seconds(done - exported)})`,
    );
    say(
      `clusters: slowest ${seconds(spans.slowest)}, sum of all ${seconds(spans.sum)}; GSA policies: ${seconds(spans.gsaPhase)} for ${byKind['iam.getIamPolicy'] ?? 0}`,
    );
    say(`impact: ${impact.ksas} Workload Identity KSAs, ${impact.workloads} workloads (${impact.pods} pods)`);
    say(
      `API calls: ${apiCalls} (${Object.entries(byKind)
        .map(([kind, n]) => `${kind} ${n}`)
        .join(', ')})`,
    );
    say(
      `CPU: sweeper ${seconds((cpu.user + cpu.system) / 1000)}, fakes ${seconds((fakesCpu.user + fakesCpu.system) / 1000)} (whole life) on ${availableParallelism()} cores`,
    );
    say(
      `peak RSS: ${peakRssMB} MB (${capped ? `V8 old space ${FUNCTION_OLD_SPACE_MB} MB, semi-spaces ${FUNCTION_SEMI_SPACE_MB} MB, as in a 256 MB function` : 'uncapped'})`,
    );
    say(JSON.stringify({ bench: 'sweep', clusters, gsas, ksas, pods, apiCalls, wallSeconds, peakRssMB }));
  } finally {
    await fakes.stop();
  }
}

/** Runs this bench again with the old space a 256 MB function gets; its output is the bench's. */
async function runCapped(args: string[]): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${FUNCTION_OLD_SPACE_MB}`,
      `--max-semi-space-size=${FUNCTION_SEMI_SPACE_MB}`,
      'bench/run.ts',
      'sweep',
      ...args,
    ],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the sweep exited with ${code}`);
}

/** The full impact model: for every cluster, each WI KSA with the workloads that run as it. */
export function impactModel(snapshot: Snapshot): { ksas: number; workloads: number; pods: number } {
  let ksas = 0;
  let workloads = 0;
  let pods = 0;
  for (const cluster of allClusters(snapshot)) {
    const impact = impactOfCluster(snapshot, cluster);
    ksas += impact.ksas.length;
    workloads += impact.workloads.length;
    pods += impact.workloads.reduce((n, workload) => n + (workload.pods ?? 0), 0);
  }
  return { ksas, workloads, pods };
}

function allClusters(snapshot: Snapshot): SnapshotCluster[] {
  return snapshot.projects.flatMap((project) => project.clusters);
}

const projectId = (p: number) => `sweep-org-${p}`;

/**
 * The synthetic organization. Each project has one workload pool; its 10 clusters run the same 400
 * KSAs (20 namespaces × 20 apps, as a fleet deploys one release everywhere), each KSA bound on its
 * own GSA. Most KSAs are annotated, 1 in 20 uses direct principal access (bound, not annotated), 1
 * in 20 uses no Workload Identity. Three pods per KSA, spread over the 8 pools (one on GCE_METADATA).
 */
export function syntheticOrganization(): Snapshot {
  return { projects: Array.from({ length: SHAPE.projects }, (_, p) => syntheticProject(p)) };
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
  calls(): Promise<{ calls: FakeCall[]; cpu: NodeJS.CpuUsage }>;
  stop(): Promise<void>;
}

/** Starts the fakes in a child process (this file with --serve-fakes) and talks to it over stdio. */
async function startFakesChild(latencyMs: number): Promise<FakesChild> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['bench/run.ts', 'sweep', '--serve-fakes', '--latency', String(latencyMs)],
    {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    },
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
  return {
    env: ready.env,
    async calls() {
      child.stdin?.write('calls\n');
      return JSON.parse(await next()) as { calls: FakeCall[]; cpu: NodeJS.CpuUsage };
    },
    async stop() {
      child.stdin?.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** Child side: serve the synthetic organization until stdin ends; `calls` prints the records. */
async function serveFakes(latencyMs: number): Promise<void> {
  const fakes = await startLiveFakes(syntheticOrganization(), { latencyMs, token: TOKEN, memoize: true });
  process.stdout.write(`${JSON.stringify({ env: fakes.env })}\n`);
  const input = createInterface({ input: process.stdin });
  for await (const line of input) {
    if (line.trim() === 'calls') {
      // Only what the parent measures: query strings and bodies stay here.
      const calls = fakes
        .calls()
        .map(({ api, kind, path, answered, at }) => ({ api, kind, path, answered, at }));
      process.stdout.write(`${JSON.stringify({ calls, cpu: process.cpuUsage() })}\n`);
    }
  }
  await fakes.stop();
}

function countByKind(calls: readonly Pick<FakeCall, 'kind'>[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[call.kind] = (counts[call.kind] ?? 0) + 1;
  return counts;
}

/** Per cluster, first request to last answer (arrival + latency); the GSA policy phase likewise. */
function clusterSpans(
  calls: readonly FakeCall[],
  latencyMs: number,
): { slowest: number; sum: number; gsaPhase: number } {
  const byCluster = new Map<string, { first: number; last: number }>();
  for (const call of calls) {
    const cluster = /^\/clusters\/([^/]+\/[^/]+\/[^/]+)\//.exec(call.path)?.[1];
    if (call.api !== 'kubernetes' || !cluster) continue;
    const span = byCluster.get(cluster) ?? { first: call.at, last: call.at };
    span.first = Math.min(span.first, call.at);
    span.last = Math.max(span.last, call.at);
    byCluster.set(cluster, span);
  }
  const spans = [...byCluster.values()].map((span) => span.last - span.first + latencyMs);
  const policies = calls.filter((call) => call.kind === 'iam.getIamPolicy').map((call) => call.at);
  return {
    slowest: Math.max(0, ...spans),
    sum: spans.reduce((a, b) => a + b, 0),
    gsaPhase: policies.length > 0 ? Math.max(...policies) - Math.min(...policies) + latencyMs : 0,
  };
}

function optionOf(args: string[], name: string): string | undefined {
  const index = args.findIndex((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`));
  if (index === -1) return undefined;
  const arg = args[index] as string;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
}
