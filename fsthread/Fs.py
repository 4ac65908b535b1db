# SPDX-License-Identifier: LGPL-2.1-or-later
"""PyGObject override for fsthread.

The classes stay the GObject types of the library (``Fs.Thread``,
``Fs.MultiThread``, ``Fs.BackgroundGenerator``, ``Fs.ErrorState``) and add
the Python side: constructors that take Python callables, exceptions that
come back as themselves, iteration, waits that Ctrl+C interrupts, threads
that the ``threading`` module knows by their names, and an interpreter exit
that behaves as ``threading``'s does.

Code written for faceswap's ``lib.multithreading`` uses the drop-in module
``fsthread.multithreading`` instead, built on these classes.
"""

import atexit
import collections
import functools
import itertools
import logging
import operator
import os
import signal
import threading
import time
import weakref

from gi import _gi
from gi.repository import GLib, GObject

from ..module import get_introspection_module
from ..overrides import override

Fs = get_introspection_module("Fs")

__all__ = []

_logger = logging.getLogger("fsthread")

_WAIT = Fs.WaitStatus
_FAILED = _WAIT.FAILED
_OK = _WAIT.OK
_END = _WAIT.END
_TIMED_OUT = _WAIT.TIMED_OUT
_CANCELLED = _WAIT.CANCELLED
_CLOSED = _WAIT.CLOSED
_INTERRUPTED = _WAIT.INTERRUPTED
_WOULD_DEADLOCK = _WAIT.WOULD_DEADLOCK
_NOT_STARTED = _WAIT.NOT_STARTED


# ---------------------------------------------------------------------------
# Exceptions through C, by identity.
#
# A Python exception raised in a target or generator becomes a GError of the
# domain below whose code names it. The exception is kept by holders: the
# object whose thread raised it (until that object's next run, or its end),
# the error state it was set on (until clear()), and the process-wide
# default state (bounded, as the C state is). When C hands the GError back,
# the code finds the same exception object, raised again with the traceback
# it had when it was caught.

_PY_DOMAIN = "fs-python-exception-quark"
_codes = itertools.count(1)


class _Holder(dict):
    """code -> (exception, traceback): what one object keeps alive."""

    __slots__ = ("__weakref__",)


# Every living holder, for a GError that reaches another object than the
# one that raised it (a state's error set into another state, say).
_holders = weakref.WeakValueDictionary()
_holder_keys = itertools.count()


def _new_holder():
    holder = _Holder()
    _holders[next(_holder_keys)] = holder
    return holder


def _holder_of(obj):
    """The holder of a wrapper (made when first needed: a wrapper that C
    made, such as the default error state, has none yet)."""
    holder = obj.__dict__.get("_fs_holder")
    if holder is None:
        holder = obj.__dict__.setdefault("_fs_holder", _new_holder())
    return holder


def _text(exc):
    """str(exc) as valid UTF-8, whatever str() does: raises, or gives lone
    surrogates (os.fsdecode() makes those)."""
    try:
        text = str(exc)
    except Exception:  # noqa: B902: a broken __str__ is the exception's own
        text = "<str() of the exception failed>"
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _describe(exc):
    """'Type: message', for the message of a GError."""
    text = _text(exc)
    return type(exc).__name__ + (": " + text if text else "")


# The code objects of this module's own frames that run a target: they are
# cut from the front of a captured traceback, which would otherwise keep the
# thread object (their `self`) alive as long as the exception.
_internal_code = set()


def _internal(function):
    _internal_code.add(function.__code__)
    return function


def _trim(exc):
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code in _internal_code:
        tb = tb.tb_next
    exc.__traceback__ = tb
    return tb


def _to_gerror(exc, holders):
    """The GLib.Error that carries `exc` through C. A GLib.Error goes
    through as itself, its domain and code intact (C prefixes its message
    with the thread's name); any other exception as a code of its own."""
    kept = (exc, _trim(exc))
    if isinstance(exc, GLib.Error):
        key = (exc.domain, exc.code, exc.message)
        for holder in holders:
            holder[key] = kept
        return exc
    code = next(_codes) & 0x7FFFFFFF or next(_codes)
    for holder in holders:
        holder[code] = kept
    return GLib.Error(_describe(exc), _PY_DOMAIN, code)


def _kept_glib_error(holder, domain, code, message):
    for key, kept in list(holder.items()):
        if (type(key) is tuple and key[0] == domain and key[1] == code
                and (message == key[2] or message.endswith("): " + key[2]))):
            return kept
    return None


def _kept(error, holder=None):
    """(exception, traceback) for a GLib.Error from C: the Python exception
    it stands for (a GLib.Error raised in Python too), or the GLib.Error
    itself."""
    domain = getattr(error, "domain", None)
    if domain == _PY_DOMAIN:
        code = error.code
        if holder is not None:
            kept = holder.get(code)
            if kept is not None:
                return kept
        for other in list(_holders.values()):
            kept = other.get(code)
            if kept is not None:
                return kept
    elif domain is not None:
        args = (domain, error.code, error.message)
        kept = _kept_glib_error(holder, *args) if holder is not None else None
        if kept is None:
            for other in list(_holders.values()):
                kept = _kept_glib_error(other, *args)
                if kept is not None:
                    break
        if kept is not None:
            return kept
    return error, error.__traceback__


def _exc_info(error, holder=None):
    exc, tb = _kept(error, holder)
    return type(exc), exc, tb


def _raise_kept(error, holder=None):
    exc, tb = _kept(error, holder)
    raise exc.with_traceback(tb)


