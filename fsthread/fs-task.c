/* fs-task.c: completing a GTask from a worker thread
 *
 * A worker that finishes a task must not be the one to drop the task's
 * last reference: the task holds the caller's source object, whose dispose
 * would then run on the worker, and a caller that has seen its callback
 * could still find the object alive. So the worker hands its reference to
 * an idle source on the task's own main context: the result is returned
 * there, and the task is released there, after the callback.
 *
 * A waiter with a cancellable is watched by a handler connected to the
 * cancellable, not by a GCancellableSource: the handler runs on the
 * thread that cancels, takes the task off its owner's waiters if it is
 * still there, and completes it through the same idle source. Whoever
 * takes the task off the waiters completes it, so exactly one of the
 * worker and the cancellation does. The handler is disconnected when the
 * task is freed, without waiting for a handler that runs meanwhile (see
 * connection_free()).
 *
 * Lock order: the watches lock, then the owner's lock (which the owner's
 * FsTaskCancelFunc takes), then nothing. No task is completed or freed,
 * and no owner released, with the watches lock held; an owner never takes
 * the watches lock with its own held.
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

/* Guards every Watch's task: a handler uses its owner and task only under
 * it, and a task being freed clears its watch's task under it first. */
G_LOCK_DEFINE_STATIC (watches);

typedef struct
{
  FsTaskCancelFunc    take;
  FsTaskCompleteFunc  complete;
  gpointer            owner;   /* borrowed from the Connection */
  GTask              *task;    /* NULL once the task is being freed */
} Watch;

typedef struct
{
  GCancellable   *cancellable;
  gulong          handler;
  Watch          *watch;     /* NULL when the handler ran at connect */
  gpointer        owner;
  GDestroyNotify  owner_unref;
} Connection;

static void
watch_cancelled (GCancellable *cancellable,
                 gpointer      user_data)
{
  Watch *watch = user_data;
  GTask *task = NULL;

  G_LOCK (watches);
  if (watch->task != NULL && watch->take (watch->owner, watch->task))
    task = watch->task;
  G_UNLOCK (watches);

  /* Outside the lock, which code of the caller's may need (a main
   * context finalized here runs the destroy notifies of its sources).
   * The waiters' reference passes to the completion. */
  if (task != NULL)
    _fs_task_complete_in_context (task, watch->complete, NULL, NULL);
}

/* The task is being freed: wherever that happens (inside an emission of
 * "cancelled" too), nothing here waits for a handler to finish. Clearing
 * the watch's task under the lock stops a handler running now from using
 * the task or the owner; disconnecting stops later ones; GSignal keeps
 * the watch until a running emission is done with it. The owner goes
 * last, and outside any lock of GLib's: it may be its last reference. */
static void
connection_free (gpointer user_data)
{
  Connection *connection = user_data;

  if (connection->watch != NULL)
    {
      G_LOCK (watches);
      connection->watch->task = NULL;
      G_UNLOCK (watches);
      g_signal_handler_disconnect (connection->cancellable, connection->handler);
    }
  g_object_unref (connection->cancellable);
  connection->owner_unref (connection->owner);
  g_free (connection);
}

/* Watches @cancellable for @task, which the caller has already put on the
 * waiters of @owner: when it fires (at once, if it has), @take runs with
 * @owner on the thread that cancels, and if it took the task, @complete
 * completes it on the task's context. Call without holding the owner's
 * lock. The task's data is the connection, released with the task.
 *
 * @owner: (transfer full): kept alive while the handler may run
 */
void
_fs_task_watch_cancellable (GTask              *task,
                            GCancellable       *cancellable,
                            FsTaskCancelFunc    take,
                            FsTaskCompleteFunc  complete,
                            gpointer            owner,
                            GDestroyNotify      owner_unref)
{
  Connection *connection = g_new0 (Connection, 1);
  Watch *watch = g_new0 (Watch, 1);

  watch->take = take;
  watch->complete = complete;
  watch->owner = owner;
  watch->task = task;

  connection->cancellable = g_object_ref (cancellable);
  connection->owner = owner;
  connection->owner_unref = owner_unref;
  /* Already cancelled: the handler runs now and the watch is freed at once
   * (the id is 0). */
  connection->handler = g_cancellable_connect (cancellable, G_CALLBACK (watch_cancelled),
                                               watch, g_free);
  connection->watch = connection->handler != 0 ? watch : NULL;
  g_task_set_task_data (task, connection, connection_free);
}
