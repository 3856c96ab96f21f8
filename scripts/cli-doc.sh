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
