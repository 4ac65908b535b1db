# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python binding against the pure-Python design it replaces, in the
same run.

- A Python generator consumed through ``Fs.BackgroundGenerator``, against
  the original design: a daemon ``threading.Thread`` putting the items into
  a ``queue.Queue(maxsize=prefetch)``. Nanoseconds per item, at prefetch 1
  and 64.
- The built-in file loader (``new_for_files``, whose producer is C)
  consumed from Python, against a Python thread reading the same files into
  a queue. Both hand the consumer each file's bytes as a Python ``bytes``.

Each case is warmed up, then the cases are repeated interleaved and the
median is reported. Run uninstalled with the environment the Python tests
use (GI_TYPELIB_PATH, LD_LIBRARY_PATH, FS_PYTHON_OVERRIDES);
``--json`` prints one JSON object, ``--quick`` makes a short run.
"""

import argparse
import json
import os
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

from fsthread_testing import Fs  # noqa: E402

from gi.module import get_introspection_module  # noqa: E402
from gi.repository import Gio  # noqa: E402

# The GI class itself, not the override's Python class.
RawFs = get_introspection_module("Fs")

_END = object()


class QueueBackgroundGenerator(threading.Thread):
    """The original's design: a daemon thread filling a bounded queue."""

    def __init__(self, generator, prefetch=1):
        super().__init__(daemon=True)
        self.queue = queue.Queue(maxsize=prefetch)
        self.generator = generator
        self.start()

    def run(self):
        for item in self.generator:
            self.queue.put(item)
        self.queue.put(_END)

    def iterator(self):
        while True:
            item = self.queue.get()
            if item is _END:
                return
            yield item

    def __iter__(self):
        return self.iterator()


def counting(n):
    yield from range(n)


def run_fsthread(prefetch, n):
    start = time.perf_counter_ns()
    total = 0
    for item in Fs.BackgroundGenerator(counting, prefetch=prefetch, args=(n,)):
        total += item
    elapsed = time.perf_counter_ns() - start
    assert total == n * (n - 1) // 2, total
    return elapsed


def run_queue(prefetch, n):
    start = time.perf_counter_ns()
    total = 0
    for item in QueueBackgroundGenerator(counting(n), prefetch=prefetch):
        total += item
    elapsed = time.perf_counter_ns() - start
    assert total == n * (n - 1) // 2, total
    return elapsed


def make_tree(root, n_files):
    """A tree of files of a few sizes, 1 KiB to 256 KiB, in subdirectories;
    returns their paths in order and their total size."""
    sizes = [1024, 4096, 16384, 65536, 262144]
    paths = []
    total = 0
    for i in range(n_files):
        directory = os.path.join(root, "d%02d" % (i % 16))
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, "f%05d" % i)
        size = sizes[i % len(sizes)]
        with open(path, "wb") as f:
            f.write(bytes([i % 251]) * size)
        paths.append(path)
        total += size
    return paths, total


def run_file_loader(paths, prefetch, total):
    files = [Gio.File.new_for_path(p) for p in paths]
    start = time.perf_counter_ns()
    loader = RawFs.BackgroundGenerator.new_for_files(files, prefetch)
    size = 0
    while True:
        ok, loaded = loader.next_value(None)
        if not ok:
            break
        size += len(loaded.get_contents().get_data())
    loader.close()
    elapsed = time.perf_counter_ns() - start
    assert size == total, (size, total)
    return elapsed


def run_file_thread(paths, prefetch, total):
    start = time.perf_counter_ns()
    q = queue.Queue(maxsize=prefetch)

    def read_all():
        for path in paths:
            with open(path, "rb") as f:
                q.put(f.read())
        q.put(_END)

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    size = 0
    while True:
        data = q.get()
        if data is _END:
            break
        size += len(data)
    reader.join()
    elapsed = time.perf_counter_ns() - start
    assert size == total, (size, total)
    return elapsed


