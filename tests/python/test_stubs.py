# SPDX-License-Identifier: LGPL-2.1-or-later
"""The type stubs: fsthread/python/fsthread/multithreading.pyi (the drop-in)
and fsthread/Fs.pyi (the override's Python API), checked with mypy when it
is installed (Debian: the mypy package), skipped otherwise.

- code written as faceswap writes it, type hints and all, checks clean
  against the drop-in's stub, under --strict;
- the same stub refuses code that misuses the API (so the stub is not
  Any everywhere);
- stubtest finds the stub and the running module in agreement;
- code using the override checks clean against Fs.pyi.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))
DROP_IN_DIR = os.path.join(SOURCE, "fsthread", "python")
OVERRIDE_STUB = os.path.join(SOURCE, "fsthread", "Fs.pyi")

try:
    import mypy.api  # noqa: F401
except ImportError:  # pragma: no cover
    mypy = None

FACESWAP_STYLE = '''
from __future__ import annotations

import sys
import typing as T
from queue import Queue
from types import TracebackType

from fsthread.multithreading import (
    BackgroundGenerator, ErrorState, FSThread, MultiThread, _ErrorType, total_cpus)


class ImageIO:
    def __init__(self, queue_size: int) -> None:
        self._queue: Queue[str] = Queue(maxsize=queue_size)
        self._thread: FSThread | None = None
        self._error_state: ErrorState | None = None

    def _set_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = FSThread(self._process, name=self.__class__.__name__,
                                args=(self._queue,))
        self._error_state = self._thread.error_state
        self._thread.start()

    def _process(self, queue: Queue[str]) -> None:
        assert self._error_state is not None
        if self._error_state.has_error:
            return
        queue.put("EOF")

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=0.2)
            self._thread.check_and_raise_error()


class LongRunningTask:
    def __init__(self) -> None:
        self.err: _ErrorType | None = None


def minibatch(do_shuffle: bool) -> T.Iterator[list[int]]:
    yield [1, 2]


def convert() -> int:
    feed = BackgroundGenerator(minibatch, prefetch=2, args=(True,)).iterator()
    batch: list[int] = next(feed)
    patch = MultiThread(print, "frame", thread_count=total_cpus(), name="patch")
    patch.start()
    while not patch.completed():
        patch.check_and_raise_error()
    patch.join()
    errors: list[_ErrorType] = patch.errors
    if FSThread.error_state.has_error:
        FSThread.error_state.re_raise()
    try:
        raise ValueError("x")
    except ValueError:
        FSThread.error_state.set(sys.exc_info())
    FSThread.error_state.clear()
    tb: TracebackType | None = errors[0][2] if errors else None
    return len(batch) + len(errors) + (tb is None)


class Worker(FSThread):
    def run(self) -> None:
        super().run()
'''

MISUSED = '''
from fsthread.multithreading import BackgroundGenerator, FSThread, MultiThread

FSThread(target=1)
MultiThread(print, thread_count="two")
flag: str = FSThread().error_state.has_error
BackgroundGenerator(print, prefetch=None)
'''

OVERRIDE_USE = '''
import gi

gi.require_version("Fs", "1")
from gi.repository import Fs

def items() -> list[int]:
    return [1, 2, 3]

stream = Fs.BackgroundGenerator(items, prefetch=2)
total: int = sum(stream)
thread = Fs.Thread(target=print, name="printer", args=("x",))
thread.start()
thread.join(timeout=1.5)
group = Fs.MultiThread(print, "y", thread_count=Fs.total_cpus())
group.start()
finished: bool = group.join()
state = Fs.ErrorState(max_errors=4)
state.set(ValueError("x"))
first: BaseException = state.errors[0][1]
status: Fs.WaitStatus = stream.next_value(0, None)[0]
'''

# Enough of gi for mypy to follow `from gi.repository import Fs` to the
# override's stub.
GI_STUB = '''
def require_version(namespace: str, version: str) -> None: ...
'''


@unittest.skipIf(mypy is None, "mypy is not installed (Debian: the mypy package)")
class TestStubs(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fs-stubs-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def mypy(self, code, *args, path):
        program = os.path.join(self.tmp, "program.py")
        with open(program, "w") as f:
            f.write(textwrap.dedent(code))
        env = dict(os.environ, MYPYPATH=path)
        proc = subprocess.run(
            [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull,
             "--python-version", "%d.%d" % sys.version_info[:2], *args, program],
            env=env, cwd=self.tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        return proc.returncode, proc.stdout

    def test_faceswap_style_code_checks_clean(self):
        code, out = self.mypy(FACESWAP_STYLE, "--strict", path=DROP_IN_DIR)
        self.assertEqual(code, 0, out)

    def test_misuse_is_refused(self):
        code, out = self.mypy(MISUSED, path=DROP_IN_DIR)
        self.assertEqual(code, 1, out)
        for line in (4, 5, 6, 7):
            self.assertIn("program.py:%d: error:" % line, out)

    def test_stub_and_module_agree(self):
        runner = textwrap.dedent('''
            import sys
            sys.path.insert(0, %r)
            import fsthread_testing  # the override of the source tree
            from mypy.stubtest import main
            sys.argv = ["stubtest", "--allowlist", %r, "fsthread.multithreading"]
            sys.exit(main())
        ''' % (HERE, os.path.join(HERE, "stubtest-allowlist.txt")))
        env = dict(os.environ, MYPYPATH=DROP_IN_DIR)
        proc = subprocess.run([sys.executable, "-c", runner], env=env, cwd=self.tmp,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.assertEqual(proc.returncode, 0, proc.stdout)

    def test_override_stub(self):
        stubs = os.path.join(self.tmp, "stubs")
        os.makedirs(os.path.join(stubs, "gi", "repository"))
        with open(os.path.join(stubs, "gi", "__init__.pyi"), "w") as f:
            f.write(GI_STUB)
        with open(os.path.join(stubs, "gi", "repository", "__init__.pyi"), "w") as f:
            f.write("")
        shutil.copy(OVERRIDE_STUB, os.path.join(stubs, "gi", "repository", "Fs.pyi"))
        code, out = self.mypy(OVERRIDE_USE, "--strict", path=stubs)
        self.assertEqual(code, 0, out)
        code, out = self.mypy(OVERRIDE_USE + "thread.join(timeout='soon')\n", path=stubs)
        self.assertEqual(code, 1, out)


if __name__ == "__main__":
    unittest.main()
