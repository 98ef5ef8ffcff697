import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { destinationKey, parseRouting, route } from '../../../shared/notify/routing.ts';
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
