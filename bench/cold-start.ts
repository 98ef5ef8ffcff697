// Cold start: ms from spawning the functions-framework CLI to the first acknowledged (2xx) delivery,
// for `auditEvents` served from the built dist/ beside a hello-world CloudEvent function served the same
// way by the same framework. The delivery is an irrelevant audit entry (the common case, which must not
// load a Google client library); a relevant one (a Workload Identity binding removal) is timed too, for
// information. Runs alternate between the functions to spread machine noise; figures are medians.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { build, median, REPO_ROOT, round, say } from './_support.ts';

const FRAMEWORK = join(REPO_ROOT, 'node_modules/@google-cloud/functions-framework/build/src/main.js');
const DEFAULT_RUNS = 7;
/** A start that takes longer than this is broken, not slow. */
const START_TIMEOUT_MS = 30_000;

/** An audit entry wi-sentinel must ignore: a Cloud Storage bucket created (Admin Activity). */
const irrelevantEntry = {
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    status: {},
    authenticationInfo: {
      principalEmail: 'deployer@orbit-prod.iam.gserviceaccount.com',
      principalSubject: 'serviceAccount:deployer@orbit-prod.iam.gserviceaccount.com',
      serviceAccountDelegationInfo: [
        {
          principalSubject:
            'principal://iam.googleapis.com/projects/421000000000/locations/global/workloadIdentityPools/github/subject/repo:orbit/infra:ref:refs/heads/main',
        },
      ],
    },
    requestMetadata: {
      callerIp: '203.0.113.41',
      callerSuppliedUserAgent:
        'Terraform/1.9.8 (+https://www.terraform.io) Terraform-Plugin-SDK/2.33.0 terraform-provider-google/6.12.0,gzip(gfe)',
      requestAttributes: { time: '2026-11-20T08:59:58.914262Z', auth: {} },
      destinationAttributes: {},
    },
    serviceName: 'storage.googleapis.com',
    methodName: 'storage.buckets.create',
    authorizationInfo: [
      {
        resource: 'projects/_/buckets/orbit-prod-checkout-exports',
        permission: 'storage.buckets.create',
        granted: true,
        resourceAttributes: {},
        permissionType: 'ADMIN_WRITE',
      },
    ],
    resourceName: 'projects/_/buckets/orbit-prod-checkout-exports',
    serviceData: {
      '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData',
      policyDelta: {
        bindingDeltas: [
          { action: 'ADD', role: 'roles/storage.legacyBucketOwner', member: 'projectOwner:orbit-prod' },
          { action: 'ADD', role: 'roles/storage.legacyBucketOwner', member: 'projectEditor:orbit-prod' },
          { action: 'ADD', role: 'roles/storage.legacyBucketReader', member: 'projectViewer:orbit-prod' },
        ],
      },
    },
    request: {
      defaultObjectAcl: {
        '@type': 'type.googleapis.com/google.iam.v1.Policy',
        bindings: [
          {
            role: 'roles/storage.legacyObjectOwner',
            members: ['projectOwner:orbit-prod', 'projectEditor:orbit-prod'],
          },
          { role: 'roles/storage.legacyObjectReader', members: ['projectViewer:orbit-prod'] },
        ],
      },
    },
    resourceLocation: { currentLocations: ['europe-west1'] },
  },
  insertId: '1x9bq4e3ka7c',
  resource: {
    type: 'gcs_bucket',
    labels: {
      project_id: 'orbit-prod',
      bucket_name: 'orbit-prod-checkout-exports',
      location: 'europe-west1',
    },
  },
  timestamp: '2026-11-20T08:59:58.903118Z',
  severity: 'NOTICE',
  logName: 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity',
  receiveTimestamp: '2026-11-20T08:59:59.611842306Z',
};

