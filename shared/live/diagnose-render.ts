import { LINK_MARKS } from '../chain/link.ts';
import type { ChainReport } from '../chain/report.ts';

/** The terminal form of a ChainReport: pure, a line per link, repairs indented under each broken one. */

export function renderChainText(report: ChainReport): string {
  const { target } = report;
  const lines = [
    `Workload Identity chain of ${target.namespace}/${target.name} in ${target.project}/${target.cluster.location}/${target.cluster.name} (checked ${report.checkedAt})`,
  ];
  for (const link of report.links) {
    const kind = link.status === 'broken' && link.kind ? ` [${link.kind}]` : '';
    lines.push(`${LINK_MARKS[link.status]} ${link.link}. ${link.name}: ${link.detail}${kind}`);
    if (link.status !== 'broken') continue;
    for (const step of link.repair) {
      lines.push(`    ${step.title}:`);
      // A command may span lines (a manifest in a heredoc): its other lines stay as they are, or the
      // indented terminator would no longer end the heredoc when pasted into a shell.
      lines.push(`      ${step.command}`);
    }
  }
  if (report.pods.length > 0) {
    const pods = report.pods.map(
      (pod) =>
        `${pod.name} (${pod.workload.kind} ${pod.workload.name}) on ${pod.nodePool ?? 'no node yet'}${pod.metadataMode ? ` [${pod.metadataMode}]` : ''}`,
    );
    lines.push(`Pods: ${pods.join(', ')}`);
  }
  lines.push(`Verdict: ${report.verdict}`);
  return `${lines.join('\n')}\n`;
}
