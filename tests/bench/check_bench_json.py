# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs `fsthread-bench --quick --json` and checks that it prints one JSON
object holding every case named on the command line. It checks the shape
of the output, never the numbers."""

import json
import subprocess
import sys


def main():
    bench, expected = sys.argv[1], sys.argv[2:]
    out = subprocess.run([bench, "--quick", "--json"], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    cases = json.loads(out)["cases"]
    names = {case["case"] for case in cases}
    missing = [name for name in expected if name not in names]
    if missing:
        sys.exit("missing cases: " + ", ".join(missing))
    for name in ("handoff", "baseline_bounded_naive"):
        prefetches = {case.get("prefetch") for case in cases if case["case"] == name}
        if not {1, 4, 64, 1024} <= prefetches:
            sys.exit("%s lacks a prefetch: has %s" % (name, sorted(prefetches)))
    for case in cases:
        numbers = [v for k, v in case.items() if k != "case"]
        if not all(isinstance(v, (int, float)) for v in numbers):
            sys.exit("a field is not a number: %r" % case)
    print("ok: %d cases" % len(cases))


if __name__ == "__main__":
    main()
