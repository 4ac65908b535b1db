# SPDX-License-Identifier: LGPL-2.1-or-later
"""fsthread.multithreading, the drop-in for faceswap's lib.multithreading.

faceswap's usage patterns, written here as faceswap writes them (its image
loaders polling the shared error state, its extract loader's
join(timeout=0.2) loop, its training thread reading a generator once per
step and ending with sys.exit(0), its converter polling four MultiThreads
once a second), then each promise of the drop-in on its own: the shared
error_state, run() overridden by a subclass, threads named for threading
and logging, the exit, SystemExit, Ctrl+C, exceptions as themselves and
freed, no cycle through C, and the GObject being the object.

Children (a new interpreter) run what concerns the exit and signals. A
timeout or a polling interval only ever bounds a wait on a real condition,
or is the pattern under test.
"""

import gc
import io
import logging
import os
import queue
import signal
import sys
import textwrap
import threading
import time
import traceback
import unittest
import weakref

from fsthread_testing import (
    Failure, Fs, GLib, GObject, HANG, collect_garbage, quiet_thread_count, values,
    wait_threads_settle)
from test_interrupt import INTERRUPT_BOUND, Child, report, wait_until_sleeping

import fsthread.multithreading as multithreading
from fsthread.multithreading import (
    BackgroundGenerator, ErrorState, FSThread, MultiThread, _ErrorType, total_cpus)

# What a child needs first: the library, the drop-in, Ctrl+C raising
# KeyboardInterrupt, and a way to say when and where it was caught.
CHILD_PRELUDE = """
from fsthread.multithreading import BackgroundGenerator, ErrorState, FSThread, MultiThread
"""


def child(code):
    return Child(CHILD_PRELUDE + textwrap.dedent(code))


class Capture(logging.Handler):
    """Keeps the records of the library's logger, with the thread names."""

    def __init__(self):
        super().__init__()
        self.records = []
        self.setFormatter(logging.Formatter("%(threadName)s|%(message)s"))

    def emit(self, record):
        self.records.append(self.format(record))

    def __enter__(self):
        logger = logging.getLogger("fsthread")
        logger.addHandler(self)
        self._propagate, logger.propagate = logger.propagate, False
        return self

    def __exit__(self, *exc_info):
        logger = logging.getLogger("fsthread")
        logger.removeHandler(self)
        logger.propagate = self._propagate


def quiet():
    """The library's failure log, kept out of the test output."""
    return Capture()


# ---------------------------------------------------------------------------
# faceswap's patterns

class ImageIO:
    """faceswap's lib.image loader, as it uses the module: a thread per
    loader, the thread's (class-wide) error state kept, the worker polling
    it between puts, load() re-raising on the main thread only."""

    def __init__(self, items, fail_at=None):
        self._items = items
        self._fail_at = fail_at
        self._queue = queue.Queue(maxsize=2)
        self._thread = None
        self._error_state = None
        self.stopped_by_error = threading.Event()

    def _set_thread(self):
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = FSThread(self._process, name=self.__class__.__name__, args=(self._queue,))
        self._error_state = self._thread.error_state
        self._thread.start()

    def _process(self, q):
        for n in self._items:
            if n == self._fail_at:
                raise Failure("cannot decode image %d" % n)
            while True:
                if self._error_state.has_error:
                    self.stopped_by_error.set()
                    return
                try:
                    q.put(n, timeout=0.2)
                    break
                except queue.Full:
                    continue
        q.put("EOF")

    def load(self):
        self._set_thread()
        while True:
            if self._error_state.has_error:
                if threading.current_thread() is threading.main_thread():
                    self._error_state.re_raise()
                else:
                    break
            try:
                item = self._queue.get(True, 1)
            except queue.Empty:
                continue
            if item == "EOF":
                break
            yield item

    def close(self):
        if self._thread is not None:
            self._thread.join()
        self._thread = None


class ImagesLoader(ImageIO):
    pass


class FacesLoader(ImageIO):
    pass


