/* fs-thread-private.h: what FsMultiThread and FsBackgroundGenerator need
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fs-thread.h"

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
gboolean  _fs_thread_wait_until      (FsThread            *self,
                                      gint64               end_time,
                                      GCancellable        *cancellable,
                                      GError             **error);
void      _fs_thread_wait_async      (FsThread            *self,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data);
gboolean  _fs_thread_wait_finish     (FsThread            *self,
                                      GAsyncResult        *result,
                                      GError             **error);
gint64    _fs_end_time_for_timeout   (gint64               timeout_usec);

G_END_DECLS
