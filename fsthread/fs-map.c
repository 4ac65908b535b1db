/* fs-map.c: a function run on N threads over a stream, results in order
 *
 * A map is a background generator. Its generator function, the driver,
 * runs on the generator's own thread: it starts an FsMultiThread of
 * workers and waits for them. The workers do everything else:
 *
 *                    admission                  window (ordered)
 *   source ──take──▶ [ worker_0 ] ──place──▶ ┌───┬───┬───┬───┐ ──deliver──▶ queue ──▶ next()
 *   (a generator  │  [ worker_1 ] ──place──▶ │ 5 │ 6 │ _ │ 8 │   (in order)
 *    or an array) │  [   ...    ]            └───┴───┴───┴───┘
 *
 * Admission: a worker takes an item from the source only while the items
 * ahead of the consumer (queued in the generator's queue, being pushed,
 * finished in the window, or in a worker's hands) number fewer than
 * `prefetch + n_threads`. So at most that many exist, whatever the speed of
 * either side, and the source is read no faster: an infinite source works.
 *
 * The window is a ring of slots indexed by the item's place in the source
 * (ordered) or by the order results were placed (unordered). Whichever
 * worker finds the slot at the head ready becomes the deliverer: it takes
 * the run of ready slots, pushes them into the generator's queue without
 * the lock (a push can block while the queue is full), and looks again.
 * There is one deliverer at a time, so results enter the queue in order.
 *
 * Failure: a failed item (or the source's own error) takes its place in
 * the window as an error. From then on nothing more is taken from the
 * source; results after it are freed as they finish; results before it
 * are still delivered; when the error reaches the head it becomes the
 * map's error, the group is cancelled and the driver returns it, so the
 * consumer sees it after every earlier result.
 *
 * Close: the generator's close cancels the driver's cancellable; the
 * driver stops admission and cancels the group (which wakes workers
 * waiting for admission or for the source); a worker blocked in a push
 * sees the close there. The driver joins the workers, frees what the
 * window still holds and closes the source.
 *
 * Ownership: an item taken from the source is freed by the worker that
 * took it, once the function has run on it (or at once, when the map has
 * stopped). A result belongs to the window until delivered, then to the
 * queue. Every item and every result is freed or handed over exactly once.
 *
 * Lock order: the source lock, then the map's lock; neither is held while
 * pushing, running the function, or freeing items and results.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fs-background-generator-private.h"
#include "fs-binding-private.h"
#include "fs-cpus.h"
#include "fs-error.h"
#include "fs-generator-private.h"
#include "fs-loaded-file-private.h"
#include "fs-map.h"
#include "fs-multi-thread.h"
#include "fs-queue-private.h"
#include "fs-wait-private.h"

/* The ring allocated before a deeper window is needed, at most. */
#define RING_INITIAL_MAX 64

/* A deliverer takes at most this many results at once. */
#define BATCH_MAX 32

/* Items mapped faster than this on average are delivered in batches. */
#define FAST_ITEM_NS 100000

typedef enum {
  SOURCE_GENERATOR,   /* a background generator: taken with next() */
  SOURCE_VALUES,      /* an array of GValues the map owns */
  SOURCE_POINTERS,    /* an array of pointers the map owns (files) */
} SourceKind;

typedef enum {
  SLOT_EMPTY,
  SLOT_RESULT,
  SLOT_ERROR,
} SlotState;

typedef struct
{
  SlotState  state;
  gpointer   result;
  GError    *error;
} Slot;

typedef struct
{
  gatomicrefcount   ref_count;

  guint             n_threads;
  guint             prefetch;
  guint             budget;        /* prefetch + n_threads */
  guint             batch;         /* results delivered at once, when fast */
  gboolean          ordered;

  /* The source. */
  SourceKind        source_kind;
  FsBackgroundGenerator *source;
  gboolean          source_values; /* its items are GValue * */
  GMutex            source_lock;   /* a generator's: next() and its index */
  guint64           source_taken;  /* under source_lock */
  GValue           *values;        /* SOURCE_VALUES */
  GPtrArray        *pointers;      /* SOURCE_POINTERS */
  guint             n_array;

  /* The function: one of the two. */
  FsMapFunc         func;
  FsMapValueFunc    value_func;
  gpointer          user_data;
  GDestroyNotify    user_data_free;
  GDestroyNotify    result_free;

  /* Set once, before the workers start. */
  FsGenerator      *generator;
  FsQueue          *out_queue;     /* the map's own generator's queue */
  GCond             ready_cond;

  /* Under the lock. */
  GMutex            lock;
  FsMultiThread    *workers;
  Slot             *ring;
  guint             alloc;
  guint             head;
  guint64           next_out;      /* the index (or sequence) at the head */
  guint64           next_index;    /* array sources: the next to take */
  guint             n_window;      /* unordered: slots filled from the head */
  guint             n_placed;      /* results and errors in the window */
  guint             in_flight;     /* items in workers' hands, reserved too */
  guint             held;          /* results a deliverer has taken */
  gboolean          delivering;
  gint64            avg_item_ns;   /* how long the function takes, smoothed */
  gboolean          source_done;   /* ended, failed or closed */
  gboolean          failed;        /* an error is in the window */
  guint64           fail_index;    /* ordered: the first failed index */
  gboolean          stopped;       /* closed, or the error delivered */
  GError           *error;         /* the map's error, once delivered */
  FsWaitList        admission;
} Map;

