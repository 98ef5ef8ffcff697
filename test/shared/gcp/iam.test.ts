import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { LookupError } from '../../../shared/errors.ts';
import { FAKE_TOKEN, type LiveFakes, startLiveFakes } from '../../support/live-fakes.ts';
import { ORBIT, variant } from '../../support/snapshots.ts';

describe('IAM adapter against the fake IAM and Resource Manager APIs', () => {
  let fakes: LiveFakes;
  const waits: number[] = [];
  const state = () =>
    fakes.liveState({
      hooks: {
        sleep: async (ms) => {
          waits.push(ms);
        },
      },
    });

  before(async () => {
    const snapshot = variant((s) => {
      const project = s.projects[0];
      if (!project) throw new Error('no project');
      project.iamPolicy = {
        bindings: [{ role: 'roles/editor', members: [`serviceAccount:${ORBIT.deployer}`] }],
      };
      const reports = project.serviceAccounts.find((gsa) => gsa.email === ORBIT.reports);
      if (reports) reports.disabled = true;
    });
    fakes = await startLiveFakes(snapshot, { maxPageSize: 3 });
  });
  after(() => fakes.stop());
  beforeEach(() => {
    fakes.clearFaults();
    fakes.clearCalls();
    waits.length = 0;
  });

  it('maps a service account: email, unique id, disabled, project', async () => {
    assert.deepEqual(await state().iam.getServiceAccount(ORBIT.cart), {
      email: ORBIT.cart,
      uniqueId: '104200000000000000011',
      disabled: false,
      project: 'orbit-prod',
    });
    assert.equal((await state().iam.getServiceAccount(ORBIT.reports))?.disabled, true);
    const [call] = fakes.iam.calls;
    assert.equal(call?.method, 'GET');
    assert.equal(call?.path, `/v1/projects/-/serviceAccounts/${ORBIT.cart}`);
    assert.equal(call?.authorized, true);
  });

  it('answers undefined for a service account that does not exist (404)', async () => {
    assert.equal(await state().iam.getServiceAccount('gone@orbit-prod.iam.gserviceaccount.com'), undefined);
    assert.equal(fakes.iam.calls.at(-1)?.answered, 404);
  });

  it('reads a GSA policy with requestedPolicyVersion 3, and a 404 LookupError when the GSA is gone', async () => {
    const policy = await state().iam.getServiceAccountPolicy(ORBIT.cart);
    assert.deepEqual(policy.bindings, [
      {
        role: 'roles/iam.workloadIdentityUser',
        members: [ORBIT.classic('checkout', 'cart'), ORBIT.classic('checkout', 'pricing')],
      },
    ]);
    const call = fakes.iam.calls.at(-1);
    assert.equal(call?.method, 'POST');
    assert.equal(call?.path, `/v1/projects/-/serviceAccounts/${ORBIT.cart}:getIamPolicy`);
    assert.equal(call?.query['options.requestedPolicyVersion'], '3');
    await assert.rejects(state().iam.getServiceAccountPolicy('gone@orbit-prod.iam.gserviceaccount.com'), {
      name: 'LookupError',
      status: 404,
      retryable: false,
    });
  });

  it('maps a policy with no bindings (proto3 leaves the field out) to an empty list', async () => {
    const policy = await state().iam.getServiceAccountPolicy(ORBIT.deployer);
    assert.deepEqual(policy.bindings, []);
  });

  it('lists every page of service accounts (the records show pageSize and pageToken)', async () => {
    const gsas = await state().iam.listServiceAccounts('orbit-prod');
    assert.deepEqual(
      gsas.map((gsa) => gsa.email),
      [ORBIT.cart, ORBIT.indexer, ORBIT.reports, ORBIT.deployer],
    );
    const pages = fakes.iam.calls.filter((call) => call.kind === 'iam.listServiceAccounts');
    assert.equal(pages.length, 2);
    assert.equal(pages[0]?.query.pageToken, undefined);
    assert.equal(pages[0]?.query.pageSize, '100');
    assert.ok(pages[1]?.query.pageToken, 'the second page asks with the token the first gave');
  });

  it("reads the project's policy from Resource Manager v3 with the version in the body", async () => {
    const policy = await state().iam.getProjectPolicy('orbit-prod');
    assert.deepEqual(policy.bindings, [
      { role: 'roles/editor', members: [`serviceAccount:${ORBIT.deployer}`] },
    ]);
    const call = fakes.iam.calls.at(-1);
    assert.equal(call?.path, '/v3/projects/orbit-prod:getIamPolicy');
    assert.deepEqual(call?.body, { options: { requestedPolicyVersion: 3 } });
  });

  it('reports a 403 as a missing permission, named, and does not retry it', async () => {
    fakes.iam.fault({ match: ':getIamPolicy', status: 403 });
    const error = await state()
      .iam.getServiceAccountPolicy(ORBIT.cart)
      .then(
        () => assert.fail('resolved'),
        (failure: unknown) => failure,
      );
    assert.ok(error instanceof LookupError);
    assert.equal(error.status, 403);
    assert.equal(error.retryable, false);
    assert.equal(error.permission, 'iam.serviceAccounts.getIamPolicy');
    assert.match(
      error.message,
      /IAM policy of service account cart@orbit-prod.* needs iam\.serviceAccounts\.getIamPolicy/,
    );
    assert.equal(fakes.iam.calls.length, 1);
  });

  it('names the permission for each call refused', async () => {
    fakes.iam.fault({ match: '', status: 403 });
    const live = state();
    await assert.rejects(live.iam.getServiceAccount(ORBIT.cart), { permission: 'iam.serviceAccounts.get' });
    await assert.rejects(live.iam.listServiceAccounts('orbit-prod'), {
      permission: 'iam.serviceAccounts.list',
    });
    await assert.rejects(live.iam.getProjectPolicy('orbit-prod'), {
      permission: 'resourcemanager.projects.getIamPolicy',
    });
  });

  it('retries a 503 and then succeeds', async () => {
    fakes.iam.fault({ match: ':getIamPolicy', status: 503, times: 2 });
    const policy = await state().iam.getServiceAccountPolicy(ORBIT.cart);
    assert.equal(policy.bindings.length, 1);
    assert.deepEqual(
      fakes.iam.calls.map((call) => call.answered),
      [503, 503, 200],
    );
    assert.equal(waits.length, 2);
  });

  it('waits as long as a 429 Retry-After says', async () => {
    fakes.iam.fault({ match: '/serviceAccounts/', status: 429, retryAfter: 2, times: 1 });
    assert.equal((await state().iam.getServiceAccount(ORBIT.cart))?.email, ORBIT.cart);
    assert.deepEqual(waits, [2_000]);
    assert.deepEqual(
      fakes.iam.calls.map((call) => call.answered),
      [429, 200],
    );
  });

  it('gives up on a Retry-After longer than its deadline, retryable', async () => {
    fakes.iam.fault({ match: '/serviceAccounts/', status: 429, retryAfter: 3_600 });
    await assert.rejects(state().iam.getServiceAccount(ORBIT.cart), { status: 429, retryable: true });
    assert.equal(fakes.iam.calls.length, 1);
  });

  it('times out a request that hangs, retryably, and says how long it waited', async () => {
    fakes.iam.fault({ match: '/serviceAccounts/', hang: true });
    await assert.rejects(
      fakes
        .liveState({
          timeoutMs: 200,
          retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, deadlineMs: 5_000 },
        })
        .iam.getServiceAccount(ORBIT.cart),
      { retryable: true, message: /did not answer within 200 ms \(gave up after 2 attempts/ },
    );
  });

  it('reports a refused token as a 401 naming the permission', async () => {
    const wrong = fakes.liveState({ tokens: async () => 'ya29.not-the-right-token' });
    await assert.rejects(wrong.iam.getServiceAccountPolicy(ORBIT.cart), {
      status: 401,
      retryable: false,
      permission: 'iam.serviceAccounts.getIamPolicy',
    });
    assert.equal(fakes.iam.calls[0]?.authorized, false);
  });

  it('never puts the token in an error', async () => {
    const secret = 'ya29.secret-that-must-not-leak';
    const live = fakes.liveState({ tokens: async () => secret });
    const failures: Promise<unknown>[] = [live.iam.getServiceAccount(ORBIT.cart)]; // 401: not the fake's token
    const right = state();
    fakes.iam.fault({ match: '/v1/projects/orbit-prod/serviceAccounts', status: 500 });
    fakes.iam.fault({ match: ':getIamPolicy', status: 403 });
    failures.push(right.iam.listServiceAccounts('orbit-prod'), right.iam.getServiceAccountPolicy(ORBIT.cart));
    const errors = await Promise.all(
      failures.map((failure) =>
        failure.then(
          () => undefined,
          (error: unknown) => error,
        ),
      ),
    );
    assert.equal(errors.filter((error) => error instanceof LookupError).length, 3);
    for (const error of errors) {
      const text = `${(error as Error).message} ${JSON.stringify(error)} ${String((error as Error).stack)}`;
      assert.ok(!text.includes(secret) && !text.includes(FAKE_TOKEN), text);
    }
  });
});

describe('IAM adapter, other snapshots', () => {
  it('finds no accounts in a project without any', async () => {
    const fakes = await startLiveFakes(
      variant((s) => {
        for (const project of s.projects) project.serviceAccounts = [];
      }),
    );
    try {
      assert.deepEqual(await fakes.liveState().iam.listServiceAccounts('orbit-prod'), []);
    } finally {
      await fakes.stop();
    }
  });

  it('keeps conditions of conditional bindings', async () => {
    const condition = { title: 'weekdays', expression: 'request.time.getDayOfWeek() < 5' };
    const fakes = await startLiveFakes(
      variant((s) => {
        const gsa = s.projects[0]?.serviceAccounts[0];
        if (gsa)
          gsa.iamPolicy.bindings = [
            { role: 'roles/iam.workloadIdentityUser', members: [ORBIT.classic('a', 'b')], condition },
          ];
      }),
    );
    try {
      const policy = await fakes.liveState().iam.getServiceAccountPolicy(ORBIT.cart);
      assert.deepEqual(policy.bindings[0]?.condition, condition);
      assert.equal(policy.version, 3);
    } finally {
      await fakes.stop();
    }
  });
});
