#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs, on Debian 12 (bookworm), the packages that one use of fsthread
# needs and that are missing; with nothing missing it does nothing, as any
# user. Only to install does it need root (or sudo).
#
#   build-aux/install-deps.sh [--list] NEED...
#
# NEED is one or more of:
#   demo        build the library and run the demo: a C compiler, meson,
#               GLib's headers
#   install     build and install the library, its typelib and its Vala
#               bindings
#   test        every test suite (build-aux/quickstart.sh test)
#   sanitizers  build-aux/sanitizers.sh asan|tsan|valgrind
#
# --list prints the missing packages and installs nothing.
set -euo pipefail

usage() {
  echo "usage: $0 [--list] demo|install|test|sanitizers..." >&2
  exit 2
}

build=(gcc libc6-dev meson ninja-build pkg-config libglib2.0-dev)
introspection=(gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0)
vala=(valac)

list_only=false
packages=()
[ $# -gt 0 ] || usage
for need in "$@"; do
  case "$need" in
    --list) list_only=true ;;
    demo) packages+=("${build[@]}") ;;
    install) packages+=("${build[@]}" "${introspection[@]}" "${vala[@]}") ;;
    test)
      packages+=("${build[@]}" "${introspection[@]}" "${vala[@]}"
        # the Python and GJS suites, and the check of the Python stubs
        python3-gi gjs mypy
        # the reference, and the checks of fsthread.doap
        gi-docgen libxml2-utils raptor2-utils
        # the demo's hash with SHA instructions where the CPU has them
        nettle-dev
        # the GTK 4 thumbnails example and its test under Xvfb
        libgtk-4-dev gir1.2-gtk-4.0 gir1.2-gdkpixbuf-2.0 xvfb xauth)
      ;;
    sanitizers)
      packages+=("${build[@]}"
        clang libclang-rt-14-dev valgrind
        # llvm-symbolizer: without it the reports have no function names,
        # and the suppressions, which name functions, match nothing
        llvm-14
        # the tsan mode builds GLib from Debian's source package
        dpkg-dev)
      ;;
    *) usage ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  case " ${missing[*]} " in *" $p "*) continue ;; esac
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" != installed ]; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$list_only" = true ]; then
  printf '%s\n' "${missing[@]}"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: these packages are missing: ${missing[*]}" >&2
  echo "install-deps: as root, run: apt-get update && apt-get install --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)
"${apt[@]}" update -q
"${apt[@]}" install -y -q --no-install-recommends "${missing[@]}"
