import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../../shared/incidents/memory-store.ts';
import { planFor } from '../../../shared/incidents/plans.ts';
import { activeSilence } from '../../../shared/incidents/silences.ts';
import {
  planIdOf,
  type Runners,
  runCommand,
  silenceIdOf,
  silenceRunners,
} from '../../../shared/slack/commands.ts';
import type { DeferredCommand, DeferredTask } from '../../../shared/slack/deferred.ts';
import type { Decision } from '../../../shared/slack/permission.ts';
import { renderDocText } from '../../../shared/status/doc.ts';
import { bindingFinding } from '../../support/findings.ts';
import { poolFinding } from '../notify/slack-incident.ts';
import { openIncident } from '../status/incidents.ts';

const NOW = new Date('2026-11-29T10:00:00Z');

function commandOf(task: DeferredTask, userId = 'U0ALICE'): DeferredCommand {
  return {
    v: 1,
    id: `cmd-${task.kind}-${userId}`,
    requestedAt: NOW.toISOString(),
    task,
    slack: {
      teamId: 'T0FAKETEAM',
      userId,
      userName: 'alice',
      responseUrl: 'https://hooks.slack.com/commands/T0FAKETEAM/1/x',
      responseType: 'ephemeral',
    },
  };
}

async function setUp() {
  const store = createMemoryStore();
  const binding = await openIncident(store, bindingFinding(), '2026-11-29T09:00:00Z');
  const pool = await openIncident(store, poolFinding(), '2026-11-29T09:30:00Z');
  const asked: string[] = [];
  const permission = async (userId: string): Promise<Decision> => {
    asked.push(userId);
    return userId === 'U0ALICE' ? { allowed: true, via: 'test' } : { allowed: false, why: 'not on call' };
  };
  const runners = {
    ...silenceRunners({ store, permission }),
    ksa: async () => ({ title: 'unused', sections: [] }),
    incident: async () => ({ title: 'unused', sections: [] }),
  } satisfies Runners;
  const run = async (task: DeferredTask, userId?: string) => {
    const doc = await runCommand(runners, { command: commandOf(task, userId), now: NOW });
    assert.ok(doc, 'silence and unsilence always answer');
    return doc;
  };
  return { store, binding, pool, asked, run };
}

