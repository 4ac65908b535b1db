#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails when a file of the repository has no SPDX-License-Identifier line.

    check-spdx.py SOURCE_ROOT

In a git checkout with git installed, checks the files git knows in
SOURCE_ROOT: tracked ones, and new ones not ignored. Elsewhere (a tarball,
or a machine without git) it walks SOURCE_ROOT, leaving out .git, build
directories (any directory meson configured: it holds meson-private) and
Python's caches. It never skips: there is always a tree to check.
The line goes in the file's first comment (after a shebang, or the Title
line of a guide page); any line of the file counts.
"""

import os
import shutil
import subprocess
import sys

# Not source: the license text itself, and the release notes.
EXEMPT = {"COPYING", "NEWS"}
TAG = "SPDX-License-Identifier: LGPL-2.1-or-later"


def git_files(root):
    """The files git knows, or None where git cannot tell."""
    git = shutil.which("git")
    if git is None or not os.path.exists(os.path.join(root, ".git")):
        return None
    try:
        out = subprocess.run(
            [git, "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [f for f in out.decode().split("\0") if f]


def walked_files(root):
    files = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs
                   if d not in (".git", "__pycache__")
                   and not os.path.isdir(os.path.join(directory, d, "meson-private"))]
        for name in names:
            if name == ".git" or name.endswith(".pyc"):
                continue
            files.append(os.path.relpath(os.path.join(directory, name), root))
    return files


def main():
    root = sys.argv[1]
    listed = git_files(root)
    how = "git ls-files"
    if listed is None:
        listed = walked_files(root)
        how = "the tree"
    files = sorted(set(listed))
    missing = []
    checked = 0
    for name in files:
        path = os.path.join(root, name)
        if name in EXEMPT or not os.path.isfile(path) or os.path.islink(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue  # binary
        checked += 1
        if TAG.encode() not in data:
            missing.append(name)

    print("1..1")
    if missing:
        print("not ok 1 - every source file carries %r" % TAG)
        for name in missing:
            print("# missing: %s" % name)
        return 1
    print("ok 1 - %d files of %s carry %r" % (checked, how, TAG))
    return 0


if __name__ == "__main__":
    sys.exit(main())
