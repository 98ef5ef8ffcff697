import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding, FindingKind, KsaRef, WorkloadRef } from '../../../shared/domain/finding.ts';
import { linksOf } from '../../../shared/notify/links.ts';
import {
  cut,
  dedupKey,
  LIST_LIMIT,
  locationOf,
  MAX_DEDUP_KEY,
  MAX_EVENT_BYTES,
  MAX_SUMMARY,
  REMEDIATION_LIMIT,
  toPagerDutyEvent,
} from '../../../shared/notify/pagerduty-render.ts';
import { validate } from '../../fakes/pagerduty.ts';
import { bindingMissing, incidentOf, ROUTING_KEY } from './pagerduty-incident.ts';

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function ksas(count: number): KsaRef[] {
  return Array.from({ length: count }, (_, i) => ({
    workloadPool: 'orbit-prod.svc.id.goog',
    namespace: `ns-${i % 7}`,
    name: `ksa-${i}`,
  }));
}

function workloads(count: number): WorkloadRef[] {
  return Array.from({ length: count }, (_, i) => ({
    cluster: 'core-1',
    namespace: `ns-${i % 7}`,
    kind: 'Deployment',
    name: `app-${i}`,
    pods: 2,
  }));
}

function bytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}

describe('toPagerDutyEvent: trigger', () => {
  test('renders every field of the Events v2 body from the incident', () => {
    const finding = bindingMissing();
    const event = toPagerDutyEvent(incidentOf(finding), ROUTING_KEY, 'trigger');
    assert.deepEqual(event, {
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: dedupKey(finding.fingerprint),
      payload: {
        summary: 'checkout/cart can no longer act as cart@orbit-prod.iam.gserviceaccount.com',
        source: 'cart@orbit-prod.iam.gserviceaccount.com',
        severity: 'critical',
        timestamp: '2026-11-20T09:00:00.000Z',
        component: 'checkout/cart',
        group: 'orbit-prod/core-1',
        class: 'binding-missing',
        custom_details: {
          summary: 'checkout/cart can no longer act as cart@orbit-prod.iam.gserviceaccount.com',
          kind: 'binding-missing',
          severity: 'critical',
          project: 'orbit-prod',
          cluster: 'europe-west4/core-1',
          node_pool: 'general',
          gsa: 'cart@orbit-prod.iam.gserviceaccount.com',
          ksas: ['orbit-prod.svc.id.goog[checkout/cart]'],
          ksa_count: 1,
          workloads: ['core-1: checkout Deployment/cart (general, 3 pods)'],
          workload_count: 1,
          actor: 'erin@example.org',
          method: 'google.iam.admin.v1.SetIAMPolicy',
          time: '2026-11-20T09:00:00Z',
          insert_id: 'e-1',
          remediation: [
            {
              title: 'Restore the Workload Identity binding',
              command:
                'gcloud iam service-accounts add-iam-policy-binding cart@orbit-prod.iam.gserviceaccount.com --role roles/iam.workloadIdentityUser --member "serviceAccount:orbit-prod.svc.id.goog[checkout/cart]"',
            },
          ],
          fingerprint: finding.fingerprint,
          incident: 'inc-0001',
          opened_at: '2026-11-20T09:00:04Z',
        },
      },
      links: linksOf(finding),
      client: 'wi-sentinel',
    });
    assert.deepEqual(validate(event as unknown as Record<string, unknown>), []);
  });

  test('is pure: the same incident renders the same body and is left unchanged', () => {
    const incident = incidentOf(bindingMissing());
    const before = structuredClone(incident);
    assert.deepEqual(
      toPagerDutyEvent(incident, ROUTING_KEY, 'trigger'),
      toPagerDutyEvent(incident, ROUTING_KEY, 'trigger'),
    );
    assert.deepEqual(incident, before);
  });

  test('cuts a 5,000-character summary to at most 1,024, cleanly, and keeps more of it in custom_details', () => {
    const words = Array.from({ length: 1000 }, (_, i) => `w${i}`).join(' ');
    const long = `checkout/cart lost its binding: ${words}`.padEnd(5000, ' x');
    assert.equal(long.length, 5000);
    const event = toPagerDutyEvent(incidentOf(bindingMissing({ summary: long })), ROUTING_KEY, 'trigger');
    const summary = event.payload.summary;
    assert.ok(summary.length <= MAX_SUMMARY, `summary is ${summary.length} long`);
    assert.ok(summary.length > MAX_SUMMARY - 120, 'not cut much shorter than it must');
    assert.ok(summary.endsWith('…'));
    assert.ok(long.startsWith(summary.slice(0, -1)));
    assert.match(summary, /\S…$/, 'cut at a word end, no trailing space');
    assert.ok(String(event.payload.custom_details.summary).length > MAX_SUMMARY);
  });

  test('a summary is one line; an exact 1,024 is kept whole; an empty one still gives PagerDuty a summary', () => {
    const lines = toPagerDutyEvent(
      incidentOf(bindingMissing({ summary: 'first line\n  second\tline ' })),
      ROUTING_KEY,
      'trigger',
    );
    assert.equal(lines.payload.summary, 'first line second line');
    const exact = 'a'.repeat(MAX_SUMMARY);
    assert.equal(
      toPagerDutyEvent(incidentOf(bindingMissing({ summary: exact })), ROUTING_KEY, 'trigger').payload
        .summary,
      exact,
    );
    const empty = toPagerDutyEvent(incidentOf(bindingMissing({ summary: '  ' })), ROUTING_KEY, 'trigger');
    assert.equal(empty.payload.summary, 'binding-missing in orbit-prod');
  });

  test('never splits a character made of two UTF-16 units', () => {
    for (let pad = 0; pad < 4; pad++) {
      const summary = `${'x'.repeat(1000 + pad)}${'🔥'.repeat(40)}`;
      const event = toPagerDutyEvent(incidentOf(bindingMissing({ summary })), ROUTING_KEY, 'trigger');
      assert.ok(event.payload.summary.length <= MAX_SUMMARY);
      assert.doesNotMatch(event.payload.summary, LONE_SURROGATE);
    }
  });

  test('2,000 KSAs and workloads: lists cut with a count, the event stays small and valid', () => {
    const finding = bindingMissing({ ksas: ksas(2000), workloads: workloads(2000) });
    const event = toPagerDutyEvent(incidentOf(finding), ROUTING_KEY, 'trigger');
    const details = event.payload.custom_details;
    assert.equal(details.ksa_count, 2000);
    assert.equal(details.workload_count, 2000);
    const listed = details.ksas as string[];
    assert.equal(listed.length, LIST_LIMIT + 1);
    assert.equal(listed[0], 'orbit-prod.svc.id.goog[ns-0/ksa-0]');
    assert.equal(listed.at(-1), `… and ${2000 - LIST_LIMIT} more`);
    assert.equal((details.workloads as string[]).at(-1), `… and ${2000 - LIST_LIMIT} more`);
    assert.ok(bytes(event) < 20_000, `event is ${bytes(event)} bytes`);
    assert.deepEqual(validate(event as unknown as Record<string, unknown>, bytes(event)), []);
  });

  test('the largest finding imaginable still fits PagerDuty’s 512 KB', () => {
    const huge = 'h'.repeat(100_000);
    const finding = bindingMissing({
      fingerprint: `binding-missing/${huge}`,
      summary: huge,
      gsa: `${huge}@orbit-prod.iam.gserviceaccount.com`,
      nodePool: huge,
      cluster: { location: huge, name: huge },
      ksas: Array.from({ length: 5000 }, () => ({ workloadPool: huge, namespace: huge, name: huge })),
      workloads: Array.from({ length: 5000 }, () => ({
        cluster: huge,
        namespace: huge,
        kind: huge,
        name: huge,
      })),
      cause: {
        method: huge,
        actor: huge,
        time: huge,
        insertId: huge,
        operationId: huge,
        userAgent: huge,
        delegation: Array.from({ length: 500 }, () => huge),
        via: { tool: 'unknown', label: huge, module: huge },
      },
      remediation: Array.from({ length: 500 }, () => ({
        title: huge,
        command: huge,
        language: 'hcl' as const,
      })),
      remediationWarning: huge,
    });
    const event = toPagerDutyEvent(incidentOf(finding), ROUTING_KEY, 'trigger');
    // Commands are kept whole up to COMMAND_LIMIT: PagerDuty holds the full repair Slack may cut.
    assert.ok(bytes(event) < 200_000, `event is ${bytes(event)} bytes`);
    assert.ok(bytes(event) < MAX_EVENT_BYTES);
    assert.equal((event.payload.custom_details.remediation as unknown[]).length, REMEDIATION_LIMIT);
    assert.equal(event.payload.custom_details.remediation_count, 500);
    assert.ok(event.links.every((link) => link.href.length <= 2048));
    assert.deepEqual(validate(event as unknown as Record<string, unknown>, bytes(event)), []);
  });

  test('timestamp: the change’s time, else when the incident was last updated, always ISO 8601', () => {
    const at = (cause: Finding['cause'] | undefined) => {
      const { cause: _, ...rest } = bindingMissing();
      const finding: Finding = cause === undefined ? rest : { ...rest, cause };
      return toPagerDutyEvent(
        incidentOf(finding, { updatedAt: '2026-11-20T09:05:00Z' }),
        ROUTING_KEY,
        'trigger',
      ).payload.timestamp;
    };
    assert.equal(at({ method: 'm', time: '2026-11-20T10:00:00+01:00' }), '2026-11-20T09:00:00.000Z');
    assert.equal(at({ method: 'm', time: 'yesterday-ish' }), '2026-11-20T09:05:00.000Z');
    assert.equal(at(undefined), '2026-11-20T09:05:00.000Z');
  });
});

