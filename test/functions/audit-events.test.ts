import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FunctionServer, startFunction, waitUntil } from '../support/function-server.ts';
import { HEAVY_MODULE, traceImports } from '../support/imports.ts';
import { FIXTURES, REPO_ROOT } from '../support/paths.ts';

const removal = {
  insertId: 'fn-remove-1',
  logName: 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity',
  protoPayload: {
    '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
    authenticationInfo: { principalEmail: 'erin@example.org' },
    serviceName: 'iam.googleapis.com',
    methodName: 'google.iam.admin.v1.SetIAMPolicy',
    resourceName: 'projects/-/serviceAccounts/104200000000000000011',
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
    status: {},
  },
  resource: {
    type: 'service_account',
    labels: {
      email_id: 'cart@orbit-prod.iam.gserviceaccount.com',
      project_id: 'orbit-prod',
      unique_id: '104200000000000000011',
    },
  },
  timestamp: '2026-11-20T09:00:00Z',
};

function cloudEvent(id: string, data: unknown) {
  return {
    specversion: '1.0',
    id,
    type: 'google.cloud.pubsub.topic.v1.messagePublished',
    source: '//pubsub.googleapis.com/projects/orbit-prod/topics/wi-sentinel-audit',
    time: '2026-11-20T09:00:01Z',
    datacontenttype: 'application/json',
    data,
  };
}

function published(entry: unknown) {
  return {
    message: {
      data: Buffer.from(`${JSON.stringify(entry)}\n`).toString('base64'),
      attributes: { 'logging.googleapis.com/timestamp': '2026-11-20T09:00:00Z' },
      messageId: 'm-1',
      publishTime: '2026-11-20T09:00:01Z',
    },
    subscription: 'projects/orbit-prod/subscriptions/eventarc-wi-sentinel-audit',
  };
}

async function post(url: string, body: unknown, contentType = 'application/cloudevents+json') {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('auditEvents through the functions-framework server', () => {
  let server: FunctionServer;
  before(async () => {
    server = await startFunction('auditEvents', { env: { WI_SNAPSHOT: join(FIXTURES, 'snapshot.json') } });
  });
  after(() => server.stop());

  test('a structured CloudEvent: one log line per finding, acknowledged', async () => {
    const status = await post(server.url, cloudEvent('ce-1', published(removal)));
    assert.equal(status, 204);
    await waitUntil(() => server.logs().some((log) => log.eventId === 'ce-1' && log.finding), 5_000);
    const logs = server.logs();
    const line = logs.find((log) => log.eventId === 'ce-1' && log.finding);
    assert.ok(logs.some((log) => log.eventId === 'ce-1' && /^incident opened/.test(String(log.message))));
    assert.ok(line, JSON.stringify(logs));
    assert.equal(line.severity, 'CRITICAL');
    const finding = line.finding as Record<string, unknown>;
    assert.equal(finding.kind, 'binding-missing');
    assert.equal(
      finding.fingerprint,
      'binding-missing/orbit-prod/cart@orbit-prod.iam.gserviceaccount.com/orbit-prod.svc.id.goog/checkout/cart',
    );
    assert.equal(
      (finding.workloads as unknown[]).length,
      3,
      'cart runs on two pools of core-1 and in edge-1',
    );
  });

  test('a raw Pub/Sub push body is turned into a CloudEvent by the framework', async () => {
    const before = server.logs().length;
    const url = server.url.replace(/\/$/, '/projects/orbit-prod/topics/wi-sentinel-audit');
    const again = { ...removal, insertId: 'fn-remove-2' };
    assert.equal(await post(url, published(again), 'application/json'), 204);
    await waitUntil(
      () =>
        server
          .logs()
          .slice(before)
          .some((log) => log.finding),
      5_000,
    );
    const line = server
      .logs()
      .slice(before)
      .find((log) => log.finding);
    assert.equal((line?.finding as Record<string, unknown> | undefined)?.kind, 'binding-missing');
  });

  test('the same entry delivered again is acknowledged as a duplicate', async () => {
    const before = server.logs().length;
    assert.equal(await post(server.url, cloudEvent('ce-dup', published(removal))), 204);
    await waitUntil(() => server.logs().length > before, 5_000);
    assert.match(String(server.logs().at(-1)?.message), /duplicate delivery acknowledged/);
  });

  test('undecodable input is logged with its reason and acknowledged, not retried', async () => {
    const before = server.logs().length;
    const status = await post(server.url, cloudEvent('ce-bad', { message: { data: 'bm90IGpzb24=' } }));
    assert.equal(status, 204);
    const logs = await server.waitForLogs(before + 1);
    const line = logs.at(-1);
    assert.equal(line?.severity, 'WARNING');
    assert.match(
      String(line?.message),
      /undecodable delivery acknowledged: Pub\/Sub message data is not a JSON LogEntry/,
    );
    assert.equal(line?.eventId, 'ce-bad');
  });

  test('an irrelevant entry is acknowledged with the reason', async () => {
    const before = server.logs().length;
    const other = {
      ...removal,
      insertId: 'fn-other',
      protoPayload: { ...removal.protoPayload, methodName: 'google.iam.admin.v1.CreateRole' },
    };
    assert.equal(await post(server.url, cloudEvent('ce-other', published(other))), 204);
    const logs = await server.waitForLogs(before + 1);
    assert.match(String(logs.at(-1)?.message), /ignored: google\.iam\.admin\.v1\.CreateRole does not change/);
  });
});

describe('auditEvents start-up', () => {
  test('a bad environment value stops start-up, naming the variable', async () => {
    await assert.rejects(
      startFunction('auditEvents', { env: { WI_STATE: 'postgres' } }),
      /WI_STATE must be firestore or memory/,
    );
  });

  test('loading the entry loads no Google client library', () => {
    const { urls } = traceImports(`await import(${JSON.stringify(join(REPO_ROOT, 'functions/index.ts'))});`);
    assert.ok(urls.length > 5, 'the hook saw the imports');
    assert.deepEqual(
      urls.filter((url) => HEAVY_MODULE.test(url)),
      [],
    );
  });

  test('without WI_ROUTES, start-up loads no YAML parser (a cold-start cost only a routing file needs)', () => {
    const env = { ...process.env };
    delete env.WI_ROUTES;
    const { urls } = traceImports(
      `await import(${JSON.stringify(join(REPO_ROOT, 'functions/index.ts'))});`,
      env,
    );
    assert.deepEqual(
      urls.filter((url) => /node_modules\/yaml\//.test(url)),
      [],
    );
  });
});
