import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Incident, SymptomEvidence } from '../../../shared/domain/incident.ts';
import { attachTo, LIMITS, step } from '../../../shared/incidents/lifecycle.ts';
import { bindingFinding, resolvedOf } from '../../support/findings.ts';

const t0 = new Date('2026-11-20T09:00:05Z');
const t1 = new Date('2026-11-20T09:10:00Z');
const t2 = new Date('2026-11-20T09:20:00Z');

describe('incident lifecycle', () => {
  test('the first firing finding opens an incident', () => {
    const { next, transition } = step(undefined, bindingFinding(), 'e-1', t0);
    assert.equal(transition, 'opened');
    assert.ok(next);
    assert.equal(next.status, 'open');
    assert.equal(next.seq, 1);
    assert.equal(next.openedAt, t0.toISOString());
    assert.deepEqual(next.entries, ['e-1']);
    assert.match(next.id, /^[0-9a-f]{16}-[0-9a-z]+$/);
  });

  test('the same entry twice changes nothing', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    assert.deepEqual(step(opened, bindingFinding(), 'e-1', t1), {});
    const resolved = step(opened, resolvedOf(bindingFinding()), 'e-2', t1).next;
    assert.deepEqual(step(resolved, resolvedOf(bindingFinding()), 'e-2', t2), {});
    // The break redelivered after its repair (its first delivery failed to notify) reopens nothing.
    assert.deepEqual(step(resolved, bindingFinding(), 'e-1', t2), {});
  });

  test('more KSAs or workloads update without a new incident, and lists are merged', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    const more = bindingFinding({
      workloads: [
        {
          cluster: 'edge-1',
          namespace: 'checkout',
          kind: 'Deployment',
          name: 'cart',
          nodePool: 'default-pool',
          pods: 2,
        },
      ],
      cause: { method: 'google.iam.admin.v1.SetIAMPolicy', insertId: 'e-3' },
    });
    const { next, transition } = step(opened, more, 'e-3', t1);
    assert.equal(transition, 'updated');
    assert.ok(next && opened);
    assert.equal(next.id, opened.id);
    assert.equal(next.seq, 2);
    assert.deepEqual(
      next.finding.workloads?.map((w) => w.cluster),
      ['core-1', 'edge-1'],
    );
    assert.match(next.transitions.at(-1)?.summary ?? '', /now also hits 1 more workload/);
  });

  test('the same change from another entry is an update, said as such', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    const method = bindingFinding().cause?.method ?? 'google.iam.admin.v1.SetIAMPolicy';
    const again = step(opened, bindingFinding({ cause: { method, actor: 'bob@example.org' } }), 'e-9', t1);
    assert.equal(again.transition, 'updated');
    assert.match(again.next?.transitions.at(-1)?.summary ?? '', /the same change again by bob@example\.org/);
  });

  test('another kind of change to the same link is an update that says what it is', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    const other = bindingFinding({
      cause: { method: 'google.iam.admin.v1.CreateServiceAccount', actor: 'bob@example.org' },
      summary: 'cart@ was re-created without its bindings',
    });
    const next = step(opened, other, 'e-10', t1);
    assert.equal(next.transition, 'updated');
    assert.equal(next.next?.transitions.at(-1)?.summary, 'cart@ was re-created without its bindings');
    assert.equal(next.next?.finding.summary, 'cart@ was re-created without its bindings');
  });

  test('with quiet repeats (the sweep), a confirmation that adds nothing changes nothing; more hit still updates', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    assert.deepEqual(step(opened, bindingFinding(), 'sweep:1', t1, { quietRepeats: true }), {});
    const more = bindingFinding({
      workloads: [{ cluster: 'edge-1', namespace: 'checkout', kind: 'Deployment', name: 'cart', pods: 1 }],
    });
    assert.equal(step(opened, more, 'sweep:2', t2, { quietRepeats: true }).transition, 'updated');
    assert.equal(
      step(undefined, bindingFinding(), 'sweep:3', t2, { quietRepeats: true }).transition,
      'opened',
    );
  });

  test("an operation's last entry confirming its first is no news", () => {
    const cause = {
      method: 'google.container.v1.ClusterManager.UpdateNodePool',
      operationId: 'op-1',
      insertId: 'first',
    };
    const opened = step(undefined, bindingFinding({ cause }), 'first', t0).next;
    assert.deepEqual(step(opened, bindingFinding({ cause: { ...cause, insertId: 'last' } }), 'last', t1), {});
  });

  test('a resolved finding resolves the open incident and records who repaired it', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    const repair = resolvedOf(bindingFinding(), {
      cause: { method: 'google.iam.admin.v1.SetIAMPolicy', actor: 'fran@example.org' },
    });
    const { next, transition } = step(opened, repair, 'e-2', t1);
    assert.equal(transition, 'resolved');
    assert.equal(next?.status, 'resolved');
    assert.equal(next?.resolvedAt, t1.toISOString());
    assert.equal(next?.resolution?.cause?.actor, 'fran@example.org');
    assert.equal(next?.seq, 2);
  });

  test('a resolved finding with no open incident does nothing', () => {
    assert.deepEqual(step(undefined, resolvedOf(bindingFinding()), 'e-2', t0), {});
  });

  test('firing again after resolution opens a new incident', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0).next;
    const resolved = step(opened, resolvedOf(bindingFinding()), 'e-2', t1).next;
    const { next, transition } = step(resolved, bindingFinding(), 'e-3', t2);
    assert.equal(transition, 'opened');
    assert.notEqual(next?.id, opened?.id);
    assert.equal(next?.seq, 1);
  });

  test('severity only rises while open', () => {
    const opened = step(undefined, bindingFinding({ severity: 'error' }), 'e-1', t0).next;
    const worse = step(opened, bindingFinding({ severity: 'critical' }), 'e-2', t1).next;
    assert.equal(worse?.severity, 'critical');
    const calmer = step(worse, bindingFinding({ severity: 'error' }), 'e-3', t2).next;
    assert.equal(calmer?.severity, 'critical');
  });

  test('history, entries and lists stay bounded', () => {
    let incident = step(undefined, bindingFinding(), 'e-0', t0).next;
    for (let i = 1; i <= 150; i += 1) {
      const ksas = [{ workloadPool: 'orbit-prod.svc.id.goog', namespace: 'checkout', name: `ksa-${i}` }];
      const many = Array.from({ length: 20 }, (_, j) => ({
        ...ksas[0],
        name: `ksa-${i}-${j}`,
      })) as typeof ksas;
      incident = step(incident, bindingFinding({ ksas: many }), `e-${i}`, t1).next ?? incident;
    }
    assert.ok(incident);
    assert.equal(incident.transitions.length, LIMITS.transitions);
    assert.equal(incident.entries.length, LIMITS.entries);
    assert.equal(incident.finding.ksas.length, LIMITS.ksas);
    assert.ok(JSON.stringify(incident).length < 512 * 1024, 'well under Firestore’s 1 MiB document limit');
  });
});

