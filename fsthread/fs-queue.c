/* fs-queue.c: the bounded handoff between a generator and its consumers
 *
 * Any number of producers and consumers, synchronous or asynchronous.
 *
 * The bound: a push enqueues and then waits until the queue holds fewer
 * than `capacity` items, so that when it returns the generator may make one
 * more. Items queued plus the one the generator is making never exceed
 * `capacity`. A producer that found the queue full sleeps until there is
 * room for `batch` items (a quarter of the capacity, at least one), so that
 * a fast producer and a fast consumer take turns in batches instead of
 * bouncing on every item.
 *
 * End of stream, the generator's error and the consumer's close are flags
 * beside the items, never values among them, so every pointer (NULL too) is
 * an item. GAsyncQueue is not used: it refuses NULL, has no bound, and can
 * only be woken by pushing a value.
 *
 * Ownership: an item belongs to the generator until push is called, then to
 * the queue, then to the consumer that pops it (an asynchronous consumer's
 * task holds it until its finish). Close frees every item the queue holds;
 * a push after close frees its item at once.
 *
 * How threads wait: everything is under one mutex. A side with nothing to
 * do first spins for a moment (fs-spin.c) watching two atomic hints that
 * mirror the count and the flags, then sleeps on a wait list (fs-wait.c):
 * the consumers' or the producers'. Each push wakes one sleeping consumer
 * when there is one; each pop wakes one sleeping producer once there is
 * room for a batch. Nobody is woken who does not sleep.
 *
 * Lock order: the queue's mutex, then nothing. Tasks are completed, items
 * freed and cancellables connected after it is released.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-error.h"
#include "fs-queue-private.h"
#include "fs-spin-private.h"
#include "fs-task-private.h"
#include "fs-wait-private.h"

/* The items ring allocated before any is needed, at most. */
#define RING_INITIAL_MAX 16

enum {
  FLAG_ENDED  = 1 << 0,
  FLAG_CLOSED = 1 << 1,
};

struct _FsQueue
{
  guint            capacity;
  guint            batch;
  gint             spin_usec;   /* how long a side looks again before sleeping */
  GDestroyNotify   item_free;

  GMutex           mutex;

  /* Under the mutex: a ring of `alloc` slots, `count` items from `head`. */
  gpointer        *ring;
  guint            alloc;
  guint            head;
  guint            count;
  gboolean         ended;
  gboolean         closed;
  GError          *error;
  FsWaitList       consumers;
  FsWaitList       producers;
  GQueue           async_waiters;

  /* The hints' values as last published, under the mutex. */
  gboolean         published_nonempty;
  gboolean         published_room;

  /* Written under the mutex, read anywhere: for spinning only. On a cache
   * line of their own, and written only when they change, so that a side
   * that spins on them does not slow down every take and push of the
   * other side. */
  char             pad[64];
  gint             nonempty_hint;  /* items are queued */
  gint             room_hint;      /* room for a batch */
  gint             flags_hint;

  /* Away from the hints, which spinning sides read: the reference count,
   * taken and dropped by every blocking pop, and the count of items as
   * _fs_queue_length() reads it without the mutex. */
  char             pad2[64];
  gatomicrefcount  ref_count;
  gint             length;
};

/* What an asynchronous pop hands to its finish. */
typedef struct
{
  FsWaitStatus     status;
  gpointer         item;
  GDestroyNotify   item_free;
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
  self->batch = MAX (1, capacity / 4);
  self->published_room = self->room_hint = TRUE;
  self->spin_usec = FS_SPIN_USEC;
  self->item_free = item_free;
  g_mutex_init (&self->mutex);
  self->alloc = MIN (capacity, RING_INITIAL_MAX);
  self->ring = g_new (gpointer, self->alloc);
  _fs_wait_list_init (&self->consumers);
  _fs_wait_list_init (&self->producers);
  g_queue_init (&self->async_waiters);

  return self;
}

