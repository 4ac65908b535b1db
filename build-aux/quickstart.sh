#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The two commands of the README's Quick start:
#   build-aux/quickstart.sh demo [DIR]   install, build, run the demo
#   build-aux/quickstart.sh test         install, build, run every test suite
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
builddir="${FSTHREAD_BUILDDIR:-$top/_build}"
what="${1:-}"

case "$what" in
  demo|test) shift ;;
  *) echo "usage: $0 demo [DIR] | test" >&2; exit 2 ;;
esac

"$top/build-aux/install-deps.sh"

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" "$top"
fi
meson compile -C "$builddir"

case "$what" in
  demo)
    # Hashes a tree (default: one every Debian machine has) in parallel;
    # the hashes go to stdout, a summary to stderr.
    "$builddir/examples/fsthread-demo" "$@" >/dev/null
    ;;
  test)
    meson test -C "$builddir" --print-errorlogs --num-processes 2
    ;;
esac
