#!/usr/bin/env bash
# Installs the Debian packages the test suites drive: the real OpenStack CLIs and wrk.
# Idempotent; a failure here fails the run (a missing tool is never a skipped test).
set -euo pipefail
need=()
command -v openstack >/dev/null 2>&1 || need+=(python3-openstackclient)
command -v swift >/dev/null 2>&1 || need+=(python3-swiftclient)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
openstack --version >/dev/null
swift --version >/dev/null
