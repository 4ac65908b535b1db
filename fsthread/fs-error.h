/* fs-error.h: the FS_ERROR domain
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
 * FS_ERROR:
 *
 * The error domain of fsthread. Its codes are in [enum@Fs.Error].
 *
 * Since: 0.1
 */
#define FS_ERROR (fs_error_quark ())

/**
 * FsError:
 * @FS_ERROR_FAILED: a thread target or generator returned %FALSE without
 *   setting an error.
 * @FS_ERROR_BUSY: the object is running, or has finished and was not joined
 *   yet, so it cannot be started.
 * @FS_ERROR_THREAD_CREATE: the operating system could not create a thread.
 * @FS_ERROR_CLOSED: the generator yielded after the consumer had closed the
 *   stream (the producer's side; a consumer's wait reports
 *   %FS_WAIT_CLOSED instead).
 * @FS_ERROR_INVALID_ARGUMENT: a value given at run time is out of range.
 * @FS_ERROR_NOT_SUPPORTED: the function cannot run on a worker thread: a
 *   JavaScript function (GJS runs JavaScript on its own thread only) given
 *   as a target, a generator or a subclass's `run`. It is refused on the
 *   thread that gives it, and never reaches a worker. Since: 0.2
 *
 * The error codes of the %FS_ERROR domain.
 *
 * These are failures of a call or of the work. What happened to a wait
 * (timed out, cancelled, closed, interrupted, would deadlock, not started)
 * is never an error: it is the [enum@Fs.WaitStatus] the call returns. The
 * codes that 0.1 used for those were removed in 0.2.
 *
 * Since: 0.1
 */
typedef enum {
  FS_ERROR_FAILED,
  FS_ERROR_BUSY,
  FS_ERROR_THREAD_CREATE,
  FS_ERROR_CLOSED,
  FS_ERROR_INVALID_ARGUMENT,
  FS_ERROR_NOT_SUPPORTED,
} FsError;

FS_AVAILABLE_IN_ALL
GQuark fs_error_quark (void);

G_END_DECLS
