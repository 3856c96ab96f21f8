#!/usr/bin/env bash
# Regenerates docs/cli.md from the built binary's --help (run after changing a command).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/obkeep}
# The prose above the first code fence is written by hand (which repository a command
# opens, settings, tamper evidence, …) and kept; everything after it is generated.
intro=$(sed '/^```/,$d' "$root/docs/cli.md")
{
  printf '%s\n\n' "$intro"
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
