import { delegationWords, describeActor } from '../domain/attribution.ts';
import type { Cause, Finding, FindingKind, KsaRef, WorkloadRef } from '../domain/finding.ts';
import { breachWords, type Incident, pagesNobody, type TransitionType } from '../domain/incident.ts';
import { evidenceSentence, kindWords, timelineOf } from './evidence-render.ts';
import { linksOf } from './links.ts';

/**
 * An incident as one Slack message in Block Kit, and the short thread replies that announce its
 * changes. Pure: no I/O, no clock, no globals. Everything taken from findings is escaped, and every
 * text is cut to Slack's limits (a long list ends with "… and N more").
 */

// Slack's limits, each beside its documentation.
/** "You can include up to 50 blocks in each message": https://docs.slack.dev/reference/block-kit/blocks */
export const MAX_BLOCKS = 50;
/** Header text: "Maximum length … is 150 characters": https://docs.slack.dev/reference/block-kit/blocks/header-block */
export const MAX_HEADER_TEXT = 150;
/** Section text: "Maximum length … is 3000 characters": https://docs.slack.dev/reference/block-kit/blocks/section-block */
export const MAX_SECTION_TEXT = 3000;
/** Section fields: "Maximum number of items is 10. Maximum length for the text in each item is 2000 characters" (same page). */
export const MAX_FIELDS = 10;
export const MAX_FIELD_TEXT = 2000;
/** Context elements: "Maximum number of items is 10": https://docs.slack.dev/reference/block-kit/blocks/context-block */
export const MAX_CONTEXT_ELEMENTS = 10;
/** A text object holds at most 3000 characters: https://docs.slack.dev/reference/block-kit/composition-objects/text-object */
export const MAX_TEXT_OBJECT = 3000;
/**
 * Not documented: Slack answers `msg_blocks_too_long` from about 13,000 characters of block text in
 * one message, below every per-block limit (https://github.com/slackapi/bolt-js/issues/2509). We keep
 * the sum of all block texts under this.
 */
export const MAX_TOTAL_BLOCK_TEXT = 12_000;
/**
 * The `text` fallback (notifications, screen readers): Slack truncates after 40,000 characters and
 * may split messages over 4,000 (https://api.slack.com/changelog/2018-04-truncating-really-long-messages);
 * a notification should be short anyway.
 */
export const MAX_FALLBACK_TEXT = 3000;

export interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
export interface Mrkdwn {
  type: 'mrkdwn';
  text: string;
}
export type TextObject = PlainText | Mrkdwn;
export interface HeaderBlock {
  type: 'header';
  text: PlainText;
}
export interface SectionBlock {
  type: 'section';
  text?: Mrkdwn;
  fields?: Mrkdwn[];
}
export interface DividerBlock {
  type: 'divider';
}
export interface ContextBlock {
  type: 'context';
  elements: TextObject[];
}
/** https://docs.slack.dev/reference/block-kit/block-elements/button-element */
export interface ButtonElement {
  type: 'button';
  action_id: string;
  text: PlainText;
  /** "Maximum length … is 2000 characters" (button element page). */
  value: string;
  style?: 'primary' | 'danger';
}
/** https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element#static_select */
export interface StaticSelectElement {
  type: 'static_select';
  action_id: string;
  placeholder: PlainText;
  /** Option text: at most 75 characters; value: at most 150 (composition-objects/option-object). */
  options: { text: PlainText; value: string }[];
}
/** "An array of interactive element objects … maximum of 25 elements": https://docs.slack.dev/reference/block-kit/blocks/actions-block */
export interface ActionsBlock {
  type: 'actions';
  block_id?: string;
  elements: (ButtonElement | StaticSelectElement)[];
}
export type Block = HeaderBlock | SectionBlock | DividerBlock | ContextBlock | ActionsBlock;

/**
 * The `action_id`s of the buttons on every incident message: a contract with whoever reads the
 * interactions (wiStatus), so they never change. Each element's value names the incident.
 */
export const ACTION_IDS = {
  ack: 'ack',
  silence: 'silence',
  unsilence: 'unsilence',
  recheck: 'recheck',
} as const;
export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

