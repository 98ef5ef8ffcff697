import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MAX_SILENCE_MS,
  normalizeText,
  parseCommandText,
  parseDuration,
  readSlackRequest,
  type StatusRequest,
} from '../../../shared/slack/command.ts';

const form = (fields: Record<string, string>) => Buffer.from(new URLSearchParams(fields).toString());
const COMMAND = {
  token: 'legacy-verification-token',
  team_id: 'T0FAKETEAM',
  team_domain: 'orbit',
  channel_id: 'C0ONCALL1',
  channel_name: 'oncall',
  user_id: 'U0ALICE',
  user_name: 'alice',
  command: '/wi-status',
  text: 'core-1',
  api_app_id: 'A0WISENTINEL',
  response_url: 'https://hooks.slack.com/commands/T0FAKETEAM/1234/abcdef',
  trigger_id: '1234.5678.abcd',
};

describe('readSlackRequest', () => {
  it('reads a slash command form', () => {
    assert.deepEqual(readSlackRequest(form(COMMAND), 'application/x-www-form-urlencoded'), {
      type: 'command',
      command: {
        teamId: 'T0FAKETEAM',
        userId: 'U0ALICE',
        userName: 'alice',
        channelId: 'C0ONCALL1',
        command: '/wi-status',
        text: 'core-1',
        responseUrl: 'https://hooks.slack.com/commands/T0FAKETEAM/1234/abcdef',
        triggerId: '1234.5678.abcd',
      },
    });
  });

  it('recognises Slack’s SSL check and the url_verification handshake', () => {
    assert.deepEqual(
      readSlackRequest(form({ ssl_check: '1', token: 'x' }), 'application/x-www-form-urlencoded'),
      {
        type: 'ssl-check',
      },
    );
    const challenge = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
    assert.deepEqual(readSlackRequest(Buffer.from(challenge), 'application/json'), {
      type: 'url-verification',
      challenge: 'c-123',
    });
  });

  it('names what is missing from a form that is not a command', () => {
    const { response_url: _, user_id: __, ...rest } = COMMAND;
    assert.deepEqual(readSlackRequest(form(rest), 'application/x-www-form-urlencoded'), {
      type: 'unreadable',
      problem: 'a form without user_id, response_url',
    });
    assert.equal(
      readSlackRequest(Buffer.from('{"type":"event_callback"}'), 'application/json').type,
      'unreadable',
    );
    assert.equal(readSlackRequest(Buffer.from('{not json'), 'application/json').type, 'unreadable');
  });
});

