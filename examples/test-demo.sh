#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# test-demo.sh DEMO: runs the fsthread demo on a tree made here and checks
# its output against sha256sum's.

set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 PATH-TO-FSTHREAD-DEMO" >&2
  exit 2
fi

demo=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# A guard only: a demo that opened the fifo would wait for a writer forever.
guard=(timeout --kill-after=10 30)

n_checks=0
last_run=
fail () {
  echo "not ok: $*" >&2
  if [ -n "$last_run" ]; then
    for f in "$tmp/$last_run.out" "$tmp/$last_run.err"; do
      [ -s "$f" ] || continue
      echo "--- ${f##*/}" >&2
      head -c 4000 "$f" >&2
    done
  fi
  exit 1
}
ok () {
  n_checks=$((n_checks + 1))
  echo "ok $n_checks - $*"
}

# run NAME ARGS...: runs the demo, stdout to NAME.out, stderr to NAME.err,
# and sets $rc.
run () {
  local name=$1
  shift
  last_run=$name
  "${guard[@]}" "$demo" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    fail "$name: the demo hung"
  fi
}

# The tree: regular files of many sizes, below and above the read-ahead
# limit of 1 MiB, names sha256sum escapes, and entries that must be skipped.
tree=$tmp/tree
mkdir -p "$tree/sub/deeper" "$tree/many" "$tree/empty-dir" || exit 1

files=()
add () {
  files+=("$tree/$1")
}

: >"$tree/empty";                                                add empty
printf 'hello\n' >"$tree/small";                                 add small
head -c 1000 /dev/urandom >"$tree/sub/kilo";                     add sub/kilo
head -c 600000 /dev/urandom >"$tree/sub/under-a-mebi";           add sub/under-a-mebi
head -c 1048576 /dev/urandom >"$tree/sub/exactly-a-mebi";        add sub/exactly-a-mebi
head -c 3145735 /dev/urandom >"$tree/sub/deeper/big";            add sub/deeper/big
printf 'with a space' >"$tree/with space";                       add "with space"
printf 'backslash' >"$tree/back\\slash";                         add "back\\slash"
printf 'newline' >"$tree/new"$'\n'"line";                        add "new"$'\n'"line"
printf 'return' >"$tree/carriage"$'\r'"return";                  add "carriage"$'\r'"return"
for i in $(seq 1 300); do
  printf '%s\n' "$i" >"$tree/many/$i";                           add "many/$i"
done

# Links to regular files are hashed, as sha256sum follows them.
ln -s small "$tree/link-to-file";                                add link-to-file
ln -s ../sub/kilo "$tree/many/link-up";                          add many/link-up

# Never opened, never listed: a fifo, links to it, to a device and to a
# directory (not followed, so sub/ is not hashed twice).
mkfifo "$tree/fifo" || exit 1
mkfifo "$tree/sub/deeper/fifo" || exit 1
ln -s fifo "$tree/link-to-fifo"
ln -s /dev/null "$tree/link-to-device"
ln -s sub "$tree/link-to-dir"

