#!/usr/bin/env bash
# The state-store tests start their own redis-server (Debian's package, Redis 7)
# on a free loopback port with persistence off. Installs it when it is missing;
# the package's own service is not needed and is left stopped.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server >/dev/null
# Debian starts the packaged service where systemd runs; the tests never use it.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
  $SUDO systemctl stop redis-server || true
fi
command -v redis-server
