/**
 * The completion scripts: a few lines of glue per shell that hand the words
 * typed so far to `mediagate completion words --shell SHELL` (one per line on
 * stdin; the fast path answers without loading oclif) and show its answer:
 * one candidate per line (zsh `value:description`, fish `value<TAB>description`),
 * or the single line `@files` for file-name completion.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

const BASH = `# mediagate completion for bash. Load it now:  source <(mediagate completion bash)
# or for every shell: mediagate completion bash > ~/.local/share/bash-completion/completions/mediagate
_mediagate() {
  local cur=\${COMP_WORDS[COMP_CWORD]} out IFS=$'\\n'
  out=$(printf '%s\\n' "\${COMP_WORDS[@]:1:COMP_CWORD}" | "\${COMP_WORDS[0]}" completion words --shell bash 2>/dev/null) || return 0
  if [[ $out == @files ]]; then
    [[ $cur == = ]] && cur=
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
  fi
  COMPREPLY=($out)
}
complete -F _mediagate mediagate
`;

const ZSH = `#compdef mediagate
# mediagate completion for zsh. Load it now:  source <(mediagate completion zsh)
# or save it as _mediagate in a directory of your $fpath.
_mediagate() {
  local -a lines
  lines=("\${(@f)$(print -rl -- "\${(@)words[2,CURRENT]}" | "\${words[1]}" completion words --shell zsh 2>/dev/null)}")
  if [[ \${lines[1]} == @files ]]; then
    _files
    return
  fi
  [[ -n \${lines[1]} ]] || return 1
  _describe -t values mediagate lines
}
if [[ \${funcstack[1]} == _mediagate ]]; then
  _mediagate "$@"
else
  compdef _mediagate mediagate
fi
`;

const FISH = `# mediagate completion for fish. Load it now:  mediagate completion fish | source
# or save it as ~/.config/fish/completions/mediagate.fish
function __mediagate_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l bin $words[1]
    set -e words[1]
    set -l out (begin; printf '%s\\n' $words; printf '%s\\n' "$cur"; end | $bin completion words --shell fish 2>/dev/null)
    if test "$out[1]" = @files
        __fish_complete_path "$cur"
    else
        printf '%s\\n' $out
    end
end
complete -c mediagate -f -a '(__mediagate_complete)'
`;

export function completionScript(shell: Shell): string {
  return shell === 'bash' ? BASH : shell === 'zsh' ? ZSH : FISH;
}

/** One candidate as the shell's glue reads it. */
export function formatCandidate(shell: Shell, value: string, description: string | undefined): string {
  const d = (description ?? '').replace(/\s+/g, ' ').trim();
  if (shell === 'zsh') return d ? `${value.replaceAll(':', '\\:')}:${d}` : value.replaceAll(':', '\\:');
  if (shell === 'fish') return d ? `${value}\t${d}` : value;
  return value;
}
