# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Python side of fsthread against the pure-Python code it replaces, in
the same run, interleaved.

- handoff: a Python generator consumed through ``BackgroundGenerator``,
  against the original's design, a daemon ``threading.Thread`` putting the
  items into a ``queue.Queue(maxsize=prefetch)``; nanoseconds per item at
  prefetch 1, 4 and 64.
- has_error: polling ``FSThread.error_state.has_error`` of the drop-in
  (fsthread.multithreading), as faceswap's workers do, against the
  original's state (a lock and a list); nanoseconds per poll.
- start_join: ``FSThread(target).start(); join()`` of the drop-in against
  the original's FSThread (a ``threading.Thread`` that catches the target's
  exception into a class-wide state), and a ``MultiThread`` of 4 against
  the original's (4 such threads); microseconds per thread or group.
- file loader: the built-in loader (``new_for_files``, whose producer is
  C) consumed from Python, against a Python thread reading the same files
  into a queue.
- map: ``fsthread.multithreading.map`` against
  ``concurrent.futures.ThreadPoolExecutor().map``, both on total_cpus()
  threads, over SHA-256 of 64 KiB blocks (hashlib releases the GIL while it
  hashes); microseconds per item, and the most items read from the input
  ahead of the consumer (the executor reads all of them at once).
- ctrl_c: how long after SIGINT a KeyboardInterrupt leaves a blocked
  next(), join(), MultiThread.join() and close(); milliseconds.

