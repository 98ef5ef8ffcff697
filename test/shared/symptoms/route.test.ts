import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { routeOf } from '../../../shared/symptoms/route.ts';
import { asDelivery, monitoringFixture } from './fixtures.ts';
import { failureEntry, TEXT } from './support.ts';

const failing = () =>
  failureEntry({
    namespace: 'checkout',
    pod: 'cart-6d8-a',
    at: Date.UTC(2026, 10, 28, 10),
    text: TEXT.goDenied,
  });

describe('routeOf: the path a delivery takes, told from its raw text', () => {
  test('a container entry carrying a signature is decoded once, in the envelope it came in', () => {
    const delivery = asDelivery(failing(), 'c-1');
    const route = routeOf(delivery);
    assert.deepEqual(route, { path: 'container', value: delivery });
    // A delivery as the function receives it on the wire: parsed here, once.
    assert.deepEqual(routeOf(JSON.stringify(delivery)), { path: 'container', value: delivery });
  });

  test('the resource type is found in any JSON spacing', () => {
    const json = JSON.stringify(failing(), null, 2).replace(
      '"type": "k8s_container"',
      '"type" :\t"k8s_container"',
    );
    assert.equal(routeOf(asDelivery(failing(), 'c-2', json)).path, 'container');
  });

  test('a container entry without any signature’s needle is noise, acknowledged unparsed', () => {
    const quiet = { ...failing(), textPayload: 'GET /healthz 200 3ms' };
    assert.deepEqual(routeOf(asDelivery(quiet, 'c-3')), {
      path: 'noise',
      reason: 'container log without a credential-failure signature',
    });
  });

  test('words a notification carries do not make one: anything else goes to the audit path', () => {
    const lookalike = {
      ...failing(),
      resource: { type: 'gce_instance' },
      jsonPayload: { incident: 'x', version: '1.2' },
    };
    assert.deepEqual(routeOf(asDelivery(lookalike, 'a-1')), { path: 'audit' });
    assert.deepEqual(routeOf(asDelivery('{"incident": {"version": "truncated'.slice(0, 30), 'a-2')), {
      path: 'audit',
    });
    assert.deepEqual(routeOf(42), { path: 'audit' });
  });

  test('a Monitoring notification, wrapped or bare', () => {
    const notification = monitoringFixture('closed-promql-labels');
    assert.deepEqual(routeOf(asDelivery(notification, 'm-1')), { path: 'monitoring', notification });
    assert.deepEqual(routeOf(notification), { path: 'monitoring', notification });
  });
});
