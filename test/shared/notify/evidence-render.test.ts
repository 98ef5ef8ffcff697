import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Incident, SymptomEvidence } from '../../../shared/domain/incident.ts';
import { toPagerDutyEvent } from '../../../shared/notify/pagerduty-render.ts';
import {
  type Block,
  MAX_BLOCKS,
  MAX_FALLBACK_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  toSlackMessage,
} from '../../../shared/notify/slack-render.ts';
import { validate } from '../../fakes/pagerduty.ts';
import { totalText, validateBlocks } from '../../fakes/slack.ts';
import { openIncident, poolFinding, resolvedIncident } from './slack-incident.ts';

const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12';

/** checkout/cart failing on general since 09:00:40, 40 s after the change of poolFinding (09:00). */
function evidence(overrides: Partial<SymptomEvidence> = {}): SymptomEvidence {
  return {
    key: 'orbit-prod/europe-west4/core-1/checkout/cart',
    scope: 'ksa',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    namespace: 'checkout',
    ksa: 'cart',
    count: 37,
    firstSeen: '2026-11-20T09:00:40Z',
    lastSeen: '2026-11-20T09:07:10Z',
    kinds: { 'token-denied': 37 },
    pods: 3,
    firstPod: 'cart-6d8-a',
    nodePools: ['general'],
    workloads: ['Deployment/cart'],
    samples: [
      {
        time: '2026-11-20T09:00:40Z',
        pod: 'cart-6d8-a',
        kind: 'token-denied',
        library: 'go',
        message: "compute: Received 403 `Permission 'iam.serviceAccounts.getAccessToken' denied` <b>&</b>",
      },
    ],
    at: '2026-11-20T09:07:15Z',
    ...overrides,
  };
}

function texts(blocks: readonly Block[]): string {
  return JSON.stringify(blocks);
}

