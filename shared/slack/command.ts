import { FINDING_KINDS } from '../domain/finding.ts';
import type { SilenceMatchers } from '../domain/incident.ts';
import { type Interaction, readInteraction } from './interaction.ts';

/**
 * A `/wi-status` invocation: the form Slack posts (https://docs.slack.dev/interactivity/implementing-slash-commands),
 * and the typed text read as one of our subcommands. Pure. Unknown input is never an error: it
 * becomes `help`, with what was not understood, so the user sees how to ask.
 */

/** The fields of the form we use; everything else Slack sends is ignored. */
export interface SlashCommand {
  teamId: string;
  userId: string;
  userName?: string;
  channelId?: string;
  enterpriseId?: string;
  command: string;
  text: string;
  responseUrl: string;
  triggerId?: string;
}

/** What else a verified request to the slash-command URL can be. */
export type SlackRequest =
  | { type: 'command'; command: SlashCommand }
  /** A button of an incident's message was pressed (interaction.ts). */
  | { type: 'interaction'; interaction: Interaction }
  /** Slack checking the certificate of the URL (`ssl_check=1`): answer 200, nothing else. */
  | { type: 'ssl-check' }
  /** The Events API's handshake (JSON `{ type: 'url_verification', challenge }`): echo the challenge. */
  | { type: 'url-verification'; challenge: string }
  | { type: 'unreadable'; problem: string };

const MAX_TEXT = 2_000;
const MAX_CHALLENGE = 200;

/** Reads a verified request body (form or JSON, by its content type and first byte). */
export function readSlackRequest(rawBody: Uint8Array, contentType: string | undefined): SlackRequest {
  const text = Buffer.from(rawBody).toString('utf8');
  if (contentType?.includes('application/json') || text.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { type: 'unreadable', problem: 'a JSON body that does not parse' };
    }
    const { type, challenge } = (value ?? {}) as { type?: unknown; challenge?: unknown };
    if (type === 'url_verification' && typeof challenge === 'string' && challenge.length <= MAX_CHALLENGE)
      return { type: 'url-verification', challenge };
    return {
      type: 'unreadable',
      problem: `a JSON body of type ${JSON.stringify(String(type)).slice(0, 40)}`,
    };
  }
  const form = new URLSearchParams(text);
  if (form.get('ssl_check') === '1') return { type: 'ssl-check' };
  // Interactivity posts one field, `payload`, holding JSON.
  const payload = form.get('payload');
  if (payload !== null) {
    const read = readInteraction(payload);
    return read.ok
      ? { type: 'interaction', interaction: read.interaction }
      : { type: 'unreadable', problem: read.problem };
  }
  const field = (name: string) => {
    const value = form.get(name);
    return value === null || value === '' ? undefined : value;
  };
  const teamId = field('team_id');
  const userId = field('user_id');
  const responseUrl = field('response_url');
  const command = field('command');
  const missing = [
    ['team_id', teamId],
    ['user_id', userId],
    ['command', command],
    ['response_url', responseUrl],
  ].filter(([, value]) => value === undefined);
  if (missing.length > 0 || !teamId || !userId || !command || !responseUrl)
    return { type: 'unreadable', problem: `a form without ${missing.map(([name]) => name).join(', ')}` };
  const optional = (key: keyof SlashCommand, name: string) => {
    const value = field(name);
    return value === undefined ? {} : { [key]: value };
  };
  return {
    type: 'command',
    command: {
      teamId,
      userId,
      command,
      text: (form.get('text') ?? '').slice(0, MAX_TEXT),
      responseUrl,
      ...optional('userName', 'user_name'),
      ...optional('channelId', 'channel_id'),
      ...optional('enterpriseId', 'enterprise_id'),
      ...optional('triggerId', 'trigger_id'),
    },
  };
}

// --- the typed text ------------------------------------------------------------------------------

export type Visibility = 'ephemeral' | 'in_channel';

export type StatusRequest =
  | { kind: 'summary' }
  | { kind: 'cluster'; cluster: string }
  | { kind: 'ksa'; namespace: string; name: string; cluster?: string }
  | { kind: 'incidents' }
  | { kind: 'silence'; target: SilenceTarget; durationMs: number; duration: string; reason: string }
  | { kind: 'plan'; matchers: SilenceMatchers; durationMs: number; duration: string; reason: string }
  | { kind: 'unsilence'; id: string }
  | { kind: 'help'; problem?: string; topic?: 'silence' | 'unsilence' | 'ksa' | 'plan' };

/** What a silence covers: matchers, a fingerprint, or an open incident's id (its fingerprint, then). */
export type SilenceTarget = { matchers: SilenceMatchers } | { fingerprint: string } | { incidentId: string };

