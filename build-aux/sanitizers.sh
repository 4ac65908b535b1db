#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the unit and stress suites under a sanitizer or valgrind, and fails
# on any report:
#
#   build-aux/sanitizers.sh asan       AddressSanitizer + UndefinedBehaviorSanitizer
#   build-aux/sanitizers.sh tsan       ThreadSanitizer, against a GLib built with it
#   build-aux/sanitizers.sh valgrind   valgrind memcheck (meson test --setup valgrind)
#
# Each mode ends with one line, e.g. "asan: 14 tests, 0 reports".
#
# ThreadSanitizer cannot see the futex-based mutexes of an uninstrumented
# GLib and reports false races, so the tsan mode first builds GLib itself
# with -fsanitize=thread from Debian's source package of the installed
# version, and caches it in BUILDDIR/glib-tsan/VERSION: a second run reuses
# it.
#
# Environment:
#   FS_SANITIZER_BUILDDIR  the build directory (default: _build-MODE)
#   FS_STRESS_SCALE        the size of the stress suite (default: per mode,
#                          a fraction of the normal run)
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-}"

case "$mode" in
  asan|tsan|valgrind) ;;
  *) echo "usage: $0 asan|tsan|valgrind" >&2; exit 2 ;;
esac

# clang and its runtimes, valgrind, dpkg-dev: only those missing.
"$top/build-aux/install-deps.sh" sanitizers