describe('parseCommandText', () => {
  const table: [string, StatusRequest][] = [
    ['', { kind: 'summary' }],
    ['   ', { kind: 'summary' }],
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    ['incidents', { kind: 'incidents' }],
    ['core-1', { kind: 'cluster', cluster: 'core-1' }],
    ['orbit-prod/europe-west4/core-1', { kind: 'cluster', cluster: 'orbit-prod/europe-west4/core-1' }],
    ['checkout/cart', { kind: 'ksa', namespace: 'checkout', name: 'cart' }],
    [
      'checkout/cart --cluster core-1',
      { kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'core-1' },
    ],
    ['checkout/cart -c core-1', { kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'core-1' }],
    [
      'checkout/cart --cluster=core-1',
      { kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'core-1' },
    ],
    // A phone turns -- into an em dash.
    [
      'checkout/cart —cluster core-1',
      { kind: 'ksa', namespace: 'checkout', name: 'cart', cluster: 'core-1' },
    ],
    ['unsilence s-0123456789', { kind: 'unsilence', id: 's-0123456789' }],
    [
      'silence namespace=payments,kind=binding-missing 2h deploy in progress',
      {
        kind: 'silence',
        target: { matchers: { namespace: 'payments', kind: 'binding-missing' } },
        durationMs: 2 * 3_600_000,
        duration: '2h',
        reason: 'deploy in progress',
      },
    ],
    [
      'silence binding-missing/orbit-prod/cart@orbit-prod.iam.gserviceaccount.com/orbit-prod.svc.id.goog/checkout/cart 30m "known"',
      {
        kind: 'silence',
        target: {
          fingerprint:
            'binding-missing/orbit-prod/cart@orbit-prod.iam.gserviceaccount.com/orbit-prod.svc.id.goog/checkout/cart',
        },
        durationMs: 30 * 60_000,
        duration: '30m',
        reason: 'known',
      },
    ],
    [
      'plan actor=deployer@*,tool=terraform,namespace=payments 2h "moving payments to its own GSA"',
      {
        kind: 'plan',
        matchers: { actor: 'deployer@*', tool: 'terraform', namespace: 'payments' },
        durationMs: 2 * 3_600_000,
        duration: '2h',
        reason: 'moving payments to its own GSA',
      },
    ],
    [
      // Slack turns an e-mail address into a mailto link; it is read as typed.
      'plan actor=<mailto:deployer@acme.iam.gserviceaccount.com|deployer@acme.iam.gserviceaccount.com> 30m ci',
      {
        kind: 'plan',
        matchers: { actor: 'deployer@acme.iam.gserviceaccount.com' },
        durationMs: 30 * 60_000,
        duration: '30m',
        reason: 'ci',
      },
    ],
    [
      'silence 0123456789abcdef-mb2x1 1d rollout',
      {
        kind: 'silence',
        target: { incidentId: '0123456789abcdef-mb2x1' },
        durationMs: 86_400_000,
        duration: '1d',
        reason: 'rollout',
      },
    ],
  ];
  for (const [text, request] of table) {
    it(`reads ${JSON.stringify(text)}`, () => {
      assert.deepEqual(parseCommandText(text), { request, visibility: 'ephemeral' });
    });
  }

  it('answers in the channel when the first word is public', () => {
    assert.deepEqual(parseCommandText('public core-1'), {
      request: { kind: 'cluster', cluster: 'core-1' },
      visibility: 'in_channel',
    });
    assert.deepEqual(parseCommandText('Public'), { request: { kind: 'summary' }, visibility: 'in_channel' });
  });

  it('turns unknown or malformed input into help that says what was not understood', () => {
    const help = (text: string) => {
      const { request } = parseCommandText(text);
      assert.equal(request.kind, 'help', text);
      return request as Extract<StatusRequest, { kind: 'help' }>;
    };
    assert.match(help('Where is my pod?').problem ?? '', /I don't know `Where`/);
    assert.match(help('core-1 extra words').problem ?? '', /I don't know/);
    assert.match(help('incidents now').problem ?? '', /takes no argument/);
    assert.equal(help('Checkout/Cart').topic, 'ksa');
    assert.match(help('checkout/cart --namespace x').problem ?? '', /--cluster/);
    assert.equal(help('unsilence').topic, 'unsilence');
    assert.match(help('silence').problem ?? '', /for how long, and why/);
    assert.match(help('silence namespace=payments 2h').problem ?? '', /say why/);
    assert.match(help('silence namespace=payments soon reason').problem ?? '', /not a duration/);
    assert.match(help('silence namespace=payments 31d reason').problem ?? '', /at most 30d/);
    assert.match(help('silence namespace=payments 0m reason').problem ?? '', /at least 1m/);
    assert.match(help('silence colour=red 1h reason').problem ?? '', /matchers are project, cluster/);
    assert.match(help('silence namespace= 1h reason').problem ?? '', /needs a value/);
    assert.match(help('silence ns=a,namespace=b 1h reason').problem ?? '', /given twice/);
    assert.match(help('silence ksa=cart 1h reason').problem ?? '', /NAMESPACE\/NAME/);
    assert.match(help('silence everything 1h reason').problem ?? '', /neither matchers/);
    assert.match(help(`silence ns=a 1h ${'x'.repeat(301)}`).problem ?? '', /at most 300/);
    assert.equal(help('plan actor=ci@*').topic, 'plan');
    assert.match(help('plan').problem ?? '', /which changes are planned \(matchers\), for how long, and why/);
    assert.match(help('plan 0123456789abcdef-mb2x1 1h reason').problem ?? '', /covers changes by matchers/);
    assert.match(
      help('plan actor=ci@* 31d reason').problem ?? '',
      /at most 30d: a longer one is a standing rule/,
    );
    assert.match(help('plan actor=ci@* 1h').problem ?? '', /say why/);
  });
});

describe('normalizeText', () => {
  it('reads Slack’s escaping and links as typed', () => {
    assert.equal(normalizeText('a &lt;b&gt; &amp; c'), 'a <b> & c');
    assert.equal(
      normalizeText(
        'silence fingerprint=x/<mailto:cart@orbit-prod.iam.gserviceaccount.com|cart@orbit-prod.iam.gserviceaccount.com>/y 1h r',
      ),
      'silence fingerprint=x/cart@orbit-prod.iam.gserviceaccount.com/y 1h r',
    );
    assert.equal(normalizeText('<https://example.com>'), 'https://example.com');
    assert.equal(normalizeText('  a \n\t b  '), 'a b');
  });
});

describe('parseDuration', () => {
  it('reads weeks, days, hours and minutes, alone or together', () => {
    assert.equal(parseDuration('30m'), 1_800_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('2D'), 172_800_000);
    assert.equal(parseDuration('1w'), 604_800_000);
    assert.equal(parseDuration('4w2d'), 30 * 86_400_000);
    assert.equal(parseDuration('4w2d'), MAX_SILENCE_MS);
    for (const bad of ['', '1', 'h', '1s', '1h 30m', '-1h', '1.5h', 'm30'])
      assert.equal(parseDuration(bad), undefined, bad);
  });
});
