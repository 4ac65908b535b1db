#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-thumbnails.sh THUMBNAILS CHECKER: runs the GTK example under Xvfb
# on generated images. It waits for the program's exit (it saves its
# screenshot and quits once the last thumbnail is drawn), then reads the
# screenshot: every thumbnail is there, in the order of the names. Then the
# same with Cancel pressed after a few. FS_THUMBNAILS_SHOT=FILE keeps the
# first screenshot there.

set -u

if [ $# -ne 2 ]; then
  echo "usage: $0 PATH-TO-THUMBNAILS CHECK-SCRIPT" >&2
  exit 2
fi
app=$1
checker=$2
python=/usr/bin/python3
[ -x "$python" ] || python=python3
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=24
n_checks=0
fail () { echo "not ok: $*" >&2; exit 1; }
ok () { n_checks=$((n_checks + 1)); echo "ok $n_checks - $*"; }

mkdir "$tmp/images" || exit 1
"$python" "$checker" make "$tmp/images" "$n" || fail "cannot make the images"
ok "$n images made"

# run NAME ARGS...: the app under its own X server, software rendering.
run () {
  local name=$1
  shift
  GSK_RENDERER=cairo GDK_BACKEND=x11 NO_AT_BRIDGE=1 \
    xvfb-run -a -s "-screen 0 1024x768x24" \
    timeout --kill-after=10 120 "$app" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "$name: the app hung: $(tail -5 "$tmp/$name.err")"
  fi
}

run all --threads 4 --screenshot "$tmp/all.png" "$tmp/images"
[ "$rc" -eq 0 ] || fail "the app exits $rc: $(tail -5 "$tmp/all.err")"
grep -qx "$n of $n shown, done" "$tmp/all.out" || fail "the app says: $(cat "$tmp/all.out")"
ok "the app shows $n of $n and exits 0"
"$python" "$checker" check "$tmp/all.png" "$n" || fail "the screenshot is wrong"
ok "the screenshot has every thumbnail, in order"
if [ -n "${FS_THUMBNAILS_SHOT:-}" ]; then
  cp "$tmp/all.png" "$FS_THUMBNAILS_SHOT" || fail "cannot keep the screenshot"
fi

# Cancel after 5: no more come, the window still draws what it has.
run cancel --threads 2 --cancel-after 5 --screenshot "$tmp/cancel.png" "$tmp/images"
[ "$rc" -eq 0 ] || fail "the cancelled app exits $rc: $(tail -5 "$tmp/cancel.err")"
grep -qx "5 of $n shown, cancelled" "$tmp/cancel.out" || fail "the cancelled app says: $(cat "$tmp/cancel.out")"
"$python" "$checker" check "$tmp/cancel.png" "$n" 5 || fail "the cancelled screenshot is wrong"
ok "Cancel stops the thumbnails after 5, in order"

# A file that is no image stops the map there, after every one before it.
printf 'not a png' >"$tmp/images/img-010.png"
run broken --screenshot "$tmp/broken.png" "$tmp/images"
[ "$rc" -eq 1 ] || fail "a broken image exits $rc, not 1"
grep -qx "10 of $n shown, failed" "$tmp/broken.out" || fail "the broken run says: $(cat "$tmp/broken.out")"
"$python" "$checker" check "$tmp/broken.png" "$n" 10 || fail "the broken screenshot is wrong"
ok "a broken image stops the grid after the 10 before it, exit 1"

echo "1..$n_checks"
