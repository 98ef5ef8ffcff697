import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../shared/config.ts';
import { ConfigError } from '../../shared/errors.ts';

describe('loadConfig', () => {
  it('defaults to the memory store and Google API URLs', () => {
    const config = loadConfig({});
    assert.equal(config.WI_STATE, 'memory');
    assert.equal(config.GKE_API_URL, 'https://container.googleapis.com');
    assert.equal(config.IAM_API_URL, 'https://iam.googleapis.com');
    assert.equal(config.RESOURCE_MANAGER_API_URL, 'https://cloudresourcemanager.googleapis.com');
    assert.equal(config.WI_PROJECTS, undefined);
  });

  it('splits WI_PROJECTS into project ids', () => {
    assert.deepEqual(loadConfig({ WI_PROJECTS: 'acme-prod,acme-dev' }).WI_PROJECTS, [
      'acme-prod',
      'acme-dev',
    ]);
  });

  it('names the variable, never its value, when one is bad', () => {
    const bad = {
      WI_PROJECTS: 'Not A Project',
      GOOGLE_OAUTH_ACCESS_TOKEN: 'ya29.secret',
      GKE_API_URL: 'nope',
    };
    assert.throws(
      () => loadConfig(bad),
      (error: unknown) =>
        error instanceof ConfigError &&
        /WI_PROJECTS must be project ids/.test(error.message) &&
        /GKE_API_URL must be a URL/.test(error.message) &&
        !error.message.includes('Not A Project') &&
        !error.message.includes('ya29'),
    );
  });

  it('checks the default route: a routing key and a Slack channel of the right form', () => {
    assert.throws(
      () => loadConfig({ PAGERDUTY_ROUTING_KEY: 'sh0rt-k3y', SLACK_CHANNEL: '#Platform Alerts' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /PAGERDUTY_ROUTING_KEY must be a 32-character Events API v2 routing key/.test(error.message) &&
        /SLACK_CHANNEL must be a Slack channel ID/.test(error.message) &&
        !error.message.includes('sh0rt-k3y'),
    );
    assert.equal(loadConfig({ SLACK_CHANNEL: 'C0123456789' }).SLACK_CHANNEL, 'C0123456789');
  });

  it('treats blank optional values as unset', () => {
    const config = loadConfig({ GOOGLE_OAUTH_ACCESS_TOKEN: '  ', WI_SNAPSHOT: '' });
    assert.equal(config.GOOGLE_OAUTH_ACCESS_TOKEN, undefined);
    assert.equal(config.WI_SNAPSHOT, undefined);
  });
});