FsQueue *
_fs_queue_ref (FsQueue *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
_fs_queue_free_item (FsQueue  *self,
                     gpointer  item)
{
  if (self->item_free != NULL)
    self->item_free (item);
}

guint
_fs_queue_capacity (FsQueue *self)
{
  return self->capacity;
}

/* With the mutex held: the length and the spinning hints follow the
 * count. */
static inline void
publish_hints_locked (FsQueue *self)
{
  gboolean nonempty = self->count > 0;
  gboolean room = self->count + self->batch <= self->capacity;

  g_atomic_int_set (&self->length, (gint) MIN (self->count, G_MAXINT));

  if G_UNLIKELY (nonempty != self->published_nonempty)
    {
      self->published_nonempty = nonempty;
      g_atomic_int_set (&self->nonempty_hint, nonempty);
    }
  if G_UNLIKELY (room != self->published_room)
    {
      self->published_room = room;
      g_atomic_int_set (&self->room_hint, room);
    }
}

/* With the mutex held: the slot @offset places after the head, without
 * a division (@offset is at most alloc). */
static inline guint
ring_index (FsQueue *self,
            guint    offset)
{
  guint i = self->head + offset;

  return i >= self->alloc ? i - self->alloc : i;
}

/* With the mutex held. */
static void
ring_append (FsQueue  *self,
             gpointer  item)
{
  if (self->count == self->alloc)
    {
      guint alloc = self->alloc <= G_MAXUINT / 2 ? self->alloc * 2 : G_MAXUINT;
      gpointer *ring = g_new (gpointer, alloc);

      for (guint i = 0; i < self->count; i++)
        ring[i] = self->ring[ring_index (self, i)];
      g_free (self->ring);
      self->ring = ring;
      self->alloc = alloc;
      self->head = 0;
    }
  self->ring[ring_index (self, self->count)] = item;
  self->count++;
  publish_hints_locked (self);
}

/* With the mutex held. */
static gpointer
ring_take (FsQueue *self)
{
  gpointer item = self->ring[self->head];

  self->head = ring_index (self, 1);
  self->count--;
  publish_hints_locked (self);
  return item;
}

/* With the mutex held: moves every queued item to @items. */
static void
ring_steal (FsQueue *self,
            GQueue  *items)
{
  while (self->count > 0)
    g_queue_push_tail (items, ring_take (self));
}

static void
free_items (FsQueue *self,
            GQueue  *items)
{
  while (!g_queue_is_empty (items))
    _fs_queue_free_item (self, g_queue_pop_head (items));
}

void
_fs_queue_unref (FsQueue *self)
{
  GQueue items = G_QUEUE_INIT;

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_assert (g_queue_is_empty (&self->async_waiters));
  g_assert (_fs_wait_list_is_empty (&self->consumers));
  g_assert (_fs_wait_list_is_empty (&self->producers));

  ring_steal (self, &items);
  free_items (self, &items);
  g_free (self->ring);
  g_clear_error (&self->error);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

static void
set_flag (FsQueue *self,
          gint     flag)
{
  g_atomic_int_or (&self->flags_hint, flag);
}

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  if (slot->status == FS_WAIT_OK && slot->item_free != NULL)
    slot->item_free (slot->item);
  g_free (slot);
}

static Slot *
slot_new (FsQueue      *self,
          FsWaitStatus  status,
          gpointer      item)
{
  Slot *slot = g_new0 (Slot, 1);

  slot->status = status;
  slot->item = item;
  slot->item_free = self->item_free;
  return slot;
}

/* On the task's context: the slot is the result. */
static void
deliver_slot (GTask    *task,
              gpointer  data)
{
  g_task_return_pointer (task, data, slot_free);
}

/* On the task's context: the generator's error. */
static void
deliver_error (GTask    *task,
               gpointer  data)
{
  g_task_return_error (task, data);
}

/* From any thread, nothing locked: completes @task with what a pop that
 * decided @status would have returned. */
static void
complete (FsQueue      *self,
          GTask        *task,
          FsWaitStatus  status,
          gpointer      item,
          const GError *error)
{
  if (status == FS_WAIT_FAILED)
    _fs_task_complete_in_context (task, deliver_error, g_error_copy (error),
                                  (GDestroyNotify) g_error_free);
  else
    _fs_task_complete_in_context (task, deliver_slot, slot_new (self, status, item), slot_free);
}

/* With the mutex held: the status a consumer gets when no item is queued,
 * or FS_WAIT_OK when it has to wait. */
static FsWaitStatus
empty_status_locked (FsQueue *self)
{
  if (self->closed)
    return FS_WAIT_CLOSED;
  if (self->ended)
    return self->error != NULL ? FS_WAIT_FAILED : FS_WAIT_END;
  return FS_WAIT_OK;
}

/* With the mutex held: after an item was taken, a producer that waits for
 * room goes on once there is room for a batch. */
static void
after_take_locked (FsQueue *self)
{
  if (self->count + self->batch <= self->capacity)
    _fs_wait_list_wake_one (&self->producers);
}

/* With the mutex held: hands queued items to the asynchronous waiters, in
 * order, as pairs (task, item) in @handed, to complete after unlocking. */
static void
hand_to_waiters_locked (FsQueue *self,
                        GQueue  *handed)
{
  while (self->count > 0 && !g_queue_is_empty (&self->async_waiters))
    {
      g_queue_push_tail (handed, g_queue_pop_head (&self->async_waiters));
      g_queue_push_tail (handed, ring_take (self));
    }
  if (!g_queue_is_empty (handed))
    after_take_locked (self);
}

static void
complete_handed (FsQueue *self,
                 GQueue  *handed)
{
  while (!g_queue_is_empty (handed))
    {
      GTask *task = g_queue_pop_head (handed);
      gpointer item = g_queue_pop_head (handed);

      /* The waiters' reference passes to the completion. */
      complete (self, task, FS_WAIT_OK, item, NULL);
    }
}

static gboolean
room_for_batch (FsQueue *self)
{
  return g_atomic_int_get (&self->room_hint) ||
         (g_atomic_int_get (&self->flags_hint) & FLAG_CLOSED) != 0;
}

/* Pushes @n_items at once, under one lock: a producer with several items
 * ready (a map's deliverer) does not fight its consumer for the mutex on
 * each. The bound is the same: it returns once fewer than capacity are
 * queued. */
gboolean
_fs_queue_push_many (FsQueue          *self,
                     gpointer const   *items,
                     guint             n_items,
                     GError          **error)
{
  GQueue handed = G_QUEUE_INIT;
  gboolean closed;

  g_mutex_lock (&self->mutex);

  if G_UNLIKELY (self->closed || self->ended)
    {
      gboolean ended = !self->closed;

      g_mutex_unlock (&self->mutex);
      for (guint i = 0; i < n_items; i++)
        _fs_queue_free_item (self, items[i]);
      if (ended)
        g_critical ("An item was yielded after its generator function returned; it was freed");
      goto closed;
    }

  for (guint i = 0; i < n_items; i++)
    ring_append (self, items[i]);
  if G_UNLIKELY (!g_queue_is_empty (&self->async_waiters))
    hand_to_waiters_locked (self, &handed);
  for (guint i = 0; i < n_items && self->count > i; i++)
    if (!_fs_wait_list_wake_one (&self->consumers))
      break;

  /* The bound: fewer than capacity queued when push returns. */
  if (self->count >= self->capacity)
    {
      FsWait wait;
      FsSpin spin;

      g_mutex_unlock (&self->mutex);
      complete_handed (self, &handed);

      _fs_spin_init (&spin, (guint) g_atomic_int_get (&self->spin_usec), -1);
      while (!room_for_batch (self) && _fs_spin_next (&spin))
        ;

      _fs_wait_init (&wait, &self->mutex, -1, NULL);
      g_mutex_lock (&self->mutex);
      while (!self->closed && self->count + self->batch > self->capacity)
        _fs_wait_sleep (&wait, &self->producers);
      closed = self->closed;
      g_mutex_unlock (&self->mutex);
      _fs_wait_clear (&wait);
    }
  else
    {
      closed = FALSE;
      g_mutex_unlock (&self->mutex);
      complete_handed (self, &handed);
    }

  if (!closed)
    return TRUE;

closed:
  g_set_error_literal (error, FS_ERROR, FS_ERROR_CLOSED,
                       "The consumer closed the background generator");
  return FALSE;
}

gboolean
_fs_queue_push (FsQueue   *self,
                gpointer   item,
                GError   **error)
{
  return _fs_queue_push_many (self, &item, 1, error);
}

void
_fs_queue_end (FsQueue      *self,
               const GError *error)
{
  GQueue handed = G_QUEUE_INIT;
  GQueue waiters = G_QUEUE_INIT;
  FsWaitStatus status;
  GTask *task;

  g_mutex_lock (&self->mutex);
  g_assert (!self->ended);
  if (error != NULL)
    self->error = g_error_copy (error);
  self->ended = TRUE;
  set_flag (self, FLAG_ENDED);
  /* Items published before the end go first; the waiters left, if any,
   * find the queue empty. */
  hand_to_waiters_locked (self, &handed);
  if (self->count == 0)
    {
      waiters = self->async_waiters;
      g_queue_init (&self->async_waiters);
    }
  status = empty_status_locked (self);
  _fs_wait_list_wake_all (&self->consumers);
  g_mutex_unlock (&self->mutex);

  complete_handed (self, &handed);
  while ((task = g_queue_pop_head (&waiters)))
    {
      complete (self, task, status, NULL, error);
    }
}

/* Whether a spinning consumer should look again. */
static gboolean
worth_a_look (FsQueue *self)
{
  return g_atomic_int_get (&self->nonempty_hint) ||
         g_atomic_int_get (&self->flags_hint) != 0;
}

FsWaitStatus
_fs_queue_pop (FsQueue       *self,
               gpointer      *item,
               gint64         end_time,
               GCancellable  *cancellable,
               GError       **error)
{
  FsWaitStatus status;
  gboolean spun = FALSE;
  gboolean waiting = FALSE;
  FsWait wait;

  /* A cancelled call takes nothing, even when items are queued, as GIO
   * calls do: a consumer told to stop does not drain the stream. */
  if (g_cancellable_is_cancelled (cancellable))
    return FS_WAIT_CANCELLED;

  /* A consumer that waits holds the queue: dropping the last reference to
   * the generator on another thread cannot free it under the waiter. */
  _fs_queue_ref (self);
  g_mutex_lock (&self->mutex);

  for (;;)
    {
      if (self->count > 0 && !self->closed)
        {
          *item = ring_take (self);
          after_take_locked (self);
          status = FS_WAIT_OK;
          break;
        }

      status = empty_status_locked (self);
      if (status != FS_WAIT_OK)
        {
          if (status == FS_WAIT_FAILED)
            g_propagate_error (error, g_error_copy (self->error));
          break;
        }

      /* The producer is often about to publish: look again for a moment
       * before paying for a sleep and a wakeup. */
      if (!spun)
        {
          FsSpin spin;

          spun = TRUE;
          _fs_spin_init (&spin, (guint) g_atomic_int_get (&self->spin_usec), end_time);
          if (spin.deadline != 0)
            {
              g_mutex_unlock (&self->mutex);
              while (!worth_a_look (self) && _fs_spin_next (&spin))
                ;
              g_mutex_lock (&self->mutex);
              continue;
            }
        }

      if (!waiting)
        {
          waiting = TRUE;
          _fs_wait_init (&wait, &self->mutex, end_time, cancellable);
        }
      status = _fs_wait_sleep (&wait, &self->consumers);
      if (status != FS_WAIT_OK)
        break;
    }

  g_mutex_unlock (&self->mutex);
  if (waiting)
    _fs_wait_clear (&wait);
  _fs_queue_unref (self);

  return status;
}

/* An FsTaskCancelFunc, on the thread that cancels: takes the task off the
 * waiters, which complete_cancelled() then completes. */
static gboolean
pop_cancelled (gpointer  owner,
               GTask    *task)
{
  FsQueue *self = owner;
  gboolean mine;

  g_mutex_lock (&self->mutex);
  mine = g_queue_remove (&self->async_waiters, task);
  g_mutex_unlock (&self->mutex);

  /* The waiters' reference passes to the completion. */
  return mine;
}

static void
complete_cancelled (GTask    *task,
                    gpointer  data)
{
  Slot *slot = g_new0 (Slot, 1);

  slot->status = FS_WAIT_CANCELLED;
  g_task_return_pointer (task, slot, slot_free);
}

void
_fs_queue_pop_async (FsQueue             *self,
                     gpointer             source_object,
                     gpointer             source_tag,
                     const char          *name,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FsWaitStatus status;
  gpointer item = NULL;
  gboolean decided = TRUE;

  task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_name (task, name);
  g_task_set_source_tag (task, source_tag);
  /* An item handed over as the cancellable fires is delivered, not lost. */
  g_task_set_check_cancellable (task, FALSE);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_pointer (task, slot_new (self, FS_WAIT_CANCELLED, NULL), slot_free);
      return;
    }

  g_mutex_lock (&self->mutex);
  if (self->count > 0 && !self->closed)
    {
      item = ring_take (self);
      after_take_locked (self);
      status = FS_WAIT_OK;
    }
  else
    {
      status = empty_status_locked (self);
      decided = status != FS_WAIT_OK;
    }

  if (decided)
    {
      g_autoptr(GError) error = status == FS_WAIT_FAILED ? g_error_copy (self->error) : NULL;

      g_mutex_unlock (&self->mutex);
      if (status == FS_WAIT_FAILED)
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_pointer (task, slot_new (self, status, item), slot_free);
      return;
    }

  /* The queue outlives its waiters: each holds a reference. */
  g_object_set_data_full (G_OBJECT (task), "fs-queue", _fs_queue_ref (self),
                          (GDestroyNotify) _fs_queue_unref);
  g_queue_push_tail (&self->async_waiters, g_object_ref (task));
  g_mutex_unlock (&self->mutex);

  if (cancellable != NULL)
    _fs_task_watch_cancellable (task, cancellable, pop_cancelled, complete_cancelled,
                                _fs_queue_ref (self), (GDestroyNotify) _fs_queue_unref);
}