static Map *
map_ref (Map *map)
{
  g_atomic_ref_count_inc (&map->ref_count);
  return map;
}

static void
free_result (Map      *map,
             gpointer  result)
{
  if (map->result_free != NULL)
    map->result_free (result);
}

static void
map_unref (gpointer data)
{
  Map *map = data;

  if (!g_atomic_ref_count_dec (&map->ref_count))
    return;

  /* The driver emptied the window; a map whose driver never ran has an
   * empty one. */
  for (guint i = 0; i < map->alloc; i++)
    {
      g_assert (map->ring[i].state == SLOT_EMPTY);
    }
  g_free (map->ring);
  g_clear_error (&map->error);
  g_clear_object (&map->generator);
  g_clear_pointer (&map->out_queue, _fs_queue_unref);
  g_clear_object (&map->source);
  if (map->values != NULL)
    {
      for (guint i = 0; i < map->n_array; i++)
        g_value_unset (&map->values[i]);
      g_free (map->values);
    }
  g_clear_pointer (&map->pointers, g_ptr_array_unref);
  if (map->user_data_free != NULL)
    map->user_data_free (map->user_data);
  g_mutex_clear (&map->source_lock);
  g_mutex_clear (&map->lock);
  g_cond_clear (&map->ready_cond);
  g_free (map);
}

static Map *
map_new (guint      n_threads,
         guint      prefetch,
         FsMapFlags flags)
{
  Map *map = g_new0 (Map, 1);

  g_atomic_ref_count_init (&map->ref_count);
  map->n_threads = n_threads > 0 ? n_threads : fs_total_cpus ();
  map->prefetch = prefetch > 0 ? prefetch : 2 * map->n_threads;
  map->budget = map->prefetch + map->n_threads;
  if (map->budget < map->prefetch)
    map->budget = G_MAXUINT;
  map->batch = CLAMP (map->prefetch / 2, 1, BATCH_MAX);
  map->avg_item_ns = G_MAXINT64;
  map->ordered = (flags & FS_MAP_UNORDERED) == 0;
  map->fail_index = G_MAXUINT64;
  g_mutex_init (&map->source_lock);
  g_mutex_init (&map->lock);
  g_cond_init (&map->ready_cond);
  _fs_wait_list_init (&map->admission);
  map->alloc = MIN (map->budget, RING_INITIAL_MAX);
  map->ring = g_new0 (Slot, map->alloc);

  return map;
}

/* ------------------------------------------------------------------ */
/* FsMapResult: where a value function puts its result                 */

/**
 * FsMapResult:
 *
 * Where an [callback@Fs.MapValueFunc] puts the result of one item, with
 * [method@Fs.MapResult.set_value]. It is valid only during the call it was
 * given to, and only on that worker thread.
 *
 * (A callback's `GValue` out argument would be simpler, but PyGObject
 * leaks a little memory on each call of such a callback: this object is
 * reused instead, one per worker.)
 *
 * Since: 0.2
 */

struct _FsMapResult
{
  GObject   parent_instance;

  GValue    value;
  guint64   index;
  gboolean  armed;
  GThread  *owner;
};

G_DEFINE_FINAL_TYPE (FsMapResult, fs_map_result, G_TYPE_OBJECT)

static void
fs_map_result_finalize (GObject *object)
{
  FsMapResult *self = (FsMapResult *)object;

  if (G_IS_VALUE (&self->value))
    g_value_unset (&self->value);

  G_OBJECT_CLASS (fs_map_result_parent_class)->finalize (object);
}

static void
fs_map_result_class_init (FsMapResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fs_map_result_finalize;
}

static void
fs_map_result_init (FsMapResult *self)
{
}

/**
 * fs_map_result_get_index:
 * @self: a [class@Fs.MapResult]
 *
 * The place of the item in the source: 0 for the first.
 *
 * Returns: the index of the item being mapped
 *
 * Since: 0.2
 */
guint64
fs_map_result_get_index (FsMapResult *self)
{
  g_return_val_if_fail (FS_IS_MAP_RESULT (self), 0);

  return self->index;
}

/**
 * fs_map_result_set_value:
 * @self: a [class@Fs.MapResult]
 * @value: the result, copied
 *
 * Sets the result of the item being mapped: the consumer receives a copy
 * of @value. Setting it again replaces it. Only the function the result
 * was given to may set it, on its thread, during its call.
 *
 * Since: 0.2
 */
