/**
 * Templates — `{{artist}} - {{title}} [{{duration(position)}}]` — in one
 * engine (src/core/template/) with two dialects: mediagate's own `--format`
 * (its names and units; see template/mediagate-dialect.ts) and playerctl's
 * (template/playerctl-dialect.ts), which `mediagate playerctl` speaks.
 * The escaping of player text for the terminal or JSON is escapeValue
 * (template/escape.ts), the one place it happens.
 */
import type { Metadata, PlayerState } from './players/types.js';
import type { EscapeMode } from './template/escape.js';
import { mediagateTemplate, mediagateVariables } from './template/mediagate-dialect.js';

export { formatClock } from './clock.js';
export { escapeValue, type EscapeMode } from './template/escape.js';
export { TemplateError } from './template/parse.js';
export { Template, TemplateRuntimeError } from './template/template.js';
export { mediagateTemplate, mediagateVariables } from './template/mediagate-dialect.js';
export { playerctlTemplate, playerctlVariables, type PlayerctlSnapshot, type PlayerctlLoop, type PlayerctlStatus } from './template/playerctl-dialect.js';

/** A mediagate `--format` template, checked once before any output (TemplateError: a usage error). */
export type StateTemplate = ((state: PlayerState, mode: EscapeMode, metadata?: Metadata) => string) & {
  /** The template reads metadata keys (xesam:…, mpris:…): fetch Player.metadata() for it. */
  readonly usesMetadata: boolean;
};

export function compileTemplate(source: string): StateTemplate {
  const template = mediagateTemplate(source);
  const render = (state: PlayerState, mode: EscapeMode, metadata?: Metadata): string =>
    template.render(mediagateVariables(state, metadata), mode);
  return Object.assign(render, { usesMetadata: template.usesMetadata() });
}
