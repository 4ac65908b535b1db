/* fs-queue.c: the bounded handoff between a generator and its consumers
 *
 * One producer, any number of consumers, synchronous or asynchronous.
 *
 * The bound: the producer's push enqueues and then waits until the queue
 * holds fewer than `capacity` items, so that when it returns the generator
 * may make one more. Items queued plus the one the generator is making never
 * exceed `capacity`.
 *
 * End of stream, the generator's error and the consumer's close are flags
 * beside the items, never values among them, so every pointer (NULL too) is
 * an item. GAsyncQueue is not used: it refuses NULL, has no bound, and can
 * only be woken by pushing a value.
 *
 * Ownership: an item belongs to the generator until push is called, then to
 * the queue, then to the consumer that pops it. Close frees every item the
 * queue holds; a push after close frees its item at once.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-error.h"
#include "fs-queue-private.h"
#include "fs-task-private.h"

struct _FsQueue
{
  gatomicrefcount  ref_count;
  guint            capacity;
  GDestroyNotify   item_free;

  /* Guards everything below. */
  GMutex           mutex;
  GCond            not_empty;
  GCond            not_full;
  GQueue           items;
  GQueue           async_waiters;
  guint            n_waiting_consumers;
  guint            producer_waiting : 1;
  guint            ended : 1;
  guint            closed : 1;
  GError          *error;
};

/* What a finished pop_async carries. */
typedef struct
{
  gpointer       item;
  gboolean       has_item;
  GDestroyNotify item_free;
} Slot;

FsQueue *
_fs_queue_new (guint          capacity,
               GDestroyNotify item_free)
{
  FsQueue *self;

  g_return_val_if_fail (capacity >= 1, NULL);

  self = g_new0 (FsQueue, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->capacity = capacity;
  self->item_free = item_free;
  g_mutex_init (&self->mutex);
  g_cond_init (&self->not_empty);
  g_cond_init (&self->not_full);
  g_queue_init (&self->items);
  g_queue_init (&self->async_waiters);

  return self;
}

FsQueue *
_fs_queue_ref (FsQueue *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
free_item (FsQueue  *self,
           gpointer  item)
{
  if (self->item_free != NULL)
    self->item_free (item);
}

void
_fs_queue_free_item (FsQueue  *self,
                     gpointer  item)
{
  free_item (self, item);
}

static void
free_items (FsQueue *self,
            GQueue  *items)
{
  gpointer item;

  while (!g_queue_is_empty (items))
    {
      item = g_queue_pop_head (items);
      free_item (self, item);
    }
}

void
_fs_queue_unref (FsQueue *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_assert (g_queue_is_empty (&self->async_waiters));

  free_items (self, &self->items);
  g_clear_error (&self->error);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->not_empty);
  g_cond_clear (&self->not_full);
  g_free (self);
}

guint
_fs_queue_capacity (FsQueue *self)
{
  return self->capacity;
}

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  if (slot->has_item && slot->item_free != NULL)
    slot->item_free (slot->item);
  g_free (slot);
}

static Slot *
slot_new_item (FsQueue  *self,
               gpointer  item)
{
  Slot *slot = g_new0 (Slot, 1);

  slot->item = item;
  slot->has_item = TRUE;
  slot->item_free = self->item_free;
  return slot;
}

/* On the task's context, from a worker: the slot is the result. */
static void
deliver_slot (GTask    *task,
              gpointer  data)
{
  g_task_return_pointer (task, data, slot_free);
}

/* On the task's context, from a worker: the end, or the generator's error. */
static void
deliver_end (GTask    *task,
             gpointer  data)
{
  if (data != NULL)
    g_task_return_error (task, data);
  else
    g_task_return_pointer (task, g_new0 (Slot, 1), slot_free);
}

static void
deliver_closed (GTask    *task,
                gpointer  data)
{
  g_task_return_new_error (task, FS_ERROR, FS_ERROR_CLOSED,
                           "The background generator is closed");
}

/* Called with the lock held: the caller must complete the tasks left in
 * @waiters after unlocking. */
static void
steal_waiters (FsQueue *self,
               GQueue  *waiters)
{
  *waiters = self->async_waiters;
  g_queue_init (&self->async_waiters);
}

