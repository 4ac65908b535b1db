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
 * _fs_task_watch_cancellable(), under a lock of fs-task.c's: takes @task
 * off the owner's waiters if it is still there, and says so. It must not
 * complete or free the task, or run code of the caller's. */
typedef gboolean (*FsTaskCancelFunc) (gpointer  owner,
                                      GTask    *task);

void _fs_task_watch_cancellable (GTask              *task,
                                 GCancellable       *cancellable,
                                 FsTaskCancelFunc    take,
                                 FsTaskCompleteFunc  complete,
                                 gpointer            owner,
                                 GDestroyNotify      owner_unref);

G_END_DECLS