class TestFaceswapPatterns(unittest.TestCase):

    def setUp(self):
        FSThread.error_state.clear()

    def tearDown(self):
        FSThread.error_state.clear()

    def test_image_loaders_share_the_error_state(self):
        images = ImagesLoader(range(1000))
        faces = FacesLoader(range(5), fail_at=3)
        self.assertEqual(list(images.load())[:3], [0, 1, 2])
        images.close()
        # The same state, class-wide.
        images._set_thread()
        self.assertIs(images._error_state, FSThread.error_state)
        with quiet():
            got = []
            with self.assertRaises(Failure) as cm:
                for n in faces.load():
                    got.append(n)
        self.assertEqual(str(cm.exception), "cannot decode image 3")
        # faceswap's loader stops at the first poll that sees the error.
        self.assertEqual(got, [0, 1, 2][:len(got)])
        # The running images loader saw the failure and stopped.
        self.assertTrue(images.stopped_by_error.wait(HANG))
        images.close()
        faces.close()
        # And re_raise() gives the same object to every caller.
        with self.assertRaises(Failure) as again:
            faces._error_state.re_raise()
        self.assertIs(again.exception, cm.exception)

    def test_loading_on_a_worker_thread_breaks_instead_of_raising(self):
        faces = FacesLoader(range(5), fail_at=0)
        got = []

        def consume():
            got.extend(faces.load())

        with quiet():
            consumer = FSThread(consume, name="ExtractLoader")
            consumer.start()
            consumer.join()
        self.assertEqual(got, [])
        self.assertFalse(consumer.has_error)   # it broke out, as faceswap's does
        self.assertTrue(FSThread.error_state.has_error)
        faces.close()

    def test_extract_loader_join_loop_under_ctrl_c(self):
        # scripts/extract.py joins its loader with join(timeout=0.2) in a
        # loop, so that Ctrl+C gets through; here the loader never ends.
        child_ = child("""
            never = threading.Event()
            loader = FSThread(never.wait, name="ExtractLoader", daemon=True)
            loader.start()
            print("ready", flush=True)
            try:
                while loader.is_alive():
                    loader.join(timeout=0.2)
            except KeyboardInterrupt as exc:
                caught("join loop", exc)
                raise
        """)
        self.interrupt(child_, "join loop")

    def interrupt(self, child_, where):
        self.assertEqual(child_.read_line(), "ready")
        wait_until_sleeping(child_.proc.pid)
        sent = time.monotonic()
        child_.proc.send_signal(signal.SIGINT)
        out, err = child_.finish(INTERRUPT_BOUND)
        marker = "caught KeyboardInterrupt in %s at " % where
        self.assertIn(marker, err)
        self.assertEqual(child_.proc.returncode, -signal.SIGINT, err)
        caught = float(err.split(marker, 1)[1].split()[0])
        report(self, "SIGINT to KeyboardInterrupt", caught - sent)
        return out, err

    def test_runner_error_state_is_the_first_threads(self):
        # lib/infer/runner.py: a runner's error_state is its first thread's,
        # treated as process-wide; its workers poll has_error around queue
        # waits of 0.2 s; the main thread re-raises.
        class Threads:
            def __init__(self):
                self._threads = {}
                self._backup_error_state = ErrorState()

            @property
            def error_state(self):
                if not self._threads:
                    return self._backup_error_state
                return list(self._threads.values())[0].error_state

            def register_thread(self, name, target):
                self._threads[name] = FSThread(target=target, name="plugin.%s" % name,
                                               args=(name,))

            def start(self):
                for thread in self._threads.values():
                    thread.start()

            def join(self):
                for thread in self._threads.values():
                    thread.join()

        threads = Threads()
        self.assertFalse(threads.error_state.has_error)
        out_queue = queue.Queue(maxsize=1)
        stopped = []

        def process(name):
            if name == "process":
                raise Failure("plugin failed")
            while True:
                if threads.error_state.has_error:
                    stopped.append(name)
                    return
                try:
                    out_queue.put(name, timeout=0.2)
                except queue.Full:
                    continue

        for name in ("pre_process", "process", "post_process"):
            threads.register_thread(name, process)
        with quiet():
            threads.start()
            threads.join()
        self.assertEqual(sorted(stopped), ["post_process", "pre_process"])
        self.assertTrue(threads.error_state.has_error)
        with self.assertRaises(Failure):
            threads.error_state.re_raise()
        # The backup state is a state of its own.
        self.assertFalse(threads._backup_error_state.has_error)

    def test_sort_sets_the_state_from_the_main_thread(self):
        # tools/sort: error_state.set(sys.exc_info()) on the main thread,
        # then has_error and re_raise().
        thread = FSThread(lambda: None)
        state = thread.error_state
        try:
            raise Failure("bad face")
        except Failure:
            info = sys.exc_info()
            state.set(info)
        self.assertTrue(state.has_error)
        self.assertIs(FSThread.error_state.errors[0][1], info[1])
        try:
            state.re_raise()
        except Failure as exc:
            raised = exc
        self.assertIs(raised, info[1])
        # Its traceback starts where it was raised first.
        self.assertEqual(traceback.extract_tb(raised.__traceback__)[0].name,
                         "test_sort_sets_the_state_from_the_main_thread")

    def test_convert_polls_four_groups_then_joins(self):
        # scripts/convert.py: MultiThread(process, patch_q, save_q,
        # thread_count=N, name="patch") with N from total_cpus(), three
        # groups of one thread (load, save, predict), the main thread
        # polling check_and_raise_error() on all four and completed() once
        # a second, then joining.
        patch_q, save_q, results = queue.Queue(), queue.Queue(), queue.Queue()
        n_frames = 200
        for n in range(n_frames):
            patch_q.put(n)
        workers = total_cpus()
        for _ in range(workers):
            patch_q.put("EOF")

        def process(in_q, out_q):
            while True:
                item = in_q.get()
                if item == "EOF":
                    return
                out_q.put(item * 2)

        def save(out_q, done):
            while done.qsize() < n_frames:
                results.put(out_q.get())
                done.put(True)

        done = queue.Queue()
        patch = MultiThread(process, patch_q, save_q, thread_count=workers, name="patch")
        saver = MultiThread(save, save_q, done, thread_count=1)
        loader = MultiThread(lambda: None, thread_count=1)
        predictor = MultiThread(lambda: None, thread_count=1)
        self.assertTrue(patch.completed())  # before start, as the original
        for group in (loader, saver, predictor):
            group.start()
        patch.start()
        polls = 0
        finished = threading.Event()
        while True:
            for group in (predictor, loader, saver, patch):
                group.check_and_raise_error()
            if patch.completed():
                break
            polls += 1
            finished.wait(1)   # the pattern's interval; the loop ends on completed()
        patch.join()
        saver.join()
        loader.join()
        predictor.join()
        self.assertEqual(sorted(results.queue), [n * 2 for n in range(n_frames)])
        self.assertEqual(patch.name, "patch")
        self.assertEqual(patch.get_thread_count(), workers)

    def test_convert_group_failure_is_raised_by_the_poll(self):
        def process():
            raise MemoryError("no RAM left for a frame")

        patch = MultiThread(process, thread_count=2, name="patch-fail")
        other = MultiThread(lambda: None, thread_count=1)
        with quiet():
            patch.start()
            other.start()
            other.join()
            with self.assertRaises(MemoryError) as cm:
                while True:
                    patch.check_and_raise_error()
                    other.check_and_raise_error()
                    if patch.completed():
                        patch.join()
        self.assertIn(cm.exception, values(patch.errors))
        other.check_and_raise_error()   # only its own errors

    def test_training_thread_exits_with_sys_exit(self):
        # scripts/train.py: MultiThread(target=self._training), polled for
        # has_error once a second; on Ctrl+C the main thread sets _stop and
        # joins; the training thread reads its feed once per step, never
        # closes it, and ends with sys.exit(0), which is no error.
        class Train:
            def __init__(self):
                self._stop = False
                self._steps = 0
                self._stopped = threading.Event()

            def _minibatch(self, do_shuffle):
                n = 0
                while True:
                    yield [n] * 8
                    n += 1

            def _training(self):
                feed = BackgroundGenerator(self._minibatch, args=(True,)).iterator()
                try:
                    while True:
                        batch = next(feed)
                        assert batch == [self._steps] * 8
                        self._steps += 1
                        if self._steps == 50:
                            self._stopped.set()
                        if self._stop:
                            raise KeyboardInterrupt
                except KeyboardInterrupt:
                    sys.exit(0)

            def _monitor(self, thread):
                while True:
                    if thread.has_error:
                        return True
                    if self._stopped.wait(1):   # the pattern's interval
                        return False

            def process(self):
                thread = MultiThread(target=self._training)
                thread.start()
                err = self._monitor(thread)
                self._stop = True
                thread.join()   # must not raise the SystemExit
                return err, thread

        before = quiet_thread_count()
        train = Train()
        err, thread = train.process()
        self.assertFalse(err)
        self.assertFalse(thread.has_error)
        self.assertEqual(thread.errors, [])
        self.assertFalse(FSThread.error_state.has_error)
        self.assertGreaterEqual(train._steps, 50)
        del thread, train
        collect_garbage()
        # The feed was never closed: dropping it stopped its producer.
        wait_threads_settle(before)

    def test_a_new_feed_replaces_the_old_one_unclosed(self):
        # Until 2026 the training feed was replaced by a new one without
        # closing the old: the old producers must not stay.
        before = quiet_thread_count()

        def minibatch(do_shuffle):
            while True:
                yield do_shuffle

        feed = None
        for _ in range(50):
            feed = BackgroundGenerator(minibatch, args=(True,)).iterator()
            self.assertTrue(next(feed))
        del feed
        collect_garbage()
        wait_threads_settle(before)

    def test_preview_thread_with_a_class_as_target(self):
        # scripts/train.py starts FSThread(target=Preview, name="preview",
        # args=..., kwargs=...) and checks it from the training thread.
        built = []

        class Preview:
            def __init__(self, buffer, triggers=None):
                built.append((buffer, triggers))
                raise Failure("no display")

        preview = FSThread(target=Preview, name="preview", args=("buffer",),
                           kwargs={"triggers": "triggers"})
        with quiet():
            preview.start()
            preview.join()
        self.assertEqual(built, [("buffer", "triggers")])
        seen = []

        def training():
            try:
                preview.check_and_raise_error()
            except Failure as exc:
                seen.append(exc)

        trainer = MultiThread(target=training)
        trainer.start()
        trainer.join()
        self.assertEqual([str(e) for e in seen], ["no display"])

    def test_gui_thread_polled_with_is_alive(self):
        # lib/gui and tools/manual: MultiThread(target, *args,
        # thread_count=1, name=...) polled with is_alive(), then
        # check_and_raise_error() and join().
        release = threading.Event()
        result = []

        def background(path, out):
            release.wait(HANG)
            out.append(path)

        thread = MultiThread(background, "/frames", result, thread_count=1, name="init_aligner")
        thread.start()
        self.assertTrue(thread.is_alive())
        release.set()
        while thread.is_alive():
            thread.check_and_raise_error()
            thread.join(timeout=0.2)
        thread.check_and_raise_error()
        thread.join()
        self.assertEqual(result, ["/frames"])

    def test_mask_tool_reraises_after_join(self):
        # tools/mask: FSThread(self._feed_extractor, args=(loader,)), then
        # join(), and error_state.has_error -> re_raise().
        def feed_extractor(loader):
            raise Failure("loader %s failed" % loader)

        input_thread = FSThread(feed_extractor, args=("faces",))
        with quiet():
            input_thread.start()
        input_thread.join()
        self.assertTrue(input_thread.error_state.has_error)
        with self.assertRaises(Failure) as cm:
            input_thread.error_state.re_raise()
        self.assertEqual(str(cm.exception), "loader faces failed")


