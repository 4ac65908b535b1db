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
import functools
import itertools
import os
import signal
import sys
import threading
import time
import weakref

from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Fs = get_introspection_module("Fs")

__all__ = []

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


def _is_fs_error(error, code):
    return error.matches(Fs.error_quark(), code)


def _default_name(target, fallback):
    return getattr(target, "__name__", None) or fallback


def _call_target(target, args, kwargs, keeper_ref):
    """Runs a Python target on an fsthread thread; any exception, also a
    BaseException such as SystemExit, goes to the caller."""

    def run(*_ignored):
        try:
            if target is not None:
                target(*args, **kwargs)
        except GLib.Error:
            raise
        except BaseException as exc:  # noqa: B902: every failure is reported
            raise _exceptions.to_gerror(exc, _kept_by(keeper_ref)) from None
        return True

    return run


class _Interrupts:
    """Lets Ctrl+C through a blocking C call on the main thread.

    Around the call, Python's signal wake-up descriptor points at a pipe of
    ours, and fsthread watches the pipe's read end
    (Fs.wait_set_interrupt_fd): a signal ends the C wait at once with
    FS_WAIT_INTERRUPTED, having taken nothing, and Python runs its handler
    at the next bytecode. No polling, no slices. A wake-up descriptor that
    was set before (an event loop's) gets the signal bytes we drained.
    """

    def __init__(self):
        self._pipe = None

    def _fds(self):
        if self._pipe is None:
            r, w = os.pipe()
            os.set_blocking(r, False)
            os.set_blocking(w, False)
            self._pipe = (r, w)
        return self._pipe

    def arm(self):
        """Points the signal wake-up descriptor at our pipe and lets C wait
        on it; returns what disarm() restores, or None off the main
        thread (where Python runs no signal handler anyway)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        r, w = self._fds()
        try:
            previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        except ValueError:
            return None
        return previous, Fs.wait_set_interrupt_fd(r)

    def disarm(self, armed):
        if armed is None:
            return
        previous, old_interrupt_fd = armed
        r, _w = self._pipe
        Fs.wait_set_interrupt_fd(old_interrupt_fd)
        signal.set_wakeup_fd(previous, warn_on_full_buffer=False)
        try:
            drained = os.read(r, 512)
        except BlockingIOError:
            drained = b""
        if drained and previous != -1:
            try:
                os.write(previous, drained)
            except OSError:
                pass

    def call(self, wait, timeout_usec):
        """Calls wait(timeout_usec) interruptibly and returns its status."""
        armed = self.arm()
        try:
            return wait(timeout_usec)
        finally:
            self.disarm(armed)


_interrupts = _Interrupts()


def _usec(timeout):
    return -1 if timeout is None else max(int(timeout * 1e6), 0)


def _wait(wait, timeout=None):
    """Waits with wait(timeout_usec) -> FsWaitStatus until it returns
    anything but FS_WAIT_INTERRUPTED (a signal whose handler raised
    nothing), within `timeout` seconds overall. Ctrl+C raises
    KeyboardInterrupt from here, at once."""
    status = wait(0)
    if status != Fs.WaitStatus.TIMED_OUT or timeout == 0:
        return status
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        usec = -1 if deadline is None else max(int((deadline - time.monotonic()) * 1e6), 0)
        status = _interrupts.call(wait, usec)
        if status != Fs.WaitStatus.INTERRUPTED:
            return status
        # A signal came: its Python handler runs here, at the jump back,
        # and raises (KeyboardInterrupt) or lets the wait go on.


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
        try:
            status = _wait(lambda usec: Fs.Thread.join(self, usec, None), timeout)
        except GLib.Error:
            return  # the target's own failure (FS_WAIT_FAILED): join() only waits
        if status == Fs.WaitStatus.NOT_STARTED:
            raise RuntimeError("cannot join thread before it is started")
        if status == Fs.WaitStatus.WOULD_DEADLOCK:
            raise RuntimeError("cannot join current thread")

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
        failure = None
        try:
            status = _wait(lambda usec: Fs.MultiThread.join(self, usec, None))
        except GLib.Error as error:
            failure = _exceptions.from_gerror(error)
        else:
            if status == Fs.WaitStatus.WOULD_DEADLOCK:
                raise RuntimeError("cannot join a group from one of its own threads")
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


class BackgroundGenerator(Fs.BackgroundGenerator):
    """Runs a generator on a background thread, items handed over through a
    bounded queue.

    ``BackgroundGenerator(generator, prefetch=1, name=None, args=None,
    kwargs=None)`` as in the original. At most ``prefetch`` items exist
    ahead of the consumer (the original allowed ``prefetch + 1``), and
    ``prefetch`` must be at least 1. Every object, ``None`` and ``"EOF"``
    too, reaches the consumer unchanged. The generator's exception is raised
    in the consumer after every item it yielded before failing.

    This is the GObject itself (``Fs.BackgroundGenerator``): main-loop code
    calls ``next_async()`` on it directly. Iterate with ``for item in bg``
    or ``bg.iterator()``; several threads may iterate at once, each item
    going to one of them. ``close()`` stops the producer and waits for it;
    dropping the object stops it without waiting.
    """

    def __new__(cls, generator, prefetch=1, name=None, args=None, kwargs=None):
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1, not %d" % prefetch)
        keeper = _Keeper()
        produce = _produce(generator, tuple(args or ()), dict(kwargs or {}), weakref.ref(keeper))
        self = Fs.BackgroundGenerator.new_for_values(
            prefetch, name or _default_name(generator, "generator"), produce)
        self._adopt(keeper)
        return self

    def __init__(self, *args, **kwargs):
        # Constructed in __new__.
        pass

    def _adopt(self, keeper):
        self.__dict__["_fs_keeper"] = keeper
        # Items taken from C whose delivery an exception cut short: served
        # first, so nothing taken is ever lost.
        self.__dict__["_fs_pending"] = []
        _live_generators.add(self)

    @classmethod
    def new_for_files(cls, files, prefetch=1):
        """A generator that reads `files` (Gio.File objects) in order on its
        own thread, in C: each item is an Fs.LoadedFile whose
        ``get_contents()`` gives the bytes as GLib.Bytes, or raises the
        file's read error in its place."""
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1, not %d" % prefetch)
        self = Fs.BackgroundGenerator.new_for_files(list(files), prefetch)
        self._adopt(_Keeper())
        return self

    @property
    def gobject(self):
        """Fs.BackgroundGenerator: the object itself (kept for 0.1 code)."""
        return self

    @property
    def name(self):
        """str: the name of the producer thread."""
        return self.get_name()

    @property
    def prefetch(self):
        """int: the most items that exist ahead of the consumer."""
        return self.get_prefetch()

    # Taking an item without a CALL bytecode: a property read runs no
    # signal handler between the C call's return and the store of its
    # result, so a Ctrl+C that lands then cannot drop the item.
    _take_now = property(functools.partial(Fs.BackgroundGenerator.next_value, timeout_usec=0, cancellable=None))
    _take_wait = property(functools.partial(Fs.BackgroundGenerator.next_value, timeout_usec=-1, cancellable=None))

    def _take(self, timeout):
        """(status, value): the next item, the end, or a timeout. Raises the
        generator's exception; KeyboardInterrupt on Ctrl+C, with nothing
        taken."""
        pending = self.__dict__.get("_fs_pending")
        if pending:
            return Fs.WaitStatus.OK, pending.pop(0)
        status, value = self._take_now
        if status != Fs.WaitStatus.TIMED_OUT or timeout == 0:
            return status, value
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            usec = -1 if deadline is None else max(int((deadline - time.monotonic()) * 1e6), 0)
            status, value = _interrupts.call(
                lambda usec: Fs.BackgroundGenerator.next_value(self, usec, None), usec)
            if status != Fs.WaitStatus.INTERRUPTED:
                return status, value
            # The signal's handler runs here, at the jump back.

    def next(self, timeout=None):
        """Takes the next item; raises StopIteration at the end (and after a
        close), the generator's exception if it failed, and TimeoutError
        after `timeout` seconds."""
        failure = None
        try:
            status, value = self._take(timeout)
        except GLib.Error as error:
            failure = _exceptions.from_gerror(error)
        if failure is not None:
            # Outside the except block, which would change __context__.
            raise failure
        if status == Fs.WaitStatus.OK:
            return value
        if status == Fs.WaitStatus.TIMED_OUT:
            raise TimeoutError("no item within %s seconds" % timeout)
        raise StopIteration

    def iterator(self):
        """Yields the items until the end of the stream.

        Nothing taken is lost to Ctrl+C: the items come out of C through
        property reads (no signal handler runs between the C call and the
        store of its result), and an exception raised before an item is
        handed on puts it back in front of the next call."""
        pending = self.__dict__["_fs_pending"]
        OK, TIMED_OUT, INTERRUPTED = (Fs.WaitStatus.OK, Fs.WaitStatus.TIMED_OUT,
                                      Fs.WaitStatus.INTERRUPTED)
        while True:
            failure = None
            status = value = None
            try:
                if pending:
                    status, value = OK, pending.pop(0)
                else:
                    status, value = self._take_now
                    while status == TIMED_OUT or status == INTERRUPTED:
                        armed = _interrupts.arm()
                        try:
                            status, value = self._take_wait
                        finally:
                            _interrupts.disarm(armed)
                        # INTERRUPTED: the signal's handler runs at the
                        # jump back, and raises, or the wait goes on.
            except GLib.Error as error:
                failure = _exceptions.from_gerror(error)
            except BaseException:
                if status == OK:
                    pending.insert(0, value)
                raise
            if failure is not None:
                raise failure
            if status != OK:
                return
            yield value
            value = None

    def __iter__(self):
        return self.iterator()

    def __next__(self):
        return self.next()

    def close(self, timeout=None):
        """Stops the producer, frees what is queued, and waits for its
        thread (at most `timeout` seconds). Returns True once the producer
        has finished."""
        self.__dict__.get("_fs_pending", []).clear()
        status = _wait(lambda usec: Fs.BackgroundGenerator.close(self, usec, None), timeout)
        return status in (Fs.WaitStatus.OK, Fs.WaitStatus.WOULD_DEADLOCK)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


BackgroundGenerator = override(BackgroundGenerator)


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