n_files=${#files[@]}

# The reference, in the format the demo must match byte for byte.
sha256sum -- "${files[@]}" | LC_ALL=C sort >"$tmp/reference.sum" ||
  fail "sha256sum cannot make the reference"

# --- Usage ---
run help --help
[ "$rc" -eq 0 ] || fail "--help exits $rc, not 0"
grep -q -- '--threads' "$tmp/help.out" || fail "--help does not describe --threads"
ok "--help exits 0"

for bad in "--no-such-option" "--threads=0" "--threads=abc" "--prefetch=0" "--threads=-3"; do
  run bad "$bad" "$tree"
  [ "$rc" -eq 2 ] || fail "$bad exits $rc, not 2"
  [ -s "$tmp/bad.out" ] && fail "$bad printed sums"
  grep -q . "$tmp/bad.err" || fail "$bad says nothing on stderr"
  ok "$bad exits 2"
done

run bad "$tree" "$tree"
[ "$rc" -eq 2 ] || fail "two DIRs exit $rc, not 2"
ok "two DIRs exit 2"

# --- The tree, with the default number of threads ---
run default "$tree"
[ "$rc" -eq 0 ] || fail "the demo exits $rc on a readable tree"
ok "a readable tree exits 0"

(cd / && sha256sum --check --quiet --strict "$tmp/default.out") ||
  fail "sha256sum -c rejects the output"
ok "sha256sum -c accepts the output"

n_lines=$(wc -l <"$tmp/default.out")
[ "$n_lines" -eq "$n_files" ] ||
  fail "$n_lines lines for $n_files regular files"
ok "one line for each of the $n_files regular files"

LC_ALL=C sort "$tmp/default.out" >"$tmp/default.sorted"
cmp -s "$tmp/reference.sum" "$tmp/default.sorted" ||
  fail "the output differs from sha256sum's: $(diff "$tmp/reference.sum" "$tmp/default.sorted" | head -20)"
ok "the output is sha256sum's, escaped names included"

grep -q "fifo\|link-to-device\|link-to-dir" "$tmp/default.out" &&
  fail "a special file or a link to a directory was hashed"
ok "fifos, devices and links to directories are skipped"

grep -q $'\r' "$tmp/default.err" && fail "a progress line was drawn though stderr is not a terminal"
grep -q "^$n_files files, .*0 errors" "$tmp/default.err" ||
  fail "no summary with $n_files files and 0 errors on stderr"
ok "the summary is on stderr, without a progress line"

# --- Any number of threads gives the same sums ---
for args in "--threads 1" "--threads 4" "--threads 4 --prefetch 1" "--threads 3 --prefetch 1000"; do
  # shellcheck disable=SC2086
  run threads $args "$tree"
  [ "$rc" -eq 0 ] || fail "$args exits $rc"
  LC_ALL=C sort "$tmp/threads.out" >"$tmp/threads.sorted"
  cmp -s "$tmp/default.sorted" "$tmp/threads.sorted" ||
    fail "$args gives other sums than the default"
  ok "$args gives the same sorted output"
done

# --- A trailing slash, an empty directory, a file as DIR ---
run slash "$tree/"
[ "$rc" -eq 0 ] || fail "DIR/ exits $rc"
grep -q '//' "$tmp/slash.out" && fail "DIR/ prints doubled slashes"
(cd / && sha256sum --check --quiet --strict "$tmp/slash.out") || fail "sha256sum -c rejects the output for DIR/"
ok "DIR/ works"

run empty "$tree/empty-dir"
[ "$rc" -eq 0 ] || fail "an empty directory exits $rc"
[ -s "$tmp/empty.out" ] && fail "an empty directory prints sums"
ok "an empty directory exits 0 and prints nothing"

run single "$tree/small"
[ "$rc" -eq 0 ] || fail "a file as DIR exits $rc"
sha256sum "$tree/small" | cmp -s - "$tmp/single.out" || fail "a file as DIR is not hashed"
ok "a file as DIR is hashed"

# --- Entries that cannot be read ---
# Root reads every file whatever its mode, so a dangling link is the entry
# that cannot be read.
ln -s does-not-exist "$tree/sub/dangling"

for args in "--threads 1" "--threads 4"; do
  # shellcheck disable=SC2086
  run broken $args "$tree"
  [ "$rc" -eq 1 ] || fail "$args: a dangling link exits $rc, not 1"
  grep -qF "$tree/sub/dangling" "$tmp/broken.err" || fail "$args: the dangling link is not named on stderr"
  grep -F "$tree/sub/dangling" "$tmp/broken.err" | grep -q "worker" ||
    fail "$args: the error does not name the worker"
  grep -q "1 error" "$tmp/broken.err" || fail "$args: the summary does not count the error"
  grep -qF "dangling" "$tmp/broken.out" && fail "$args: the dangling link has a sum"
  LC_ALL=C sort "$tmp/broken.out" | cmp -s "$tmp/default.sorted" - ||
    fail "$args: the other files were not all hashed"
  ok "$args: a dangling link exits 1, is named on stderr, the walk goes on"
done

run missing "$tmp/no-such-dir"
[ "$rc" -eq 1 ] || fail "a missing DIR exits $rc, not 1"
grep -qF "$tmp/no-such-dir" "$tmp/missing.err" || fail "a missing DIR is not named on stderr"
ok "a missing DIR exits 1"

# --- Ctrl-C ---
# The sums of this tree do not fit in a pipe: until the test reads them the
# demo waits to write, so it cannot be done before the signal arrives. Once
# the first line is read, the workers are running and the signal handled.
big=$tmp/big-tree
mkdir "$big" || exit 1
n_big=3000
(cd "$big" && seq -f 'file-with-a-long-name-to-fill-the-pipe-%g' "$n_big" | xargs touch) ||
  exit 1
mkfifo "$tmp/pipe" || exit 1

# --foreground: timeout passes a signal it gets to the demo once; without
# it, timeout sends it again to its whole process group, and a second
# SIGINT, after the first was handled, ends the demo at once (as a second
# Ctrl-C should).
timeout --foreground --kill-after=10 30 "$demo" --threads 2 "$big" >"$tmp/pipe" 2>"$tmp/interrupted.err" &
pid=$!
exec 3<"$tmp/pipe"
IFS= read -r first_line <&3 || fail "no first line from the demo"
kill -INT "$pid"
cat <&3 >"$tmp/interrupted.out"
exec 3<&-
wait "$pid"
rc=$?
last_run=interrupted
[ "$rc" -eq 130 ] || fail "Ctrl-C exits $rc, not 130"
grep -q "interrupted" "$tmp/interrupted.err" || fail "the summary does not say it was interrupted"
n_lines=$(( $(wc -l <"$tmp/interrupted.out") + 1 ))
[ "$n_lines" -lt "$n_big" ] || fail "Ctrl-C did not stop the workers: $n_lines sums of $n_big"
printf '%s\n' "$first_line" | cat - "$tmp/interrupted.out" >"$tmp/interrupted.all"
(cd / && sha256sum --check --quiet --strict "$tmp/interrupted.all") ||
  fail "the sums printed before Ctrl-C are not whole"
ok "Ctrl-C stops the workers, exits 130, keeps every printed sum whole ($n_lines of $n_big)"

echo "1..$n_checks"
