#!/usr/bin/env bash
# A private OpenSSH sshd on 127.0.0.1 for SFTP tests: keys, config and logs under DIR.
# usage: sshd.sh start DIR | stop DIR | restart DIR | add-key DIR NAME COMMAND
# Writes DIR/port, DIR/client_key (the user's key), DIR/known_hosts (the host key) and
# DIR/ssh_config (an OpenSSH client config using both; Host "sftptest" is the server).
# add-key (on a started server) makes DIR/NAME_key, authorizes it with COMMAND as its forced
# command (command="COMMAND",restrict), and writes DIR/ssh_config_NAME that logs in with it only.
set -euo pipefail
cmd=$1 D=$2
if [ "$cmd" = add-key ]; then
  name=$3 forced=$4
  ssh-keygen -q -t ed25519 -N '' -f "$D/${name}_key"
  echo "command=\"$forced\",restrict $(cat "$D/${name}_key.pub")" >>"$D/authorized_keys"
  sed -e "s|IdentityFile .*|IdentityFile $D/${name}_key\n  IdentitiesOnly yes|" "$D/ssh_config" >"$D/ssh_config_$name"
  exit 0
fi
if [ "$cmd" = stop ]; then
  [ -f "$D/sshd.pid" ] && kill "$(cat "$D/sshd.pid")" 2>/dev/null
  exit 0
fi
if [ "$cmd" = restart ]; then # a stopped (or killed) server again, with its keys and port
  /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log" || { echo "sshd did not restart; see $D/sshd.log" >&2; exit 1; }
  for i in $(seq 1 50); do ssh -F "$D/ssh_config" sftptest true 2>/dev/null && exit 0; sleep 0.1; done
  echo "sshd did not accept a login after a restart; see $D/sshd.log" >&2
  exit 1
fi
mkdir -p "$D"
chmod 700 "$D"
ssh-keygen -q -t ed25519 -N '' -f "$D/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$D/client_key"
cp "$D/client_key.pub" "$D/authorized_keys"
mkdir -p /run/sshd
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 12000)) # below the ephemeral range (32768+)
  cat >"$D/sshd_config" <<C
ListenAddress 127.0.0.1
Port $port
HostKey $D/host_key
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
Subsystem sftp internal-sftp
LogLevel VERBOSE
C
  # sshd binds before it detaches, so a taken port fails here and the next one is tried.
  /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log" && break
  port=
done
[ -n "$port" ] || { echo "sshd did not start; see $D/sshd.log" >&2; exit 1; }
echo "$port" >"$D/port"
echo "[127.0.0.1]:$port $(cat "$D/host_key.pub")" >"$D/known_hosts"
cat >"$D/ssh_config" <<C
Host sftptest
  HostName 127.0.0.1
  Port $port
  User $(id -un)
Host *
  IdentityFile $D/client_key
  UserKnownHostsFile $D/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
C
for i in $(seq 1 50); do ssh -F "$D/ssh_config" sftptest true 2>/dev/null && exit 0; sleep 0.1; done
echo "sshd did not accept a login; see $D/sshd.log" >&2
exit 1
