import type { Finding } from '../domain/finding.ts';

/** Links from an alert to where people look next: the Logs Explorer query and the Cloud Console page. */

export interface Link {
  href: string;
  text: string;
}

const CONSOLE = 'https://console.cloud.google.com';

/** encodeURIComponent throws on lone surrogates; audit data is not promised to be well formed. */
function encode(text: string): string {
  return encodeURIComponent(text.toWellFormed());
}

/** The audit-log query that shows the change (and its neighbours) for this finding. */
export function logsQuery(finding: Finding): string {
  const clauses = ['logName:"cloudaudit.googleapis.com%2Factivity"'];
  if (finding.cause?.insertId) {
    clauses.push(`insertId="${finding.cause.insertId}"`);
  } else if (finding.gsa) {
    clauses.push(`protoPayload.resourceName:"${finding.gsa}" OR resource.labels.email_id="${finding.gsa}"`);
  } else if (finding.cluster) {
    clauses.push(`resource.labels.cluster_name="${finding.cluster.name}"`);
  }
  return clauses.join('\n');
}

export function logsExplorerUrl(finding: Finding): string {
  const query = encode(logsQuery(finding));
  return `${CONSOLE}/logs/query;query=${query}?project=${encode(finding.project)}`;
}

export function consoleUrl(finding: Finding): string {
  const project = encode(finding.project);
  if (finding.cluster) {
    const { location, name } = finding.cluster;
    const page = finding.nodePool
      ? `nodepool/${location}/${name}/${finding.nodePool}`
      : `clusters/details/${location}/${name}/details`;
    return `${CONSOLE}/kubernetes/${page}?project=${project}`;
  }
  if (finding.gsa) {
    return `${CONSOLE}/iam-admin/serviceaccounts/details/${encode(finding.gsa)}?project=${project}`;
  }
  return `${CONSOLE}/iam-admin/iam?project=${project}`;
}

export function linksOf(finding: Finding): Link[] {
  return [
    { href: logsExplorerUrl(finding), text: 'Audit log of the change' },
    { href: consoleUrl(finding), text: 'Cloud Console' },
  ];
}
