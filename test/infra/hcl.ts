/**
 * The structure of Terraform's native syntax (HCL2) as it is written: which names are blocks and
 * which are arguments, on which line, with each argument's expression as its source text.
 * `@cdktf/hcl2json` gives the values but loses both of these (a block `a { … }` and an argument
 * `a = [{ … }]` come out alike, and no line survives), and the schema check needs them.
 *
 * It reads the structure only: expressions are scanned (strings, templates, heredocs, brackets,
 * comments) to find where they end, never evaluated.
 */
export interface HclAttribute {
  name: string;
  line: number;
  /** The expression's source text, trimmed. */
  expression: string;
}

export interface HclBlock {
  type: string;
  labels: string[];
  line: number;
  body: HclBody;
}

export interface HclBody {
  attributes: HclAttribute[];
  blocks: HclBlock[];
}

export class HclSyntaxError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'HclSyntaxError';
  }
}

const IDENTIFIER = /[A-Za-z_][\w-]*/y;

/** Reads one file's body. Throws HclSyntaxError naming the file and line of what it cannot read. */
export function readHcl(text: string, file = 'input.tf'): HclBody {
  const reader = new Reader(text, file);
  const body = reader.body(false);
  return body;
}

class Reader {
  private i = 0;
  /** Where each line starts, for line numbers. */
  private readonly lineStarts: number[] = [0];
  private readonly text: string;
  private readonly file: string;
  constructor(text: string, file: string) {
    this.text = text;
    this.file = file;
    for (let k = 0; k < text.length; k += 1) if (text[k] === '\n') this.lineStarts.push(k + 1);
  }

