# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fs.Thread, Fs.MultiThread and Fs.total_cpus from Python: the original's
FSThread and MultiThread API on the C threads.

Targets are held with threading.Event and released by the test; a timeout
only turns a hang into a failure, or is the behaviour under test.
"""

import os
import subprocess
import sys
import textwrap
import threading
import time
import traceback
import unittest
import weakref

from fsthread_testing import (
    FS_DOMAIN, Failure, Fs, GLib, HANG, collect_garbage, on_cancel, quiet_thread_count, values,
    wait_threads_settle)


HERE = os.path.dirname(os.path.abspath(__file__))


def run_child(code, give_up=HANG):
    """Runs `code` in a new interpreter with this one's environment.
    Returns (returncode, stdout, stderr); returncode is None when the child
    had to be killed after `give_up` seconds."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (HERE, env.get("PYTHONPATH")) if p)
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=HERE,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=give_up)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def os_thread_name():
    with open("/proc/self/task/%d/comm" % threading.get_native_id()) as comm:
        return comm.read().rstrip("\n")


class TestThread(unittest.TestCase):

    def test_start_join_is_alive_args_kwargs(self):
        release = threading.Event()
        running = threading.Event()
        calls = []

        def held_target(a, b, *, key):
            running.set()
            if not release.wait(HANG):
                raise AssertionError("never released")
            calls.append((a, b, key, threading.get_ident()))

        t = Fs.Thread(held_target, args=(1, 2), kwargs={"key": "k"})
        self.assertFalse(t.is_alive())
        t.start()
        self.assertTrue(running.wait(HANG))
        self.assertTrue(t.is_alive())
        release.set()
        t.join()
        self.assertFalse(t.is_alive())
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0][:3], (1, 2, "k"))
        self.assertNotEqual(calls[0][3], threading.get_ident())
        self.assertFalse(t.has_error)
        self.assertEqual(t.errors, [])
        self.assertIsNone(t.check_and_raise_error())

    def test_args_as_list_and_positional_parameters(self):
        got = []
        t = Fs.Thread(lambda *a, **k: got.append((a, k)), "thread-positional", [3, 4], {"x": 5})
        self.assertEqual(t.name, "thread-positional")
        t.start()
        t.join()
        self.assertEqual(got, [((3, 4), {"x": 5})])

    def test_names(self):
        def thread_name_source():
            pass

        t = Fs.Thread(thread_name_source)
        self.assertEqual(t.name, "thread_name_source")
        self.assertEqual(t.get_name(), "thread_name_source")
        t = Fs.Thread(thread_name_source, name="thread-explicit")
        self.assertEqual(t.name, "thread-explicit")
        # No target: nothing runs, and the thread has a name all the same.
        t = Fs.Thread()
        self.assertTrue(t.name)
        t.start()
        t.join()
        self.assertFalse(t.has_error)

    def test_os_thread_carries_the_name(self):
        seen = []
        t = Fs.Thread(lambda: seen.append(os_thread_name()),
                      name="a-rather-long-thread-name")
        t.start()
        t.join()
        self.assertEqual(seen, ["a-rather-long-t"])

    def test_daemon_flag(self):
        self.assertFalse(Fs.Thread(lambda: None).daemon)
        self.assertTrue(Fs.Thread(lambda: None, daemon=True).daemon)
        self.assertFalse(Fs.Thread(lambda: None, daemon=False).daemon)

    def test_join_does_not_raise_and_error_is_the_same_object(self):
        raised = []

        def failing():
            exc = Failure("target failed")
            raised.append(exc)
            raise exc

        t = Fs.Thread(failing)
        t.start()
        t.join()  # only waits
        self.assertFalse(t.is_alive())
        self.assertTrue(t.has_error)
        self.assertEqual(values(t.errors), raised)
        exc = None
        try:
            t.check_and_raise_error()
        except Failure as caught:
            exc = caught
        self.assertIs(exc, raised[0])
        self.assertEqual(str(exc), "target failed")
        self.assertIsNotNone(exc.__traceback__)
        self.assertIn("failing", [f.name for f in traceback.extract_tb(exc.__traceback__)])
        # Raised again, the same object, every time.
        with self.assertRaises(Failure) as again:
            t.check_and_raise_error()
        self.assertIs(again.exception, raised[0])
        # Joining again still only waits.
        t.join()

    def test_system_exit_ends_the_thread_quietly(self):
        # As in threading: sys.exit() in a thread is no failure.
        def target():
            raise SystemExit(3)

        t = Fs.Thread(target)
        t.start()
        t.join()
        self.assertFalse(t.has_error)
        t.check_and_raise_error()

    def test_base_exceptions_are_captured(self):
        for exc_type in (KeyboardInterrupt, GeneratorExit):
            def target():
                raise exc_type("from the target")

            t = Fs.Thread(target)
            t.start()
            t.join()
            self.assertTrue(t.has_error)
            with self.assertRaises(exc_type):
                t.check_and_raise_error()

    def test_glib_error_keeps_domain_and_code(self):
        raised = []

        def target():
            raised.append(GLib.Error("device lost", "fs-test-domain", 23))
            raise raised[0]

        t = Fs.Thread(target, name="thread-glib-error")
        t.start()
        t.join()
        # Python gets the same object back...
        with self.assertRaises(GLib.Error) as cm:
            t.check_and_raise_error()
        self.assertIs(cm.exception, raised[0])
        self.assertIs(values(t.errors)[0], raised[0])
        # ...and C saw its domain and code, its message naming the thread.
        (recorded,) = t.get_error_state().dup_errors()
        self.assertEqual((recorded.domain, recorded.code, recorded.message),
                         ("fs-test-domain", 23, "Error in thread (thread-glib-error): device lost"))

    def test_join_timeout_returns_while_held(self):
        release = threading.Event()
        running = threading.Event()

        def held():
            running.set()
            release.wait(HANG)

        t = Fs.Thread(held)
        t.start()
        self.assertTrue(running.wait(HANG))
        for timeout in (0.01, 0.2):
            t0 = time.monotonic()
            self.assertIsNone(t.join(timeout))
            self.assertGreaterEqual(time.monotonic() - t0, timeout)
            self.assertTrue(t.is_alive())
        t0 = time.monotonic()
        t.join(timeout=0.05)
        self.assertGreaterEqual(time.monotonic() - t0, 0.05)
        release.set()
        t.join(timeout=HANG)
        self.assertFalse(t.is_alive())

    def test_join_before_start_raises_runtime_error(self):
        t = Fs.Thread(lambda: None)
        with self.assertRaises(RuntimeError):
            t.join()
        with self.assertRaises(RuntimeError):
            t.join(timeout=1)

    def test_join_zero_timeout_before_start_raises_runtime_error(self):
        # Known bug: with timeout=0 the override gives up before asking the
        # thread once, so it neither joins a finished thread nor sees that
        # this one was never started (threading.Thread.join(0) raises).
        t = Fs.Thread(lambda: None)
        with self.assertRaises(RuntimeError):
            t.join(timeout=0)

    def test_join_from_the_target_raises_runtime_error(self):
        def self_joining():
            Fs.Thread.get_current().join()

        t = Fs.Thread(self_joining)
        t.start()
        t.join()
        with self.assertRaises(RuntimeError):
            t.check_and_raise_error()

    def test_join_own_thread_inside_a_group_raises_runtime_error(self):
        def worker():
            Fs.Thread.get_current().join()

        mt = Fs.MultiThread(worker, thread_count=2)
        mt.start()
        with self.assertRaises(RuntimeError):
            mt.join()
        self.assertEqual(len(mt.errors), 2)

    def test_join_own_producer_thread_raises_runtime_error(self):
        def gen():
            yield 1
            Fs.Thread.get_current().join()

        bg = Fs.BackgroundGenerator(gen)
        self.assertEqual(bg.next(timeout=HANG), 1)
        with self.assertRaises(RuntimeError):
            bg.next(timeout=HANG)

    def test_join_a_producer_thread_from_outside(self):
        def gen():
            yield from range(3)

        # Room for every item: the generator returns without a consumer.
        bg = Fs.BackgroundGenerator(gen, prefetch=4)
        producer = bg.gobject.get_thread()
        producer.join(HANG)
        self.assertFalse(producer.is_alive())
        self.assertEqual(list(bg), [0, 1, 2])

    def test_start_twice_raises_busy(self):
        release = threading.Event()
        runs = []

        def held():
            runs.append(True)
            release.wait(HANG)

        t = Fs.Thread(held)
        t.start()
        with self.assertRaises(GLib.Error) as cm:
            t.start()
        self.assertEqual(cm.exception.domain, FS_DOMAIN)
        self.assertEqual(cm.exception.code, Fs.Error.BUSY)
        self.assertTrue(cm.exception.matches(Fs.error_quark(), Fs.Error.BUSY))
        release.set()
        t.join()
        # Joined: it may run again.
        t.start()
        t.join()
        self.assertEqual(len(runs), 2)

    def test_restart_clears_the_error(self):
        fail = [True]

        def sometimes():
            if fail[0]:
                raise Failure("first run")

        t = Fs.Thread(sometimes)
        t.start()
        t.join()
        self.assertTrue(t.has_error)
        fail[0] = False
        t.start()
        t.join()
        self.assertFalse(t.has_error)
        t.check_and_raise_error()

    def test_get_current(self):
        self.assertIsNone(Fs.Thread.get_current())
        seen = []

        def target():
            me = Fs.Thread.get_current()
            seen.append((me, me.get_name(), me.get_index()))

        t = Fs.Thread(target, name="thread-current")
        t.start()
        t.join()
        me, name, index = seen[0]
        self.assertIs(me, t)
        self.assertEqual(name, "thread-current")
        self.assertEqual(index, 0)

    def test_cancel_reaches_the_target(self):
        stopped = threading.Event()
        running = threading.Event()

        def worker():
            cancellable = Fs.Thread.get_current().get_cancellable()
            on_cancel(cancellable, stopped)
            running.set()
            if not stopped.wait(HANG):
                raise AssertionError("never cancelled")

        t = Fs.Thread(worker)
        t.start()
        self.assertTrue(running.wait(HANG))
        t.cancel()
        t.join()
        self.assertFalse(t.has_error)
        self.assertTrue(t.get_cancellable().is_cancelled())

    def test_dropped_running_thread_finishes_on_its_own(self):
        start = quiet_thread_count()
        release = threading.Event()
        finished = threading.Event()

        def held():
            release.wait(HANG)
            finished.set()

        t = Fs.Thread(held, daemon=True)
        t.start()
        del t
        release.set()
        self.assertTrue(finished.wait(HANG))
        wait_threads_settle(start)

    def test_join_async_in_a_main_loop(self):
        def target():
            raise GLib.Error("async join", "fs-test-domain", 3)

        t = Fs.Thread(target)
        t.start()
        loop = GLib.MainLoop()
        outcome = {}

        def joined(source, result, *user_data):
            try:
                outcome["status"] = source.join_finish(result)
            except GLib.Error as error:
                outcome["error"] = error
            loop.quit()

        def give_up():
            outcome["hang"] = True
            loop.quit()
            return GLib.SOURCE_REMOVE

        guard = GLib.timeout_add_seconds(int(HANG), give_up)
        Fs.Thread.join_async(t, None, joined)
        loop.run()
        GLib.source_remove(guard)
        self.assertNotIn("hang", outcome)
        self.assertEqual(outcome["error"].code, 3)
        self.assertNotIn("status", outcome)
        self.assertFalse(t.is_alive())
        # The next join_async of the joined thread gets the same outcome.
        outcome.clear()
        Fs.Thread.join_async(t, None, joined)
        loop.run()
        self.assertEqual(outcome["error"].code, 3)

    def test_join_returns_when_target_failed_with_an_fs_error(self):
        # The target's own error with a code of fsthread's domain (here
        # raised by hand, as a target whose inner stream failed would) says
        # nothing about the join: join() returns. In a child, which gives up
        # after 3 seconds, as a join that waits forever would never return.
        code, out, err = run_child("""
            import threading
            from fsthread_testing import Fs, GLib
            DOMAIN = GLib.quark_to_string(Fs.error_quark())

            def target():
                raise GLib.Error("inner stream closed", DOMAIN, Fs.Error.CLOSED)

            t = Fs.Thread(target, daemon=True)
            t.start()
            joiner = threading.Thread(target=t.join, daemon=True)
            joiner.start()
            joiner.join(3)
            print("still waiting" if joiner.is_alive() else "joined", flush=True)
        """)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), "joined")

    def test_join_does_not_raise_target_error_with_an_fs_error_code(self):
        domain = FS_DOMAIN

        def target():
            raise GLib.Error("an inner value was out of range", domain, Fs.Error.INVALID_ARGUMENT)

        t = Fs.Thread(target)
        t.start()
        t.join()
        self.assertTrue(t.has_error)

    def test_failed_thread_is_freed(self):
        # The exception outlives the thread (the process-wide state keeps
        # it), but its traceback starts at the target: none of the library's
        # frames, whose arguments would hold the thread.
        def failing():
            raise Failure("should not keep its thread")

        def run_once():
            t = Fs.Thread(failing)
            t.start()
            t.join()
            self.assertTrue(t.has_error)
            return weakref.ref(t)

        ref = run_once()
        collect_garbage()
        self.assertIsNone(ref())

    def test_failed_thread_releases_its_name(self):
        # The same, seen as the name a failed thread would keep.
        def failing():
            raise Failure("keeps its name")

        names = []
        for _ in range(3):
            t = Fs.Thread(failing, name="thread-name-after-failure")
            names.append(t.name)
            t.start()
            t.join()
            del t
            collect_garbage()
        self.assertEqual(names, ["thread-name-after-failure"] * 3)


