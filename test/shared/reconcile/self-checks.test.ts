import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createAlerting } from '../../../shared/alerting/alerting.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import { auditSinkFilter } from '../../../shared/events/sink-filter.ts';
import { READ_PERMISSIONS } from '../../../shared/gcp/permissions.ts';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../../shared/incidents/store.ts';
import { createLogger } from '../../../shared/log.ts';
import { createPagerDutySender } from '../../../shared/notify/pagerduty.ts';
import { dedupKey, locationOf, toPagerDutyEvent } from '../../../shared/notify/pagerduty-render.ts';
import { defaultRouting } from '../../../shared/notify/routing.ts';
import { createSlackSender } from '../../../shared/notify/slack.ts';
import { toSlackMessage } from '../../../shared/notify/slack-render.ts';
import { renderIncidentText } from '../../../shared/notify/terminal.ts';
import { createSelfCheckPorts } from '../../../shared/reconcile/check-adapters.ts';
import type { CheckResult, SelfCheckPorts } from '../../../shared/reconcile/checks.ts';
import { findingsOf, runSelfChecks } from '../../../shared/reconcile/self-checks.ts';
import { type FakeLogging, startFakeLogging } from '../../fakes/logging.ts';
import { type FakePagerDuty, startFakePagerDuty } from '../../fakes/pagerduty.ts';
import { type FakePermissions, startFakePermissions } from '../../fakes/permissions.ts';
import { type FakePubsubIam, startFakePubsubIam } from '../../fakes/pubsub-iam.ts';
import { type FakeSlack, startFakeSlack } from '../../fakes/slack.ts';
import { loadSnapshot } from '../../support/snapshots.ts';
import { checkContract } from '../detect/cases/case.ts';

const TOKEN = 'ya29.self-check-token-for-tests-only';
const SLACK_TOKEN = 'xoxb-1111-2222-secretsecretsecret';
const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';
const HOST = 'orbit-ops';
const TOPIC = `projects/${HOST}/topics/wi-sentinel-audit`;
const SINK = 'projects/orbit-prod/sinks/wi-sentinel-audit';
const WRITER = 'serviceAccount:service-731604512345@gcp-sa-logging.iam.gserviceaccount.com';
const TARGET = {
  sinks: [SINK],
  topic: TOPIC,
  projects: ['orbit-prod'],
  filter: auditSinkFilter(),
  identity: 'wi-sentinel-reconcile@orbit-ops.iam.gserviceaccount.com',
};
const NOW = new Date('2026-11-28T12:00:00.000Z');

describe('findingsOf: one sentinel-degraded finding per check and project', () => {
  const result = (status: CheckResult['status'], summary: string, project = HOST): CheckResult => ({
    check: 'sink',
    project,
    status,
    summary,
    ...(status === 'failing'
      ? { remediation: [{ title: `repair ${summary}`, command: `fix ${summary}` }] }
      : {}),
  });

  it('fires for a failing check, resolves a healthy one, says nothing of an unknown one', () => {
    const findings = findingsOf([
      result('failing', 'a is broken', 'orbit-prod'),
      result('healthy', 'b is fine', 'orbit-dev'),
      result('unknown', 'c could not be read', 'orbit-test'),
    ]);
    assert.deepEqual(
      findings.map((f) => `${f.status} ${f.fingerprint} ${f.severity}`),
      ['firing sentinel-degraded/orbit-prod/sink error', 'resolved sentinel-degraded/orbit-dev/sink error'],
    );
    for (const finding of findings) checkContract(finding);
  });

  it('results sharing a fingerprint fire together when any fails, and resolve only when all pass', () => {
    const [firing] = findingsOf([
      result('healthy', 'org sink fine'),
      result('failing', 'folder sink disabled'),
    ]);
    assert.equal(firing?.status, 'firing');
    assert.equal(firing?.summary, 'folder sink disabled');
    assert.deepEqual(firing?.remediation, [
      { title: 'repair folder sink disabled', command: 'fix folder sink disabled' },
    ]);
    assert.deepEqual(findingsOf([result('healthy', 'one'), result('unknown', 'two')]), []);
    assert.equal(findingsOf([result('healthy', 'one'), result('healthy', 'two')])[0]?.summary, 'one; two');
  });
});

