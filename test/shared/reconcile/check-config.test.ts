import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { loadConfig } from '../../../shared/config.ts';
import { ConfigError } from '../../../shared/errors.ts';
import { auditSinkFilter } from '../../../shared/events/sink-filter.ts';
import { selfCheckTargetFromConfig } from '../../../shared/reconcile/check-adapters.ts';
import { parseSinkName, sinkNamesOf, topicNameOf } from '../../../shared/reconcile/checks.ts';
import { workloadSinkFilter } from '../../../shared/symptoms/filter.ts';
import { type FakeLogging, startFakeLogging } from '../../fakes/logging.ts';
import { REPO_ROOT } from '../../support/paths.ts';

const run = promisify(execFile);

describe('self-check configuration', () => {
  it('defaults: the sink wi-sentinel-audit in each watched project, the topic of that name in wi-sentinel’s', () => {
    const config = loadConfig({ GOOGLE_CLOUD_PROJECT: 'orbit-ops', WI_PROJECTS: 'orbit-prod,orbit-dev' });
    assert.deepEqual(config.WI_SINK, ['wi-sentinel-audit']);
    assert.equal(config.LOGGING_API_URL, 'https://logging.googleapis.com');
    assert.equal(config.PUBSUB_API_URL, 'https://pubsub.googleapis.com');
    assert.deepEqual(selfCheckTargetFromConfig(config, 'rec@orbit-ops.iam.gserviceaccount.com'), {
      sinks: ['projects/orbit-prod/sinks/wi-sentinel-audit', 'projects/orbit-dev/sinks/wi-sentinel-audit'],
      topic: 'projects/orbit-ops/topics/wi-sentinel-audit',
      projects: ['orbit-prod', 'orbit-dev'],
      filter: auditSinkFilter(),
      identity: 'rec@orbit-ops.iam.gserviceaccount.com',
    });
  });

  it('an organization sink and a full topic name, as infra’s organization scope sets them', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'orbit-ops',
      WI_SINK: 'organizations/123456789012/sinks/wi-audit',
      WI_AUDIT_TOPIC: 'projects/orbit-hub/topics/audit',
    });
    const target = selfCheckTargetFromConfig(config);
    assert.deepEqual(target.sinks, ['organizations/123456789012/sinks/wi-audit']);
    assert.equal(target.topic, 'projects/orbit-hub/topics/audit');
    assert.deepEqual(target.projects, ['orbit-ops']);
    assert.equal(target.identity, undefined);
  });

  it('a workload sink, as infra sets WI_WORKLOAD_SINK when it creates one: checked against the workload filter', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'orbit-ops',
      WI_PROJECTS: 'orbit-prod',
      WI_WORKLOAD_SINK: 'wi-sentinel-workload',
    });
    assert.deepEqual(selfCheckTargetFromConfig(config).workload, {
      sinks: ['projects/orbit-prod/sinks/wi-sentinel-workload'],
      filter: workloadSinkFilter(),
    });
    assert.equal(
      selfCheckTargetFromConfig(loadConfig({ GOOGLE_CLOUD_PROJECT: 'orbit-ops' })).workload,
      undefined,
    );
    assert.throws(
      () => loadConfig({ WI_WORKLOAD_SINK: 'projects/p/topics/t' }),
      /WI_WORKLOAD_SINK must be sink names/,
    );
  });

  it('refuses bad values naming the variable', () => {
    assert.throws(
      () => loadConfig({ WI_SINK: 'projects/p/topics/t', WI_AUDIT_TOPIC: 'a b', LOGGING_API_URL: 'nope' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /WI_SINK must be sink names/.test(error.message) &&
        /WI_AUDIT_TOPIC must be a Pub\/Sub topic/.test(error.message) &&
        /LOGGING_API_URL must be a URL/.test(error.message),
    );
  });

  it('names: bare sinks per project, parents parsed, a topic id needs its project', () => {
    assert.deepEqual(sinkNamesOf(['s', 'folders/42/sinks/t', 's'], ['a-proj', 'b-proj']), [
      'projects/a-proj/sinks/s',
      'projects/b-proj/sinks/s',
      'folders/42/sinks/t',
    ]);
    assert.deepEqual(parseSinkName('folders/42/sinks/t'), { kind: 'folders', id: '42', sink: 't' });
    assert.throws(() => parseSinkName('billingAccounts/1/sinks/t'), ConfigError);
    assert.equal(topicNameOf('audit', 'orbit-ops'), 'projects/orbit-ops/topics/audit');
    assert.throws(() => topicNameOf('audit', undefined), /GOOGLE_CLOUD_PROJECT must name its project/);
  });
});

describe('self-check adapters', () => {
  let logging: FakeLogging;
  let dir: string;
  before(async () => {
    logging = await startFakeLogging({
      token: 'ya29.lazy-token-for-tests-only',
      sinks: {
        'projects/orbit-prod/sinks/s': {
          destination: 'pubsub.googleapis.com/projects/p/topics/t',
          filter: 'x',
        },
      },
    });
    dir = mkdtempSync(join(tmpdir(), 'wi-self-check-'));
  });
  after(async () => {
    await logging.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('load @google-cloud/logging and @google-cloud/pubsub only when a check first calls them', async () => {
    const adapters = pathToFileURL(join(REPO_ROOT, 'shared/reconcile/check-adapters.ts')).href;
    const script = `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = (name) => Object.keys(require.cache).some((file) => file.includes('/node_modules/@google-cloud/' + name + '/'));
      const { createSelfCheckPorts } = await import(${JSON.stringify(adapters)});
      const ports = createSelfCheckPorts({ tokens: async () => 'ya29.lazy-token-for-tests-only', loggingUrl: ${JSON.stringify(logging.url)} });
      const before = { logging: loaded('logging'), pubsub: loaded('pubsub') };
      const sink = await ports.logging.getSink('projects/orbit-prod/sinks/s');
      const afterUse = { logging: loaded('logging'), pubsub: loaded('pubsub') };
      process.stdout.write(JSON.stringify({ before, afterUse, filter: sink.filter }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      timeout: 30_000,
    });
    assert.deepEqual(JSON.parse(stdout), {
      before: { logging: false, pubsub: false },
      afterUse: { logging: true, pubsub: false },
      filter: 'x',
    });
  });

  it('tell wi-sentinel’s own service account from Application Default Credentials', async () => {
    const key = join(dir, 'key.json');
    writeFileSync(
      key,
      JSON.stringify({
        type: 'service_account',
        project_id: 'orbit-ops',
        client_email: 'wi-sentinel-reconcile@orbit-ops.iam.gserviceaccount.com',
        client_id: '1',
        private_key_id: 'k',
        // Never used: no token is asked for, only who the credentials name.
        private_key: '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n',
      }),
    );
    const adapters = pathToFileURL(join(REPO_ROOT, 'shared/reconcile/check-adapters.ts')).href;
    const script = `
      const { ownIdentity } = await import(${JSON.stringify(adapters)});
      const fromKey = await ownIdentity({});
      const fromToken = await ownIdentity({ GOOGLE_OAUTH_ACCESS_TOKEN: 'ya29.given' });
      process.stdout.write(JSON.stringify({ fromKey, fromToken: fromToken ?? null }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      timeout: 30_000,
      env: { ...process.env, GOOGLE_APPLICATION_CREDENTIALS: key },
    });
    assert.deepEqual(JSON.parse(stdout), {
      fromKey: 'wi-sentinel-reconcile@orbit-ops.iam.gserviceaccount.com',
      fromToken: null,
    });
  });
});
