# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fs.ErrorState from Python: set() takes a GLib.Error, any exception or an
exc_info tuple, as the original's did; re_raise() raises the first one
again, every time."""

import sys
import threading
import traceback
import unittest

from fsthread_testing import Failure, Fs, GLib, GObject, HANG, values


def raise_and_catch(exc):
    try:
        raise exc
    except BaseException as caught:  # noqa: B902
        return caught


class TestErrorState(unittest.TestCase):

    def test_new_state_is_empty(self):
        state = Fs.ErrorState()
        self.assertIsInstance(state, Fs.ErrorState)
        self.assertIsInstance(state, GObject.Object)
        self.assertFalse(state.has_error)
        self.assertEqual(values(state.errors), [])
        self.assertEqual(state.get_n_errors(), 0)
        self.assertIsNone(state.re_raise())

    def test_set_exception_and_re_raise_the_same_object(self):
        state = Fs.ErrorState()
        first = raise_and_catch(Failure("first"))
        second = ValueError("second")
        state.set(first)
        state.set(second)
        self.assertTrue(state.has_error)
        self.assertEqual(state.get_n_errors(), 2)
        errors = values(state.errors)
        self.assertIs(errors[0], first)
        self.assertIs(errors[1], second)
        for _ in range(3):
            try:
                state.re_raise()
            except Failure as exc:
                self.assertIs(exc, first)
                self.assertIsNotNone(exc.__traceback__)
                self.assertIn("raise_and_catch",
                              [f.name for f in traceback.extract_tb(exc.__traceback__)])
            else:
                self.fail("re_raise() raised nothing")
        # re_raise() does not consume the error.
        self.assertTrue(state.has_error)
        self.assertEqual(len(values(state.errors)), 2)

    def test_set_exc_info_tuple(self):
        state = Fs.ErrorState()
        try:
            raise Failure("from exc_info")
        except Failure:
            info = sys.exc_info()
            state.set(info)
        self.assertIs(values(state.errors)[0], info[1])
        with self.assertRaises(Failure) as cm:
            state.re_raise()
        self.assertIs(cm.exception, info[1])

    def test_set_glib_error(self):
        state = Fs.ErrorState()
        error = GLib.Error("permission denied", "fs-test-domain", 13)
        state.set(error)
        self.assertTrue(state.has_error)
        for _ in range(2):
            with self.assertRaises(GLib.Error) as cm:
                state.re_raise()
            self.assertEqual(cm.exception.domain, "fs-test-domain")
            self.assertEqual(cm.exception.code, 13)
            self.assertEqual(cm.exception.message, "permission denied")
        (listed,) = values(state.errors)
        self.assertIsInstance(listed, GLib.Error)
        self.assertEqual((listed.domain, listed.code, listed.message),
                         ("fs-test-domain", 13, "permission denied"))

    def test_set_base_exceptions(self):
        state = Fs.ErrorState()
        state.set(KeyboardInterrupt())
        state.set(SystemExit(2))
        with self.assertRaises(KeyboardInterrupt):
            state.re_raise()
        self.assertIsInstance(values(state.errors)[1], SystemExit)
        self.assertEqual(values(state.errors)[1].code, 2)

    def test_mixed_kinds_keep_their_order(self):
        state = Fs.ErrorState()
        exc = Failure("python")
        state.set(GLib.Error("glib", "fs-test-domain", 1))
        state.set(exc)
        try:
            raise ValueError("info")
        except ValueError:
            state.set(sys.exc_info())
        errors = values(state.errors)
        self.assertEqual(len(errors), 3)
        self.assertIsInstance(errors[0], GLib.Error)
        self.assertIs(errors[1], exc)
        self.assertIsInstance(errors[2], ValueError)
        with self.assertRaises(GLib.Error):
            state.re_raise()

    def test_set_refuses_what_is_not_an_error(self):
        state = Fs.ErrorState()
        for bad in ("text", 42, None, (None, None, None), object()):
            with self.assertRaises(TypeError):
                state.set(bad)
        self.assertFalse(state.has_error)

    def test_clear(self):
        state = Fs.ErrorState()
        state.set(Failure("gone"))
        state.set(GLib.Error("gone too", "fs-test-domain", 2))
        state.clear()
        self.assertFalse(state.has_error)
        self.assertEqual(values(state.errors), [])
        self.assertIsNone(state.re_raise())
        # Usable again after a clear.
        exc = Failure("after clear")
        state.set(exc)
        with self.assertRaises(Failure) as cm:
            state.re_raise()
        self.assertIs(cm.exception, exc)

    def test_states_are_independent(self):
        a = Fs.ErrorState()
        b = Fs.ErrorState()
        a.set(Failure("only in a"))
        self.assertTrue(a.has_error)
        self.assertFalse(b.has_error)
        b.re_raise()

    def test_has_error_is_a_method_of_the_gobject(self):
        # It changes on worker threads: a method, never a notified property.
        state = Fs.ErrorState()
        self.assertFalse(state.get_has_error())
        state.set(Failure("x"))
        self.assertTrue(state.get_has_error())
        self.assertNotIn("has-error", [p.name for p in state.list_properties()])

    def test_errors_are_exc_info_tuples(self):
        state = Fs.ErrorState()
        exc = raise_and_catch(Failure("as the original lists it"))
        tb = exc.__traceback__
        state.set(exc)
        ((kind, value, traceback_),) = state.errors
        self.assertIs(kind, Failure)
        self.assertIs(value, exc)
        self.assertIs(traceback_, tb)

    def test_bounded_state_keeps_the_first_and_the_newest(self):
        state = Fs.ErrorState(max_errors=4)
        made = [Failure(n) for n in range(50)]
        for exc in made:
            state.set(exc)
        self.assertEqual(state.get_n_errors(), 50)
        self.assertEqual(values(state.errors), [made[0]] + made[-3:])
        with self.assertRaises(Failure) as cm:
            state.re_raise()
        self.assertIs(cm.exception, made[0])

    def test_eight_threads_set_concurrently(self):
        state = Fs.ErrorState()
        barrier = threading.Barrier(8)
        per_thread = 200
        made = [[] for _ in range(8)]

        def setter(mine, index):
            barrier.wait(HANG)
            for n in range(per_thread):
                exc = Failure((index, n))
                mine.append(exc)
                if n % 2:
                    state.set(exc)
                else:
                    try:
                        raise exc
                    except Failure:
                        state.set(sys.exc_info())

        threads = [threading.Thread(target=setter, args=(made[i], i)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG)
            self.assertFalse(t.is_alive())
        errors = values(state.errors)
        self.assertEqual(len(errors), 8 * per_thread)
        self.assertEqual(state.get_n_errors(), 8 * per_thread)
        self.assertEqual(set(map(id, errors)), {id(e) for mine in made for e in mine})
        # Each thread's errors in the order it set them.
        for index in range(8):
            ns = [e.args[0][1] for e in errors if e.args[0][0] == index]
            self.assertEqual(ns, list(range(per_thread)))
        with self.assertRaises(Failure) as cm:
            state.re_raise()
        self.assertIs(cm.exception, errors[0])

    def test_set_from_fsthread_threads(self):
        state = Fs.ErrorState()
        raised = []
        lock = threading.Lock()

        def worker():
            exc = Failure(Fs.Thread.get_current().get_index())
            with lock:
                raised.append(exc)
            state.set(exc)

        mt = Fs.MultiThread(worker, thread_count=4)
        mt.start()
        mt.join()  # the workers did not fail: they only recorded
        self.assertFalse(mt.has_error)
        self.assertEqual(set(map(id, values(state.errors))), set(map(id, raised)))

    def test_default_state_is_one_object(self):
        default = Fs.ErrorState.get_default()
        self.assertIs(default, Fs.ErrorState.get_default())
        self.assertIsInstance(default, Fs.ErrorState)

    def test_default_state_sees_thread_failures(self):
        default = Fs.ErrorState.get_default()
        before = default.get_n_errors()
        exc = Failure("seen by the default state")

        def failing():
            raise exc

        t = Fs.Thread(failing)
        t.start()
        t.join()
        self.assertGreater(default.get_n_errors(), before)
        self.assertTrue(any(e is exc for e in values(default.errors)))
        # The default state raises nothing by itself: the thread's own
        # error is only raised by the thread.
        with self.assertRaises(Failure):
            t.check_and_raise_error()


if __name__ == "__main__":
    unittest.main()
