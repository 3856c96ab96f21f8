#!/usr/bin/env bash
# Regenerates docs/cli.md from the built binary's --help (run after changing a command).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/obkeep}
{
  echo "# Command line"
  echo
  echo 'Generated from `obkeep <command> --help` by `scripts/cli-doc.sh`; the contracts scripts rely on (exit codes, `--json` shapes, config keys) are in PRODUCT.md §3 and `docs/deployment.md`.'
  echo
  echo "Exit codes: 0 ok, 1 error, 2 usage, 3 backup made but some sources unreadable (or some databases failed), 10 no repository, 11 locked, 12 wrong password, 130 interrupted."
  echo
  echo 'Global options go before or after the command. `--limit-upload` / `--limit-download` (KiB/s) hold every repository the command opens, DR sites and the source of `copy --from-repo` included; a DR site'"'"'s own `limit_upload` / `limit_download` and how the limits are measured: `docs/disaster-recovery.md` ("Bandwidth limits").'
  echo
  echo 'SFTP repositories run the OpenSSH client: `OBKEEP_SSH_CONFIG` (an ssh_config file, passed as `-F`), `OBKEEP_SSH_COMMAND` (instead of `ssh`), `OBKEEP_SFTP_CONNECTIONS` (1–32, default 4: connections opened as transfers overlap), `OBKEEP_SFTP_STALL_SECONDS` (default 300: a link silent that long while requests wait is given up). S3 repositories: `OBKEEP_S3_CONNECTIONS` (1–64, default 8, unless the URL says `?connections=N`), `OBKEEP_S3_MULTIPART_MIB` (5–5120, default 32: objects larger go up as multipart uploads). How SFTP and S3 reach a DR site across a WAN: `docs/design.md`.'
  echo
  echo '`ssh://[user@]host[:port]/[PATH]` repositories run `obkeep serve --stdio [--repo PATH]` on the host through the same OpenSSH client and settings; `OBKEEP_REMOTE_COMMAND` names the remote obkeep (default `obkeep` on its PATH). With a forced command in `authorized_keys` the server'"'"'s `--repo` wins: PATH may be left empty (`ssh://host/`) and must otherwise name the same directory. `serve --append-only` refuses every removal and overwrite (`forget`, `prune`, `key remove` fail before deleting anything); the protocol: `docs/serve-protocol.md`; setting up an append-only site with a backup key and an admin key: `docs/disaster-recovery.md`.'
  echo
  echo 'Tamper evidence: `copy` records in the primary what it sent to each site (`docs/repository-format.md` §12); `check --config F --site NAME` checks that site and compares it with the record, one line a finding (`missing: snapshot …`, `altered: snapshot …`), exit 1 when any; `status --config F` does the same for every site (text section "DR sites against the primary'"'"'s copy records", `--json` `integrity`), exit 5 when any. What counts as removed by retention rather than missing: `docs/design.md` ("Tamper evidence").'
  echo
  echo '```'
  "$bin" --help
  echo '```'
  for command in $("$bin" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }'); do
    echo
    echo "## obkeep $command"
    echo
    echo '```'
    "$bin" "$command" --help
    echo '```'
  done
} >"$root/docs/cli.md"
