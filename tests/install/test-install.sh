#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Suite install: the README's installs, each as the README gives it
# (readme-install.sh): into a prefix of the user's own, and into meson's
# default prefix, /usr/local. The second runs, as root only, in a mount
# namespace of its own where /usr/local and /etc (the dynamic linker's
# cache) are overlays that vanish with it: the machine is left as it was.
#
#   test-install.sh SRCDIR GJS|- VALAC|- \
#                   installed.c installed.py installed.js installed.vala
set -uo pipefail

srcdir="$(cd "$1" && pwd)"
shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/fs-install-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
# Numbers the lines of readme-install.sh.
number() {
  local line
  while IFS= read -r line; do
    case "$line" in
      "ok - "*) n=$((n + 1)); echo "ok $n - ${line#ok - }" ;;
      "not ok - "*) n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - ${line#not ok - }" ;;
      *) echo "$line" ;;
    esac
  done
}
finish() { echo "1..$n"; exit $((failed > 0)); }

# Nothing from the build tree or the caller's environment may leak in.
unset GI_TYPELIB_PATH FS_PYTHON_OVERRIDES PYTHONPATH PKG_CONFIG_PATH LD_LIBRARY_PATH XDG_DATA_DIRS
unset FSTHREAD_BUILDDIR FSTHREAD_INSTALL_BUILDDIR

# The README's command installs what is missing; here nothing may be.
missing="$("$srcdir/build-aux/install-deps.sh" --list install | tr '\n' ' ')"
if [ -n "$missing" ]; then
  echo "1..0 # SKIP missing packages: $missing(build-aux/install-deps.sh install)"
  exit 0
fi

# run NAME COMMAND...: the TAP lines of one install; a run that ends
# badly, or reports nothing, is one failure more.
run() {
  local name="$1" before="$n" rc=0
  shift
  "$@" >"$tmp/$name.tap" 2>&1 || rc=$?
  number <"$tmp/$name.tap"
  if [ "$rc" -ne 0 ] || [ "$n" -eq "$before" ]; then
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $name: the checks ran to their end (exit status $rc)"
  fi
}

run home bash "$here/readme-install.sh" "$srcdir" home "$tmp" "$@"

if [ "$(id -u)" -ne 0 ]; then
  echo "ok $((n += 1)) - usr-local: the install into /usr/local # SKIP needs root, for a private /usr/local"
  finish
fi
if ! grep -qw overlay /proc/filesystems || ! command -v unshare >/dev/null 2>&1; then
  echo "ok $((n += 1)) - usr-local: the install into /usr/local # SKIP no overlayfs or unshare"
  finish
fi
# A namespace whose mounts never reach the machine's, and overlays in it:
# none in a chroot whose root is not a mount point, nor in a container
# without the right to mount.
mkdir -p "$tmp/probe/lower" "$tmp/probe/upper" "$tmp/probe/work" "$tmp/probe/mnt"
if ! out="$(unshare --mount --propagation private -- mount -t overlay overlay \
              -o "lowerdir=$tmp/probe/lower,upperdir=$tmp/probe/upper,workdir=$tmp/probe/work" \
              "$tmp/probe/mnt" 2>&1)"; then
  echo "ok $((n += 1)) - usr-local: the install into /usr/local # SKIP no private mount namespace with overlays: ${out//$'\n'/ }"
  finish
fi

mkdir -p "$tmp/ns"
run usr-local unshare --mount --propagation private -- bash -c '
  set -e
  ns="$1"; shift
  for d in /usr/local /etc; do
    up="$ns/upper${d//\//_}" wk="$ns/work${d//\//_}"
    mkdir -p "$up" "$wk"
    mount -t overlay overlay -o "lowerdir=$d,upperdir=$up,workdir=$wk" "$d"
  done
  exec bash "$@"
' _ "$tmp/ns" "$here/readme-install.sh" "$srcdir" usr-local "$tmp" "$@"

finish
