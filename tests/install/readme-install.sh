#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# One install of the README, run by test-install.sh: takes from README.md
# the command marked <!-- install-test: NAME command --> and the output
# marked <!-- install-test: NAME output -->, runs the command from the
# source tree (its build directory under TMP, HOME=TMP/home), checks that
# it prints that output, then checks the installed layout and uses the
# installed files from C, Python, GJS and Vala in an environment that has
# only what the command printed.
#
#   readme-install.sh SRCDIR NAME TMP GJS|- VALAC|- \
#                     installed.c installed.py installed.js installed.vala
#
# Prints TAP lines without numbers ("ok - ...", "not ok - ..."):
# test-install.sh numbers them.
set -uo pipefail

srcdir="$1" name="$2" tmp="$3" gjs="$4" valac="$5"
c_prog="$6" py_prog="$7" js_prog="$8" vala_prog="$9"

home="$tmp/home"
build="$tmp/build-$name"
work="$tmp/work-$name"
mkdir -p "$home" "$work"

ok()  { echo "ok - $name: $*"; }
bad() { echo "not ok - $name: $*"; }
skip() { echo "ok - $name: $* # SKIP"; }
show() { printf '%s\n' "$1" | tail -n 40 | sed 's/^/# /'; }
check() {  # check DESCRIPTION COMMAND...
  local what="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    ok "$what"
  else
    bad "$what"
    show "$out"
  fi
}

# block KIND: the README's fenced block marked for this install.
block() {
  /usr/bin/python3 - "$srcdir/README.md" "<!-- install-test: $name $1 -->" <<'PY'
import sys

lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
mark = sys.argv[2]
for i, line in enumerate(lines):
    if line.strip() != mark:
        continue
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j == len(lines) or not lines[j].startswith("```"):
        sys.exit("%s is not followed by a code block" % mark)
    k = j + 1
    while k < len(lines) and not lines[k].startswith("```"):
        k += 1
    print("\n".join(lines[j + 1:k]))
    sys.exit(0)
sys.exit("README.md has no block marked %s" % mark)
PY
}

if ! command="$(block command 2>&1)" || ! expected="$(block output 2>&1)"; then
  bad "the README's command and output"
  show "$command$expected"
  exit 0
fi

# The README's command, as a user would type it in a clone.
if ! printed="$(cd "$srcdir" && env HOME="$home" FSTHREAD_INSTALL_BUILDDIR="$build" \
                  bash -c "$command" 2>"$tmp/$name.log")"; then
  bad "$command"
  show "$(cat "$tmp/$name.log")"
  exit 0
fi
ok "$command"

option() {
  meson introspect --buildoptions "$build" |
    /usr/bin/python3 -c 'import json, sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
prefix="$(option prefix)"
libdir="$(option libdir)"
lib="$prefix/$libdir"
version="$(meson introspect --projectinfo "$build" |
  /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["version"])')"

# What it printed is what the README shows ($HOME as such, and the
# README's libdir, that of Debian on x86-64).
shown="${printed//"$home"/\$HOME}"
shown="${shown//"$libdir"/lib/x86_64-linux-gnu}"
if [ "$shown" = "$expected" ]; then
  ok "it prints what the README shows"
else
  bad "it prints what the README shows"
  show "$(diff <(printf '%s\n' "$expected") <(printf '%s\n' "$shown"))"
fi

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
check "fsthread-1.pc requires GLib's floor" grep -E '^Requires:.*glib-2\.0 >= 2\.74' "$lib/pkgconfig/fsthread-1.pc"
check "Fs-1.gir in share/gir-1.0" test -f "$prefix/share/gir-1.0/Fs-1.gir"
check "Fs-1.typelib in $libdir/girepository-1.0" test -f "$lib/girepository-1.0/Fs-1.typelib"
check "fsthread-1.vapi and fsthread-1.deps in share/vala/vapi" bash -c '
  set -e
  [ -f "$1/share/vala/vapi/fsthread-1.vapi" ]
  grep -x gio-2.0 "$1/share/vala/vapi/fsthread-1.deps"
' _ "$prefix"
mapfile -t overrides < <(find "$prefix" -path '*/gi/overrides/Fs.py' 2>/dev/null)
if [ "${#overrides[@]}" -eq 1 ]; then
  ok "the Python override in ${overrides[0]#"$prefix/"}"
else
  bad "one Python override under $prefix (found ${#overrides[@]})"
fi
if [ "$(option docs)" != disabled ] && command -v gi-docgen >/dev/null 2>&1; then
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
  skip "the HTML reference: gi-docgen is not installed"
fi

# The installed files, with nothing but what the command printed.
clean() {
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" TMPDIR="$work" LANG=C.UTF-8 \
    bash -c 'eval "$1"; shift; cd "$1"; shift; exec "$@"' _ "$printed" "$work" "$@"
}

if out="$(clean bash -c 'cc -Wall -Wextra -Wno-unused-parameter -Werror "$1" -o installed-c \
                           $(pkg-config --cflags --libs fsthread-1)' _ "$c_prog" 2>&1)"; then
  ok "C: cc installed.c \$(pkg-config --cflags --libs fsthread-1)"
  check "C: the program starts with the installed library" clean bash -c '
    ldd ./installed-c | grep -F "libfsthread-1.so.0 => $1/libfsthread-1.so.0" && ./installed-c' _ "$lib"
else
  bad "C: cc installed.c \$(pkg-config --cflags --libs fsthread-1)"
  show "$out"
fi

check "Python: the installed typelib and override" \
  clean /usr/bin/python3 "$py_prog" "$prefix"

if [ "$gjs" != - ]; then
  printf 'some contents\n' >"$work/file.txt"
  check "GJS: the installed typelib (gjs -m)" \
    clean "$gjs" -m "$js_prog" "$prefix" "$work/file.txt"
else
  skip "GJS: gjs is not installed"
fi

if [ "$valac" != - ]; then
  if out="$(clean "$valac" --pkg fsthread-1 "$vala_prog" -o installed-vala 2>&1)"; then
    ok "Vala: valac --pkg fsthread-1 installed.vala"
    check "Vala: the program runs" clean ./installed-vala
  else
    bad "Vala: valac --pkg fsthread-1 installed.vala"
    show "$out"
  fi
else
  skip "Vala: valac is not installed"
fi
