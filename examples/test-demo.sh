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

# Dangling links, as Debian's packages ship under /usr/share/doc: skipped,
# as find's -xtype f skips them, and no error.
ln -s does-not-exist "$tree/sub/dangling"
ln -s ../../nowhere/at/all "$tree/many/dangling-too"

# The reference, in the format the demo must match byte for byte.
sha256sum -- "${files[@]}" | LC_ALL=C sort >"$tmp/reference.sum" ||
  fail "sha256sum cannot make the reference"
# And in the order of the walk: find's.
(find "$tree" -xtype f -print0 | xargs -0 sha256sum --) >"$tmp/find.sum" ||
  fail "find | xargs sha256sum cannot make the reference"

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

cmp -s "$tmp/find.sum" "$tmp/default.out" ||
  fail "the output is not find | xargs sha256sum's, in order: $(diff "$tmp/find.sum" "$tmp/default.out" | head -20)"
ok "the output is find -xtype f | xargs sha256sum's byte for byte, in the order of the walk"

grep -q "dangling" "$tmp/default.out" "$tmp/default.err" && fail "a dangling link was hashed or reported"
ok "dangling links are skipped without an error"

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
  cmp -s "$tmp/default.out" "$tmp/threads.out" ||
    fail "$args gives another output than the default"
  ok "$args gives the same output, byte for byte"
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
# Root reads every file whatever its mode: a link to /proc/self/mem is a
# regular file that no one can read from its start (EIO), as sha256sum
# finds too.
ln -s /proc/self/mem "$tree/sub/unreadable"

for args in "--threads 1" "--threads 4"; do
  # shellcheck disable=SC2086
  run broken $args "$tree"
  [ "$rc" -eq 1 ] || fail "$args: an unreadable file exits $rc, not 1"
  grep -qF "$tree/sub/unreadable: Input/output error" "$tmp/broken.err" ||
    fail "$args: the unreadable file is not named on stderr"
  grep -q "1 error" "$tmp/broken.err" || fail "$args: the summary does not count the error"
  grep -qF "unreadable" "$tmp/broken.out" && fail "$args: the unreadable file has a sum"
  cmp -s "$tmp/default.out" "$tmp/broken.out" ||
    fail "$args: the other files were not all hashed, in order"
  ok "$args: an unreadable file exits 1, is named on stderr, the walk goes on"
done
rm "$tree/sub/unreadable"

if [ "$(id -u)" -ne 0 ]; then
  printf 'secret' >"$tree/sub/no-read"
  chmod 000 "$tree/sub/no-read"
  run denied "$tree"
  [ "$rc" -eq 1 ] || fail "a file without read permission exits $rc, not 1"
  grep -qF "$tree/sub/no-read: Permission denied" "$tmp/denied.err" || fail "the denied file is not named"
  ok "a file without read permission exits 1 and is named"
  rm -f "$tree/sub/no-read"
fi

run missing "$tmp/no-such-dir"
[ "$rc" -eq 1 ] || fail "a missing DIR exits $rc, not 1"
grep -qF "$tmp/no-such-dir" "$tmp/missing.err" || fail "a missing DIR is not named on stderr"
ok "a missing DIR exits 1"

# Given explicitly, a dangling link is an error: DIR itself must be readable.
run explicit "$tree/sub/dangling"
[ "$rc" -eq 1 ] || fail "a dangling link as DIR exits $rc, not 1"
grep -qF "$tree/sub/dangling" "$tmp/explicit.err" || fail "a dangling link as DIR is not named"
ok "a dangling link given as DIR exits 1 with its name"

# --- The default input, as a new user runs it first ---
if [ -d /usr/share/doc ]; then
  run doc /usr/share/doc
  [ "$rc" -eq 0 ] || fail "/usr/share/doc exits $rc: $(grep -v '^fsthread-demo: ' "$tmp/doc.err" | head -3; head -3 "$tmp/doc.err")"
  ok "/usr/share/doc (with the dangling links Debian ships) exits 0"
fi
if [ -d /usr/share ]; then
  last_run=usr-share
  # A cold page cache makes this the slowest run: a longer guard.
  timeout --kill-after=10 600 "$demo" >/dev/null 2>"$tmp/usr-share.err"
  rc=$?
  [ "$rc" -eq 0 ] || fail "the demo without arguments exits $rc on this system: $(head -3 "$tmp/usr-share.err")"
  ok "the demo without arguments (/usr/share) exits 0"
fi

# --- Sizes under any locale ---
# g_format_size() puts a no-break space before the unit: under a locale
# that is not UTF-8 it must be a plain space, not a "?".
last_run=c-locale
env -u LANG -u LANGUAGE LC_ALL=C "${guard[@]}" "$demo" "$tree" >/dev/null 2>"$tmp/c-locale.err"
[ $? -eq 0 ] || fail "the demo under LC_ALL=C fails"
grep -qE '[0-9] (kB|MB|GB)\)' "$tmp/c-locale.err" || fail "no plain space before the unit under LC_ALL=C"
grep -q '?' "$tmp/c-locale.err" && fail "the summary under LC_ALL=C has a question mark"
ok "under LC_ALL=C the sizes have a plain space"

if locale -a 2>/dev/null | grep -qix 'c.utf-\?8'; then
  last_run=utf8-locale
  LC_ALL=C.UTF-8 "${guard[@]}" "$demo" "$tree" >/dev/null 2>"$tmp/utf8-locale.err"
  LC_ALL=C grep -qP '[0-9]\xc2\xa0(kB|MB|GB)\)' "$tmp/utf8-locale.err" ||
    fail "no no-break space before the unit under C.UTF-8"
  ok "under C.UTF-8 the sizes keep their no-break space"
fi

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
