import type { CommandModel, OptionModel, Shell } from './completion-model.js';

/**
 * Completion scripts for bash, zsh and fish, generated from the command tree. All three share
 * one shape: small lookup functions (subcommands, options, arguments, option values of a
 * command path) and a completer that walks the words typed so far to find that path.
 */
type Lookup = Array<[key: string, words: readonly string[]]>;

interface Tables {
  subs: Lookup;
  opts: Lookup;
  args: Lookup;
  values: Lookup;
}

const optionWords = (o: OptionModel) => (o.short ? [o.short, o.long] : [o.long]);

function tables(model: readonly CommandModel[]): Tables {
  const values: Lookup = [];
  for (const c of model) {
    for (const o of c.options) {
      if (o.value === undefined) continue;
      const words = o.value === 'file' ? ['@file'] : o.value === 'any' ? ['@any'] : o.value;
      for (const w of optionWords(o)) values.push([`${c.path}|${w}`, words]);
    }
  }
  return {
    subs: model.filter((c) => c.subcommands.length).map((c) => [c.path, c.subcommands]),
    opts: model.map((c) => [c.path, c.options.flatMap(optionWords)]),
    args: model.filter((c) => c.args.length).map((c) => [c.path, c.args]),
    values,
  };
}

/** Only names, options and source names go into the scripts: refuse anything a shell would read as code. */
function safe(word: string): string {
  if (!/^[\w@.|:+=, -]*$/.test(word)) throw new Error(`cannot put ${JSON.stringify(word)} in a completion script`);
  return `'${word}'`;
}

/** A POSIX-style case function, valid in bash and zsh. */
function shCase(name: string, lookup: Lookup, fallback: string): string {
  const arms = lookup.map(([key, words]) => `    ${safe(key)}) echo ${words.map(safe).join(' ')} ;;`);
  return [`${name}() {`, '  case "$1" in', ...arms, `    *) ${fallback} ;;`, '  esac', '}'].join('\n');
}

function shFunctions(t: Tables): string {
  return [
    shCase('_idsync_subs', t.subs, 'return 0'),
    shCase('_idsync_opts', t.opts, 'return 0'),
    shCase('_idsync_args', t.args, 'return 0'),
    '# values after an option; exits 1 when the option takes none',
    shCase('_idsync_value', t.values, 'return 1').replace('case "$1" in', 'case "$1|$2" in'),
  ].join('\n');
}

/** Walks words[first..current-1]: the command path, skipping options and their values. */
function shWalk(wordsVar: string, first: number, currentVar: string): string {
  return `  local cmdpath="" i w
  for ((i = ${first}; i < ${currentVar}; i++)); do
    w="\${${wordsVar}[i]}"
    if [[ $w == -* ]]; then
      if [[ $w != *=* ]] && _idsync_value "$cmdpath" "$w" >/dev/null; then i=$((i + 1)); fi
      continue
    fi
    if [[ " $(_idsync_subs "$cmdpath") " == *" $w "* ]]; then cmdpath="\${cmdpath:+$cmdpath }$w"; fi
  done`;
}

function bash(t: Tables): string {
  return `# idsync completion for bash. Load it with:  source <(idsync completion bash)
${shFunctions(t)}
_idsync() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" values
${shWalk('COMP_WORDS', 1, 'COMP_CWORD')}
  if ((COMP_CWORD > 1)) && [[ $prev == -* ]] && values=$(_idsync_value "$cmdpath" "$prev"); then
    case "$values" in
      @file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
      @any) COMPREPLY=() ;;
      *) COMPREPLY=($(compgen -W "$values" -- "$cur")) ;;
    esac
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_idsync_opts "$cmdpath")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_idsync_subs "$cmdpath") $(_idsync_args "$cmdpath")" -- "$cur"))
  fi
  return 0
}
complete -F _idsync idsync
`;
}

function zsh(t: Tables): string {
  // zsh's own completion system; \`path\` is special in zsh (tied to PATH), hence cmdpath.
  return `#compdef idsync
# idsync completion for zsh. Save it as _idsync in a folder of $fpath, or: source <(idsync completion zsh)
${shFunctions(t)}
_idsync() {
  local cur="\${words[CURRENT]}" prev="\${words[CURRENT-1]}" values
${shWalk('words', 2, 'CURRENT')}
  if ((CURRENT > 2)) && [[ $prev == -* ]] && values=$(_idsync_value "$cmdpath" "$prev"); then
    case "$values" in
      @file) _files ;;
      @any) _message 'a value' ;;
      *) compadd -- \${=values} ;;
    esac
    return
  fi
  if [[ $cur == -* ]]; then
    compadd -- \${=$(_idsync_opts "$cmdpath")}
  else
    compadd -- \${=$(_idsync_subs "$cmdpath")} \${=$(_idsync_args "$cmdpath")}
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _idsync "$@"
else
  compdef _idsync idsync
fi
`;
}

function fishSwitch(name: string, lookup: Lookup, joinArgs: boolean): string {
  const arms = lookup.map(([key, words]) => `    case ${safe(key)}\n      printf '%s\\n' ${words.map(safe).join(' ')}`);
  const subject = joinArgs ? '"$argv[1]|$argv[2]"' : '"$argv[1]"';
  return [`function ${name}`, `  switch ${subject}`, ...arms, "    case '*'", `      return ${joinArgs ? 1 : 0}`, '  end', 'end'].join(
    '\n',
  );
}

function fish(t: Tables): string {
  return `# idsync completion for fish. Save it as ~/.config/fish/completions/idsync.fish
${fishSwitch('__idsync_subs', t.subs, false)}
${fishSwitch('__idsync_opts', t.opts, false)}
${fishSwitch('__idsync_args', t.args, false)}
${fishSwitch('__idsync_value', t.values, true)}
function __idsync_path
  set -l p ''
  set -l skip 0
  set -l typed (commandline -opc)
  set -e typed[1]
  for w in $typed
    if test $skip = 1
      set skip 0
      continue
    end
    if string match -q -- '-*' $w
      if not string match -q -- '*=*' $w; and __idsync_value "$p" $w >/dev/null
        set skip 1
      end
      continue
    end
    if contains -- $w (__idsync_subs "$p")
      if test -z "$p"
        set p $w
      else
        set p "$p $w"
      end
    end
  end
  echo $p
end
function __idsync_complete
  set -l p (__idsync_path)
  set -l typed (commandline -opc)
  set -l cur (commandline -ct)
  set -l values (__idsync_value "$p" $typed[-1])
  set -l takes $status
  if test (count $typed) -gt 1; and test $takes = 0
    switch "$values[1]"
      case @file
        __fish_complete_path $cur
      case @any
      case '*'
        printf '%s\\n' $values
    end
    return
  end
  if string match -q -- '-*' $cur
    __idsync_opts "$p"
  else
    __idsync_subs "$p"
    __idsync_args "$p"
  end
end
complete -c idsync -f -a '(__idsync_complete)'
`;
}

export function completionScript(shell: Shell, model: readonly CommandModel[]): string {
  const t = tables(model);
  return shell === 'bash' ? bash(t) : shell === 'zsh' ? zsh(t) : fish(t);
}
