/* fs-background-generator.c: a generator run ahead on its own thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-background-generator.h"
#include "fs-background-generator-private.h"
#include "fs-binding-private.h"
#include "fs-error.h"
#include "fs-generator-private.h"
#include "fs-queue-private.h"
#include "fs-thread-private.h"
#include "fs-wait-private.h"

/**
 * FsBackgroundGenerator:
 *
 * Runs a generator function on a background thread and hands its items to
 * the consumer through a bounded queue, so that producing the next items
 * overlaps with consuming this one.
 *
 * The generator, a [callback@Fs.GeneratorFunc], starts at once on its own
 * [class@Fs.Thread]. It yields items with [method@Fs.Generator.yield]; the
 * consumer takes them with [method@Fs.BackgroundGenerator.next] (blocking,
 * with a timeout and a cancellable), [method@Fs.BackgroundGenerator.next_async]
 * (from a main loop), or, in bindings, [method@Fs.BackgroundGenerator.next_value].
 * Each returns an [enum@Fs.WaitStatus]: what happened to the wait, never
 * mixed up with the generator's failure, which is the only thing that comes
 * as a #GError:
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * FsWaitStatus status;
 * gpointer item;
 *
 * while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
 *   consume (item);
 * if (status == FS_WAIT_FAILED)
 *   g_printerr ("%s\n", error->message);
 * ```
 *
 * The end of the stream and the generator's error travel beside the items,
 * never as one of them: any pointer, %NULL too, is an item. An error reaches
 * the consumer after every item yielded before it, with its domain, code
 * and message.
 *
 * At most [property@Fs.BackgroundGenerator:prefetch] items exist ahead of
 * the consumer: queued, or being made by the generator. (The original let
 * `prefetch + 1` exist.)
 *
 * Several threads may consume at once: each item goes to exactly one of
 * them, and once the stream has ended every waiting and later consumer sees
 * the end.
 *
 * ```
 *                generator returns
 *   RUNNING ─────────────────────────▶ ENDED ──(items drained)──▶ FS_WAIT_END / FS_WAIT_FAILED
 *      │                                 │
 *      └──── close() / last unref ───────┴──▶ CLOSED ──▶ FS_WAIT_CLOSED
 * ```
 *
 * [method@Fs.BackgroundGenerator.close] wakes the producer (its yield fails
 * with %FS_ERROR_CLOSED), frees the queued items, cancels the producer's
 * cancellable, and waits, as long as its timeout allows, for the generator
 * function to return. Dropping the last reference closes the stream too,
 * but never waits: the producer thread finishes and frees what it holds on
 * its own, so @user_data_free may then run on the producer thread.
 *
 * A consumer must hold a reference to the generator while it calls it, as
 * for any GObject; a consumer asleep in a blocking call is safe even when
 * another thread drops the last reference meanwhile: the call returns
 * %FS_WAIT_CLOSED.
 *
 * A generator made with g_object_new() and no constructor is an empty,
 * ended stream.
 *
 * Since: 0.1
 */

struct _FsBackgroundGenerator
{
  GObject      parent_instance;

  guint        prefetch;
  gboolean     values;
  FsQueue     *queue;
  FsThread    *thread;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_PREFETCH,
  PROP_THREAD,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FsBackgroundGenerator, fs_background_generator, G_TYPE_OBJECT)

/* What the producer thread owns: never the FsBackgroundGenerator itself. */
typedef struct
{
  FsGeneratorFunc  func;
  gpointer         user_data;
  GDestroyNotify   user_data_free;
  FsGenerator     *generator;
  FsQueue         *queue;
} Producer;

static void
producer_free (gpointer data)
{
  Producer *producer = data;

  if (producer->user_data_free != NULL)
    producer->user_data_free (producer->user_data);
  g_clear_object (&producer->generator);
  g_clear_pointer (&producer->queue, _fs_queue_unref);
  g_free (producer);
}

