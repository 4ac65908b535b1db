#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench-demo.sh DEMO [--quick] [--json]: the demo against itself with one
# thread and against coreutils, in the same run, on a tree made here:
#
#   demo --threads 1 DIR
#   demo DIR                          (fs_total_cpus () threads)
#   find DIR -type f -print0 | xargs -0 -P2 sha256sum
#   find DIR -type f -print0 | xargs -0 -P2 -n FILES/2 sha256sum
#
# (xargs runs one sha256sum for as many files as fit on a command line,
# so the first uses one process; the second splits the files between two.)
#
# The tree is read once before timing, so every run hashes from the page
# cache; the three commands then run in turns, and the median of each is
# reported, with the speedup of the demo's default over one thread and its
# time against xargs.

set -u

if [ $# -lt 1 ]; then
  echo "usage: $0 PATH-TO-FSTHREAD-DEMO [--quick] [--json]" >&2
  exit 2
fi

demo=$1
shift
quick=0
json=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --json) json=1 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done

n_files=96
file_kib=2048
repeats=7
if [ "$quick" -eq 1 ]; then
  n_files=8
  file_kib=256
  repeats=1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/tree
mkdir "$tree" || exit 1
for i in $(seq 1 "$n_files"); do
  head -c $((file_kib * 1024)) /dev/urandom >"$tree/file-$i" || exit 1
done
cat "$tree"/* >/dev/null

# seconds CMD...: the wall-clock time of one run, in seconds; fails with
# the command.
seconds() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1 || return 1
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", (b - a) / 1e9 }'
}

demo_one() { "$demo" --threads 1 "$tree"; }
demo_all() { "$demo" "$tree"; }
coreutils() { find "$tree" -type f -print0 | xargs -0 -P2 sha256sum; }
coreutils_split() { find "$tree" -type f -print0 | xargs -0 -P2 -n $(( (n_files + 1) / 2 )) sha256sum; }

median() {
  sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Warm-up, and a check that each command works at all.
for cmd in demo_one demo_all coreutils coreutils_split; do
  seconds "$cmd" >/dev/null || { echo "$cmd failed" >&2; exit 1; }
done

: >"$tmp/demo_one" ; : >"$tmp/demo_all" ; : >"$tmp/coreutils" ; : >"$tmp/coreutils_split"
for _ in $(seq 1 "$repeats"); do
  for cmd in demo_one demo_all coreutils coreutils_split; do
    seconds "$cmd" >>"$tmp/$cmd" || { echo "$cmd failed" >&2; exit 1; }
  done
done

one=$(median <"$tmp/demo_one")
all=$(median <"$tmp/demo_all")
cu=$(median <"$tmp/coreutils")
cu2=$(median <"$tmp/coreutils_split")
cpus=$(nproc)
mib=$((n_files * file_kib / 1024))
speedup=$(awk -v a="$one" -v b="$all" 'BEGIN { printf "%.3f", a / b }')
vs_xargs=$(awk -v a="$all" -v b="$cu" 'BEGIN { printf "%.3f", a / b }')
vs_split=$(awk -v a="$all" -v b="$cu2" 'BEGIN { printf "%.3f", a / b }')

if [ "$json" -eq 1 ]; then
  printf '{"cases": [\n'
  printf '  {"case": "demo", "threads": 1, "mib": %s, "seconds": %s},\n' "$mib" "$one"
  printf '  {"case": "demo", "threads": %s, "mib": %s, "seconds": %s},\n' "$cpus" "$mib" "$all"
  printf '  {"case": "baseline_xargs_sha256sum", "processes": 2, "mib": %s, "seconds": %s},\n' "$mib" "$cu"
  printf '  {"case": "baseline_xargs_sha256sum_split", "processes": 2, "mib": %s, "seconds": %s},\n' "$mib" "$cu2"
  printf '  {"case": "demo_speedup", "threads": %s, "speedup": %s},\n' "$cpus" "$speedup"
  printf '  {"case": "demo_vs_xargs", "ratio": %s},\n' "$vs_xargs"
  printf '  {"case": "demo_vs_xargs_split", "ratio": %s}\n' "$vs_split"
  printf ']}\n'
  exit 0
fi

printf '%-44s %10s\n' "command ($n_files files, $mib MiB, page cache)" "median s"
printf '%-44s %10.3f\n' "fsthread-demo --threads 1" "$one"
printf '%-44s %10.3f\n' "fsthread-demo ($cpus threads)" "$all"
printf '%-44s %10.3f\n' "find | xargs -0 -P2 sha256sum" "$cu"
printf '%-44s %10.3f\n' "find | xargs -0 -P2 -n $(( (n_files + 1) / 2 )) sha256sum" "$cu2"
echo
echo "$repeats repetitions each, median."
echo "Targets:"
# verdict A OP B: "met" when the comparison holds.
verdict() { awk -v a="$1" -v b="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? a >= b : a <= b; print ok ? "met" : "NOT MET" }'; }
echo "  [$(verdict "$speedup" ">=" 1.8)] $cpus threads at least 1.8x faster than 1: ${speedup}x"
echo "  [$(verdict "$vs_xargs" "<=" 1.0)] no slower than xargs -P2 sha256sum: ${vs_xargs}x its time"
echo "  [$(verdict "$vs_split" "<=" 1.0)] no slower than xargs -P2 -n FILES/2 sha256sum: ${vs_split}x its time"