/** A Workload Identity break: `roles/iam.workloadIdentityUser` removed from a GSA for checkout/cart. */
const relevantEntry = {
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    status: {},
    authenticationInfo: { principalEmail: 'erin@example.org', principalSubject: 'user:erin@example.org' },
    requestMetadata: {
      callerIp: '198.51.100.23',
      callerSuppliedUserAgent:
        'google-cloud-sdk gcloud/546.0.0 command/gcloud.iam.service-accounts.remove-iam-policy-binding,gzip(gfe)',
      requestAttributes: { time: '2026-11-20T09:00:00.351902Z', auth: {} },
      destinationAttributes: {},
    },
    serviceName: 'iam.googleapis.com',
    methodName: 'google.iam.admin.v1.SetIAMPolicy',
    authorizationInfo: [
      {
        resource: 'projects/-/serviceAccounts/104200000000000000011',
        permission: 'iam.serviceAccounts.setIamPolicy',
        granted: true,
        resourceAttributes: { name: 'projects/-/serviceAccounts/104200000000000000011' },
        permissionType: 'ADMIN_WRITE',
      },
    ],
    resourceName: 'projects/-/serviceAccounts/104200000000000000011',
    request: {
      '@type': 'type.googleapis.com/google.iam.v1.SetIamPolicyRequest',
      resource: 'projects/-/serviceAccounts/cart@orbit-prod.iam.gserviceaccount.com',
      policy: { bindings: [], etag: 'BwZAq2cT8xE=', version: 1 },
    },
    response: { '@type': 'type.googleapis.com/google.iam.v1.Policy', etag: 'BwZAq3Rv2Lk=', version: 1 },
    serviceData: {
      '@type': 'type.googleapis.com/google.iam.v1.logging.AuditData',
      policyDelta: {
        bindingDeltas: [
          {
            action: 'REMOVE',
            role: 'roles/iam.workloadIdentityUser',
            member: 'serviceAccount:orbit-prod.svc.id.goog[checkout/cart]',
          },
        ],
      },
    },
  },
  insertId: '1m8w3xe2k4bq',
  resource: {
    type: 'service_account',
    labels: {
      project_id: 'orbit-prod',
      unique_id: '104200000000000000011',
      email_id: 'cart@orbit-prod.iam.gserviceaccount.com',
    },
  },
  timestamp: '2026-11-20T09:00:00.337214Z',
  severity: 'NOTICE',
  logName: 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity',
  receiveTimestamp: '2026-11-20T09:00:01.104551Z',
};

/** The structured CloudEvent Eventarc delivers for a Pub/Sub trigger fed by a Log Router sink. */
function delivery(entry: unknown): string {
  return JSON.stringify({
    specversion: '1.0',
    id: '17000000000000001',
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/orbit-prod/topics/wi-sentinel-audit',
    time: '2026-11-20T09:00:01.2Z',
    datacontenttype: 'application/json',
    data: {
      message: {
        data: Buffer.from(`${JSON.stringify(entry)}\n`).toString('base64'),
        attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T09:00:00.337214Z' },
        messageId: '17000000000000001',
        publishTime: '2026-11-20T09:00:01.2Z',
      },
      subscription: 'projects/orbit-prod/subscriptions/eventarc-europe-west1-wi-sentinel-audit-sub-042',
    },
  });
}

/** The baseline: a CloudEvent function that does nothing, packaged as ours is (type module, main .js). */
function writeHelloWorld(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wi-sentinel-hello-'));
  const framework = import.meta.resolve('@google-cloud/functions-framework');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', main: 'index.js' }));
  writeFileSync(
    join(dir, 'index.js'),
    `import { cloudEvent } from ${JSON.stringify(framework)};\ncloudEvent('hello', (event) => { console.log(event.id); });\n`,
  );
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The machine's environment minus NODE_OPTIONS and what wi-sentinel reads: no Slack, no PagerDuty. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(SLACK_|PAGERDUTY_|WI_|FIRESTORE_EMULATOR_HOST$|NODE_OPTIONS$)/.test(key)) delete env[key];
  }
  env.WI_STATE = 'memory';
  return env;
}

/** One POST; the status, or undefined when nothing listens yet. */
function post(port: number, body: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        agent: false,
        headers: {
          'content-type': 'application/cloudevents+json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        resolve(response.statusCode);
      },
    );
    req.on('error', () => resolve(undefined));
    req.end(body);
  });
}