void
fs_map_result_set_value (FsMapResult  *self,
                         const GValue *value)
{
  g_return_if_fail (FS_IS_MAP_RESULT (self));
  g_return_if_fail (G_IS_VALUE (value));
  g_return_if_fail (self->armed && self->owner == g_thread_self ());

  if (G_IS_VALUE (&self->value))
    g_value_unset (&self->value);
  g_value_init (&self->value, G_VALUE_TYPE (value));
  g_value_copy (value, &self->value);
}

/* ------------------------------------------------------------------ */
/* The window                                                          */

/* With the lock held: the slot of @index, growing the ring to reach it
 * (never past the budget: admission keeps indices within it). */
static Slot *
slot_for (Map     *map,
          guint64  index)
{
  guint64 offset = index - map->next_out;

  g_assert (index >= map->next_out);
  g_assert (offset < map->budget);

  if (offset >= map->alloc)
    {
      guint alloc = map->alloc;
      Slot *ring;

      while (alloc <= offset)
        alloc = alloc <= G_MAXUINT / 2 ? alloc * 2 : G_MAXUINT;
      alloc = MIN (alloc, map->budget);
      ring = g_new0 (Slot, alloc);
      for (guint i = 0; i < map->alloc; i++)
        ring[i] = map->ring[(map->head + i) % map->alloc];
      g_free (map->ring);
      map->ring = ring;
      map->alloc = alloc;
      map->head = 0;
    }

  return &map->ring[(map->head + offset) % map->alloc];
}

static Slot *
head_slot (Map *map)
{
  return &map->ring[map->head];
}

/* With the lock held. */
static gboolean
admissible (Map *map)
{
  guint ahead;

  ahead = _fs_queue_length (map->out_queue) + map->held + map->n_placed + map->in_flight;
  return ahead < map->budget;
}

/* With the lock held: whether a worker should take no more items. */
static gboolean
done_taking (Map *map)
{
  return map->stopped || map->failed || map->source_done;
}

/* The outcome of a worker's attempt to take an item. */
typedef enum {
  TAKE_ITEM,     /* an item, to map */
  TAKE_ERROR,    /* the source failed: its error goes in the item's place */
  TAKE_NONE,     /* nothing more: the worker returns */
} TakeStatus;

static void deliver_locked (Map      *map,
                            gboolean  force);

/* With the lock held, returns with it held: waits until the worker may
 * take an item or should stop. Returns FALSE to stop. */
static gboolean
wait_for_admission (Map          *map,
                    GCancellable *cancellable)
{
  FsWaitStatus status = FS_WAIT_OK;
  FsWait wait;

  if (done_taking (map))
    return FALSE;
  if (admissible (map))
    return TRUE;

  g_mutex_unlock (&map->lock);
  _fs_wait_init (&wait, &map->lock, -1, cancellable);
  g_mutex_lock (&map->lock);
  while (!done_taking (map) && !admissible (map) && status == FS_WAIT_OK)
    {
      /* Nothing held back while this worker sleeps. */
      deliver_locked (map, TRUE);
      if (done_taking (map) || admissible (map))
        break;
      status = _fs_wait_sleep (&wait, &map->admission);
    }
  g_mutex_unlock (&map->lock);
  _fs_wait_clear (&wait);
  g_mutex_lock (&map->lock);

  return status == FS_WAIT_OK && !done_taking (map) && admissible (map);
}

/* Takes the next item from a background generator, under the source lock
 * so that indices follow the source's order. The worker has reserved its
 * place (in_flight) already. */
static TakeStatus
take_from_generator (Map           *map,
                     GCancellable  *cancellable,
                     gpointer      *item,
                     guint64       *index,
                     GError       **error)
{
  FsWaitStatus status;

  g_mutex_lock (&map->source_lock);
  status = fs_background_generator_next (map->source, item, 0, cancellable, error);
  if (status == FS_WAIT_TIMED_OUT)
    {
      /* The source is slow: deliver what is held back before waiting. */
      g_mutex_lock (&map->lock);
      deliver_locked (map, TRUE);
      g_mutex_unlock (&map->lock);
      status = fs_background_generator_next (map->source, item, -1, cancellable, error);
    }
  *index = map->source_taken;
  if (status == FS_WAIT_OK || status == FS_WAIT_FAILED)
    map->source_taken++;
  g_mutex_unlock (&map->source_lock);

  switch (status)
    {
    case FS_WAIT_OK:
      return TAKE_ITEM;

    case FS_WAIT_FAILED:
      return TAKE_ERROR;

    case FS_WAIT_END:
    case FS_WAIT_CLOSED:
      /* The source is over (closed by someone else: over all the same). */
      g_mutex_lock (&map->lock);
      map->source_done = TRUE;
      _fs_wait_list_wake_all (&map->admission);
      g_mutex_unlock (&map->lock);
      return TAKE_NONE;

    case FS_WAIT_CANCELLED:
    case FS_WAIT_TIMED_OUT:
    case FS_WAIT_INTERRUPTED:
    case FS_WAIT_WOULD_DEADLOCK:
    case FS_WAIT_NOT_STARTED:
    default:
      /* Cancelled: the map is stopping. A worker has no interrupt
       * descriptor, and nothing else applies to a wait without limit. */
      return TAKE_NONE;
    }
}