The reference classes below follow the original's documented behaviour
(docs/migrating.md); they are written for this benchmark. Each case is
warmed up, then the cases of a group are repeated interleaved and the
median is reported. Run uninstalled with the environment the Python tests
use (GI_TYPELIB_PATH, LD_LIBRARY_PATH, FS_PYTHON_OVERRIDES, PYTHONPATH with
fsthread/python); ``--json`` prints one JSON object, ``--quick`` makes a
short run.
"""

import argparse
import concurrent.futures
import hashlib
import json
import os
import queue
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "fsthread", "python"))

from fsthread_testing import Fs  # noqa: E402

from fsthread.multithreading import BackgroundGenerator, FSThread, MultiThread  # noqa: E402
from fsthread.multithreading import map as fs_map  # noqa: E402
from gi.repository import Gio  # noqa: E402

_END = object()


# ---------------------------------------------------------------------------
# The original's design, as its documentation describes it.

class QueueBackgroundGenerator(threading.Thread):
    """A daemon thread filling a bounded queue."""

    def __init__(self, generator, prefetch=1):
        super().__init__(daemon=True)
        self.queue = queue.Queue(maxsize=prefetch)
        self.generator = generator
        self.start()

    def run(self):
        for item in self.generator:
            self.queue.put(item)
        self.queue.put(_END)

    def __iter__(self):
        while True:
            item = self.queue.get()
            if item is _END:
                return
            yield item


class ReferenceErrorState:
    """A lock and a list; has_error reads the list under the lock."""

    def __init__(self):
        self._lock = threading.Lock()
        self.errors = []

    @property
    def has_error(self):
        with self._lock:
            return bool(self.errors)

    def set(self, exc_info):
        with self._lock:
            self.errors.append(exc_info)


class ReferenceFSThread(threading.Thread):
    """A threading.Thread that records its target's exception in one
    class-wide state."""

    error_state = ReferenceErrorState()

    def __init__(self, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        super().__init__(target=target, name=name, args=args, kwargs=kwargs, daemon=daemon)
        self.target, self.args, self.kwargs = target, args, kwargs or {}

    def run(self):
        try:
            if self.target is not None:
                self.target(*self.args, **self.kwargs)
        except Exception:
            self.error_state.set(sys.exc_info())
        finally:
            del self.target, self.args, self.kwargs


class ReferenceMultiThread:
    """thread_count ReferenceFSThreads, started and joined in order."""

    def __init__(self, target, *args, thread_count=1, name=None, **kwargs):
        self._name = name or target.__name__
        self._target, self._args, self._kwargs = target, args, kwargs
        self._thread_count = thread_count
        self._threads = []

    def start(self):
        for idx in range(self._thread_count):
            name = self._name if self._thread_count == 1 else "%s_%d" % (self._name, idx)
            thread = ReferenceFSThread(target=self._target, name=name, args=self._args,
                                       kwargs=self._kwargs)
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def join(self):
        for thread in self._threads:
            thread.join()
        self._threads = []


# ---------------------------------------------------------------------------
# The cases. Each returns nanoseconds for `units` units.

def counting(n):
    yield from range(n)


def run_fsthread(prefetch, n):
    start = time.perf_counter_ns()
    total = 0
    for item in BackgroundGenerator(counting, prefetch=prefetch, args=(n,)):
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


class Ahead:
    """An input of n blocks that records how far it was read ahead of
    the consumer."""

    def __init__(self, block, n):
        self.block, self.n = block, n
        self.read = self.taken = self.most_ahead = 0

    def __iter__(self):
        for _ in range(self.n):
            self.read += 1
            self.most_ahead = max(self.most_ahead, self.read - self.taken)
            yield self.block


def digest(block):
    return hashlib.sha256(block).digest()


def run_map(mapper, block, n, expected):
    source = Ahead(block, n)
    start = time.perf_counter_ns()
    for result in mapper(source):
        source.taken += 1
        if result != expected:
            raise AssertionError("wrong digest")
    elapsed = time.perf_counter_ns() - start
    assert source.taken == n, source.taken
    return elapsed, source.most_ahead


def run_polls(state, n):
    start = time.perf_counter_ns()
    for _ in range(n):
        if state.has_error:
            raise AssertionError("an error in the benchmark's state")
    return time.perf_counter_ns() - start


def noop():
    pass


def run_threads(cls, n):
    start = time.perf_counter_ns()
    for _ in range(n):
        t = cls(noop, name="bench")
        t.start()
        t.join()
    return time.perf_counter_ns() - start


def run_groups(cls, n, count):
    start = time.perf_counter_ns()
    for _ in range(n):
        g = cls(noop, thread_count=count, name="bench")
        g.start()
        g.join()
    return time.perf_counter_ns() - start


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
    size = 0
    with Fs.BackgroundGenerator.new_for_files(files, prefetch) as loader:
        for loaded in loader:
            size += len(loaded.get_contents().get_data())
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


def interrupt_after(blocked, call):
    """Nanoseconds from SIGINT to the KeyboardInterrupt out of call(), which
    blocks on the main thread; `blocked` is set just before it blocks. A
    helper thread sends the signal once the main thread sleeps."""
    sent = []

    def send():
        blocked.wait()
        main = threading.main_thread().native_id
        # Wait for the main thread to sleep in the call.
        while True:
            with open("/proc/self/task/%d/stat" % main) as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "S":
                    break
            os.sched_yield()
        sent.append(time.perf_counter_ns())
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    sender = threading.Thread(target=send)
    sender.start()
    try:
        call()
    except KeyboardInterrupt:
        caught = time.perf_counter_ns()
    else:
        raise AssertionError("not interrupted")
    sender.join()
    return caught - sent[0]


def ctrl_c_cases():
    """(name, run) for each blocking call: run() blocks it and returns the
    interrupt latency."""
    release = threading.Event()

    def next_item():
        blocked = threading.Event()

        def held():
            blocked.set()
            release.wait()
            yield "never"

        bg = BackgroundGenerator(held)
        return interrupt_after(blocked, lambda: next(bg))

    def join():
        blocked = threading.Event()
        t = FSThread(release.wait, daemon=True)
        t.start()
        blocked.set()
        return interrupt_after(blocked, t.join)

    def group_join():
        blocked = threading.Event()
        g = MultiThread(release.wait, thread_count=2)
        g.start()
        blocked.set()
        return interrupt_after(blocked, g.join)

    def close():
        blocked = threading.Event()

        def held():
            yield 1
            blocked.set()
            release.wait()
            yield "never"

        bg = BackgroundGenerator(held)
        next(bg)
        blocked.wait()   # the producer is past its yield, blocked outside it
        return interrupt_after(blocked, bg.close)

    return release, [("next", next_item), ("join", join), ("multi_thread_join", group_join),
                     ("close", close)]


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
    interleaved in a rotating order; returns (name -> median per unit,
    other load)."""
    for run, units in members.values():
        run()
    mark = cpu_marks()
    samples = {name: [] for name in members}
    names = list(members)
    for r in range(repeats):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            run, units = members[name]
            samples[name].append(run() / units)
    load = round(other_load(mark), 2)
    return {name: statistics.median(values) for name, values in samples.items()}, load


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--repeats", type=int, default=0, help="repetitions of each case")
    args = parser.parse_args()

    repeats = args.repeats or (3 if args.quick else 9)
    scale = 10 if args.quick else 1
    cases = []

    # Handoff of Python objects. Sized so one run lasts about 0.1-0.5 s.
    items = {1: 20000 // scale, 4: 50000 // scale, 64: 200000 // scale}
    members = {}
    for prefetch, n in items.items():
        members[("fsthread", prefetch)] = (lambda p=prefetch, n=n: run_fsthread(p, n), n)
        members[("queue", prefetch)] = (lambda p=prefetch, n=n: run_queue(p, n), n)
    results, load = measure(members, repeats)
    for prefetch, n in items.items():
        for name, case in (("fsthread", "py_handoff"), ("queue", "py_baseline_queue")):
            cases.append({"case": case, "prefetch": prefetch, "items": n,
                          "ns_per_item": round(results[(name, prefetch)], 1), "other_load": load})

    # faceswap's polling of the shared error state.
    polls = 1_000_000 // scale
    reference = ReferenceErrorState()
    members = {
        "fsthread": (lambda: run_polls(FSThread.error_state, polls), polls),
        "reference": (lambda: run_polls(reference, polls), polls),
    }
    results, load = measure(members, repeats)
    for name, case in (("fsthread", "py_has_error"), ("reference", "py_baseline_has_error")):
        cases.append({"case": case, "polls": polls, "ns_per_poll": round(results[name], 1),
                      "other_load": load})

    # Start and join.
    n_threads, n_groups = 2000 // scale, 500 // scale
    members = {
        "fsthread": (lambda: run_threads(FSThread, n_threads), n_threads),
        "reference": (lambda: run_threads(ReferenceFSThread, n_threads), n_threads),
        "fs_group": (lambda: run_groups(MultiThread, n_groups, 4), n_groups),
        "reference_group": (lambda: run_groups(ReferenceMultiThread, n_groups, 4), n_groups),
    }
    results, load = measure(members, repeats)
    for name, case, unit in (("fsthread", "py_fsthread_start_join", "thread"),
                             ("reference", "py_baseline_thread_start_join", "thread"),
                             ("fs_group", "py_multi_thread_start_join", "group of 4"),
                             ("reference_group", "py_baseline_multi_thread_start_join",
                              "group of 4")):
        cases.append({"case": case, "us_per_unit": round(results[name] / 1000, 2),
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
        results, load = measure(members, repeats)
    finally:
        shutil.rmtree(root)
    for name, case in (("loader", "py_file_loader"), ("thread", "py_baseline_file_thread")):
        ns = results[name]
        cases.append({"case": case, "files": n_files, "bytes": total, "prefetch": file_prefetch,
                      "ns_per_file": round(ns, 1),
                      "mib_per_s": round(total / (ns * n_files) * 1e9 / (1 << 20), 1),
                      "other_load": load})

    # The map against the executor's, the same work on the same threads.
    threads = Fs.total_cpus()
    block = os.urandom(64 * 1024)
    expected = digest(block)
    n_blocks = 200 if args.quick else 2000
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=threads)

    def fs_mapper(source):
        return fs_map(digest, source, thread_count=threads)

    def executor_mapper(source):
        return executor.map(digest, source)

    ahead = {}

    def timed(name, mapper):
        elapsed, most = run_map(mapper, block, n_blocks, expected)
        ahead[name] = max(ahead.get(name, 0), most)
        return elapsed

    try:
        members = {
            "map": (lambda: timed("map", fs_mapper), n_blocks),
            "executor": (lambda: timed("executor", executor_mapper), n_blocks),
        }
        results, load = measure(members, repeats)
    finally:
        executor.shutdown()
    for name, case in (("map", "py_map"), ("executor", "py_baseline_executor_map")):
        cases.append({"case": case, "threads": threads, "items": n_blocks,
                      "us_per_item": round(results[name] / 1000, 2),
                      "most_ahead": ahead[name], "other_load": load})

    # Ctrl+C.
    release, interrupts = ctrl_c_cases()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        for name, run in interrupts:
            times = [run() for _ in range(3 if args.quick else 15)]
            cases.append({"case": "py_ctrl_c_" + name,
                          "ms_median": round(statistics.median(times) / 1e6, 3),
                          "ms_max": round(max(times) / 1e6, 3)})
    finally:
        release.set()
        signal.signal(signal.SIGINT, previous)

    if args.json:
        print(json.dumps({"cases": cases}))
        return
    report(cases, items, repeats)


def report(cases, items, repeats):
    def find(name, **params):
        for c in cases:
            if c["case"] == name and all(c.get(k) == v for k, v in params.items()):
                return c
        raise KeyError(name)

    print("%-38s %-22s %10s  %-12s %s" % ("case", "parameters", "median", "unit", "other load"))
    print("%-38s %-22s %10s  %-12s %s" % ("----", "----------", "------", "----", "----------"))
    for c in cases:
        if "ns_per_item" in c:
            row = ("prefetch=%d" % c["prefetch"], "%.0f" % c["ns_per_item"], "ns/item")
        elif "ns_per_poll" in c:
            row = ("", "%.1f" % c["ns_per_poll"], "ns/poll")
        elif "us_per_unit" in c:
            row = ("", "%.2f" % c["us_per_unit"],
                   "us/group" if "multi" in c["case"] else "us/thread")
        elif "us_per_item" in c:
            row = ("threads=%d ahead<=%d" % (c["threads"], c["most_ahead"]),
                   "%.2f" % c["us_per_item"], "us/item")
        elif "ns_per_file" in c:
            row = ("files=%d prefetch=%d" % (c["files"], c["prefetch"]),
                   "%.0f" % c["ns_per_file"], "ns/file")
        else:
            row = ("max %.1f ms" % c["ms_max"], "%.2f" % c["ms_median"], "ms")
        print("%-38s %-22s %10s  %-12s %s" % ((c["case"],) + row + (
            "%.2f" % c["other_load"] if "other_load" in c else "",)))
    print("\n%d repetitions each, median; Python %s. \"other load\": CPUs kept busy by\n"
          "other programs while the cases ran (above ~0.2, distrust the numbers)."
          % (repeats, sys.version.split()[0]))

    print("\nTargets, from the medians above:")

    def target(what, mine, base, unit):
        print("  [%s] %s: %.1f %s vs %.1f %s (%.2fx)" % (
            "met" if mine <= base else "NOT MET", what, mine, unit, base, unit, mine / base))

    for prefetch in items:
        target("Python generator through fsthread at prefetch %d no slower than queue.Queue"
               % prefetch, find("py_handoff", prefetch=prefetch)["ns_per_item"],
               find("py_baseline_queue", prefetch=prefetch)["ns_per_item"], "ns")
    target("FSThread.error_state.has_error no slower than the original's",
           find("py_has_error")["ns_per_poll"], find("py_baseline_has_error")["ns_per_poll"], "ns")
    target("FSThread start+join no slower than the original's",
           find("py_fsthread_start_join")["us_per_unit"],
           find("py_baseline_thread_start_join")["us_per_unit"], "us")
    target("MultiThread of 4 start+join no slower than the original's",
           find("py_multi_thread_start_join")["us_per_unit"],
           find("py_baseline_multi_thread_start_join")["us_per_unit"], "us")
    target("file loader from Python at least as fast as a Python thread",
           find("py_file_loader")["ns_per_file"], find("py_baseline_file_thread")["ns_per_file"],
           "ns")
    mine, base = find("py_map"), find("py_baseline_executor_map")
    target("map no slower than ThreadPoolExecutor.map (SHA-256 of 64 KiB)",
           mine["us_per_item"], base["us_per_item"], "us")
    print("  [%s] map reads a bounded part of its input ahead (the executor all of it): "
          "%d vs %d of %d items" % (
              "met" if mine["most_ahead"] < mine["items"] // 4 else "NOT MET",
              mine["most_ahead"], base["most_ahead"], mine["items"]))
    worst = max(c["ms_max"] for c in cases if c["case"].startswith("py_ctrl_c_"))
    print("  [%s] Ctrl+C ends every blocked call within 100 ms: at most %.1f ms" % (
        "met" if worst < 100 else "NOT MET", worst))


if __name__ == "__main__":
    main()