static gboolean
producer_main (FsThread  *thread,
               gpointer   data,
               GError   **error)
{
  Producer *producer = data;
  GError *local_error = NULL;

  if (producer->func (producer->generator, producer->user_data, &local_error))
    return TRUE;

  /* Stopping because the consumer left is not a failure: the yield said
   * so, or a GIO call given the cancellable that close triggers did. */
  if (_fs_queue_is_closed (producer->queue) &&
      (local_error == NULL ||
       g_error_matches (local_error, FS_ERROR, FS_ERROR_CLOSED) ||
       g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_clear_error (&local_error);
      return TRUE;
    }

  /* No error set: the thread reports FS_ERROR_FAILED. */
  if (local_error != NULL)
    g_propagate_error (error, local_error);
  return FALSE;
}

/* On the producer thread, once its error is final: the end goes after the
 * last item, so the consumer sees every item and then the error. */
static void
producer_finished (FsThread     *thread,
                   const GError *error,
                   gpointer      data)
{
  _fs_queue_end (data, error);
}

static void
fs_background_generator_dispose (GObject *object)
{
  FsBackgroundGenerator *self = (FsBackgroundGenerator *)object;

  /* Never waits: the producer finishes and frees on its own. */
  if (self->queue != NULL)
    fs_background_generator_close (self, 0, NULL);

  G_OBJECT_CLASS (fs_background_generator_parent_class)->dispose (object);
}

static void
fs_background_generator_finalize (GObject *object)
{
  FsBackgroundGenerator *self = (FsBackgroundGenerator *)object;

  g_clear_object (&self->thread);
  g_clear_pointer (&self->queue, _fs_queue_unref);

  G_OBJECT_CLASS (fs_background_generator_parent_class)->finalize (object);
}

static void
fs_background_generator_get_property (GObject    *object,
                                      guint       prop_id,
                                      GValue     *value,
                                      GParamSpec *pspec)
{
  FsBackgroundGenerator *self = FS_BACKGROUND_GENERATOR (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, fs_background_generator_get_name (self));
      break;

    case PROP_PREFETCH:
      g_value_set_uint (value, self->prefetch);
      break;

    case PROP_THREAD:
      g_value_set_object (value, self->thread);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_background_generator_class_init (FsBackgroundGeneratorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fs_background_generator_dispose;
  object_class->finalize = fs_background_generator_finalize;
  object_class->get_property = fs_background_generator_get_property;

  /**
   * FsBackgroundGenerator:name:
   *
   * The name of the producer thread.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FsBackgroundGenerator:prefetch:
   *
   * The most items that exist ahead of the consumer: queued, or being made
   * by the generator.
   *
   * Since: 0.1
   */
  properties[PROP_PREFETCH] =
    g_param_spec_uint ("prefetch", NULL, NULL,
                       1, G_MAXUINT, 1,
                       (G_PARAM_READABLE |
                        G_PARAM_STATIC_STRINGS));

  /**
   * FsBackgroundGenerator:thread:
   *
   * The producer thread. Its error state holds the generator's failure.
   *
   * Since: 0.1
   */
  properties[PROP_THREAD] =
    g_param_spec_object ("thread", NULL, NULL,
                         FS_TYPE_THREAD,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fs_background_generator_init (FsBackgroundGenerator *self)
{
  self->prefetch = 1;
}

static FsBackgroundGenerator *
create (guint            prefetch,
        const char      *name,
        FsGeneratorFunc  func,
        gpointer         user_data,
        GDestroyNotify   user_data_free,
        GDestroyNotify   item_free,
        gboolean         values)
{
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *self;
  Producer *producer;

  /* A JavaScript generator never reaches the producer thread. */
  _fs_binding_refuse_javascript ((GCallback *) &func, &user_data, &user_data_free);

  self = g_object_new (FS_TYPE_BACKGROUND_GENERATOR, NULL);
  self->prefetch = prefetch;
  self->values = values;
  self->queue = _fs_queue_new (prefetch, item_free);

  producer = g_new0 (Producer, 1);
  producer->func = func;
  producer->user_data = user_data;
  producer->user_data_free = user_data_free;
  producer->queue = _fs_queue_ref (self->queue);

  self->thread = fs_thread_new (name != NULL ? name : "generator",
                                producer_main, producer, producer_free);
  producer->generator = _fs_generator_new (self->queue,
                                           fs_thread_get_cancellable (self->thread),
                                           values);
  _fs_thread_set_finish_func (self->thread, producer_finished,
                              _fs_queue_ref (self->queue),
                              (GDestroyNotify) _fs_queue_unref);

  /* A thread that cannot start is the stream's error, seen by the
   * consumer like any other. */
  if (!fs_thread_start (self->thread, &error))
    _fs_queue_end (self->queue, error);

  return self;
}

/**
 * fs_background_generator_new: (skip)
 * @prefetch: the most items that may exist ahead of the consumer, at least 1
 * @name: (nullable): the name of the producer thread, or %NULL for
 *   `generator`
 * @func: the generator function, run on the producer thread
 * @user_data: data for @func
 * @user_data_free: (nullable): frees @user_data once the producer is done
 * @item_free: (nullable): frees an item no consumer took
 *
 * Starts @func on a new thread and returns the consumer's end of its
 * stream. Nothing blocks: if the thread cannot be created, the first
 * [method@Fs.BackgroundGenerator.next] returns %FS_WAIT_FAILED with
 * %FS_ERROR_THREAD_CREATE.
 *
 * At most @prefetch items exist ahead of the consumer: when
 * [method@Fs.Generator.yield] returns, fewer than @prefetch are queued, so
 * with the one the generator makes next there are at most @prefetch.
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator]
 *
 * Since: 0.1
 */
FsBackgroundGenerator *
fs_background_generator_new (guint            prefetch,
                             const char      *name,
                             FsGeneratorFunc  func,
                             gpointer         user_data,
                             GDestroyNotify   user_data_free,
                             GDestroyNotify   item_free)
{
  g_return_val_if_fail (prefetch >= 1, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return create (prefetch, name, func, user_data, user_data_free, item_free, FALSE);
}

/**
 * fs_background_generator_new_for_values:
 * @prefetch: the most items that may exist ahead of the consumer, at least 1
 * @name: (nullable): the name of the producer thread, or %NULL for
 *   `generator`
 * @func: (scope notified) (closure user_data) (destroy user_data_free): the
 *   generator function, run on the producer thread
 * @user_data: data for @func
 * @user_data_free: (nullable): frees @user_data once the producer is done
 *
 * As [ctor@Fs.BackgroundGenerator.new], for a stream of [struct@GObject.Value]s:
 * the generator yields with [method@Fs.Generator.yield_value] and the
 * consumer takes them with [method@Fs.BackgroundGenerator.next_value]. This
 * is the constructor bindings use. In C, each item is a `GValue *`.
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator]
 *
 * Since: 0.1
 */
FsBackgroundGenerator *
fs_background_generator_new_for_values (guint            prefetch,
                                        const char      *name,
                                        FsGeneratorFunc  func,
                                        gpointer         user_data,
                                        GDestroyNotify   user_data_free)
{
  g_return_val_if_fail (prefetch >= 1, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  return create (prefetch, name, func, user_data, user_data_free, _fs_value_free, TRUE);
}

/**
 * fs_background_generator_get_name: (get-property name)
 * @self: a [class@Fs.BackgroundGenerator]
 *
 * The name of the producer thread.
 *
 * Returns: (transfer none) (nullable): the name, %NULL for a generator
 *   made with g_object_new()
 *
 * Since: 0.1
 */
const char *
fs_background_generator_get_name (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), NULL);

  return self->thread != NULL ? fs_thread_get_name (self->thread) : NULL;
}

/**
 * fs_background_generator_get_prefetch: (get-property prefetch)
 * @self: a [class@Fs.BackgroundGenerator]
 *
 * The bound on items ahead of the consumer.
 *
 * Returns: the prefetch
 *
 * Since: 0.1
 */
guint
fs_background_generator_get_prefetch (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), 0);

  return self->prefetch;
}

/**
 * fs_background_generator_get_thread: (get-property thread)
 * @self: a [class@Fs.BackgroundGenerator]
 *
 * The producer thread.
 *
 * Returns: (transfer none) (nullable): the producer's [class@Fs.Thread],
 *   %NULL for a generator made with g_object_new()
 *
 * Since: 0.1
 */
FsThread *
fs_background_generator_get_thread (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), NULL);

  return self->thread;
}