# ---------------------------------------------------------------------------
# Ctrl+C during a wait.
#
# Python runs signal handlers on the main thread between bytecodes; a wait in
# C must be woken for it. On the main thread, a wait that would block installs
# a pipe as Python's signal wake-up descriptor and gives its read end to C as
# the thread's interrupt descriptor: a signal makes the wait return
# FS_WAIT_INTERRUPTED at once, having taken nothing, and the handler runs
# next (a KeyboardInterrupt is raised from the call). Bytes drained from the
# pipe go on to the wake-up descriptor that was installed before.
#
# The descriptors are swapped through properties of an int: reading an
# attribute runs no signal handler between the C call and the store of its
# result, so the previous descriptor is never lost to a KeyboardInterrupt.

_next_value = Fs.BackgroundGenerator.next_value
_gvalue_set = _gi._gvalue_set


class _Fd(int):
    __slots__ = ()
    # self is the write end / the read end.
    install = property(functools.partial(signal.set_wakeup_fd, warn_on_full_buffer=False))
    interrupt = property(Fs.wait_set_interrupt_fd)


class _Wakeup:
    pid = None
    read = write = None
    main = None


_wakeup = _Wakeup()


def _wakeup_pipe():
    """(read end, write end), made once per process."""
    if _wakeup.pid != os.getpid():
        read, write = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        _wakeup.read, _wakeup.write = _Fd(read), _Fd(write)
        _wakeup.main = threading.main_thread().ident
        _wakeup.pid = os.getpid()
    return _wakeup.read, _wakeup.write


def _on_main_thread():
    _wakeup_pipe()
    return threading.get_ident() == _wakeup.main


def _restore_wakeup(previous):
    """Puts the previous wake-up descriptor back and forwards to it what a
    signal wrote meanwhile."""
    read = _wakeup.read
    try:
        signal.set_wakeup_fd(previous)
    finally:
        while True:
            try:
                data = os.read(read, 512)
            except (BlockingIOError, InterruptedError):
                break
            if not data:
                break
            if previous != -1:
                try:
                    os.write(previous, data)
                except OSError:
                    pass


def _deadline(timeout):
    """None for no limit, else the monotonic time at which to stop."""
    if timeout is None:
        return None
    return time.monotonic() + max(float(timeout), 0.0)


def _usec_left(deadline):
    if deadline is None:
        return -1
    return max(int((deadline - time.monotonic()) * 1e6), 0)


def _usec(timeout):
    if timeout is None:
        return -1
    return max(int(float(timeout) * 1e6), 0)


def _wait(call, timeout=None):
    """Runs call(timeout_usec) -> FsWaitStatus until it returns something
    but FS_WAIT_INTERRUPTED; Ctrl+C on the main thread raises
    KeyboardInterrupt from here within a moment. A GLib.Error of the call
    (FS_WAIT_FAILED) propagates."""
    status = call(0)
    if status != _TIMED_OUT or timeout == 0:
        return status
    if not _on_main_thread():
        return call(_usec(timeout))
    deadline = _deadline(timeout)
    while True:
        read, write = _wakeup.read, _wakeup.write
        try:
            previous = write.install
        except ValueError:  # not the main interpreter: no wake-up descriptor
            return call(_usec_left(deadline))
        try:
            interrupt = read.interrupt
            try:
                status = call(_usec_left(deadline))
            finally:
                Fs.wait_set_interrupt_fd(interrupt)
        finally:
            _restore_wakeup(previous)
        if status != _INTERRUPTED:
            return status
        # The pending handler runs at the next bytecode that checks for it
        # (the loop's jump back, or the clock read): a KeyboardInterrupt
        # leaves from there. A handler that returns lets the wait go on.
        if deadline is not None and time.monotonic() >= deadline:
            return _TIMED_OUT


# ---------------------------------------------------------------------------
# Threads that Python knows: while Python code of fsthread runs on a thread
# of the library, threading.current_thread() is an object with the fsthread
# name (logging's %(threadName)s prints it), removed when the run ends.

_active = getattr(threading, "_active", None)
_active_lock = getattr(threading, "_active_limbo_lock", None)
_DummyThread = getattr(threading, "_DummyThread", None)
_started_event = threading.Event()
_started_event.set()


if _DummyThread is not None:

    class _NamedThread(_DummyThread):
        """A library thread as threading sees it while it runs Python code.
        Cheaper than a _DummyThread: it is made for every run."""

        def __init__(self, name):  # noqa: no Thread.__init__, on purpose
            self._name = name
            self._daemonic = True
            self._ident = threading.get_ident()
            self._native_id = threading.get_native_id()
            self._started = _started_event
            self._is_stopped = False
            self._initialized = True
            self._tstate_lock = None
            self._target = None
            self._args = ()
            self._kwargs = {}
            self._stderr = None
            self._invoke_excepthook = None

        def _stop(self):
            pass


def _enter(name, thread=None):
    """Makes the calling library thread known to threading, as `thread` (a
    threading.Thread of the caller's) or as a thread called `name`.
    Returns what _leave() needs."""
    ident = threading.get_ident()
    if _active is None or _active_lock is None or _DummyThread is None:
        current = threading.current_thread()
        try:
            current.name = name
        except Exception:  # noqa: B902: a future threading may refuse it
            pass
        return None
    if thread is None:
        thread = _NamedThread(name)
    else:
        thread._ident = ident
        thread._native_id = threading.get_native_id()
    with _active_lock:
        _active[ident] = thread
    return ident, thread


def _leave(token):
    if token is None:
        return
    ident, thread = token
    with _active_lock:
        if _active.get(ident) is thread:
            del _active[ident]


# ---------------------------------------------------------------------------
# Failures of Python code on library threads.

# The process-wide state, wrapped once the override exists (below).
_default_state = None


def _prune(state, holder):
    """Keeps a bounded state's holder bounded as the C state is: what C
    still holds, and the newest ones (on their way into C)."""
    bound = state.get_max_errors()
    if not bound or len(holder) <= 2 * bound:
        return
    errors = state.dup_errors()
    keep = {e.code for e in errors if e.domain == _PY_DOMAIN}
    keep.update(sorted(code for code in holder if type(code) is int)[-bound:])
    glib_errors = [(e.domain, e.code, e.message) for e in errors if e.domain != _PY_DOMAIN]
    for key in list(holder):
        if type(key) is tuple:
            if not any(d == key[0] and c == key[1] and (m == key[2] or m.endswith("): " + key[2]))
                       for d, c, m in glib_errors):
                holder.pop(key, None)
        elif key not in keep:
            holder.pop(key, None)


