#!/usr/bin/env bash
# The main job on an embedded default: set up and build; generate a small OB 1.5 sample
# deployment (key manager + gateway homes, datasource files, H2 files, artifacts); discover
# it; back up every set to a local repository; lose the gateway's repository/ and restore it
# in place; show that it is back byte for byte; check the repository.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
obkeep="$root/build/obkeep"
work=$(mktemp -d /tmp/obkeep-demo.XXXXXX)
export OBKEEP_PASSWORD=demo-password
echo "== working in $work"

"$obkeep" sample-deployment "$work/deployment"
km="$work/deployment/wso2-obkm-1.5.0"
am="$work/deployment/wso2-obam-1.5.0"
cat >"$work/obkeep.toml" <<TOML
[repository]
url = "$work/repository"

[deployment]
homes = ["$km", "$am"]

[sets.artifacts]
exclude = ["*/repository/logs/*"]

[policy.artifacts]
rpo = "1h"
frequency = "15m"
keep_daily = 7

[policy.databases]
rpo = "15m"
frequency = "5m"
TOML
echo "== config $work/obkeep.toml"
cat "$work/obkeep.toml"

echo "== discover"
"$obkeep" discover --config "$work/obkeep.toml"
echo "== init"
"$obkeep" -r "$work/repository" init
echo "== backup every set: artifacts and instance of each home, each database"
"$obkeep" backup --config "$work/obkeep.toml"
echo "== snapshots"
"$obkeep" -r "$work/repository" snapshots

manifest() { (cd "$1" && find . -path ./logs -prune -o -path ./database -prune -o -type f -print0 | sort -z | xargs -0 sha256sum); }
manifest "$am/repository" >"$work/before.sha256"
echo "== disaster: the gateway's repository/deployment and repository/conf are lost"
rm -rf "$am/repository/deployment" "$am/repository/conf"
echo "== restore the artifacts set of $am in place"
"$obkeep" -r "$work/repository" restore --set artifacts --home "$am"
manifest "$am/repository" >"$work/after.sha256"
if cmp -s "$work/before.sha256" "$work/after.sha256"; then
  echo "== $(wc -l <"$work/after.sha256") files of $am/repository are back, byte for byte"
else
  diff "$work/before.sha256" "$work/after.sha256" | head
  echo "== restored tree differs" >&2
  exit 1
fi
echo "== drift of $am against its baseline: none, its rollback directory is obkeep's own and not drift"
"$obkeep" diff --baseline "$am" --config "$work/obkeep.toml" | tail -n 1
echo "== check --read-data"
"$obkeep" -r "$work/repository" check --read-data
