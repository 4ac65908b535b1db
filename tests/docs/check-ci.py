#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks that .gitlab-ci.yml runs what .ci/run runs: a job on Debian 12
whose script is `bash .ci/run`, with a timeout no longer than .ci/run's
budget of 90 minutes.

    check-ci.py SOURCE_ROOT
"""

import os
import re
import sys


def main():
    root = sys.argv[1]
    with open(os.path.join(root, ".gitlab-ci.yml"), encoding="utf-8") as f:
        text = f.read()
    problems = []
    if not os.access(os.path.join(root, ".ci", "run"), os.R_OK):
        problems.append(".ci/run is missing")
    if not re.search(r"^\s+image:\s*debian:bookworm\s*$", text, re.M):
        problems.append("no job with image: debian:bookworm")
    if not re.search(r"^\s+script:\s*\n\s+- bash \.ci/run\s*$", text, re.M):
        problems.append("no job whose script is `bash .ci/run`")
    m = re.search(r"^\s+timeout:\s*(\d+)\s*minutes\s*$", text, re.M)
    if not m or int(m.group(1)) > 90:
        problems.append("no timeout of at most 90 minutes")
    print("1..1")
    if problems:
        print("not ok 1 - .gitlab-ci.yml runs .ci/run")
        for p in problems:
            print("# " + p)
        return 1
    print("ok 1 - .gitlab-ci.yml runs .ci/run on Debian 12")
    return 0


if __name__ == "__main__":
    sys.exit(main())
