#!/bin/sh
# The apt step every image shares (images/*/Dockerfile copy this file and run it in the RUN
# that installs their packages), so the mirror handling and the package manifest are written
# once:
#
#   sh debian-apt.sh PACKAGE...
#
# - apt sources from the build arguments DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR (deb822,
#   Debian's archive keyring; plain HTTP works behind TLS-intercepting egress), the base
#   image's own sources.list removed;
# - `apt-get install --no-install-recommends`, then the package lists removed (smaller layer);
# - /usr/share/db-tier/debian-packages.txt: `package=version` of every installed package,
#   sorted. Debian's mirror serves only the current bookworm point release, so a rebuild a
#   month later can get newer versions; this manifest is what an image holds, and
#   `apt-get install $(cat …)` on a snapshot.debian.org mirror rebuilds the same set.
set -eu
: "${DEBIAN_MIRROR:?the Dockerfile passes ARG DEBIAN_MIRROR}" "${DEBIAN_SECURITY_MIRROR:?the Dockerfile passes ARG DEBIAN_SECURITY_MIRROR}"
printf 'Types: deb\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
  "$DEBIAN_MIRROR" "$DEBIAN_SECURITY_MIRROR" >/etc/apt/sources.list.d/debian.sources
rm -f /etc/apt/sources.list
apt-get update
apt-get install -y --no-install-recommends "$@"
rm -rf /var/lib/apt/lists/*
mkdir -p /usr/share/db-tier
dpkg-query -W -f '${Package}=${Version}\n' | sort >/usr/share/db-tier/debian-packages.txt