/** The silence menu: its option values are `INCIDENT_ID/CHOICE`. `ms` undefined: until the incident resolves. */
export const SILENCE_CHOICES = [
  { choice: '1h', label: '1 hour', ms: 3_600_000 },
  { choice: '4h', label: '4 hours', ms: 4 * 3_600_000 },
  { choice: '1d', label: '1 day', ms: 24 * 3_600_000 },
  { choice: 'resolved', label: 'until resolved', ms: undefined },
] as const;
export type SilenceChoice = (typeof SILENCE_CHOICES)[number]['choice'];

export interface SlackMessage {
  /** Plain fallback: what notifications and screen readers show. */
  text: string;
  blocks: Block[];
}

/** Red while it fires, green once repaired. */
export const FIRING_MARK = '🔴';
export const RESOLVED_MARK = '🟢';

const KIND_TITLES: Record<FindingKind, string> = {
  'cluster-wi-disabled': 'Workload Identity disabled on a cluster',
  'nodepool-metadata-disabled': 'Node pool off the GKE metadata server',
  'binding-missing': 'Workload Identity binding missing',
  'annotation-missing': 'KSA annotation missing',
  'gsa-missing': 'Google service account deleted',
  'gsa-disabled': 'Google service account disabled',
  'metadata-egress-blocked': 'Egress to the metadata server blocked',
  'key-file-override': 'Key file overrides Workload Identity',
  'gsa-shared': 'Google service account shared by many KSAs',
  'gsa-broad-role': 'Workload Identity account holds a broad role',
  'binding-orphaned': 'Orphaned Workload Identity binding',
  'sentinel-degraded': 'wi-sentinel cannot watch everything',
  'wi-auth-failures': 'Workloads fail to get Google credentials',
};

// What each part may take (escaped characters), so that the whole stays under MAX_TOTAL_BLOCK_TEXT.
// Firing, at the very worst: header 150 + summary and cause 1,500 + fields 6 × 200 + KSAs 1,500 +
// workloads 1,800 + repair 2,700 + its warning 700 + context 2 × 730 + 220 = about 11,200. Resolved drops the repair
// steps and adds the repair's own line (at most about 950). Lists and steps are also cut by count,
// so that a phone shows a screenful, not a scroll.
const BUDGET = {
  summary: 800,
  resolution: 400,
  fieldValue: 170,
  ksas: 1500,
  workloads: 1800,
  remediation: 2600,
  warning: 650,
  who: 650,
  link: 700,
  listLines: 10,
  steps: 6,
  evidence: 1600,
  sample: 500,
  diagnosis: 1500,
  explained: 600,
} as const;

/** Slack's control characters in mrkdwn and text: https://docs.slack.dev/messaging/formatting-message-text#escaping */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped and cut to `max` characters (an entity or a surrogate pair is never split), ending in "…" when cut. */
export function fit(raw: string, max: number): string {
  if (raw.length <= max) {
    const escaped = escapeMrkdwn(raw);
    if (escaped.length <= max) return escaped;
  }
  let out = '';
  for (const char of raw) {
    const piece = escapeMrkdwn(char);
    if (out.length + piece.length + 1 > max) break;
    out += piece;
  }
  return `${out}…`;
}

/** The longest prefix of whole lines that fits (a last resort: parts are sized to fit by construction). */
function clipLines(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf('\n', max - 2);
  return cut > 0 ? `${text.slice(0, cut)}\n…` : `${text.slice(0, max - 1)}…`;
}

/** Raw text cut to `max` characters at a code-point boundary, ending in "…" when cut (escape it later). */
function shorten(raw: string, max: number): string {
  if (raw.length <= max) return raw;
  let out = '';
  for (const char of raw) {
    if (out.length + char.length + 1 > max) break;
    out += char;
  }
  return `${out}…`;
}

/** A link in mrkdwn: the URL carries no `<`, `>`, `|` or white space, and `&` is written as an entity. */
function link(href: string, text: string): string {
  const url = href.replace(/&/g, '&amp;').replace(/[\s<>|]/g, (char) => encodeURIComponent(char));
  return `<${url}|${fit(text, 80)}>`;
}