# ---------------------------------------------------------------------------
# The promises, each on its own

class TestNames(unittest.TestCase):

    def test_the_original_names(self):
        self.assertEqual(sorted(multithreading.__all__),
                         ["BackgroundGenerator", "ErrorState", "FSThread", "MultiThread",
                          "total_cpus"])
        self.assertIsInstance(total_cpus(), int)
        self.assertGreaterEqual(total_cpus(), 1)
        # The alias faceswap's type hints import.
        exc = Failure("x")
        info: _ErrorType = (Failure, exc, None)
        self.assertEqual(len(info), 3)

    def test_the_classes_are_the_librarys(self):
        self.assertTrue(issubclass(FSThread, threading.Thread))
        self.assertTrue(issubclass(FSThread, Fs.Thread))
        self.assertIs(ErrorState, Fs.ErrorState)
        self.assertTrue(issubclass(MultiThread, Fs.MultiThread))
        self.assertTrue(issubclass(BackgroundGenerator, Fs.BackgroundGenerator))
        bg = BackgroundGenerator(lambda: iter([1]))
        self.assertIsInstance(bg, GObject.Object)
        self.assertEqual(list(bg.iterator()), [1])

    def test_fsthread_as_threading_thread(self):
        t = FSThread(lambda: None, name="threadlike")
        self.assertEqual(t.name, "threadlike")
        self.assertFalse(t.daemon)
        self.assertIsNone(t.ident)
        self.assertIn("threadlike", repr(t))
        t.start()
        with self.assertRaises(RuntimeError):
            t.start()   # a thread starts once, as in threading
        t.join()
        self.assertFalse(t.is_alive())
        self.assertIsNotNone(t.ident)
        with self.assertRaises(RuntimeError):
            FSThread(lambda: None).join()   # before start
        # Default names as threading's: Thread-N (target).
        def named_target():
            pass
        self.assertRegex(FSThread(named_target).name, r"^Thread-\d+ \(named_target\)$")
        self.assertTrue(FSThread(lambda: None, daemon=True).daemon)

    def test_background_generator_as_the_originals(self):
        def gen(a, b=0):
            yield a
            yield b

        bg = BackgroundGenerator(gen, prefetch=2, name="feed", args=(1,), kwargs={"b": 2})
        self.assertEqual(bg.name, "feed")
        self.assertEqual(list(bg.iterator()), [1, 2])
        bg.join()
        self.assertTrue(bg.completed())
        self.assertFalse(bg.is_alive())
        self.assertFalse(bg.has_error)
        self.assertEqual(bg.errors, [])
        bg.check_and_raise_error()


