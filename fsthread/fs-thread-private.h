/* fs-thread-private.h: what FsMultiThread and FsBackgroundGenerator need
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fs-thread.h"
#include "fs-wait-private.h"

G_BEGIN_DECLS

/* Called on the worker once the run's error (NULL on success) is final and
 * recorded, before any joiner can see the thread finished. */
typedef void (*FsThreadFinishFunc) (FsThread     *thread,
                                    const GError *error,
                                    gpointer      data);

/* @exact_name: (transfer full): valid UTF-8 */
FsThread *_fs_thread_new_member      (char                *exact_name,
                                      guint                index,
                                      GCancellable        *cancellable,
                                      FsErrorState        *group_state,
                                      FsThreadFunc         func,
                                      gpointer             user_data,
                                      GDestroyNotify       user_data_free);
void      _fs_thread_set_finish_func (FsThread            *self,
                                      FsThreadFinishFunc   func,
                                      gpointer             data,
                                      GDestroyNotify       data_free);
gboolean  _fs_thread_is_current      (FsThread            *self);

/* Waits until the current run has finished: its error is recorded and its
 * finish func has run. It neither reaps nor raises. FS_WAIT_OK also when
 * the thread was never started or has finished already; FS_WAIT_TIMED_OUT
 * at @end_time (monotonic, -1 for none), FS_WAIT_CANCELLED,
 * FS_WAIT_INTERRUPTED (the caller's interrupt descriptor), or
 * FS_WAIT_WOULD_DEADLOCK when called on the thread itself. */
FsWaitStatus _fs_thread_wait_finished (FsThread         *self,
                                       gint64            end_time,
                                       GCancellable     *cancellable);

/* fs_thread_join() with a deadline (monotonic, -1 for none) instead of a
 * timeout: a group joins its members with one deadline for all. */
FsWaitStatus _fs_thread_join_until    (FsThread         *self,
                                       gint64            end_time,
                                       GCancellable     *cancellable,
                                       GError          **error);

G_END_DECLS
