#!/usr/bin/env bash
# The main job on an embedded default: set up and build, then back up a sample tree to a
# local repository, show the snapshot, restore it and compare.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
obkeep="$root/build/obkeep"
work=$(mktemp -d /tmp/obkeep-demo.XXXXXX)
export OBKEEP_PASSWORD=demo-password OBKEEP_REPOSITORY="$work/repository"
echo "== working in $work"

sample="$work/sample"
mkdir -p "$sample/repository/conf/datasources" "$sample/repository/deployment/server/webapps" "$sample/bin"
cat >"$sample/repository/conf/datasources/master-datasources.xml" <<'XML'
<datasources-configuration xmlns:svns="http://org.wso2.securevault/configuration">
  <datasources>
    <datasource>
      <name>WSO2_CARBON_DB</name>
      <definition type="RDBMS"><configuration>
        <url>jdbc:h2:repository/database/WSO2CARBON_DB;DB_CLOSE_ON_EXIT=FALSE</url>
        <username>wso2carbon</username><password>wso2carbon</password>
      </configuration></definition>
    </datasource>
  </datasources>
</datasources-configuration>
XML
head -c 3000000 /dev/urandom >"$sample/repository/deployment/server/webapps/oauth2.war"
printf '#!/bin/sh\necho starting\n' >"$sample/bin/wso2server.sh"
chmod 755 "$sample/bin/wso2server.sh"

echo "== init"
"$obkeep" init
echo "== backup"
"$obkeep" backup "$sample"
echo "== snapshots"
"$obkeep" snapshots
echo "== restore"
"$obkeep" restore latest --target "$work/restored" --verify
echo "== compare"
diff -r "$sample" "$work/restored$sample" && echo "restored tree is identical"
"$obkeep" check --read-data
