#!/usr/bin/env bash
# Installs a software Vulkan driver that Dawn (npm `webgpu`) accepts: lavapipe from Mesa 25 in
# Debian bookworm-backports. Stock bookworm lavapipe (Mesa 22.3) is rejected by Dawn. Root, Debian 12.
# The backports source reuses the URI of the machine's own Debian source (no host named here).
set -euo pipefail
src=/etc/apt/sources.list.d/debian.sources
if ! grep -rqs bookworm-backports /etc/apt/sources.list.d/; then
  uri=$(awk '/^URIs:/ {print $2; exit}' "$src")
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" \
    > /etc/apt/sources.list.d/backports.sources
fi
apt-get -o DPkg::Lock::Timeout=900 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
dpkg-query -W -f='${Package} ${Version}\n' mesa-vulkan-drivers