/** "2026-11-20 08:00 UTC", or undefined when the time does not parse. */
function utc(iso: string | undefined): string | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return undefined;
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "10:02 UTC", for a sentence (the timeline beside it has the dates). */
function clock(iso: string): string {
  const full = utc(iso);
  return full === undefined ? iso : full.slice(11);
}

/** A time each reader sees in their own zone: https://docs.slack.dev/messaging/formatting-message-text#date-formatting */
function when(iso: string | undefined): string {
  if (iso === undefined) return 'unknown time';
  const fallback = utc(iso);
  if (fallback === undefined) return fit(iso, 60);
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} at {time}|${fallback}>`;
}

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function podsOf(workloads: readonly WorkloadRef[]): number {
  return workloads.reduce((sum, w) => sum + (w.pods ?? 0), 0);
}

/** A planned change that breaks nothing running yet: told, not paged. */
export const PLANNED_MARK = '🗓️';

function stateOf(incident: Incident): { mark: string; word: string } {
  if (incident.status === 'resolved') return { mark: RESOLVED_MARK, word: 'Resolved' };
  if (pagesNobody(incident)) return { mark: PLANNED_MARK, word: 'Planned' };
  return { mark: FIRING_MARK, word: 'Firing' };
}

/**
 * What the plan says: its reason and author, and that nobody is paged; once breached, why it pages
 * after all ("planned change, but pods are failing since …").
 */
function plannedText(incident: Incident): string | undefined {
  const plan = incident.planned;
  if (plan === undefined) return undefined;
  const declared = `${fit(plan.reason, 300)} (declared by ${fit(plan.author, 100)}${plan.until ? `, until ${when(plan.until)}` : ''})`;
  if (plan.breach === undefined) {
    return incident.status === 'resolved'
      ? `${PLANNED_MARK} *Planned change*: ${declared}`
      : `${PLANNED_MARK} *Planned change*: ${declared}. Nobody is paged unless its pods fail.`;
  }
  const why =
    plan.breach.why === 'failures'
      ? `Planned change, but pods are failing since ${when(plan.breach.since ?? plan.breach.at)}`
      : 'Planned change, but a change no plan covers broke the same link';
  return `🚨 *${why}*: paged. The plan: ${declared}`;
}

function titleOf(kind: FindingKind): string {
  return KIND_TITLES[kind] ?? kind;
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/**
 * A titled list cut to `maxChars` and BUDGET.listLines lines; what does not fit is counted. The title
 * is mrkdwn already; each item is formatted (only if shown) and escaped here.
 */
function listText<T>(
  title: string,
  items: readonly T[],
  format: (item: T) => string,
  maxChars: number,
): string {
  let text = title;
  for (const [index, item] of items.entries()) {
    const rest = items.length - index;
    if (index >= BUDGET.listLines) return `${text}\n… and ${rest} more`;
    const next = `\n• ${fit(format(item), 200)}`;
    // Adding this line must leave room to count the lines after it.
    const reserve = rest > 1 ? `\n… and ${rest - 1} more`.length : 0;
    if (text.length + next.length + reserve > maxChars) return `${text}\n… and ${rest} more`;
    text += next;
  }
  return text;
}

/**
 * Who, when and how (at most about BUDGET.who characters): "by *alice@…*", or with the tool that made
 * the change, "via Terraform 1.5.7 (terraform-provider-google 6.12.0), run as *deployer@…*
 * (impersonated by …)"; Google's own agents are no person: "by GKE itself (…)".
 */
function causeLine(cause: Cause): string {
  const chain = cause.delegation?.length ? ` (${fit(delegationWords(cause.delegation), 200)})` : '';
  const actor = cause.actor ? `*${fit(cause.actor, 150)}*${chain}` : 'an unknown actor';
  const via = cause.via;
  const who =
    via === undefined
      ? `by ${actor}`
      : via.person === false
        ? `by ${fit(via.label, 150)}${cause.actor && !via.label.includes(cause.actor) ? ` as ${actor}` : ''}`
        : `via ${fit(via.label, 180)}, run as ${actor}`;
  return `${who} · ${when(cause.time)} · \`${fit(cause.method, 100)}\``;
}

/** "By …" / "Via …" at the start of a line. */
function capitalized(text: string): string {
  return `${text[0]?.toUpperCase() ?? ''}${text.slice(1)}`;
}

