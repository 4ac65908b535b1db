#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks NEWS: every release heading is "fsthread X.Y.Z (YYYY-MM-DD)", or
"(unreleased)" for the newest only, underlined to its length; versions go
down from the top; the project's version has an entry.

    check-news.py NEWS VERSION
"""

import datetime
import re
import sys

HEADING = re.compile(r"^fsthread (\d+)\.(\d+)\.(\d+) \((unreleased|\d{4}-\d{2}-\d{2})\)$")


def main():
    path, version = sys.argv[1:3]
    lines = open(path, encoding="utf-8").read().split("\n")
    problems = []
    releases = []
    for i, line in enumerate(lines):
        if not line.startswith("fsthread "):
            continue
        m = HEADING.match(line)
        if not m:
            problems.append("line %d: %r is not 'fsthread X.Y.Z (YYYY-MM-DD)'" % (i + 1, line))
            continue
        if i + 1 >= len(lines) or lines[i + 1] != "=" * len(line):
            problems.append("line %d: not underlined with %d '='" % (i + 1, len(line)))
        date = m.group(4)
        if date == "unreleased":
            if releases:
                problems.append("line %d: only the newest entry may be unreleased" % (i + 1))
        else:
            try:
                datetime.date.fromisoformat(date)
            except ValueError:
                problems.append("line %d: %s is not a date" % (i + 1, date))
        releases.append((tuple(int(g) for g in m.groups()[:3]), date, i + 1))

    print("1..2")
    for (newer, _, _), (older, _, line) in zip(releases, releases[1:]):
        if older >= newer:
            problems.append("line %d: %s is not older than the entry above it"
                            % (line, ".".join(map(str, older))))
    if problems or not releases:
        print("not ok 1 - every NEWS heading is dated, newest first")
        for p in problems or ["no release heading"]:
            print("# " + p)
    else:
        print("ok 1 - %d NEWS entries, dated, newest first" % len(releases))
    wanted = tuple(int(x) for x in version.split("."))
    if any(v == wanted for v, _, _ in releases):
        print("ok 2 - NEWS has an entry for %s" % version)
    else:
        print("not ok 2 - NEWS has an entry for %s" % version)
        problems.append("missing")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