gboolean
_fs_queue_push (FsQueue   *self,
                gpointer   item,
                GError   **error)
{
  GTask *waiter = NULL;

  g_mutex_lock (&self->mutex);

  if (self->closed)
    {
      g_mutex_unlock (&self->mutex);
      free_item (self, item);
      goto closed;
    }

  if G_UNLIKELY (self->ended)
    {
      g_mutex_unlock (&self->mutex);
      free_item (self, item);
      g_critical ("An item was yielded after its generator function returned; it was freed");
      goto closed;
    }

  /* A consumer already waiting asynchronously takes the item directly. */
  if (!g_queue_is_empty (&self->async_waiters))
    {
      waiter = g_queue_pop_head (&self->async_waiters);
      g_mutex_unlock (&self->mutex);
      _fs_task_complete_in_context (waiter, deliver_slot,
                                    slot_new_item (self, item), slot_free);
      return TRUE;
    }

  g_queue_push_tail (&self->items, item);
  if (self->n_waiting_consumers > 0)
    g_cond_signal (&self->not_empty);

  /* Hold the generator until it may make one more item within the bound. */
  while (self->items.length >= self->capacity && !self->closed)
    {
      self->producer_waiting = TRUE;
      g_cond_wait (&self->not_full, &self->mutex);
      self->producer_waiting = FALSE;
    }

  if (self->closed)
    {
      g_mutex_unlock (&self->mutex);
      goto closed;
    }

  g_mutex_unlock (&self->mutex);
  return TRUE;

closed:
  g_set_error_literal (error, FS_ERROR, FS_ERROR_CLOSED,
                       "The consumer closed the background generator");
  return FALSE;
}

void
_fs_queue_end (FsQueue      *self,
               const GError *error)
{
  GQueue waiters;
  GTask *task;

  g_mutex_lock (&self->mutex);
  g_assert (!self->ended);
  self->ended = TRUE;
  if (error != NULL)
    self->error = g_error_copy (error);
  steal_waiters (self, &waiters);
  g_cond_broadcast (&self->not_empty);
  g_mutex_unlock (&self->mutex);

  while ((task = g_queue_pop_head (&waiters)))
    _fs_task_complete_in_context (task, deliver_end,
                                  error != NULL ? g_error_copy (error) : NULL,
                                  (GDestroyNotify) g_error_free);
}

static void
wake_consumers (GCancellable *cancellable,
                FsQueue      *self)
{
  g_mutex_lock (&self->mutex);
  g_cond_broadcast (&self->not_empty);
  g_mutex_unlock (&self->mutex);
}

/* With the lock held: takes an item or the end, if there is one.
 * Returns TRUE when the pop is decided, with *ret its result. */
static gboolean
try_pop_locked (FsQueue   *self,
                gpointer  *item,
                gboolean  *ret,
                GError   **error)
{
  if (self->closed)
    {
      g_set_error_literal (error, FS_ERROR, FS_ERROR_CLOSED,
                           "The background generator is closed");
      *ret = FALSE;
      return TRUE;
    }

  if (!g_queue_is_empty (&self->items))
    {
      *item = g_queue_pop_head (&self->items);
      if (self->producer_waiting && self->items.length < self->capacity)
        g_cond_signal (&self->not_full);
      *ret = TRUE;
      return TRUE;
    }

  if (self->ended)
    {
      if (self->error != NULL)
        g_propagate_error (error, g_error_copy (self->error));
      *ret = FALSE;
      return TRUE;
    }

  return FALSE;
}

/* Waits for an item or the end until @end_time (monotonic, -1 for ever). */
gboolean
_fs_queue_pop_until (FsQueue       *self,
                     gpointer      *item,
                     gint64         end_time,
                     GCancellable  *cancellable,
                     GError       **error)
{
  gulong handler = 0;
  gboolean connected = FALSE;
  gboolean ret = FALSE;

  g_mutex_lock (&self->mutex);

  /* A cancelled call takes nothing, even when items are queued, as GIO
   * calls do: a consumer told to stop does not drain the stream. */
  while (!g_cancellable_set_error_if_cancelled (cancellable, error) &&
         !try_pop_locked (self, item, &ret, error))
    {
      gboolean signalled = TRUE;

      if (cancellable != NULL && !connected)
        {
          /* Connect only when about to sleep: the fast path stays cheap.
           * Unlocked, since the handler runs at once if already cancelled
           * (and then the id is 0). */
          g_mutex_unlock (&self->mutex);
          handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_consumers), self, NULL);
          connected = TRUE;
          g_mutex_lock (&self->mutex);
          continue;
        }

      self->n_waiting_consumers++;
      if (end_time < 0)
        g_cond_wait (&self->not_empty, &self->mutex);
      else
        signalled = g_cond_wait_until (&self->not_empty, &self->mutex, end_time);
      self->n_waiting_consumers--;

      if (!signalled && !try_pop_locked (self, item, &ret, error))
        {
          g_set_error_literal (error, FS_ERROR, FS_ERROR_TIMED_OUT,
                               "Timed out waiting for the next item");
          ret = FALSE;
          break;
        }
      if (!signalled)
        break;
    }

  g_mutex_unlock (&self->mutex);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  return ret;
}