describe('evidence in the Slack message', () => {
  test('the sentence, the timeline and an escaped sample, after the summary', () => {
    const message = toSlackMessage(openIncident(poolFinding(), { evidence: [evidence()] }));
    const [, summary, felt, sample] = message.blocks;
    assert.equal(summary?.type, 'section');
    assert.equal(
      felt?.type === 'section' ? felt.text?.text : undefined,
      [
        '*What workloads feel* (1 group of failures)',
        '• checkout/cart has failed 37 token requests since 09:00 UTC, 40 s after erin@example.org put general on GCE_METADATA — token refused (403) ×37',
        '*Timeline*',
        '• <!date^1795165200^{date_short_pretty} at {time}|2026-11-20 09:00 UTC> *change*: erin@example.org put general on GCE_METADATA (google.container.v1.ClusterManager.SetNodePoolManagement)',
        '• <!date^1795165240^{date_short_pretty} at {time}|2026-11-20 09:00 UTC> *first failure*: cart-6d8-a (go: token refused (403))',
        '• <!date^1795165630^{date_short_pretty} at {time}|2026-11-20 09:07 UTC> *last failure*: 37 failures in all from 3 pods',
      ].join('\n'),
    );
    assert.match(
      sample?.type === 'section' ? (sample.text?.text ?? '') : '',
      /&lt;b&gt;&amp;&lt;\/b&gt;```$/,
    );
    assert.match(
      message.text,
      /checkout\/cart has failed 37 token requests since 09:00 UTC, 40 s after erin@example\.org/,
    );
  });

  test('resolved: the repair sits between the first and the last failure', () => {
    // frank@ repaired it at 10:00; pods not yet restarted failed until 10:01.
    const stragglers = evidence({ lastSeen: '2026-11-20T10:01:30Z' });
    const resolved = resolvedIncident(openIncident(poolFinding(), { evidence: [stragglers] }));
    const text = texts(toSlackMessage(resolved).blocks);
    assert.match(text, /\*first failure\*.*\*repair\*.*\*last failure\*/);
  });

  test('a diagnosis and what explains a symptom incident are shown, each link marked', () => {
    const incident: Incident = openIncident(
      poolFinding({ kind: 'wi-auth-failures', cause: undefined as never }),
      {
        kind: 'wi-auth-failures',
        evidence: [evidence()],
        diagnosis: {
          checkedAt: '2026-11-20T09:03:00Z',
          healthy: false,
          verdict: 'broken: link 5 (binding-missing) of checkout/cart in core-1',
          links: [
            { link: 4, name: 'GSA exists and is enabled', status: 'ok', detail: 'cart@ exists' },
            {
              link: 5,
              name: "GSA's policy lets the KSA act as it",
              status: 'broken',
              detail: 'no binding',
              kind: 'binding-missing',
            },
            { link: 6, name: 'pods reach the metadata server', status: 'unknown', detail: 'could not check' },
          ],
        },
        explainedBy: [
          {
            fingerprint: 'binding-missing/x',
            id: 'inc-7',
            kind: 'binding-missing',
            summary: 'cart lost its binding',
            at: '2026-11-20T09:05:00Z',
          },
        ],
      },
    );
    const text = texts(toSlackMessage(incident).blocks);
    assert.match(text, /\*Live diagnosis\* .*broken: link 5 \(binding-missing\).*✓ 4\. .*✗ 5\. .*\? 6\. /);
    assert.match(text, /\*Explained by\*\\n• binding-missing \(incident inc-7\): cart lost its binding/);
    assert.doesNotMatch(text, /\*change\*/, 'a symptom incident has no change of its own');
  });

  test('ten groups, 500 KSAs, a 10,000-character summary, 60 steps: within every limit', () => {
    const ksas = Array.from({ length: 500 }, (_, i) => ({
      workloadPool: 'p.svc.id.goog',
      namespace: `t-${i}`,
      name: `k-${i}`,
    }));
    const workloads = Array.from({ length: 500 }, (_, i) => ({
      cluster: 'c',
      namespace: `t-${i}`,
      kind: 'Deployment',
      name: `a-${i}`,
    }));
    const remediation = Array.from({ length: 60 }, (_, i) => ({
      title: `Step ${i}`,
      command: `kubectl rollout restart deployment/a-${i}`,
    }));
    const groups = Array.from({ length: 10 }, (_, i) =>
      evidence({
        key: `k-${i}`,
        ksa: `k-${i}`,
        samples: [{ ...evidence().samples[0], message: 'm'.repeat(600) } as never],
      }),
    );
    const finding = poolFinding({ ksas, workloads, remediation, summary: 'x'.repeat(10_000) });
    for (const incident of [
      openIncident(finding, { evidence: groups }),
      resolvedIncident(openIncident(finding, { evidence: groups })),
    ]) {
      const message = toSlackMessage(incident);
      assert.ok(message.blocks.length <= MAX_BLOCKS);
      assert.deepEqual(validateBlocks(message.blocks), []);
      assert.ok(totalText(message.blocks) <= MAX_TOTAL_BLOCK_TEXT, `block text ${totalText(message.blocks)}`);
      assert.ok(message.text.length <= MAX_FALLBACK_TEXT);
      assert.match(texts(message.blocks), /What workloads feel/, 'the evidence is kept while it fits');
    }
  });
});

describe('evidence in PagerDuty details', () => {
  test('symptoms, timeline, diagnosis and explanation in custom_details, under the same dedup_key', () => {
    const plain = openIncident();
    const withEvidence = openIncident(poolFinding(), {
      evidence: [evidence()],
      explainedBy: [
        {
          fingerprint: 'binding-missing/x',
          id: 'inc-7',
          kind: 'binding-missing',
          summary: 'cart lost its binding',
          at: '2026-11-20T09:05:00Z',
        },
      ],
    });
    const before = toPagerDutyEvent(plain, ROUTING_KEY, 'trigger');
    const event = toPagerDutyEvent(withEvidence, ROUTING_KEY, 'trigger');
    assert.equal(event.dedup_key, before.dedup_key);
    assert.equal(event.payload.summary, before.payload.summary, 'the page itself reads the same');
    const details = event.payload.custom_details;
    assert.deepEqual(details.timeline, [
      '2026-11-20T09:00:00Z change: erin@example.org put general on GCE_METADATA (google.container.v1.ClusterManager.SetNodePoolManagement)',
      '2026-11-20T09:00:40Z first failure: cart-6d8-a (go: token refused (403))',
      '2026-11-20T09:07:10Z last failure: 37 failures in all from 3 pods',
    ]);
    const [symptom] = details.symptoms as Record<string, unknown>[];
    assert.equal(
      symptom?.what,
      'checkout/cart has failed 37 token requests since 2026-11-20T09:00:40Z, 40 s after erin@example.org put general on GCE_METADATA',
    );
    assert.equal(symptom?.failures, 37);
    assert.deepEqual(details.explained_by, ['binding-missing incident inc-7: cart lost its binding']);
    assert.deepEqual(validate(event as never, JSON.stringify(event).length), []);
    assert.equal(toPagerDutyEvent(plain, ROUTING_KEY, 'trigger').payload.custom_details.symptoms, undefined);
  });
});
