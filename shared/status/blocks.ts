import {
  type Block,
  type ContextBlock,
  escapeMrkdwn,
  fit,
  MAX_BLOCKS,
  MAX_CONTEXT_ELEMENTS,
  MAX_FALLBACK_TEXT,
  MAX_HEADER_TEXT,
  MAX_SECTION_TEXT,
  MAX_TOTAL_BLOCK_TEXT,
  type SectionBlock,
} from '../notify/slack-render.ts';
import { type DocLine, type DocSection, moreText, type StatusDoc } from './doc.ts';

/**
 * A status document as one Slack message in Block Kit: the title as a header, each section as
 * mrkdwn sections (split at line boundaries when one would pass a section's 3,000 characters), the
 * notes as a context block. Pure. Everything is escaped; Slack's limits (documented beside their
 * constants in shared/notify/slack-render.ts: 50 blocks, header 150, section 3,000, context 10
 * elements, and the undocumented ~13,000 characters of block text per message) are kept by
 * construction: what does not fit is counted ("… and 40 more lines"), never cut mid-line.
 */

/** What one line may take: a phone shows about 40 characters a row, long lines wrap badly. */
const MAX_LINE = 300;
/** Room kept for the notes and the "… and N more" lines. */
const RESERVED = 1_500;

export interface SlackDocMessage {
  /** The fallback: notifications, screen readers, clients without blocks. */
  text: string;
  blocks: Block[];
}

/** One line in mrkdwn: the mark, the lead in bold, the text, the code in backticks. */
export function lineMrkdwn(line: DocLine): string {
  const parts: string[] = [];
  if (line.mark) parts.push(line.mark);
  const words = `${line.lead ? `*${fit(line.lead, 150)}*` : ''}${line.text ? fit(line.text, MAX_LINE) : ''}`;
  if (words) parts.push(words);
  // Backticks cannot be escaped inside inline code: they become a look-alike.
  if (line.code) parts.push(`\`${fit(line.code.replace(/`/g, 'ˋ'), 200)}\``);
  return `${line.indent ? '\u2003\u2003' : ''}${parts.join(' ')}`;
}

function section(text: string): SectionBlock {
  return { type: 'section', text: { type: 'mrkdwn', text } };
}

/** A section's lines as blocks within `budget` characters; returns them and what they used. */
function sectionBlocks(part: DocSection, budget: number): { blocks: SectionBlock[]; used: number } {
  const heading = part.heading === undefined ? undefined : `*${fit(part.heading, 150)}*`;
  const lines = part.lines.map(lineMrkdwn);
  const blocks: SectionBlock[] = [];
  let used = 0;
  let current = heading ?? '';
  let shown = 0;
  const flush = () => {
    if (current !== '') {
      blocks.push(section(current));
      used += current.length;
    }
    current = '';
  };
  for (const line of lines) {
    const restAfter = lines.length - shown - 1 + (part.more?.count ?? 0);
    const reserve = restAfter > 0 ? 40 : 0;
    if (used + current.length + line.length + 1 + reserve > budget) break;
    if (current.length + line.length + 1 > MAX_SECTION_TEXT) flush();
    current = current === '' ? line : `${current}\n${line}`;
    shown += 1;
  }
  const hidden = lines.length - shown;
  const more =
    hidden > 0
      ? `… and ${hidden + (part.more?.count ?? 0)} more`
      : part.more && part.more.count > 0
        ? escapeMrkdwn(moreText(part.more))
        : undefined;
  if (more !== undefined) {
    if (current.length + more.length + 1 > MAX_SECTION_TEXT) flush();
    current = current === '' ? more : `${current}\n${more}`;
  }
  flush();
  return { blocks, used };
}

export function toSlackDoc(doc: StatusDoc): SlackDocMessage {
  const title =
    doc.title.length > MAX_HEADER_TEXT ? `${doc.title.slice(0, MAX_HEADER_TEXT - 1)}…` : doc.title;
  const blocks: Block[] = [{ type: 'header', text: { type: 'plain_text', text: title, emoji: true } }];
  let left = MAX_TOTAL_BLOCK_TEXT - title.length - RESERVED;
  let omitted = 0;
  for (const part of doc.sections) {
    if (part.lines.length === 0 && !part.more) continue;
    // Each section needs a block or two: stop before the count leaves no room for the notes.
    if (left < 100 || blocks.length >= MAX_BLOCKS - 3) {
      omitted += 1;
      continue;
    }
    const { blocks: made, used } = sectionBlocks(part, left);
    blocks.push(...made.slice(0, MAX_BLOCKS - 2 - blocks.length));
    left -= used;
  }
  if (omitted > 0) blocks.push(section(`… and ${omitted} more sections: too long for one message`));
  const notes = doc.notes ?? [];
  if (notes.length > 0) {
    const context: ContextBlock = {
      type: 'context',
      elements: notes
        .slice(0, MAX_CONTEXT_ELEMENTS)
        .map((note) => ({ type: 'mrkdwn', text: mrkdwnNote(note) })),
    };
    blocks.push(context);
  }
  return { text: fallbackText(doc), blocks };
}

/**
 * Notes may quote a command in backticks (`/wi-status incidents`): kept as inline code, the rest
 * escaped. A note is short by construction; it is cut at 300 characters all the same.
 */
function mrkdwnNote(note: string): string {
  return note
    .slice(0, 300)
    .split('`')
    .map((piece, index) => (index % 2 === 1 ? `\`${escapeMrkdwn(piece)}\`` : escapeMrkdwn(piece)))
    .join('');
}

/** The title and the first lines, plain and short (Slack parses `text` too: escaped). */
function fallbackText(doc: StatusDoc): string {
  const lines = [doc.title];
  for (const part of doc.sections) {
    for (const line of part.lines) {
      if (line.indent) continue;
      lines.push([line.mark, `${line.lead ?? ''}${line.text ?? ''}`].filter(Boolean).join(' '));
      if (lines.length >= 8) break;
    }
    if (lines.length >= 8) break;
  }
  return fit(lines.join('\n'), MAX_FALLBACK_TEXT);
}
