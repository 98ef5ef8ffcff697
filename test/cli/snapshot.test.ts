import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseSnapshot } from '../../shared/inventory/snapshot.ts';
import { runCli } from '../support/cli.ts';
import { FAKE_TOKEN, type LiveFakes, startLiveFakes } from '../support/live-fakes.ts';
import { loadSnapshot, ORBIT } from '../support/snapshots.ts';

describe('wi-sentinel snapshot, against the fake GKE, IAM and Kubernetes APIs', () => {
  let fakes: LiveFakes;
  /** The fakes' URLs and token; nothing from the runner's environment that names projects. */
  const env = () => ({ ...fakes.env, WI_PROJECTS: '', GOOGLE_CLOUD_PROJECT: '' });

  before(async () => {
    fakes = await startLiveFakes(loadSnapshot());
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
  });

  it('prints the Snapshot on stdout and progress on stderr, exit 0', async () => {
    const run = await runCli(['snapshot', '--project', ORBIT.project], '', env());
    assert.equal(run.code, 0, run.stderr);
    const parsed = parseSnapshot(JSON.parse(run.stdout));
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.error);
    const project = parsed.snapshot.projects[0];
    assert.deepEqual(
      project?.clusters.map((cluster) => [cluster.name, cluster.serviceAccounts.length, cluster.pods.length]),
      [
        ['core-1', 5, 6],
        ['edge-1', 1, 2],
        ['sandbox', 1, 0],
      ],
    );
    assert.equal(project?.serviceAccounts.length, 4);
    assert.match(run.stderr, /^orbit-prod: 3 clusters, 4 service accounts$/m);
    assert.match(run.stderr, /^orbit-prod\/europe-west4\/core-1: 5 KSAs, 6 running pods, 1 NetworkPolicy$/m);
    assert.match(
      run.stderr,
      /^exported 1 project\(s\), 3 cluster\(s\), 7 KSA\(s\), 8 running pod\(s\), 4 GSA\(s\)$/m,
    );
    assert.ok(
      fakes.calls().every((call) => call.authorized),
      'GOOGLE_OAUTH_ACCESS_TOKEN was sent',
    );
  });

  it('with --json: the Snapshot on one line, progress and problems as JSON lines; partial → exit 1, still printed', async () => {
    fakes.kubernetes.fault({ match: '/clusters/orbit-prod/us-east1-b/edge-1/api/v1/pods', status: 403 });
    const run = await runCli(['snapshot', '--project', ORBIT.project, '--json'], '', env());
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines.length, 1);
    const parsed = parseSnapshot(JSON.parse(lines[0] ?? ''));
    assert.ok(parsed.ok);
    assert.equal(parsed.snapshot.projects[0]?.clusters.find((c) => c.name === 'core-1')?.pods.length, 6);
    const stderr = run.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { progress?: string; problem?: Record<string, unknown> });
    const problems = stderr.flatMap((line) => (line.problem ? [line.problem] : []));
    assert.deepEqual(
      problems.map(({ reason: _, ...problem }) => problem),
      [
        {
          project: ORBIT.project,
          what: 'cluster us-east1-b/edge-1 pods',
          permission: 'container.pods.list',
          retryable: false,
        },
      ],
    );
    assert.match(String(stderr.at(-1)?.progress), /^partial export: .*; 1 problem\(s\) above$/);
  });

  it('names the missing permission in plain text, and never prints the token', async () => {
    fakes.iam.fault({ match: ':getIamPolicy', status: 403 });
    const run = await runCli(['snapshot', '--project', ORBIT.project], '', env());
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      new RegExp(
        `^problem: orbit-prod: service account ${ORBIT.cart.replace('.', '\\.')}: .* \\[wi-sentinel lacks iam\\.serviceAccounts\\.getIamPolicy\\]$`,
        'm',
      ),
    );
    assert.ok(!`${run.stdout}${run.stderr}`.includes(FAKE_TOKEN));
  });

  it('reads its projects from WI_PROJECTS when none is given', async () => {
    const run = await runCli(['snapshot'], '', { ...env(), WI_PROJECTS: ORBIT.project });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(JSON.parse(run.stdout).projects[0].projectId, ORBIT.project);
  });

  it('without a project, or with a bad one, says so: exit 2, no API call', async () => {
    const none = await runCli(['snapshot'], '', env());
    assert.equal(none.code, 2);
    assert.match(none.stderr, /name a project: --project P \(or set WI_PROJECTS\)/);
    const bad = await runCli(['snapshot', '--project', 'Not_A_Project'], '', env());
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a project id: Not_A_Project/);
    assert.deepEqual(fakes.calls(), []);
  });
});
