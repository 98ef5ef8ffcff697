import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  COMMAND_TTL_MS,
  type DeferredCommand,
  decodeCommand,
  encodeCommand,
  MAC_ATTRIBUTE,
} from '../../../shared/slack/deferred.ts';

const SECRET = 'test-signing-secret-0123456789abcdef';
const NOW = Date.parse('2026-11-29T10:00:00Z');

const command: DeferredCommand = {
  v: 1,
  id: '5f0c8a8e-1111-4c1e-9a55-0123456789ab',
  requestedAt: new Date(NOW).toISOString(),
  task: { kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'core-1' },
  slack: {
    teamId: 'T0FAKETEAM',
    userId: 'U0ALICE',
    userName: 'alice',
    channelId: 'C0ONCALL1',
    responseUrl: 'https://hooks.slack.com/commands/T0FAKETEAM/1/secretpath',
    responseType: 'ephemeral',
  },
};

describe('deferred commands', () => {
  it('round-trips a command signed with a key derived from the signing secret', () => {
    const { data, attributes } = encodeCommand(command, SECRET);
    assert.match(attributes[MAC_ATTRIBUTE] ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(decodeCommand(data, attributes[MAC_ATTRIBUTE], SECRET, NOW + 5_000), {
      ok: true,
      command,
    });
  });

  it('refuses a message without a MAC, with another secret’s MAC, or altered after signing', () => {
    const { data, attributes } = encodeCommand(command, SECRET);
    const mac = attributes[MAC_ATTRIBUTE];
    assert.deepEqual(decodeCommand(data, undefined, SECRET, NOW), { ok: false, reason: 'bad-mac' });
    assert.deepEqual(decodeCommand(data, 'zz', SECRET, NOW), { ok: false, reason: 'bad-mac' });
    const other = encodeCommand(command, 'another-secret').attributes[MAC_ATTRIBUTE];
    assert.deepEqual(decodeCommand(data, other, SECRET, NOW), { ok: false, reason: 'bad-mac' });
    const altered = Buffer.from(
      data.toString('utf8').replace('hooks.slack.com/commands/T0FAKETEAM/1/secretpath', 'attacker.example/x'),
    );
    assert.deepEqual(decodeCommand(altered, mac, SECRET, NOW), { ok: false, reason: 'bad-mac' });
  });

  it('refuses a command older than response_url’s 30 minutes, or minutes in the future', () => {
    const { data, attributes } = encodeCommand(command, SECRET);
    const mac = attributes[MAC_ATTRIBUTE];
    assert.equal(decodeCommand(data, mac, SECRET, NOW + COMMAND_TTL_MS).ok, true);
    assert.deepEqual(decodeCommand(data, mac, SECRET, NOW + COMMAND_TTL_MS + 1), {
      ok: false,
      reason: 'expired',
    });
    assert.deepEqual(decodeCommand(data, mac, SECRET, NOW - 120_000), {
      ok: false,
      reason: 'from-the-future',
    });
  });

  it('refuses a signed message of another shape, naming the field', () => {
    const bad = { ...command, task: { kind: 'delete-everything' } } as unknown as DeferredCommand;
    const { data, attributes } = encodeCommand(bad, SECRET);
    const decoded = decodeCommand(data, attributes[MAC_ATTRIBUTE], SECRET, NOW);
    assert.equal(decoded.ok, false);
    assert.equal(!decoded.ok && decoded.reason, 'unreadable');
    assert.match((!decoded.ok && decoded.detail) || '', /^task/);
  });
});
