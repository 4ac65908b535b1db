#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the Python and GJS examples on a tree made here and checks their
# output with sha256sum -c. Usage: test-bindings.sh python|gjs EXAMPLE
set -euo pipefail

kind="$1"
example="$2"
tree="$(mktemp -d)"
trap 'rm -rf "$tree"' EXIT

mkdir -p "$tree/sub/deeper"
printf 'alpha\n' > "$tree/a.txt"
: > "$tree/empty"
head -c 3000000 /dev/urandom > "$tree/sub/big.bin"
printf 'with a space\n' > "$tree/sub/name with space"
for i in $(seq 1 50); do printf '%s\n' "$i" > "$tree/sub/deeper/f$i"; done
mkfifo "$tree/fifo"
n_files=54

case "$kind" in
  python)
    # A file that cannot be read (a dangling link) is reported, exit 1.
    ln -s "$tree/nowhere" "$tree/dangling"
    status=0
    # Uninstalled, the override comes from the source tree (see
    # tests/python/fsthread_testing.py); installed, gi finds it alone.
    /usr/bin/python3 -c 'import runpy, sys; import fsthread_testing; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name="__main__")' \
      "$example" "$tree" > "$tree.sums" 2> "$tree.err" || status=$?
    [ "$status" -eq 1 ] || { echo "exit status $status, expected 1"; cat "$tree.err"; exit 1; }
    grep -q "dangling" "$tree.err" || { echo "the unreadable file is not reported"; exit 1; }
    ;;
  gjs)
    mapfile -d '' files < <(find "$tree" -type f -print0)
    gjs -m "$example" "${files[@]}" "$tree/missing" > "$tree.sums" 2> "$tree.err" && status=0 || status=$?
    [ "$status" -eq 1 ] || { echo "exit status $status, expected 1"; cat "$tree.err"; exit 1; }
    grep -q "missing" "$tree.err" || { echo "the missing file is not reported"; exit 1; }
    ;;
  *)
    echo "usage: $0 python|gjs EXAMPLE" >&2
    exit 2
    ;;
esac

lines=$(wc -l < "$tree.sums")
[ "$lines" -eq "$n_files" ] || { echo "$lines sums, expected $n_files"; exit 1; }
sha256sum -c --quiet --strict "$tree.sums"
rm -f "$tree.sums" "$tree.err"
echo "ok: $kind example, $lines files checked"