function resolutionText(incident: Incident): string {
  const resolution = incident.resolution;
  const what = fit(resolution?.summary ?? 'live state is healthy again', BUDGET.resolution);
  const lines = [`${RESOLVED_MARK} *Repaired:* ${what}`];
  if (resolution?.cause) lines.push(capitalized(causeLine(resolution.cause)));
  else if (incident.resolvedAt) lines.push(`Seen healthy ${when(incident.resolvedAt)}`);
  return lines.join('\n');
}

/** Where it broke, in two columns on a desktop and one on a phone (who and when are in the summary). */
function factsOf(incident: Incident): Mrkdwn[] {
  const f = incident.finding;
  const facts: [string, string][] = [['Project', fit(f.project, BUDGET.fieldValue)]];
  if (f.cluster) facts.push(['Cluster', fit(`${f.cluster.location}/${f.cluster.name}`, BUDGET.fieldValue)]);
  if (f.nodePool) facts.push(['Node pool', fit(f.nodePool, BUDGET.fieldValue)]);
  if (f.gsa) facts.push(['Google service account', fit(f.gsa, BUDGET.fieldValue)]);
  if (!f.cause?.time) facts.push(['Opened', when(incident.openedAt)]);
  if (incident.silencedBy) facts.push(['Silenced by', fit(incident.silencedBy, BUDGET.fieldValue)]);
  return facts.slice(0, MAX_FIELDS).map(([name, value]) => ({ type: 'mrkdwn', text: `*${name}*\n${value}` }));
}

function ksaText(ksas: readonly KsaRef[], resolved: boolean): string {
  const pools = new Set(ksas.map((k) => k.workloadPool));
  const [only] = pools;
  const title = `*${ksas.length === 1 ? 'KSA' : 'KSAs'} ${resolved ? 'affected' : 'losing credentials'} (${ksas.length})*${
    pools.size === 1 && only ? ` in ${fit(only, 100)}` : ''
  }`;
  const line = (k: KsaRef) => `${k.namespace}/${k.name}${pools.size > 1 ? ` (${k.workloadPool})` : ''}`;
  return listText(title, ksas, line, BUDGET.ksas);
}

function workloadText(workloads: readonly WorkloadRef[], resolved: boolean): string {
  const pods = podsOf(workloads);
  const clusters = new Set(workloads.map((w) => w.cluster)).size;
  const title = `*Workloads ${resolved ? 'affected' : 'hit'} (${workloads.length}${pods > 0 ? ` · ${plural(pods, 'pod')}` : ''} in ${plural(clusters, 'cluster')})*`;
  const line = (w: WorkloadRef) => {
    const where = [
      w.cluster,
      w.nodePool ? `pool ${w.nodePool}` : undefined,
      w.pods ? plural(w.pods, 'pod') : undefined,
    ];
    return `${w.kind} ${w.namespace}/${w.name} — ${where.filter(Boolean).join(', ')}`;
  };
  return listText(title, workloads, line, BUDGET.workloads);
}

/** Whose words the repair is in, for its heading: the first step's tool, when it is not a shell's. */
const TOOL_WORDS: Partial<Record<string, string>> = {
  terraform: "Terraform's",
  'config-connector': "Config Connector's",
  pulumi: "Pulumi's",
  crossplane: "Crossplane's",
};

/**
 * One section per repair step: its title, then the command in a code block; first, the warning a
 * fix by hand needs (an authoritative resource, a reconciling controller).
 */
function remediationBlocks(finding: Finding): Block[] {
  const steps = finding.remediation ?? [];
  if (steps.length === 0) return [];
  const words = TOOL_WORDS[steps[0]?.tool ?? ''];
  const heading = `*How to repair* (${plural(steps.length, 'step')}${words ? `, in ${words} words` : ''})`;
  const blocks: Block[] = [{ type: 'divider' }, section(heading)];
  if (finding.remediationWarning)
    blocks.push(section(`⚠️ ${fit(finding.remediationWarning, BUDGET.warning)}`));
  let left = BUDGET.remediation;
  for (const [index, step] of steps.entries()) {
    const title = `*${index + 1}. ${fit(step.title, 200)}*\n`;
    const room = Math.min(MAX_SECTION_TEXT, left) - title.length - '``````'.length;
    const whole = step.command.length <= room && escapeMrkdwn(step.command).length <= room;
    // A command cut to less than 120 characters helps nobody: count the rest instead.
    if (index >= BUDGET.steps || (!whole && room < 120)) {
      blocks.push(section(`… and ${plural(steps.length - index, 'more step')}`));
      break;
    }
    const text = `${title}\`\`\`${fit(step.command, room)}\`\`\``;
    left -= text.length;
    blocks.push(section(text));
  }
  return blocks;
}

