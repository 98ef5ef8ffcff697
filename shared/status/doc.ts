/**
 * What `/wi-status` and `wi-sentinel status` say, built once and rendered twice: as Block Kit for
 * Slack (blocks.ts) and as plain text for the terminal (here), so both always carry the same content.
 * A document is a title, sections of short lines (made to read well on a phone: one fact a line, the
 * detail on an indented line below), and small-print notes.
 */
export interface StatusDoc {
  /** One line, what a notification shows; starts with its mark (✅ ❌ ⚠️ ℹ️). */
  title: string;
  sections: DocSection[];
  /** Small print: where the answer comes from, what to ask next. */
  notes?: string[];
}

export interface DocSection {
  heading?: string;
  lines: DocLine[];
  /** Items left out, counted: "… and 12 more clusters". */
  more?: { count: number; what: string };
}

export interface DocLine {
  /** ✓ ✗ 🔴 🔕 … */
  mark?: string;
  /** Bold in Slack. */
  lead?: string;
  text?: string;
  /** Monospace: a command, an id, a fingerprint. */
  code?: string;
  /** Detail of the line above. */
  indent?: boolean;
}

export const MARKS = {
  ok: '✓',
  broken: '✗',
  unknown: '?',
  healthy: '✅',
  unhealthy: '❌',
  warning: '⚠️',
  info: 'ℹ️',
  silenced: '🔕',
  planned: '🗓️',
} as const;

/** "… and 3 more clusters" */
export function moreText(more: { count: number; what: string }): string {
  return `… and ${more.count} more ${more.what}`;
}

function lineText(line: DocLine): string {
  const parts = [line.mark, [line.lead, line.text].filter(Boolean).join(''), line.code].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  return `${line.indent ? '    ' : ''}${parts.join(' ')}`;
}

/** The document as terminal text: the title, then each section (headings end with a colon). */
export function renderDocText(doc: StatusDoc): string {
  const out = [doc.title];
  for (const section of doc.sections) {
    if (section.heading !== undefined) out.push(`${section.heading}:`);
    const pad = section.heading === undefined ? '' : '  ';
    for (const line of section.lines) out.push(`${pad}${lineText(line)}`);
    if (section.more && section.more.count > 0) out.push(`${pad}${moreText(section.more)}`);
  }
  for (const note of doc.notes ?? []) out.push(`· ${note}`);
  return out.join('\n');
}

/** A count with its noun: 1 pod, 2 pods. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** "2026-11-20 09:00 UTC", or the text as given when it is not a time. */
export function utc(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** "12 min ago", "3 h ago", "2 d ago" (or "just now"). */
export function ago(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 90) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.floor(hours / 24)} d ago`;
}

/** "2 h", "1 d 4 h", "30 min": how long a duration is, in words. */
export function span(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  const parts = [days ? `${days} d` : '', hours ? `${hours} h` : '', rest ? `${rest} min` : ''];
  return parts.filter(Boolean).join(' ') || '0 min';
}
