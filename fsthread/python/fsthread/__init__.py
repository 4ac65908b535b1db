# SPDX-License-Identifier: LGPL-2.1-or-later
"""fsthread for Python.

The library's own API is the PyGObject override, ``from gi.repository
import Fs``. This package holds the drop-in replacement for faceswap's
``lib.multithreading``::

    from fsthread.multithreading import FSThread, MultiThread, BackgroundGenerator

Importing this package loads nothing; importing ``fsthread.multithreading``
loads the library.
"""
