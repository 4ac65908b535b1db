#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Suite install: configures this source tree with a temporary prefix,
# builds and installs it there, then checks the layout and uses the
# installed files only: a C program built with `pkg-config --cflags --libs
# fsthread-1`, a Python snippet and a GJS snippet against the installed
# typelib and override.
#
#   test-install.sh SRCDIR MESON GIR(true|false) DOCS(true|false) GJS|- \
#                   installed.c installed.py installed.js
#
# A fresh prefix, rather than `meson install --destdir` of the build under
# test: files installed under a DESTDIR still name the configured prefix
# (fsthread-1.pc says prefix=/usr/local), so a program could only be built
# against them by rewriting them. CC is the compiler, as meson setup reads it.
set -euo pipefail

srcdir="$1" meson="$2" gir="$3" docs="$4" gjs="$5"
c_prog="$6" py_prog="$7" js_prog="$8"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fs-install-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
build="$tmp/build"

n=0
failed=0
ok()   { n=$((n + 1)); echo "ok $n - $*"; }
bad()  { n=$((n + 1)); echo "not ok $n - $*"; failed=$((failed + 1)); }
skip() { n=$((n + 1)); echo "ok $n - $* # SKIP"; }
check() {  # check DESCRIPTION COMMAND...
  local what="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    ok "$what"
  else
    bad "$what"
    printf '%s\n' "$out" | sed 's/^/# /'
  fi
}
finish() { echo "1..$n"; exit $((failed > 0)); }

# Nothing from the build tree or the caller's environment may leak in.
unset GI_TYPELIB_PATH FS_PYTHON_OVERRIDES PYTHONPATH PKG_CONFIG_PATH LD_LIBRARY_PATH

feature() { if [ "$1" = true ]; then echo enabled; else echo disabled; fi; }

if ! out="$("$meson" setup "$build" "$srcdir" --prefix="$prefix" --wrap-mode=nodownload \
        -Dtests=disabled -Dintrospection="$(feature "$gir")" -Ddocs="$(feature "$docs")" 2>&1 &&
      "$meson" compile -C "$build" 2>&1 &&
      "$meson" install -C "$build" --no-rebuild 2>&1)"; then
  bad "meson setup, compile and install into $prefix"
  printf '%s\n' "$out" | tail -n 40 | sed 's/^/# /'
  finish
fi
ok "meson setup, compile and install into a temporary prefix"

libdir="$("$meson" introspect --buildoptions "$build" |
  /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "libdir"))')"
lib="$prefix/$libdir"
version="$("$meson" introspect --projectinfo "$build" |
  /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')"

# The layout.
check "the shared library, its soname and links" bash -c '
  set -e
  lib="$1" version="$2"
  [ -f "$lib/libfsthread-1.so.$version" ] && [ ! -L "$lib/libfsthread-1.so.$version" ]
  [ "$(readlink "$lib/libfsthread-1.so.0")" = "libfsthread-1.so.$version" ]
  [ "$(readlink "$lib/libfsthread-1.so")" = "libfsthread-1.so.0" ]
  soname="$(LC_ALL=C readelf -d "$lib/libfsthread-1.so.$version" | sed -n "s/.*(SONAME).*\[\(.*\)\]/\1/p")"
  [ "$soname" = libfsthread-1.so.0 ] || { echo "SONAME: $soname"; exit 1; }
' _ "$lib" "$version"
check "the public headers, and no private one" bash -c '
  set -e
  inc="$1/include/fsthread-1"
  for h in fsthread.h fs-enums.h fs-version.h fs-version-macros.h fs-error.h \
           fs-error-state.h fs-cpus.h fs-thread.h fs-multi-thread.h fs-generator.h \
           fs-background-generator.h fs-loaded-file.h; do
    [ -f "$inc/$h" ] || { echo "missing $inc/$h"; exit 1; }
  done
  if ls "$inc" | grep -e -private.h; then echo "private headers installed"; exit 1; fi
' _ "$prefix"
check "fsthread-1.pc in $libdir/pkgconfig" test -f "$lib/pkgconfig/fsthread-1.pc"

if [ "$gir" = true ]; then
  check "Fs-1.gir in share/gir-1.0" test -f "$prefix/share/gir-1.0/Fs-1.gir"
  check "Fs-1.typelib in $libdir/girepository-1.0" test -f "$lib/girepository-1.0/Fs-1.typelib"
else
  skip "GIR and typelib: built without introspection"
fi

mapfile -t overrides < <(find "$prefix" -path '*/gi/overrides/Fs.py')
if [ "${#overrides[@]}" -eq 1 ]; then
  pydir="${overrides[0]%/gi/overrides/Fs.py}"
  ok "the Python override in ${pydir#"$prefix/"}/gi/overrides"
else
  pydir=""
  bad "one Python override under the prefix (found ${#overrides[@]})"
fi

if [ "$docs" = true ]; then
  check "the HTML reference and every guide page in share/doc/fsthread-1" bash -c '
    set -e
    html="$1/share/doc/fsthread-1"
    for page in index.html class.Thread.html class.BackgroundGenerator.html fsthread-1.devhelp2; do
      [ -f "$html/$page" ] || { echo "missing $html/$page"; exit 1; }
    done
    for md in "$2"/docs/*.md; do
      page="$(basename "$md" .md).html"
      [ -f "$html/$page" ] || { echo "missing $html/$page"; exit 1; }
    done
  ' _ "$prefix" "$srcdir"
else
  skip "HTML reference: built without docs"
fi

# A C program, from the installed files only.
export PKG_CONFIG_PATH="$lib/pkgconfig"
check "pkg-config --modversion fsthread-1 is $version" \
  test "$(pkg-config --modversion fsthread-1 2>&1)" = "$version"
cc_cmd=(${CC:-cc})
if out="$(cd "$tmp" && "${cc_cmd[@]}" -Wall -Wextra -Wno-unused-parameter -Werror \
             "$c_prog" -o installed-c $(pkg-config --cflags --libs fsthread-1) 2>&1)"; then
  ok "cc installed.c \$(pkg-config --cflags --libs fsthread-1)"
  check "the C program links the installed library" bash -c \
    'LD_LIBRARY_PATH="$1" ldd "$2" | grep -F "$1/libfsthread-1.so.0"' _ "$lib" "$tmp/installed-c"
  check "the C program runs" env LD_LIBRARY_PATH="$lib" "$tmp/installed-c"
else
  bad "cc installed.c \$(pkg-config --cflags --libs fsthread-1)"
  printf '%s\n' "$out" | sed 's/^/# /'
fi
unset PKG_CONFIG_PATH

# Python and GJS, against the installed typelib.
if [ "$gir" != true ]; then
  skip "Python and GJS: built without introspection"
  finish
fi
if [ -n "$pydir" ]; then
  check "Python: the installed typelib and override" \
    env GI_TYPELIB_PATH="$lib/girepository-1.0" LD_LIBRARY_PATH="$lib" PYTHONPATH="$pydir" \
        PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 "$py_prog" "$prefix"
fi
if [ "$gjs" != - ]; then
  check "GJS: the installed typelib" \
    env GI_TYPELIB_PATH="$lib/girepository-1.0" LD_LIBRARY_PATH="$lib" \
        "$gjs" "$js_prog" "$prefix" "$prefix/share/gir-1.0/Fs-1.gir"
else
  skip "GJS: gjs not found"
fi

finish
