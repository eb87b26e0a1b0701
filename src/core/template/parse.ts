/**
 * The template language's grammar — playerctl 2.4's, in both dialects:
 * text with `{{ expression }}` parts; an expression is a string literal
 * ("…", no escapes), a number (digits and dots), a variable (letters,
 * digits, `_` and `:` — `xesam:title`), a function call `name(arg, …)`,
 * parentheses, unary `+`/`-`, and `* /` before `+ -`, left to right.
 *
 * It scans the template's UTF-8 bytes as playerctl does, so its error
 * messages are playerctl's word for word, positions (byte offsets) and
 * quirks included (`lc (x)` is the variable `lc` followed by junk).
 */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

export type Expr =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'variable'; name: string }
  /** A function, or an operator (`+ - * /`, one operand for the unary forms). */
  | { kind: 'call'; name: string; args: Expr[] };

/** Literal text, or an expression to expand. */
export type Part = { text: string } | { expr: Expr };

const MAX_LENGTH = 1028;
const MAX_ARGS = 32;
const SPACE = 0x20;
const ch = (c: string): number => c.charCodeAt(0);
const [LPAREN, RPAREN, COMMA, QUOTE, LBRACE, RBRACE, DOT] = ['(', ')', ',', '"', '{', '}', '.'].map(ch) as number[];
const OPERATORS = new Set(['+', '-', '*', '/'].map(ch));
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isAlpha = (b: number): boolean => (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
const isNumeric = (b: number): boolean => isDigit(b) || b === DOT;
const isIdentStart = (b: number): boolean => isAlpha(b) || b === 0x5f;
const isIdent = (b: number): boolean => isAlpha(b) || isDigit(b) || b === 0x5f || b === 0x3a;
const NUMBER = /^(\d+\.?\d*|\.\d+)$/;

enum Level { Full, NextOperand, MulDiv }

/** Split a template into text and expressions; a TemplateError (playerctl's message) when it is malformed. */
export function parseTemplate(template: string): Part[] {
  const s = Buffer.from(template, 'utf8');
  const len = s.length;
  if (len >= MAX_LENGTH) throw new TemplateError(`the maximum format string length is ${MAX_LENGTH}`);
  const text = (from: number, to: number): string => s.subarray(from, to).toString('utf8');
  const at = (i: number): number => (i < len ? s[i]! : 0);
  const skipSpaces = (i: number): number => { while (i < len && s[i] === SPACE) i++; return i; };

  /** One expression from `pos`; its node and the offset after it (spaces skipped). */
  function expression(pos: number, level: Level): { node: Expr; end: number } {
    if (pos > len - 1) throw new TemplateError('unexpected end of expression');
    let node: Expr | undefined;
    let end = pos;
    let state: 'start' | 'identifier' | 'string' | 'number' = 'start';
    let start = pos;
    scan: for (let i = pos; i < len; i++) {
      const b = s[i]!;
      switch (state) {
        case 'start':
          if (b === SPACE) continue;
          if (b === LPAREN) {
            const inner = expression(i + 1, Level.Full);
            if (inner.end > len - 1 || at(inner.end) !== RPAREN) throw new TemplateError(`expected ")" (position  ${inner.end})`);
            node = inner.node;
            end = inner.end + 1;
            break scan;
          }
          if (b === ch('+') || b === ch('-')) {
            const operand = expression(i + 1, Level.NextOperand);
            node = { kind: 'call', name: String.fromCharCode(b), args: [operand.node] };
            end = operand.end;
            break scan;
          }
          if (b === QUOTE) { state = 'string'; start = i + 1; continue; }
          if (isNumeric(b)) { state = 'number'; start = i; continue; }
          if (!isIdentStart(b)) throw new TemplateError(`unexpected "${text(i, i + 1)}", expected expression (position  ${i})`);
          state = 'identifier';
          start = i;
          continue;
        case 'string':
          if (b === QUOTE) {
            node = { kind: 'string', value: text(start, i) };
            end = skipSpaces(i + 1);
            break scan;
          }
          continue;
        case 'number':
          // playerctl also ends a number one byte before the end of the template.
          if (!isNumeric(b) || i === len - 2) {
            const digits = text(start, i);
            if (!NUMBER.test(digits)) throw new TemplateError(`invalid number: "${digits}" (position ${i})`);
            node = { kind: 'number', value: Number.parseFloat(digits) };
            end = skipSpaces(i);
            break scan;
          }
          continue;
        case 'identifier':
          if (b === LPAREN) {
            const name = text(start, i);
            const args: Expr[] = [];
            let next = i + 1;
            for (;;) {
              if (args.length + 1 > MAX_ARGS) throw new TemplateError(`maximum args of ${MAX_ARGS} exceeded`);
              const arg = expression(next, Level.Full);
              args.push(arg.node);
              end = skipSpaces(arg.end);
              if (at(end) === RPAREN) { end += 1; break; }
              if (at(end) === COMMA) { next = end + 1; continue; }
              throw new TemplateError(`expecting ")" (position ${end})`);
            }
            node = { kind: 'call', name, args };
            break scan;
          }
          if (!isIdent(b)) {
            node = { kind: 'variable', name: text(start, i) };
            end = skipSpaces(i);
            break scan;
          }
          continue;
      }
    }
    if (!node) throw new TemplateError('unexpected end of expression');
    end = skipSpaces(end);
    if (level === Level.NextOperand || end >= len - 1) return { node, end };

    let op = at(end);
    while (OPERATORS.has(op)) {
      while (op === ch('*') || op === ch('/')) {
        const operand = expression(end + 1, Level.NextOperand);
        node = { kind: 'call', name: String.fromCharCode(op), args: [node, operand.node] };
        end = operand.end;
        op = at(end);
      }
      if (level === Level.MulDiv) return { node, end };
      if (op === ch('+') || op === ch('-')) {
        const operand = expression(end + 1, Level.MulDiv);
        node = { kind: 'call', name: String.fromCharCode(op), args: [node, operand.node] };
        end = operand.end;
        op = at(end);
      }
    }
    return { node, end };
  }

  const parts: Part[] = [];
  let literal = 0;
  for (let i = 0; i < len; i++) {
    if (s[i] !== LBRACE || at(i + 1) !== LBRACE) continue;
    if (i > literal) parts.push({ text: text(literal, i) });
    const { node, end } = expression(i + 2, Level.Full);
    parts.push({ expr: node });
    i = skipSpaces(end);
    if (i >= len || s[i] !== RBRACE || at(i + 1) !== RBRACE) throw new TemplateError(`expecting "}}" (position ${i})`);
    i += 1;
    literal = i + 1;
  }
  if (len > literal) parts.push({ text: text(literal, len) });
  return parts;
}

/** Every variable name an expression reads, in its function arguments too. */
export function variablesOf(parts: Part[]): Set<string> {
  const names = new Set<string>();
  const walk = (e: Expr): void => {
    if (e.kind === 'variable') names.add(e.name);
    else if (e.kind === 'call') e.args.forEach(walk);
  };
  for (const p of parts) if ('expr' in p) walk(p.expr);
  return names;
}