describe('toPagerDutyEvent: where the break is', () => {
  const cluster = { location: 'europe-west4', name: 'core-1' };
  const clusterSource = 'projects/orbit-prod/locations/europe-west4/clusters/core-1';
  const gsa = 'cart@orbit-prod.iam.gserviceaccount.com';
  const one = ksas(1);
  const cases: {
    kind: FindingKind;
    finding: Partial<Finding>;
    source: string;
    component?: string;
    group: string;
  }[] = [
    {
      kind: 'cluster-wi-disabled',
      finding: { cluster, ksas: ksas(3) },
      source: clusterSource,
      group: 'orbit-prod/core-1',
    },
    {
      kind: 'nodepool-metadata-disabled',
      finding: { cluster, nodePool: 'general' },
      source: clusterSource,
      component: 'general',
      group: 'orbit-prod/core-1',
    },
    {
      kind: 'annotation-missing',
      finding: { cluster, gsa, ksas: one },
      source: clusterSource,
      component: 'ns-0/ksa-0',
      group: 'orbit-prod/core-1',
    },
    {
      kind: 'metadata-egress-blocked',
      finding: {
        cluster,
        ksas: [
          { workloadPool: 'orbit-prod.svc.id.goog', namespace: 'shop', name: 'cart' },
          { workloadPool: 'orbit-prod.svc.id.goog', namespace: 'shop', name: 'till' },
        ],
      },
      source: clusterSource,
      component: 'shop/*',
      group: 'orbit-prod/core-1',
    },
    {
      kind: 'key-file-override',
      finding: { cluster, ksas: ksas(2) },
      source: clusterSource,
      group: 'orbit-prod/core-1',
    },
    {
      kind: 'binding-missing',
      finding: { gsa, ksas: one },
      source: gsa,
      component: 'ns-0/ksa-0',
      group: 'orbit-prod',
    },
    {
      kind: 'binding-orphaned',
      finding: { gsa, ksas: one },
      source: gsa,
      component: 'ns-0/ksa-0',
      group: 'orbit-prod',
    },
    { kind: 'gsa-missing', finding: { gsa, ksas: ksas(4) }, source: gsa, group: 'orbit-prod' },
    { kind: 'gsa-disabled', finding: { gsa }, source: gsa, group: 'orbit-prod' },
    { kind: 'gsa-shared', finding: { gsa, ksas: ksas(2) }, source: gsa, group: 'orbit-prod' },
    {
      kind: 'gsa-broad-role',
      finding: { gsa },
      source: 'projects/orbit-prod',
      component: gsa,
      group: 'orbit-prod',
    },
    // A field the kind would name is absent: the next most specific place.
    {
      kind: 'binding-missing',
      finding: { cluster, ksas: one },
      source: clusterSource,
      component: 'ns-0/ksa-0',
      group: 'orbit-prod/core-1',
    },
    { kind: 'cluster-wi-disabled', finding: {}, source: 'projects/orbit-prod', group: 'orbit-prod' },
  ];
  for (const { kind, finding: fields, source, component, group } of cases) {
    test(`${kind} with ${Object.keys(fields).join(', ') || 'project only'} → ${source}${component ? ` / ${component}` : ''}`, () => {
      const finding: Finding = {
        kind,
        status: 'firing',
        severity: 'critical',
        fingerprint: `${kind}/x`,
        project: 'orbit-prod',
        ksas: [],
        summary: 's',
        ...fields,
      };
      assert.deepEqual(locationOf(finding), { source, ...(component ? { component } : {}) });
      const payload = toPagerDutyEvent(incidentOf(finding), ROUTING_KEY, 'trigger').payload;
      assert.equal(payload.source, source);
      assert.equal(payload.component, component);
      assert.equal(payload.group, group);
      assert.equal(payload.class, kind);
    });
  }
});

