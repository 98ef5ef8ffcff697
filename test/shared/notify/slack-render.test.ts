import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Finding } from '../../../shared/domain/finding.ts';
import type { Incident } from '../../../shared/domain/incident.ts';
import {
  type Block,
  MAX_BLOCKS,
  MAX_FALLBACK_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  type SlackMessage,
  toSlackMessage,
  toSlackThreadReply,
} from '../../../shared/notify/slack-render.ts';
import { renderIncidentText } from '../../../shared/notify/terminal.ts';
import { totalText, validateBlocks } from '../../fakes/slack.ts';
import { openIncident, poolFinding, resolvedIncident, updatedIncident } from './slack-incident.ts';

const LOGS =
  'https://console.cloud.google.com/logs/query;query=logName%3A%22cloudaudit.googleapis.com%252Factivity%22%0AinsertId%3D%22e-1%22?project=orbit-prod';
const CONSOLE =
  'https://console.cloud.google.com/kubernetes/nodepool/europe-west4/core-1/general?project=orbit-prod';
const AT_0900 = '<!date^1795165200^{date_short_pretty} at {time}|2026-11-20 09:00 UTC>';

/** Every text a reader may see: block texts, fields, context elements. */
function textsOf(blocks: readonly Block[]): string[] {
  return blocks.flatMap((block) => {
    if (block.type === 'header') return [block.text.text];
    if (block.type === 'section')
      return [...(block.text ? [block.text.text] : []), ...(block.fields ?? []).map((f) => f.text)];
    if (block.type === 'context') return block.elements.map((e) => e.text);
    return [];
  });
}

/** Slack's limits, checked as the fake Slack checks them, plus the total and the fallback. */
function assertWithinLimits(message: SlackMessage) {
  assert.ok(message.blocks.length <= MAX_BLOCKS, `${message.blocks.length} blocks`);
  assert.deepEqual(validateBlocks(message.blocks), []);
  assert.ok(totalText(message.blocks) <= MAX_TOTAL_BLOCK_TEXT, `block text ${totalText(message.blocks)}`);
  assert.ok(
    message.text.length > 0 && message.text.length <= MAX_FALLBACK_TEXT,
    `text ${message.text.length}`,
  );
}

/**
 * No control character left unescaped once our own markup is taken out: the dates and the console
 * links we write. `&` only starts an entity.
 */
function assertEscaped(text: string) {
  const rest = text
    .replace(/<!date\^\d+\^\{date_short_pretty\} at \{time\}\|[^<>|]*>/g, '')
    .replace(/<https:\/\/console\.cloud\.google\.com\/[^\s<>|]*\|[^<>|]*>/g, '');
  assert.doesNotMatch(rest, /[<>]/, `unescaped < or > in ${JSON.stringify(text.slice(0, 300))}`);
  assert.doesNotMatch(rest, /&(?!amp;|lt;|gt;)/, `bare & in ${JSON.stringify(text.slice(0, 300))}`);
}