def _failure(exc, name, holders, log_level):
    """The GLib.Error that carries `exc` to C, recorded for the default
    state too; logged once, as the original did, when log_level is set."""
    default_holder = _holder_of(_default_state)
    error = _to_gerror(exc, holders + (default_holder,))
    _prune(_default_state, default_holder)
    if log_level is not None:
        _logger.log(log_level, "Error in thread (%s): %s(%s)", name, type(exc).__name__,
                    _text(exc))
    return error


def _default_name(target, fallback):
    return getattr(target, "__name__", None) or fallback


# Non-daemon threads, waited for at exit (see the end of this file).
_nondaemon = set()


def total_cpus():
    """The number of CPUs this process may use (affinity and cgroup quota).

    Returns:
        int: at least 1
    """
    return Fs.total_cpus()


__all__.append("total_cpus")


# ---------------------------------------------------------------------------

class ErrorState(Fs.ErrorState):
    """Errors collected from many threads, re-raised by one.

    ``set`` takes an ``exc_info`` tuple as the original did, or an
    exception, or a ``GLib.Error``; ``re_raise`` raises the first one again,
    the same object with its traceback. ``errors`` lists them as ``exc_info``
    tuples. ``max_errors`` bounds what the state keeps (0: no bound).
    """

    def __init__(self, max_errors=0):
        super().__init__(max_errors=max_errors)

    has_error = property(Fs.ErrorState.get_has_error,
                         doc="bool: whether an error was recorded and not cleared")

    def set(self, exc_info):
        """Records an error: an exc_info tuple, an exception or a GLib.Error."""
        error = exc_info[1] if isinstance(exc_info, tuple) else exc_info
        if not isinstance(error, GLib.Error):
            if not isinstance(error, BaseException):
                raise TypeError("ErrorState.set() takes an exception or exc_info, not %r"
                                % (exc_info,))
            holder = _holder_of(self)
            error = _to_gerror(error, (holder,))
            _prune(self, holder)
        Fs.ErrorState.set(self, error)

    @property
    def errors(self):
        """list: the errors, first first, as (type, value, traceback)."""
        holder = _holder_of(self)
        return [_exc_info(e, holder) for e in self.dup_errors()]

    def re_raise(self):
        """Raises the first error again, if there is one."""
        try:
            Fs.ErrorState.re_raise(self)
        except GLib.Error as error:
            failure = error
        else:
            return
        # Outside the except block, which would replace __context__.
        _raise_kept(failure, _holder_of(self))

    def clear(self):
        """Removes every error, and frees the exceptions."""
        Fs.ErrorState.clear(self)
        _holder_of(self).clear()


ErrorState = override(ErrorState)
__all__.append("ErrorState")

# Its wrapper is of the override's class only when made after it.
_default_state = Fs.ErrorState.get_default()


# ---------------------------------------------------------------------------

# The C target of every Fs.Thread made from Python: the wrapper, which C
# keeps alive while it runs, holds the Python target (so no cycle runs
# through C). A C-level callable: no Python frame of the library holds the
# thread object while the target runs (a traceback would keep that frame).
_thread_target = operator.methodcaller("_fs_execute")


