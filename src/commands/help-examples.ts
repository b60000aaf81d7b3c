import type { Command } from 'commander';

/**
 * Examples at the end of every command's help, in the style of `gh help`: kept in one table so
 * that the command modules stay about options and behaviour, and so that a test can check that
 * no command was left without them.
 */
const examples: Readonly<Record<string, ReadonlyArray<readonly [comment: string, command: string]>>> = {
  '': [
    ['every source idsync knows', 'idsync sources'],
    ['a full pull of ECNU staff into a CSV for Excel', 'idsync pull ecnu-staff -o staff.csv'],
    ['the nightly job: changes since the last run, merged into a snapshot', 'idsync pull ecnu-staff --since last --snapshot staff.sqlite'],
    ['tab completion for bash', 'source <(idsync completion bash)'],
  ],
  auth: [
    ['store and check credentials (asks for the secret, no echo)', 'idsync auth login ecnu --client-id ID'],
    ['what is configured, and where from', 'idsync auth status'],
  ],
  'auth login': [
    ['asks for the secret on the terminal, no echo', 'idsync auth login ecnu --client-id ID'],
    ['from a secret manager or a script', `printf '%s\\n' "$SECRET" | idsync auth login tongji --client-id ID --client-secret-stdin`],
    ['store without asking the platform for a token first', 'idsync auth login ecnu --client-id ID --no-verify'],
  ],
  'auth status': [
    ['credentials, base URLs and cached tokens (never a secret or a token)', 'idsync auth status'],
    ['the same for scripts (times as full ISO timestamps)', 'idsync auth status --json'],
  ],
  'auth logout': [['remove the stored credentials and cached tokens of ECNU', 'idsync auth logout ecnu']],
  'auth user-login': [
    ['sign in as a person with the password grant', 'idsync auth user-login ecnu --username 10001'],
    ['sign in in a browser (authorization code with PKCE)', 'idsync auth user-login ecnu --web'],
  ],
  'auth user-logout': [['forget the signed-in person', 'idsync auth user-logout ecnu']],
  sources: [
    ['name, provider, endpoint, key and paging of every source', 'idsync sources'],
    ['the same as JSON', "idsync sources --json | jq -r '.[].name'"],
  ],
  pull: [
    ['a full pull to standard output, one JSON object a line', "idsync pull ecnu-staff -o - | jq -c '{userId, name}'"],
    ['a full pull into a CSV file for Excel (UTF-8 with BOM)', 'idsync pull ecnu-staff -o staff.csv'],
    ['an Excel workbook of Tongji staff', 'idsync pull tongji-staff -o staff.xlsx'],
    [
      'the nightly job: merged into a snapshot, with who joined, left and changed',
      'idsync pull ecnu-staff --since last --snapshot staff.sqlite --changes changes.ndjson',
    ],
    ['students need a type', 'idsync pull ecnu-students --param type=本科生 -o undergrads.ndjson'],
    ['a filter on a Tongji source', 'idsync pull tongji-students --param deptCode=030 -o cs.csv'],
    ['everything changed since a moment (Asia/Shanghai time)', "idsync pull tongji-staff --since '2026-01-01 08:00:00' -o -"],
  ],
  state: [
    ['watermarks and last runs of every source', 'idsync state show'],
    ['make the next --since last run of a source a full pull', 'idsync state reset ecnu-staff'],
  ],
  'state show': [
    ['watermarks and last runs, times in Asia/Shanghai', 'idsync state show'],
    ['the same for scripts (full ISO timestamps)', 'idsync state show --json'],
  ],
  'state reset': [['the next --since last run of ecnu-staff is a full pull', 'idsync state reset ecnu-staff']],
  lookup: [
    ['one person (a table on a terminal, NDJSON in a pipe)', 'idsync lookup 10001 --provider ecnu'],
    ['several Tongji staff, only some fields', 'idsync lookup 2001 2002 --provider tongji --kind staff --fields userId,name,deptName'],
    ['ids from a pipe (standard input is read when no ids are given)', "printf '10001\\n10002\\n' | idsync lookup --provider ecnu"],
    ['the signed-in person (after idsync auth user-login)', 'idsync lookup --provider ecnu'],
  ],
  photo: [
    ['photos of two people into ./photos (the default folder)', 'idsync photo 10001 10002'],
    ['ids from a file into a folder of your choice', 'idsync photo --ids-file ids.txt --out-dir /srv/photos'],
  ],
  api: [
    ['one authenticated GET, the JSON answer on stdout', 'idsync api /api/v1/user/info --provider ecnu --param userId=10001'],
    ['follow the paging, one record a line', 'idsync api /v2/dc/user/teacher_infos --provider tongji --paginate'],
  ],
  sandbox: [
    ['a local simulator of both platforms; paste its lines into another shell', 'idsync sandbox'],
    ['fixed port, more people, some faults', 'idsync sandbox --port 8080 --people 100000 --faults http500=0.05'],
  ],
  completion: [
    ['bash, for this shell', 'source <(idsync completion bash)'],
    ['bash, for good', 'idsync completion bash > ~/.local/share/bash-completion/completions/idsync'],
    ['zsh (a folder on your $fpath)', 'idsync completion zsh > "${fpath[1]}/_idsync"'],
    ['fish', 'idsync completion fish > ~/.config/fish/completions/idsync.fish'],
  ],
};

export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

export function examplesText(path: string): string | undefined {
  const list = examples[path];
  if (!list?.length) return undefined;
  return `\nExamples:\n${list.map(([comment, command]) => `  # ${comment}\n  $ ${command}\n`).join('')}`;
}

/** Adds each command's examples to its help; call after every command is registered. */
export function addExamples(program: Command): void {
  const visit = (cmd: Command) => {
    const text = examplesText(commandPath(cmd));
    if (text) cmd.addHelpText('after', text);
    cmd.commands.forEach(visit);
  };
  visit(program);
}
