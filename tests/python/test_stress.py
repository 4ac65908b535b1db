# SPDX-License-Identifier: LGPL-2.1-or-later
"""The stress suite in miniature, from Python: many background generators
left early at random points, generators that raise (KeyboardInterrupt
too), groups whose threads raise at random; every item produced is taken
or released once, every exception comes back as the same object, and the
thread count comes back to where it started.

The seed is printed first; FS_STRESS_SEED=N reruns it. FS_STRESS_SCALE=F
sizes the run. A watchdog (faulthandler) dumps every thread's stack and
exits instead of hanging.
"""

import faulthandler
import gc
import os
import random
import sys
import threading
import unittest
import weakref

from fsthread_testing import HANG, Failure, Fs, count_threads, values, wait_threads_settle

SEED = int(os.environ.get("FS_STRESS_SEED") or random.SystemRandom().randrange(2**32))
SCALE = float(os.environ.get("FS_STRESS_SCALE") or 1.0)
WATCHDOG = float(os.environ.get("FS_STRESS_WATCHDOG") or 300)


def scaled(n, at_least):
    return max(at_least, int(n * SCALE))


class Token:
    """An item that counts its own release."""

    def __init__(self, trial, index, released):
        self.trial = trial
        self.index = index
        weakref.finalize(self, released.append, (trial, index))


def generator(trial, n_items, fail_at, exc_type, produced, released):
    for i in range(n_items + 1):
        if i == fail_at:
            raise exc_type("trial %d failed at %d" % (trial, i))
        if i == n_items:
            return
        produced.append(i)
        yield Token(trial, i, released)


class StressTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sys.stderr.write("# test_stress: FS_STRESS_SEED=%d FS_STRESS_SCALE=%g\n" % (SEED, SCALE))
        faulthandler.dump_traceback_later(WATCHDOG, exit=True)
        # Threads the interpreter and GLib keep for good start now.
        list(Fs.BackgroundGenerator(lambda: iter(()), prefetch=1))
        gc.collect()

    @classmethod
    def tearDownClass(cls):
        faulthandler.cancel_dump_traceback_later()

    def settle(self, before):
        gc.collect()
        wait_threads_settle(before)

    def consume(self, bg, stop_at, taken, lock):
        """Takes items until the end, the generator's exception, or
        stop_at items taken by this consumer; returns what ended it."""
        n = 0
        last = -1
        try:
            for item in bg:
                self.assertGreater(item.index, last)
                last = item.index
                with lock:
                    taken.append(item.index)
                n += 1
                del item
                if n == stop_at:
                    return "break"
        except BaseException as exc:  # noqa: B902: KeyboardInterrupt is expected
            return exc
        return "end"

    def test_generators_left_at_random(self):
        rand = random.Random(SEED)
        before = count_threads()
        n_trials = scaled(300, 20)
        totals = {"produced": 0, "taken": 0, "raised": 0, "breaks": 0}

        for trial in range(n_trials):
            n_items = rand.randrange(0, 40)
            fail_at = rand.randrange(0, n_items + 1) if rand.random() < 0.3 else -1
            exc_type = rand.choice([Failure, ValueError, KeyboardInterrupt])
            prefetch = rand.randrange(1, 5)
            n_consumers = rand.choice([1, 1, 2, 3])
            stop_at = [rand.randrange(0, n_items + 2) if rand.random() < 0.4 else -1
                       for _ in range(n_consumers)]
            produced, released, taken = [], [], []
            lock = threading.Lock()
            outcomes = [None] * n_consumers

            bg = Fs.BackgroundGenerator(generator, prefetch=prefetch,
                                        args=(trial, n_items, fail_at, exc_type, produced, released))

            def run(k):
                outcomes[k] = self.consume(bg, stop_at[k], taken, lock)

            threads = [threading.Thread(target=run, args=(k,)) for k in range(1, n_consumers)]
            for t in threads:
                t.start()
            outcomes[0] = self.consume(bg, stop_at[0], taken, lock)
            for t in threads:
                t.join(30)
                self.assertFalse(t.is_alive(), "seed %d trial %d: a consumer hangs" % (SEED, trial))

            # Left early or not, closing stops the producer and releases
            # what it queued.
            if rand.random() < 0.5:
                bg.close()
            # The consumers' function holds the generator too. Dropping it
            # closes the stream without waiting: wait for the producer.
            producer = bg.get_thread()
            del bg, run, threads
            producer.join(HANG)
            self.assertFalse(producer.is_alive(), "seed %d trial %d: a producer hangs" % (SEED, trial))
            del producer

            where = "seed %d trial %d" % (SEED, trial)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    # The generator's own exception, and only when it raised.
                    self.assertIsInstance(outcome, exc_type, where)
                    self.assertGreaterEqual(fail_at, 0, where)
                    self.assertEqual(str(outcome), "trial %d failed at %d" % (trial, fail_at), where)
                    totals["raised"] += 1
                elif outcome == "end":
                    self.assertEqual(fail_at, -1, where + ": an exception was lost")
                else:
                    self.assertEqual(outcome, "break", where)
                    totals["breaks"] += 1
            # An exception's traceback holds the producer's frames, and they
            # the last item: let go of them before counting releases.
            outcome = None
            del outcomes[:]
            gc.collect()

            self.assertEqual(sorted(taken), sorted(set(taken)), where + ": an item was taken twice")
            self.assertTrue(set(taken) <= set(produced), where)
            self.assertEqual(sorted(i for _, i in released), sorted(produced),
                             where + ": an item was not released exactly once")
            totals["produced"] += len(produced)
            totals["taken"] += len(taken)

        self.settle(before)
        sys.stderr.write("# %d generators: %s\n" % (n_trials, totals))

    def test_groups_raise_at_random(self):
        rand = random.Random(SEED ^ 0x5A5A)
        before = count_threads()
        n_trials = scaled(100, 10)

        for trial in range(n_trials):
            n = rand.randrange(1, 9)
            plan = [rand.choice([None, None, None, Failure, KeyboardInterrupt]) for _ in range(n)]
            raised = {}
            lock = threading.Lock()

            def target(plan=plan, raised=raised, lock=lock, trial=trial):
                index = Fs.Thread.get_current().get_index()
                exc_type = plan[index]
                if exc_type is not None:
                    exc = exc_type("trial %d thread %d" % (trial, index))
                    with lock:
                        raised[index] = exc
                    raise exc

            group = Fs.MultiThread(target, thread_count=n, name="py-stress")
            group.start()
            where = "seed %d trial %d" % (SEED, trial)
            try:
                group.join()
            except BaseException as exc:  # noqa: B902: KeyboardInterrupt is expected
                # The first listed, the very object a thread raised.
                self.assertIs(exc, values(group.errors)[0], where)
                self.assertIn(exc, raised.values(), where)
            else:
                self.assertEqual(raised, {}, where + ": an exception was lost")
            # Every exception listed once, nothing else.
            self.assertEqual(len(group.errors), len(raised), where)
            self.assertEqual({id(e) for e in values(group.errors)}, {id(e) for e in raised.values()}, where)
            del group
            gc.collect()

        self.settle(before)


if __name__ == "__main__":
    unittest.main()