/* The queue; a generator made with g_object_new() and no constructor gets
 * an empty, ended one when first asked. */
static FsQueue *
get_queue (FsBackgroundGenerator *self)
{
  FsQueue *queue = g_atomic_pointer_get (&self->queue);

  if G_UNLIKELY (queue == NULL)
    {
      queue = _fs_queue_new (1, NULL);
      _fs_queue_end (queue, NULL);
      if (!g_atomic_pointer_compare_and_exchange (&self->queue, NULL, queue))
        {
          _fs_queue_unref (queue);
          queue = g_atomic_pointer_get (&self->queue);
        }
    }
  return queue;
}

/**
 * fs_background_generator_next: (skip)
 * @self: a [class@Fs.BackgroundGenerator]
 * @item: (out) (transfer full) (optional): the next item
 * @timeout_usec: the longest wait in microseconds, 0 to take only what is
 *   ready, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for the generator's error
 *
 * Takes the next item, waiting for the generator if none is queued.
 *
 * Returns %FS_WAIT_OK with @item set to the next item, which is now yours
 * (in a stream of values, a `GValue *` to unset and free). At the end of the
 * stream it returns %FS_WAIT_END when the generator returned normally, and
 * %FS_WAIT_FAILED with @error set to its error when it failed; every later
 * call returns the same. After [method@Fs.BackgroundGenerator.close] it
 * returns %FS_WAIT_CLOSED; when @cancellable is cancelled (before the call
 * too: then nothing is taken) %FS_WAIT_CANCELLED; after @timeout_usec
 * %FS_WAIT_TIMED_OUT; and %FS_WAIT_INTERRUPTED when the thread's interrupt
 * descriptor ([func@Fs.wait_set_interrupt_fd]) is readable while it waits.
 * Only %FS_WAIT_OK takes an item.
 *
 * Returns: the outcome of the wait
 *
 * Since: 0.2
 */