class TestMultiThread(unittest.TestCase):

    def test_start_join_completed_is_alive(self):
        release = threading.Event()
        barrier = threading.Barrier(4)
        done = []
        lock = threading.Lock()

        def group_worker(a, *, b):
            barrier.wait(HANG)
            release.wait(HANG)
            with lock:
                done.append((a, b))

        mt = Fs.MultiThread(group_worker, "A", thread_count=3, b="B")
        self.assertEqual(mt.name, "group_worker")
        self.assertTrue(mt.completed())
        self.assertFalse(mt.is_alive())
        mt.start()
        barrier.wait(HANG)
        self.assertTrue(mt.is_alive())
        self.assertFalse(mt.completed())
        self.assertFalse(mt.has_error)
        mt.check_and_raise_error()
        release.set()
        mt.join()
        self.assertTrue(mt.completed())
        self.assertFalse(mt.is_alive())
        self.assertEqual(done, [("A", "B")] * 3)
        self.assertEqual(mt.errors, [])
        self.assertFalse(mt.has_error)

    def test_thread_names_and_indices(self):
        seen = {}
        lock = threading.Lock()

        def named():
            me = Fs.Thread.get_current()
            with lock:
                seen[me.get_index()] = (me.get_name(), os_thread_name())

        mt = Fs.MultiThread(named, thread_count=4, name="mt-names")
        self.assertEqual(mt.name, "mt-names")
        mt.start()
        mt.join()
        self.assertEqual(seen, {i: ("mt-names_%d" % i,) * 2 for i in range(4)})

    def test_single_thread_carries_the_group_name(self):
        seen = []

        def named():
            me = Fs.Thread.get_current()
            seen.append((me.get_name(), me.get_index()))

        mt = Fs.MultiThread(named, name="mt-single")
        mt.start()
        mt.join()
        self.assertEqual(seen, [("mt-single", 0)])

    def test_thread_count_below_one_raises_value_error(self):
        for bad in (0, -1):
            with self.assertRaises(ValueError):
                Fs.MultiThread(lambda: None, thread_count=bad)

    def test_join_raises_first_error_after_joining_every_thread(self):
        raised = []
        after_failure = []
        lock = threading.Lock()

        def worker():
            me = Fs.Thread.get_current()
            if me.get_index() == 0:
                exc = Failure("thread 0")
                raised.append(exc)
                raise exc
            # The others stop once thread 0 has failed (its error is
            # recorded before the group's cancellable is cancelled), then
            # leave a side effect that join() must wait for.
            cancelled = threading.Event()
            on_cancel(me.get_cancellable(), cancelled)
            if not cancelled.wait(HANG):
                raise AssertionError("never cancelled")
            with lock:
                after_failure.append(me.get_index())

        mt = Fs.MultiThread(worker, thread_count=5)
        mt.start()
        with self.assertRaises(Failure) as cm:
            mt.join()
        self.assertIs(cm.exception, raised[0])
        self.assertEqual(sorted(after_failure), [1, 2, 3, 4])
        self.assertFalse(mt.is_alive())
        self.assertTrue(mt.completed())
        self.assertTrue(mt.has_error)
        self.assertEqual(values(mt.errors), raised)
        with self.assertRaises(Failure) as again:
            mt.check_and_raise_error()
        self.assertIs(again.exception, raised[0])

    def test_every_error_is_listed_the_first_raised(self):
        barrier = threading.Barrier(3)

        def all_fail():
            index = Fs.Thread.get_current().get_index()
            barrier.wait(HANG)
            raise Failure(index)

        mt = Fs.MultiThread(all_fail, thread_count=3)
        mt.start()
        with self.assertRaises(Failure) as cm:
            mt.join()
        errors = values(mt.errors)
        self.assertEqual(len(errors), 3)
        self.assertEqual(sorted(e.args[0] for e in errors), [0, 1, 2])
        self.assertIs(cm.exception, errors[0])

    def test_glib_error_keeps_domain_and_code(self):
        raised = []
        lock = threading.Lock()

        def worker():
            error = GLib.Error("disk full", "fs-test-domain", 8)
            with lock:
                raised.append(error)
            raise error

        mt = Fs.MultiThread(worker, thread_count=2, name="mt-glib")
        mt.start()
        with self.assertRaises(GLib.Error) as cm:
            mt.join()
        self.assertIn(cm.exception, raised)
        self.assertEqual((cm.exception.domain, cm.exception.code), ("fs-test-domain", 8))
        for recorded in mt.dup_errors():
            self.assertEqual((recorded.domain, recorded.code), ("fs-test-domain", 8))
            self.assertRegex(recorded.message, r"^Error in thread \(mt-glib_[01]\): disk full$")

    def test_restart_after_join(self):
        runs = []
        lock = threading.Lock()
        fail = [True]

        def worker():
            with lock:
                runs.append(Fs.Thread.get_current().get_index())
            if fail[0]:
                raise Failure("first run")

        mt = Fs.MultiThread(worker, thread_count=3)
        mt.start()
        with self.assertRaises(Failure):
            mt.join()
        self.assertTrue(mt.has_error)
        fail[0] = False
        mt.start()
        self.assertFalse(mt.has_error)
        mt.join()
        self.assertEqual(sorted(runs), [0, 0, 1, 1, 2, 2])
        self.assertEqual(mt.errors, [])
        mt.start()
        mt.join()
        self.assertEqual(len(runs), 9)

    def test_start_twice_raises_busy(self):
        release = threading.Event()

        def held():
            release.wait(HANG)

        mt = Fs.MultiThread(held, thread_count=2)
        mt.start()
        with self.assertRaises(GLib.Error) as cm:
            mt.start()
        self.assertEqual(cm.exception.code, Fs.Error.BUSY)
        release.set()
        mt.join()

    def test_join_the_group_from_one_of_its_threads_raises(self):
        box = []
        raised = []

        def worker():
            try:
                box[0].join()
            except BaseException as exc:  # noqa: B902
                raised.append(exc)
                raise

        mt = Fs.MultiThread(worker, thread_count=2)
        box.append(mt)
        mt.start()
        # A deadlock would hang here.
        with self.assertRaises((RuntimeError, GLib.Error)):
            mt.join()
        self.assertEqual(len(raised), 2)
        box.clear()

    def test_join_before_start(self):
        # As the original's: nothing to join, nothing raised.
        mt = Fs.MultiThread(lambda: None, thread_count=2)
        self.assertTrue(mt.join())
        self.assertTrue(mt.completed())

    def test_fail_fast_stops_the_siblings(self):
        connected = threading.Barrier(4)
        stopped = []
        lock = threading.Lock()

        def worker():
            me = Fs.Thread.get_current()
            if me.get_index() == 0:
                # Fail only once every sibling is waiting on the cancellable.
                connected.wait(HANG)
                raise Failure("the first failure")
            cancellable = me.get_cancellable()
            cancelled = threading.Event()
            handler = on_cancel(cancellable, cancelled)
            self.assertNotEqual(handler, 0)  # not cancelled yet
            connected.wait(HANG)
            if not cancelled.wait(HANG):
                raise AssertionError("sibling never stopped")
            cancellable.disconnect(handler)
            with lock:
                stopped.append((me.get_index(), cancellable.is_cancelled()))

        mt = Fs.MultiThread(worker, thread_count=4, name="mt-fail-fast")
        mt.start()
        with self.assertRaises(Failure):
            mt.join()
        self.assertEqual(sorted(stopped), [(1, True), (2, True), (3, True)])
        self.assertEqual(len(mt.errors), 1)
        self.assertTrue(mt.get_cancellable().is_cancelled())

    def test_failure_in_one_group_stays_there(self):
        default = Fs.ErrorState.get_default()
        raised = []

        def failing():
            exc = Failure("only mine")
            raised.append(exc)
            raise exc

        bad = Fs.MultiThread(failing, thread_count=2)
        bad.start()
        with self.assertRaises(Failure):
            bad.join()

        good = Fs.MultiThread(lambda: None, thread_count=2)
        good.start()
        good.join()
        good.check_and_raise_error()
        self.assertFalse(good.has_error)

        t = Fs.Thread(lambda: None)
        t.start()
        t.join()
        t.check_and_raise_error()
        self.assertFalse(t.has_error)

        def items():
            yield from range(3)

        self.assertEqual(list(Fs.BackgroundGenerator(items)), [0, 1, 2])

        # The process-wide state saw both failures, as the same objects.
        self.assertTrue(default.has_error)
        seen = values(default.errors)
        for exc in raised:
            self.assertTrue(any(e is exc for e in seen))

    def test_failed_group_is_freed(self):
        # The exception join() raised holds the frames it went through
        # (join's caller holds the group), and the process-wide state keeps
        # it, as the original's did, until cleared: then the group is freed.
        def failing():
            raise Failure("should not keep its group")

        def run_once():
            mt = Fs.MultiThread(failing, thread_count=2)
            mt.start()
            try:
                mt.join()
            except Failure:
                pass
            return weakref.ref(mt)

        ref = run_once()
        Fs.ErrorState.get_default().clear()
        collect_garbage()
        self.assertIsNone(ref())

    def test_join_returns_when_member_failed_with_an_fs_error(self):
        # As for Thread.join(): a member's own FS_ERROR code says nothing
        # about the join, which raises it. In a child, which gives up after
        # 3 seconds.
        code, out, err = run_child("""
            import threading
            from fsthread_testing import Fs, GLib
            DOMAIN = GLib.quark_to_string(Fs.error_quark())

            def target():
                raise GLib.Error("inner stream closed", DOMAIN, Fs.Error.CLOSED)

            mt = Fs.MultiThread(target, thread_count=2)
            mt.start()
            outcome = []

            def join():
                try:
                    mt.join()
                except GLib.Error as error:
                    outcome.append(int(error.code))

            joiner = threading.Thread(target=join, daemon=True)
            joiner.start()
            joiner.join(3)
            print("still waiting" if joiner.is_alive() else outcome, flush=True)
        """)
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), str([int(Fs.Error.CLOSED)]), err)