interface Case {
  label: string;
  target: string;
  cwd: string;
  body: string;
  /** Printed by the function when it handled the delivery as intended. */
  expect: string;
  /** Added to the child's environment. */
  env?: Record<string, string>;
}

/** Spawns the CLI, posts until the first 2xx, and returns the ms from spawn to that answer. */
async function coldStart(item: Case): Promise<number> {
  const port = await freePort();
  let output = '';
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [FRAMEWORK, `--target=${item.target}`, '--signature-type=cloudevent', `--port=${port}`],
    { cwd: item.cwd, env: { ...childEnv(), ...item.env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  try {
    for (;;) {
      const status = await post(port, item.body);
      if (status !== undefined && status >= 200 && status < 300) break;
      if (status !== undefined) throw new Error(`${item.label}: HTTP ${status}\n${output}`);
      if (child.exitCode !== null) throw new Error(`${item.label}: the server exited\n${output}`);
      if (performance.now() - started > START_TIMEOUT_MS)
        throw new Error(`${item.label}: no answer\n${output}`);
      await sleep(1);
    }
    const elapsed = performance.now() - started;
    const deadline = Date.now() + 5_000;
    while (!output.includes(item.expect) && Date.now() < deadline) await sleep(10);
    if (!output.includes(item.expect))
      throw new Error(`${item.label}: acknowledged, but no "${item.expect}" in its output\n${output}`);
    return elapsed;
  } finally {
    if (child.exitCode === null && child.pid !== undefined) {
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    }
  }
}

function runsFrom(args: string[]): number {
  const value =
    args.find((arg) => /^\d+$/.test(arg)) ?? args.find((arg) => arg.startsWith('--runs='))?.slice(7);
  const runs = value === undefined ? DEFAULT_RUNS : Number(value);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`runs must be a positive integer: ${value}`);
  return runs;
}

export async function run(args: string[] = []): Promise<void> {
  const runs = runsFrom(args);
  build();
  const helloDir = writeHelloWorld();
  try {
    const ours: Case = {
      label: 'auditEvents (irrelevant entry)',
      target: 'auditEvents',
      cwd: REPO_ROOT,
      body: delivery(irrelevantEntry),
      expect: 'ignored: storage.buckets.create',
    };
    const hello: Case = {
      label: 'hello world',
      target: 'hello',
      cwd: helloDir,
      body: delivery(irrelevantEntry),
      expect: '17000000000000001',
    };
    const relevant: Case = {
      label: 'auditEvents (WI binding removal)',
      target: 'auditEvents',
      cwd: REPO_ROOT,
      body: delivery(relevantEntry),
      expect: '"kind":"binding-missing"',
      // The simulated organization: live state would be Google's APIs, which a bench must not call.
      env: { WI_SNAPSHOT: join(REPO_ROOT, 'test/fixtures/snapshot.json') },
    };
    // One untimed start of each first, so no figure pays for a cold file cache.
    for (const item of [ours, hello, relevant]) await coldStart(item);
    const samples = new Map<Case, number[]>([
      [ours, []],
      [hello, []],
      [relevant, []],
    ]);
    for (let i = 0; i < runs; i += 1) {
      // Rotate the order so no function always runs first (or right after another start).
      const order = [ours, hello, relevant];
      for (let r = 0; r < i % order.length; r += 1) order.push(order.shift() as Case);
      for (const item of order) samples.get(item)?.push(await coldStart(item));
    }
    const ms = (item: Case) => median(samples.get(item) ?? []);
    const line = (item: Case) =>
      `${item.label}: ${round(ms(item))} ms to the first acknowledged delivery (median of ${runs}; ${(samples.get(item) ?? []).map((v) => round(v)).join(', ')})`;
    say(line(ours));
    say(line(hello));
    say(`${line(relevant)} [informational]`);
    const ratio = ms(ours) / ms(hello);
    say(
      JSON.stringify({
        bench: 'cold-start',
        oursMs: round(ms(ours)),
        helloMs: round(ms(hello)),
        ratio: round(ratio, 2),
      }),
    );
  } finally {
    rmSync(helloDir, { recursive: true, force: true });
  }
}