/**
 * What people did about it, under the header: who acknowledged it (here or in PagerDuty), the silence
 * set from the message and its end, a close in PagerDuty that live state has not confirmed.
 */
function actsText(incident: Incident): string | undefined {
  const lines: string[] = [];
  const ack = incident.acknowledged;
  if (ack) {
    lines.push(
      ack.via === 'pagerduty'
        ? `✋ Acknowledged in PagerDuty by *${fit(ack.by, 100)}* ${when(ack.at)}`
        : `✋ Acknowledged by *${fit(ack.by, 100)}* ${when(ack.at)}`,
    );
  }
  if (incident.status === 'open') {
    if (incident.silence) {
      const { by, until } = incident.silence;
      lines.push(
        `🔕 Silenced by *${fit(by, 100)}* ${until ? `until ${when(until)}` : 'until it resolves'}: new pages are held back`,
      );
    }
    const closed = incident.closedInPagerDuty;
    if (closed) {
      lines.push(
        `🚪 Closed in PagerDuty by *${fit(closed.by, 100)}* ${when(closed.at)}; the link was still broken at the last check`,
      );
    }
    const reassigned = incident.activity?.findLast((a) => a.type === 'reassigned');
    if (reassigned?.detail) lines.push(`👤 Reassigned in PagerDuty to ${fit(reassigned.detail, 200)}`);
  }
  return lines.length > 0 ? lines.join('\n') : undefined;
}

/**
 * The buttons: acknowledge, silence (or unsilence) and re-check while it fires; only re-check once
 * resolved. Each value names the incident (its id).
 */
export function actionsBlock(incident: Incident): ActionsBlock {
  const id = incident.id;
  const recheck: ButtonElement = {
    type: 'button',
    action_id: ACTION_IDS.recheck,
    text: { type: 'plain_text', text: 'Re-check now' },
    value: id,
  };
  if (incident.status === 'resolved')
    return { type: 'actions', block_id: `wi-actions/${id}`, elements: [recheck] };
  const elements: ActionsBlock['elements'] = [];
  if (!incident.acknowledged) {
    elements.push({
      type: 'button',
      action_id: ACTION_IDS.ack,
      text: { type: 'plain_text', text: 'Acknowledge' },
      value: id,
      style: 'primary',
    });
  }
  elements.push(
    incident.silence
      ? {
          type: 'button',
          action_id: ACTION_IDS.unsilence,
          text: { type: 'plain_text', text: 'Unsilence' },
          value: id,
        }
      : {
          type: 'static_select',
          action_id: ACTION_IDS.silence,
          placeholder: { type: 'plain_text', text: 'Silence…' },
          options: SILENCE_CHOICES.map(({ choice, label }) => ({
            text: { type: 'plain_text', text: label },
            value: `${id}/${choice}`,
          })),
        },
    recheck,
  );
  return { type: 'actions', block_id: `wi-actions/${id}`, elements };
}

function contextBlock(incident: Incident): ContextBlock {
  const links = linksOf(incident.finding)
    .filter((l) => l.href.length <= BUDGET.link)
    .map((l) => link(l.href, l.text));
  const meta = [`\`${incident.kind}\``, `incident ${fit(incident.id, 100)}`];
  const latest = incident.transitions.at(-1);
  if (latest && latest.type === 'updated') meta.push(`updated ${when(latest.at)}`);
  const elements: TextObject[] = [];
  if (links.length > 0) elements.push({ type: 'mrkdwn', text: `🔎 ${links.join('  ·  ')}` });
  elements.push({ type: 'mrkdwn', text: meta.join(' · ') });
  return { type: 'context', elements: elements.slice(0, MAX_CONTEXT_ELEMENTS) };
}

