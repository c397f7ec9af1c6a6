#!/usr/bin/env bash
# Installs everything rso's main job and its tests need on a fresh machine, then builds.
# Debian packages are installed only when running as root with apt-get available, and only
# the ones missing; npm packages come from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests and benchmarks use: a real X server with a window manager and X tools for
# capture, windows and input (xvfb xauth openbox xdotool x11-utils x11-apps x11-xserver-utils
# xterm imagemagick; xserver-xephyr for two monitors side by side), real terminals and a pty (tmux xterm kitty), the sixel baselines (chafa
# libsixel-bin), the VNC baseline (x11vnc), the plain TCP relay baseline (socat), man page lint (mandoc), certificates
# (openssl), the relay cluster tests (redis-server), the relay page test (chromium) and the
# release signature test (minisign).
DEB_PACKAGES=(xvfb xserver-xephyr xauth openbox xdotool x11-utils x11-apps x11-xserver-utils xterm imagemagick x11vnc
  tmux kitty chafa libsixel-bin socat mandoc openssl redis-server chromium minisign)

missing=()
for pkg in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: not root, so not installing: ${missing[*]} (tests that need them will say so)" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building" >&2
npx tsc -p tsconfig.build.json
