# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for fsthread: the API of faceswap's lib.multithreading.

Code written for ``lib.multithreading`` ports by changing its import::

    from gi.repository import Fs
    for batch in Fs.BackgroundGenerator(load_batches, prefetch=2):
        train(batch)

The helpers run on real threads created by the C library. Python code in a
target or generator still takes the GIL to run; waiting, handing items over
and joining happen in C with the GIL released.
"""

import atexit
import itertools
import sys
import threading
import time
import weakref

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Fs = get_introspection_module("Fs")

__all__ = []

# Blocking waits are cut into slices this long, so that a signal such as
# Ctrl+C (KeyboardInterrupt) is seen between two of them.
_SLICE_USEC = 50_000

_PY_DOMAIN = "fs-python-exception-quark"


class _Exceptions:
    """Carries Python exceptions through the C library by identity.

    An exception raised in a target or generator becomes a GError of its own
    domain whose code names it here, so the same exception object (type,
    message, traceback) is raised again in the caller. The exception is kept
    by the _Keeper of the Python object whose thread raised it (or of the
    error state it was set on), and this table only holds weak references
    to keepers: a cycle from the exception's traceback back to its owner
    stays collectable, and nothing is freed while a lock is held. Once the
    owner is gone the GError is raised as a plain GLib.Error.
    """

    def __init__(self):
        # Plain dict operations, atomic under the GIL: no lock that a
        # weak reference callback could wait for.
        self._keepers = {}
        self._codes = itertools.count(1)

    def to_gerror(self, exc, keeper):
        code = next(self._codes) % 0x7FFFFFFF or next(self._codes)
        if keeper is not None:
            keeper.exceptions[code] = exc
            keepers = self._keepers
            keepers[code] = weakref.ref(keeper, lambda _ref, code=code: keepers.pop(code, None))
        text = str(exc)
        message = type(exc).__name__ + (": " + text if text else "")
        return GLib.Error(message, _PY_DOMAIN, code)

    def from_gerror(self, error):
        if getattr(error, "domain", None) == _PY_DOMAIN:
            ref = self._keepers.get(error.code)
            keeper = ref() if ref is not None else None
            if keeper is not None:
                exc = keeper.exceptions.get(error.code)
                if exc is not None:
                    return exc
        return error


_exceptions = _Exceptions()


class _Keeper:
    """The exceptions raised by an object's threads, alive as long as the
    object. The C library holds the callbacks: they get a weak reference."""

    __slots__ = ("exceptions", "__weakref__")

    def __init__(self):
        self.exceptions = {}


def _kept_by(keeper_ref):
    return keeper_ref() if keeper_ref is not None else None


def _is_own_error(error, state):
    """Whether `error` is the failure that `state` recorded for the run (the
    target's or generator's own), not an error of the wait or the call."""
    for recorded in state.dup_errors()[:1]:
        return (recorded.domain, recorded.code, recorded.message) == (
            error.domain, error.code, error.message)
    return False


def _is_fs_error(error, code):
    return error.matches(Fs.error_quark(), code)


def _default_name(target, fallback):
    return getattr(target, "__name__", None) or fallback


def _call_target(target, args, kwargs, keeper_ref):
    """Runs a Python target on an fsthread thread; any exception, also a
    BaseException such as SystemExit, goes to the caller."""

    def run(*_ignored):
        # Which object's target this thread runs, so that a join from
        # inside can be refused instead of waiting for itself.
        _running.owner = keeper_ref
        try:
            if target is not None:
                target(*args, **kwargs)
        except GLib.Error:
            raise
        except BaseException as exc:  # noqa: B902: every failure is reported
            raise _exceptions.to_gerror(exc, _kept_by(keeper_ref)) from None
        finally:
            _running.owner = None
        return True

    return run


_running = threading.local()


def _check_not_inside(obj, what):
    """Refuses a join from inside: from a thread running obj's target, or,
    for a thread this module did not create (a generator's producer), from
    that thread itself."""
    keeper = obj.__dict__.get("_fs_keeper")
    owner = getattr(_running, "owner", None)
    inside = keeper is not None and owner is not None and owner() is keeper
    if not inside and isinstance(obj, Fs.Thread):
        inside = Fs.Thread.get_current() == obj
    if inside:
        raise RuntimeError("cannot join %s from one of its own threads" % what)


def _wait_in_slices(wait_slice, timeout=None):
    """Calls wait_slice(usec) until it returns True; returns False when
    `timeout` seconds passed first. Python runs between slices, so a
    pending signal handler (Ctrl+C's KeyboardInterrupt) runs there.

    wait_slice must report a timeout by returning False, not by raising: a
    signal handler that runs while PyGObject builds a GLib.Error would turn
    the KeyboardInterrupt into a RuntimeError."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        usec = _SLICE_USEC
        if deadline is not None:
            # One try at least: timeout=0 takes what is ready.
            usec = min(usec, max(int((deadline - time.monotonic()) * 1e6), 0))
        if wait_slice(usec):
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def total_cpus():
    """The number of CPUs this process may use (affinity and cgroup quota).

    Returns:
        int: at least 1
    """
    return Fs.total_cpus()


__all__.append("total_cpus")


class ErrorState(Fs.ErrorState):
    """Errors collected from many threads, re-raised by one.

    ``set`` takes a ``GLib.Error``, any exception, or an ``exc_info`` tuple
    as the original did; ``re_raise`` raises the first one again, the same
    object.
    """

    def __init__(self):
        super().__init__()

    def _keeper(self):
        keeper = self.__dict__.get("_fs_keeper")
        if keeper is None:
            keeper = self.__dict__["_fs_keeper"] = _Keeper()
        return keeper

    def set(self, error):
        """Records an error: a GLib.Error, an exception or an exc_info tuple."""
        if isinstance(error, tuple):
            error = error[1]
        if not isinstance(error, GLib.Error):
            if not isinstance(error, BaseException):
                raise TypeError("ErrorState.set() takes an exception, not %r" % (error,))
            error = _exceptions.to_gerror(error, self._keeper())
        Fs.ErrorState.set(self, error)

    @property
    def has_error(self):
        """bool: whether an error was recorded and not cleared."""
        return self.get_has_error()

    @property
    def errors(self):
        """list: the errors, first first, as the exceptions that were set."""
        return [_exceptions.from_gerror(e) for e in self.dup_errors()]

    def re_raise(self):
        """Raises the first error again, if there is one."""
        failure = None
        try:
            Fs.ErrorState.re_raise(self)
        except GLib.Error as error:
            failure = _exceptions.from_gerror(error)
        if failure is not None:
            # Outside the except block, which would replace __context__.
            raise failure

    def clear(self):
        """Removes every error."""
        Fs.ErrorState.clear(self)


ErrorState = override(ErrorState)
__all__.append("ErrorState")


class Thread(Fs.Thread):
    """A thread whose exception is raised again in the caller.

    Arguments as ``threading.Thread`` (and the original ``FSThread``). The
    target runs on a thread of the C library; its exception, any kind, is
    recorded and raised again, the same object, by
    ``check_and_raise_error()``. ``join()`` only waits, as
    ``threading.Thread.join`` does.

    ``daemon`` is accepted for compatibility. A thread that is not a daemon
    is waited for when the interpreter exits, as ``threading`` does.
    """

    def __new__(cls, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        keeper = _Keeper()
        run = _call_target(target, tuple(args), dict(kwargs or {}), weakref.ref(keeper))
        self = Fs.Thread.new(name or _default_name(target, "thread"), run)
        self.__dict__["_fs_keeper"] = keeper
        self.__dict__["_fs_daemon"] = bool(daemon)
        return self

    def __init__(self, *args, **kwargs):
        # Constructed in __new__ by Fs.Thread.new().
        pass

    @property
    def name(self):
        """str: the thread's name."""
        return self.get_name()

    @property
    def daemon(self):
        """bool: whether the interpreter exits without waiting for it."""
        return self.__dict__.get("_fs_daemon", False)

    def start(self):
        """Starts the target on a new thread."""
        Fs.Thread.start(self)
        if not self.daemon:
            _live_threads.add(self)

    def join(self, timeout=None):
        """Waits until the target returns, or `timeout` seconds. Never
        raises the target's error: see check_and_raise_error()."""
        _check_not_inside(self, "the current thread")
        if not _wait_in_slices(lambda usec: Fs.Thread.wait(self, usec), timeout):
            return
        try:
            Fs.Thread.join(self, None)
        except GLib.Error as error:
            if _is_own_error(error, self.get_error_state()):
                return  # the target's own failure: join() only waits
            if _is_fs_error(error, Fs.Error.NOT_STARTED):
                raise RuntimeError("cannot join thread before it is started") from None
            # The target's own failure: join() only waits.

    def check_and_raise_error(self):
        """Raises this thread's error, if its target failed."""
        failure = None
        try:
            Fs.Thread.check_and_raise_error(self)
        except GLib.Error as error:
            failure = _exceptions.from_gerror(error)
        if failure is not None:
            raise failure

    @property
    def has_error(self):
        """bool: whether the target failed."""
        return self.get_has_error()

    @property
    def errors(self):
        """list: this thread's error, as a list (empty on success)."""
        return [_exceptions.from_gerror(e) for e in self.get_error_state().dup_errors()]


Thread = override(Thread)
__all__.append("Thread")


class MultiThread(Fs.MultiThread):
    """N threads running one target, started, joined and checked together.

    ``MultiThread(target, *args, thread_count=1, name=None, **kwargs)`` as
    in the original. ``join()`` joins every thread, also after one failed,
    then raises the first error. In a target,
    ``Fs.Thread.get_current().get_index()`` tells which thread it is.
    """

    def __new__(cls, target, *args, thread_count=1, name=None, **kwargs):
        if thread_count < 1:
            raise ValueError("thread_count must be at least 1, not %d" % thread_count)
        keeper = _Keeper()
        run = _call_target(target, args, kwargs, weakref.ref(keeper))
        self = Fs.MultiThread.new(name or _default_name(target, "work"), thread_count, run)
        self.__dict__["_fs_keeper"] = keeper
        return self

    def __init__(self, *args, **kwargs):
        # Constructed in __new__ by Fs.MultiThread.new().
        pass

    @property
    def name(self):
        """str: the group's name."""
        return self.get_name()

    @property
    def has_error(self):
        """bool: whether a thread of the group failed."""
        return self.get_has_error()

    @property
    def errors(self):
        """list: the errors of the group's threads, first failure first."""
        return [_exceptions.from_gerror(e) for e in self.dup_errors()]

    def start(self):
        """Starts every thread of the group."""
        Fs.MultiThread.start(self)

    def join(self):
        """Joins every thread, then raises the first error, if any."""
        _check_not_inside(self, "a group")
        _wait_in_slices(lambda usec: Fs.MultiThread.wait(self, usec))
        failure = None
        try:
            Fs.MultiThread.join(self, None)
        except GLib.Error as error:
            failure = _exceptions.from_gerror(error)
        if failure is not None:
            raise failure

    def check_and_raise_error(self):
        """Raises the first error of the group's threads, if any."""
        failure = None
        try:
            Fs.MultiThread.check_and_raise_error(self)
        except GLib.Error as error:
            failure = _exceptions.from_gerror(error)
        if failure is not None:
            raise failure


MultiThread = override(MultiThread)
__all__.append("MultiThread")


_RawBackgroundGenerator = Fs.BackgroundGenerator


class BackgroundGenerator:
    """Runs a generator on a background thread, items handed over through a
    bounded queue.

    ``BackgroundGenerator(generator, prefetch=1, name=None, args=None,
    kwargs=None)`` as in the original. At most ``prefetch`` items exist
    ahead of the consumer (the original allowed ``prefetch + 1``), and
    ``prefetch`` must be at least 1. Every object, ``None`` and ``"EOF"``
    too, reaches the consumer unchanged. The generator's exception is raised
    in the consumer after every item it yielded before failing.

    Iterate with ``for item in bg`` or ``bg.iterator()``. Several threads
    may iterate at once; each item goes to one of them. ``close()``, or
    dropping the object, stops and joins the producer.
    """

    def __init__(self, generator, prefetch=1, name=None, args=None, kwargs=None):
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1, not %d" % prefetch)
        self._keeper = _Keeper()
        produce = _produce(generator, tuple(args or ()), dict(kwargs or {}),
                           weakref.ref(self._keeper))
        self._adopt(_RawBackgroundGenerator.new_for_values(
            prefetch, name or _default_name(generator, "generator"), produce))

    def _adopt(self, bg):
        self._bg = bg
        _live_generators.add(self)

    @classmethod
    def new_for_files(cls, files, prefetch=1):
        """A generator that reads `files` (Gio.File objects) in order on its
        own thread, in C: each item is an Fs.LoadedFile whose
        ``get_contents()`` gives the bytes as GLib.Bytes, or raises the
        file's read error in its place."""
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1, not %d" % prefetch)
        self = cls.__new__(cls)
        self._keeper = _Keeper()
        self._adopt(_RawBackgroundGenerator.new_for_files(list(files), prefetch))
        return self

    @property
    def gobject(self):
        """Fs.BackgroundGenerator: the C object, for main-loop code
        (``next_async``)."""
        return self._bg

    @property
    def name(self):
        """str: the name of the producer thread."""
        return self._bg.get_name()

    @property
    def prefetch(self):
        """int: the most items that exist ahead of the consumer."""
        return self._bg.get_prefetch()

    def next(self, timeout=None):
        """Takes the next item; raises StopIteration at the end, the
        generator's exception if it failed, and TimeoutError after
        `timeout` seconds."""
        result = []

        def wait_slice(usec):
            ok, value, timed_out = self._bg.try_next_value(usec)
            if timed_out:
                return False
            result[:] = [ok, value]
            return True

        failure = None
        try:
            if not _wait_in_slices(wait_slice, timeout):
                failure = TimeoutError("no item within %s seconds" % timeout)
        except GLib.Error as error:
            failure = self._failure(error)
        if failure is not None:
            raise failure
        if not result[0]:
            raise StopIteration
        return result[1]

    def _failure(self, error):
        """What the consumer raises for a GLib.Error of try_next_value():
        StopIteration when the stream was closed, else the generator's
        exception (or the error itself)."""
        if _is_fs_error(error, Fs.Error.CLOSED) and not _is_own_error(
                error, self._bg.get_thread().get_error_state()):
            return StopIteration()
        return _exceptions.from_gerror(error)

    def iterator(self):
        """Yields the items until the end of the stream."""
        # next() without a timeout, inlined: a loop of slices, between which
        # Python runs (and with it a pending KeyboardInterrupt).
        try_next_value = self._bg.try_next_value
        while True:
            try:
                ok, value, timed_out = try_next_value(_SLICE_USEC)
            except GLib.Error as error:
                failure = self._failure(error)
                if isinstance(failure, StopIteration):
                    return
                raise failure from None
            if timed_out:
                continue
            if not ok:
                return
            yield value

    def __iter__(self):
        return self.iterator()

    def __next__(self):
        return self.next()

    def close(self):
        """Stops the producer, frees what is queued, and joins its thread."""
        bg = self.__dict__.get("_bg")
        if bg is not None:
            bg.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        # Joins with the GIL released (a C call), so a Python producer can
        # finish: never let the GObject's dispose do it with the GIL held.
        self.close()


def _produce(generator, args, kwargs, keeper_ref):
    """The producer: iterates the Python generator on the background
    thread and yields each item, the object itself, into the stream."""

    def produce(sink, *_ignored):
        iterator = value = None
        try:
            iterator = iter(generator(*args, **kwargs))
            # One GValue for every item: yield_value() copies it.
            value = GObject.Value(GObject.TYPE_PYOBJECT)
            yield_value = sink.yield_value
            for item in iterator:
                value.set_value(item)
                del item
                yield_value(value)
        except GLib.Error:
            # Raised by yield_value() when the consumer closed the stream
            # (not a failure), or a GLib.Error of the generator's own.
            raise
        except BaseException as exc:  # noqa: B902: every failure is reported
            raise _exceptions.to_gerror(exc, _kept_by(keeper_ref)) from None
        finally:
            # Not even the last item stays with this frame, which a
            # traceback may keep.
            if value is not None:
                value.unset()
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        return True

    return produce


__all__.append("BackgroundGenerator")


# Interpreter exit: close every generator still open (their producers stop
# at their next yield) and wait for threads that are not daemons, as the
# threading module does, so that no thread runs Python code while the
# interpreter is torn down.
_live_generators = weakref.WeakSet()
_live_threads = weakref.WeakSet()


def _shutdown():
    for bg in list(_live_generators):
        bg.close()
    for thread in list(_live_threads):
        if thread.is_alive():
            thread.join()


atexit.register(_shutdown)