const LINK_MARKS: Record<string, string> = { ok: '✓', broken: '✗', unknown: '?', 'not-applicable': '–' };

/**
 * What workloads feel (symptom evidence): one sentence per group, the timeline (change → first
 * failure → repair → last failure), and one redacted sample. Empty without evidence.
 */
function evidenceBlocks(incident: Incident): SectionBlock[] {
  const evidence = incident.evidence ?? [];
  if (evidence.length === 0) return [];
  const sentences = listText(
    `*What workloads feel* (${plural(evidence.length, 'group')} of failures)`,
    evidence,
    (e) => `${evidenceSentence(incident, e, clock)}${e.alert ? '' : ` — ${kindWords(e.kinds)}`}`,
    BUDGET.evidence / 2,
  );
  // Times in the reader's zone: the sentences above are escaped by listText, so their times stay plain.
  const timeline = timelineOf(incident)
    .map((t) => `\n• ${when(t.at)} *${t.label}*: ${fit(t.text, 200)}`)
    .join('');
  const blocks = [section(clipLines(`${sentences}\n*Timeline*${timeline}`, BUDGET.evidence))];
  const sample = evidence.flatMap((e) => e.samples).at(-1);
  if (sample) {
    const head = `_Latest sample_ (${fit(sample.pod, 80)}, ${fit(sample.library, 40)}):\n`;
    blocks.push(section(`${head}\`\`\`${fit(sample.message, BUDGET.sample - head.length - 6)}\`\`\``));
  }
  return blocks;
}

/** The live diagnosis a symptom incident opened with: the verdict, then each link marked. */
function diagnosisBlocks(incident: Incident): SectionBlock[] {
  const d = incident.diagnosis;
  if (d === undefined) return [];
  const head = `*Live diagnosis* (${when(d.checkedAt)}): ${fit(d.verdict, 300)}`;
  const lines = d.links.map(
    (l) => `\n${LINK_MARKS[l.status] ?? '?'} ${l.link}. ${fit(l.name, 80)}: ${fit(l.detail, 200)}`,
  );
  return [section(clipLines(`${head}${lines.join('')}`, BUDGET.diagnosis))];
}

function explainedBlocks(incident: Incident): SectionBlock[] {
  const refs = incident.explainedBy ?? [];
  if (refs.length === 0) return [];
  const text = listText(
    '*Explained by*',
    refs,
    (r) => `${r.kind} (incident ${r.id}): ${r.summary}`,
    BUDGET.explained,
  );
  return [section(text)];
}

/** The sum of every text in the blocks (what Slack's undocumented total counts). */
function blockText(blocks: readonly Block[]): number {
  let sum = 0;
  for (const block of blocks) {
    if (block.type === 'header') sum += block.text.text.length;
    else if (block.type === 'section') {
      sum += block.text?.text.length ?? 0;
      for (const field of block.fields ?? []) sum += field.text.length;
    } else if (block.type === 'context') for (const element of block.elements) sum += element.text.length;
  }
  return sum;
}

/** The incident's one message: red while it fires, green once repaired; edited in place on every change. */
export function toSlackMessage(incident: Incident): SlackMessage {
  const f = incident.finding;
  const { mark, word } = stateOf(incident);
  const resolved = incident.status === 'resolved';
  const blocks: Block[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: `${mark} ${word}: ${titleOf(incident.kind)} (${incident.severity})`.slice(0, MAX_HEADER_TEXT),
        emoji: true,
      },
    },
  ];
  if (resolved) blocks.push(section(resolutionText(incident)));
  const acts = actsText(incident);
  if (acts) blocks.push(section(acts));
  const who = f.cause
    ? `\n${resolved ? `Broken ${causeLine(f.cause)}` : capitalized(causeLine(f.cause))}`
    : '';
  // Slack refuses an empty text: an empty summary says what kind of break it is instead.
  blocks.push(section(`${fit(f.summary.trim() || titleOf(incident.kind), BUDGET.summary)}${who}`));
  const planned = plannedText(incident);
  if (planned) blocks.push(section(planned));
  // What workloads feel and why, first: evidence, the diagnosis, what explains it. Each is dropped,
  // least useful first, should the whole not fit Slack's total (only with lists at their limits).
  const optional = [...explainedBlocks(incident), ...diagnosisBlocks(incident), ...evidenceBlocks(incident)];
  blocks.push(...optional);
  blocks.push({ type: 'section', fields: factsOf(incident) });
  if (f.ksas.length > 0) blocks.push(section(ksaText(f.ksas, resolved)));
  if (f.workloads && f.workloads.length > 0) blocks.push(section(workloadText(f.workloads, resolved)));
  if (!resolved) blocks.push(...remediationBlocks(f));
  blocks.push(contextBlock(incident));
  // The buttons always stay, last.
  let kept = [...blocks.slice(0, MAX_BLOCKS - 1), actionsBlock(incident)];
  for (const drop of [...optional].reverse()) {
    if (blockText(kept) <= MAX_TOTAL_BLOCK_TEXT) break;
    kept = kept.filter((block) => block !== drop);
  }
  return { text: fallbackText(incident), blocks: kept };
}