describe('toPagerDutyEvent: resolve and dedup_key', () => {
  test('a resolve carries only routing_key, event_action and dedup_key', () => {
    const finding = bindingMissing();
    const incident = incidentOf(finding, { status: 'resolved', resolvedAt: '2026-11-20T10:00:00Z' });
    const event = toPagerDutyEvent(incident, ROUTING_KEY, 'resolve');
    assert.deepEqual(event, {
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: dedupKey(finding.fingerprint),
    });
    assert.deepEqual(validate(event as unknown as Record<string, unknown>), []);
  });

  test('trigger and resolve of one fingerprint share the dedup_key, whatever else changed', () => {
    const first = incidentOf(bindingMissing());
    const later = incidentOf(bindingMissing({ summary: 'other words', ksas: ksas(9) }), {
      id: 'inc-0002',
      severity: 'error',
    });
    const keys = new Set([
      toPagerDutyEvent(first, ROUTING_KEY, 'trigger').dedup_key,
      toPagerDutyEvent(later, ROUTING_KEY, 'trigger').dedup_key,
      toPagerDutyEvent(first, ROUTING_KEY, 'resolve').dedup_key,
      toPagerDutyEvent(later, 'another-routing-key-of-32-chars!', 'resolve').dedup_key,
      dedupKey(first.fingerprint),
    ]);
    assert.equal(keys.size, 1);
  });

  test('is a SHA-256 in hex: stable, within 255 characters, different for different fingerprints', () => {
    const fingerprint =
      'binding-missing/acme-prod/payments-api@acme-prod.iam.gserviceaccount.com/acme-prod.svc.id.goog/payments/api';
    assert.match(dedupKey(fingerprint), /^[0-9a-f]{64}$/);
    // Pinned to SHA-256's test vector: another hash would re-key every open alert, so resolves would
    // miss their triggers.
    assert.equal(dedupKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const long = dedupKey(`binding-missing/${'x'.repeat(10_000)}`);
    assert.ok(long.length <= MAX_DEDUP_KEY);
    const fingerprints = [
      fingerprint,
      `${fingerprint}2`,
      fingerprint.replace('payments/api', 'payments/worker'),
      fingerprint.replace('binding-missing', 'annotation-missing'),
      'a/b',
      'a/b/',
      'ab',
    ];
    assert.equal(new Set(fingerprints.map(dedupKey)).size, fingerprints.length);
  });
});

describe('cut', () => {
  const cases: [string, number, string][] = [
    ['short', 10, 'short'],
    ['exactly ten', 11, 'exactly ten'],
    ['abcdefghij', 5, 'abcd…'],
    ['a b c d e f g h i j k', 10, 'a b c d e…'],
    ['x🔥y', 3, 'x…'],
  ];
  for (const [text, max, expected] of cases) {
    test(`${JSON.stringify(text)} to ${max} → ${JSON.stringify(expected)}`, () => {
      const result = cut(text, max);
      assert.equal(result, expected);
      assert.ok(result.length <= max);
    });
  }
});
