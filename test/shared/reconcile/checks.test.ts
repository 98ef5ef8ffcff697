import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { METADATA_SERVER_CODE_LABEL, METADATA_SERVER_METRIC } from '../../../shared/events/monitoring.ts';
import { auditSinkFilter } from '../../../shared/events/sink-filter.ts';
import { READ_PERMISSIONS } from '../../../shared/gcp/permissions.ts';
import { DELIVERY_NOTE_INTERVAL_MS } from '../../../shared/incidents/store.ts';
import { createSelfCheckPorts } from '../../../shared/reconcile/check-adapters.ts';
import {
  type CheckResult,
  DELIVERY_GRACE_MS,
  type DeliveryEvidence,
  type SelfCheckPorts,
  type SelfCheckTarget,
  selfCheck,
} from '../../../shared/reconcile/checks.ts';
import { workloadSinkFilter } from '../../../shared/symptoms/filter.ts';
import { type FakeLogging, type FakeSink, startFakeLogging } from '../../fakes/logging.ts';
import { type FakeMonitoring, startFakeMonitoring } from '../../fakes/monitoring.ts';
import { type FakePermissions, startFakePermissions } from '../../fakes/permissions.ts';
import { type FakePubsubIam, startFakePubsubIam } from '../../fakes/pubsub-iam.ts';
import { FIXTURES } from '../../support/paths.ts';

/** Not a real credential: what the fakes expect as bearer token. */
const TOKEN = 'ya29.self-check-token-for-tests-only';
const HOST = 'orbit-ops';
const TOPIC = `projects/${HOST}/topics/wi-sentinel-audit`;
const PROD_SINK = 'projects/orbit-prod/sinks/wi-sentinel-audit';
const DEV_SINK = 'projects/orbit-dev/sinks/wi-sentinel-audit';
const PROD_WRITER = 'serviceAccount:service-731604512345@gcp-sa-logging.iam.gserviceaccount.com';
const DEV_WRITER = 'serviceAccount:service-731604599999@gcp-sa-logging.iam.gserviceaccount.com';
const IDENTITY = 'wi-sentinel-reconcile@orbit-ops.iam.gserviceaccount.com';
const NOW = new Date('2026-11-28T12:00:00.000Z');
const LAST_DELIVERY = '2026-11-28T09:00:00.000Z';

const TARGET: SelfCheckTarget = {
  sinks: [PROD_SINK, DEV_SINK],
  topic: TOPIC,
  projects: ['orbit-prod', 'orbit-dev'],
  filter: auditSinkFilter(),
  identity: IDENTITY,
};
const EVIDENCE: DeliveryEvidence = { now: NOW, lastDelivery: LAST_DELIVERY };

/** As Terraform writes it: the generated file, trimmed (whitespace is not significant). */
function sink(writer: string, overrides: Partial<FakeSink> = {}): FakeSink {
  return {
    destination: `pubsub.googleapis.com/${TOPIC}`,
    filter: `${auditSinkFilter().trim()}\n`,
    writerIdentity: writer,
    ...overrides,
  };
}

/** A fixture audit entry written at `timestamp`. */
function entryAt(name: string, timestamp: string): unknown {
  const entry = JSON.parse(readFileSync(join(FIXTURES, 'events', `${name}.json`), 'utf8'));
  return { ...entry, timestamp, receiveTimestamp: timestamp };
}

const minutesBefore = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function byCheck(results: CheckResult[], check: string, project?: string): CheckResult {
  const found = results.filter((r) => r.check === check && (project === undefined || r.project === project));
  assert.equal(found.length, 1, `one ${check} result${project ? ` for ${project}` : ''}`);
  return found[0] as CheckResult;
}

function commandsOf(result: CheckResult): string[] {
  return (result.remediation ?? []).map((step) => step.command);
}

