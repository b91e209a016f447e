#!/usr/bin/env bash
# Installs the Debian packages Formtrail needs, only those that are missing, so repeated runs cost nothing.
#   system-deps.sh run   - what the desktop app needs (Qt's xcb platform libraries, fonts)
#   system-deps.sh test  - plus PostgreSQL (the multi-workstation tests start a throwaway server), Xvfb, openssl
set -euo pipefail
profile=${1:-run}

run_pkgs=(libegl1 libgl1 libfontconfig1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3 libglib2.0-0
          libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-xinerama0 libxcb-randr0
          libxcb-render-util0 libxcb-image0 libxcb-xkb1 fonts-dejavu-core)
test_pkgs=(postgresql xvfb openssl poppler-utils libnss3-tools)  # openssl: the TLS test server's certificate;
# poppler-utils (pdfsig) and libnss3-tools (certutil): the signed-PDF tests check signatures as a standard reader does

pkgs=("${run_pkgs[@]}")
[ "$profile" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Formtrail needs these Debian/Ubuntu packages, and apt-get is not available: ${missing[*]}" >&2
  echo "Install their equivalents with your system's package manager, then run make again." >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Installing ${missing[*]} needs root; run as root or install sudo." >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
