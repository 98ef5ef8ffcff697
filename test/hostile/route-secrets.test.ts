/**
 * A careless routing file (issue 18, failure 6): a PagerDuty key set through `routingKeyEnv` that is
 * not a key, or a Slack channel no channel can be called. Each must stop the function's start-up,
 * naming the variable or field and never the key, as PAGERDUTY_ROUTING_KEY already did; otherwise
 * PagerDuty answers every page on that route with a 400, taken as permanent, and drops it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFunction } from '../support/function-server.ts';
import { FIXTURES } from '../support/paths.ts';

const SHORT_KEY = 'pd-k3y-typ0-s3cr3t';

describe('every secret and channel a route names is checked at start-up', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wi-hostile-routes-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  async function startWith(routes: string, env: Record<string, string> = {}): Promise<string> {
    const file = join(dir, `routes-${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(file, routes);
    const error = await startFunction('auditEvents', {
      env: { WI_SNAPSHOT: join(FIXTURES, 'snapshot.json'), WI_ROUTES: file, ...env },
    }).then(
      async (server) => {
        await server.stop();
        return undefined;
      },
      (e: Error) => e,
    );
    assert.ok(error, 'the function started');
    return error.message;
  }

  test('a routing key through routingKeyEnv that is not one stops start-up, naming the variable', async () => {
    const message = await startWith(
      'routes:\n  - match: { namespace: payments }\n    pagerduty: { routingKeyEnv: PD_PAYMENTS }\n',
      { PD_PAYMENTS: SHORT_KEY },
    );
    assert.match(
      message,
      /routes\.0\.pagerduty\.routingKeyEnv: PD_PAYMENTS must be a 32-character Events API v2 routing key/,
    );
    assert.ok(!message.includes(SHORT_KEY), 'the key never shows');
  });

  test('a Slack channel name Slack cannot have stops start-up, naming the field', async () => {
    const message = await startWith(
      'routes:\n  - match: { namespace: payments }\n    slack: "#Payments Oncall"\n',
    );
    assert.match(message, /routes\.0\.slack: .*must be a Slack channel ID/);
  });
});
