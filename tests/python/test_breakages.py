# SPDX-License-Identifier: LGPL-2.1-or-later
"""Each way the original module breaks, shown fixed, from Python.

One test per breakage of the reference notes on the original's behaviour,
numbered and named after it. Each would fail (or hang, which the bounded
waits turn into a failure) with the original's behaviour.
"""

import gc
import itertools
import threading
import time
import unittest
import weakref

from gi.repository import Gio

from fsthread_testing import (
    Failure, Fs, GLib, HANG, on_cancel, quiet_thread_count, values, wait_threads_settle)


class Item:
    def __init__(self, n):
        self.n = n


class TestBreakages(unittest.TestCase):

    def test_1_early_exit_leaks_producer(self):
        start = quiet_thread_count()
        finished = []
        done = threading.Condition()
        refs = []

        def endless():
            try:
                for n in itertools.count():
                    item = Item(n)
                    refs.append(weakref.ref(item))
                    yield item
                    del item
            finally:
                with done:
                    finished.append(True)
                    done.notify_all()

        for round_ in range(100):
            bg = Fs.BackgroundGenerator(endless, prefetch=2)
            for item in bg:
                self.assertEqual(item.n, 0)
                break
            del item
            bg_ref = weakref.ref(bg)
            del bg
            # Dropping the consumer's object freed it and stopped the
            # producer, which finishes on its own (a drop never waits): its
            # generator's finally block runs.
            self.assertIsNone(bg_ref())
            with done:
                self.assertTrue(done.wait_for(lambda: len(finished) == round_ + 1, HANG))
        wait_threads_settle(start)
        gc.collect()
        # No item is held by a forgotten producer.
        self.assertEqual([r for r in refs if r() is not None], [])

    def test_2_in_band_sentinels(self):
        def with_sentinels():
            yield "first"
            yield None
            yield "EOF"
            yield None
            yield "last"

        bg = Fs.BackgroundGenerator(with_sentinels, prefetch=2)
        self.assertEqual(list(bg), ["first", None, "EOF", None, "last"])
        # The producer ran to its end, not blocked behind a sentinel.
        producer = bg.gobject.get_thread()
        producer.join(HANG)
        self.assertFalse(producer.is_alive())
        self.assertFalse(producer.has_error)

    def test_3_items_lost_on_error(self):
        exc = Failure("after five items")

        def five_then_fail():
            yield from range(5)
            raise exc

        # The prefetch holds the whole stream: the generator has queued
        # every item and failed before the consumer takes the first.
        bg = Fs.BackgroundGenerator(five_then_fail, prefetch=10)
        producer = bg.gobject.get_thread()
        producer.join(HANG)
        self.assertFalse(producer.is_alive())
        self.assertTrue(producer.has_error)
        got = []
        with self.assertRaises(Failure) as cm:
            for item in bg:
                got.append(item)
        self.assertEqual(got, [0, 1, 2, 3, 4])
        self.assertIs(cm.exception, exc)

    def test_4_lost_error_race(self):
        normal_ends = 0
        for round_ in range(1000):
            def one_then_fail():
                yield round_
                raise Failure(round_)

            bg = Fs.BackgroundGenerator(one_then_fail, prefetch=1 + round_ % 3)
            got = []
            try:
                for item in bg:
                    got.append(item)
                normal_ends += 1
            except Failure as exc:
                self.assertEqual(exc.args, (round_,))
            self.assertEqual(got, [round_])
        self.assertEqual(normal_ends, 0)

    def test_5_sticky_global_errors(self):
        exc = Failure("one failure")

        def failing():
            raise exc

        bad = Fs.Thread(failing)
        bad.start()
        bad.join()
        with self.assertRaises(Failure):
            bad.check_and_raise_error()

        # Nothing unrelated raises it: not a group, a thread, a generator.
        group = Fs.MultiThread(lambda: None, thread_count=2)
        group.start()
        group.join()
        group.check_and_raise_error()
        self.assertFalse(group.has_error)

        other = Fs.Thread(lambda: None)
        other.start()
        other.join()
        other.check_and_raise_error()
        self.assertFalse(other.has_error)

        def three():
            yield from range(3)

        self.assertEqual(list(Fs.BackgroundGenerator(three)), [0, 1, 2])
        fresh = Fs.ErrorState()
        fresh.re_raise()

        # Whoever watches the whole process still sees it.
        self.assertTrue(any(e is exc for e in values(Fs.ErrorState.get_default().errors)))

    def test_6_join_stops_at_first_failure(self):
        finished = []
        lock = threading.Lock()

        def worker():
            me = Fs.Thread.get_current()
            index = me.get_index()
            if index == 0:
                raise Failure("thread 0")
            # Everyone else goes on after thread 0 failed.
            cancelled = threading.Event()
            on_cancel(me.get_cancellable(), cancelled)
            if not cancelled.wait(HANG):
                raise AssertionError("never cancelled")
            with lock:
                finished.append(index)
            if index == 2:
                raise Failure("thread 2")

        mt = Fs.MultiThread(worker, thread_count=4)
        mt.start()
        with self.assertRaises(Failure) as cm:
            mt.join()
        self.assertEqual(cm.exception.args, ("thread 0",))
        # Every thread was joined: their work after the failure is done and
        # the second failure is listed too.
        self.assertEqual(sorted(finished), [1, 2, 3])
        self.assertFalse(mt.is_alive())
        self.assertEqual(sorted(e.args[0] for e in values(mt.errors)), ["thread 0", "thread 2"])
        # Joined, so it can run again.
        mt.start()
        with self.assertRaises(Failure):
            mt.join()

    def test_7_silent_failure_hangs_consumer(self):
        for exc_type in (KeyboardInterrupt, SystemExit, GeneratorExit):
            def stops_silently():
                yield "before"
                raise exc_type()

            bg = Fs.BackgroundGenerator(stops_silently)
            self.assertEqual(bg.next(timeout=HANG), "before")
            # A hang would be a TimeoutError here.
            with self.assertRaises(exc_type):
                bg.next(timeout=HANG)
            with self.assertRaises(exc_type):
                bg.next(timeout=HANG)

    def test_8_join_cannot_be_bounded(self):
        release = threading.Event()
        join_cancellable = Gio.Cancellable()

        def held():
            # Stop the main thread's join, then wait to be released.
            join_cancellable.cancel()
            release.wait(HANG)

        t = Fs.Thread(held)
        t.start()
        t0 = time.monotonic()
        t.join(timeout=0.1)
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)
        self.assertTrue(t.is_alive())

        mt = Fs.MultiThread(held, thread_count=2)
        mt.start()
        self.assertFalse(mt.join(timeout=0.1))
        # The C join, with a timeout and a cancellable: a status.
        self.assertEqual(super(Fs.MultiThread, mt).join(100_000, None), Fs.WaitStatus.TIMED_OUT)
        self.assertEqual(super(Fs.MultiThread, mt).join(-1, join_cancellable),
                         Fs.WaitStatus.CANCELLED)
        self.assertTrue(mt.is_alive())

        gen_release = threading.Event()

        def held_generator():
            # Released by the test, or by the close.
            on_cancel(Fs.Thread.get_current().get_cancellable(), gen_release)
            gen_release.wait(HANG)
            yield "released"

        bg = Fs.BackgroundGenerator(held_generator)
        with self.assertRaises(TimeoutError):
            bg.next(timeout=0.1)

        release.set()
        gen_release.set()
        t.join()
        mt.join()
        self.assertEqual(bg.next(timeout=HANG), "released")
        self.assertFalse(t.is_alive())
        self.assertFalse(mt.is_alive())

    def test_9_two_consumers_hang(self):
        def source():
            yield from range(500)

        bg = Fs.BackgroundGenerator(source, prefetch=2)
        taken = [[], []]
        ended = [threading.Event(), threading.Event()]

        def consume(index):
            for item in bg:
                taken[index].append(item)
            ended[index].set()

        consumers = [threading.Thread(target=consume, args=(i,)) for i in range(2)]
        for t in consumers:
            t.start()
        for t, end in zip(consumers, ended):
            t.join(HANG)
            self.assertFalse(t.is_alive())
            self.assertTrue(end.is_set())
        self.assertEqual(sorted(taken[0] + taken[1]), list(range(500)))
        # A consumer that comes later sees the end too.
        self.assertEqual(list(bg), [])

    def test_10_no_way_to_stop_workers(self):
        self.check_stop_on_request()
        self.check_stop_on_failure()

    def check_stop_on_request(self):
        # Asked to stop: a thread, and a whole group.
        running = threading.Barrier(5)
        stopped = []
        lock = threading.Lock()

        def worker():
            me = Fs.Thread.get_current()
            cancelled = threading.Event()
            on_cancel(me.get_cancellable(), cancelled)
            running.wait(HANG)
            if not cancelled.wait(HANG):
                raise AssertionError("never asked to stop")
            with lock:
                stopped.append(me.get_name())

        t = Fs.Thread(worker, name="stop-me")
        mt = Fs.MultiThread(worker, thread_count=3, name="stop-us")
        t.start()
        mt.start()
        running.wait(HANG)
        t.cancel()
        mt.cancel()
        t.join()
        mt.join()
        self.assertFalse(t.has_error)
        self.assertFalse(mt.has_error)
        self.assertEqual(sorted(stopped), ["stop-me", "stop-us_0", "stop-us_1", "stop-us_2"])

    def check_stop_on_failure(self):
        # Stopped by a failure: the group's first failure cancels the rest.
        def fail_fast():
            me = Fs.Thread.get_current()
            if me.get_index() == 0:
                raise Failure("stop everyone")
            cancelled = threading.Event()
            on_cancel(me.get_cancellable(), cancelled)
            if not cancelled.wait(HANG):
                raise AssertionError("never asked to stop")

        group = Fs.MultiThread(fail_fast, thread_count=4)
        group.start()
        with self.assertRaises(Failure):
            group.join()
        self.assertEqual(len(group.errors), 1)


if __name__ == "__main__":
    unittest.main()