class TestErrorStateShared(unittest.TestCase):

    def setUp(self):
        FSThread.error_state.clear()

    def tearDown(self):
        FSThread.error_state.clear()

    def test_one_state_for_every_thread_that_sees_every_failure(self):
        a, b = FSThread(lambda: None), FSThread(lambda: None)
        self.assertIs(a.error_state, b.error_state)
        self.assertIs(a.error_state, FSThread.error_state)
        self.assertIs(FSThread.error_state, Fs.ErrorState.get_default())
        raised = []

        def fail(what):
            raised.append(Failure(what))
            raise raised[-1]

        def failing_generator():
            yield 1
            fail("generator")

        with quiet():
            t = FSThread(fail, args=("fsthread",))
            t.start()
            t.join()
            g = MultiThread(fail, "group", thread_count=1)
            g.start()
            with self.assertRaises(Failure):
                g.join()
            with self.assertRaises(Failure):
                list(BackgroundGenerator(failing_generator))
            o = Fs.Thread(fail, args=("library thread",))
            o.start()
            o.join()
        self.assertTrue(FSThread.error_state.has_error)
        self.assertEqual(values(FSThread.error_state.errors), raised)
        with self.assertRaises(Failure) as cm:
            b.error_state.re_raise()
        self.assertIs(cm.exception, raised[0])

    def test_check_and_raise_error_and_join_raise_only_their_own(self):
        with quiet():
            bad = FSThread(self.raise_failure)
            bad.start()
            bad.join()   # only waits
        good = FSThread(lambda: None)
        good.start()
        good.join()
        good.check_and_raise_error()
        group = MultiThread(lambda: None, thread_count=2)
        group.start()
        group.join()
        group.check_and_raise_error()
        self.assertFalse(group.has_error)
        with self.assertRaises(Failure):
            bad.check_and_raise_error()
        self.assertTrue(FSThread.error_state.has_error)

    @staticmethod
    def raise_failure():
        raise Failure("mine only")

    def test_clear(self):
        FSThread.error_state.set(Failure("to clear"))
        self.assertTrue(FSThread.error_state.has_error)
        FSThread.error_state.clear()
        self.assertFalse(FSThread.error_state.has_error)
        self.assertEqual(FSThread.error_state.errors, [])

    def test_has_error_polled_by_workers_while_one_fails(self):
        # Eight workers poll the shared state as faceswap's producers do;
        # one failure stops them all.
        started = threading.Barrier(9)

        def poller():
            started.wait(HANG)
            while not FSThread.error_state.has_error:
                pass

        pollers = [FSThread(poller) for _ in range(8)]
        for p in pollers:
            p.start()
        started.wait(HANG)
        with quiet():
            failing = FSThread(self.raise_failure)
            failing.start()
        for p in pollers:
            p.join()
            self.assertFalse(p.is_alive())
            p.check_and_raise_error()
        failing.join()


