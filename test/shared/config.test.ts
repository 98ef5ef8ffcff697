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

  it('treats blank optional values as unset', () => {
    const config = loadConfig({ GOOGLE_OAUTH_ACCESS_TOKEN: '  ', WI_SNAPSHOT: '' });
    assert.equal(config.GOOGLE_OAUTH_ACCESS_TOKEN, undefined);
    assert.equal(config.WI_SNAPSHOT, undefined);
  });
});
