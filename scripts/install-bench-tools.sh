#!/usr/bin/env bash
# Installs the native comparison tools used by `npm run bench:native`
# (nginx, haproxy, wrk) from the Debian mirror, only when missing.
# Exits 0 when everything is (now) present. Never leaves the nginx/haproxy
# system services running: the benchmark starts its own instances with its
# own config files in a temp dir.
set -euo pipefail

# binary -> Debian package
declare -A PKG=( [nginx]=nginx [haproxy]=haproxy [wrk]=wrk )
ORDER=(nginx haproxy wrk)

have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  # nginx/haproxy live in /usr/sbin, which may be missing from a non-root PATH
  [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ]
}

missing=()
for bin in "${ORDER[@]}"; do
  if have "$bin"; then
    echo "install-bench-tools: $bin already present"
  else
    missing+=("$bin")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-bench-tools: all tools present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
  command -v sudo >/dev/null 2>&1 || {
    echo "install-bench-tools: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  }
else
  SUDO=
fi

pkgs=()
for bin in "${missing[@]}"; do pkgs+=("${PKG[$bin]}"); done
echo "install-bench-tools: installing ${pkgs[*]} (for: ${missing[*]})"

# Keep the packages' maintainer scripts from starting the system services
# (works both with and without systemd/invoke-rc.d). Removed on exit.
POLICY=/usr/sbin/policy-rc.d
policy_created=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  policy_created=1
fi
cleanup() {
  if [ "$policy_created" -eq 1 ]; then $SUDO rm -f "$POLICY"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${pkgs[@]}"

# Belt and braces: if a service got started anyway, stop and disable it.
for svc in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    $SUDO systemctl stop "$svc" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$svc" ]; then
    $SUDO "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
  # `systemctl disable` also works offline (no running systemd): it removes
  # the multi-user.target.wants symlink the package created.
  if command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable "$svc" >/dev/null 2>&1 || true
  fi
  if command -v update-rc.d >/dev/null 2>&1 && [ -e "/etc/init.d/$svc" ]; then
    $SUDO update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
done
# Any remaining instance started from the system config (pid files written by
# the packaged configs); our bench instances use their own pid files elsewhere.
for pidfile in /run/nginx.pid /run/haproxy.pid; do
  if [ -s "$pidfile" ]; then
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "install-bench-tools: stopping system service pid $pid ($pidfile)"
      $SUDO kill "$pid" 2>/dev/null || true
    fi
  fi
done

still=()
for bin in "${missing[@]}"; do
  if have "$bin"; then
    echo "install-bench-tools: installed $bin ($(command -v "$bin" || echo "/usr/sbin/$bin"))"
  else
    still+=("$bin")
  fi
done
if [ "${#still[@]}" -gt 0 ]; then
  echo "install-bench-tools: still missing after install: ${still[*]}" >&2
  exit 1
fi
echo "install-bench-tools: all tools present"
