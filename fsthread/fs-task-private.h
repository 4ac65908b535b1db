/* fs-task-private.h: completing a GTask from a worker thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef void (*FsTaskCompleteFunc) (GTask    *task,
                                    gpointer  data);

void _fs_task_complete_in_context (GTask              *task,
                                   FsTaskCompleteFunc  func,
                                   gpointer            data,
                                   GDestroyNotify      data_free);

/* Called on the thread that cancels, with the owner given to
 * _fs_task_watch_cancellable(): takes @task off the owner's waiters if it
 * is still there, and then completes it. Must not drop the task's last
 * reference. */
typedef void (*FsTaskCancelFunc) (gpointer  owner,
                                  GTask    *task);

void _fs_task_watch_cancellable (GTask            *task,
                                 GCancellable     *cancellable,
                                 FsTaskCancelFunc  func,
                                 gpointer          owner,
                                 GDestroyNotify    owner_unref);

G_END_DECLS