/* Reserves a place and takes the next item. */
static TakeStatus
take (Map           *map,
      GCancellable  *cancellable,
      gpointer      *item,
      guint64       *index,
      GError       **error)
{
  TakeStatus status;

  g_mutex_lock (&map->lock);
  if (!wait_for_admission (map, cancellable))
    {
      g_mutex_unlock (&map->lock);
      return TAKE_NONE;
    }

  map->in_flight++;

  if (map->source_kind != SOURCE_GENERATOR)
    {
      /* An array: the index is the item. */
      *index = map->next_index++;
      if (map->next_index >= map->n_array)
        map->source_done = TRUE;
      if (map->source_kind == SOURCE_VALUES)
        *item = &map->values[*index];
      else
        *item = g_ptr_array_index (map->pointers, *index);
      g_mutex_unlock (&map->lock);
      return TAKE_ITEM;
    }
  g_mutex_unlock (&map->lock);

  status = take_from_generator (map, cancellable, item, index, error);
  if (status == TAKE_NONE)
    {
      g_mutex_lock (&map->lock);
      map->in_flight--;
      _fs_wait_list_wake_one (&map->admission);
      deliver_locked (map, TRUE);
      g_mutex_unlock (&map->lock);
    }

  return status;
}

/* Frees an item taken from the source, once mapped. */
static void
release_item (Map      *map,
              gpointer  item)
{
  if (map->source_kind == SOURCE_GENERATOR)
    _fs_queue_free_item (_fs_background_generator_get_queue (map->source), item);
}

/* With the lock held: takes a run of ready slots from the head into
 * @batch; returns how many, or sets *@error_out when the head is an error
 * (then the map is stopped). */
static guint
take_ready_locked (Map       *map,
                   gpointer  *batch,
                   GError   **error_out)
{
  guint n = 0;

  while (n < BATCH_MAX && map->n_placed > 0)
    {
      Slot *slot = head_slot (map);

      if (slot->state == SLOT_EMPTY)
        break;

      if (slot->state == SLOT_ERROR)
        {
          if (n > 0)
            break;   /* the results before it go first */
          *error_out = g_steal_pointer (&slot->error);
          slot->state = SLOT_EMPTY;
          map->n_placed--;
          if (!map->ordered)
            map->n_window--;
          map->head = (map->head + 1) % map->alloc;
          map->next_out++;
          return 0;
        }

      batch[n++] = g_steal_pointer (&slot->result);
      slot->state = SLOT_EMPTY;
      map->n_placed--;
      if (!map->ordered)
        map->n_window--;
      map->head = (map->head + 1) % map->alloc;
      map->next_out++;
    }

  return n;
}

/* With the lock held: how many results are ready at the head, up to
 * the batch, or the batch when the head is an error. */
static guint
count_ready_locked (Map *map)
{
  guint n = 0;

  if (!map->ordered)
    return MIN (map->n_window, map->batch);

  while (n < map->batch && n < map->n_placed)
    {
      Slot *slot = &map->ring[(map->head + n) % map->alloc];

      if (slot->state == SLOT_EMPTY)
        break;
      if (slot->state == SLOT_ERROR)
        return map->batch;
      n++;
    }
  return n;
}

/* With the lock held: whether the ready results may wait for more. Waking
 * a sleeping consumer costs more than mapping a fast item, so results of
 * fast items go out in batches; but only while another item is in a
 * worker's hands (its end delivers them), nothing failed or stops, and
 * the workers are not held back by the bound. A worker about to wait
 * delivers everything first. */
static gboolean
may_hold_locked (Map   *map,
                 guint  ready)
{
  return ready < map->batch &&
         map->in_flight > 0 &&
         !map->source_done &&
         !map->failed &&
         map->avg_item_ns < FAST_ITEM_NS &&
         admissible (map);
}

/* With the lock held, returns with it held: unless another worker is
 * delivering, hands the ready results at the head to the queue (all of
 * them when @force, else perhaps none yet: see may_hold_locked()). */
static void
deliver_locked (Map      *map,
                gboolean  force)
{
  gpointer batch[BATCH_MAX];

  if (map->delivering || map->n_placed == 0)
    return;
  map->delivering = TRUE;

  while (!map->stopped)
    {
      GError *map_error = NULL;
      gboolean closed = FALSE;
      guint n, i;

      if (!force && may_hold_locked (map, count_ready_locked (map)))
        break;

      n = take_ready_locked (map, batch, &map_error);

      if (map_error != NULL)
        {
          /* The failure reached the head: every result before it is in
           * the queue. It is the map's error now; the rest is cancelled. */
          map->error = map_error;
          map->stopped = TRUE;
          _fs_wait_list_wake_all (&map->admission);
          if (map->workers != NULL)
            {
              FsMultiThread *workers = g_object_ref (map->workers);

              g_mutex_unlock (&map->lock);
              fs_multi_thread_cancel (workers);
              g_object_unref (workers);
              g_mutex_lock (&map->lock);
            }
          break;
        }
      if (n == 0)
        break;

      map->held += n;
      g_mutex_unlock (&map->lock);

      /* One lock for the whole run, so the consumer and the deliverer do
       * not take turns at the queue's mutex for each result. The queue
       * owns the results from now on, even when closed. */
      closed = !_fs_queue_push_many (map->out_queue, batch, n, NULL);

      g_mutex_lock (&map->lock);
      map->held -= n;
      if (closed)
        map->stopped = TRUE;
      /* Room for as many items as were delivered. */
      if (closed)
        _fs_wait_list_wake_all (&map->admission);
      else
        for (i = 0; i < n && _fs_wait_list_wake_one (&map->admission); i++)
          ;
    }

  map->delivering = FALSE;
}