describe('planned incidents', () => {
  const plan = { id: 'p-1', reason: 'moving cart to its own GSA', author: '@alice (U0ALICE)' };
  const planOf = () => plan;
  const evidence = (ksa: string, firstSeen: string, lastSeen: string): SymptomEvidence => ({
    key: `orbit-prod/europe-west4/core-1/checkout/${ksa}`,
    scope: 'ksa',
    project: 'orbit-prod',
    cluster: { location: 'europe-west4', name: 'core-1' },
    namespace: 'checkout',
    ksa,
    count: 3,
    firstSeen,
    lastSeen,
    kinds: { 'token-denied': 3 },
    pods: 1,
    nodePools: ['general'],
    workloads: ['Deployment/cart'],
    samples: [],
    at: lastSeen,
  });

  test('a finding a plan covers opens a planned incident', () => {
    const { next } = step(undefined, bindingFinding(), 'e-1', t0, { planOf });
    assert.deepEqual(next?.planned, plan);
  });

  test('failures of its KSA breach the plan: a transition that says why', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0, { planOf }).next as Incident;
    const failing = attachTo(
      opened,
      { evidence: [evidence('cart', '2026-11-20T09:04:00Z', '2026-11-20T09:09:00Z')] },
      t1,
    );
    assert.deepEqual(failing.planned?.breach, {
      at: t1.toISOString(),
      why: 'failures',
      since: '2026-11-20T09:04:00Z',
    });
    assert.equal(failing.seq, 2);
    assert.deepEqual(failing.transitions.at(-1), {
      seq: 2,
      type: 'updated',
      at: t1.toISOString(),
      summary: 'planned change, but pods are failing since 2026-11-20 09:04 UTC',
    });
    // Once breached, more failures are evidence, not news.
    const again = attachTo(
      failing,
      { evidence: [evidence('cart', '2026-11-20T09:04:00Z', '2026-11-20T09:19:00Z')] },
      t2,
    );
    assert.equal(again.seq, 2);
  });

  test('failures of another KSA, or that stopped before the incident opened, breach nothing', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0, { planOf }).next as Incident;
    const other = attachTo(
      opened,
      { evidence: [evidence('pricing', '2026-11-20T09:04:00Z', '2026-11-20T09:09:00Z')] },
      t1,
    );
    assert.equal(other.planned?.breach, undefined);
    const earlier = attachTo(
      opened,
      { evidence: [evidence('cart', '2026-11-20T08:00:00Z', '2026-11-20T08:30:00Z')] },
      t1,
    );
    assert.equal(earlier.planned?.breach, undefined);
  });

  test('a change no plan covers on the same link pages; the sweep re-confirming it does not', () => {
    const opened = step(undefined, bindingFinding(), 'e-1', t0, { planOf }).next as Incident;
    const sweep = { ...bindingFinding({ workloads: [] }) };
    delete sweep.cause;
    const confirmed = step(opened, sweep, 'sweep:1', t1, { planOf: () => undefined }).next;
    assert.equal(confirmed?.planned?.breach, undefined);
    const { next } = step(opened, bindingFinding(), 'e-2', t1, { planOf: () => undefined });
    assert.equal(next?.planned?.breach?.why, 'unplanned');
    assert.match(
      next?.transitions.at(-1)?.summary ?? '',
      /planned change, but a change no plan covers broke the same link/,
    );
  });
});
