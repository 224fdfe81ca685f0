#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (Chromium for the browser tests,
# SoftHSM2 for the PKCS#11 token tests), quietly, and only when they are missing. Needs root (CI
# runs as root).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# a CJK font, so pages and screenshots show Chinese instead of empty boxes
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || need+=(fonts-wqy-microhei)
# a PKCS#11 module with tokens made on the fly (softhsm2-util + libsofthsm2.so)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${need[*]} (run as root or install them: apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