describe('toSlackMessage', () => {
  test('an open incident: header, what broke and who, where, KSAs, workloads, repair steps, links', () => {
    const message = toSlackMessage(openIncident());
    assert.deepEqual(message, {
      text: [
        '🔴 Firing: CRITICAL Node pool off the GKE metadata server in orbit-prod',
        'Node pool general of core-1 no longer runs the GKE metadata server: 2 KSAs, 5 pods lose their credentials',
        'By erin@example.org at 2026-11-20 09:00 UTC (google.container.v1.ClusterManager.SetNodePoolManagement)',
        'Hits 2 KSAs, 3 workloads (5 pods).',
      ].join('\n'),
      blocks: [
        {
          type: 'header',
          text: {
            type: 'plain_text',
            text: '🔴 Firing: Node pool off the GKE metadata server (critical)',
            emoji: true,
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: `Node pool general of core-1 no longer runs the GKE metadata server: 2 KSAs, 5 pods lose their credentials\nBy *erin@example.org* · ${AT_0900} · \`google.container.v1.ClusterManager.SetNodePoolManagement\``,
          },
        },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Project*\norbit-prod' },
            { type: 'mrkdwn', text: '*Cluster*\neurope-west4/core-1' },
            { type: 'mrkdwn', text: '*Node pool*\ngeneral' },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*KSAs losing credentials (2)* in orbit-prod.svc.id.goog\n• checkout/cart\n• search/indexer',
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: [
              '*Workloads hit (3 · 5 pods in 1 cluster)*',
              '• Deployment checkout/cart — core-1, pool general, 3 pods',
              '• StatefulSet search/indexer — core-1, pool general, 2 pods',
              '• CronJob search/reindex — core-1, pool general',
            ].join('\n'),
          },
        },
        { type: 'divider' },
        { type: 'section', text: { type: 'mrkdwn', text: '*How to repair* (2 steps)' } },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*1. Put general back on the GKE metadata server*\n```gcloud container node-pools update general --cluster core-1 --location europe-west4 --project orbit-prod --workload-metadata=GKE_METADATA```',
          },
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*2. Restart Deployment checkout/cart*\n```kubectl rollout restart deployment/cart -n checkout```',
          },
        },
        {
          type: 'context',
          elements: [
            { type: 'mrkdwn', text: `🔎 <${LOGS}|Audit log of the change>  ·  <${CONSOLE}|Cloud Console>` },
            { type: 'mrkdwn', text: '`nodepool-metadata-disabled` · incident inc-0042' },
          ],
        },
        {
          type: 'actions',
          block_id: 'wi-actions/inc-0042',
          elements: [
            {
              type: 'button',
              action_id: 'ack',
              text: { type: 'plain_text', text: 'Acknowledge' },
              value: 'inc-0042',
              style: 'primary',
            },
            {
              type: 'static_select',
              action_id: 'silence',
              placeholder: { type: 'plain_text', text: 'Silence…' },
              options: [
                { text: { type: 'plain_text', text: '1 hour' }, value: 'inc-0042/1h' },
                { text: { type: 'plain_text', text: '4 hours' }, value: 'inc-0042/4h' },
                { text: { type: 'plain_text', text: '1 day' }, value: 'inc-0042/1d' },
                { text: { type: 'plain_text', text: 'until resolved' }, value: 'inc-0042/resolved' },
              ],
            },
            {
              type: 'button',
              action_id: 'recheck',
              text: { type: 'plain_text', text: 'Re-check now' },
              value: 'inc-0042',
            },
          ],
        },
      ],
    });
    assertWithinLimits(message);
  });

  test('the buttons follow the incident: acknowledged, silenced, closed in PagerDuty, resolved', () => {
    const at = '2026-11-20T09:10:00Z';
    const acted = toSlackMessage(
      openIncident(undefined, {
        acknowledged: { by: '@alice', at, via: 'slack' },
        silence: { id: 's-0123456789', by: '@alice' },
        closedInPagerDuty: { by: 'Bob Oncall', at },
      }),
    );
    const actions = acted.blocks.at(-1);
    assert.equal(actions?.type, 'actions');
    assert.deepEqual(
      actions?.type === 'actions' ? actions.elements.map((e) => e.action_id) : [],
      ['unsilence', 'recheck'],
      'acknowledged: no Acknowledge; silenced: Unsilence in place of the menu',
    );
    const acts = textsOf(acted.blocks)[1] ?? '';
    assert.match(acts, /^✋ Acknowledged by \*@alice\* <!date\^\d+\^/);
    assert.match(acts, /🔕 Silenced by \*@alice\* until it resolves: new pages are held back/);
    assert.match(
      acts,
      /🚪 Closed in PagerDuty by \*Bob Oncall\* .*; the link was still broken at the last check/,
    );
    assert.deepEqual(validateBlocks(acted.blocks), []);

    const resolved = toSlackMessage(resolvedIncident());
    const last = resolved.blocks.at(-1);
    assert.deepEqual(
      last?.type === 'actions' ? last.elements.map((e) => e.action_id) : [],
      ['recheck'],
      'a resolved incident keeps only Re-check now',
    );
  });

  test('the terminal shows the same buttons under the message', () => {
    const lastLine = (text: string) => text.split('\n').at(-1);
    assert.equal(
      lastLine(renderIncidentText(openIncident(), 'opened')),
      '   act:   [ Acknowledge ] [ Silence… ▾ ] [ Re-check now ]',
    );
    const silenced = openIncident(undefined, {
      acknowledged: { by: '@alice', at: '2026-11-20T09:10:00Z', via: 'slack' },
      silence: { id: 's-0123456789', by: '@alice' },
    });
    assert.equal(
      lastLine(renderIncidentText(silenced, 'refreshed')),
      '   act:   [ Unsilence ] [ Re-check now ]',
    );
    assert.equal(lastLine(renderIncidentText(resolvedIncident(), 'resolved')), '   act:   [ Re-check now ]');
  });

  test('resolved: turns green, says who repaired it and how, drops the repair steps', () => {
    const open = toSlackMessage(openIncident());
    const message = toSlackMessage(resolvedIncident());
    assert.notDeepEqual(message, open);
    assert.deepEqual(message.blocks.slice(0, 2), [
      {
        type: 'header',
        text: {
          type: 'plain_text',
          text: '🟢 Resolved: Node pool off the GKE metadata server (critical)',
          emoji: true,
        },
      },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: '🟢 *Repaired:* general runs the GKE metadata server again\nBy *frank@example.org* · <!date^1795168800^{date_short_pretty} at {time}|2026-11-20 10:00 UTC> · `google.container.v1.ClusterManager.UpdateNodePool`',
        },
      },
    ]);
    const texts = textsOf(message.blocks).join('\n');
    assert.doesNotMatch(texts, /🔴/);
    assert.doesNotMatch(texts, /How to repair|```/);
    assert.match(texts, /Broken by \*erin@example\.org\*/);
    assert.match(texts, /\*KSAs affected \(2\)\*/);
    assert.equal(
      message.text,
      [
        '🟢 Resolved: CRITICAL Node pool off the GKE metadata server in orbit-prod',
        'Repaired: general runs the GKE metadata server again (by frank@example.org)',
        'Was: Node pool general of core-1 no longer runs the GKE metadata server: 2 KSAs, 5 pods lose their credentials',
      ].join('\n'),
    );
    assertWithinLimits(message);
  });

  test('resolved without a known repairer: says when it was seen healthy', () => {
    const { resolution: _, ...rest } = resolvedIncident();
    const section = toSlackMessage(rest).blocks[1];
    assert.deepEqual(section, {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: '🟢 *Repaired:* live state is healthy again\nSeen healthy <!date^1795168805^{date_short_pretty} at {time}|2026-11-20 10:00 UTC>',
      },
    });
  });

  test('a finding without a cause shows when the incident opened; an update shows when', () => {
    const { cause: _, ...finding } = poolFinding();
    const message = toSlackMessage(updatedIncident(openIncident(finding)));
    const fields =
      message.blocks.find((b) => b.type === 'section' && b.fields)?.type === 'section'
        ? message.blocks[2]
        : undefined;
    assert.deepEqual(fields, {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Project*\norbit-prod' },
        { type: 'mrkdwn', text: '*Cluster*\neurope-west4/core-1' },
        { type: 'mrkdwn', text: '*Node pool*\ngeneral' },
        {
          type: 'mrkdwn',
          text: '*Opened*\n<!date^1795165204^{date_short_pretty} at {time}|2026-11-20 09:00 UTC>',
        },
      ],
    });
    const context = message.blocks.at(-2);
    assert.equal(context?.type, 'context');
    assert.equal(
      context?.type === 'context' ? context.elements[1]?.text : undefined,
      '`nodepool-metadata-disabled` · incident inc-0042 · updated <!date^1795165500^{date_short_pretty} at {time}|2026-11-20 09:05 UTC>',
    );
  });

  test('500 KSAs and workloads, a 10,000-character summary, 60 steps: cut with counts, within every limit', () => {
    const ksas = Array.from({ length: 500 }, (_, i) => ({
      workloadPool: 'orbit-prod.svc.id.goog',
      namespace: `team-${i}`,
      name: `ksa-${i}`,
    }));
    const workloads = Array.from({ length: 500 }, (_, i) => ({
      cluster: `cluster-${i % 7}`,
      namespace: `team-${i}`,
      kind: 'Deployment',
      name: `app-${i}`,
      nodePool: 'general',
      pods: 2,
    }));
    const remediation = Array.from({ length: 60 }, (_, i) => ({
      title: `Restart app-${i}`,
      command: `kubectl rollout restart deployment/app-${i} -n team-${i}`,
    }));
    const finding = poolFinding({ ksas, workloads, remediation, summary: 'x'.repeat(10_000) });
    for (const incident of [openIncident(finding), resolvedIncident(openIncident(finding))]) {
      const message = toSlackMessage(incident);
      assertWithinLimits(message);
      const texts = textsOf(message.blocks);
      const ksaText = texts.find((t) => t.startsWith('*KSAs'));
      const workloadText = texts.find((t) => t.startsWith('*Workloads'));
      for (const [text, total] of [
        [ksaText, 500],
        [workloadText, 500],
      ] as const) {
        assert.ok(text);
        const shown = text.split('\n').filter((line) => line.startsWith('• ')).length;
        assert.match(text, new RegExp(`\\n… and ${total - shown} more$`));
        assert.equal(shown, 10);
      }
      assert.match(workloadText ?? '', /^\*Workloads (hit|affected) \(500 · 1000 pods in 7 clusters\)\*/);
      assert.ok(texts.some((t) => t.startsWith('x'.repeat(700)) && t.includes('…')));
    }
    const steps = toSlackMessage(openIncident(finding)).blocks.filter(
      (b) => b.type === 'section' && b.text?.text.includes('```'),
    );
    assert.equal(steps.length, 6);
    assert.ok(textsOf(toSlackMessage(openIncident(finding)).blocks).includes('… and 54 more steps'));
  });

  test('a very long command is cut inside its code block, which still closes', () => {
    const command = `kubectl apply -f - <<'EOF'\n${'x: y\n'.repeat(2_000)}EOF`;
    const message = toSlackMessage(openIncident(poolFinding({ remediation: [{ title: 'Apply', command }] })));
    assertWithinLimits(message);
    const step = textsOf(message.blocks).find((t) => t.startsWith('*1. Apply*'));
    assert.ok(step);
    assert.ok(step.length <= 2_600, `${step.length}`);
    assert.match(step, /^\*1\. Apply\*\n```kubectl apply -f - &lt;&lt;'EOF'\nx: y\n[^`]*…```$/);
  });

  test('user data is escaped everywhere: &, < and > never reach Slack as control characters', () => {
    const evil = '<!channel> & <@U123|boss> <https://evil.example|click>';
    const finding = poolFinding({
      project: `orbit${evil}`,
      cluster: { location: `eu<rope>`, name: `core & ${evil}` },
      nodePool: `pool ${evil}`,
      gsa: `gsa${evil}@x`,
      ksas: [{ workloadPool: `pool${evil}`, namespace: `ns${evil}`, name: `ksa${evil}` }],
      workloads: [
        {
          cluster: `c${evil}`,
          namespace: `n${evil}`,
          kind: `K${evil}`,
          name: `w${evil}`,
          nodePool: `p${evil}`,
          pods: 1,
        },
      ],
      cause: { method: `m${evil}`, actor: `a${evil}`, time: `not a time ${evil}`, insertId: `i${evil}` },
      summary: `summary ${evil}`,
      remediation: [{ title: `t${evil}`, command: `echo '${evil}' > /tmp/x && true` }],
    });
    const open = openIncident(finding, { id: `id${evil}`, silencedBy: `silence${evil}` });
    const resolved = resolvedIncident(open);
    const incidents: Incident[] = [
      open,
      {
        ...resolved,
        resolution: {
          summary: `fixed ${evil}`,
          cause: { method: `m${evil}`, actor: `who${evil}`, time: `t${evil}` },
        },
      },
      updatedIncident(open),
    ];
    for (const incident of incidents) {
      const message = toSlackMessage(incident);
      assertWithinLimits(message);
      for (const text of [...textsOf(message.blocks), message.text]) assertEscaped(text);
      assert.ok(
        textsOf(message.blocks).some((t) => t.includes('summary &lt;!channel&gt; &amp; &lt;@U123|boss&gt;')),
      );
    }
    for (const [incident, transition] of [
      [incidents[0], 'opened'],
      [incidents[2], 'updated'],
      [incidents[1], 'resolved'],
    ] as const) {
      assert.ok(incident);
      assertEscaped(toSlackThreadReply(incident, transition).text);
    }
  });

  test('odd data never throws: a lone surrogate, an empty summary, nothing hit, no steps', () => {
    const finding = poolFinding({
      project: 'orbit\ud800',
      summary: '  ',
      ksas: [],
      workloads: [],
      remediation: [],
    });
    const message = toSlackMessage(openIncident(finding));
    assertWithinLimits(message);
    // A lone surrogate is encoded as U+FFFD in links rather than making them fail.
    const context = message.blocks.at(-2) as { type: string; elements: { text: string }[] };
    assert.equal(context.type, 'context');
    assert.match(context.elements[0]?.text ?? '', /project=orbit%EF%BF%BD/);
    assert.match(textsOf(message.blocks)[1] ?? '', /^Node pool off the GKE metadata server\nBy /);
    assert.deepEqual(
      message.blocks.map((b) => b.type),
      ['header', 'section', 'section', 'context', 'actions'],
    );
  });

  test('property: any incident, however large or odd, stays within Slack limits and escaped', () => {
    const random = mulberry32(20261129);
    let cut = 0;
    for (let run = 0; run < 150; run++) {
      const incident = randomIncident(random);
      const message = toSlackMessage(incident);
      assertWithinLimits(message);
      if (textsOf(message.blocks).some((t) => /… and \d+ more/.test(t))) cut += 1;
      for (const text of [...textsOf(message.blocks), message.text]) assertEscaped(text);
      const header = message.blocks[0];
      assert.equal(header?.type, 'header');
      assert.match(
        header?.type === 'header' ? header.text.text : '',
        incident.status === 'resolved' ? /^🟢 Resolved: / : /^🔴 Firing: /,
      );
      for (const transition of ['opened', 'updated', 'resolved'] as const) {
        const reply = toSlackThreadReply(incident, transition);
        assert.ok(reply.text.length > 0 && reply.text.length <= MAX_FALLBACK_TEXT);
        assertEscaped(reply.text);
      }
    }
    // The generator does reach the limits: a fair share of the runs had lists cut.
    assert.ok(cut >= 20, `${cut} of 150 runs had a list cut`);
  });
});

describe('toSlackThreadReply', () => {
  test('updated: the change, who made it, and the count now', () => {
    assert.deepEqual(toSlackThreadReply(updatedIncident(), 'updated'), {
      text: [
        '🔴 *Updated:* search/indexer is hit too',
        'By *erin@example.org* · <!date^1795165470^{date_short_pretty} at {time}|2026-11-20 09:04 UTC> · `google.container.v1.ClusterManager.SetNodePoolManagement`',
        'Now 2 KSAs, 3 workloads (5 pods).',
      ].join('\n'),
    });
  });

  test('resolved: green, with what repaired it', () => {
    assert.deepEqual(toSlackThreadReply(resolvedIncident(), 'resolved'), {
      text: '🟢 *Resolved:* general runs the GKE metadata server again\nBy *frank@example.org* · <!date^1795168800^{date_short_pretty} at {time}|2026-11-20 10:00 UTC> · `google.container.v1.ClusterManager.UpdateNodePool`',
    });
  });

  test('a 10,000-character summary is cut to fit', () => {
    const incident = openIncident(poolFinding({ summary: '&'.repeat(10_000) }));
    const { text } = toSlackThreadReply(incident, 'opened');
    assert.ok(text.length <= MAX_FALLBACK_TEXT);
    assert.match(text, /^🔴 \*Opened:\* (&amp;)+…\nBy /);
  });
});

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = [
  'a',
  'b',
  'z',
  '0',
  '-',
  '/',
  ' ',
  '&',
  '<',
  '>',
  '*',
  '_',
  '`',
  '|',
  '~',
  '\n',
  'é',
  '🔥',
  '!',
];

function randomIncident(random: () => number): Incident {
  const int = (max: number) => Math.floor(random() * (max + 1));
  // Lengths skewed to both ends: mostly short, sometimes huge.
  const length = () => (random() < 0.15 ? int(12_000) : int(40));
  // A random chunk of at most 64 characters, repeated to length: cheap, and still every kind of character.
  const text = (n = length()) => {
    const chunk = Array.from({ length: Math.min(n, 64) }, () => ALPHABET[int(ALPHABET.length - 1)]).join('');
    return chunk.repeat(Math.ceil(n / Math.max(chunk.length, 1))).slice(0, n);
  };
  const count = () => (random() < 0.2 ? int(600) : int(4));
  const time = () => (random() < 0.8 ? new Date(1_790_000_000_000 + int(1e10)).toISOString() : text(10));
  const maybe = <T>(value: () => T): T | undefined => (random() < 0.7 ? value() : undefined);
  const cause = maybe(() => ({
    method: text(),
    ...(random() < 0.8 ? { actor: text() } : {}),
    ...(random() < 0.8 ? { time: time() } : {}),
  }));
  const cluster = maybe(() => ({ location: text(int(30)), name: text(int(30)) }));
  const nodePool = maybe(() => text(int(30)));
  const gsa = maybe(() => text());
  const finding: Finding = {
    kind:
      (['binding-missing', 'gsa-disabled', 'metadata-egress-blocked', 'gsa-shared'] as const)[int(3)] ??
      'binding-missing',
    status: 'firing',
    severity: (['critical', 'error', 'warning', 'info'] as const)[int(3)] ?? 'critical',
    fingerprint: text(50),
    project: text(int(60)),
    ...(cluster ? { cluster } : {}),
    ...(nodePool ? { nodePool } : {}),
    ...(gsa ? { gsa } : {}),
    ksas: Array.from({ length: count() }, () => ({
      workloadPool: text(int(40)),
      namespace: text(int(30)),
      name: text(int(30)),
    })),
    workloads: Array.from({ length: count() }, () => ({
      cluster: text(int(30)),
      namespace: text(int(30)),
      kind: text(int(12)),
      name: text(int(40)),
      ...(random() < 0.5 ? { nodePool: text(int(20)) } : {}),
      ...(random() < 0.5 ? { pods: int(50) } : {}),
    })),
    ...(cause ? { cause } : {}),
    summary: text(),
    remediation: Array.from({ length: count() }, () => ({ title: text(int(300)), command: text() })),
  };
  const open = openIncident(finding, { id: text(int(40)), openedAt: time() });
  if (random() < 0.4) return resolvedIncident(open);
  return random() < 0.5 ? updatedIncident(open) : open;
}