FsWaitStatus
_fs_queue_pop_finish (GAsyncResult  *result,
                      gpointer      *item,
                      GError       **error)
{
  Slot *slot;
  FsWaitStatus status;

  slot = g_task_propagate_pointer (G_TASK (result), error);
  if (slot == NULL)
    return FS_WAIT_FAILED;

  status = slot->status;
  if (status == FS_WAIT_OK)
    {
      if (item != NULL)
        *item = slot->item;
      else if (slot->item_free != NULL)
        slot->item_free (slot->item);
      slot->status = FS_WAIT_END;  /* the item is no longer the slot's */
    }
  slot_free (slot);

  return status;
}

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
  set_flag (self, FLAG_CLOSED);
  ring_steal (self, &items);
  waiters = self->async_waiters;
  g_queue_init (&self->async_waiters);
  _fs_wait_list_wake_all (&self->consumers);
  _fs_wait_list_wake_all (&self->producers);
  g_mutex_unlock (&self->mutex);

  free_items (self, &items);
  while ((task = g_queue_pop_head (&waiters)))
    {
      complete (self, task, FS_WAIT_CLOSED, NULL, NULL);
    }

  return TRUE;
}

gboolean
_fs_queue_is_closed (FsQueue *self)
{
  return (g_atomic_int_get (&self->flags_hint) & FLAG_CLOSED) != 0;
}

/* The items queued now. Exact for the only producer while none of its
 * pushes is under way (fs-map.c counts its own pushes). */
guint
_fs_queue_length (FsQueue *self)
{
  return (guint) g_atomic_int_get (&self->length);
}

/* For a queue whose other side keeps every CPU busy (a map's workers),
 * spinning before sleeping only takes a CPU from them: 0 turns it off. */
void
_fs_queue_set_spin_usec (FsQueue *self,
                         guint    spin_usec)
{
  g_atomic_int_set (&self->spin_usec, (gint) MIN (spin_usec, G_MAXINT));
}