/** The same in short, plain words (escaped: Slack parses `text` too). */
function fallbackText(incident: Incident): string {
  const f = incident.finding;
  const { mark, word } = stateOf(incident);
  const head = `${mark} ${word}: ${incident.severity.toUpperCase()} ${titleOf(incident.kind)} in ${f.project}`;
  const lines = [head];
  const plan = incident.planned;
  if (plan?.breach) lines.push(`${breachWords(plan.breach)}: paged.`);
  else if (plan && incident.status === 'open')
    lines.push(`Planned: ${shorten(plan.reason, 300)} (not paged).`);
  if (incident.status === 'resolved') {
    const r = incident.resolution;
    const by = r?.cause?.actor ? ` (by ${shorten(r.cause.actor, 200)})` : '';
    lines.push(`Repaired: ${shorten(r?.summary ?? 'live state is healthy again', 600)}${by}`);
    lines.push(`Was: ${shorten(f.summary, 600)}`);
  } else {
    lines.push(shorten(f.summary, 1000));
    if (f.cause) {
      const at = utc(f.cause.time);
      lines.push(
        `${capitalized(shorten(describeActor(f.cause), 400))}${at ? ` at ${at}` : ''} (${shorten(f.cause.method, 200)})`,
      );
    }
    const workloads = f.workloads ?? [];
    const pods = podsOf(workloads);
    lines.push(
      `Hits ${plural(f.ksas.length, 'KSA')}, ${plural(workloads.length, 'workload')}${pods > 0 ? ` (${plural(pods, 'pod')})` : ''}.`,
    );
  }
  const [evidence] = incident.evidence ?? [];
  if (evidence) lines.push(`${shorten(evidenceSentence(incident, evidence, clock), 600)}.`);
  return fit(lines.join('\n'), MAX_FALLBACK_TEXT);
}

/** A short reply in the incident's thread: edits notify nobody, a reply does. */
export function toSlackThreadReply(incident: Incident, transition: TransitionType): { text: string } {
  const f = incident.finding;
  const latest = incident.transitions.findLast((t) => t.type === transition);
  if (transition === 'resolved') {
    const r = incident.resolution;
    const what = fit(r?.summary ?? latest?.summary ?? 'live state is healthy again', 1500);
    const by = r?.cause ? `\n${capitalized(causeLine(r.cause))}` : '';
    return { text: clipLines(`${RESOLVED_MARK} *Resolved:* ${what}${by}`, MAX_FALLBACK_TEXT) };
  }
  const label = transition === 'opened' ? 'Opened' : 'Updated';
  const what = fit(latest?.summary ?? f.summary, 1500);
  const cause = latest?.cause ?? (transition === 'opened' ? f.cause : undefined);
  const by = cause ? `\n${capitalized(causeLine(cause))}` : '';
  const workloads = f.workloads ?? [];
  const pods = podsOf(workloads);
  const hits = `${plural(f.ksas.length, 'KSA')}, ${plural(workloads.length, 'workload')}${pods > 0 ? ` (${plural(pods, 'pod')})` : ''}`;
  return {
    text: clipLines(
      `${FIRING_MARK} *${label}:* ${what}${by}
Now ${hits}.`,
      MAX_FALLBACK_TEXT,
    ),
  };
}
