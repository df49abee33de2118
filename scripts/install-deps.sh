#!/usr/bin/env bash
# Installs the Debian packages Glassbox needs when any is missing: with apt-get when run as root,
# otherwise prints the exact command to run.
# With --optional first, a non-root user only gets a note (the tests that need it skip themselves).
set -euo pipefail
optional=0
if [ "${1:-}" = "--optional" ]; then optional=1; shift; fi
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ $optional -eq 1 ]; then
    # An optional package that cannot be installed only means its tests skip themselves.
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
      echo "note: could not install optional packages (${missing[*]}); their tests will be skipped" >&2
    exit 0
  fi
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
else
  if [ $optional -eq 1 ]; then
    echo "note: optional packages missing (their tests will be skipped): ${missing[*]}" >&2
    echo "      sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 0
  fi
  echo "Glassbox needs these Debian packages: ${missing[*]}" >&2
  echo "Run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
