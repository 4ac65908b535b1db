#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Run by `meson install`: refreshes the dynamic linker's cache, so that a
# program linked against the newly installed libfsthread-1.so.0 starts
# without LD_LIBRARY_PATH when the library directory is one the linker is
# configured for (/usr/local/lib/<triplet> on Debian). Only as root, and
# not for a staged install (DESTDIR), where the files are not in place yet.
set -eu

if [ -n "${DESTDIR:-}" ] || [ "$(id -u)" -ne 0 ]; then
  exit 0
fi
for ldconfig in /sbin/ldconfig /usr/sbin/ldconfig; do
  if [ -x "$ldconfig" ]; then
    exec "$ldconfig"
  fi
done
