# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fs.map (and fsthread.multithreading.map): a Python function over an
iterable on several library threads, results in order, lazy and bounded."""

import gc
import itertools
import os
import threading
import time
import unittest
import weakref

from fsthread_testing import HANG, Failure, Fs, GLib, collect_garbage, quiet_thread_count, \
    wait_threads_settle

from fsthread import multithreading


class Item:
    """An item whose life the tests can watch."""

    def __init__(self, n):
        self.n = n


class Tracked:
    """An iterable of Items that counts how many were read and keeps a
    weak reference to each."""

    def __init__(self, n=None):
        self.n = n
        self.read = 0
        self.refs = []

    def __iter__(self):
        for i in (range(self.n) if self.n is not None else itertools.count()):
            item = Item(i)
            self.refs.append(weakref.ref(item))
            self.read += 1
            yield item
            del item

    def alive(self):
        return [r() for r in self.refs if r() is not None]


def setUpModule():
    # A main loop's asynchronous round starts GLib's own worker thread,
    # which lives as long as the process: start it before the tests count
    # their threads.
    stream = Fs.BackgroundGenerator(lambda: iter(()), name="warm-up")
    loop = GLib.MainLoop()
    stream.next_async(None, lambda *_ignored: loop.quit())
    loop.run()
    stream.close()


class TestMap(unittest.TestCase):

    def setUp(self):
        self.threads = quiet_thread_count()

    def tearDown(self):
        collect_garbage()
        wait_threads_settle(self.threads)

    def test_results_in_order_as_the_builtin(self):
        for threads in (1, 2, 4):
            with self.subTest(threads=threads):
                got = list(Fs.map(lambda x: x * x, range(500), thread_count=threads))
                self.assertEqual(got, [x * x for x in range(500)])

    def test_any_object_comes_through_as_itself(self):
        objects = [None, "EOF", 0, (), object(), [1]]
        got = list(Fs.map(lambda x: x, objects, thread_count=2))
        self.assertEqual(len(got), len(objects))
        for a, b in zip(got, objects):
            self.assertIs(a, b)

    def test_unordered_hands_over_what_is_ready(self):
        # Item 0 waits until the consumer has the result of item 1: in order,
        # that would never come.
        first_taken = threading.Event()

        def work(x):
            if x == 0:
                self.assertTrue(first_taken.wait(HANG))
            return x

        results = Fs.map(work, range(2), thread_count=2, ordered=False)
        first = next(results)
        first_taken.set()
        self.assertEqual(first, 1)
        self.assertEqual(list(results), [0])

    def test_the_function_runs_on_named_library_threads(self):
        names = set(Fs.map(lambda _: threading.current_thread().name, range(50),
                           thread_count=2))
        self.assertTrue(names)
        self.assertNotIn(threading.main_thread().name, names)
        for name in names:
            self.assertFalse(name.startswith("Dummy"), name)

    def map_until_failure(self, fail_at, ordered):
        """Maps an endless Tracked source with a function that raises at
        item `fail_at`; checks the exception is the object raised and that
        every item read is freed. Returns (results got, items called)."""
        raised = Failure("item %d" % fail_at)
        calls = []

        def work(item):
            calls.append(item.n)
            if item.n == fail_at:
                raise raised
            return item.n

        source = Tracked()
        results = Fs.map(work, source, thread_count=2, prefetch=4, ordered=ordered)
        got = []
        with self.assertRaises(Failure) as caught:
            for value in results:
                got.append(value)
        self.assertIs(caught.exception, raised)
        # Every item read was freed, none was lost in a queue.
        results.close()
        del results, caught, raised, work
        collect_garbage()
        self.assertEqual(source.alive(), [])
        return got, calls

    def test_an_exception_comes_after_the_results_before_it(self):
        got, calls = self.map_until_failure(30, ordered=True)
        self.assertEqual(got, list(range(30)))
        # Fail fast: the workers took no item far beyond the failing one.
        self.assertLessEqual(max(calls), 30 + 2 + 4 + 2)

    def test_an_exception_of_the_iterable_comes_in_its_place(self):
        def items():
            yield 1
            yield 2
            raise KeyError("the source")

        results = Fs.map(str, items(), thread_count=2)
        self.assertEqual(next(results), "1")
        self.assertEqual(next(results), "2")
        with self.assertRaises(KeyError):
            next(results)

    def test_lazy_and_bounded_on_an_infinite_iterable(self):
        source = Tracked()
        prefetch, threads = 3, 2
        results = Fs.map(lambda item: item.n, source, thread_count=threads, prefetch=prefetch)
        self.assertEqual([next(results) for _ in range(10)], list(range(10)))
        # Ahead of the 10 taken: the finished results, one item per worker,
        # and what the reading thread holds (its queue of 1 and the item it
        # waits to hand over).
        bound = 10 + prefetch + threads + 2
        self.assertLessEqual(source.read, bound)
        self.assertTrue(results.close(HANG))
        self.assertLessEqual(source.read, bound)
        del results
        collect_garbage()
        self.assertEqual(source.alive(), [])

    def test_dropped_midway_stops_every_thread_and_frees_every_item(self):
        source = Tracked()
        results = Fs.map(lambda item: item.n, source, thread_count=2)
        self.assertEqual(next(results), 0)
        del results
        collect_garbage()
        wait_threads_settle(self.threads)
        # The reading thread's generator is closed once its thread is gone.
        collect_garbage()
        self.assertEqual(source.alive(), [])

    def test_an_owner_that_holds_its_map_is_collected(self):
        # A bound method as the function: a cycle through the library that
        # Python's collector sees.
        class Owner:
            def __init__(self):
                self.results = Fs.map(self.work, itertools.count(), thread_count=2)

            def work(self, x):
                return x

        owner = Owner()
        self.assertEqual(next(owner.results), 0)
        ref = weakref.ref(owner)
        del owner
        # A worker that is running the method holds the owner for that
        # moment: the cycle is garbage once it returns, and the collector
        # finds it then.
        deadline = time.monotonic() + HANG
        while ref() is not None and time.monotonic() < deadline:
            collect_garbage()
            os.sched_yield()
        self.assertIsNone(ref())
        wait_threads_settle(self.threads)

    def test_many_maps_leave_no_thread_or_object_behind(self):
        for n in range(50):
            results = Fs.map(lambda x: x + 1, range(n), thread_count=2, prefetch=1)
            self.assertEqual(sum(results), sum(range(1, n + 1)))
            self.assertTrue(results.close(HANG))
        del results
        collect_garbage()
        wait_threads_settle(self.threads)

    def test_unordered_an_exception_comes_after_what_was_handed_over(self):
        got, calls = self.map_until_failure(20, ordered=False)
        self.assertNotIn(20, got)
        self.assertEqual(len(set(got)), len(got))
        self.assertLessEqual(max(calls), 20 + 2 + 4 + 2)

    def test_the_iterable_is_read_by_one_thread_at_a_time(self):
        # An iterator that is not thread-safe: it notices a second reader.
        class Careful:
            def __init__(self):
                self.inside = 0
                self.overlaps = 0
                self.n = 0

            def __iter__(self):
                return self

            def __next__(self):
                self.inside += 1
                try:
                    if self.inside > 1:
                        self.overlaps += 1
                    if self.n == 2000:
                        raise StopIteration
                    self.n += 1
                    # Long enough for another thread to come in.
                    for _ in range(50):
                        os.sched_yield()
                    return self.n
                finally:
                    self.inside -= 1

        source = Careful()
        got = list(Fs.map(lambda x: x, source, thread_count=4, prefetch=8))
        self.assertEqual(got, list(range(1, 2001)))
        self.assertEqual(source.overlaps, 0)

    def test_results_through_next_async_in_a_main_loop(self):
        results = Fs.map(lambda x: x * 3, range(40), thread_count=2, prefetch=2)
        loop = GLib.MainLoop()
        received = []
        outcome = {}

        def on_result(source, result, *_ignored):
            value, status = source.next_finish_full(result)
            if status != Fs.WaitStatus.OK:
                outcome["end"] = status
                loop.quit()
                return
            received.append(value)
            source.next_async(None, on_result)

        def give_up():
            outcome["hang"] = True
            loop.quit()
            return GLib.SOURCE_REMOVE

        guard = GLib.timeout_add_seconds(int(HANG), give_up)
        results.next_async(None, on_result)
        loop.run()
        self.assertNotIn("hang", outcome)
        GLib.source_remove(guard)
        self.assertEqual(outcome["end"], Fs.WaitStatus.END)
        self.assertEqual(received, [x * 3 for x in range(40)])

    def test_close_while_the_workers_wait_for_the_consumer(self):
        source = Tracked()
        results = Fs.map(lambda item: item.n, source, thread_count=2, prefetch=1)
        self.assertEqual(next(results), 0)
        # Nobody takes more: a worker waits in its handover, the other for
        # room. close() wakes both and frees what they hold.
        self.assertTrue(results.close(HANG))
        self.assertEqual(list(results), [])
        del results
        collect_garbage()
        wait_threads_settle(self.threads)
        self.assertEqual(source.alive(), [])

    def test_the_last_reference_dropped_by_the_iterable(self):
        # The stream is dropped on a worker, while it holds the reading
        # lock: the map stops; nothing hangs or leaks.
        holder = {}
        dropped = threading.Event()

        def items():
            for n in itertools.count():
                if n == 5:
                    holder.clear()
                    collect_garbage()
                    dropped.set()
                yield n

        holder["results"] = Fs.map(lambda x: x, items(), thread_count=2, prefetch=2)
        # Far enough for the workers to read item 5.
        results = holder["results"]
        self.assertEqual([next(results) for _ in range(4)], [0, 1, 2, 3])
        del results
        self.assertTrue(dropped.wait(HANG))
        collect_garbage()
        wait_threads_settle(self.threads)

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            Fs.map(str, [], thread_count=0)
        with self.assertRaises(ValueError):
            Fs.map(str, [], prefetch=0)

    def test_the_drop_in_module_has_it_outside_all(self):
        self.assertIs(multithreading.map, Fs.map)
        self.assertNotIn("map", multithreading.__all__)
        self.assertEqual(list(multithreading.map(len, ["a", "bb"])), [1, 2])


if __name__ == "__main__":
    gc.collect()
    unittest.main()