class TestRun(unittest.TestCase):

    def setUp(self):
        FSThread.error_state.clear()

    def test_subclass_overrides_run(self):
        class Worker(FSThread):
            def __init__(self, jobs):
                super().__init__(name="worker")
                self.jobs = jobs
                self.done = []

            def run(self):
                self.current = threading.current_thread()
                for job in self.jobs:
                    if job < 0:
                        raise ValueError("negative job %d" % job)
                    self.done.append(job)

        w = Worker([1, 2, 3])
        w.start()
        w.join()
        self.assertEqual(w.done, [1, 2, 3])
        self.assertIs(w.current, w)
        self.assertFalse(w.has_error)

        bad = Worker([1, -1])
        with quiet():
            bad.start()
            bad.join()
        self.assertEqual(bad.done, [1])
        self.assertTrue(bad.has_error)
        with self.assertRaises(ValueError) as cm:
            bad.check_and_raise_error()
        self.assertEqual(str(cm.exception), "negative job -1")
        self.assertIs(values(FSThread.error_state.errors)[-1], cm.exception)

    def test_super_run_captures_the_targets_error_and_returns(self):
        # As the original's run(): it catches the target's exception, so a
        # subclass's code after super().run() still runs.
        class After(FSThread):
            def run(self):
                super().run()
                self.after = True

        def target():
            raise Failure("from the target")

        t = After(target)
        with quiet():
            t.start()
            t.join()
        self.assertTrue(t.after)
        with self.assertRaises(Failure):
            t.check_and_raise_error()

    def test_run_drops_the_target_afterwards(self):
        # As the original: no cycle through the target's arguments.
        class Payload:
            pass

        payload = Payload()
        ref = weakref.ref(payload)
        t = FSThread(lambda p: None, args=(payload,))
        del payload
        t.start()
        t.join()
        collect_garbage()
        self.assertIsNone(ref())


class TestThreadNames(unittest.TestCase):

    def test_current_thread_and_log_records_carry_the_name(self):
        names = {}
        log = logging.getLogger("fsthread-test.names")
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(threadName)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
        lock = threading.Lock()

        def note(key):
            with lock:
                names[key] = threading.current_thread().name
            log.info("in %s", key)

        def generator():
            note("generator")
            yield 1

        try:
            t = FSThread(note, name="ImagesLoader", args=("thread",))
            t.start()
            t.join()
            g = MultiThread(note, "group", thread_count=2, name="patch")
            g.start()
            g.join()
            self.assertEqual(list(BackgroundGenerator(generator, name="feeder")), [1])
            lib = Fs.Thread(note, name="library", args=("library",))
            lib.start()
            lib.join()
        finally:
            log.removeHandler(handler)
        self.assertEqual(names["thread"], "ImagesLoader")
        self.assertIn(names["group"], ("patch_0", "patch_1"))
        self.assertEqual(names["generator"], "feeder")
        self.assertEqual(names["library"], "library")
        lines = stream.getvalue().splitlines()
        self.assertIn("ImagesLoader: in thread", lines)
        self.assertIn("feeder: in generator", lines)
        self.assertNotIn("Dummy", stream.getvalue())
        # Once the run has ended, the name is gone from threading's table.
        self.assertNotIn("ImagesLoader", [x.name for x in threading.enumerate()])

    def test_a_failure_is_logged_once_with_the_threads_name(self):
        def target():
            raise Failure("bad frame")

        with Capture() as capture:
            t = FSThread(target, name="ExtractOutput")
            t.start()
            t.join()
            g = MultiThread(target, thread_count=1, name="saver")
            g.start()
            with self.assertRaises(Failure):
                g.join()
        self.assertEqual(capture.records, [
            "ExtractOutput|Error in thread (ExtractOutput): Failure(bad frame)",
            "saver|Error in thread (saver): Failure(bad frame)",
        ])
        FSThread.error_state.clear()

    def test_nothing_else_is_printed(self):
        # No traceback from PyGObject or threading: the log line only.
        c = child("""
            import logging
            logging.basicConfig(format="%(threadName)s %(levelname)s %(message)s")

            def target():
                raise ValueError("printed once")

            t = FSThread(target, name="ImagesSaver")
            t.start()
            t.join()
            print("done", flush=True)
        """)
        out, err = c.finish()
        self.assertEqual(c.proc.returncode, 0, err)
        self.assertEqual(out, "done\n")
        self.assertEqual(err, "ImagesSaver CRITICAL Error in thread (ImagesSaver): "
                              "ValueError(printed once)\n")


