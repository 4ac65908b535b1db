#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""hash-tree.py: the demo's pipeline in Python, with sha256sum's output.

A BackgroundGenerator walks DIR and reads files ahead; a MultiThread of
Fs.total_cpus() workers hashes them (hashlib releases the GIL while it
hashes, so the workers run in parallel). Files that cannot be read are
reported on stderr, and the exit status is then 1.

    hash-tree.py DIR > sums && sha256sum -c sums
"""

import hashlib
import os
import stat
import sys
import threading

import gi

gi.require_version("Fs", "1")
from gi.repository import Fs  # noqa: E402


def read_tree(top):
    """Yields (path, bytes or OSError) for every regular file under top."""
    for root, dirs, files in os.walk(top):
        dirs.sort()
        for name in sorted(files):
            path = os.path.join(root, name)
            try:
                if not stat.S_ISREG(os.stat(path).st_mode):
                    continue  # fifos, sockets, devices: never opened
                with open(path, "rb") as f:
                    yield path, f.read()
            except OSError as error:
                yield path, error


def main(argv):
    if len(argv) != 2:
        print("usage: hash-tree.py DIR", file=sys.stderr)
        return 2

    lock = threading.Lock()
    failures = Fs.ErrorState()
    files = Fs.BackgroundGenerator(read_tree, prefetch=16, args=(argv[1],))

    def worker():
        for path, contents in files:
            if isinstance(contents, OSError):
                failures.set(contents)
                continue
            digest = hashlib.sha256(contents).hexdigest()
            with lock:
                sys.stdout.write("%s  %s\n" % (digest, path))

    workers = Fs.MultiThread(worker, thread_count=Fs.total_cpus(), name="hasher")
    workers.start()
    workers.join()
    files.close()

    for _, error, _ in failures.errors:
        print("hash-tree.py: %s" % error, file=sys.stderr)
    return 1 if failures.has_error else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