describe('silence and unsilence, run from a deferred command', () => {
  it('silences by matchers for the duration, saying which open incidents it holds back', async () => {
    const { store, binding, run } = await setUp();
    const doc = await run({
      kind: 'silence',
      target: { matchers: { namespace: 'checkout', kind: 'binding-missing', project: undefined } },
      durationMs: 2 * 3_600_000,
      reason: 'rotating the GSA',
    });
    const id = silenceIdOf('cmd-silence-U0ALICE');
    assert.deepEqual(await store.listSilences(), [
      {
        id,
        matchers: { namespace: 'checkout', kind: 'binding-missing' },
        createdAt: NOW.toISOString(),
        expiresAt: '2026-11-29T12:00:00.000Z',
        author: '@alice (U0ALICE)',
        reason: 'rotating the GSA',
      },
    ]);
    const text = renderDocText(doc);
    assert.match(text, /^🔕 Silenced for 2 h, until 2026-11-29 12:00 UTC/);
    assert.match(text, /It holds back 1 open incident/);
    assert.match(text, /binding-missing: checkout\/cart can no longer act/);
    assert.ok(!text.includes('nodepool-metadata-disabled'));
    assert.equal(activeSilence(binding.finding, await store.listSilences(), NOW)?.id, id);
  });

  it('silences an open incident by its id (its fingerprint), and the same command twice saves one silence', async () => {
    const { store, pool, run } = await setUp();
    const task: DeferredTask = {
      kind: 'silence',
      target: { incidentId: pool.id },
      durationMs: 1_800_000,
      reason: 'x',
    };
    await run(task);
    await run(task);
    const silences = await store.listSilences();
    assert.equal(silences.length, 1);
    assert.deepEqual(silences[0]?.matchers, { fingerprint: pool.fingerprint });
    const missing = renderDocText(await run({ ...task, target: { incidentId: '0000000000000000-zz' } }));
    assert.match(missing, /^ℹ️ No open incident 0000000000000000-zz/);
  });

  it('re-checks the permission with the user the command carries, and changes nothing when refused', async () => {
    const { store, asked, run } = await setUp();
    const refused = renderDocText(
      await run(
        { kind: 'silence', target: { fingerprint: 'binding-missing/x' }, durationMs: 60_000, reason: 'r' },
        'U0MALLORY',
      ),
    );
    assert.match(refused, /^⛔ You may not silence or unsilence\nnot on call/);
    assert.deepEqual(asked, ['U0MALLORY']);
    assert.deepEqual(await store.listSilences(), []);
  });

  it('unsilences by id, and says so when there is no such silence', async () => {
    const { store, run } = await setUp();
    await run({
      kind: 'silence',
      target: { fingerprint: 'binding-missing/x' },
      durationMs: 60_000,
      reason: 'r',
    });
    const id = silenceIdOf('cmd-silence-U0ALICE');
    assert.match(renderDocText(await run({ kind: 'unsilence', id }, 'U0MALLORY')), /^⛔/);
    assert.equal((await store.listSilences()).length, 1);
    assert.match(renderDocText(await run({ kind: 'unsilence', id })), new RegExp(`^🔔 Silence ${id} ended`));
    assert.deepEqual(await store.listSilences(), []);
    assert.match(renderDocText(await run({ kind: 'unsilence', id })), new RegExp(`^ℹ️ No silence ${id}`));
  });
});

describe('plan, run from a deferred command', () => {
  it('stores the plan beside the silences (expiring like them), and findings it covers fall under it', async () => {
    const { store, run } = await setUp();
    const doc = await run({
      kind: 'plan',
      matchers: { actor: 'deployer@*', namespace: 'checkout', tool: undefined },
      durationMs: 3 * 3_600_000,
      reason: 'moving checkout to new GSAs',
    });
    const id = planIdOf('cmd-plan-U0ALICE');
    const stored = await store.listSilences();
    assert.deepEqual(stored, [
      {
        id,
        matchers: { actor: 'deployer@*', namespace: 'checkout' },
        createdAt: NOW.toISOString(),
        expiresAt: '2026-11-29T13:00:00.000Z',
        author: '@alice (U0ALICE)',
        reason: 'moving checkout to new GSAs',
        effect: 'plan',
      },
    ]);
    const text = renderDocText(doc);
    assert.match(text, /^🗓️ Planned for 3 h, until 2026-11-29 13:00 UTC/);
    assert.match(text, /Covers {2}actor=deployer@\*,namespace=checkout/);
    assert.match(text, /pages nobody, unless pods start failing/);
    // A plan is no silence: it holds no incident back from people.
    const byDeployer = bindingFinding({
      cause: { method: 'SetIAMPolicy', actor: 'deployer@orbit-prod.iam.gserviceaccount.com' },
    });
    assert.equal(activeSilence(byDeployer, stored, NOW), undefined);
    assert.equal(planFor(byDeployer, stored, [], NOW)?.id, id);
    assert.equal(planFor(bindingFinding(), stored, [], NOW), undefined, 'erin@ is not covered');
    assert.equal(planFor(byDeployer, stored, [], new Date('2026-11-29T13:00:01Z')), undefined, 'expired');
  });

  it('is refused to those who may not silence', async () => {
    const { store, run } = await setUp();
    const doc = await run(
      { kind: 'plan', matchers: { actor: 'x@*' }, durationMs: 60_000, reason: 'r' },
      'U0BOB',
    );
    assert.match(renderDocText(doc), /^⛔ You may not silence or unsilence/);
    assert.deepEqual(await store.listSilences(), []);
  });
});
