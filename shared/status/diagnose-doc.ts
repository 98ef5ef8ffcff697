import { chainStateOf, LINK_MARKS } from '../chain/link.ts';
import type { ChainReport } from '../chain/report.ts';
import { type DocLine, type DocSection, MARKS, plural, type StatusDoc, utc } from './doc.ts';
import { ksaSymptomLine, ksaSymptoms, type StatusSymptoms } from './symptoms.ts';

/**
 * `/wi-status NAMESPACE/KSA`: the chain check of diagnose (shared/chain/report.ts), one section per
 * cluster checked, a line per link, and under each broken link the commands that repair it. Pure.
 */

/** Repair steps shown per broken link; the rest are counted (the CLI's `diagnose` shows them all). */
const MAX_REPAIRS = 3;

function state(report: ChainReport) {
  return chainStateOf(report.links);
}

function reportSection(report: ChainReport, symptoms: StatusSymptoms | undefined): DocSection {
  const { target } = report;
  const lines: DocLine[] = [];
  // What the pods feel, above the links that may explain it.
  const count = symptoms
    ? ksaSymptoms(symptoms, target.project, target.cluster, target.namespace, target.name)
    : undefined;
  if (symptoms && count) lines.push({ ...ksaSymptomLine(count, symptoms), indent: false });
  for (const link of report.links) {
    lines.push({
      mark: LINK_MARKS[link.status],
      lead: `${link.link}. ${link.name}`,
      text: `: ${link.detail}`,
    });
    if (link.status !== 'broken') continue;
    for (const step of link.repair.slice(0, MAX_REPAIRS)) {
      lines.push({ indent: true, text: `${step.title}:`, code: step.command });
    }
    if (link.repair.length > MAX_REPAIRS)
      lines.push({ indent: true, text: `… and ${plural(link.repair.length - MAX_REPAIRS, 'more step')}` });
  }
  return { heading: `${target.project}/${target.cluster.location}/${target.cluster.name}`, lines };
}

/** `symptoms`: the stored credential failures, shown per cluster above its links when the KSA has any. */
export function diagnoseDoc(
  reports: readonly ChainReport[],
  { source, symptoms }: { source: string; symptoms?: StatusSymptoms },
): StatusDoc {
  const [first] = reports;
  if (first === undefined) return { title: `${MARKS.info} Nothing was checked`, sections: [] };
  const who = `${first.target.namespace}/${first.target.name}`;
  const states = reports.map(state);
  const mark = states.includes('broken')
    ? MARKS.unhealthy
    : states.includes('unknown')
      ? MARKS.warning
      : MARKS.healthy;
  const title =
    reports.length === 1
      ? `${mark} ${first.verdict}`
      : `${mark} ${who} in ${plural(reports.length, 'cluster')}: ${
          states.includes('broken')
            ? `broken in ${states.filter((s) => s === 'broken').length}`
            : states.includes('unknown')
              ? 'not verified everywhere'
              : 'every link holds'
        }`;
  return {
    title,
    sections: reports.map((report) => reportSection(report, symptoms)),
    notes: [`Checked ${source} at ${utc(first.checkedAt)}.`],
  };
}