/* Puts the outcome of one item in the window and delivers what is ready.
 * Takes @result or @error. */
static void
place (Map      *map,
       guint64   index,
       gpointer  result,
       GError   *error,
       gint64    duration_ns)
{
  Slot *slot;

  g_mutex_lock (&map->lock);
  map->in_flight--;
  if (duration_ns >= 0)
    map->avg_item_ns = map->avg_item_ns == G_MAXINT64
                     ? duration_ns
                     : (7 * map->avg_item_ns + duration_ns) / 8;

  /* Too late: the map is stopping, or an earlier item failed, or (in no
   * order) something failed before this was ready. */
  if (map->stopped ||
      (map->ordered && index > map->fail_index) ||
      (!map->ordered && map->failed))
    {
      _fs_wait_list_wake_one (&map->admission);
      g_mutex_unlock (&map->lock);
      if (error != NULL)
        g_error_free (error);
      else
        free_result (map, result);
      return;
    }

  if (map->ordered)
    {
      slot = slot_for (map, index);
    }
  else
    {
      slot = slot_for (map, map->next_out + map->n_window);
      map->n_window++;
    }

  g_assert (slot->state == SLOT_EMPTY);
  map->n_placed++;
  if (error != NULL)
    {
      slot->state = SLOT_ERROR;
      slot->error = error;
      map->failed = TRUE;
      map->fail_index = MIN (map->fail_index, index);
      /* Nobody takes another item: wake the workers waiting to. */
      _fs_wait_list_wake_all (&map->admission);
    }
  else
    {
      slot->state = SLOT_RESULT;
      slot->result = result;
    }

  deliver_locked (map, FALSE);
  g_mutex_unlock (&map->lock);
}

/* With the lock held: frees what the window holds (the map stopped). */
static void
clear_window_locked (Map    *map,
                     GQueue *results,
                     GQueue *errors)
{
  for (guint i = 0; i < map->alloc; i++)
    {
      Slot *slot = &map->ring[i];

      if (slot->state == SLOT_RESULT)
        g_queue_push_tail (results, g_steal_pointer (&slot->result));
      else if (slot->state == SLOT_ERROR)
        g_queue_push_tail (errors, g_steal_pointer (&slot->error));
      slot->state = SLOT_EMPTY;
    }
  map->n_placed = 0;
  map->n_window = 0;
}

/* ------------------------------------------------------------------ */
/* The workers                                                         */

static gboolean
run_value_func (Map          *map,
                FsMapResult  *handle,
                const GValue *item,
                guint64       index,
                gpointer     *result,
                GError      **error)
{
  GValue *value;
  gboolean ok;

  handle->index = index;
  handle->armed = TRUE;
  ok = map->value_func (item, handle, map->user_data, error);
  handle->armed = FALSE;

  if (!ok)
    {
      if (G_IS_VALUE (&handle->value))
        g_value_unset (&handle->value);
      return FALSE;
    }

  value = g_new0 (GValue, 1);
  if (G_IS_VALUE (&handle->value))
    {
      *value = handle->value;
      memset (&handle->value, 0, sizeof handle->value);
    }
  else
    {
      g_value_init (value, G_TYPE_OBJECT);
    }
  *result = value;
  return TRUE;
}

