/* fs-wait.h: what a wait comes back with
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <glib.h>

#include "fs-version-macros.h"

G_BEGIN_DECLS

/**
 * FsWaitStatus:
 * @FS_WAIT_FAILED: the work failed: the target of the thread (or of one
 *   thread of the group) or the generator returned an error, which the call
 *   sets. This is the only status that comes with a #GError, and a #GError
 *   only ever comes with it.
 * @FS_WAIT_OK: the wait got what it waited for: the next item, or the end of
 *   the thread or group, whose work succeeded.
 * @FS_WAIT_END: the stream has no more items: the generator returned
 *   normally and every item was taken.
 * @FS_WAIT_TIMED_OUT: the timeout passed first. Nothing was taken or
 *   reaped: call again.
 * @FS_WAIT_CANCELLED: the #GCancellable given to the call was cancelled
 *   (before or during the wait). Nothing was taken or reaped.
 * @FS_WAIT_CLOSED: the background generator was closed: it has no more
 *   items for anyone.
 * @FS_WAIT_INTERRUPTED: the calling thread's interrupt descriptor (see
 *   [func@Fs.wait_set_interrupt_fd]) became readable first. Nothing was
 *   taken or reaped.
 * @FS_WAIT_WOULD_DEADLOCK: the call would wait for the calling thread
 *   itself: a thread joining itself or its own group, a producer closing
 *   its own generator and waiting for it.
 * @FS_WAIT_NOT_STARTED: there is nothing to wait for: the thread or group
 *   was never started.
 *
 * What a blocking or asynchronous call of fsthread comes back with.
 *
 * The outcome of the wait and the failure of the work never share a
 * channel: a call returns one of these, and sets its #GError only with
 * %FS_WAIT_FAILED, to the error the work produced (domain, code and message
 * as the target or generator set them). So a caller never looks at an
 * error's domain, code or message to learn what happened to its wait.
 *
 * In Python and JavaScript a call that returns %FS_WAIT_FAILED raises the
 * error instead; every other status is an ordinary return value.
 *
 * Since: 0.2
 */
typedef enum {
  FS_WAIT_FAILED,
  FS_WAIT_OK,
  FS_WAIT_END,
  FS_WAIT_TIMED_OUT,
  FS_WAIT_CANCELLED,
  FS_WAIT_CLOSED,
  FS_WAIT_INTERRUPTED,
  FS_WAIT_WOULD_DEADLOCK,
  FS_WAIT_NOT_STARTED,
} FsWaitStatus;

FS_AVAILABLE_IN_0_2
int fs_wait_set_interrupt_fd (int fd);

G_END_DECLS
