/* fs-thread.h: a thread whose failure is captured as a GError
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
#include "fs-wait.h"

G_BEGIN_DECLS

#define FS_TYPE_THREAD (fs_thread_get_type ())

FS_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (FsThread, fs_thread, FS, THREAD, GObject)

/**
 * FsThreadClass:
 * @parent_class: the parent class
 * @run: runs the thread's work on the new thread; the default runs the
 *   target given to [ctor@Fs.Thread.new] (and does nothing when there is
 *   none). A subclass overrides it instead of giving a target. Returns
 *   %TRUE on success, %FALSE with the error set on failure (%FALSE without
 *   an error is a failure all the same, with %FS_ERROR_FAILED).
 *
 * The class of [class@Fs.Thread].
 *
 * Since: 0.2
 */
struct _FsThreadClass
{
  GObjectClass parent_class;

  gboolean (*run) (FsThread  *self,
                   GError   **error);

  /*< private >*/
  gpointer _padding[8];
};

/**
 * FsThreadFunc:
 * @thread: the thread running the function
 * @user_data: the data given with the function
 * @error: return location for the failure
 *
 * The target of a [class@Fs.Thread] or [class@Fs.MultiThread]. It runs on
 * the new thread. It returns %TRUE on success; on failure it returns %FALSE
 * and sets @error. A target that returns %FALSE without setting @error has
 * failed all the same, with %FS_ERROR_FAILED.
 *
 * Returns: %TRUE on success, %FALSE on failure
 *
 * Since: 0.1
 */
typedef gboolean (*FsThreadFunc) (FsThread  *thread,
                                  gpointer   user_data,
                                  GError   **error);

FS_AVAILABLE_IN_ALL
FsThread     *fs_thread_new                   (const char           *name,
                                               FsThreadFunc          func,
                                               gpointer              user_data,
                                               GDestroyNotify        user_data_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
FsThread     *fs_thread_get_current           (void);
FS_AVAILABLE_IN_ALL
const char   *fs_thread_get_name              (FsThread             *self);
FS_AVAILABLE_IN_ALL
guint         fs_thread_get_index             (FsThread             *self);
FS_AVAILABLE_IN_ALL
GCancellable *fs_thread_get_cancellable       (FsThread             *self);
FS_AVAILABLE_IN_ALL
FsErrorState *fs_thread_get_error_state       (FsThread             *self);
FS_AVAILABLE_IN_ALL
gboolean      fs_thread_start                 (FsThread             *self,
                                               GError              **error);
FS_AVAILABLE_IN_ALL
gboolean      fs_thread_is_alive              (FsThread             *self);
FS_AVAILABLE_IN_ALL
void          fs_thread_cancel                (FsThread             *self);
FS_AVAILABLE_IN_0_2
FsWaitStatus  fs_thread_join                  (FsThread             *self,
                                               gint64                timeout_usec,
                                               GCancellable         *cancellable,
                                               GError              **error);
FS_AVAILABLE_IN_ALL
void          fs_thread_join_async            (FsThread             *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
FS_AVAILABLE_IN_0_2
FsWaitStatus  fs_thread_join_finish           (FsThread             *self,
                                               GAsyncResult         *result,
                                               GError              **error);
FS_AVAILABLE_IN_ALL
gboolean      fs_thread_get_has_error         (FsThread             *self);
FS_AVAILABLE_IN_ALL
gboolean      fs_thread_check_and_raise_error (FsThread             *self,
                                               GError              **error);

G_END_DECLS
