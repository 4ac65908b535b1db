# SPDX-License-Identifier: LGPL-2.1-or-later
"""faceswap's ``lib.multithreading``, on fsthread.

A drop-in replacement: code written for faceswap's module changes one
import line::

    from fsthread.multithreading import BackgroundGenerator, ErrorState, FSThread, MultiThread, total_cpus

and runs as it did, minus the original's breakages. The names, arguments
and meanings are the original's:

- ``FSThread(target=None, name=None, args=(), kwargs=None, *, daemon=None)``,
  a ``threading.Thread``: ``start()``, ``join(timeout=None)``,
  ``is_alive()``, ``run()`` (which a subclass may override),
  ``check_and_raise_error()``, and ``FSThread.error_state``, the one state
  that every failure in the process reaches.
- ``MultiThread(target, *args, thread_count=1, name=None, **kwargs)``.
- ``BackgroundGenerator(generator, prefetch=1, name=None, args=None,
  kwargs=None)`` and its ``iterator()``.
- ``ErrorState()``, ``total_cpus()``, and the ``_ErrorType`` alias.

Beyond the original: ``map(function, iterable, thread_count=None,
prefetch=None, ordered=True)`` runs ``function`` over ``iterable`` on
several threads and yields the results in order, lazily and with bounded
memory (not in ``__all__``: a star import would hide the built-in).

The threads are the library's, real operating-system threads; waits,
hand-overs and joins happen in C with the GIL released, and Ctrl+C
interrupts them. Each class is also the library's GObject type
(``isinstance(FSThread(), Fs.Thread)``), so the rest of the library's API
is there too. What differs from the original, and why, is listed in the
library's ``docs/migrating.md``.
"""

from __future__ import annotations

import itertools
import logging
import operator
import threading
import typing as T
from types import TracebackType

import gi


def _find_library():
    """Lets an installed copy of this module find the library it was
    installed with, when GObject-Introspection does not search that prefix
    (Debian's does not search /usr/local)."""
    try:
        from . import _install_paths
    except ImportError:  # uninstalled: the caller's environment decides
        return
    repository = gi.Repository.get_default()
    if repository.enumerate_versions("Fs"):
        return
    gi.require_version("GIRepository", "2.0")
    from gi.repository import GIRepository

    GIRepository.Repository.prepend_search_path(_install_paths.TYPELIB_DIR)
    GIRepository.Repository.prepend_library_path(_install_paths.LIB_DIR)


_find_library()
gi.require_version("Fs", "1")

from gi.repository import Fs, GLib, GObject  # noqa: E402

__all__ = ["BackgroundGenerator", "ErrorState", "FSThread", "MultiThread", "total_cpus"]

_ErrorType: T.TypeAlias = T.Union[
    tuple[type[BaseException], BaseException, TracebackType],
    tuple[T.Any, T.Any, T.Any],
]
"""An error as ``ErrorState.errors`` lists it: ``sys.exc_info()``'s tuple."""

# Failures are logged through `logging`, once each, as the original did.
_LOG_LEVEL = logging.CRITICAL


def total_cpus() -> int:
    """The number of CPUs this process may use.

    The original counted every CPU of the host (``os.cpu_count()``); this
    counts those of the process's affinity mask and cgroup CPU quota, so
    that a container limited to 2 CPUs gets 2 workers, not 64.
    """
    return Fs.total_cpus()


ErrorState = Fs.ErrorState

# Not in __all__: a star import would hide the built-in map.
map = Fs.map
"""An object for tracking errors across threads: ``set(sys.exc_info())``,
``has_error``, ``errors``, ``re_raise()``, ``clear()``. The same class as
``Fs.ErrorState``."""


_thread_numbers = itertools.count(1)


def _thread_name(target):
    """threading's default name: Thread-N, with the target's name."""
    name = "Thread-%d" % next(_thread_numbers)
    target_name = getattr(target, "__name__", None)
    return name + " (%s)" % target_name if target_name else name


