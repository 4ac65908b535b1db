#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fails when a file of the repository has no SPDX-License-Identifier line.

    check-spdx.py SOURCE_ROOT

Checks the files git knows in SOURCE_ROOT: tracked ones, and new ones not
ignored. Skips (TAP "1..0 # SKIP") outside a git checkout, as in a tarball.
The line goes in the file's first comment (after a shebang, or the Title
line of a guide page); any line of the file counts.
"""

import os
import subprocess
import sys

# Not source: the license text itself, and the release notes.
EXEMPT = {"COPYING", "NEWS"}
TAG = "SPDX-License-Identifier: LGPL-2.1-or-later"


def main():
    root = sys.argv[1]
    if not os.path.exists(os.path.join(root, ".git")):
        print("1..0 # SKIP not a git checkout")
        return 0
    try:
        out = subprocess.run(
            ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print("1..0 # SKIP git cannot list the files: %s" % e)
        return 0

    files = sorted(set(f for f in out.decode().split("\0") if f))
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
    print("ok 1 - %d files carry %r" % (checked, TAG))
    return 0


if __name__ == "__main__":
    sys.exit(main())
