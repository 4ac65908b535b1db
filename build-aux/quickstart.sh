#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The commands of the README's Quick start:
#
#   build-aux/quickstart.sh demo [DIR]      build, run the demo on DIR
#   build-aux/quickstart.sh test            build, run every test suite
#   build-aux/quickstart.sh install [PREFIX]
#                                           build, install into PREFIX
#                                           (/usr/local), print what to export
#
# Each first installs the Debian packages it needs that are missing
# (build-aux/install-deps.sh): with none missing, any user can run it.
# demo and test build in _build (FSTHREAD_BUILDDIR), install in
# _build-install (FSTHREAD_INSTALL_BUILDDIR).
#
# install takes root (or sudo) only where the prefix is not writable. On
# stdout it prints only the shell lines that make the installed fsthread
# visible to pkg-config, the dynamic linker, GObject-Introspection, Python
# and the GIR and Vala tools, for those of them that do not look in PREFIX
# already: `eval "$(build-aux/quickstart.sh install)"` applies them.
set -euo pipefail

top="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
what="${1:-}"

case "$what" in
  demo|test|install) shift ;;
  *) echo "usage: $0 demo [DIR] | test | install [PREFIX]" >&2; exit 2 ;;
esac

"$top/build-aux/install-deps.sh" "$what"

# setup BUILDDIR OPTION...: configures BUILDDIR, or reconfigures it with
# these options (and the packages installed since).
setup() {
  local builddir="$1"; shift
  if [ -f "$builddir/build.ninja" ]; then
    meson setup --reconfigure "$builddir" "$top" "$@"
  else
    meson setup "$builddir" "$top" "$@"
  fi
}

# The first existing directory of PATH or its parents.
existing_parent() {
  local d="$1"
  while [ ! -e "$d" ]; do
    d="$(dirname "$d")"
  done
  echo "$d"
}

# in_list DIR LIST: whether DIR is one of the colon-separated LIST.
in_list() {
  local d
  local IFS=:
  for d in $2; do
    [ "$d" = "$1" ] && return 0
  done
  return 1
}

# print_env BUILDDIR: the export lines for what was installed from
# BUILDDIR, each only when its consumer does not find the file alone.
print_env() {
  local builddir="$1"
  local installed pc lib typelib override gir vapi
  installed="$(meson introspect --installed "$builddir" |
    /usr/bin/python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin).values()))')"
  pick() { printf '%s\n' "$installed" | grep -E "$1" | head -n 1 || true; }
  pc="$(pick '/fsthread-1\.pc$')"
  lib="$(pick '/libfsthread-1\.so\.0$')"
  typelib="$(pick '/Fs-1\.typelib$')"
  override="$(pick '/gi/overrides/Fs\.py$')"
  gir="$(pick '/Fs-1\.gir$')"
  vapi="$(pick '/fsthread-1\.vapi$')"

  local lines=()
  if [ -n "$pc" ] && ! in_list "$(dirname "$pc")" "$(pkg-config --variable pc_path pkg-config)"; then
    lines+=("export PKG_CONFIG_PATH=$(dirname "$pc")\${PKG_CONFIG_PATH:+:\$PKG_CONFIG_PATH}")
  fi
  # The dynamic linker's cache, which `meson install` as root refreshes.
  if [ -n "$lib" ] && ! /sbin/ldconfig -p | grep -F " => $lib" >/dev/null; then
    lines+=("export LD_LIBRARY_PATH=$(dirname "$lib")\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}")
  fi
  # GObject-Introspection 1.74 on Debian reads its own typelib directory
  # and /usr/lib/girepository-1.0 only: not /usr/local's.
  if [ -n "$typelib" ]; then
    local gi_dirs
    gi_dirs="$(pkg-config --variable=typelibdir gobject-introspection-1.0 2>/dev/null || true):/usr/lib/girepository-1.0"
    if ! in_list "$(dirname "$typelib")" "$gi_dirs"; then
      lines+=("export GI_TYPELIB_PATH=$(dirname "$typelib")\${GI_TYPELIB_PATH:+:\$GI_TYPELIB_PATH}")
    fi
  fi
  if [ -n "$override" ]; then
    local site
    site="${override%/gi/overrides/Fs.py}"
    if ! env -u PYTHONPATH /usr/bin/python3 -c 'import sys; sys.exit(sys.argv[1] not in sys.path)' "$site"; then
      lines+=("export PYTHONPATH=$site\${PYTHONPATH:+:\$PYTHONPATH}")
    fi
  fi
  # Fs-1.gir (g-ir-scanner --include) and fsthread-1.vapi (valac --pkg)
  # are looked for under the data directories.
  local share=""
  [ -n "$gir" ] && share="${gir%/gir-1.0/Fs-1.gir}"
  [ -z "$share" ] && [ -n "$vapi" ] && share="${vapi%/vala/vapi/fsthread-1.vapi}"
  if [ -n "$share" ] && ! in_list "$share" "/usr/local/share:/usr/share"; then
    lines+=("export XDG_DATA_DIRS=$share:\${XDG_DATA_DIRS:-/usr/local/share:/usr/share}")
  fi

  if [ "${#lines[@]}" -eq 0 ]; then
    echo "# fsthread is installed where every tool looks: nothing to export."
  else
    echo "# fsthread is installed; for every tool to find it, add to your shell's profile:"
    printf '%s\n' "${lines[@]}"
  fi
}

case "$what" in
  demo)
    builddir="${FSTHREAD_BUILDDIR:-$top/_build}"
    [ -f "$builddir/build.ninja" ] || meson setup "$builddir" "$top"
    meson compile -C "$builddir" fsthread-demo
    # Hashes a tree (default: one every Debian machine has) in parallel;
    # the hashes go to stdout, a summary to stderr.
    "$builddir/examples/fsthread-demo" "$@" >/dev/null
    ;;

  test)
    builddir="${FSTHREAD_BUILDDIR:-$top/_build}"
    # Every feature on: a suite that can run must not be skipped because
    # its tools came after the first setup.
    setup "$builddir" -Dtests=enabled -Dintrospection=enabled -Dvapi=enabled -Ddocs=enabled
    meson compile -C "$builddir"
    # The stress suite's seed: one for the whole run, shown here, so that a
    # failure can be rerun (README, Testing).
    export FS_STRESS_SEED="${FS_STRESS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
    echo "quickstart: FS_STRESS_SEED=$FS_STRESS_SEED" >&2
    status=0
    meson test -C "$builddir" --print-errorlogs --num-processes 2 || status=$?
    echo "quickstart: the stress suite ran with FS_STRESS_SEED=$FS_STRESS_SEED" >&2
    exit "$status"
    ;;

  install)
    prefix="${1:-/usr/local}"
    case "$prefix" in
      /*) ;;
      *) prefix="$PWD/$prefix" ;;
    esac
    builddir="${FSTHREAD_INSTALL_BUILDDIR:-$top/_build-install}"
    # Everything but the stdout of print_env goes to stderr.
    {
      setup "$builddir" --prefix="$prefix" -Dtests=disabled \
        -Dintrospection=enabled -Dvapi=enabled
      meson compile -C "$builddir"
      if [ -w "$(existing_parent "$prefix")" ]; then
        meson install -C "$builddir" --no-rebuild
      elif [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
        sudo meson install -C "$builddir" --no-rebuild
      else
        echo "quickstart: $prefix is not writable: as root, run: meson install -C $builddir --no-rebuild" >&2
        exit 1
      fi
    } >&2
    print_env "$builddir"
    ;;
esac
