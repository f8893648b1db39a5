#!/usr/bin/env bash
# Install the Debian packages the app (runtime) or its test suite (test) needs; skip what is there.
set -euo pipefail
runtime=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libharfbuzz0b libfribidi0 fonts-dejavu-core fonts-noto-core fontconfig)
test=("${runtime[@]}" chromium poppler-utils postgresql redis-server)
# npm installs axe-core (make install-test); a Node.js that brings its own npm (e.g. NodeSource's) conflicts with
# Debian's npm package, so ask for it only when there is no npm at all.
command -v npm >/dev/null || test+=(npm)
case "${1:-runtime}" in
  runtime) wanted=("${runtime[@]}") ;;
  test) wanted=("${test[@]}") ;;
  *) echo "usage: $0 runtime|test" >&2; exit 2 ;;
esac
# A Debian python3 without ensurepip cannot make the virtualenv.
if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then wanted+=(python3-venv); fi

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
