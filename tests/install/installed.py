# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run by test-install.sh with /usr/bin/python3 against an installed
fsthread only: the typelib from GI_TYPELIB_PATH, the override from
PYTHONPATH. argv: PREFIX"""

import os
import sys

import gi

gi.require_version("Fs", "1")
from gi.repository import Fs  # noqa: E402

prefix = os.path.realpath(sys.argv[1]) + os.sep

typelib = gi.Repository.get_default().get_typelib_path("Fs")
assert os.path.realpath(typelib).startswith(prefix), "typelib from %s" % typelib
override = sys.modules["gi.overrides.Fs"].__file__
assert os.path.realpath(override).startswith(prefix), "override from %s" % override


def numbers(n):
    yield from range(n)


assert list(Fs.BackgroundGenerator(numbers, prefetch=2, args=(100,))) == list(range(100))


def fail():
    raise ValueError("from a worker")


group = Fs.MultiThread(fail, thread_count=2)
group.start()
try:
    group.join()
except ValueError as e:
    assert str(e) == "from a worker", e
else:
    raise AssertionError("join() did not raise")

print("Python against the installed fsthread %d.%d.%d: ok" % (
    Fs.get_major_version(), Fs.get_minor_version(), Fs.get_micro_version()))
