/* fs-multi-thread.h: N threads running one target as a group
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fs-version-macros.h"
#include "fs-error-state.h"
#include "fs-thread.h"
#include "fs-wait.h"

G_BEGIN_DECLS

#define FS_TYPE_MULTI_THREAD (fs_multi_thread_get_type ())

FS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FsMultiThread, fs_multi_thread, FS, MULTI_THREAD, GObject)

FS_AVAILABLE_IN_ALL
FsMultiThread *fs_multi_thread_new                   (const char           *name,
                                                      guint                 thread_count,
                                                      FsThreadFunc          func,
                                                      gpointer              user_data,
                                                      GDestroyNotify        user_data_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
const char    *fs_multi_thread_get_name              (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
guint          fs_multi_thread_get_thread_count      (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
GCancellable  *fs_multi_thread_get_cancellable       (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
FsErrorState  *fs_multi_thread_get_error_state       (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
gboolean       fs_multi_thread_start                 (FsMultiThread        *self,
                                                      GError              **error);
FS_AVAILABLE_IN_ALL
gboolean       fs_multi_thread_completed             (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
gboolean       fs_multi_thread_is_alive              (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
void           fs_multi_thread_cancel                (FsMultiThread        *self);
FS_AVAILABLE_IN_0_2
FsWaitStatus   fs_multi_thread_join                  (FsMultiThread        *self,
                                                      gint64                timeout_usec,
                                                      GCancellable         *cancellable,
                                                      GError              **error);
FS_AVAILABLE_IN_ALL
void           fs_multi_thread_join_async            (FsMultiThread        *self,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
FS_AVAILABLE_IN_0_2
FsWaitStatus   fs_multi_thread_join_finish           (FsMultiThread        *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);
FS_AVAILABLE_IN_ALL
gboolean       fs_multi_thread_get_has_error         (FsMultiThread        *self);
FS_AVAILABLE_IN_ALL
GPtrArray     *fs_multi_thread_dup_errors            (FsMultiThread        *self) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
gboolean       fs_multi_thread_check_and_raise_error (FsMultiThread        *self,
                                                      GError              **error);

G_END_DECLS