class TestExit(unittest.TestCase):

    def finish_exit(self, code, give_up=HANG):
        c = child(code)
        out, err = c.finish(give_up)
        self.assertEqual(c.proc.returncode, 0, err)
        return out, err

    def test_exit_with_a_producer_blocked_outside_yield(self):
        # One item taken from a generator whose producer then blocks forever
        # outside yield: the script exits, as on the original.
        out, err = self.finish_exit("""
            def frames():
                yield "first"
                threading.Event().wait()   # forever, outside yield
                yield "never"

            feed = BackgroundGenerator(frames).iterator()
            print(next(feed), flush=True)
        """)
        self.assertEqual(out, "first\n")
        self.assertEqual(err, "")

    def test_exit_with_daemons_and_groups_running(self):
        out, err = self.finish_exit("""
            never = threading.Event()
            FSThread(never.wait, daemon=True).start()
            group = MultiThread(never.wait, thread_count=2)
            group.start()
            MultiThread(never.wait, thread_count=1, name="menu").start()  # never joined
            print("bye", flush=True)
        """)
        self.assertEqual(out, "bye\n")
        self.assertEqual(err, "")

    def test_exit_waits_for_non_daemon_threads(self):
        c = child("""
            def target():
                line = sys.stdin.readline()
                print("finished " + line.strip(), flush=True)

            FSThread(target).start()        # not a daemon: from the main thread
            print("main done", flush=True)
        """)
        self.assertEqual(c.read_line(), "main done")
        wait_until_sleeping(c.proc.pid)
        self.assertIsNone(c.proc.poll())
        out, err = c.finish(input=b"now\n")
        self.assertEqual(c.proc.returncode, 0, err)
        self.assertEqual(out, "finished now\n")

    def test_ctrl_c_during_the_exit_wait(self):
        c = child("""
            never = threading.Event()
            FSThread(never.wait, name="stuck").start()
            print("ready", flush=True)
        """)
        self.assertEqual(c.read_line(), "ready")
        wait_until_sleeping(c.proc.pid)
        sent = time.monotonic()
        c.proc.send_signal(signal.SIGINT)
        out, err = c.finish(INTERRUPT_BOUND)
        report(self, "SIGINT to exit", time.monotonic() - sent)
        # As with threading's own threads: the wait is given up, the
        # interrupt reported, and the interpreter ends.
        self.assertIn("KeyboardInterrupt", err)


class TestSystemExit(unittest.TestCase):

    def test_system_exit_ends_a_thread_quietly(self):
        def target():
            sys.exit(0)

        with Capture() as capture:
            t = FSThread(target)
            t.start()
            t.join()
            group = MultiThread(target, thread_count=3)
            group.start()
            group.join()
        self.assertFalse(t.has_error)
        self.assertFalse(group.has_error)
        self.assertEqual(capture.records, [])
        self.assertFalse(FSThread.error_state.has_error)

    def test_every_other_exception_is_captured(self):
        for exc_type in (KeyboardInterrupt, GeneratorExit, Failure):
            def target():
                raise exc_type("from a thread")

            def gen():
                yield 1
                raise exc_type("from a generator")

            with quiet():
                t = FSThread(target)
                t.start()
                t.join()
                with self.assertRaises(exc_type):
                    t.check_and_raise_error()
                bg = BackgroundGenerator(gen)
                self.assertEqual(next(bg), 1)
                with self.assertRaises(exc_type):
                    next(bg)
        FSThread.error_state.clear()

    def test_system_exit_in_a_generator_reaches_the_consumer(self):
        # A generator that ends with SystemExit did not end its stream: the
        # consumer gets the exception rather than a stream cut short.
        def gen():
            yield 1
            raise SystemExit(2)

        with quiet():
            got = []
            with self.assertRaises(SystemExit) as cm:
                for item in BackgroundGenerator(gen):
                    got.append(item)
        self.assertEqual(got, [1])
        self.assertEqual(cm.exception.code, 2)
        FSThread.error_state.clear()


