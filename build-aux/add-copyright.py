#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Adds a copyright line beside the license line of every source file.

    build-aux/add-copyright.py [SOURCE_ROOT]

Before each line holding "SPDX-License-Identifier: LGPL-2.1-or-later", in a
file that has no SPDX-FileCopyrightText line yet, inserts the same line
(its comment markers and indentation kept) with the identifier replaced by
"SPDX-FileCopyrightText: 2026 The fsthread developers". Running it twice
changes nothing. Prints the files it changed.
"""

import os
import subprocess
import sys

TAG = "SPDX-License-Identifier: LGPL-2.1-or-later"
COPYRIGHT = "SPDX-FileCopyrightText: 2026 The fsthread developers"


def files(root):
    out = subprocess.run(["git", "-C", root, "ls-files", "-z"], check=True,
                         stdout=subprocess.PIPE).stdout
    return [f for f in out.decode().split("\0") if f]


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    for name in files(root):
        path = os.path.join(root, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if b"\0" in data[:8192]:
            continue
        text = data.decode("utf-8")
        if "SPDX-FileCopyrightText:" in text or TAG not in text:
            continue
        lines = text.split("\n")
        i = next(i for i, line in enumerate(lines) if TAG in line)
        lines.insert(i, lines[i].replace(TAG, COPYRIGHT))
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