  private lineAt(index: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((this.lineStarts[middle] as number) <= index) low = middle;
      else high = middle - 1;
    }
    return low + 1;
  }

  private fail(message: string, at = this.i): never {
    throw new HclSyntaxError(this.file, this.lineAt(at), message);
  }

  /** Skips spaces, newlines and comments. */
  private skipTrivia(): void {
    while (this.i < this.text.length) {
      const c = this.text[this.i];
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') this.i += 1;
      else if (c === '#' || (c === '/' && this.text[this.i + 1] === '/')) this.skipLineComment();
      else if (c === '/' && this.text[this.i + 1] === '*') this.skipBlockComment();
      else return;
    }
  }

  private skipLineComment(): void {
    while (this.i < this.text.length && this.text[this.i] !== '\n') this.i += 1;
  }

  private skipBlockComment(): void {
    const end = this.text.indexOf('*/', this.i + 2);
    if (end < 0) this.fail('unterminated /* comment');
    this.i = end + 2;
  }

  /** The items of a body, up to its closing `}` (consumed) or the end of the file. */
  body(closed: boolean): HclBody {
    const body: HclBody = { attributes: [], blocks: [] };
    while (true) {
      this.skipTrivia();
      if (this.i >= this.text.length) {
        if (closed) this.fail('a block is not closed');
        return body;
      }
      if (this.text[this.i] === '}') {
        if (!closed) this.fail('unexpected }');
        this.i += 1;
        return body;
      }
      const start = this.i;
      IDENTIFIER.lastIndex = this.i;
      const name = IDENTIFIER.exec(this.text)?.[0];
      if (name === undefined)
        this.fail(`expected an argument or a block, found ${JSON.stringify(this.text[this.i])}`);
      this.i += name.length;
      this.skipSpaces();
      const c = this.text[this.i];
      if (c === '=' && this.text[this.i + 1] !== '=') {
        this.i += 1;
        const from = this.i;
        this.scanExpression();
        body.attributes.push({
          name,
          line: this.lineAt(start),
          expression: this.text.slice(from, this.i).trim(),
        });
      } else {
        const labels: string[] = [];
        while (this.text[this.i] === '"' || /[A-Za-z_]/.test(this.text[this.i] ?? '')) {
          if (this.text[this.i] === '"') {
            const from = this.i;
            this.skipString();
            labels.push(JSON.parse(this.text.slice(from, this.i)) as string);
          } else {
            IDENTIFIER.lastIndex = this.i;
            const label = IDENTIFIER.exec(this.text)?.[0] as string;
            labels.push(label);
            this.i += label.length;
          }
          this.skipSpaces();
        }
        if (this.text[this.i] !== '{') this.fail(`expected = or { after ${name}`);
        this.i += 1;
        body.blocks.push({ type: name, labels, line: this.lineAt(start), body: this.body(true) });
      }
    }
  }

  private skipSpaces(): void {
    while (this.text[this.i] === ' ' || this.text[this.i] === '\t') this.i += 1;
  }

  /**
   * Moves past an expression: it ends at a newline or comment outside brackets, or before the `}`
   * that closes the enclosing block (`a { b = 1 }`).
   */
  private scanExpression(): void {
    let depth = 0;
    while (this.i < this.text.length) {
      const c = this.text[this.i] as string;
      const next = this.text[this.i + 1];
      if (c === '"') this.skipString();
      else if (c === '<' && next === '<' && /^<<-?[A-Za-z_]/.test(this.text.slice(this.i, this.i + 4)))
        this.skipHeredoc();
      else if (c === '#' || (c === '/' && next === '/')) {
        if (depth === 0) return;
        this.skipLineComment();
      } else if (c === '/' && next === '*') this.skipBlockComment();
      else if (c === '(' || c === '[' || c === '{') {
        depth += 1;
        this.i += 1;
      } else if (c === ')' || c === ']' || c === '}') {
        if (depth === 0) {
          if (c === '}') return;
          this.fail(`unbalanced ${c}`);
        }
        depth -= 1;
        this.i += 1;
      } else if (c === '\n' && depth === 0) {
        return;
      } else this.i += 1;
    }
    if (depth > 0) this.fail('an expression is not closed');
  }

  /** Moves past a quoted string whose templates (`${…}`, `%{…}`) may hold strings of their own. */
  private skipString(): void {
    const start = this.i;
    this.i += 1;
    while (this.i < this.text.length) {
      const c = this.text[this.i];
      if (c === '\\') this.i += 2;
      else if (c === '"') {
        this.i += 1;
        return;
      } else if ((c === '$' || c === '%') && this.text[this.i + 1] === '{') {
        this.i += 2;
        this.skipTemplate();
      } else if (c === '\n') this.fail('a string is not closed on its line', start);
      else this.i += 1;
    }
    this.fail('a string is not closed', start);
  }

  /** Moves past a template's body up to its closing `}`. */
  private skipTemplate(): void {
    let depth = 0;
    while (this.i < this.text.length) {
      const c = this.text[this.i];
      if (c === '"') this.skipString();
      else if (c === '{') {
        depth += 1;
        this.i += 1;
      } else if (c === '}') {
        this.i += 1;
        if (depth === 0) return;
        depth -= 1;
      } else this.i += 1;
    }
    this.fail('a template is not closed');
  }

  private skipHeredoc(): void {
    const match = /^<<-?([A-Za-z_]\w*)[ \t]*\n/.exec(this.text.slice(this.i));
    if (!match) this.fail('a heredoc marker must end its line');
    const marker = match[1] as string;
    let at = this.i + match[0].length;
    while (at < this.text.length) {
      const end = this.text.indexOf('\n', at);
      const line = this.text.slice(at, end < 0 ? this.text.length : end);
      if (line.trim() === marker) {
        this.i = at + line.length;
        return;
      }
      if (end < 0) break;
      at = end + 1;
    }
    this.fail(`heredoc ${marker} is not closed`);
  }
}

/** The blocks of a body of one type (`resource`, `variable`, …). */
export const blocksOfType = (body: HclBody, type: string): HclBlock[] =>
  body.blocks.filter((block) => block.type === type);

export function attributeOf(body: HclBody, name: string): HclAttribute | undefined {
  return body.attributes.find((attribute) => attribute.name === name);
}