class TestCtrlC(unittest.TestCase):
    """SIGINT while the child's main thread sleeps in the call."""

    interrupt = TestFaceswapPatterns.interrupt

    def test_next(self):
        self.interrupt(child("""
            def held():
                threading.Event().wait()
                yield "never"

            feed = BackgroundGenerator(held).iterator()
            print("ready", flush=True)
            try:
                next(feed)
            except KeyboardInterrupt as exc:
                caught("next", exc)
                raise
        """), "next")

    def test_for_loop(self):
        self.interrupt(child("""
            def held():
                yield 1
                threading.Event().wait()
                yield "never"

            print("ready", flush=True)
            try:
                for item in BackgroundGenerator(held):
                    pass
            except KeyboardInterrupt as exc:
                caught("for", exc)
                raise
        """), "for")

    def test_join(self):
        self.interrupt(child("""
            t = FSThread(threading.Event().wait, daemon=True)
            t.start()
            print("ready", flush=True)
            try:
                t.join()
            except KeyboardInterrupt as exc:
                caught("join", exc)
                raise
        """), "join")

    def test_multi_thread_join(self):
        self.interrupt(child("""
            g = MultiThread(threading.Event().wait, thread_count=2)
            g.start()
            print("ready", flush=True)
            try:
                g.join()
            except KeyboardInterrupt as exc:
                caught("group join", exc)
                raise
        """), "group join")

    def test_close(self):
        # The producer blocks outside yield: close() waits for it, and
        # Ctrl+C ends the wait.
        self.interrupt(child("""
            outside = threading.Event()

            def held():
                yield 1
                outside.set()
                threading.Event().wait()
                yield "never"

            bg = BackgroundGenerator(held)
            assert next(bg) == 1
            outside.wait()
            print("ready", flush=True)
            try:
                bg.close()
            except KeyboardInterrupt as exc:
                caught("close", exc)
                raise
        """), "close")

    def test_an_interrupted_loop_loses_nothing(self):
        # SIGINT after SIGINT while a loop consumes: each interrupted loop,
        # resumed, gets every item exactly once.
        c = child("""
            import os, signal
            N = 20000

            def numbers():
                yield from range(N)

            # KeyboardInterrupt anywhere inside the loop, never outside it.
            inside = [False]

            def on_sigint(signum, frame):
                if inside[0]:
                    inside[0] = False
                    raise KeyboardInterrupt

            signal.signal(signal.SIGINT, on_sigint)
            bg = BackgroundGenerator(numbers, prefetch=1)
            got = []
            interrupts = 0
            done = threading.Event()

            def storm():
                main = threading.main_thread().ident
                while not done.is_set():
                    signal.pthread_kill(main, signal.SIGINT)
                    done.wait(0.0002)   # the storm's pace

            stormer = threading.Thread(target=storm)
            stormer.start()
            while True:
                try:
                    inside[0] = True
                    for item in bg:
                        got.append(item)
                    inside[0] = False
                    break
                except KeyboardInterrupt:
                    interrupts += 1
            done.set()
            stormer.join()
            print(interrupts > 0, got == list(range(N)), len(got), len(set(got)), flush=True)
        """)
        out, err = c.finish()
        self.assertEqual(c.proc.returncode, 0, err)
        self.assertEqual(out.split(), ["True", "True", "20000", "20000"])


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str for you")


class TestExceptionsAsThemselves(unittest.TestCase):

    def setUp(self):
        FSThread.error_state.clear()

    def tearDown(self):
        FSThread.error_state.clear()

    def failing_stream(self, make):
        def gen():
            yield "item"
            raise make()
        return BackgroundGenerator(gen)

    @staticmethod
    def chained_stream(made):
        def gen():
            yield "item"
            try:
                try:
                    raise OSError("the cause") from KeyError("the first")
                except OSError:
                    raise ValueError("while handling")
            except ValueError as exc:
                made.append(exc)
                raise
        return BackgroundGenerator(gen)

    def test_for_loop_and_next_give_the_same_object_with_its_chain(self):
        made = []
        caught = []
        with quiet():
            try:
                for _ in self.chained_stream(made):
                    pass
            except ValueError as exc:
                caught.append(exc)
            stream = self.chained_stream(made)
            next(stream)
            for _ in range(2):
                try:
                    next(stream)
                except ValueError as exc:
                    caught.append(exc)
        self.assertEqual(len(caught), 3)
        self.assertIs(caught[0], made[0])
        self.assertIs(caught[1], made[1])
        self.assertIs(caught[2], made[1])
        for exc in caught:
            self.assertIsInstance(exc.__context__, OSError)
            self.assertIsInstance(exc.__context__.__cause__, KeyError)
            self.assertIn("gen", [f.name for f in traceback.extract_tb(exc.__traceback__)])

    def test_an_exception_whose_str_raises(self):
        def target():
            raise Unprintable()

        with Capture() as capture:
            t = FSThread(target, name="unprintable")
            t.start()
            t.join()
            with self.assertRaises(Unprintable):
                t.check_and_raise_error()
            with self.assertRaises(Unprintable):
                list(self.failing_stream(Unprintable))
        self.assertEqual(len(capture.records), 2)

    def test_a_message_with_a_lone_surrogate(self):
        name = os.fsdecode(b"frame-\xff.png")   # a lone surrogate, as os.fsdecode makes

        def target():
            raise FileNotFoundError(name)

        with quiet():
            t = FSThread(target)
            t.start()
            t.join()
            with self.assertRaises(FileNotFoundError) as cm:
                t.check_and_raise_error()
        self.assertEqual(cm.exception.args, (name,))
        with quiet():
            with self.assertRaises(FileNotFoundError) as cm:
                list(self.failing_stream(lambda: FileNotFoundError(name)))
        self.assertEqual(cm.exception.args, (name,))