FsWaitStatus
fs_background_generator_next (FsBackgroundGenerator  *self,
                              gpointer               *item,
                              gint64                  timeout_usec,
                              GCancellable           *cancellable,
                              GError                **error)
{
  gpointer local_item = NULL;
  FsQueue *queue;
  FsWaitStatus status;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FS_WAIT_CLOSED);
  g_return_val_if_fail (timeout_usec >= -1, FS_WAIT_CLOSED);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FS_WAIT_CLOSED);
  g_return_val_if_fail (error == NULL || *error == NULL, FS_WAIT_CLOSED);

  queue = get_queue (self);
  status = _fs_queue_pop (queue, &local_item, _fs_wait_end_time (timeout_usec),
                          cancellable, error);
  if (status == FS_WAIT_OK)
    {
      if (item != NULL)
        *item = local_item;
      else
        _fs_queue_free_item (queue, local_item);
    }

  return status;
}

/* The item as a value: a stream of values hands over its GValue, a stream
 * of pointers a G_TYPE_POINTER. */
static void
item_to_value (FsBackgroundGenerator *self,
               gpointer               item,
               GValue                *dest)
{
  if (self->values)
    {
      GValue *value = item;

      if (dest != NULL)
        *dest = *value;
      else
        g_value_unset (value);
      g_free (value);
    }
  else if (dest != NULL)
    {
      g_value_init (dest, G_TYPE_POINTER);
      g_value_set_pointer (dest, item);
    }
  else
    {
      _fs_queue_free_item (get_queue (self), item);
    }
}