/** Every result but those named is healthy. */
function othersHealthy(results: CheckResult[], ...failing: [string, string][]) {
  for (const result of results) {
    if (failing.some(([check, project]) => result.check === check && result.project === project)) continue;
    assert.equal(result.status, 'healthy', `${result.check} of ${result.project}: ${result.summary}`);
  }
}

/** The metadata-server metric as GKE projects have it. */
const METRIC = { type: METADATA_SERVER_METRIC, labels: [METADATA_SERVER_CODE_LABEL, 'method'] };

describe('self-checks against fake Logging, Pub/Sub, Resource Manager and Monitoring APIs', () => {
  let logging: FakeLogging;
  let pubsub: FakePubsubIam;
  let rm: FakePermissions;
  let monitoring: FakeMonitoring;
  let ports: SelfCheckPorts;
  const fakes = () => [logging, pubsub, rm, monitoring];

  before(async () => {
    [logging, pubsub, rm, monitoring] = await Promise.all([
      startFakeLogging({ token: TOKEN }),
      startFakePubsubIam({ token: TOKEN }),
      startFakePermissions({ token: TOKEN }),
      startFakeMonitoring({ token: TOKEN }),
    ]);
    ports = createSelfCheckPorts({
      tokens: async () => TOKEN,
      loggingUrl: logging.url,
      pubsubUrl: pubsub.url,
      resourceManagerUrl: rm.url,
      monitoringUrl: monitoring.url,
      timeoutMs: 2_000,
      retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, deadlineMs: 2_000 },
    });
  });
  after(async () => {
    await Promise.all(fakes().map((fake) => fake.stop()));
  });

  // Everything healthy; each test breaks one thing.
  beforeEach(() => {
    for (const fake of fakes()) {
      fake.calls.length = 0;
      fake.clearFaults();
    }
    logging.setSink(PROD_SINK, sink(PROD_WRITER));
    logging.setSink(DEV_SINK, sink(DEV_WRITER));
    logging.setEntries([
      // Delivered (before the last delivery), and too recent to be overdue: neither counts.
      entryAt('gsa-binding-removed', '2026-11-28T08:59:00.000Z'),
      entryAt('nodepool-gce-metadata', minutesBefore(10)),
    ]);
    pubsub.setTopic(TOPIC, {
      bindings: [{ role: 'roles/pubsub.publisher', members: [PROD_WRITER, DEV_WRITER] }],
    });
    rm.setGranted('orbit-prod', [...READ_PERMISSIONS]);
    rm.setGranted('orbit-dev', [...READ_PERMISSIONS, 'container.pods.get']);
    rm.setPolicy(HOST, { bindings: [] });
    monitoring.setDescriptors('orbit-prod', [METRIC]);
    monitoring.setDescriptors('orbit-dev', [METRIC]);
  });

  it('all healthy: every check passes, asking each API exactly what it needs', async () => {
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    assert.deepEqual(
      results.map((r) => `${r.check} ${r.project} ${r.status}`),
      [
        'sink orbit-prod healthy',
        'sink-filter orbit-prod healthy',
        'sink-writer orbit-prod healthy',
        'sink orbit-dev healthy',
        'sink-filter orbit-dev healthy',
        'sink-writer orbit-dev healthy',
        'permissions orbit-prod healthy',
        'permissions orbit-dev healthy',
        'metric orbit-prod healthy',
        'metric orbit-dev healthy',
        `deliveries ${HOST} healthy`,
      ],
    );
    for (const result of results) assert.equal(result.remediation, undefined);
    assert.deepEqual(monitoring.calls.map((c) => `${c.method} ${c.path}`).sort(), [
      `GET /v3/projects/orbit-dev/metricDescriptors/${METADATA_SERVER_METRIC}`,
      `GET /v3/projects/orbit-prod/metricDescriptors/${METADATA_SERVER_METRIC}`,
    ]);

    assert.ok(fakes().every((fake) => fake.calls.every((call) => call.authorized)));
    assert.deepEqual(
      logging.calls
        .filter((c) => c.kind === 'logging.getSink')
        .map((c) => `${c.method} ${c.path}`)
        .sort(),
      [`GET /v2/${DEV_SINK}`, `GET /v2/${PROD_SINK}`],
    );
    const [list, ...more] = logging.calls.filter((c) => c.kind === 'logging.listEntries');
    assert.equal(more.length, 0, 'one entries.list');
    const body = list?.body as { resourceNames: string[]; filter: string; orderBy: string; pageSize: number };
    assert.deepEqual(body.resourceNames, ['projects/orbit-prod', 'projects/orbit-dev']);
    assert.equal(body.orderBy, 'timestamp asc');
    assert.equal(body.pageSize, 50);
    const from = new Date(Date.parse(LAST_DELIVERY) + DELIVERY_NOTE_INTERVAL_MS).toISOString();
    const until = new Date(NOW.getTime() - DELIVERY_GRACE_MS).toISOString();
    assert.equal(body.filter, `${auditSinkFilter()}\nAND timestamp>"${from}"\nAND timestamp<="${until}"`);
    assert.deepEqual(
      pubsub.calls.map((c) => `${c.kind} ${c.path}`),
      [`pubsub.getIamPolicy /v1/${TOPIC}:getIamPolicy`, `pubsub.getIamPolicy /v1/${TOPIC}:getIamPolicy`],
    );
    const tests = rm.calls.filter((c) => c.kind === 'resourcemanager.testIamPermissions');
    assert.deepEqual(tests.map((c) => c.path).sort(), [
      '/v3/projects/orbit-dev:testIamPermissions',
      '/v3/projects/orbit-prod:testIamPermissions',
    ]);
    for (const call of tests) assert.deepEqual(call.body, { permissions: [...READ_PERMISSIONS] });
  });

  it('sink missing: says nothing arrives from that project and how to create it', async () => {
    logging.setSink(DEV_SINK, undefined);
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    const missing = byCheck(results, 'sink', 'orbit-dev');
    assert.equal(missing.status, 'failing');
    assert.match(missing.summary, /log sink wi-sentinel-audit of project orbit-dev does not exist/);
    assert.deepEqual(commandsOf(missing), [
      `gcloud logging sinks create wi-sentinel-audit pubsub.googleapis.com/${TOPIC} --project=orbit-dev --log-filter="$(npx wi-sentinel sink-filter)"`,
      `gcloud pubsub topics add-iam-policy-binding wi-sentinel-audit --project=${HOST} --member="$(gcloud logging sinks describe wi-sentinel-audit --project=orbit-dev --format='value(writerIdentity)')" --role=roles/pubsub.publisher`,
    ]);
    // Nothing to judge the filter or writer of: no result for them, no incident changes.
    assert.equal(
      results.filter((r) => r.project === 'orbit-dev' && !['sink', 'permissions', 'metric'].includes(r.check))
        .length,
      0,
    );
    othersHealthy(results, ['sink', 'orbit-dev']);
  });

  it('sink disabled: names it and re-enables it through sinks.patch', async () => {
    logging.setSink(PROD_SINK, sink(PROD_WRITER, { disabled: true }));
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    const disabled = byCheck(results, 'sink', 'orbit-prod');
    assert.equal(disabled.status, 'failing');
    assert.match(
      disabled.summary,
      /wi-sentinel-audit of project orbit-prod: it is disabled, so it routes nothing/,
    );
    assert.equal(commandsOf(disabled).length, 1);
    assert.match(
      commandsOf(disabled)[0] ?? '',
      /^curl .*-d '\{"disabled": false\}' "https:\/\/logging\.googleapis\.com\/v2\/projects\/orbit-prod\/sinks\/wi-sentinel-audit\?updateMask=disabled"$/,
    );
    othersHealthy(results, ['sink', 'orbit-prod']);
  });

  it('sink routed elsewhere, with an exclusion: each problem and its repair', async () => {
    logging.setSink(
      PROD_SINK,
      sink(PROD_WRITER, {
        destination: 'pubsub.googleapis.com/projects/orbit-ops/topics/old-audit',
        exclusions: [
          { name: 'no-k8s', filter: 'protoPayload.serviceName="k8s.io"' },
          { name: 'off', filter: 'severity<INFO', disabled: true },
        ],
      }),
    );
    const result = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'sink', 'orbit-prod');
    assert.equal(result.status, 'failing');
    assert.match(
      result.summary,
      /routes to pubsub\.googleapis\.com\/projects\/orbit-ops\/topics\/old-audit, not/,
    );
    assert.match(result.summary, /exclusion no-k8s drops entries before they are routed/);
    assert.doesNotMatch(result.summary, /\boff\b/, 'a disabled exclusion drops nothing');
    assert.deepEqual(commandsOf(result), [
      `gcloud logging sinks update wi-sentinel-audit pubsub.googleapis.com/${TOPIC} --project=orbit-prod`,
      'gcloud logging sinks update wi-sentinel-audit --project=orbit-prod --remove-exclusions=no-k8s',
    ]);
  });

  it('an organization sink must include its children; its results are filed under the topic’s project', async () => {
    const orgSink = 'organizations/123456789012/sinks/wi-sentinel-audit';
    logging.setSink(orgSink, sink(PROD_WRITER, { includeChildren: false }));
    const results = await selfCheck(ports, { ...TARGET, sinks: [orgSink] }, EVIDENCE);
    const result = byCheck(results, 'sink', HOST);
    assert.equal(result.status, 'failing');
    assert.match(result.summary, /organization 123456789012: it does not include children/);
    assert.deepEqual(commandsOf(result), [
      'gcloud logging sinks update wi-sentinel-audit --organization=123456789012 --include-children',
    ]);
    assert.equal(byCheck(results, 'sink-writer', HOST).status, 'healthy');
    assert.deepEqual(
      logging.calls.filter((c) => c.kind === 'logging.getSink').map((c) => c.path),
      [`/v2/${orgSink}`],
    );
  });

  it('filter drifted: names the watched methods it no longer routes and restores the generated one', async () => {
    const drifted = auditSinkFilter()
      .replace('"google.iam.admin.v1.DeleteServiceAccount" OR', '')
      .replace('"google.iam.admin.v1.DisableServiceAccount" OR', '');
    logging.setSink(PROD_SINK, sink(PROD_WRITER, { filter: drifted }));
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    const result = byCheck(results, 'sink-filter', 'orbit-prod');
    assert.equal(result.status, 'failing');
    assert.match(
      result.summary,
      /other than the generated one: entries of 2 watched methods never reach wi-sentinel \(google\.iam\.admin\.v1\.DeleteServiceAccount, google\.iam\.admin\.v1\.DisableServiceAccount\)/,
    );
    assert.deepEqual(commandsOf(result), [
      'gcloud logging sinks update wi-sentinel-audit --project=orbit-prod --log-filter="$(npx wi-sentinel sink-filter)"',
    ]);
    othersHealthy(results, ['sink-filter', 'orbit-prod']);
  });

  it('filter changed elsewhere (every method still named): still drift', async () => {
    const narrowed = auditSinkFilter().replace(
      'logName:"/logs/cloudaudit.googleapis.com%2Factivity"',
      'logName:"/logs/cloudaudit.googleapis.com%2Factivity" AND severity>=ERROR',
    );
    logging.setSink(DEV_SINK, sink(DEV_WRITER, { filter: narrowed }));
    const result = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'sink-filter', 'orbit-dev');
    assert.equal(result.status, 'failing');
    assert.match(result.summary, /names every watched method, but what else it says differs/);
  });

  it('writer identity without publish on the topic: the grant that repairs it', async () => {
    pubsub.setTopic(TOPIC, {
      bindings: [
        { role: 'roles/pubsub.publisher', members: [PROD_WRITER] },
        { role: 'roles/pubsub.viewer', members: [DEV_WRITER] },
      ],
    });
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    const result = byCheck(results, 'sink-writer', 'orbit-dev');
    assert.equal(result.status, 'failing');
    assert.match(
      result.summary,
      /^serviceAccount:service-731604599999@gcp-sa-logging\.iam\.gserviceaccount\.com, the writer identity of log sink wi-sentinel-audit of project orbit-dev, may not publish to projects\/orbit-ops\/topics\/wi-sentinel-audit: Log Router drops every entry it routes$/,
    );
    assert.deepEqual(commandsOf(result), [
      `gcloud pubsub topics add-iam-policy-binding wi-sentinel-audit --project=${HOST} --member=${DEV_WRITER} --role=roles/pubsub.publisher`,
    ]);
    assert.ok(
      rm.calls.some((c) => c.path === `/v3/projects/${HOST}:getIamPolicy`),
      'a grant on the topic’s project was looked for',
    );
    othersHealthy(results, ['sink-writer', 'orbit-dev']);
  });

  it('a publishing role on the topic’s project counts; one under a condition does not', async () => {
    pubsub.setTopic(TOPIC, { bindings: [{ role: 'roles/pubsub.publisher', members: [PROD_WRITER] }] });
    rm.setPolicy(HOST, { bindings: [{ role: 'roles/pubsub.publisher', members: [DEV_WRITER] }] });
    const granted = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'sink-writer', 'orbit-dev');
    assert.equal(granted.status, 'healthy');
    assert.match(granted.summary, /granted on project orbit-ops/);

    rm.setPolicy(HOST, {
      bindings: [
        {
          role: 'roles/pubsub.publisher',
          members: [DEV_WRITER],
          condition: { title: 'until', expression: 'request.time < timestamp("2026-12-01T00:00:00Z")' },
        },
      ],
    });
    const conditional = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'sink-writer', 'orbit-dev');
    assert.equal(conditional.status, 'failing');
    assert.match(conditional.summary, /its grant on project orbit-ops holds only under a condition/);
  });

  it('topic missing: create it, then grant', async () => {
    pubsub.setTopic(TOPIC, undefined);
    const result = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'sink-writer', 'orbit-prod');
    assert.equal(result.status, 'failing');
    assert.match(result.summary, /topic projects\/orbit-ops\/topics\/wi-sentinel-audit does not exist/);
    assert.deepEqual(commandsOf(result), [
      `gcloud pubsub topics create wi-sentinel-audit --project=${HOST}`,
      `gcloud pubsub topics add-iam-policy-binding wi-sentinel-audit --project=${HOST} --member=${PROD_WRITER} --role=roles/pubsub.publisher`,
    ]);
  });

  it('permissions missing: names each one and the roles that hold them', async () => {
    rm.setGranted(
      'orbit-prod',
      READ_PERMISSIONS.filter((p) => p !== 'container.pods.list' && p !== 'iam.serviceAccounts.getIamPolicy'),
    );
    rm.setGranted('orbit-dev', undefined);
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    const prod = byCheck(results, 'permissions', 'orbit-prod');
    assert.equal(prod.status, 'failing');
    assert.match(
      prod.summary,
      /^wi-sentinel lacks container\.pods\.list, iam\.serviceAccounts\.getIamPolicy on project orbit-prod: what needs them is not watched there$/,
    );
    assert.deepEqual(commandsOf(prod), [
      'terraform apply',
      `gcloud projects add-iam-policy-binding orbit-prod --member=serviceAccount:${IDENTITY} --role=roles/container.viewer`,
      `gcloud projects add-iam-policy-binding orbit-prod --member=serviceAccount:${IDENTITY} --role=roles/iam.securityReviewer`,
    ]);
    const dev = byCheck(results, 'permissions', 'orbit-dev');
    assert.equal(dev.status, 'failing');
    assert.match(dev.summary, /holds no permission on project orbit-dev \(or it does not exist\)/);
    othersHealthy(results, ['permissions', 'orbit-prod'], ['permissions', 'orbit-dev']);
  });

  it('a read refused to wi-sentinel is a failing check naming the permission; without its identity, the module re-applied', async () => {
    logging.fault({ match: `GET /v2/${PROD_SINK}`, status: 403 });
    pubsub.fault({ match: ':getIamPolicy', status: 403 });
    const { identity: _unknown, ...anonymous } = TARGET;
    const results = await selfCheck(ports, anonymous, EVIDENCE);
    const sinkResult = byCheck(results, 'sink', 'orbit-prod');
    assert.equal(sinkResult.status, 'failing');
    assert.match(
      sinkResult.summary,
      /^wi-sentinel cannot read log sink wi-sentinel-audit of project orbit-prod: it lacks logging\.sinks\.get \(logging answered 403\)$/,
    );
    assert.deepEqual(commandsOf(sinkResult), ['terraform apply']);
    const writer = byCheck(results, 'sink-writer', 'orbit-dev');
    assert.match(writer.summary, /lacks pubsub\.topics\.getIamPolicy \(pubsub answered 403\)/);
    for (const result of results) assert.doesNotMatch(JSON.stringify(result), /ya29/, 'no token in results');
  });

  it('a transient failure leaves the check unknown (its incident stays as it is)', async () => {
    logging.fault({ match: `GET /v2/${DEV_SINK}`, status: 503 });
    rm.fault({ match: 'orbit-prod:testIamPermissions', status: 500 });
    const results = await selfCheck(ports, TARGET, EVIDENCE);
    const dev = byCheck(results, 'sink', 'orbit-dev');
    assert.equal(dev.status, 'unknown');
    assert.match(dev.summary, /could not read log sink wi-sentinel-audit of project orbit-dev: .*503/);
    assert.equal(byCheck(results, 'permissions', 'orbit-prod').status, 'unknown');
    assert.equal(
      logging.calls.filter((c) => c.path === `/v2/${DEV_SINK}`).length,
      2,
      'retried within the policy, then given up',
    );
  });

  describe('deliveries', () => {
    it('stale: a watched change older than the grace period never arrived', async () => {
      logging.setEntries([
        entryAt('gsa-binding-removed', '2026-11-28T08:59:00.000Z'),
        // Failed requests pass the sink filter but the pipeline ignores them: not a missed delivery.
        entryAt('nodepool-update-denied', '2026-11-28T10:00:00.000Z'),
        // A change that breaks nothing is acknowledged without touching the store: not noted either.
        entryAt('nodepool-image-update', '2026-11-28T10:10:00.000Z'),
        entryAt('gsa-deleted', '2026-11-28T10:30:00.000Z'),
        entryAt('nodepool-gce-metadata', '2026-11-28T11:00:00.000Z'),
        entryAt('ksa-annotation-removed', minutesBefore(5)),
      ]);
      const results = await selfCheck(ports, TARGET, EVIDENCE);
      const result = byCheck(results, 'deliveries', HOST);
      assert.equal(result.status, 'failing');
      assert.match(
        result.summary,
        /^2 watched changes written since the last delivery at 2026-11-28T09:00:00\.000Z did not reach wi-sentinel within 30 min, the first google\.iam\.admin\.v1\.DeleteServiceAccount by .+ at 2026-11-28T10:30:00\.000Z in orbit-prod: alerts wait for the next sweep until deliveries resume$/,
      );
      assert.deepEqual(commandsOf(result), [
        `gcloud pubsub topics list-subscriptions wi-sentinel-audit --project=${HOST}`,
        `gcloud logging read 'resource.type="cloud_run_revision" AND severity>=ERROR' --project=${HOST} --freshness=6h --limit=20`,
      ]);
      othersHealthy(results, ['deliveries', HOST]);
    });

    it('a quiet organization is healthy: no change since the last delivery', async () => {
      logging.setEntries([entryAt('gsa-binding-removed', '2026-11-28T08:00:00.000Z')]);
      const result = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'deliveries', HOST);
      assert.equal(result.status, 'healthy');
      assert.match(result.summary, /every watched change older than 30 min arrived/);
    });

    it('never delivered: counted from the previous sweep, not from before wi-sentinel was installed', async () => {
      logging.setEntries([
        entryAt('gsa-binding-removed', '2026-11-20T08:00:00.000Z'),
        entryAt('gsa-disabled', '2026-11-28T10:30:00.000Z'),
      ]);
      const firstSweep = byCheck(await selfCheck(ports, TARGET, { now: NOW }), 'deliveries', HOST);
      assert.equal(firstSweep.status, 'unknown');
      assert.equal(logging.calls.filter((c) => c.kind === 'logging.listEntries').length, 0);

      const later = byCheck(
        await selfCheck(ports, TARGET, { now: NOW, watchingSince: '2026-11-28T10:00:00.000Z' }),
        'deliveries',
        HOST,
      );
      assert.equal(later.status, 'failing');
      assert.match(
        later.summary,
        /^1 watched change written since 2026-11-28T10:00:00\.000Z .* the first google\.iam\.admin\.v1\.DisableServiceAccount/,
      );
    });

    it('a recent delivery: nothing can be overdue, Logging is not asked', async () => {
      const result = byCheck(
        await selfCheck(ports, TARGET, { now: NOW, lastDelivery: minutesBefore(20) }),
        'deliveries',
        HOST,
      );
      assert.equal(result.status, 'healthy');
      assert.equal(logging.calls.filter((c) => c.kind === 'logging.listEntries').length, 0);
    });

    it('entries.list refused: failing, naming logging.logEntries.list', async () => {
      logging.fault({ match: 'entries:list', status: 403 });
      const result = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'deliveries', HOST);
      assert.equal(result.status, 'failing');
      assert.match(result.summary, /cannot read recent audit entries .*: it lacks logging\.logEntries\.list/);
      assert.ok(
        commandsOf(result).includes(
          `gcloud projects add-iam-policy-binding orbit-prod --member=serviceAccount:${IDENTITY} --role=roles/logging.viewer`,
        ),
      );
    });
  });

  describe('the metadata-server metric (item 9: an alert on a metric that does not exist never fires)', () => {
    it('absent in one watched project: failing, saying the alert can never fire and how to look', async () => {
      monitoring.setDescriptors('orbit-dev', []);
      const results = await selfCheck(ports, TARGET, EVIDENCE);
      const absent = byCheck(results, 'metric', 'orbit-dev');
      assert.equal(absent.status, 'failing');
      assert.equal(
        absent.summary,
        `the metadata-server alert can never fire: metric ${METADATA_SERVER_METRIC} does not exist in project orbit-dev, and Monitoring evaluates a condition on a missing metric to nothing`,
      );
      assert.match(commandsOf(absent)[0] ?? '', /v3\/projects\/orbit-dev\/metricDescriptors\?filter=/);
      assert.equal(commandsOf(absent)[1], 'npx node test/infra/generated.ts && terraform apply');
      othersHealthy(results, ['metric', 'orbit-dev']);
    });

    it('present without the label the condition selects errors by: failing too', async () => {
      monitoring.setDescriptors('orbit-prod', [{ type: METADATA_SERVER_METRIC, labels: ['method', 'code'] }]);
      const result = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'metric', 'orbit-prod');
      assert.equal(result.status, 'failing');
      assert.match(result.summary, /has no label response_code \(it has method, code\)/);
    });

    it('refused to wi-sentinel: failing, naming monitoring.metricDescriptors.get; unavailable: unknown', async () => {
      monitoring.setDescriptors('orbit-prod', undefined);
      const refused = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'metric', 'orbit-prod');
      assert.equal(refused.status, 'failing');
      assert.match(refused.summary, /it lacks monitoring\.metricDescriptors\.get/);
      assert.ok(
        commandsOf(refused).includes(
          `gcloud projects add-iam-policy-binding orbit-prod --member=serviceAccount:${IDENTITY} --role=roles/monitoring.viewer`,
        ),
      );
      monitoring.setDescriptors('orbit-prod', [METRIC]);
      monitoring.fault({ match: 'orbit-prod/metricDescriptors', status: 503 });
      const transient = byCheck(await selfCheck(ports, TARGET, EVIDENCE), 'metric', 'orbit-prod');
      assert.equal(transient.status, 'unknown');
    });

    it('without a metrics port the check does not run', async () => {
      const { metrics: _, ...withoutMetrics } = ports;
      const results = await selfCheck(withoutMetrics, TARGET, EVIDENCE);
      assert.equal(results.filter((r) => r.check === 'metric').length, 0);
    });
  });

  describe('the workload sink, where one is deployed (WI_WORKLOAD_SINK)', () => {
    const WORKLOAD = 'projects/orbit-prod/sinks/wi-sentinel-workload';
    const workloadFilter = workloadSinkFilter();
    const withWorkload = { ...TARGET, workload: { sinks: [WORKLOAD], filter: workloadFilter } };

    it('checked like the audit sink, against the workload filter', async () => {
      logging.setSink(WORKLOAD, sink(PROD_WRITER, { filter: workloadFilter }));
      const results = await selfCheck(ports, withWorkload, EVIDENCE);
      assert.deepEqual(
        results
          .filter((r) => r.project === 'orbit-prod' && r.check.startsWith('sink'))
          .map((r) => `${r.check} ${r.status}`),
        [
          'sink healthy',
          'sink-filter healthy',
          'sink-writer healthy',
          'sink healthy',
          'sink-filter healthy',
          'sink-writer healthy',
        ],
      );
      assert.ok(logging.calls.some((c) => c.path === `/v2/${WORKLOAD}`));
    });

    it('missing, or with another filter: repaired with the workload filter', async () => {
      logging.setSink(WORKLOAD, undefined);
      const missing = (await selfCheck(ports, withWorkload, EVIDENCE)).filter(
        (r) => r.check === 'sink' && r.status === 'failing',
      );
      assert.equal(missing.length, 1);
      assert.match(
        missing[0]?.summary ?? '',
        /wi-sentinel-workload of project orbit-prod does not exist: no workload credential failure reaches/,
      );
      assert.match(
        commandsOf(missing[0] as CheckResult)[0] ?? '',
        /--log-filter="\$\(npx wi-sentinel sink-filter --sink workload\)"/,
      );

      logging.setSink(WORKLOAD, sink(PROD_WRITER, { filter: auditSinkFilter() }));
      const drifted = (await selfCheck(ports, withWorkload, EVIDENCE)).filter(
        (r) => r.check === 'sink-filter' && r.status === 'failing',
      );
      assert.equal(drifted.length, 1);
      assert.match(
        drifted[0]?.summary ?? '',
        /other than the generated one: workload credential failures it does not match/,
      );
      assert.deepEqual(commandsOf(drifted[0] as CheckResult), [
        'gcloud logging sinks update wi-sentinel-workload --project=orbit-prod --log-filter="$(npx wi-sentinel sink-filter --sink workload)"',
      ]);
    });
  });

  it('looking as a person (doctor): a refused read could not be checked, and says what that person lacks', async () => {
    pubsub.fault({ match: ':getIamPolicy', status: 403 });
    const results = await selfCheck(ports, { ...TARGET, lookingAs: 'operator' }, EVIDENCE);
    const writer = byCheck(results, 'sink-writer', 'orbit-prod');
    assert.equal(writer.status, 'unknown');
    assert.match(
      writer.summary,
      /could not read the IAM policy of topic .*: you lack pubsub\.topics\.getIamPolicy \(pubsub answered 403\)/,
    );
    assert.equal(writer.remediation, undefined);
  });
});
