import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Silence } from '../../../shared/domain/incident.ts';
import { renderDocText } from '../../../shared/status/doc.ts';
import { helpDoc, incidentsDoc } from '../../../shared/status/views.ts';
import { bindingFinding } from '../../support/findings.ts';
import { poolFinding } from '../notify/slack-incident.ts';
import { incidentOf } from './incidents.ts';

const NOW = new Date('2026-11-29T10:00:00Z');

describe('helpDoc', () => {
  it('lists every subcommand, the asked-about one first, under what was not understood', () => {
    const plain = renderDocText(helpDoc());
    assert.match(plain, /^ℹ️ \/wi-status: is Workload Identity healthy\?\n\/wi-status\n/);
    for (const usage of [
      'CLUSTER',
      'NAMESPACE/KSA [--cluster CLUSTER]',
      'incidents',
      'silence TARGET DURATION REASON',
      'unsilence ID',
      'public …',
    ])
      assert.ok(plain.includes(`/wi-status ${usage}`), usage);
    const about = renderDocText(
      helpDoc({ problem: 'say why', topic: 'silence' }, { command: 'wi-sentinel status' }),
    );
    assert.match(
      about,
      /^ℹ️ say why\nWhat I answer:\n {2}wi-sentinel status silence TARGET DURATION REASON\n/,
    );
  });
});

describe('incidentsDoc', () => {
  it('lists open incidents with their ids and age, then the active silences with their matchers', () => {
    const binding = incidentOf(bindingFinding(), '2026-11-29T09:48:00Z');
    const pool = { ...incidentOf(poolFinding(), '2026-11-28T09:00:00Z'), silencedBy: 's-0123456789' };
    const silences: Silence[] = [
      {
        id: 's-0123456789',
        matchers: { fingerprint: pool.fingerprint },
        createdAt: '2026-11-29T09:00:00Z',
        expiresAt: '2026-11-29T12:00:00Z',
        author: '@alice (U0ALICE)',
        reason: 'pool migration',
      },
      { ...structuredClone(silences0()), id: 's-expired', expiresAt: '2026-11-29T09:59:00Z' },
    ];
    const text = renderDocText(incidentsDoc([binding, pool], silences, NOW));
    assert.equal(
      text,
      [
        '🔴 2 open incidents (2 critical)',
        'Open incidents:',
        '  🔴 binding-missing: checkout/cart can no longer act as cart@orbit-prod.iam.gserviceaccount.com',
        `      opened 12 min ago · id ${binding.id}`,
        '  🔕 nodepool-metadata-disabled: Node pool general of core-1 no longer runs the GKE metadata server: 2 KSAs, 5 pods lose their credentials',
        `      opened 25 h ago · silenced by s-0123456789 · id ${pool.id}`,
        'Active silences (1):',
        '  🔕 s-0123456789 until 2026-11-29 12:00 UTC (2 h left) · @alice (U0ALICE): pool migration',
        `      fingerprint=${pool.fingerprint}`,
        '· `/wi-status silence ID DURATION REASON` holds one back · `/wi-status plan MATCHERS DURATION REASON` declares a planned change · `/wi-status unsilence ID` ends either',
      ].join('\n'),
    );
    assert.match(renderDocText(incidentsDoc([], [], NOW)), /^✅ No open incident/);
  });

  it('lists planned changes apart, and a planned incident as planned, not paged', () => {
    const plan: Silence = {
      id: 'p-0123456789',
      matchers: { actor: 'deployer@*', namespace: 'checkout' },
      createdAt: '2026-11-29T09:30:00Z',
      expiresAt: '2026-11-29T11:30:00Z',
      author: '@alice (U0ALICE)',
      reason: 'moving checkout to the new GSA',
      effect: 'plan',
    };
    const planned = {
      ...incidentOf(bindingFinding(), '2026-11-29T09:48:00Z'),
      planned: { id: plan.id, reason: plan.reason, author: plan.author },
    };
    const text = renderDocText(
      incidentsDoc([planned], [plan, { ...plan, id: 'p-old', expiresAt: '2026-11-29T09:59:00Z' }], NOW),
    );
    assert.match(text, /^🔴 1 open incident \(1 critical\)\nOpen incidents:\n {2}🗓️ binding-missing: /);
    assert.match(text, / {6}opened 12 min ago · planned \(p-0123456789\): not paged · id /);
    assert.match(
      text,
      /\nPlanned changes \(1\):\n {2}🗓️ p-0123456789 until 2026-11-29 11:30 UTC \(1 h 30 min left\) · @alice \(U0ALICE\): moving checkout to the new GSA\n {6}actor=deployer@\*,namespace=checkout\n/,
    );
    assert.doesNotMatch(text, /Active silences/);
    assert.doesNotMatch(text, /p-old/);
  });
});

function silences0(): Silence {
  return {
    id: 's-x',
    matchers: { namespace: 'x' },
    createdAt: '2026-11-29T08:00:00Z',
    expiresAt: '2026-11-29T09:00:00Z',
    author: 'U0BOB',
    reason: 'old',
  };
}
