# SPDX-License-Identifier: LGPL-2.1-or-later
"""Loads fsthread for the Python tests: the typelib from the build tree and
the override from the source tree (FS_PYTHON_OVERRIDES), so that the tests
run uninstalled."""

import os

import gi
import gi.overrides

_overrides = os.environ.get("FS_PYTHON_OVERRIDES")
if _overrides:
    gi.overrides.__path__.insert(0, _overrides)

gi.require_version("Fs", "1")

from gi.repository import Fs, GLib, GObject  # noqa: E402


def count_threads():
    """The number of threads of this process, as the kernel counts them."""
    return len(os.listdir("/proc/self/task"))


def wait_threads_settle(expected, give_up=30.0):
    """Watches the thread count come back to `expected`: a joined thread may
    stay listed in /proc a moment after the join returned. Fails after
    `give_up` seconds rather than hang."""
    import time

    deadline = time.monotonic() + give_up
    while count_threads() != expected:
        if time.monotonic() > deadline:
            raise AssertionError("%d threads, expected %d" % (count_threads(), expected))
        os.sched_yield()


__all__ = ["Fs", "GLib", "GObject", "count_threads", "wait_threads_settle"]
