#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs what fsthread needs to build, test and document itself on
# Debian 12 (bookworm). Run as root, or as a user with sudo.
set -euo pipefail

packages=(
  # build
  gcc meson ninja-build pkg-config
  libglib2.0-dev libglib2.0-bin
  gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0
  # tests: bindings, sanitizers, valgrind
  python3 python3-gi gjs
  clang libclang-rt-14-dev valgrind
  # build-aux/sanitizers.sh tsan: apt-get source glib2.0 (GLib's own build
  # dependencies come with libglib2.0-dev)
  dpkg-dev
  # documentation, and the checks of fsthread.doap
  gi-docgen libxml2-utils raptor2-utils
  # the demo's tests compare with these
  coreutils findutils
  # the demo's hash (SHA instructions where the CPU has them)
  nettle-dev
  # the GTK 4 thumbnails example and its test under Xvfb
  libgtk-4-dev gir1.2-gtk-4.0 gir1.2-gdkpixbuf-2.0 xvfb xauth
)

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: run as root (or install sudo) to install: ${packages[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${packages[@]}"
