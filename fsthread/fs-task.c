/* fs-task.c: completing a GTask from a worker thread
 *
 * A worker that finishes a task must not be the one to drop the task's
 * last reference: the task holds the caller's source object, whose dispose
 * would then run on the worker, and a caller that has seen its callback
 * could still find the object alive. So the worker hands its reference to
 * an idle source on the task's own main context: the result is returned
 * there, and the task is released there, after the callback.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-task-private.h"

typedef struct
{
  GTask              *task;
  FsTaskCompleteFunc  func;
  gpointer            data;
  GDestroyNotify      data_free;
} Completion;

static gboolean
completion_dispatch (gpointer user_data)
{
  Completion *completion = user_data;

  completion->func (completion->task, g_steal_pointer (&completion->data));
  return G_SOURCE_REMOVE;
}

static void
completion_free (gpointer user_data)
{
  Completion *completion = user_data;

  if (completion->data != NULL && completion->data_free != NULL)
    completion->data_free (completion->data);
  g_object_unref (completion->task);
  g_free (completion);
}

/* @task: (transfer full): the task; the reference passes to the source
 * @func: returns the task's result on its context; it owns @data
 */
void
_fs_task_complete_in_context (GTask              *task,
                              FsTaskCompleteFunc  func,
                              gpointer            data,
                              GDestroyNotify      data_free)
{
  Completion *completion = g_new0 (Completion, 1);
  GMainContext *context;
  GSource *source;

  completion->task = task;
  completion->func = func;
  completion->data = data;
  completion->data_free = data_free;

  source = g_idle_source_new ();
  g_source_set_priority (source, g_task_get_priority (task));
  g_source_set_static_name (source, "[fsthread] complete task");
  g_source_set_callback (source, completion_dispatch, completion, completion_free);
  /* Once attached, the completion may run and free the task, and with it
   * the last hold on the context, before the source is unreffed here. */
  context = g_main_context_ref (g_task_get_context (task));
  g_source_attach (source, context);
  g_source_unref (source);
  g_main_context_unref (context);
}