class Payload:
    """Something big an exception carries."""


class TestExceptionsFreed(unittest.TestCase):

    def setUp(self):
        FSThread.error_state.clear()

    def tearDown(self):
        FSThread.error_state.clear()

    def test_a_new_run_and_clear_free_the_old_exceptions(self):
        refs = []

        def target():
            payload = Payload()
            refs.append(weakref.ref(payload))
            raise Failure(payload)

        t = Fs.Thread(target)
        group = MultiThread(target, thread_count=1)
        with quiet():
            for _ in range(250):
                t.start()
                t.join()
                group.start()
                try:
                    group.join()
                except Failure:
                    pass
        collect_garbage()
        alive = sum(1 for r in refs if r() is not None)
        # The last run's, and what the process-wide state keeps: the first
        # error and the newest, bounded.
        bound = 2 * FSThread.error_state.get_max_errors() + 2
        self.assertLessEqual(alive, bound)
        self.assertEqual(FSThread.error_state.get_n_errors(), 500)
        FSThread.error_state.clear()
        t.start()
        t.join()
        del t, group
        collect_garbage()
        self.assertLessEqual(sum(1 for r in refs if r() is not None), 1)

    def test_clear_of_a_state_frees_its_exceptions(self):
        state = ErrorState()
        refs = []
        for _ in range(500):
            payload = Payload()
            refs.append(weakref.ref(payload))
            try:
                raise Failure(payload)
            except Failure:
                state.set(sys.exc_info())
            del payload
        collect_garbage()
        self.assertEqual(sum(1 for r in refs if r() is not None), 500)
        state.clear()
        collect_garbage()
        self.assertEqual(sum(1 for r in refs if r() is not None), 0)


class TestNoCycleThroughC(unittest.TestCase):

    def test_owner_of_its_own_feed_is_collected_and_its_producer_stops(self):
        before = quiet_thread_count()
        stopped = []

        class Generator:
            def __init__(self):
                self.feed = BackgroundGenerator(self._minibatch, prefetch=2)

            def _minibatch(self):
                try:
                    n = 0
                    while True:
                        yield [n]
                        n += 1
                finally:
                    stopped.append(True)

        refs = []
        for _ in range(20):
            owner = Generator()
            self.assertEqual(next(owner.feed), [0])
            refs.append(weakref.ref(owner))
            del owner
            collect_garbage()
        self.assertEqual([r for r in refs if r() is not None], [])
        self.assertEqual(len(stopped), 20)
        wait_threads_settle(before)

    def test_owner_of_its_threads_is_collected(self):
        class Owner:
            def __init__(self):
                self.thread = FSThread(self._process, name="owned")
                self.group = MultiThread(self._process, thread_count=2)

            def _process(self):
                pass

        refs = []
        for _ in range(20):
            owner = Owner()
            owner.thread.start()
            owner.group.start()
            owner.thread.join()
            owner.group.join()
            refs.append(weakref.ref(owner))
            del owner
        collect_garbage()
        self.assertEqual([r for r in refs if r() is not None], [])


class TestWhatStays(unittest.TestCase):

    def test_any_value_and_items_before_the_error(self):
        def gen():
            yield None
            yield "EOF"
            yield 0
            raise Failure("after three")

        got = []
        with quiet():
            with self.assertRaises(Failure):
                for item in BackgroundGenerator(gen).iterator():
                    got.append(item)
        self.assertEqual(got, [None, "EOF", 0])
        FSThread.error_state.clear()

    def test_bounded_prefetch_and_early_exit(self):
        made = []
        lock = threading.Condition()

        def gen():
            for n in range(1000):
                with lock:
                    made.append(n)
                    lock.notify_all()
                yield n

        before = quiet_thread_count()
        bg = BackgroundGenerator(gen, prefetch=3)
        with lock:
            self.assertTrue(lock.wait_for(lambda: len(made) >= 3, HANG))
        producer = bg.get_thread()
        self.assertEqual(next(bg), 0)
        bg.close()
        self.assertFalse(producer.is_alive())
        # At most prefetch items ahead, plus the one taken.
        self.assertLessEqual(len(made), 4)
        del bg, producer
        wait_threads_settle(before)

    def test_multiple_consumers(self):
        def gen():
            yield from range(3000)

        bg = BackgroundGenerator(gen, prefetch=8)
        seen = [[] for _ in range(3)]

        def consume(mine):
            mine.extend(bg)

        consumers = [FSThread(consume, args=(mine,)) for mine in seen]
        for c in consumers:
            c.start()
        for c in consumers:
            c.join()
        everything = sorted(n for mine in seen for n in mine)
        self.assertEqual(everything, list(range(3000)))


if __name__ == "__main__":
    unittest.main()
