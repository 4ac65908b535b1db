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

G_END_DECLS
