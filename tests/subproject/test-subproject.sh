#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Suite subproject: builds the project in consumer/ with a copy of this
# source tree as its subprojects/fsthread, in each way a parent reaches a
# subproject's library, and checks that it builds and runs, that the
# parent's `meson test` runs only the parent's test, and what the
# subproject installs.
#
#   test-subproject.sh SRCDIR MESON
set -euo pipefail

srcdir="$(cd "$1" && pwd)" meson="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fs-subproject-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok()  { n=$((n + 1)); echo "ok $n - $*"; }
bad() { n=$((n + 1)); echo "not ok $n - $*"; failed=$((failed + 1)); }
show() { printf '%s\n' "$1" | tail -n 40 | sed 's/^/# /'; }

unset PKG_CONFIG_PATH LD_LIBRARY_PATH GI_TYPELIB_PATH PYTHONPATH

# The consumer, with the source tree (no build directory, no .git) as
# subprojects/fsthread.
cp -r "$here/consumer" "$tmp/consumer"
mkdir -p "$tmp/consumer/subprojects"
/usr/bin/python3 - "$srcdir" "$tmp/consumer/subprojects/fsthread" <<'PY'
import os, shutil, sys

def ignore(directory, names):
    return [name for name in names
            if name == ".git"
            or os.path.exists(os.path.join(directory, name, "meson-private"))]

shutil.copytree(sys.argv[1], sys.argv[2], symlinks=True, ignore=ignore)
PY

# run NAME MESON-SETUP-OPTIONS...: configures, builds, tests and installs
# the consumer into a DESTDIR; checks what every case must hold.
run() {
  local name="$1"; shift
  local build="$tmp/build-$name" dest="$tmp/dest-$name" out
  if ! out="$(cd "$tmp/consumer" && "$meson" setup "$build" --wrap-mode=nodownload "$@" 2>&1)"; then
    bad "$name: meson setup $*"
    show "$out"
    return 1
  fi
  if ! out="$("$meson" compile -C "$build" 2>&1)"; then
    bad "$name: meson compile"
    show "$out"
    return 1
  fi
  ok "$name: meson setup $* and compile"

  if out="$("$build/consumer" 2>&1)"; then
    ok "$name: the consumer runs ($out)"
  else
    bad "$name: the consumer runs"
    show "$out"
  fi

  # The parent's test list is its own test, nothing of fsthread's.
  local tests
  tests="$("$meson" test -C "$build" --no-rebuild --list 2>/dev/null)"
  if [ "$tests" = consumer ]; then
    ok "$name: meson test --list is the consumer's test only"
  else
    bad "$name: meson test --list is the consumer's test only"
    show "$tests"
  fi
  if out="$("$meson" test -C "$build" 2>&1)" &&
     [ "$(grep -c '"name"' "$build/meson-logs/testlog.json")" -eq 1 ]; then
    ok "$name: meson test runs one test, and it passes"
  else
    bad "$name: meson test runs one test, and it passes"
    show "$out"
  fi

  if [ -n "$(find "$build" -name 'fsthread-demo*' -print -quit)" ]; then
    bad "$name: the demo is not built"
  else
    ok "$name: the demo is not built"
  fi

  if ! out="$(DESTDIR="$dest" "$meson" install -C "$build" --no-rebuild 2>&1)"; then
    bad "$name: meson install"
    show "$out"
    return 1
  fi
  ok "$name: meson install into a DESTDIR"
}

# has NAME DESCRIPTION yes|no FIND-ARGS...: whether the install of case
# NAME holds a file matching FIND-ARGS.
has() {
  local name="$1" what="$2" want="$3"; shift 3
  local found=no
  if [ -n "$(find "$tmp/dest-$name" "$@" -print -quit 2>/dev/null)" ]; then
    found=yes
  fi
  if [ "$found" = "$want" ]; then
    ok "$name: $what"
  else
    bad "$name: $what"
  fi
}

# 1. dependency('fsthread-1', fallback: 'fsthread'), shared, forced to the
#    subproject even where fsthread is installed.
if run fallback -Dform=fallback --force-fallback-for=fsthread-1; then
  has fallback "installs libfsthread-1.so.0" yes -name libfsthread-1.so.0
  if [ -n "$(find "$tmp/build-fallback" -name Fs-1.typelib -print -quit)" ]; then
    has fallback "the override beside the typelib" yes -path '*/gi/overrides/Fs.py'
  else
    has fallback "no override without a typelib" no -path '*/gi/overrides/Fs.py'
  fi
fi

# 2. subproject('fsthread'), then dependency('fsthread-1'); without
#    introspection, nothing for Python is installed. The library builds at
#    the parent's strictest warning level (-Wpedantic) with -Werror.
if run subproject -Dform=subproject -Dfsthread:introspection=disabled \
    -Dfsthread:warning_level=3 -Dfsthread:werror=true; then
  has subproject "no typelib with -Dintrospection=disabled" no -name 'Fs-1.typelib'
  has subproject "no override with -Dintrospection=disabled" no -path '*/gi/overrides/Fs.py'
fi

# 3. The fallback, static: the consumer carries fsthread in itself.
if run static -Dform=fallback --force-fallback-for=fsthread-1 -Ddefault_library=static; then
  if LC_ALL=C readelf -d "$tmp/build-static/consumer" | grep -F 'libfsthread' >/dev/null; then
    bad "static: the consumer does not need libfsthread-1.so"
  else
    ok "static: the consumer does not need libfsthread-1.so"
  fi
  has static "installs libfsthread-1.a" yes -name libfsthread-1.a
  has static "no shared library" no -name 'libfsthread-1.so*'
  has static "no typelib or override" no '(' -name Fs-1.typelib -o -name Fs.py ')'
fi

echo "1..$n"
exit $((failed > 0))
