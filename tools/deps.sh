#!/bin/sh
# Installs the Debian packages attnlab needs when they are missing: as root directly, otherwise it
# prints the one command to run. Usage: tools/deps.sh PACKAGE...
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "attnlab: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null || {
        echo "attnlab: apt-get install failed for:$missing" >&2; exit 1; }
else
    echo "attnlab: missing Debian packages. Run:" >&2
    echo "  sudo apt-get install -y$missing" >&2
    exit 1
fi