class FSThread(Fs.Thread, threading.Thread):
    """A thread that passes its errors back to the caller.

    As the original (a ``threading.Thread``): ``target`` runs with ``args``
    and ``kwargs`` on a new thread when ``start()`` is called, once.
    ``run()`` runs the target and captures its exception; a subclass may
    override ``run()`` instead, and its exception is captured the same way.
    ``threading.current_thread()`` in the thread is this object.

    A captured exception is logged (``Error in thread (NAME): ...``),
    recorded in this thread's own state, which ``check_and_raise_error()``
    raises again, the same object, and in ``FSThread.error_state``, the one
    state shared by every thread of the process. ``join()`` only waits.
    ``SystemExit`` ends the thread quietly, as in ``threading``.

    A thread that is not a daemon (the default from the main thread) is
    waited for when the interpreter exits; Ctrl+C interrupts that wait.
    """

    error_state: Fs.ErrorState = Fs.ErrorState.get_default()
    """Class attribute: the state that every failure reaches, of any
    thread of the process (the library's process-wide state, which keeps
    the first error and the newest 63)."""

    _fs_log_level = _LOG_LEVEL

    def __init__(self,
                 target: T.Callable | None = None,
                 name: str | None = None,
                 args: tuple = (),
                 kwargs: dict[str, T.Any] | None = None,
                 *,
                 daemon: bool | None = None) -> None:
        GObject.Object.__init__(self, name=name or _thread_name(target))
        # The library makes the name unique among living threads.
        threading.Thread.__init__(self, target=target, name=self.get_name(), args=args,
                                  kwargs=kwargs, daemon=daemon)
        self.target = target
        self.args = args
        self.kwargs = {} if kwargs is None else kwargs
        self._fs_setup(None, (), None, self._daemonic)

    name = threading.Thread.name

    @property
    def daemon(self) -> bool:
        """Whether the interpreter exits without waiting for this thread."""
        return self._daemonic

    @daemon.setter
    def daemon(self, daemonic: bool) -> None:
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        if self._started.is_set():
            raise RuntimeError("cannot set daemon status of active thread")
        self._daemonic = self.__dict__["_fs_daemon"] = bool(daemonic)

    __repr__ = threading.Thread.__repr__

    def start(self) -> None:
        """Starts the thread; a thread starts once, as in threading."""
        if not self.__dict__.get("_initialized"):
            raise RuntimeError("thread.__init__() not called")
        if self._started.is_set():
            raise RuntimeError("threads can only be started once")
        self._started.set()
        try:
            Fs.Thread.start(self)
        except GLib.Error as error:
            message = error.message
        else:
            return
        raise RuntimeError("can't start new thread: %s" % message)

    def run(self) -> None:
        """Runs the target, and captures its exception for re-raising in
        the caller (and in any thread that reads ``error_state``)."""
        d = self.__dict__
        target, args, kwargs = d.get("target"), d.get("args", ()), d.get("kwargs", {})
        # As the original: no cycle through the target's arguments.
        for attribute in ("target", "args", "kwargs", "_target", "_args", "_kwargs"):
            d.pop(attribute, None)
        # This frame holds the thread only in `d` while the target runs: a
        # traceback that keeps the frame does not keep the thread.
        del self
        try:
            if target is not None:
                target(*args, **kwargs)
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: B902: every failure is captured
            d["_fs_pending"] = exc
        finally:
            del target, args, kwargs, d

    # The run virtual method of the GType: the library's own code calls
    # run(), with no Python frame of its own that holds the thread.
    do_run = operator.methodcaller("_fs_execute", operator.methodcaller("run"))

    def _fs_python_thread(self):
        return self

    def _fs_finished(self):
        self._is_stopped = True
        super()._fs_finished()


FSThread._fs_internal(FSThread.run)


class MultiThread(Fs.MultiThread):
    """``thread_count`` threads running one target, as the original.

    ``start()`` starts them (again after a ``join()``), ``join()`` joins
    every one, also after one failed, then raises the group's first error;
    ``check_and_raise_error()``, ``has_error`` and ``errors`` are the
    group's own. ``completed()`` and ``is_alive()`` as in the original. The
    threads are named ``NAME_0 ... NAME_{N-1}`` (``NAME`` for one) and are
    daemons: they never hold the interpreter's exit. A failure is logged
    and reaches ``FSThread.error_state`` too.
    """

    __gtype__ = Fs.MultiThread.__gtype__
    _fs_log_level = _LOG_LEVEL


class BackgroundGenerator(Fs.BackgroundGenerator):
    """Runs a generator in the background and queues its items, as the
    original.

    ``iterator()`` (or ``for item in bg``, ``next(bg)``) yields every item
    the generator yields, any object, then raises its exception if it
    failed. At most ``prefetch`` items exist ahead of the consumer.
    ``close()`` stops the producer; dropping the object, or the object that
    holds it, stops it too. The producer is a daemon: it never holds the
    interpreter's exit.

    As the original's (a ``MultiThread``), it also has ``name``,
    ``is_alive()``, ``completed()``, ``join()``, ``has_error``, ``errors``
    and ``check_and_raise_error()``, about its producer.
    """

    __gtype__ = Fs.BackgroundGenerator.__gtype__
    _fs_log_level = _LOG_LEVEL

    def is_alive(self) -> bool:
        """Whether the producer is running."""
        return self.get_thread().is_alive()

    def completed(self) -> bool:
        """Whether the producer has finished."""
        return not self.get_thread().is_alive()

    @property
    def has_error(self) -> bool:
        """Whether the generator failed."""
        return self.get_thread().get_has_error()

    @property
    def errors(self) -> list[_ErrorType]:
        """The generator's error, as (type, value, traceback), in a list."""
        return self.get_thread().errors

    def check_and_raise_error(self) -> None:
        """Raises the generator's exception, if it failed."""
        self.get_thread().check_and_raise_error()

    def join(self) -> None:
        """Waits for the producer to finish, then raises the generator's
        exception, if it failed. A producer that waits for its consumer
        finishes only once the items are taken, or the stream closed."""
        self.get_thread().join()
        self.check_and_raise_error()