gboolean
_fs_queue_pop (FsQueue       *self,
               gpointer      *item,
               GCancellable  *cancellable,
               GError       **error)
{
  return _fs_queue_pop_until (self, item, -1, cancellable, error);
}

static void
destroy_source (gpointer data)
{
  GSource *source = data;

  g_source_destroy (source);
  g_source_unref (source);
}

/* A GCancellableSourceFunc. */
static gboolean
pop_cancelled (GCancellable *cancellable,
               gpointer      data)
{
  GTask *task = data;
  FsQueue *self = g_object_get_data (G_OBJECT (task), "fs-queue");
  gboolean mine;

  g_mutex_lock (&self->mutex);
  mine = g_queue_remove (&self->async_waiters, task);
  g_mutex_unlock (&self->mutex);

  if (mine)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Stopped waiting for the next item");
      g_object_unref (task);
    }

  return G_SOURCE_REMOVE;
}

void
_fs_queue_pop_async (FsQueue             *self,
                     gpointer             source_object,
                     gpointer             source_tag,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  gpointer item = NULL;
  gboolean ret;

  task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  /* An item handed over as the cancellable fires is delivered, not lost. */
  g_task_set_check_cancellable (task, FALSE);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Stopped waiting for the next item");
      return;
    }

  g_mutex_lock (&self->mutex);

  if (try_pop_locked (self, &item, &ret, &error))
    {
      g_mutex_unlock (&self->mutex);
      if (ret)
        g_task_return_pointer (task, slot_new_item (self, item), slot_free);
      else
        deliver_end (task, error);
      return;
    }

  /* The queue outlives its waiters: each holds a reference. */
  g_object_set_data_full (G_OBJECT (task), "fs-queue", _fs_queue_ref (self),
                          (GDestroyNotify) _fs_queue_unref);
  if (cancellable != NULL)
    {
      GSource *source = g_cancellable_source_new (cancellable);

      g_task_attach_source (task, source, (GSourceFunc) pop_cancelled);
      g_task_set_task_data (task, source, destroy_source);
    }
  g_queue_push_tail (&self->async_waiters, g_object_ref (task));

  g_mutex_unlock (&self->mutex);
}

gboolean
_fs_queue_pop_finish (GAsyncResult  *result,
                      gpointer      *item,
                      GError       **error)
{
  Slot *slot;
  gboolean ret;

  slot = g_task_propagate_pointer (G_TASK (result), error);
  if (slot == NULL)
    return FALSE;

  ret = slot->has_item;
  if (ret)
    {
      if (item != NULL)
        *item = slot->item;
      else if (slot->item_free != NULL)
        slot->item_free (slot->item);
      slot->has_item = FALSE;
    }
  slot_free (slot);

  return ret;
}

/* Returns: TRUE for the call that closed the queue */
gboolean
_fs_queue_close (FsQueue *self)
{
  GQueue items = G_QUEUE_INIT;
  GQueue waiters;
  GTask *task;

  g_mutex_lock (&self->mutex);
  if (self->closed)
    {
      g_mutex_unlock (&self->mutex);
      return FALSE;
    }
  self->closed = TRUE;
  items = self->items;
  g_queue_init (&self->items);
  steal_waiters (self, &waiters);
  g_cond_broadcast (&self->not_empty);
  g_cond_broadcast (&self->not_full);
  g_mutex_unlock (&self->mutex);

  free_items (self, &items);

  while ((task = g_queue_pop_head (&waiters)))
    _fs_task_complete_in_context (task, deliver_closed, NULL, NULL);

  return TRUE;
}

gboolean
_fs_queue_is_closed (FsQueue *self)
{
  gboolean closed;

  g_mutex_lock (&self->mutex);
  closed = self->closed;
  g_mutex_unlock (&self->mutex);

  return closed;
}
