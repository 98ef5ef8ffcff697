import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { withinHours } from '../../../shared/incidents/plans.ts';
import { destinationKey, parseRouting, route, routeIncident } from '../../../shared/notify/routing.ts';
import { bindingFinding } from '../../support/findings.ts';

const KEY_A = 'a'.repeat(32);
const KEY_B = 'b'.repeat(32);
const env = { PD_PAYMENTS: KEY_A, PD_PLATFORM: KEY_B };

const FILE = `
routes:
  - match: { namespace: checkout, severity: [critical, error] }
    slack: "#checkout-oncall"
    pagerduty: { routingKeyEnv: PD_PAYMENTS }
    continue: true
  - match: { cluster: "edge-*" }
    slack: { channel: "#edge" }
  - match: { kind: gsa-broad-role }
    slack: "#iam-hygiene"
`;

const routing = parseRouting(FILE, {
  env,
  defaults: { slackChannel: '#wi-alerts', pagerdutyRoutingKey: KEY_B },
});
const names = (destinations: ReturnType<typeof route>) => destinations.map(destinationKey);

describe('routing', () => {
  test('planned changes: the routing file’s form, and a planned incident pages nobody until breached', () => {
    const planned = parseRouting(
      `
plannedChanges:
  - match: { actor: "deployer@acme-ops.iam.gserviceaccount.com", tool: terraform }
    hours: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "18:00", timeZone: Europe/Berlin }
    reason: CI deploys from platform-infra during business hours
`,
      { defaults: { slackChannel: '#wi-alerts', pagerdutyRoutingKey: KEY_B } },
    );
    assert.deepEqual(planned.plans, [
      {
        matchers: { actor: 'deployer@acme-ops.iam.gserviceaccount.com', tool: 'terraform' },
        reason: 'CI deploys from platform-infra during business hours',
        hours: {
          days: ['mon', 'tue', 'wed', 'thu', 'fri'],
          from: '08:00',
          to: '18:00',
          timeZone: 'Europe/Berlin',
        },
      },
    ]);
    const finding = bindingFinding();
    const plan = { id: 'routing:0', reason: 'ci', author: 'the routing file' };
    assert.deepEqual(names(routeIncident({ finding, planned: plan }, planned)), ['slack:#wi-alerts']);
    assert.deepEqual(
      names(
        routeIncident(
          { finding, planned: { ...plan, breach: { at: 'x', why: 'failures', since: 'y' } } },
          planned,
        ),
      ),
      ['slack:#wi-alerts', destinationKey({ type: 'pagerduty', routingKey: KEY_B })],
    );
  });

  test('a planned change’s hours, in its time zone, across midnight and weekends', () => {
    const hours = {
      days: ['mon', 'tue', 'wed', 'thu', 'fri'] as ('mon' | 'tue' | 'wed' | 'thu' | 'fri')[],
      from: '08:00',
      to: '18:00',
      timeZone: 'Europe/Berlin',
    };
    // 2026-11-27 is a Friday; Berlin is UTC+1 in November.
    assert.equal(withinHours(hours, new Date('2026-11-27T07:30:00Z')), true, '08:30 in Berlin');
    assert.equal(withinHours(hours, new Date('2026-11-27T06:59:00Z')), false, '07:59 in Berlin');
    assert.equal(
      withinHours(hours, new Date('2026-11-27T17:00:00Z')),
      false,
      '18:00 in Berlin: the end is excluded',
    );
    assert.equal(withinHours(hours, new Date('2026-11-28T10:00:00Z')), false, 'Saturday');
    const night = { days: ['fri'] as 'fri'[], from: '22:00', to: '04:00' };
    assert.equal(withinHours(night, new Date('2026-11-27T23:00:00Z')), true, 'Friday night');
    assert.equal(withinHours(night, new Date('2026-11-28T03:00:00Z')), true, 'the small hours after Friday');
    assert.equal(
      withinHours(night, new Date('2026-11-29T03:00:00Z')),
      false,
      'the small hours after Saturday',
    );
  });

  test('first match, plus the ones after it with continue', () => {
    const finding = bindingFinding({
      workloads: [{ cluster: 'edge-1', namespace: 'checkout', kind: 'Deployment', name: 'cart' }],
    });
    assert.deepEqual(names(route(finding, routing)), [
      'slack:#checkout-oncall',
      destinationKey({ type: 'pagerduty', routingKey: KEY_A }),
      'slack:#edge',
    ]);
  });

  test('nothing matched: the defaults', () => {
    const finding = bindingFinding({
      ksas: [],
      workloads: [{ cluster: 'core-1', namespace: 'search', kind: 'Deployment', name: 'q' }],
    });
    assert.deepEqual(names(route(finding, routing)), [
      'slack:#wi-alerts',
      destinationKey({ type: 'pagerduty', routingKey: KEY_B }),
    ]);
  });

  test('only critical and error page by default; hygiene kinds never', () => {
    const warning = bindingFinding({ severity: 'warning', ksas: [], workloads: [] });
    assert.deepEqual(names(route(warning, routing)), ['slack:#wi-alerts']);
    const hygiene = bindingFinding({ kind: 'gsa-broad-role', severity: 'critical', ksas: [], workloads: [] });
    assert.deepEqual(names(route(hygiene, routing)), ['slack:#iam-hygiene']);
  });

  test('pageSeverities widens or narrows paging', () => {
    const onlyCritical = parseRouting('pageSeverities: [critical]', {
      defaults: { slackChannel: '#x', pagerdutyRoutingKey: KEY_B },
    });
    assert.deepEqual(names(route(bindingFinding({ severity: 'error' }), onlyCritical)), ['slack:#x']);
  });

  test('a destination key never reveals the routing key', () => {
    const key = destinationKey({ type: 'pagerduty', routingKey: KEY_A });
    assert.doesNotMatch(key, /aaaa/);
    assert.match(key, /^pagerduty:[0-9a-f]{12}$/);
  });

  test('JSON files are read too', () => {
    const json = parseRouting(
      JSON.stringify({ routes: [{ match: { project: 'orbit-*' }, slack: '#orbit' }] }),
    );
    assert.deepEqual(names(route(bindingFinding(), json)), ['slack:#orbit']);
  });

  const invalid: [string, string, RegExp][] = [
    [
      'unknown severity',
      'routes: [{ match: { severity: [urgent] }, slack: "#a" }]',
      /routes\.0\.match\.severity/,
    ],
    [
      'no destination',
      'routes: [{ match: { kind: binding-missing } }]',
      /routes\.0: a route needs slack, pagerduty or both/,
    ],
    ['unknown field', 'routes: [{ match: { team: payments }, slack: "#a" }]', /routes\.0\.match: .*team/],
    [
      'key not in the environment',
      'routes: [{ pagerduty: { routingKeyEnv: PD_NOPE } }]',
      /routes\.0\.pagerduty\.routingKeyEnv: PD_NOPE is not set/,
    ],
    [
      'a literal key instead of a variable name',
      'routes: [{ pagerduty: { routingKeyEnv: "abc-123" } }]',
      /routingKeyEnv: must name an environment variable/,
    ],
    [
      // As PAGERDUTY_ROUTING_KEY is refused: otherwise only PagerDuty's 400 says so, and the page is lost.
      'a routing key that is not one, named by its variable and never shown',
      'routes: [{ pagerduty: { routingKeyEnv: PD_SHORT } }]',
      /routes\.0\.pagerduty\.routingKeyEnv: PD_SHORT must be a 32-character Events API v2 routing key$/,
    ],
    [
      'a Slack channel name that Slack cannot have',
      'routes: [{ slack: "#Payments On-Call" }]',
      /routes\.0\.slack: .*must be a Slack channel ID/,
    ],
    ['a channel name over 80 characters', `routes: [{ slack: "#${'a'.repeat(81)}" }]`, /routes\.0\.slack/],
    ['not YAML', 'routes: [ {', /not YAML or JSON/],
    [
      'a planned change without matchers',
      'plannedChanges: [{ match: {}, reason: "ci" }]',
      /plannedChanges\.0\.match: a planned change needs at least one matcher/,
    ],
    [
      'a planned change in an unknown time zone',
      'plannedChanges: [{ match: { actor: "ci@*" }, reason: "ci", hours: { from: "08:00", to: "18:00", timeZone: "Mars/Olympus" } }]',
      /plannedChanges\.0\.hours\.timeZone: is not an IANA time zone/,
    ],
    [
      'a planned change at 25 o’clock',
      'plannedChanges: [{ match: { actor: "ci@*" }, reason: "ci", hours: { from: "25:00", to: "18:00" } }]',
      /plannedChanges\.0\.hours\.from: must be HH:MM/,
    ],
    ['wrong top-level type', 'routes: 3', /routes: /],
  ];
  for (const [name, text, error] of invalid) {
    test(`invalid file: ${name}`, () => {
      assert.throws(
        () => parseRouting(text, { file: 'routes.yaml', env: { ...env, PD_SHORT: 'k3y-t00-sh0rt-s3cr3t' } }),
        (e: Error) => {
          assert.match(e.message, /^routes\.yaml/);
          assert.match(e.message, error);
          assert.doesNotMatch(e.message, /k3y-t00-sh0rt-s3cr3t/);
          return true;
        },
      );
    });
  }

  test('channel IDs and names as Slack has them are taken', () => {
    for (const channel of ['C0123456789', 'G0ABCDEFGH', '#wi-alerts', 'payments_oncall', '#運用-アラート']) {
      assert.doesNotThrow(() => parseRouting(`routes: [{ slack: "${channel}" }]`), channel);
    }
  });
});