static gboolean
worker_main (FsThread  *thread,
             gpointer   data,
             GError   **error)
{
  Map *map = data;
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  g_autoptr(FsMapResult) handle = NULL;

  if (map->value_func != NULL)
    {
      handle = g_object_new (FS_TYPE_MAP_RESULT, NULL);
      handle->owner = g_thread_self ();
    }

  for (;;)
    {
      GError *item_error = NULL;
      gpointer item = NULL;
      gpointer result = NULL;
      guint64 index = 0;
      gint64 start, duration;
      gboolean ok;

      switch (take (map, cancellable, &item, &index, &item_error))
        {
        case TAKE_NONE:
          return TRUE;

        case TAKE_ERROR:
          /* The source failed: nothing comes after it. */
          g_mutex_lock (&map->lock);
          map->source_done = TRUE;
          g_mutex_unlock (&map->lock);
          place (map, index, NULL, item_error, -1);
          continue;

        case TAKE_ITEM:
        default:
          break;
        }

      start = g_get_monotonic_time ();
      if (map->value_func != NULL)
        {
          GValue pointer_value = G_VALUE_INIT;
          const GValue *value = item;

          /* A stream of pointers feeds a value function its items as
           * G_TYPE_POINTER values. */
          if (map->source_kind == SOURCE_GENERATOR && !map->source_values)
            {
              g_value_init (&pointer_value, G_TYPE_POINTER);
              g_value_set_pointer (&pointer_value, item);
              value = &pointer_value;
            }
          ok = run_value_func (map, handle, value, index, &result, &item_error);
        }
      else
        {
          ok = map->func (item, &result, map->user_data, &item_error);
        }

      duration = (g_get_monotonic_time () - start) * 1000;
      release_item (map, item);

      if (!ok)
        {
          if (result != NULL && map->value_func == NULL)
            free_result (map, result);
          if (item_error == NULL)
            g_set_error_literal (&item_error, FS_ERROR, FS_ERROR_FAILED,
                                 "The map function failed without an error");
          place (map, index, NULL, item_error, duration);
        }
      else
        {
          g_clear_error (&item_error);
          place (map, index, result, NULL, duration);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The driver: the map's generator function                            */

static void
stop (Map *map)
{
  g_mutex_lock (&map->lock);
  map->stopped = TRUE;
  _fs_wait_list_wake_all (&map->admission);
  g_mutex_unlock (&map->lock);
}

static gboolean
driver_main (FsGenerator  *generator,
             gpointer      data,
             GError      **error)
{
  Map *map = data;
  GCancellable *closing = fs_generator_get_cancellable (generator);
  g_autoptr(FsMultiThread) workers = NULL;
  g_autoptr(GError) local_error = NULL;
  GQueue results = G_QUEUE_INIT;
  GQueue errors = G_QUEUE_INIT;
  gboolean started;

  /* The constructor hands over the queue once the generator exists. */
  g_mutex_lock (&map->lock);
  while (map->out_queue == NULL)
    g_cond_wait (&map->ready_cond, &map->lock);
  map->generator = g_object_ref (generator);
  workers = fs_multi_thread_new (map->source_kind == SOURCE_POINTERS ? "file-reader" : "map-worker",
                                 map->n_threads, worker_main, map_ref (map), map_unref);
  map->workers = g_object_ref (workers);
  g_mutex_unlock (&map->lock);

  started = fs_multi_thread_start (workers, &local_error);
  if (!started)
    {
      /* Threads that did start stop with the others. */
      stop (map);
      fs_multi_thread_cancel (workers);
      fs_multi_thread_join (workers, -1, NULL, NULL);
    }
  else if (fs_multi_thread_join (workers, -1, closing, NULL) == FS_WAIT_CANCELLED)
    {
      /* Closed (or the producer thread cancelled): stop everything. */
      stop (map);
      fs_multi_thread_cancel (workers);
      fs_multi_thread_join (workers, -1, NULL, NULL);
    }

  /* Every worker has returned: what the window still holds is nobody's. */
  g_mutex_lock (&map->lock);
  g_clear_object (&map->workers);
  clear_window_locked (map, &results, &errors);
  if (started && local_error == NULL && map->error != NULL)
    local_error = g_steal_pointer (&map->error);
  g_mutex_unlock (&map->lock);

  while (!g_queue_is_empty (&results))
    free_result (map, g_queue_pop_head (&results));
  while (!g_queue_is_empty (&errors))
    g_error_free (g_queue_pop_head (&errors));

  /* Nothing more is taken from the source: its producer stops too. */
  if (map->source != NULL)
    fs_background_generator_close (map->source, -1, NULL);

  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  /* Cancelled without a close: the stream did not end, say so. */
  if (g_cancellable_set_error_if_cancelled (closing, error))
    return FALSE;

  return TRUE;
}

/* Makes the map's generator and lets its driver go. Takes @map. */
static FsBackgroundGenerator *
start_map (Map        *map,
           const char *name,
           gboolean    values)
{
  FsBackgroundGenerator *self;

  if (values)
    self = fs_background_generator_new_for_values (map->prefetch, name, driver_main,
                                                   map_ref (map), map_unref);
  else
    self = fs_background_generator_new (map->prefetch, name, driver_main,
                                        map_ref (map), map_unref, map->result_free);

  /* With a worker on every CPU, a side of a queue that spins before it
   * sleeps takes a CPU from the workers: the consumer waiting for a
   * result, the source's producer waiting for room. */
  if (map->n_threads >= fs_total_cpus ())
    {
      _fs_queue_set_spin_usec (_fs_background_generator_get_queue (self), 0);
      if (map->source != NULL)
        _fs_queue_set_spin_usec (_fs_background_generator_get_queue (map->source), 0);
    }

  g_mutex_lock (&map->lock);
  map->out_queue = _fs_queue_ref (_fs_background_generator_get_queue (self));
  g_cond_signal (&map->ready_cond);
  g_mutex_unlock (&map->lock);

  map_unref (map);
  return self;
}

/* In place of a JavaScript function (fs-binding.c): every item fails. */
static gboolean
refuse_javascript (const GValue  *item,
                   FsMapResult   *result,
                   gpointer       user_data,
                   GError       **error)
{
  g_set_error_literal (error, FS_ERROR, FS_ERROR_NOT_SUPPORTED, FS_BINDING_REFUSAL_MESSAGE);
  return FALSE;
}

/**
 * fs_background_generator_map: (skip)
 * @source: the background generator whose items are mapped; the map takes
 *   a reference, and is its only consumer from now on
 * @n_threads: the number of worker threads, or 0 for [func@Fs.total_cpus]
 * @prefetch: the most finished results ahead of the consumer, or 0 for
 *   twice the number of threads
 * @flags: [flags@Fs.MapFlags]: %FS_MAP_NONE for results in order
 * @func: the function, run on the workers for each item
 * @user_data: data for @func
 * @user_data_free: (nullable): frees @user_data once every worker is done
 * @result_free: (nullable): frees a result no consumer took
 *
 * A parallel, ordered, bounded map: runs @func on @n_threads worker
 * threads over the items of @source, and returns a background generator
 * whose items are the results, taken with the calls of any background
 * generator ([method@Fs.BackgroundGenerator.next],
 * [method@Fs.BackgroundGenerator.next_async], ...).
 *
 * The results come in the order of the source, unless @flags has
 * %FS_MAP_UNORDERED. At most @prefetch finished results and one item per
 * worker exist ahead of the consumer: the source is read no faster than
 * that allows, so it may be infinite. (The source's own prefetch reads
 * ahead of the map: give it 1 to bound the whole chain by the map's.)
 *
 * The items of @source are lent to @func: the map frees each with the
 * source's item free function once @func has returned. When @func fails on
 * an item, no more items are taken, the results before it are delivered,
 * then the stream fails with its error; results after it are freed. An
 * error of the source itself is raised in the same way, in its place.
 *
 * Closing the map, or dropping its last reference, stops the workers,
 * frees every item and result it holds, and closes @source. The returned
 * generator's thread is the map's driver: it starts and joins the workers.
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator] of results
 *
 * Since: 0.2
 */
FsBackgroundGenerator *
fs_background_generator_map (FsBackgroundGenerator *source,
                                 guint                  n_threads,
                                 guint                  prefetch,
                                 FsMapFlags             flags,
                                 FsMapFunc              func,
                                 gpointer               user_data,
                                 GDestroyNotify         user_data_free,
                                 GDestroyNotify         result_free)
{
  Map *map;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (source), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail ((flags & ~FS_MAP_UNORDERED) == 0, NULL);

  map = map_new (n_threads, prefetch, flags);
  map->source_kind = SOURCE_GENERATOR;
  map->source = g_object_ref (source);
  map->source_values = _fs_background_generator_is_values (source);
  map->func = func;
  map->user_data = user_data;
  map->user_data_free = user_data_free;
  map->result_free = result_free;

  return start_map (map, "map", FALSE);
}

/**
 * fs_background_generator_map_values:
 * @source: the background generator whose items are mapped; the map takes
 *   a reference, and is its only consumer from now on
 * @n_threads: the number of worker threads, or 0 for [func@Fs.total_cpus]
 * @prefetch: the most finished results ahead of the consumer, or 0 for
 *   twice the number of threads
 * @flags: [flags@Fs.MapFlags]: %FS_MAP_NONE for results in order
 * @func: (scope notified) (closure user_data) (destroy user_data_free): the
 *   function, run on the workers for each item
 * @user_data: data for @func
 * @user_data_free: (nullable): frees @user_data once every worker is done
 *
 * As `fs_background_generator_map()`, for values: @func receives
 * each item as a [struct@GObject.Value] (the items of a stream of values,
 * or %G_TYPE_POINTER values for a stream of pointers) and hands its result
 * over with [method@Fs.MapResult.set_value]. The map is a stream of
 * values, read with [method@Fs.BackgroundGenerator.next_value] or
 * [method@Fs.BackgroundGenerator.next_async]. This is the form bindings
 * use: a Python function can be @func (it runs on the workers, holding the
 * interpreter's lock while it runs).
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator] of results
 *
 * Since: 0.2
 */
FsBackgroundGenerator *
fs_background_generator_map_values (FsBackgroundGenerator *source,
                                            guint                  n_threads,
                                            guint                  prefetch,
                                            FsMapFlags             flags,
                                            FsMapValueFunc         func,
                                            gpointer               user_data,
                                            GDestroyNotify         user_data_free)
{
  Map *map;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (source), NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail ((flags & ~FS_MAP_UNORDERED) == 0, NULL);

  map = map_new (n_threads, prefetch, flags);
  map->source_kind = SOURCE_GENERATOR;
  map->source = g_object_ref (source);
  map->source_values = _fs_background_generator_is_values (source);
  if (_fs_binding_take_javascript ((GCallback) func, &user_data, &user_data_free))
    func = refuse_javascript;
  map->value_func = func;
  map->user_data = user_data;
  map->user_data_free = user_data_free;
  map->result_free = _fs_value_free;

  return start_map (map, "map", TRUE);
}

/**
 * fs_background_generator_new_map_for_array:
 * @values: (array length=n_values): the items to map, copied
 * @n_values: the number of items
 * @n_threads: the number of worker threads, or 0 for [func@Fs.total_cpus]
 * @prefetch: the most finished results ahead of the consumer, or 0 for
 *   twice the number of threads
 * @flags: [flags@Fs.MapFlags]: %FS_MAP_NONE for results in order
 * @func: (scope notified) (closure user_data) (destroy user_data_free): the
 *   function, run on the workers for each item
 * @user_data: data for @func
 * @user_data_free: (nullable): frees @user_data once every worker is done
 *
 * As [method@Fs.BackgroundGenerator.map_values], over an array of
 * values: the workers take the items themselves, with no producer thread
 * in front of them.
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator] of results
 *
 * Since: 0.2
 */
FsBackgroundGenerator *
fs_background_generator_new_map_for_array (const GValue   *values,
                                           guint           n_values,
                                           guint           n_threads,
                                           guint           prefetch,
                                           FsMapFlags      flags,
                                           FsMapValueFunc  func,
                                           gpointer        user_data,
                                           GDestroyNotify  user_data_free)
{
  Map *map;

  g_return_val_if_fail (values != NULL || n_values == 0, NULL);
  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail ((flags & ~FS_MAP_UNORDERED) == 0, NULL);
  for (guint i = 0; i < n_values; i++)
    g_return_val_if_fail (G_IS_VALUE (&values[i]), NULL);

  map = map_new (n_threads, prefetch, flags);
  map->source_kind = SOURCE_VALUES;
  map->values = g_new0 (GValue, MAX (n_values, 1));
  map->n_array = n_values;
  for (guint i = 0; i < n_values; i++)
    {
      g_value_init (&map->values[i], G_VALUE_TYPE (&values[i]));
      g_value_copy (&values[i], &map->values[i]);
    }
  map->source_done = n_values == 0;
  if (_fs_binding_take_javascript ((GCallback) func, &user_data, &user_data_free))
    func = refuse_javascript;
  map->value_func = func;
  map->user_data = user_data;
  map->user_data_free = user_data_free;
  map->result_free = _fs_value_free;

  return start_map (map, "map", TRUE);
}

/* The file loader's function: a file in, its loaded file out, as a value. */
static gboolean
load_file (gpointer   item,
           gpointer  *result,
           gpointer   user_data,
           GError   **error)
{
  GCancellable *cancellable = fs_thread_get_cancellable (fs_thread_get_current ());
  GValue *value = g_new0 (GValue, 1);

  g_value_init (value, FS_TYPE_LOADED_FILE);
  g_value_take_object (value, _fs_file_load (item, cancellable));
  *result = value;
  return TRUE;
}

/**
 * fs_background_generator_new_for_files_parallel:
 * @files: (array length=n_files): the files to read, in order
 * @n_files: the number of files
 * @n_threads: the number of reading threads, or 0 for [func@Fs.total_cpus]
 * @prefetch: the most files read ahead of the consumer beyond one per
 *   thread, or 0 for twice the number of threads
 *
 * As [ctor@Fs.BackgroundGenerator.new_for_files], reading on @n_threads
 * threads at once: for many files on a fast disk (or in the page cache),
 * where one thread cannot keep up. The items are the same
 * [class@Fs.LoadedFile]s, in the same order, each carrying its contents or
 * its read error; at most @prefetch + @n_threads files are read and not
 * yet taken.
 *
 * It is a map (see `fs_background_generator_map()`) whose function
 * is written in C, so JavaScript and Python consume it from their main loop
 * with [method@Fs.BackgroundGenerator.next_async] like any generator.
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator]
 *
 * Since: 0.2
 */
FsBackgroundGenerator *
fs_background_generator_new_for_files_parallel (GFile * const *files,
                                                guint          n_files,
                                                guint          n_threads,
                                                guint          prefetch)
{
  Map *map;

  g_return_val_if_fail (files != NULL || n_files == 0, NULL);
  for (guint i = 0; i < n_files; i++)
    g_return_val_if_fail (G_IS_FILE (files[i]), NULL);

  map = map_new (n_threads, prefetch, FS_MAP_NONE);
  map->source_kind = SOURCE_POINTERS;
  map->pointers = g_ptr_array_new_full (n_files, g_object_unref);
  for (guint i = 0; i < n_files; i++)
    g_ptr_array_add (map->pointers, g_object_ref (files[i]));
  map->n_array = n_files;
  map->source_done = n_files == 0;
  map->func = load_file;
  map->result_free = _fs_value_free;

  return start_map (map, "file-loader", TRUE);
}
