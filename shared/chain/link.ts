import type { PagingKind, Remediation } from '../domain/finding.ts';

/**
 * One link of a KSA's Workload Identity chain (domain.md's seven), as judged: the one vocabulary that
 * `diagnose`, `/wi-status` and the sweep share.
 * `not-applicable`: nothing to judge (no running pod, no GSA named); `unknown`: it could not be read.
 */
export type LinkState = 'ok' | 'broken' | 'unknown' | 'not-applicable';

export interface ChainLink {
  /** The link's number in the chain of domain.md, 1 to 7. */
  link: number;
  name: string;
  status: LinkState;
  /** One line with the real names (what `diagnose` prints). */
  detail: string;
  /**
   * The same verdict in a few words, for a line under a KSA in a list (`/wi-status CLUSTER`); the
   * judgement always gives it, a ChainReport (diagnose's contract) leaves it out.
   */
  brief?: string;
  /** The finding kind an alert of this break carries (absent when not broken). */
  kind?: PagingKind;
  /** Commands that repair a broken link, in order. */
  repair: Remediation[];
}

export const LINK_NAMES = [
  'cluster joined to a workload pool',
  'node pools of its pods run the GKE metadata server',
  'KSA exists and names its GSA',
  'GSA exists and is enabled',
  "GSA's policy lets the KSA act as it",
  'pods reach the metadata server',
  'pods use the KSA, no key file',
] as const;

/** The links in a word or two, by number, for a line under a KSA in a list. */
export const LINK_LABELS = [
  'workload pool',
  'node pool',
  'annotation',
  'GSA',
  'binding',
  'metadata egress',
  'key file',
] as const;

/** A link's number (1 to 7), as domain.md counts them. */
export const LINK = {
  cluster: 1,
  nodePools: 2,
  annotation: 3,
  gsa: 4,
  binding: 5,
  egress: 6,
  keyFile: 7,
} as const;

/** How each state reads at the head of a link's line, in a terminal and in Slack. */
export const LINK_MARKS: Record<LinkState, string> = {
  ok: '✓',
  broken: '✗',
  unknown: '?',
  'not-applicable': '–',
};

/** The verdict on a whole chain: broken when a link is, unknown when one could not be judged. */
export type ChainState = 'ok' | 'broken' | 'unknown';

export function chainStateOf(links: readonly Pick<ChainLink, 'status'>[]): ChainState {
  if (links.some((l) => l.status === 'broken')) return 'broken';
  return links.some((l) => l.status === 'unknown') ? 'unknown' : 'ok';
}