class TestTotalCpus(unittest.TestCase):

    @staticmethod
    def cgroup_quota():
        """The smallest cgroup v2 CPU quota on this process's path, rounded
        up, or None."""
        try:
            with open("/proc/self/cgroup") as f:
                lines = f.read().splitlines()
        except OSError:
            return None
        path = next((line[3:] for line in lines if line.startswith("0::")), None)
        if path is None:
            return None
        quota = None
        directory = os.path.join("/sys/fs/cgroup", path.lstrip("/"))
        while True:
            try:
                with open(os.path.join(directory, "cpu.max")) as f:
                    fields = f.read().split()
                if fields and fields[0] != "max":
                    here = -(-int(fields[0]) // int(fields[1]))
                    quota = here if quota is None else min(quota, here)
            except (OSError, ValueError, IndexError, ZeroDivisionError):
                pass
            if os.path.normpath(directory) == "/sys/fs/cgroup":
                return quota
            directory = os.path.dirname(os.path.normpath(directory))

    def test_total_cpus(self):
        n = Fs.total_cpus()
        self.assertIsInstance(n, int)
        self.assertGreaterEqual(n, 1)
        self.assertLessEqual(n, os.cpu_count())
        affinity = len(os.sched_getaffinity(0))
        quota = self.cgroup_quota()
        if quota is None or quota >= affinity:
            self.assertEqual(n, affinity)
        else:
            self.assertEqual(n, max(quota, 1))

    def test_total_cpus_follows_the_affinity(self):
        if not hasattr(os, "sched_setaffinity"):
            self.skipTest("no sched_setaffinity")
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) < 2:
            self.skipTest("a single CPU")
        # The affinity of the calling thread: narrowed on a thread of its
        # own so that the rest of the suite keeps every CPU.
        seen = []

        def narrowed():
            os.sched_setaffinity(0, cpus[:1])
            seen.append(Fs.total_cpus())

        t = threading.Thread(target=narrowed)
        t.start()
        t.join(HANG)
        self.assertEqual(seen, [1])


if __name__ == "__main__":
    unittest.main()