/**
 * fs_background_generator_next_value:
 * @self: a [class@Fs.BackgroundGenerator]
 * @timeout_usec: the longest wait in microseconds, 0 to take only what is
 *   ready, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @value: (out caller-allocates) (optional): an unset [struct@GObject.Value]
 *   to receive the next item
 * @error: return location for the generator's error
 *
 * As [method@Fs.BackgroundGenerator.next], with the item as a value: the
 * item itself in a stream made with
 * [ctor@Fs.BackgroundGenerator.new_for_values], a %G_TYPE_POINTER value in
 * a stream of pointers. This is the blocking call bindings use. When it
 * returns anything but %FS_WAIT_OK, @value holds a %NULL object (bindings
 * read it all the same).
 *
 * Returns: the outcome of the wait; %FS_WAIT_OK with @value set
 *
 * Since: 0.2
 */
FsWaitStatus
fs_background_generator_next_value (FsBackgroundGenerator  *self,
                                    gint64                  timeout_usec,
                                    GCancellable           *cancellable,
                                    GValue                 *value,
                                    GError                **error)
{
  gpointer item = NULL;
  FsWaitStatus status;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FS_WAIT_CLOSED);
  g_return_val_if_fail (timeout_usec >= -1, FS_WAIT_CLOSED);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FS_WAIT_CLOSED);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FS_WAIT_CLOSED);
  g_return_val_if_fail (error == NULL || *error == NULL, FS_WAIT_CLOSED);

  status = _fs_queue_pop (get_queue (self), &item, _fs_wait_end_time (timeout_usec),
                          cancellable, error);
  if (status == FS_WAIT_OK)
    item_to_value (self, item, value);
  else if (value != NULL)
    g_value_init (value, G_TYPE_OBJECT);

  return status;
}

/* Source tags: the address of an object, since ISO C has no conversion
 * from a function pointer to an object pointer. */
static char next_async_tag;

/**
 * fs_background_generator_next_async:
 * @self: a [class@Fs.BackgroundGenerator]
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @callback: (scope async): called on the caller's thread-default main
 *   context with the next item or the end
 * @user_data: data for @callback
 *
 * Takes the next item without blocking: the producer hands it to the
 * caller's main context. No thread waits on the caller's behalf. Finish
 * with [method@Fs.BackgroundGenerator.next_finish].
 *
 * Since: 0.1
 */
