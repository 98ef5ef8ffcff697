import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { doctorCommand } from '../../cli/doctor.ts';
import type { Io } from '../../cli/io.ts';
import { createMemoryStore } from '../../shared/incidents/memory-store.ts';
import type { IncidentStore } from '../../shared/incidents/store.ts';
import { runCli } from '../support/cli.ts';
import {
  type DeploymentFakes,
  HOST,
  identityOf,
  NAMES,
  NOW,
  REGION,
  SECRET_VALUES,
  startDeploymentFakes,
  WATCHED,
} from '../support/deployment-fakes.ts';
import { loadSnapshot } from '../support/snapshots.ts';

// `wi-sentinel doctor` against fakes of every API a deployment is made of (test/support/deployment-fakes.ts).

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

function capture(): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: (text) => {
        out += text;
      },
      stderr: (text) => {
        err += text;
      },
      stdin: process.stdin,
    },
    out: () => out,
    err: () => err,
  };
}

describe('wi-sentinel doctor', () => {
  let fakes: DeploymentFakes;
  let store: IncidentStore;
  let storeFails: boolean;

  before(async () => {
    fakes = await startDeploymentFakes();
  });
  after(async () => {
    await fakes.stop();
  });
  beforeEach(async () => {
    fakes.reset();
    storeFails = false;
    store = createMemoryStore();
    await store.saveInventory(loadSnapshot(), {
      sweptAt: '2026-11-28T11:45:00.000Z',
      projects: WATCHED,
      problems: [],
    });
    await store.noteDelivery('2026-11-28T11:50:00.000Z');
  });

  const doctor = async (args: string[] = [], env: Record<string, string> = {}): Promise<Run> => {
    const { io, out, err } = capture();
    const code = await doctorCommand(
      args,
      io,
      { ...fakes.env, ...env },
      {
        now: () => NOW,
        store: () => {
          if (storeFails)
            throw new Error('Firestore: 7 PERMISSION_DENIED: Missing or insufficient permissions.');
          return store;
        },
      },
    );
    return {
      code,
      stdout: out(),
      stderr: err(),
      lines: out()
        .split('\n')
        .filter((line) => line !== ''),
    };
  };
  const marked = (run: Run, mark: string) => run.lines.filter((line) => line.startsWith(`${mark} `));

  it('a healthy deployment: every check ✓, exit 0', async () => {
    const run = await doctor();
    assert.equal(run.code, 0, run.stdout);
    assert.equal(
      run.lines[0],
      `wi-sentinel doctor: ${HOST} (prefix wi-sentinel), watching orbit-prod, orbit-dev`,
    );
    assert.deepEqual(marked(run, '✗'), []);
    assert.deepEqual(marked(run, '?'), []);
    const checks = marked(run, '✓').map((line) => line.split(':')[0]);
    assert.deepEqual(checks, [
      ...Array(5).fill('✓ function'),
      ...Array(3).fill('✓ topics'),
      '✓ scheduler',
      ...Array(4).fill('✓ secrets'),
      ...Array(12)
        .fill('')
        .map((_, i) => ['✓ sink', '✓ sink-filter', '✓ sink-writer'][i % 3]),
      '✓ metric',
      '✓ metric',
      ...Array(6).fill('✓ permissions'),
      '✓ deliveries',
    ]);
    assert.equal(run.lines.at(-1), `${checks.length} passed, 0 failed, 0 could not be checked`);
    assert.match(
      run.stdout,
      /✓ function: wiStatus \(wi-sentinel-status in europe-west1\) is ACTIVE and answers Slack at/,
    );
    assert.match(
      run.stdout,
      /✓ function: auditEvents .* fed by wi-sentinel-audit-events-push \(OIDC as wi-sentinel-trigger@/,
    );
    assert.match(
      run.stdout,
      /✓ scheduler: the scheduler job wi-sentinel-reconcile is enabled, last ran at 2026-11-28T11:45:00\.123Z \(15 min ago\)/,
    );
    assert.match(
      run.stdout,
      /✓ permissions: reconcile \(wi-sentinel-reconcile@orbit-ops\.iam\.gserviceaccount\.com\) holds every permission/,
    );
    assert.match(
      run.stdout,
      /✓ metric: metric kubernetes\.io\/node\/metadata_server\/request_count exists in project orbit-dev/,
    );
    assert.match(run.stdout, /log sink wi-sentinel-workload of project orbit-prod has the generated filter/);
  });

  it('asks each fake only what it needs, with the operator’s token, and never a secret’s value', async () => {
    const run = await doctor();
    assert.equal(run.code, 0);
    for (const fake of fakes.all) {
      for (const call of fake.calls) {
        assert.ok(
          call.authorized || call.kind === 'function.invoke',
          `${call.kind} ${call.path} carried a token`,
        );
      }
    }
    assert.deepEqual(
      fakes.functions.calls
        .filter((c) => c.kind === 'cloudfunctions.list')
        .map((c) => `${c.path} ${c.query.pageToken ?? ''}`),
      [
        `/v2/projects/${HOST}/locations/-/functions `,
        `/v2/projects/${HOST}/locations/-/functions 2`,
        `/v2/projects/${HOST}/locations/-/functions 4`,
      ],
      'every page of the list, once',
    );
    // The unauthenticated requests: what Slack and PagerDuty do, to the two public URLs, without a token.
    const invoke = fakes.functions.calls.filter((c) => c.kind === 'function.invoke');
    assert.deepEqual(invoke.map((c) => `${c.method} ${c.path} ${c.authorized}`).sort(), [
      'POST /run/wi-sentinel-pagerduty-webhook false',
      'POST /run/wi-sentinel-status false',
    ]);
    // Secrets: metadata only.
    assert.deepEqual(
      fakes.secrets.calls.filter((c) => c.kind === 'secretmanager.access'),
      [],
    );
    assert.deepEqual(
      [...new Set(fakes.secrets.calls.map((c) => `${c.kind} ${c.path}`))].sort(),
      Object.keys(SECRET_VALUES)
        .flatMap((id) => [
          `secretmanager.getSecret /v1/projects/${HOST}/secrets/${id}`,
          `secretmanager.getVersion /v1/projects/${HOST}/secrets/${id}/versions/latest`,
        ])
        .sort(),
    );
    for (const value of Object.values(SECRET_VALUES)) assert.ok(!run.stdout.includes(value));
    // Permissions asked as each identity (impersonated), never as the operator.
    const asked = fakes.permissions.calls.filter((c) => c.kind === 'resourcemanager.testIamPermissions');
    assert.deepEqual(
      asked.map((c) => `${c.caller} ${c.path}`).sort(),
      ['auditEvents', 'reconcile', 'wiCommands']
        .flatMap((t) => WATCHED.map((p) => `${identityOf(t)} /v3/projects/${p}:testIamPermissions`))
        .sort(),
    );
    assert.deepEqual(
      fakes.credentials.calls.map((c) => c.path).sort(),
      ['auditEvents', 'reconcile', 'wiCommands']
        .map((t) => `/v1/projects/-/serviceAccounts/${identityOf(t)}:generateAccessToken`)
        .sort(),
    );
    assert.equal(fakes.scheduler.calls.length, 1);
    assert.equal(
      fakes.scheduler.calls[0]?.path,
      `/v1/projects/${HOST}/locations/${REGION}/jobs/${NAMES.schedulerJob}`,
    );
  });

  it('--json: the results, the summary and the exit code on one line', async () => {
    const run = await doctor(['--json']);
    assert.equal(run.code, 0);
    assert.equal(run.lines.length, 1);
    const report = JSON.parse(run.stdout) as {
      host: string;
      projects: string[];
      summary: { passed: number; failed: number; unknown: number };
      exit: number;
      results: { check: string; status: string }[];
    };
    assert.equal(report.host, HOST);
    assert.deepEqual(report.projects, WATCHED);
    assert.deepEqual(report.summary, { passed: report.results.length, failed: 0, unknown: 0 });
    assert.equal(report.exit, 0);
    assert.ok(report.results.every((r) => r.status === 'healthy'));
  });

  it('what is wrong: each ✗ carries its repair, exit 1', async () => {
    fakes.scheduler.setJob(`projects/${HOST}/locations/${REGION}/jobs/${NAMES.schedulerJob}`, {
      state: 'PAUSED',
      pubsubTarget: { topicName: `projects/${HOST}/topics/${NAMES.topics.reconcile}` },
    });
    fakes.secrets.setSecret(`projects/${HOST}/secrets/wi-sentinel-pagerduty-routing-key`, {
      versions: ['DISABLED'],
    });
    fakes.logging.setSink(`projects/orbit-dev/sinks/${NAMES.sinks.workload}`, undefined);
    fakes.monitoring.setDescriptors('orbit-dev', []);
    fakes.permissions.setGrantedTo(identityOf('auditEvents'), 'orbit-dev', ['container.clusters.get']);
    fakes.pubsub.setSubscription(
      `projects/${HOST}/subscriptions/${NAMES.pushSubscription('wiCommands')}`,
      undefined,
    );
    fakes.functions.setEndpointAnswer('wi-sentinel-status', 403, '<html>Error: Forbidden</html>');
    fakes.functions.setFunction(HOST, {
      name: `projects/${HOST}/locations/${REGION}/functions/wi-sentinel-audit-events`,
      state: 'FAILED',
      stateMessages: [
        {
          severity: 'ERROR',
          type: 'BuildFailed',
          message: 'Build failed: Access to bucket gcf-v2-sources-1-europe-west1 denied',
        },
      ],
      buildConfig: { entryPoint: 'auditEvents' },
      serviceConfig: { serviceAccountEmail: identityOf('auditEvents') },
    });
    const run = await doctor();
    assert.equal(run.code, 1, run.stdout);
    const failed = marked(run, '✗');
    assert.deepEqual(
      failed.map((line) => line.split(':')[0]),
      [
        '✗ function',
        '✗ function',
        '✗ function',
        '✗ scheduler',
        '✗ secrets',
        '✗ sink',
        '✗ metric',
        '✗ permissions',
      ],
    );
    const block = (start: RegExp) => {
      const at = run.lines.findIndex((line) => start.test(line));
      assert.ok(at >= 0, `${start} in\n${run.stdout}`);
      const rest = run.lines.slice(at + 1);
      const end = rest.findIndex((line) => /^[✓✗?] /.test(line));
      return [run.lines[at], ...rest.slice(0, end < 0 ? rest.length : end)].join('\n');
    };
    assert.match(
      block(/^✗ function: auditEvents/),
      /is FAILED, not ACTIVE: Build failed: Access to bucket gcf-v2-sources-1-europe-west1 denied\n {4}See why wi-sentinel-audit-events is FAILED\n {6}gcloud functions describe wi-sentinel-audit-events --region=europe-west1 --project=orbit-ops/,
    );
    assert.match(
      block(/^✗ function: wiCommands/),
      /subscriptions\/wi-sentinel-command-runner-push does not exist: nothing delivers wi-sentinel-commands to it\n {4}Re-apply wi-sentinel's Terraform module\n {6}terraform apply/,
    );
    assert.match(
      block(/^✗ function: wiStatus/),
      /Cloud Run refuses unauthenticated requests .* \(403\): Slack cannot reach \/wi-status[\s\S]*--member=allUsers --role=roles\/run\.invoker[\s\S]*--no-invoker-iam-check/,
    );
    assert.match(
      block(/^✗ scheduler/),
      /is PAUSED: no sweep runs\n {4}Resume wi-sentinel-reconcile\n {6}gcloud scheduler jobs resume wi-sentinel-reconcile --location=europe-west1 --project=orbit-ops/,
    );
    assert.match(
      block(/^✗ secrets/),
      /secret wi-sentinel-pagerduty-routing-key \(mounted by reconcile, wiCommands\): its latest version is DISABLED[\s\S]*gcloud secrets versions add wi-sentinel-pagerduty-routing-key --data-file=- --project=orbit-ops/,
    );
    assert.match(
      block(/^✗ sink/),
      /log sink wi-sentinel-workload of project orbit-dev does not exist: no workload credential failure reaches wi-sentinel from there[\s\S]*npx wi-sentinel sink-filter --sink workload/,
    );
    assert.match(
      block(/^✗ metric/),
      /the metadata-server alert can never fire: metric .* does not exist in project orbit-dev/,
    );
    assert.match(
      block(/^✗ permissions/),
      /auditEvents \(wi-sentinel-auditevents@orbit-ops\.iam\.gserviceaccount\.com\) lacks container\.clusters\.list, .* on project orbit-dev[\s\S]*--member=serviceAccount:wi-sentinel-auditevents@orbit-ops\.iam\.gserviceaccount\.com --role=roles\/container\.viewer/,
    );
    assert.match(run.lines.at(-1) ?? '', /passed, 8 failed, 0 could not be checked$/);
  });

  it('what could not be checked: ? with the reason, exit 3 when nothing failed', async () => {
    fakes.credentials.allow(identityOf('wiCommands'), false);
    fakes.scheduler.fault({ match: '/jobs/', status: 403 });
    storeFails = true;
    const run = await doctor();
    assert.equal(run.code, 3, run.stdout);
    assert.deepEqual(marked(run, '✗'), []);
    const unknown = marked(run, '?');
    assert.match(
      unknown.join('\n'),
      /\? scheduler: could not read the scheduler job .*: you lack cloudscheduler\.jobs\.get \(cloudscheduler answered 403\)/,
    );
    assert.match(
      unknown.join('\n'),
      /\? permissions: could not act as wiCommands \(wi-sentinel-wicommands@orbit-ops\.iam\.gserviceaccount\.com\) to test its permissions: you lack iam\.serviceAccounts\.getAccessToken/,
    );
    assert.match(
      unknown.join('\n'),
      /\? deliveries: could not tell whether audit entries arrive: its state could not be read \(Firestore: 7 PERMISSION_DENIED/,
    );
    assert.equal(unknown.length, 1 + WATCHED.length + 1);
  });

  it('--project names the watched projects instead of the deployment’s', async () => {
    const run = await doctor(['--project', 'orbit-prod']);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.lines[0] ?? '', /watching orbit-prod$/);
    assert.equal(fakes.monitoring.calls.filter((c) => c.path.includes('orbit-dev')).length, 0);
  });

  it('nothing deployed in the project: every function ✗, and what it watches taken from this environment', async () => {
    for (const target of ['audit-events', 'reconcile', 'command-runner', 'status', 'pagerduty-webhook'])
      fakes.functions.removeFunction(
        HOST,
        `projects/${HOST}/locations/${REGION}/functions/wi-sentinel-${target}`,
      );
    const run = await doctor([], { WI_PROJECTS: 'orbit-prod', WI_STATE: 'memory' });
    assert.equal(run.code, 1);
    assert.match(
      run.lines[0] ?? '',
      /watching orbit-prod \(reconcile not found: its configuration taken from this environment\)$/,
    );
    assert.equal(
      marked(run, '✗').filter((line) =>
        /^✗ function: \w+: function wi-sentinel-[a-z-]+ is not deployed in project orbit-ops$/.test(line),
      ).length,
      5,
    );
    assert.match(
      run.stdout,
      /\? scheduler: the scheduler job wi-sentinel-reconcile was not looked for: reconcile is not deployed/,
    );
    assert.match(run.stdout, /\? secrets: no deployed function was found to say which secrets it mounts/);
  });

  it('bad usage: exit 2, naming what is wrong', async () => {
    const noHost = await runCli(['doctor'], '', { GOOGLE_CLOUD_PROJECT: '' });
    assert.equal(noHost.code, 2);
    assert.match(noHost.stderr, /name the project wi-sentinel runs in: --host P/);
    const badProject = await runCli(['doctor', '--project', 'Not_A_Project'], '', {
      GOOGLE_CLOUD_PROJECT: HOST,
    });
    assert.equal(badProject.code, 2);
    assert.match(badProject.stderr, /not a project id: Not_A_Project/);
    const help = await runCli(['help']);
    assert.match(
      help.stdout,
      /wi-sentinel doctor \[--project P …\] \[--host P\] \[--prefix NAME\] \[--json\]/,
    );
  });
});
