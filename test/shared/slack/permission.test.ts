import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../../shared/config.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { createLogger } from '../../../shared/log.ts';
import {
  createPermissionCheck,
  decideLocally,
  slackUsergroupMembers,
} from '../../../shared/slack/permission.ts';
import { type FakeSlack, startFakeSlack } from '../../fakes/slack.ts';

const TOKEN = 'xoxb-test-0000-permissiontoken';

describe('the silence permission', () => {
  it('allows listed users; with no group, refuses everyone else; nobody when nothing is configured', () => {
    assert.deepEqual(decideLocally({ users: ['U0ALICE'] }, 'U0ALICE'), {
      allowed: true,
      via: 'SLACK_ALLOWED_USERS',
    });
    assert.match(
      (decideLocally({ users: ['U0ALICE'] }, 'U0BOB') as { why: string }).why,
      /not among the users allowed/,
    );
    assert.match((decideLocally({ users: [] }, 'U0ALICE') as { why: string }).why, /not enabled here/);
    assert.equal(decideLocally({ users: [], usergroup: 'S0ONCALL' }, 'U0BOB'), undefined, 'ask Slack');
  });

  describe('with a user group, through @slack/web-api against a fake Slack', () => {
    let slack: FakeSlack;
    before(async () => {
      slack = await startFakeSlack({ token: TOKEN, usergroups: { S0ONCALL: ['U0BOB', 'U0CAROL'] } });
    });
    after(() => slack.stop());

    it('asks usergroups.users.list once a minute and decides by membership', async () => {
      let clock = 0;
      const members = slackUsergroupMembers({ token: TOKEN, apiUrl: slack.url });
      const check = createPermissionCheck({ users: ['U0ALICE'], usergroup: 'S0ONCALL' }, members, {
        now: () => clock,
      });
      assert.deepEqual(await check('U0ALICE'), { allowed: true, via: 'SLACK_ALLOWED_USERS' });
      assert.deepEqual(await check('U0BOB'), { allowed: true, via: 'user group S0ONCALL' });
      assert.match(((await check('U0MALLORY')) as { why: string }).why, /not in the user group/);
      const calls = () => slack.calls.filter((c) => c.method === 'usergroups.users.list');
      assert.equal(calls().length, 1, 'cached');
      assert.equal(calls()[0]?.body.usergroup, 'S0ONCALL');
      assert.equal(calls()[0]?.headers.authorization, `Bearer ${TOKEN}`);
      clock = 61_000;
      await check('U0CAROL');
      assert.equal(calls().length, 2, 'asked again after a minute');
    });

    it('refuses, saying why, when the group cannot be read; the token never shows', async () => {
      const lines: string[] = [];
      const members = slackUsergroupMembers({
        token: TOKEN,
        apiUrl: slack.url,
        logger: createLogger((line) => lines.push(line)),
      });
      const check = createPermissionCheck({ users: [], usergroup: 'S0NOSUCH' }, members);
      const decision = await check('U0BOB');
      assert.equal(decision.allowed, false);
      assert.match(
        (decision as { why: string }).why,
        /could not be read \(usergroups.users.list: no_such_subteam\)/,
      );
      assert.ok(lines.length > 0 && lines.every((line) => !line.includes(TOKEN)));
      const noToken = createPermissionCheck({ users: [], usergroup: 'S0ONCALL' }, undefined);
      assert.match(((await noToken('U0BOB')) as { why: string }).why, /SLACK_BOT_TOKEN is not set/);
    });
  });

  it('reads its configuration from the environment, refusing bad IDs by name', () => {
    const config = loadConfig({ SLACK_ALLOWED_USERS: 'U0ALICE, W0BOB', SLACK_ALLOWED_USERGROUP: 'S0ONCALL' });
    assert.deepEqual(config.SLACK_ALLOWED_USERS, ['U0ALICE', 'W0BOB']);
    assert.equal(config.SLACK_ALLOWED_USERGROUP, 'S0ONCALL');
    assert.throws(
      () => loadConfig({ SLACK_ALLOWED_USERS: 'alice', SLACK_ALLOWED_USERGROUP: 'oncall' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /SLACK_ALLOWED_USERS must be Slack user IDs/.test(error.message) &&
        /SLACK_ALLOWED_USERGROUP must be a Slack user group ID/.test(error.message),
    );
    assert.equal(loadConfig({}).WI_COMMANDS_TOPIC, 'wi-sentinel-commands');
    assert.deepEqual(
      loadConfig({ SLACK_RESPONSE_URL_ORIGINS: 'http://127.0.0.1:8080' }).SLACK_RESPONSE_URL_ORIGINS,
      ['http://127.0.0.1:8080'],
    );
    assert.throws(
      () => loadConfig({ SLACK_RESPONSE_URL_ORIGINS: 'http://127.0.0.1:8080/commands' }),
      ConfigError,
    );
  });
});
