import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSnapshotFile } from '../../../shared/live/snapshot-file.ts';
import { MAX_BLOCKS, MAX_FALLBACK_TEXT } from '../../../shared/notify/slack-render.ts';
import { lineMrkdwn, toSlackDoc } from '../../../shared/status/blocks.ts';
import { clusterDetail, clusterDoc, findClusters } from '../../../shared/status/cluster.ts';
import type { StatusDoc } from '../../../shared/status/doc.ts';
import { summarize, summaryDoc } from '../../../shared/status/summary.ts';
import { totalText, validateBlocks } from '../../fakes/slack.ts';
import { bindingFinding } from '../../support/findings.ts';
import { FIXTURES } from '../../support/paths.ts';
import { incidentOf } from './incidents.ts';

const ORG = readSnapshotFile(join(FIXTURES, 'snapshot.json'));

/** What Slack takes: the fake Slack's Block Kit checks and its msg_blocks_too_long line. */
function assertSlackTakes(message: ReturnType<typeof toSlackDoc>) {
  assert.deepEqual(validateBlocks(message.blocks), []);
  assert.ok(message.blocks.length <= MAX_BLOCKS);
  assert.ok(totalText(message.blocks) <= 13_000, `${totalText(message.blocks)} characters of block text`);
  assert.ok(message.text.length > 0 && message.text.length <= MAX_FALLBACK_TEXT);
}

/** A cluster with `count` WI KSAs, each with a key file (a broken link), for size limits. */
function hugeCluster(count: number) {
  const snapshot = structuredClone(ORG);
  const cluster = snapshot.projects[0]?.clusters.find((c) => c.name === 'edge-1');
  assert.ok(cluster);
  for (let i = 0; i < count; i++) {
    const name = `svc-${i}-${'x'.repeat(40)}`;
    cluster.serviceAccounts.push({
      namespace: 'team-<b>&co',
      name,
      annotations: { 'iam.gke.io/gcp-service-account': `${name}@elsewhere.iam.gserviceaccount.com` },
    });
    cluster.pods.push({
      namespace: 'team-<b>&co',
      name: `${name}-pod`,
      labels: {},
      serviceAccountName: name,
      nodePool: 'default-pool',
      env: ['GOOGLE_APPLICATION_CREDENTIALS'],
    });
  }
  const found = findClusters(snapshot, 'edge-1');
  assert.ok(found.found === 'one');
  return clusterDetail(snapshot, found.match, []);
}

describe('toSlackDoc', () => {
  it('renders the title as a header, sections as mrkdwn, notes as context, escaping what it is given', () => {
    const doc: StatusDoc = {
      title: '❌ a <title> & more',
      sections: [
        {
          heading: 'Heading',
          lines: [{ mark: '✗', lead: 'ns/<ksa>', text: ': a & b', code: 'kubectl `x`' }],
        },
        { lines: [{ text: 'detail', indent: true }] },
      ],
      notes: ['`/wi-status <x>` & more'],
    };
    const message = toSlackDoc(doc);
    assert.deepEqual(message.blocks, [
      { type: 'header', text: { type: 'plain_text', text: '❌ a <title> & more', emoji: true } },
      {
        type: 'section',
        text: { type: 'mrkdwn', text: '*Heading*\n✗ *ns/&lt;ksa&gt;*: a &amp; b `kubectl ˋxˋ`' },
      },
      { type: 'section', text: { type: 'mrkdwn', text: '\u2003\u2003detail' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: '`/wi-status &lt;x&gt;` &amp; more' }] },
    ]);
    assert.equal(message.text, '❌ a &lt;title&gt; &amp; more\n✗ ns/&lt;ksa&gt;: a &amp; b');
    assertSlackTakes(message);
  });

  it('keeps the same content as the terminal text: every line of the summary appears in the blocks', () => {
    const doc = summaryDoc(summarize([incidentOf(bindingFinding(), '2026-11-29T09:00:00Z')], ORG));
    const message = toSlackDoc(doc);
    assertSlackTakes(message);
    const sections = message.blocks
      .filter((b) => b.type === 'section')
      .map((b) => (b as { text: { text: string } }).text.text)
      .join('\n');
    for (const section of doc.sections)
      for (const line of section.lines) assert.ok(sections.includes(lineMrkdwn(line)), lineMrkdwn(line));
  });

  it('stays within Slack’s limits for a cluster of 2,000 KSAs, counting what it leaves out', () => {
    const message = toSlackDoc(clusterDoc(hugeCluster(2_000), { maxKsas: 2_000 }));
    assertSlackTakes(message);
    const last = message.blocks.filter((b) => b.type === 'section').at(-1) as { text: { text: string } };
    assert.match(last.text.text, /… and \d+ more$/);
    assert.equal(message.blocks.at(-1)?.type, 'context', 'the notes survive');
  });

  it('cuts an over-long title to the header’s 150 characters', () => {
    const message = toSlackDoc({ title: `❌ ${'x'.repeat(300)}`, sections: [] });
    assertSlackTakes(message);
    const header = message.blocks[0] as { text: { text: string } };
    assert.equal(header.text.text.length, 150);
  });
});