export interface ParsedText {
  request: StatusRequest;
  visibility: Visibility;
}

/** A silence longer than this hides the next real break: say so instead. */
export const MAX_SILENCE_MS = 30 * 24 * 3_600_000;
export const MIN_SILENCE_MS = 60_000;
const MAX_REASON = 300;

const MATCHER_KEYS: Record<string, keyof SilenceMatchers> = {
  project: 'project',
  cluster: 'cluster',
  namespace: 'namespace',
  ns: 'namespace',
  ksa: 'ksa',
  kind: 'kind',
  fingerprint: 'fingerprint',
  actor: 'actor',
  tool: 'tool',
};

/** Kubernetes object names (DNS-1123 subdomain, loosely) and GKE cluster names, locations, projects. */
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const CLUSTER_PATH = /^[a-z0-9][a-z0-9.-]*(\/[a-z0-9][a-z0-9.-]*){0,2}$/;
const INCIDENT_ID = /^[0-9a-f]{16}-[0-9a-z]{1,12}$/;
const SILENCE_ID = /^[a-z0-9][a-z0-9-]{2,63}$/;
const DURATION = /^(?:(\d{1,4})w)?(?:(\d{1,4})d)?(?:(\d{1,5})h)?(?:(\d{1,6})m)?$/;

/**
 * Slack sends the text with `&`, `<` and `>` as entities, and, when link and user escaping is on,
 * links as `<url|label>` (an e-mail address becomes `<mailto:a@b|a@b>`): read them as typed. Smart
 * punctuation from a phone keyboard (— for --, “quotes”) is read as meant too.
 */
export function normalizeText(text: string): string {
  return text
    .replace(/<(?:mailto:)?([^<>|]*)\|([^<>]*)>/g, (_, _url: string, label: string) => label)
    .replace(/<(?:mailto:)?([^<>|]*)>/g, (_, url: string) => url)
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/[\u2014\u2013]/g, '--')
    .replace(/[\u201c\u201d\u2018\u2019]/g, '"')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The subcommand the text asks for; `public` as the first word answers in the channel. */
export function parseCommandText(raw: string): ParsedText {
  let words = normalizeText(raw).split(' ').filter(Boolean);
  let visibility: Visibility = 'ephemeral';
  if (words[0]?.toLowerCase() === 'public') {
    visibility = 'in_channel';
    words = words.slice(1);
  }
  return { request: parseWords(words), visibility };
}

function parseWords(words: string[]): StatusRequest {
  const [first, ...rest] = words;
  if (first === undefined) return { kind: 'summary' };
  const verb = first.toLowerCase();
  switch (verb) {
    case 'help':
    case '-h':
    case '--help':
    case '?':
      return { kind: 'help' };
    case 'incidents':
    case 'incident':
      return rest.length === 0
        ? { kind: 'incidents' }
        : { kind: 'help', problem: '`incidents` takes no argument' };
    case 'silence':
      return parseSilence(rest);
    case 'plan':
      return parsePlan(rest);
    case 'unsilence': {
      const [id, ...extra] = rest;
      if (id === undefined || extra.length > 0 || !SILENCE_ID.test(id))
        return { kind: 'help', topic: 'unsilence', problem: '`unsilence` takes one silence id' };
      return { kind: 'unsilence', id };
    }
  }
  if (first.includes('/') && first.split('/').length === 2) return parseKsa(first, rest);
  if (rest.length === 0 && CLUSTER_PATH.test(first)) return { kind: 'cluster', cluster: first };
  return { kind: 'help', problem: `I don't know \`${first.slice(0, 60)}\`` };
}

function parseKsa(path: string, rest: string[]): StatusRequest {
  const [namespace = '', name = ''] = path.split('/');
  if (!NAME.test(namespace) || !NAME.test(name))
    return { kind: 'help', topic: 'ksa', problem: `\`${path.slice(0, 120)}\` is not NAMESPACE/KSA` };
  if (rest.length === 0) return { kind: 'ksa', namespace, name };
  const [flag, cluster, ...extra] = rest;
  if ((flag === '--cluster' || flag === '-c') && cluster !== undefined && extra.length === 0) {
    if (!CLUSTER_PATH.test(cluster))
      return { kind: 'help', topic: 'ksa', problem: `\`${cluster.slice(0, 120)}\` is not a cluster name` };
    return { kind: 'ksa', namespace, name, cluster };
  }
  if (flag?.startsWith('--cluster=') && rest.length === 1)
    return parseKsa(path, ['--cluster', flag.slice('--cluster='.length)]);
  return {
    kind: 'help',
    topic: 'ksa',
    problem: 'after NAMESPACE/KSA only `--cluster CLUSTER` is understood',
  };
}