builddir="${FS_SANITIZER_BUILDDIR:-$top/_build-$mode}"
case "$builddir" in
  /*) ;;
  *) builddir="$PWD/$builddir" ;;
esac
suites=(--suite unit --suite stress)

log() {
  echo "$mode: $*" >&2
}

need_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "run as root (or install sudo) to run: $*"
    exit 1
  fi
}

# Whether apt knows the source package of GLib. (Not grep -q: under
# pipefail, apt-cache killed by SIGPIPE would count as a failure.)
have_glib_source() {
  apt-cache showsrc glib2.0 2>/dev/null | grep '^Package: glib2.0$' >/dev/null
}

# A deb-src twin of every enabled deb entry (same mirrors, suites, keys),
# unless the source of glib2.0 is already known to apt.
ensure_deb_src() {
  local f tmp
  local list=/etc/apt/sources.list.d/fsthread-deb-src.sources
  local oneline=/etc/apt/sources.list.d/fsthread-deb-src.list

  if have_glib_source; then
    return
  fi

  tmp="$(mktemp)"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$list" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         {
           types = ""; out = ""; enabled = 1
           for (i = 1; i <= NF; i++) {
             if ($i ~ /^#/) continue
             if ($i ~ /^Types:/) { types = $i; continue }
             if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
             out = out $i "\n"
           }
           if (enabled && types ~ /[ \t]deb([ \t]|$)/ && types !~ /deb-src/)
             printf "Types: deb-src\n%s\n", out
         }' "$f" >>"$tmp"
  done
  if [ -s "$tmp" ]; then
    need_root install -m 0644 "$tmp" "$list"
  fi
  : >"$tmp"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] && [ "$f" != "$oneline" ] || continue
    sed -n 's/^[ \t]*deb\([ \t]\)/deb-src\1/p' "$f" >>"$tmp"
  done
  if [ -s "$tmp" ]; then
    need_root install -m 0644 "$tmp" "$oneline"
  fi
  rm -f "$tmp"

  need_root apt-get update -q >/dev/null
  if ! have_glib_source; then
    log "apt knows no source package glib2.0 (no deb-src entry could be made)"
    exit 1
  fi
}

# Builds GLib with -fsanitize=thread into BUILDDIR/glib-tsan/KEY/prefix,
# once per GLib version and compiler; prints the prefix.
glib_tsan() {
  local version cc_major key cache src gsrc gbuild prefix
  version="$(dpkg-query -W -f='${source:Version}' libglib2.0-0)"
  cc_major="$(clang -dumpversion | cut -d. -f1)"
  key="$version-clang$cc_major"
  cache="$builddir/glib-tsan/$key"
  prefix="$cache/prefix"

  if [ -f "$cache/complete" ]; then
    log "reusing GLib $version built with ThreadSanitizer in $cache" 
    echo "$prefix"
    return
  fi

  ensure_deb_src
  rm -rf "$cache"
  mkdir -p "$cache/src"
  log "building GLib $version with ThreadSanitizer in $cache"
  (
    cd "$cache/src"
    # The installed version when the mirror still has it, else its newest.
    if ! apt-get source -q glib2.0="$version" >../source.log 2>&1; then
      log "source of glib2.0 $version not found; taking the newest one"
      apt-get source -q glib2.0 >../source.log 2>&1
    fi
  )
  gsrc="$(find "$cache/src" -mindepth 1 -maxdepth 1 -type d -name 'glib2.0-*' | head -n 1)"
  [ -n "$gsrc" ] || { log "apt-get source glib2.0 made no source tree"; exit 1; }
  gbuild="$cache/build"

  # The smallest GLib that fsthread's tests need: no tests, docs, man pages,
  # translations or optional system integrations.
  CC=clang CXX=clang++ meson setup "$gbuild" "$gsrc" \
    --prefix="$prefix" --libdir=lib \
    --buildtype=debugoptimized \
    --wrap-mode=nodownload \
    -Db_sanitize=thread -Db_lundef=false \
    -Dtests=false -Dinstalled_tests=false \
    -Dman=false -Dgtk_doc=false \
    -Dnls=disabled -Dselinux=disabled -Dlibmount=disabled \
    -Dxattr=false -Dlibelf=disabled -Dsysprof=disabled \
    -Ddtrace=false -Dsystemtap=false \
    >"$cache/setup.log" 2>&1 || { cat "$cache/setup.log" >&2; exit 1; }
  meson compile -C "$gbuild" >"$cache/compile.log" 2>&1 || { tail -n 50 "$cache/compile.log" >&2; exit 1; }
  meson install -C "$gbuild" --no-rebuild >"$cache/install.log" 2>&1 || { tail -n 50 "$cache/install.log" >&2; exit 1; }

  # The sources and objects are not needed any more: keep the install.
  rm -rf "$cache/src" "$gbuild"
  touch "$cache/complete"
  echo "$prefix"
}

setup_build() {
  # Reconfigure only when the options changed: `meson setup` on an existing
  # build directory of other options would fail.
  local opts=("$@")
  if [ -f "$builddir/build.ninja" ]; then
    meson configure "$builddir" "${opts[@]}" >/dev/null
  else
    meson setup "$builddir" "$top" "${opts[@]}"
  fi
}

# Counts the sanitizer's reports in meson's log of the run.
count_reports() {
  local pattern="$1"
  local log="$builddir/meson-logs/testlog${setup_suffix:-}.txt"
  if [ -f "$log" ]; then
    grep -cE "$pattern" "$log" || true
  else
    echo 0
  fi
}

count_tests() {
  local log="$builddir/meson-logs/testlog${setup_suffix:-}.json"
  if [ -f "$log" ]; then
    grep -c '"name"' "$log" || true
  else
    echo 0
  fi
}

common_opts=(
  -Dintrospection=disabled
  -Ddocs=disabled
  -Dtests=enabled
  --buildtype=debugoptimized
)

# The sanitizers' reports name functions only through llvm-symbolizer
# (Debian: llvm-14, which clang only recommends): without it no suppression
# of tests/*.supp matches.
use_symbolizer() {
  local symbolizer
  symbolizer="$(clang -print-prog-name=llvm-symbolizer)"
  if [ ! -x "$symbolizer" ]; then
    symbolizer="$(command -v llvm-symbolizer || true)"
  fi
  if [ -z "$symbolizer" ] || [ ! -x "$symbolizer" ]; then
    log "llvm-symbolizer not found (build-aux/install-deps.sh sanitizers installs it)"
    exit 1
  fi
  symbolizer_opt="external_symbolizer_path=$symbolizer"
}

status=0
start=$(date +%s)

case "$mode" in
  asan)
    use_symbolizer
    export CC=clang
    setup_build "${common_opts[@]}" \
      -Db_sanitize=address,undefined -Db_lundef=false
    meson compile -C "$builddir"
    export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:$symbolizer_opt"
    export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:$symbolizer_opt"
    export G_SLICE=always-malloc
    export FS_STRESS_SCALE="${FS_STRESS_SCALE:-1}"
    meson test -C "$builddir" "${suites[@]}" --print-errorlogs --num-processes 2 || status=$?
    reports=$(( $(count_reports 'ERROR: (Address|Leak)Sanitizer') + $(count_reports 'runtime error:') ))
    ;;

  tsan)
    prefix="$(glib_tsan)"
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    export LD_LIBRARY_PATH="$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    use_symbolizer
    export CC=clang
    setup_build "${common_opts[@]}" \
      -Db_sanitize=thread -Db_lundef=false
    # The build must use the instrumented GLib, or every report is noise.
    if ! grep -q "$prefix" "$builddir/meson-info/intro-dependencies.json"; then
      log "the build does not use the GLib in $prefix"
      exit 1
    fi
    meson compile -C "$builddir"
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$top/tests/tsan.supp:$symbolizer_opt"
    export G_SLICE=always-malloc
    export FS_STRESS_SCALE="${FS_STRESS_SCALE:-0.5}"
    meson test -C "$builddir" "${suites[@]}" --print-errorlogs --num-processes 2 \
      --timeout-multiplier 4 || status=$?
    reports=$(count_reports 'WARNING: ThreadSanitizer')
    ;;

  valgrind)
    if ! command -v valgrind >/dev/null 2>&1; then
      log "valgrind is not installed (build-aux/install-deps.sh sanitizers installs it)"
      exit 1
    fi
    setup_build "${common_opts[@]}"
    meson compile -C "$builddir"
    setup_suffix=-valgrind
    export FS_STRESS_SCALE="${FS_STRESS_SCALE:-0.03}"
    meson test -C "$builddir" --setup valgrind "${suites[@]}" --print-errorlogs --num-processes 2 \
      || status=$?
    # Every error valgrind counts, leaks of kind "definite" included, ends
    # in a non-zero "ERROR SUMMARY"; sum them.
    log_file="$builddir/meson-logs/testlog-valgrind.txt"
    reports=0
    if [ -f "$log_file" ]; then
      reports=$(sed -n 's/.*ERROR SUMMARY: \([0-9][0-9]*\) errors.*/\1/p' "$log_file" \
                | awk '{ s += $1 } END { print s + 0 }')
    fi
    ;;
esac

tests=$(count_tests)
elapsed=$(( $(date +%s) - start ))
echo "$mode: $tests tests, $reports reports (${elapsed}s)"

if [ "$reports" -ne 0 ] && [ "$status" -eq 0 ]; then
  status=1
fi
exit "$status"
