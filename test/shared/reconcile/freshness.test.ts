import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detect } from '../../../shared/detect/index.ts';
import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';
import { step } from '../../../shared/incidents/lifecycle.ts';
import { eventTime, isEmpty, staleResolutions } from '../../../shared/reconcile/freshness.ts';
import { loadSnapshot, ORBIT } from '../../support/snapshots.ts';
import { gsaLifecycle, gsaPolicy, nodePool, projectPolicy, remove } from '../detect/cases/events.ts';

/** The events of the cases happen at 2026-11-28T10:00:00Z. */
const EVENT = Date.parse('2026-11-28T10:00:00Z');
const BEFORE = EVENT - 60_000;
const AFTER = EVENT + 60_000;
const CORE = `${ORBIT.project}/${ORBIT.core.location}/${ORBIT.core.name}`;

/** The open incident an event opened, and the resolution a sweep would give it. */
function openedAndResolved(event: Parameters<typeof detect>[0]): { open: Incident[]; resolved: Finding[] } {
  const finding = detect(event, loadSnapshot()).find((f) => f.status === 'firing');
  assert.ok(finding, 'the event breaks something');
  const { next } = step(undefined, finding, 'event:1', new Date(EVENT + 5_000));
  assert.ok(next);
  return { open: [next], resolved: [{ ...finding, status: 'resolved' }] };
}

const times = (entries: {
  gsas?: [string, number][];
  clusters?: [string, number][];
  pools?: [string, number][];
}) => ({
  gsas: new Map(entries.gsas ?? []),
  clusters: new Map(entries.clusters ?? []),
  pools: new Map(entries.pools ?? []),
});

describe('staleResolutions: what is read directly before a resolution may rest on the index', () => {
  test('a GSA disabled by the event: its record must be newer than the event', () => {
    const { open, resolved } = openedAndResolved(gsaLifecycle('disable', { gsa: ORBIT.cart }));
    assert.deepEqual(staleResolutions(resolved, open, times({ gsas: [[ORBIT.cart, BEFORE]] })).gsas, [
      ORBIT.cart,
    ]);
    assert.deepEqual(staleResolutions(resolved, open, times({})).gsas, [ORBIT.cart]);
    assert.ok(isEmpty(staleResolutions(resolved, open, times({ gsas: [[ORBIT.cart, AFTER]] }))));
  });

  test('a binding: the index dates no policy, so the GSA is always read again', () => {
    const { open, resolved } = openedAndResolved(
      gsaPolicy(ORBIT.cart, [remove(ORBIT.classic('checkout', 'cart'))]),
    );
    assert.deepEqual(staleResolutions(resolved, open, times({ gsas: [[ORBIT.cart, AFTER]] })), {
      gsas: [ORBIT.cart],
      clusters: [],
      projects: [],
    });
  });

  test('a GSA deleted: its repair is a binding again, so the GSA is always read again', () => {
    const { open, resolved } = openedAndResolved(gsaLifecycle('delete', { gsa: ORBIT.cart }));
    assert.deepEqual(staleResolutions(resolved, open, times({ gsas: [[ORBIT.cart, AFTER]] })).gsas, [
      ORBIT.cart,
    ]);
  });

  test('a node pool: its own record decides, else its cluster’s', () => {
    const { open, resolved } = openedAndResolved(nodePool('update', 'highmem', { metadataServer: false }));
    const stale = staleResolutions(
      resolved,
      open,
      times({ clusters: [[CORE, AFTER]], pools: [[`${CORE}/highmem`, BEFORE]] }),
    );
    assert.deepEqual(stale.clusters, [{ project: ORBIT.project, ...ORBIT.core }]);
    assert.ok(
      isEmpty(
        staleResolutions(
          resolved,
          open,
          times({ clusters: [[CORE, BEFORE]], pools: [[`${CORE}/highmem`, AFTER]] }),
        ),
      ),
    );
    assert.ok(isEmpty(staleResolutions(resolved, open, times({ clusters: [[CORE, AFTER]] }))));
  });

  test('a broad role on the project: its policy is read again', () => {
    const event = projectPolicy([
      { action: 'ADD', role: 'roles/editor', member: `serviceAccount:${ORBIT.cart}` },
    ]);
    const { open, resolved } = openedAndResolved(event);
    const stale = staleResolutions(resolved, open, times({ gsas: [[ORBIT.cart, AFTER]] }));
    assert.deepEqual(stale.projects, [ORBIT.project]);
  });

  test('firing findings are none of its business', () => {
    const { open, resolved } = openedAndResolved(gsaLifecycle('disable', { gsa: ORBIT.cart }));
    const firing = resolved.map((f) => ({ ...f, status: 'firing' as const }));
    assert.ok(isEmpty(staleResolutions(firing, open, times({}))));
  });
});

describe('eventTime: the newest event behind an incident', () => {
  test('the causes of its transitions, not when wi-sentinel opened it', () => {
    const { open } = openedAndResolved(gsaLifecycle('disable', { gsa: ORBIT.cart }));
    const [incident] = open;
    assert.ok(incident);
    assert.equal(eventTime(incident), EVENT);
    const again = {
      ...incident,
      transitions: [
        ...incident.transitions,
        {
          ...incident.transitions[0],
          seq: 2,
          type: 'updated' as const,
          cause: { method: 'x', time: '2026-11-28T11:00:00Z' },
        },
      ],
    };
    assert.equal(eventTime(again as Incident), Date.parse('2026-11-28T11:00:00Z'));
  });

  test('opened by a sweep (no cause): when it was opened', () => {
    const { open } = openedAndResolved(gsaLifecycle('disable', { gsa: ORBIT.cart }));
    const [incident] = open;
    assert.ok(incident);
    const bySweep = { ...incident, transitions: incident.transitions.map(({ cause: _, ...t }) => t) };
    assert.equal(eventTime(bySweep), EVENT + 5_000);
  });
});