class Thread(Fs.Thread):
    """A thread whose exception is raised again in the caller.

    ``Fs.Thread(target=None, name=None, args=(), kwargs=None, daemon=None)``
    as ``threading.Thread``: ``start()``, ``join(timeout=None)``, which only
    waits, ``is_alive()``, ``name``, ``daemon``. What the target raised, any
    exception but SystemExit (which ends a thread quietly, as in
    ``threading``), is raised again, the same object, by
    ``check_and_raise_error()``. A thread that is not a daemon is waited for
    when the interpreter exits.

    A subclass may override ``do_run(self)`` instead of giving a target; its
    exception is captured the same way. A thread can be started again once
    joined.
    """

    # Logging of failures through `logging` (None: not logged).
    _fs_log_level = None

    # For subclasses (the drop-in's FSThread): marks a method that runs the
    # work as the library's own, cut from captured tracebacks.
    _fs_internal = staticmethod(_internal)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A do_run of a subclass becomes the run virtual method of its
        # GType: wrapped so that its exception comes back as itself.
        run = cls.__dict__.get("do_run")
        if run is not None and not isinstance(run, operator.methodcaller):
            cls.do_run = operator.methodcaller("_fs_execute", run)

    def __new__(cls, *args, **kwargs):
        if cls.__gtype__ == Fs.Thread.__gtype__:
            # This class, or a Python view of it: a thread with a C target.
            return cls._fs_new(*args, **kwargs)
        # A subclass with a GType of its own (its constructor's arguments
        # are its own): built by GObject in __init__.
        return GObject.Object.__new__(cls)

    @classmethod
    def _fs_new(cls, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        self = Fs.Thread.new(name or _default_name(target, "thread"), _thread_target)
        if type(self) is not cls:
            self.__class__ = cls
        return self

    def __init__(self, target=None, name=None, args=(), kwargs=None, *, daemon=None):
        if self.__gtype__ != Fs.Thread.__gtype__ and "_fs_holder" not in self.__dict__:
            GObject.Object.__init__(self, name=name or _default_name(target, type(self).__name__))
        self._fs_setup(target, args, kwargs, daemon)

    def _fs_setup(self, target, args, kwargs, daemon):
        d = self.__dict__
        d["_fs_holder"] = _new_holder()
        d["_fs_target"] = target
        d["_fs_args"] = tuple(args)
        d["_fs_kwargs"] = dict(kwargs or {})
        d["_fs_daemon"] = bool(daemon)

    # -- on the thread ----------------------------------------------------

    def _fs_execute(self, run=None):
        """Runs the work with the GIL on the new thread; returns True or
        raises the GLib.Error that carries the exception to C.

        While the work runs, this frame holds the thread only in `me`,
        emptied before the frame ends: a traceback that keeps the frame
        does not keep the thread."""
        failure = None
        me = [self]
        token = _enter(self.get_name(), self._fs_python_thread())
        vfunc = run is not None
        if vfunc:
            args, kwargs = (self,), {}
        else:
            d = self.__dict__
            run = d.get("_fs_target")
            args, kwargs = d.get("_fs_args", ()), d.get("_fs_kwargs", {})
            del d
        del self
        try:
            try:
                if run is not None and run(*args, **kwargs) is False and vfunc:
                    failure = GLib.Error("do_run() returned False", _PY_DOMAIN, 0)
            except SystemExit:
                pass
            except BaseException as exc:  # noqa: B902: every failure is reported
                failure = me[0]._fs_fail(exc)
            del run, args, kwargs
            # An exception that run() caught and kept (the drop-in's
            # FSThread), reported while the thread still has its name.
            pending = me[0].__dict__.pop("_fs_pending", None)
            if failure is None and pending is not None:
                failure = me[0]._fs_fail(pending)
            del pending
        finally:
            _leave(token)
            me.pop()._fs_finished()
        if failure is not None:
            raise failure
        return True

    def _fs_fail(self, exc):
        return _failure(exc, self.get_name(), (self._fs_holder,), self._fs_log_level)

    def _fs_python_thread(self):
        return None

    def _fs_finished(self):
        _nondaemon.discard(self)

    # -- the caller's side ------------------------------------------------

    @property
    def name(self):
        """str: the thread's name."""
        return self.get_name()

    @property
    def daemon(self):
        """bool: whether the interpreter exits without waiting for it."""
        return self.__dict__.get("_fs_daemon", False)

    @daemon.setter
    def daemon(self, value):
        if self.is_alive():
            raise RuntimeError("cannot set daemon status of active thread")
        self.__dict__["_fs_daemon"] = bool(value)

    has_error = property(Fs.Thread.get_has_error, doc="bool: whether the run failed")

    def start(self):
        """Starts a run on a new thread: the first, or one after a join.
        Refused with FS_ERROR_BUSY while running or not yet joined."""
        d = self.__dict__
        previous = d.get("_fs_holder")
        if not self.is_alive():
            # The new run's exceptions; the last run's go with its holder.
            d["_fs_holder"] = _new_holder()
        if not self.daemon:
            _nondaemon.add(self)
        try:
            Fs.Thread.start(self)
        except BaseException:
            if not self.is_alive():
                d["_fs_holder"] = previous
                _nondaemon.discard(self)
            raise

    def join(self, timeout=None):
        """Waits until the run ends, or `timeout` seconds. Never raises the
        run's error: see check_and_raise_error(). Ctrl+C interrupts it."""
        try:
            status = _wait(functools.partial(Fs.Thread.join, self, cancellable=None), timeout)
        except GLib.Error:
            return  # the run's own failure: join() only waits
        if status == _NOT_STARTED:
            raise RuntimeError("cannot join thread before it is started")
        if status == _WOULD_DEADLOCK:
            raise RuntimeError("cannot join current thread")

    def check_and_raise_error(self):
        """Raises this thread's error, if its run failed."""
        try:
            Fs.Thread.check_and_raise_error(self)
        except GLib.Error as error:
            failure = error
        else:
            return
        _raise_kept(failure, self.__dict__.get("_fs_holder"))

    def join_finish(self, result):
        """Completes join_async(): the FsWaitStatus, or the run's exception,
        raised as itself."""
        try:
            return Fs.Thread.join_finish(self, result)
        except GLib.Error as error:
            failure = error
        _raise_kept(failure, self.__dict__.get("_fs_holder"))

    @property
    def errors(self):
        """list: this thread's error as (type, value, traceback), in a list
        (empty on success)."""
        holder = self.__dict__.get("_fs_holder")
        return [_exc_info(e, holder) for e in self.get_error_state().dup_errors()]


_internal(Thread._fs_execute)

Thread = override(Thread)
__all__.append("Thread")


# ---------------------------------------------------------------------------

class _GroupRun:
    """What a group's C target reaches: the work of the current run, set
    by start() and dropped when the last thread of the run ends, so that
    the target (a bound method, say) holds nothing through C once the
    group is idle."""

    __slots__ = ("work", "left", "lock", "log_level")

    def __init__(self):
        self.work = None
        self.left = 0
        self.lock = threading.Lock()
        self.log_level = None


def _group_target(run):
    def target(member, *_ignored):
        work = run.work
        if work is None:
            return True
        function, args, kwargs, holder = work
        del work
        name = member.get_name()
        failure = None
        token = _enter(name)
        try:
            function(*args, **kwargs)
        except SystemExit:
            pass
        except BaseException as exc:  # noqa: B902: every failure is reported
            failure = _failure(exc, name, (holder,), run.log_level)
        finally:
            _leave(token)
            del function, args, kwargs
            with run.lock:
                run.left -= 1
                if run.left <= 0:
                    run.work = None
        if failure is not None:
            raise failure
        return True

    _internal(target)
    return target


class MultiThread(Fs.MultiThread):
    """N threads running one target, started, joined and checked together.

    ``MultiThread(target, *args, thread_count=1, name=None, **kwargs)`` as
    in the original. ``join()`` joins every thread, also after one failed,
    then raises the group's first error; ``errors`` lists all of them. The
    threads are daemons: they never hold the interpreter's exit. In a target,
    ``Fs.Thread.get_current().get_index()`` tells which thread it is.
    """

    _fs_log_level = None

    def __new__(cls, target, *args, thread_count=1, name=None, **kwargs):
        if thread_count < 1:
            raise ValueError("thread_count must be at least 1, not %d" % thread_count)
        run = _GroupRun()
        run.log_level = cls._fs_log_level
        self = Fs.MultiThread.new(name or _default_name(target, "work"), thread_count,
                                  _group_target(run))
        if type(self) is not cls:
            self.__class__ = cls
        d = self.__dict__
        d["_fs_run"] = run
        d["_fs_holder"] = _new_holder()
        d["_fs_target"] = target
        d["_fs_args"] = args
        d["_fs_kwargs"] = kwargs
        return self

    def __init__(self, *args, **kwargs):
        pass  # built in __new__

    @property
    def name(self):
        """str: the group's name."""
        return self.get_name()

    daemon = True  # as the original's: its threads never hold the exit

    has_error = property(Fs.MultiThread.get_has_error,
                         doc="bool: whether a thread of the current run failed")

    @property
    def errors(self):
        """list: the errors of the run's threads, first failure first, as
        (type, value, traceback)."""
        holder = self.__dict__.get("_fs_holder")
        return [_exc_info(e, holder) for e in self.dup_errors()]

    def start(self):
        """Starts every thread of the group: the first run, or one after a
        join (with no errors)."""
        run = self._fs_run
        d = self.__dict__
        holder = d["_fs_holder"]
        with run.lock:
            idle = run.work is None
            if idle:
                holder = _new_holder()  # the new run's exceptions
                run.work = (self._fs_target, self._fs_args, self._fs_kwargs, holder)
                run.left = self.get_thread_count()
        try:
            Fs.MultiThread.start(self)
        except BaseException:
            # Refused (busy), or a thread could not be created: then C has
            # joined whatever it started of this run.
            if idle:
                with run.lock:
                    run.work, run.left = None, 0
            raise
        d["_fs_holder"] = holder

    def join(self, timeout=None):
        """Joins every thread, then raises the group's first error, if
        any. With a timeout, returns False when it passed first (True
        otherwise). Ctrl+C interrupts it."""
        try:
            status = _wait(functools.partial(Fs.MultiThread.join, self, cancellable=None),
                           timeout)
        except GLib.Error as error:
            failure = error
        else:
            if status == _WOULD_DEADLOCK:
                raise RuntimeError("cannot join a group from one of its own threads")
            return status != _TIMED_OUT
        _raise_kept(failure, self.__dict__.get("_fs_holder"))

    def join_finish(self, result):
        """Completes join_async(): the FsWaitStatus, or the group's first
        exception, raised as itself."""
        try:
            return Fs.MultiThread.join_finish(self, result)
        except GLib.Error as error:
            failure = error
        _raise_kept(failure, self.__dict__.get("_fs_holder"))

    def check_and_raise_error(self):
        """Raises the group's first error, if any."""
        try:
            Fs.MultiThread.check_and_raise_error(self)
        except GLib.Error as error:
            failure = error
        else:
            return
        _raise_kept(failure, self.__dict__.get("_fs_holder"))


MultiThread = override(MultiThread)
__all__.append("MultiThread")


# ---------------------------------------------------------------------------

class _Feed:
    """The Python side of a generator's stream, owned by the
    BackgroundGenerator's wrapper. The producer thread only holds a weak
    reference to it while it waits to hand an item over, so that an owner
    that holds the stream (``self.feed = BackgroundGenerator(self.produce)``)
    is a cycle Python's collector sees, and collects."""

    __slots__ = ("generator", "args", "kwargs", "iterator", "holder", "log_level",
                 "__weakref__")


def _producer(feed_ref):
    """The C generator function: runs the Python generator on the producer
    thread and yields each item, the object itself, into the stream."""

    def produce(sink, *_ignored):
        feed = feed_ref()
        if feed is None:
            return True
        holder, log_level = feed.holder, feed.log_level
        name = Fs.Thread.get_current().get_name()
        value = failure = None
        token = _enter(name)
        try:
            try:
                feed.iterator = iter(feed.generator(*feed.args, **feed.kwargs))
                feed.generator = feed.args = feed.kwargs = None
                del feed
                # One GValue for every item: yield_value() copies it. Set
                # through _gi directly: GObject.Value.set_value() goes
                # through a chain of type tests first.
                value = GObject.Value(GObject.TYPE_PYOBJECT)
                set_item = functools.partial(_gvalue_set, value)
                yield_value = sink.yield_value
                while True:
                    # Nothing of the feed is held while yield_value() waits.
                    feed = feed_ref()
                    if feed is None:
                        break
                    iterator = feed.iterator
                    del feed
                    for item in iterator:
                        break
                    else:
                        break
                    del iterator
                    set_item(item)
                    del item
                    try:
                        yield_value(value)
                    except GLib.Error:
                        break  # the consumer closed the stream: the end
            except BaseException as exc:  # noqa: B902: every failure is reported
                failure = _failure(exc, name, (holder,), log_level)
        finally:
            _leave(token)
            if value is not None:
                value.unset()
            feed = feed_ref()
            iterator = feed.iterator if feed is not None else None
            if feed is not None:
                feed.iterator = None
            del feed
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        if failure is not None:
            raise failure
        return True

    _internal(produce)
    return produce


class BackgroundGenerator(Fs.BackgroundGenerator):
    """Runs a generator on a background thread, items handed over through a
    bounded queue.

    ``BackgroundGenerator(generator, prefetch=1, name=None, args=None,
    kwargs=None)`` as in the original. It is the ``Fs.BackgroundGenerator``
    GObject itself: ``get_thread()``, ``next_async()`` and the other C
    methods are its own.

    At most ``prefetch`` items exist ahead of the consumer (the original
    allowed ``prefetch + 1``), and ``prefetch`` must be at least 1. Every
    object, ``None`` and ``"EOF"`` too, reaches the consumer unchanged. The
    generator's exception is raised in the consumer after every item it
    yielded before failing, the same object.

    Iterate with ``for item in bg``, ``next(bg)`` or ``bg.iterator()``.
    Several threads may iterate at once; each item goes to one of them.
    ``close()`` stops the producer and waits for it; dropping the object
    stops it without waiting. Ctrl+C interrupts a wait for an item and loses
    none: an interrupted ``for`` loop, run again, gets every item once.
    """

    _fs_log_level = None

    def __new__(cls, generator, prefetch=1, name=None, args=None, kwargs=None):
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1, not %d" % prefetch)
        feed = _Feed()
        feed.generator = generator
        feed.args = tuple(args or ())
        feed.kwargs = dict(kwargs or {})
        feed.iterator = None
        feed.holder = _new_holder()
        feed.log_level = cls._fs_log_level
        self = Fs.BackgroundGenerator.new_for_values(
            prefetch, name or _default_name(generator, "generator"), _producer(weakref.ref(feed)))
        if type(self) is not cls:
            self.__class__ = cls
        self._fs_setup(feed)
        return self

    def __init__(self, *args, **kwargs):
        pass  # built in __new__

    def _fs_setup(self, feed=None):
        d = self.__dict__
        d["_fs_feed"] = feed
        d["_fs_holder"] = feed.holder if feed is not None else _new_holder()
        d["_fs_pushback"] = collections.deque()

    @classmethod
    def new_for_files(cls, files, prefetch=1):
        """A stream that reads `files` (Gio.File objects) in order on its own
        thread, in C: each item is an Fs.LoadedFile whose
        ``get_contents()`` gives the bytes as GLib.Bytes, or raises the
        file's read error in its place."""
        if prefetch < 1:
            raise ValueError("prefetch must be at least 1, not %d" % prefetch)
        self = Fs.BackgroundGenerator.new_for_files(list(files), prefetch)
        if type(self) is not cls:
            self.__class__ = cls
        self._fs_setup()
        return self

    @property
    def gobject(self):
        """Fs.BackgroundGenerator: the object itself (kept for code written
        for fsthread 0.1)."""
        return self

    @property
    def name(self):
        """str: the name of the producer thread."""
        return self.get_name()

    @property
    def prefetch(self):
        """int: the most items that exist ahead of the consumer."""
        return self.get_prefetch()

    # The take that is ready at once, read as an attribute: between the C
    # call and the store of its result no signal handler runs, so a
    # KeyboardInterrupt cannot lose the item. (A method called positionally:
    # PyGObject's keyword arguments cost a microsecond.)
    _fs_take_now = property(operator.methodcaller("next_value", 0, None))

    # Items taken whose delivery an exception (a KeyboardInterrupt) cut, and
    # an item a blocking wait took: served first. A deque per object once a
    # wait needed one; this empty default costs the fast path nothing.
    _fs_pushback = ()

    def next(self, timeout=None):
        """Takes the next item; raises StopIteration at the end (or once the
        stream is closed), the generator's exception if it failed, and
        TimeoutError when `timeout` seconds pass first."""
        while True:
            pushback = self._fs_pushback
            if not pushback:
                try:
                    got = self._fs_take_now
                except GLib.Error as error:
                    got = error
                else:
                    if got[0] == _OK:
                        return got[1]
                # Waits; raises, or leaves the item it took in the pushback.
                self._fs_wait(got, timeout)
                pushback = self._fs_pushback
            try:
                # The item goes from the deque to the caller through
                # FOR_ITER: no signal handler runs between.
                for item in iter(pushback.popleft, pushback):
                    return item
            except IndexError:
                continue  # another consumer took it first

    def _fs_wait(self, got, timeout):
        """The slow path of next(): `got` is what the take that is ready at
        once gave. Raises StopIteration, TimeoutError or the generator's
        exception, or returns with the item it waited for at the end of the
        pushback."""
        d = self.__dict__
        pushback = d.get("_fs_pushback")
        if pushback is None:
            pushback = d.setdefault("_fs_pushback", collections.deque())
        failure = None
        if isinstance(got, GLib.Error):
            failure, got = got, None
        elif got[0] == _TIMED_OUT and timeout != 0:
            got = None
            try:
                try:
                    deadline = _deadline(timeout)
                    if not _on_main_thread():
                        for got in iter(functools.partial(_next_value, self,
                                                          _usec_left(deadline), None), None):
                            break
                    else:
                        read, write = _wakeup.read, _wakeup.write
                        while True:
                            take = iter(functools.partial(_next_value, self,
                                                          _usec_left(deadline), None), None)
                            previous = write.install
                            try:
                                interrupt = read.interrupt
                                try:
                                    for got in take:
                                        break
                                finally:
                                    Fs.wait_set_interrupt_fd(interrupt)
                            finally:
                                _restore_wakeup(previous)
                            if got[0] != _INTERRUPTED:
                                break
                            got = None
                            # A pending handler runs here (a KeyboardInterrupt
                            # leaves with nothing taken); one that returns lets
                            # the wait go on.
                            if deadline is not None and time.monotonic() >= deadline:
                                got = (_TIMED_OUT, None)
                                break
                except GLib.Error as error:
                    failure = error
            except BaseException:
                if got is not None and got[0] == _OK:
                    pushback.appendleft(got[1])
                raise
        if failure is not None:
            _raise_kept(failure, d.get("_fs_holder"))
        if got[0] == _OK:
            pushback.append(got[1])
            return
        if got[0] == _TIMED_OUT:
            raise TimeoutError("no item within %s seconds" % timeout)
        raise StopIteration

    __next__ = next

    def __iter__(self):
        return self

    def iterator(self):
        """The items until the end of the stream: the stream itself, an
        iterator (kept from the original's API)."""
        return self

    def next_finish(self, result):
        """Completes next_async(): the item, or None when there is none
        (next_finish_full() tells a None item from the end); the
        generator's exception is raised as itself."""
        try:
            return Fs.BackgroundGenerator.next_finish(self, result)
        except GLib.Error as error:
            failure = error
        _raise_kept(failure, self.__dict__.get("_fs_holder"))

    def next_finish_full(self, result):
        """Completes next_async(): (item, FsWaitStatus), the item None when
        the status is not OK; the generator's exception is raised as
        itself."""
        try:
            return Fs.BackgroundGenerator.next_finish_full(self, result)
        except GLib.Error as error:
            failure = error
        _raise_kept(failure, self.__dict__.get("_fs_holder"))

    def close(self, timeout=None):
        """Stops the producer (at its next yield), frees what is queued, and
        waits for it, at most `timeout` seconds. Returns True once the
        producer has finished. Ctrl+C interrupts the wait; the stream is
        closed all the same."""
        status = _wait(functools.partial(Fs.BackgroundGenerator.close, self, cancellable=None),
                       timeout)
        if status == _WOULD_DEADLOCK:
            raise RuntimeError("cannot close a stream from its own producer and wait for it")
        return status == _OK

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


BackgroundGenerator = override(BackgroundGenerator)
__all__.append("BackgroundGenerator")


# ---------------------------------------------------------------------------
# The map: a Python function over an iterable on N library threads.
#
# The workers run Python loops on the threads of an Fs.MultiThread: each
# reads the next item from the iterable (one reader at a time, in order),
# runs the function on it without any lock, and places the result in the
# window. Whichever worker finds the result at the head ready delivers the
# run of ready results into the stream itself, so a result crosses from a
# worker to the consumer with one handoff, and no call into Python is made
# per item from C. The stream's producer, the driver, only starts the
# workers, waits for them and ends the stream with the failure, if any.
#
# The bound: the stream's queue holds `capacity` results, and a worker
# reads an item only while fewer than `window` items read are not yet
# delivered; capacity + window = prefetch + thread_count.
#
# Lock order: the reading lock, then the window's condition. Neither is
# held while the function runs or a result is pushed; the condition is not
# held while the iterable is read.

class _MapFeed:
    """What a map's workers reach through a weak reference: the function,
    owned by the map's wrapper, so that a function that holds the map (a
    bound method of its owner) makes a cycle Python's collector sees."""

    __slots__ = ("function", "holder", "__weakref__")


class _Failed:
    """A failure in the window, in the place of the item that failed."""

    __slots__ = ("error",)

    def __init__(self, error):
        self.error = error


class _MapRun:
    """The state a map's threads share; everything below `cond` is under
    it, except `iterator`, which is under `reading`."""

    __slots__ = ("feed_ref", "log_level", "ordered", "window", "reading", "iterator",
                 "cond", "read", "delivered", "head", "results", "ready", "stop_at",
                 "stopped", "delivering", "failure", "sink")

    def __init__(self, feed_ref, iterable, ordered, window, log_level):
        self.feed_ref = feed_ref
        self.log_level = log_level
        self.ordered = ordered
        self.window = window
        self.reading = threading.Lock()
        self.iterator = iter(iterable)
        # Reentrant: the cancel handler may run on a worker that holds it
        # (the collector can drop the stream anywhere).
        self.cond = threading.Condition(threading.RLock())
        self.read = 0          # items read from the iterable
        self.delivered = 0     # results pushed into the stream
        self.head = 0          # ordered: the index delivered next
        self.results = {}      # ordered: index -> result or _Failed
        self.ready = []        # unordered: results as they finished
        self.stop_at = None    # no item at or after this index is read
        self.stopped = False   # closed, failed or ended: no more work
        self.delivering = False
        self.failure = None    # the GLib.Error the stream ends with
        self.sink = None

    def stop(self, *_ignored):
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


def _map_take(run):
    """Reads the next item as (index, item), or returns None once no more
    may be read. A failure of the iterable takes the item's place. `read`
    changes only under `reading`."""
    with run.reading:
        index = run.read
        # Without the condition first: `delivered` only grows, so a stale
        # look can only make the worker wait for a fresh one.
        if run.stopped or run.stop_at is not None or index - run.delivered >= run.window:
            cond = run.cond
            with cond:
                while (not run.stopped and run.stop_at is None and
                       index - run.delivered >= run.window):
                    cond.wait()
                if run.stopped or run.stop_at is not None:
                    return None
        try:
            for item in run.iterator:
                break
            else:
                with run.cond:
                    run.stop_at = index
                return None
        except BaseException as exc:  # noqa: B902: every failure is reported
            name = Fs.Thread.get_current().get_name()
            item = _Failed(_failure(exc, name, (_map_holder(run),), run.log_level))
            with run.cond:
                run.stop_at = index + 1
        run.read = index + 1
    return index, item


def _map_holder(run):
    feed = run.feed_ref()
    return feed.holder if feed is not None else _new_holder()


def _map_place(run, index, result):
    """Places a result (or _Failed) in the window; returns the results this
    worker is to deliver now, or None. Under run.cond."""
    if run.stopped:
        return None
    if run.ordered:
        if type(result) is _Failed:
            run.stop_at = index if run.stop_at is None else min(run.stop_at, index)
            run.cond.notify_all()
        elif run.stop_at is not None and index >= run.stop_at:
            return None  # after a failure: nobody takes it
        run.results[index] = result
        if run.delivering or index != run.head:
            return None
    else:
        if type(result) is _Failed and run.stop_at is None:
            run.stop_at = run.read
            run.cond.notify_all()
        run.ready.append(result)
        if run.delivering:
            return None
    run.delivering = True
    return _map_next_batch(run)


def _map_next_batch(run):
    """The deliverer's next run of ready results, under run.cond; at a
    failure, the map stops with it. Returns None when there is none."""
    if run.ordered:
        results, head = run.results, run.head
        batch = []
        while head in results:
            result = results.pop(head)
            if type(result) is _Failed:
                run.failure = result.error
                run.stopped = True
                run.cond.notify_all()
                break
            batch.append(result)
            head += 1
        run.head = head
    else:
        batch, run.ready = run.ready, []
        for i, result in enumerate(batch):
            if type(result) is _Failed:
                run.failure = result.error
                run.stopped = True
                run.cond.notify_all()
                del batch[i:]
                break
    if not batch:
        run.delivering = False
        return None
    return batch


def _map_deliver(run, batch, value, yield_value):
    """Pushes `batch`, and every run ready after it, into the stream,
    through the worker's GValue."""
    cond = run.cond
    while batch is not None:
        try:
            for result in batch:
                _gvalue_set(value, result)
                yield_value(value)
        except GLib.Error:
            run.stop()  # the consumer closed the stream
        n = len(batch)
        del batch, result
        with cond:
            run.delivered += n
            cond.notify_all()
            batch = _map_next_batch(run) if not run.stopped else None
            if batch is None:
                run.delivering = False


def _map_worker(run):
    """The workers' target: reads, maps and delivers until the map stops."""

    def work(member, *_ignored):
        name = member.get_name()
        token = _enter(name)
        # One GValue per worker for the results it delivers: yield_value()
        # copies it.
        value = GObject.Value(GObject.TYPE_PYOBJECT)
        yield_value = run.sink.yield_value
        try:
            while True:
                taken = _map_take(run)
                if taken is None:
                    break
                index, item = taken
                del taken
                if type(item) is not _Failed:
                    feed = run.feed_ref()
                    if feed is None:
                        break  # the map was dropped: its results go nowhere
                    function = feed.function
                    del feed
                    try:
                        item = function(item)
                    except BaseException as exc:  # noqa: B902: every failure is reported
                        item = _Failed(_failure(exc, name, (_map_holder(run),),
                                                run.log_level))
                    del function
                with run.cond:
                    batch = _map_place(run, index, item)
                del item
                if batch is not None:
                    _map_deliver(run, batch, value, yield_value)
                    del batch
        finally:
            _leave(token)
            value.unset()
        return True

    _internal(work)
    return work


def _map_driver(run, name, thread_count):
    """The stream's generator function: starts the workers, waits for
    them, and ends the stream with the map's failure, if any."""

    def drive(sink, *_ignored):
        run.sink = sink
        cancellable = sink.get_cancellable()
        # The signal itself: Gio's Cancellable.connect() is another call.
        handler = GObject.Object.connect(cancellable, "cancelled", run.stop)
        if cancellable.is_cancelled():
            run.stop()
        try:
            workers = Fs.MultiThread.new(name, thread_count, _map_worker(run))
            try:
                Fs.MultiThread.start(workers)
            finally:
                # The workers never fail (their failures go into the window).
                Fs.MultiThread.join(workers, -1, None)
        finally:
            GObject.Object.disconnect(cancellable, handler)
            run.sink = None
            with run.reading:
                iterator, run.iterator = run.iterator, None
            close = getattr(iterator, "close", None)
            del iterator
            if close is not None:
                close()
            with run.cond:
                run.results.clear()
                del run.ready[:]
        if run.failure is not None:
            raise run.failure
        return True

    _internal(drive)
    return drive


def map(function, iterable, thread_count=None, prefetch=None, ordered=True, name=None):
    """Runs ``function(item)`` for each item of `iterable` on `thread_count`
    library threads (default: total_cpus()) and returns a
    BackgroundGenerator of the results: in the order of `iterable`, or as
    soon as each is ready with ``ordered=False``.

    Lazy and bounded: at most `prefetch` finished results (default: eight
    per thread) and one item per thread exist ahead of the consumer, and
    `iterable` is read (by the threads, one at a time) no faster than that,
    so it may be infinite. When the function raises, the results before
    the item come first, then the exception, the same object, and the
    other threads take no new item. ``close()``, or dropping the stream,
    stops every thread. The function runs holding the interpreter's lock,
    as any Python code does: the map pays off when it releases it (I/O,
    hashing, C extensions). `name` names the threads: the stream's is
    NAME, the workers' NAME_0, NAME_1...
    """
    if thread_count is None:
        thread_count = Fs.total_cpus()
    if thread_count < 1:
        raise ValueError("thread_count must be at least 1, not %d" % thread_count)
    if prefetch is None:
        prefetch = 8 * thread_count
    if prefetch < 1:
        raise ValueError("prefetch must be at least 1, not %d" % prefetch)
    name = name or _default_name(function, "map")
    # Most of the bound goes to the stream's queue, so that a deliverer
    # seldom waits for the consumer; the rest lets workers run ahead of a
    # slow item.
    capacity = prefetch - prefetch // 4
    feed = _MapFeed()
    feed.function = function
    feed.holder = _new_holder()
    run = _MapRun(weakref.ref(feed), iterable, ordered, thread_count + prefetch - capacity,
                  BackgroundGenerator._fs_log_level)
    self = Fs.BackgroundGenerator.new_for_values(capacity, name,
                                                 _map_driver(run, name, thread_count))
    if type(self) is not BackgroundGenerator:
        self.__class__ = BackgroundGenerator
    self._fs_setup(feed)
    return self


__all__.append("map")


# ---------------------------------------------------------------------------
# Interpreter exit, as threading does it: threads that are not daemons are
# waited for (Ctrl+C interrupts the wait, as it does threading's); daemons,
# the threads of a MultiThread and the producers of generators are not, and
# never hold the exit. This runs where threading waits for its own threads,
# before atexit handlers.

def _wait_for_threads():
    while _nondaemon:
        for thread in list(_nondaemon):
            if thread.is_alive():
                thread.join()
            else:
                _nondaemon.discard(thread)


try:
    threading._register_atexit(_wait_for_threads)
except (AttributeError, RuntimeError):
    atexit.register(_wait_for_threads)