void
fs_background_generator_next_async (FsBackgroundGenerator *self,
                                    GCancellable          *cancellable,
                                    GAsyncReadyCallback    callback,
                                    gpointer               user_data)
{
  g_return_if_fail (FS_IS_BACKGROUND_GENERATOR (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _fs_queue_pop_async (get_queue (self), self, &next_async_tag,
                       "fs_background_generator_next_async", cancellable, callback, user_data);
}

/**
 * fs_background_generator_next_finish:
 * @self: a [class@Fs.BackgroundGenerator]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for the generator's error
 *
 * Completes [method@Fs.BackgroundGenerator.next_async].
 *
 * It returns the item as a value (as
 * [method@Fs.BackgroundGenerator.next_value] gives it: the item of a stream
 * of values, a %G_TYPE_POINTER value in a stream of pointers), or %NULL when
 * the wait took none: at the end of the stream, after a close, or when the
 * cancellable was cancelled ([method@Fs.BackgroundGenerator.next_finish_full]
 * says which, and tells a %NULL item from no item). The generator's failure is the only error: %NULL with @error
 * set.
 *
 * So in JavaScript `await bg.next_async(null)` (with `Gio._promisify`)
 * resolves to the item itself, or to `null` once there is none; in Python
 * `next_finish()` returns the item or `None`; in Vala
 * `var item = yield bg.next_async (null);` gives a `GLib.Value?`.
 *
 * Returns: (transfer full) (nullable): the item, or %NULL when there is none
 *
 * Since: 0.2
 */
GValue *
fs_background_generator_next_finish (FsBackgroundGenerator  *self,
                                     GAsyncResult           *result,
                                     GError                **error)
{
  return fs_background_generator_next_finish_full (self, result, NULL, error);
}

/**
 * fs_background_generator_next_finish_full:
 * @self: a [class@Fs.BackgroundGenerator]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @status: (out) (optional): the outcome of the wait, as
 *   [method@Fs.BackgroundGenerator.next] returns it
 * @error: return location for the generator's error
 *
 * As [method@Fs.BackgroundGenerator.next_finish], and says why there is no
 * item: %FS_WAIT_END, %FS_WAIT_CLOSED, %FS_WAIT_CANCELLED, or
 * %FS_WAIT_FAILED with @error set; %FS_WAIT_OK with the item. Use it where
 * an item can itself read as `null` (Python's `None`), to tell it from the
 * end.
 *
 * Returns: (transfer full) (nullable): the item, or %NULL when there is none
 *
 * Since: 0.2
 */
GValue *
fs_background_generator_next_finish_full (FsBackgroundGenerator  *self,
                                          GAsyncResult           *result,
                                          FsWaitStatus           *status,
                                          GError                **error)
{
  gpointer item = NULL;
  FsWaitStatus local_status;
  GValue *value;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == &next_async_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  local_status = _fs_queue_pop_finish (result, &item, error);
  if (status != NULL)
    *status = local_status;
  if (local_status != FS_WAIT_OK)
    return NULL;

  value = g_new0 (GValue, 1);
  item_to_value (self, item, value);
  return value;
}

/**
 * fs_background_generator_close:
 * @self: a [class@Fs.BackgroundGenerator]
 * @timeout_usec: the longest wait for the producer in microseconds, 0 not
 *   to wait, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 *
 * Stops the stream: wakes the producer (its yield fails with
 * %FS_ERROR_CLOSED), frees every queued item, cancels the producer's
 * cancellable, and ends every waiting and later consumer's call with
 * %FS_WAIT_CLOSED. Then it waits, as long as @timeout_usec allows, for the
 * generator function to return, which a well-behaved one does at its next
 * yield.
 *
 * Whatever it returns, the stream is closed: a wait that ends early only
 * leaves the producer to finish on its own, and free what it holds there.
 * Closing again closes nothing more, and waits again.
 *
 * Returns: %FS_WAIT_OK once the producer has finished; %FS_WAIT_TIMED_OUT,
 *   %FS_WAIT_CANCELLED or %FS_WAIT_INTERRUPTED when the wait ended first;
 *   %FS_WAIT_WOULD_DEADLOCK when called on the producer thread itself,
 *   which cannot wait for itself
 *
 * Since: 0.2
 */
FsWaitStatus
fs_background_generator_close (FsBackgroundGenerator *self,
                               gint64                 timeout_usec,
                               GCancellable          *cancellable)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FS_WAIT_CLOSED);
  g_return_val_if_fail (timeout_usec >= -1, FS_WAIT_CLOSED);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FS_WAIT_CLOSED);

  if (_fs_queue_close (get_queue (self)) && self->thread != NULL)
    fs_thread_cancel (self->thread);

  if (self->thread == NULL)
    return FS_WAIT_OK;

  return _fs_thread_wait_finished (self->thread, _fs_wait_end_time (timeout_usec),
                                   cancellable);
}

/**
 * fs_background_generator_is_closed:
 * @self: a [class@Fs.BackgroundGenerator]
 *
 * Whether [method@Fs.BackgroundGenerator.close] was called, or the last
 * reference dropped.
 *
 * Returns: %TRUE once the stream is closed
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_is_closed (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), TRUE);

  return _fs_queue_is_closed (get_queue (self));
}

/* For the map (fs-map.c): the queue it feeds or consumes from. */
FsQueue *
_fs_background_generator_get_queue (FsBackgroundGenerator *self)
{
  return get_queue (self);
}

gboolean
_fs_background_generator_is_values (FsBackgroundGenerator *self)
{
  return self->values;
}