function parseSilence(words: string[]): StatusRequest {
  const [target, ...rest] = words;
  const help = (problem: string): StatusRequest => ({ kind: 'help', topic: 'silence', problem });
  if (target === undefined || rest.length === 0)
    return help('`silence` needs what to silence, for how long, and why');
  const parsedTarget = parseTarget(target);
  if (typeof parsedTarget === 'string') return help(parsedTarget);
  const held = parseHold(rest, 'silence', 'a longer one hides the next break', 'the silence hides');
  if (typeof held === 'string') return help(held);
  return { kind: 'silence', target: parsedTarget, ...held };
}

/**
 * `plan MATCHERS DURATION REASON`: the changes the matchers cover (say `actor=deployer@*,namespace=
 * payments`) are planned for the duration: told to Slack marked planned, paged only if pods fail.
 */
function parsePlan(words: string[]): StatusRequest {
  const [target, ...rest] = words;
  const help = (problem: string): StatusRequest => ({ kind: 'help', topic: 'plan', problem });
  if (target === undefined || rest.length === 0)
    return help('`plan` needs which changes are planned (matchers), for how long, and why');
  const parsedTarget = parseTarget(target);
  if (typeof parsedTarget === 'string') return help(parsedTarget);
  if (!('matchers' in parsedTarget))
    return help('a plan covers changes by matchers (actor=…, tool=…, namespace=…), not one incident');
  const held = parseHold(
    rest,
    'plan',
    'a longer one is a standing rule: the routing file holds those',
    'the plan covers',
  );
  if (typeof held === 'string') return help(held);
  return { kind: 'plan', matchers: parsedTarget.matchers, ...held };
}

/** DURATION REASON of a silence or a plan, or what is wrong with them. */
function parseHold(
  [duration = '', ...reasonWords]: string[],
  what: string,
  tooLong: string,
  whoSees: string,
): { durationMs: number; duration: string; reason: string } | string {
  const durationMs = parseDuration(duration);
  if (durationMs === undefined)
    return `\`${duration.slice(0, 40)}\` is not a duration (say 30m, 4h, 2d or 1w)`;
  if (durationMs < MIN_SILENCE_MS) return `a ${what} lasts at least 1m`;
  if (durationMs > MAX_SILENCE_MS) return `a ${what} lasts at most 30d: ${tooLong}`;
  const reason = reasonWords
    .join(' ')
    .replace(/^"(.*)"$/, '$1')
    .trim();
  if (reason === '') return `say why, after the duration: it is shown to everyone ${whoSees}`;
  if (reason.length > MAX_REASON) return `the reason takes at most ${MAX_REASON} characters`;
  return { durationMs, duration: duration.toLowerCase(), reason };
}

/** A target, or what is wrong with it. */
export function parseTarget(text: string): SilenceTarget | string {
  if (text.includes('=')) {
    const matchers: SilenceMatchers = {};
    for (const pair of text.split(',')) {
      const at = pair.indexOf('=');
      const key = MATCHER_KEYS[pair.slice(0, at).toLowerCase()];
      const value = pair.slice(at + 1);
      if (at < 0 || key === undefined)
        return `\`${pair.slice(0, 40)}\`: matchers are project, cluster, namespace, ksa, kind, fingerprint, actor or tool`;
      if (value === '' || value === '*' || value.length > 300)
        return `\`${pair.slice(0, 40)}\` needs a value (a trailing * matches a prefix)`;
      if (matchers[key] !== undefined) return `\`${key}\` is given twice`;
      if (key === 'ksa' && !/^[^/]+\/[^/]+$/.test(value)) return '`ksa=` takes NAMESPACE/NAME';
      matchers[key] = value;
    }
    return { matchers };
  }
  if (INCIDENT_ID.test(text)) return { incidentId: text };
  const kind = text.split('/')[0] ?? '';
  if (text.includes('/') && (FINDING_KINDS as readonly string[]).includes(kind) && text.length <= 500)
    return { fingerprint: text };
  return `\`${text.slice(0, 60)}\` is neither matchers (key=value,…), an incident id nor a fingerprint`;
}

/** `30m`, `4h`, `2d`, `1w`, `1h30m`: milliseconds, or undefined. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.toLowerCase());
  if (match === null || text === '') return undefined;
  const [, w = '0', d = '0', h = '0', m = '0'] = match;
  return (((Number(w) * 7 + Number(d)) * 24 + Number(h)) * 60 + Number(m)) * 60_000;
}