describe('runSelfChecks through alerting: a degraded sentinel pages like any break, and resolves when repaired', () => {
  let logging: FakeLogging;
  let pubsub: FakePubsubIam;
  let rm: FakePermissions;
  let slack: FakeSlack;
  let pd: FakePagerDuty;
  let ports: SelfCheckPorts;
  let store: IncidentStore;
  let lines: string[];
  let alerting: ReturnType<typeof createAlerting>;

  before(async () => {
    [logging, pubsub, rm, slack, pd] = await Promise.all([
      startFakeLogging({ token: TOKEN }),
      startFakePubsubIam({ token: TOKEN }),
      startFakePermissions({ token: TOKEN }),
      startFakeSlack({ token: SLACK_TOKEN }),
      startFakePagerDuty(),
    ]);
    ports = createSelfCheckPorts({
      tokens: async () => TOKEN,
      loggingUrl: logging.url,
      pubsubUrl: pubsub.url,
      resourceManagerUrl: rm.url,
      retry: { maxAttempts: 1, baseDelayMs: 5, maxDelayMs: 10, deadlineMs: 1_000 },
    });
  });
  after(async () => {
    await Promise.all([logging, pubsub, rm, slack, pd].map((fake) => fake.stop()));
  });
  beforeEach(async () => {
    logging.setSink(SINK, {
      destination: `pubsub.googleapis.com/${TOPIC}`,
      filter: auditSinkFilter(),
      writerIdentity: WRITER,
    });
    logging.setEntries([]);
    logging.clearFaults();
    pubsub.setTopic(TOPIC, { bindings: [{ role: 'roles/pubsub.publisher', members: [WRITER] }] });
    rm.setGranted('orbit-prod', [...READ_PERMISSIONS]);
    rm.setPolicy(HOST, { bindings: [] });
    slack.calls.length = 0;
    slack.messages.length = 0;
    pd.events.length = 0;
    store = createMemoryStore();
    await store.saveInventory(loadSnapshot(), {
      sweptAt: '2026-11-28T11:00:00.000Z',
      projects: ['orbit-prod'],
      problems: [],
    });
    await store.noteDelivery('2026-11-28T11:50:00.000Z');
    lines = [];
    const logger = createLogger((line) => lines.push(line));
    alerting = createAlerting({
      store,
      senders: {
        slack: createSlackSender({
          token: SLACK_TOKEN,
          apiUrl: slack.url,
          timeoutMs: 500,
          backoffMs: 10,
          logger,
        }),
        pagerduty: createPagerDutySender({ url: pd.url, timeoutMs: 500, backoffMs: 10, logger }),
      },
      routing: defaultRouting({ slackChannel: '#wi-alerts', pagerdutyRoutingKey: ROUTING_KEY }),
      logger,
    });
  });

  const check = () =>
    runSelfChecks(ports, {
      target: TARGET,
      store,
      now: () => NOW,
      logger: createLogger((line) => lines.push(line)),
    });
  const firing = (findings: Finding[]) => findings.filter((f) => f.status === 'firing');

  it('healthy: every check resolves (nothing to open), nothing is sent', async () => {
    const findings = await check();
    assert.deepEqual(
      findings.map((f) => `${f.status} ${f.fingerprint}`),
      [
        'resolved sentinel-degraded/orbit-prod/sink',
        'resolved sentinel-degraded/orbit-prod/sink-filter',
        'resolved sentinel-degraded/orbit-prod/sink-writer',
        'resolved sentinel-degraded/orbit-prod/permissions',
        `resolved sentinel-degraded/${HOST}/deliveries`,
      ],
    );
    const { incidents } = await alerting.applyFindings(findings, 'sweep:healthy');
    assert.deepEqual(incidents, []);
    assert.equal(slack.calls.length + pd.events.length, 0);
  });

  it('the writer loses publish: one page, one Slack message; restored: resolved in place', async () => {
    pubsub.setTopic(TOPIC, { bindings: [] });
    const broken = await check();
    assert.deepEqual(
      firing(broken).map((f) => f.fingerprint),
      ['sentinel-degraded/orbit-prod/sink-writer'],
    );
    for (const finding of broken) checkContract(finding);
    const opened = await alerting.applyFindings(broken, 'sweep:1');
    assert.deepEqual(
      opened.incidents.map((i) => `${i.transition} ${i.incident.fingerprint}`),
      ['opened sentinel-degraded/orbit-prod/sink-writer'],
    );
    const incident = opened.incidents[0]?.incident;
    assert.ok(incident);

    // What people receive: Slack names the problem and the grant, PagerDuty pages as an error.
    const [post] = slack.messages;
    assert.match(post?.text ?? '', /wi-sentinel cannot watch everything/);
    assert.match(
      JSON.stringify(post?.blocks),
      /gcloud pubsub topics add-iam-policy-binding wi-sentinel-audit/,
    );
    const [trigger] = pd.events.map(
      (e) => e.body as { event_action: string; payload: Record<string, unknown> },
    );
    assert.equal(trigger?.event_action, 'trigger');
    assert.equal(trigger?.payload.severity, 'error');
    assert.equal(trigger?.payload.class, 'sentinel-degraded');
    assert.equal(trigger?.payload.component, 'sink-writer');
    assert.equal(trigger?.payload.source, 'projects/orbit-prod');
    assert.deepEqual(locationOf(incident.finding), {
      source: 'projects/orbit-prod',
      component: 'sink-writer',
    });
    assert.match(
      renderIncidentText(incident, 'opened'),
      /ERROR sentinel-degraded · opened[\s\S]*may not publish/,
    );
    assert.match(
      JSON.stringify(toSlackMessage(incident).blocks[0]),
      /Firing: wi-sentinel cannot watch everything \(error\)/,
    );
    const rendered = toPagerDutyEvent(incident, ROUTING_KEY, 'trigger');
    assert.equal(rendered.payload.class, 'sentinel-degraded');
    assert.equal(rendered.dedup_key, dedupKey('sentinel-degraded/orbit-prod/sink-writer'));

    // The same failure at the next sweep is no news.
    const again = await alerting.applyFindings(await check(), 'sweep:2', undefined, { quietRepeats: true });
    assert.deepEqual(
      again.incidents.map((i) => i.transition ?? 'none'),
      ['none'],
    );
    assert.equal(pd.events.length, 1);

    pubsub.setTopic(TOPIC, { bindings: [{ role: 'roles/pubsub.publisher', members: [WRITER] }] });
    const repaired = await alerting.applyFindings(await check(), 'sweep:3');
    assert.deepEqual(
      repaired.incidents.map((i) => `${i.transition} ${i.incident.fingerprint}`),
      ['resolved sentinel-degraded/orbit-prod/sink-writer'],
    );
    assert.deepEqual(await store.listOpen(), []);
    assert.deepEqual(
      pd.events.map((e) => (e.body as { event_action: string }).event_action),
      ['trigger', 'resolve'],
    );
    assert.equal(slack.messages.filter((m) => !m.thread_ts).length, 1, 'the same message, edited');
  });

  it('each failing check is its own incident; a check that could not run leaves its incident open', async () => {
    rm.setGranted(
      'orbit-prod',
      READ_PERMISSIONS.filter((p) => p !== 'container.pods.list'),
    );
    logging.setSink(SINK, {
      destination: `pubsub.googleapis.com/${TOPIC}`,
      filter: auditSinkFilter(),
      writerIdentity: WRITER,
      disabled: true,
    });
    const opened = await alerting.applyFindings(await check(), 'sweep:1');
    assert.deepEqual(opened.incidents.map((i) => `${i.transition} ${i.incident.fingerprint}`).sort(), [
      'opened sentinel-degraded/orbit-prod/permissions',
      'opened sentinel-degraded/orbit-prod/sink',
    ]);

    // Next sweep: permissions repaired, but the sink cannot be read (Logging unavailable).
    rm.setGranted('orbit-prod', [...READ_PERMISSIONS]);
    logging.fault({ match: `/v2/${SINK}`, status: 503 });
    const findings = await check();
    assert.equal(
      findings.some((f) => f.fingerprint === 'sentinel-degraded/orbit-prod/sink'),
      false,
    );
    await alerting.applyFindings(findings, 'sweep:2');
    assert.deepEqual(
      (await store.listOpen()).map((i) => i.fingerprint),
      ['sentinel-degraded/orbit-prod/sink'],
    );
    const warning = lines.map((line) => JSON.parse(line)).find((l) => /did not run/.test(l.message));
    assert.equal(warning?.severity, 'WARNING');
    assert.match(
      warning?.message,
      /self-check sink of orbit-prod did not run: could not read log sink .*503/,
    );
  });

  it('deliveries: counted from the store’s last note; none ever noted, from the previous sweep', async () => {
    const missed = {
      ...JSON.parse(JSON.stringify(loadEntry())),
      timestamp: '2026-11-28T11:20:00.000Z',
    };
    logging.setEntries([missed]);
    // Noted at 11:50: the 11:20 change was delivered before it.
    assert.equal(firing(await check()).length, 0);

    store = createMemoryStore();
    await store.saveInventory(loadSnapshot(), {
      sweptAt: '2026-11-28T11:00:00.000Z',
      projects: [],
      problems: [],
    });
    const [stale] = firing(await check());
    assert.equal(stale?.fingerprint, `sentinel-degraded/${HOST}/deliveries`);
    assert.match(
      stale?.summary ?? '',
      /^1 watched change written since 2026-11-28T11:00:00\.000Z did not reach/,
    );
  });
});

function loadEntry(): unknown {
  // A GSA disabled in orbit-prod: an entry the sink filter matches and the pipeline acts on.
  return {
    logName: 'projects/orbit-prod/logs/cloudaudit.googleapis.com%2Factivity',
    insertId: 'self-check-1',
    resource: { type: 'service_account', labels: { project_id: 'orbit-prod' } },
    protoPayload: {
      '@type': 'type.googleapis.com/google.cloud.audit.AuditLog',
      serviceName: 'iam.googleapis.com',
      methodName: 'google.iam.admin.v1.DisableServiceAccount',
      resourceName: 'projects/-/serviceAccounts/104200000000000000011',
      authenticationInfo: { principalEmail: 'erin@example.org' },
      request: {
        '@type': 'type.googleapis.com/google.iam.admin.v1.DisableServiceAccountRequest',
        name: 'projects/orbit-prod/serviceAccounts/cart@orbit-prod.iam.gserviceaccount.com',
      },
    },
  };
}
