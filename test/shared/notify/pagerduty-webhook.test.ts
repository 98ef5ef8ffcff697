import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  readWebhook,
  signPagerDutyWebhook,
  verifyPagerDutySignature,
} from '../../../shared/notify/pagerduty-webhook.ts';
import { pagerDutyEventBody } from '../../support/interaction.ts';

const SECRET = 'pd-webhook-unit-secret';
const body = Buffer.from(pagerDutyEventBody('incident.acknowledged', 'a'.repeat(64), { id: 'EV1' }));
const hex = (secret: string, bytes: Uint8Array) => createHmac('sha256', secret).update(bytes).digest('hex');

describe('X-PagerDuty-Signature (v1: hex HMAC-SHA256 of the raw body)', () => {
  it('takes a matching v1 signature, alone or among others during a rotation', () => {
    assert.deepEqual(verifyPagerDutySignature(SECRET, `v1=${hex(SECRET, body)}`, body), { ok: true });
    assert.deepEqual(
      verifyPagerDutySignature(SECRET, `v1=${hex('old', body)}, v1=${hex(SECRET, body)}`, body),
      { ok: true },
    );
    assert.equal(
      signPagerDutyWebhook(['old', SECRET], body),
      `v1=${hex('old', body)},v1=${hex(SECRET, body)}`,
    );
  });

  it('refuses the rest, saying why for the log', () => {
    const reasons = [
      verifyPagerDutySignature(SECRET, undefined, body),
      verifyPagerDutySignature(SECRET, 'v0=abc', body),
      verifyPagerDutySignature(SECRET, 'v1=xyz', body),
      verifyPagerDutySignature(SECRET, `v1=${hex('another', body)}`, body),
      verifyPagerDutySignature(SECRET, `v1=${hex(SECRET, body)}`, Buffer.concat([body, Buffer.from(' ')])),
      verifyPagerDutySignature(SECRET, `v1=${hex(SECRET, body)}`, Buffer.alloc(300 * 1024)),
    ].map((check) => (check.ok ? 'ok' : check.reason));
    assert.deepEqual(reasons, [
      'missing-signature',
      'malformed-signature',
      'malformed-signature',
      'bad-signature',
      'bad-signature',
      'body-too-large',
    ]);
  });
});

describe('readWebhook', () => {
  it('reads the event, who did it, and the incident_key (our dedup_key)', () => {
    const read = readWebhook(
      Buffer.from(
        pagerDutyEventBody('incident.reassigned', 'b'.repeat(64), { id: 'EV2', assignees: ['Carol'] }),
      ),
    );
    assert.equal(read.outcome, 'event');
    const event = read.outcome === 'event' ? read.event : undefined;
    assert.equal(event?.id, 'EV2');
    assert.equal(event?.type, 'incident.reassigned');
    assert.equal(event?.agent, 'Bob Oncall');
    assert.equal(event?.incidentKey, 'b'.repeat(64));
    assert.deepEqual(event?.assignees, ['Carol']);
  });

  it('cleans a lone surrogate out of who did it and the assignees', () => {
    const read = readWebhook(
      Buffer.from(
        pagerDutyEventBody('incident.reassigned', 'b'.repeat(64), {
          agent: 'Bob\ud800',
          assignees: ['Ca\udc00rol'],
        }),
      ),
    );
    const event = read.outcome === 'event' ? read.event : undefined;
    assert.equal(event?.agent, 'Bob\ufffd');
    assert.deepEqual(event?.assignees, ['Ca\ufffdrol']);
  });

  it('ignores other events and names what is unreadable', () => {
    assert.equal(
      readWebhook(Buffer.from(pagerDutyEventBody('incident.priority_updated', 'c'))).outcome,
      'ignored',
    );
    assert.equal(
      readWebhook(Buffer.from(JSON.stringify({ event: { event_type: 'pagey.ping' } }))).outcome,
      'ignored',
    );
    assert.deepEqual(readWebhook(Buffer.from('[')), { outcome: 'unreadable', problem: 'not JSON' });
    assert.deepEqual(readWebhook(Buffer.from('{}')), { outcome: 'unreadable', problem: 'no event' });
  });
});
