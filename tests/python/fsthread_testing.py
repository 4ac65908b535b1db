# SPDX-License-Identifier: LGPL-2.1-or-later
"""Loads fsthread for the Python tests: the typelib from the build tree and
the override from the source tree (FS_PYTHON_OVERRIDES), so that the tests
run uninstalled."""

import gc
import os
import threading
import time

import gi
import gi.overrides

_overrides = os.environ.get("FS_PYTHON_OVERRIDES")
if _overrides:
    gi.overrides.__path__.insert(0, _overrides)

gi.require_version("Fs", "1")

from gi.repository import Fs, GLib, GObject  # noqa: E402


# The longest any wait may take before a test calls it a hang.
HANG = 30.0

FS_DOMAIN = GLib.quark_to_string(Fs.error_quark())


def count_threads():
    """The number of threads of this process, as the kernel counts them."""
    return len(os.listdir("/proc/self/task"))


def wait_threads_settle(expected, give_up=30.0):
    """Watches the thread count come back to `expected`: a joined thread may
    stay listed in /proc a moment after the join returned. Fails after
    `give_up` seconds rather than hang."""
    deadline = time.monotonic() + give_up
    while count_threads() != expected:
        if time.monotonic() > deadline:
            raise AssertionError("%d threads, expected %d" % (count_threads(), expected))
        os.sched_yield()


def quiet_thread_count(give_up=HANG):
    """count_threads(), once no other thread is on its way out: a thread
    joined a moment ago may still be listed in /proc, running its exit,
    and would make a starting count too high. Waits until every other
    thread sleeps; fails rather than hang."""
    me = threading.get_native_id()
    deadline = time.monotonic() + give_up
    while True:
        busy = []
        for tid in os.listdir("/proc/self/task"):
            if int(tid) == me:
                continue
            try:
                with open("/proc/self/task/%s/stat" % tid) as stat:
                    state = stat.read().rsplit(")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue  # gone meanwhile
            if state != "S":
                busy.append((tid, state))
        if not busy:
            return count_threads()
        if time.monotonic() > deadline:
            raise AssertionError("threads still busy: %r" % busy)
        os.sched_yield()


def collect_garbage():
    """Collects until nothing more is found: an object whose __del__ ran
    in one pass may be freed in the next."""
    for _ in range(10):
        if not gc.collect():
            break


def on_cancel(cancellable, event):
    """Sets `event` when `cancellable` is cancelled (at once if it is
    already). Returns the handler id, 0 when the callback already ran."""
    return cancellable.connect(lambda *_: event.set())


class Failure(Exception):
    """An exception of the tests' own."""


def values(errors):
    """The exceptions of a list of (type, value, traceback), as `errors`
    lists them."""
    for info in errors:
        assert len(info) == 3 and info[0] is type(info[1]), info
    return [info[1] for info in errors]


__all__ = ["Fs", "GLib", "GObject", "HANG", "FS_DOMAIN", "Failure", "collect_garbage",
           "count_threads", "on_cancel", "quiet_thread_count", "values", "wait_threads_settle"]