def cpu_marks():
    """(busy ticks of all CPUs, ticks of this process and its children,
    monotonic seconds)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:11]]
    busy = sum(fields) - fields[3] - fields[4]
    # guest time is counted in user time already
    busy -= sum(fields[8:10])
    t = os.times()
    own = (t.user + t.system + t.children_user + t.children_system) * os.sysconf("SC_CLK_TCK")
    return busy, own, time.monotonic()


def other_load(mark):
    """CPUs kept busy by other programs since `mark`: 0 on a quiet
    machine; near 1 when another program took a whole CPU."""
    busy, own, now = cpu_marks()
    seconds = now - mark[2]
    if seconds <= 0:
        return 0.0
    return max(0.0, (busy - mark[0]) - (own - mark[1])) / (seconds * os.sysconf("SC_CLK_TCK"))


def measure(members, repeats):
    """members: name -> (run, units). Warms each up, then runs them
    interleaved in a rotating order; returns name -> median ns per unit."""
    for run, units in members.values():
        run()
    samples = {name: [] for name in members}
    names = list(members)
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            run, units = members[name]
            samples[name].append(run() / units)
    return {name: statistics.median(values) for name, values in samples.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--repeats", type=int, default=0, help="repetitions of each case")
    args = parser.parse_args()

    repeats = args.repeats or (3 if args.quick else 7)
    cases = []

    # Handoff of Python objects. Sized so one run lasts about 0.1-0.5 s.
    items = {1: 2000 if args.quick else 20000, 64: 20000 if args.quick else 200000}
    members = {}
    for prefetch, n in items.items():
        members[("fsthread", prefetch)] = (lambda p=prefetch, n=n: run_fsthread(p, n), n)
        members[("queue", prefetch)] = (lambda p=prefetch, n=n: run_queue(p, n), n)
    mark = cpu_marks()
    results = measure(members, repeats)
    load = round(other_load(mark), 2)
    for prefetch, n in items.items():
        cases.append({"case": "py_handoff", "prefetch": prefetch, "items": n,
                      "ns_per_item": round(results[("fsthread", prefetch)], 1),
                      "other_load": load})
        cases.append({"case": "py_baseline_queue", "prefetch": prefetch, "items": n,
                      "ns_per_item": round(results[("queue", prefetch)], 1),
                      "other_load": load})

    # Reading a tree of files.
    n_files = 300 if args.quick else 2000
    file_prefetch = 8
    root = tempfile.mkdtemp(prefix="fsthread-bench-")
    try:
        paths, total = make_tree(root, n_files)
        members = {
            "loader": (lambda: run_file_loader(paths, file_prefetch, total), n_files),
            "thread": (lambda: run_file_thread(paths, file_prefetch, total), n_files),
        }
        mark = cpu_marks()
        results = measure(members, repeats)
        load = round(other_load(mark), 2)
    finally:
        shutil.rmtree(root)
    for name, case in (("loader", "py_file_loader"), ("thread", "py_baseline_file_thread")):
        ns = results[name]
        cases.append({"case": case, "files": n_files, "bytes": total, "prefetch": file_prefetch,
                      "ns_per_file": round(ns, 1),
                      "mib_per_s": round(total / (ns * n_files) * 1e9 / (1 << 20), 1),
                      "other_load": load})

    if args.json:
        print(json.dumps({"cases": cases}))
        return

    print("%-26s %-22s %10s  %-22s %s" % ("case", "parameters", "median", "unit", "other load"))
    print("%-26s %-22s %10s  %-22s %s" % ("----", "----------", "------", "----", "----------"))
    for c in cases:
        if "ns_per_item" in c:
            print("%-26s %-22s %10.0f  %-22s %.2f" % (c["case"], "prefetch=%d" % c["prefetch"],
                                                      c["ns_per_item"], "ns/item", c["other_load"]))
        else:
            print("%-26s %-22s %10.0f  %-22s %.2f" % (
                c["case"], "files=%d prefetch=%d" % (c["files"], c["prefetch"]),
                c["ns_per_file"], "ns/file (%.0f MiB/s)" % c["mib_per_s"], c["other_load"]))
    print("\n%d repetitions each, median; Python %s. \"other load\": CPUs kept busy by\n"
          "other programs while the cases ran (above ~0.2, distrust the numbers)."
          % (repeats, sys.version.split()[0]))

    def find(name, **params):
        for c in cases:
            if c["case"] == name and all(c.get(k) == v for k, v in params.items()):
                return c
        return None

    print("\nTargets, from the medians above:")
    for prefetch in items:
        mine = find("py_handoff", prefetch=prefetch)["ns_per_item"]
        base = find("py_baseline_queue", prefetch=prefetch)["ns_per_item"]
        print("  [%s] Python generator through fsthread at prefetch %d no slower than "
              "queue.Queue: %.0f ns vs %.0f ns (%.2fx)" % (
                  "met" if mine <= base else "NOT MET", prefetch, mine, base, mine / base))
    mine = find("py_file_loader")["ns_per_file"]
    base = find("py_baseline_file_thread")["ns_per_file"]
    print("  [%s] file loader from Python at least as fast as a Python thread: "
          "%.0f ns vs %.0f ns per file (%.2fx)" % (
              "met" if mine <= base else "NOT MET", mine, base, mine / base))


if __name__ == "__main__":
    main()
