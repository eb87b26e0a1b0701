/**
 * A parsed template and its expansion. The grammar is one (parse.ts); a
 * dialect says what the functions and operators do and how a value prints:
 * playerctl's (playerctl-dialect.ts) or mediagate's own (mediagate-dialect.ts).
 */
import { escapeValue, type EscapeMode } from './escape.js';
import { parseTemplate, variablesOf, type Expr, type Part } from './parse.js';
import { dbl, str, type Value } from './value.js';

/** What a variable holds, or undefined when it is not set (it expands to nothing). */
export type Lookup = (name: string) => Value | undefined;

/** A failure while expanding (playerctl reports type errors, unknown functions, division by zero then). */
export class TemplateRuntimeError extends Error {
  override name = 'TemplateRuntimeError';
}

export interface Dialect {
  /** Apply a function or operator to evaluated arguments; `exprs` are the argument expressions (emoji() looks at them). */
  call(name: string, args: Array<Value | undefined>, exprs: Expr[]): Value | undefined;
  /** A value as printed text. */
  text(value: Value): string;
  /** Refuse, before any output, what can never expand (a TemplateError). */
  check(parts: Part[]): void;
  /** Printed without escaping (mediagate's json(x) at the top of an expression). */
  raw?(expr: Expr): boolean;
}

export class Template {
  /** Every variable the template reads (for follow: which changes matter; for fetching metadata only when used). */
  readonly variables: ReadonlySet<string>;
  private readonly parts: Part[];

  constructor(readonly source: string, private readonly dialect: Dialect) {
    this.parts = parseTemplate(source);
    dialect.check(this.parts);
    this.variables = variablesOf(this.parts);
  }

  /** Reads any variable in `names`. */
  uses(...names: string[]): boolean {
    return names.some((n) => this.variables.has(n));
  }

  /** Reads a metadata key (a name with a colon, or one of `also`). */
  usesMetadata(also: readonly string[] = []): boolean {
    for (const n of this.variables) if (n.includes(':') || also.includes(n)) return true;
    return false;
  }

  /** Expand with these variables; each expansion is escaped for `mode`. TemplateRuntimeError when an expression fails. */
  render(lookup: Lookup, mode: EscapeMode): string {
    let out = '';
    for (const p of this.parts) {
      if ('text' in p) { out += p.text; continue; }
      const value = this.evaluate(p.expr, lookup);
      if (value === undefined) continue;
      const text = this.dialect.text(value);
      out += this.dialect.raw?.(p.expr) ? text : escapeValue(text, mode);
    }
    return out;
  }

  private evaluate(e: Expr, lookup: Lookup): Value | undefined {
    switch (e.kind) {
      case 'string': return str(e.value);
      case 'number': return dbl(e.value);
      case 'variable': return lookup(e.name);
      case 'call': {
        const args = e.args.map((a) => this.evaluate(a, lookup));
        return this.dialect.call(e.name, args, e.args);
      }
    }
  }
}
