/* fs-background-generator.c: a generator run ahead on its own thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-background-generator.h"
#include "fs-error.h"
#include "fs-generator-private.h"
#include "fs-queue-private.h"
#include "fs-thread-private.h"

/**
 * FsBackgroundGenerator:
 *
 * Runs a generator function on a background thread and hands its items to
 * the consumer through a bounded queue, so that producing the next items
 * overlaps with consuming this one.
 *
 * The generator, a [callback@Fs.GeneratorFunc], starts at once on its own
 * [class@Fs.Thread]. It yields items with [method@Fs.Generator.yield]; the
 * consumer takes them with [method@Fs.BackgroundGenerator.next] (blocking),
 * [method@Fs.BackgroundGenerator.next_async] (from a main loop), or, in
 * bindings, the `_value` variants:
 *
 * ```c
 * g_autoptr(GError) error = NULL;
 * gpointer item;
 *
 * while (fs_background_generator_next (bg, &item, NULL, &error))
 *   consume (item);
 * if (error != NULL)
 *   g_printerr ("%s\n", error->message);
 * ```
 *
 * The end of the stream and the generator's error travel beside the items,
 * never as one of them: any pointer, %NULL too, is an item. An error reaches
 * the consumer after every item yielded before it, with its domain and code.
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
 *   RUNNING ─────────────────────────▶ ENDED ──(items drained)──▶ next() = end
 *      │                                 │
 *      └──── close() / last unref ───────┴──▶ CLOSED ──▶ next() = FS_ERROR_CLOSED
 * ```
 *
 * [method@Fs.BackgroundGenerator.close], which dropping the last reference
 * also does, wakes the producer (its yield fails with %FS_ERROR_CLOSED),
 * frees the queued items, cancels the producer's cancellable, and joins the
 * producer thread; called on the producer thread itself it leaves the
 * thread to return on its own.
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

  if (self->queue != NULL)
    fs_background_generator_close (self);

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
 * [method@Fs.BackgroundGenerator.next] fails with %FS_ERROR_THREAD_CREATE.
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
 * Returns: (transfer none): the name
 *
 * Since: 0.1
 */
const char *
fs_background_generator_get_name (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), NULL);

  return fs_thread_get_name (self->thread);
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
 * Returns: (transfer none): the producer's [class@Fs.Thread]
 *
 * Since: 0.1
 */
FsThread *
fs_background_generator_get_thread (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), NULL);

  return self->thread;
}

/**
 * fs_background_generator_next: (skip)
 * @self: a [class@Fs.BackgroundGenerator]
 * @item: (out) (transfer full) (optional): the next item
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * Takes the next item, waiting for the generator if none is queued.
 *
 * Returns %FALSE at the end of the stream: with @error unset when the
 * generator returned normally, or set to its error (domain and code kept)
 * when it failed. Every later call returns the same. After
 * [method@Fs.BackgroundGenerator.close] it fails with %FS_ERROR_CLOSED, and
 * when @cancellable is triggered with %G_IO_ERROR_CANCELLED.
 *
 * Returns: %TRUE with @item set to the next item, which is now yours
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_next (FsBackgroundGenerator  *self,
                              gpointer               *item,
                              GCancellable           *cancellable,
                              GError                **error)
{
  return fs_background_generator_next_timeout (self, item, -1, cancellable, error);
}

/**
 * fs_background_generator_next_timeout: (skip)
 * @self: a [class@Fs.BackgroundGenerator]
 * @item: (out) (transfer full) (optional): the next item
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * As [method@Fs.BackgroundGenerator.next], but the wait ends with
 * %FS_ERROR_TIMED_OUT after @timeout_usec microseconds. The stream goes on:
 * call again for the item.
 *
 * Returns: %TRUE with @item set to the next item
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_next_timeout (FsBackgroundGenerator  *self,
                                      gpointer               *item,
                                      gint64                  timeout_usec,
                                      GCancellable           *cancellable,
                                      GError                **error)
{
  gpointer local_item = NULL;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_fs_queue_pop_until (self->queue, &local_item,
                            _fs_end_time_for_timeout (timeout_usec),
                            cancellable, error))
    return FALSE;

  if (item != NULL)
    *item = local_item;
  else
    _fs_queue_free_item (self->queue, local_item);

  return TRUE;
}

/* No item: bindings still read the out value, so it holds a NULL object
 * rather than nothing. */
static gboolean
set_end_value (GValue *value)
{
  if (value != NULL)
    g_value_init (value, G_TYPE_OBJECT);
  return FALSE;
}

static void
move_value (GValue *dest,
            GValue *item)
{
  if (dest != NULL)
    {
      *dest = *item;
      g_free (item);
    }
  else
    {
      _fs_value_free (item);
    }
}

/**
 * fs_background_generator_next_value:
 * @self: a [class@Fs.BackgroundGenerator] made with
 *   [ctor@Fs.BackgroundGenerator.new_for_values]
 * @value: (out caller-allocates) (optional): an unset [struct@GObject.Value]
 *   to receive the next item
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * As [method@Fs.BackgroundGenerator.next], for a stream of values. When
 * it returns %FALSE, @value holds a %NULL object (unset it as usual).
 *
 * Returns: %TRUE with @value set to the next item; %FALSE at the end of
 *   the stream, with @error set when the generator failed
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_next_value (FsBackgroundGenerator  *self,
                                    GValue                 *value,
                                    GCancellable           *cancellable,
                                    GError                **error)
{
  return fs_background_generator_next_value_timeout (self, value, -1, cancellable, error);
}

/**
 * fs_background_generator_next_value_timeout:
 * @self: a [class@Fs.BackgroundGenerator] made with
 *   [ctor@Fs.BackgroundGenerator.new_for_values]
 * @value: (out caller-allocates) (optional): an unset [struct@GObject.Value]
 *   to receive the next item
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * As [method@Fs.BackgroundGenerator.next_value], but the wait ends with
 * %FS_ERROR_TIMED_OUT after @timeout_usec microseconds. Bindings wait in
 * slices with it, so that a signal such as Ctrl+C is seen between them.
 *
 * Returns: %TRUE with @value set to the next item; %FALSE at the end of
 *   the stream, with @error set when the generator failed or the wait timed
 *   out
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_next_value_timeout (FsBackgroundGenerator  *self,
                                            GValue                 *value,
                                            gint64                  timeout_usec,
                                            GCancellable           *cancellable,
                                            GError                **error)
{
  gpointer item = NULL;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FALSE);
  g_return_val_if_fail (self->values, FALSE);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_fs_queue_pop_until (self->queue, &item,
                            _fs_end_time_for_timeout (timeout_usec),
                            cancellable, error))
    return set_end_value (value);

  move_value (value, item);
  return TRUE;
}

/* Whether @error is the generator's own failure (recorded by the producer
 * thread before the end was queued) rather than one of the wait's. */
static gboolean
is_generator_error (FsBackgroundGenerator *self,
                    const GError          *error)
{
  g_autoptr(GError) own = NULL;

  if (fs_thread_check_and_raise_error (self->thread, &own))
    return FALSE;

  return own->domain == error->domain &&
         own->code == error->code &&
         g_strcmp0 (own->message, error->message) == 0;
}

/**
 * fs_background_generator_try_next_value:
 * @self: a #FsBackgroundGenerator made with
 *   [ctor@Fs.BackgroundGenerator.new_for_values]
 * @value: (out caller-allocates) (optional): an unset #GValue to receive the next item
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 * @timed_out: (out) (optional): set to whether the wait timed out
 * @error: return location for an error
 *
 * As [method@Fs.BackgroundGenerator.next_value_timeout], but a timeout is
 * not an error: it returns %FALSE with @timed_out set. Bindings wait in
 * slices with it, so that a signal (Ctrl+C) is seen between two: a signal
 * handler that runs while a binding builds an exception for a timeout
 * error could turn it into another exception.
 *
 * Returns: %TRUE with @value set to the next item; %FALSE when the wait
 *   timed out (@timed_out set), at the end of the stream, or with @error
 *   set when the generator failed or the stream was closed
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_try_next_value (FsBackgroundGenerator  *self,
                                        GValue                 *value,
                                        gint64                  timeout_usec,
                                        gboolean               *timed_out,
                                        GError                **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (timed_out != NULL)
    *timed_out = FALSE;

  if (fs_background_generator_next_value_timeout (self, value, timeout_usec, NULL, &local_error))
    return TRUE;

  if (g_error_matches (local_error, FS_ERROR, FS_ERROR_TIMED_OUT) &&
      !is_generator_error (self, local_error))
    {
      if (timed_out != NULL)
        *timed_out = TRUE;
      return FALSE;
    }

  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

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
 * with [method@Fs.BackgroundGenerator.next_finish] (or, for a stream of
 * values, [method@Fs.BackgroundGenerator.next_value_finish]).
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

  _fs_queue_pop_async (self->queue, self, fs_background_generator_next_async,
                       cancellable, callback, user_data);
}

/**
 * fs_background_generator_next_finish: (skip)
 * @self: a [class@Fs.BackgroundGenerator]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @item: (out) (transfer full) (optional): the next item
 * @error: return location for an error
 *
 * Completes [method@Fs.BackgroundGenerator.next_async], with the result
 * [method@Fs.BackgroundGenerator.next] would have given.
 *
 * Returns: %TRUE with @item set to the next item; %FALSE at the end of the
 *   stream, with @error set when the generator failed
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_next_finish (FsBackgroundGenerator  *self,
                                     GAsyncResult           *result,
                                     gpointer               *item,
                                     GError                **error)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fs_background_generator_next_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _fs_queue_pop_finish (result, item, error);
}

/**
 * fs_background_generator_next_value_finish:
 * @self: a [class@Fs.BackgroundGenerator] made with
 *   [ctor@Fs.BackgroundGenerator.new_for_values]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @value: (out caller-allocates) (optional): an unset [struct@GObject.Value]
 *   to receive the next item
 * @error: return location for an error
 *
 * Completes [method@Fs.BackgroundGenerator.next_async] for a stream of
 * values.
 *
 * Returns: %TRUE with @value set to the next item; %FALSE at the end of
 *   the stream, with @error set when the generator failed
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_next_value_finish (FsBackgroundGenerator  *self,
                                           GAsyncResult           *result,
                                           GValue                 *value,
                                           GError                **error)
{
  gpointer item = NULL;

  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), FALSE);
  g_return_val_if_fail (self->values, FALSE);
  g_return_val_if_fail (value == NULL || !G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fs_background_generator_next_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_fs_queue_pop_finish (result, &item, error))
    return set_end_value (value);

  move_value (value, item);
  return TRUE;
}

/**
 * fs_background_generator_close:
 * @self: a [class@Fs.BackgroundGenerator]
 *
 * Stops the stream: wakes the producer (its yield fails with
 * %FS_ERROR_CLOSED), frees every queued item, cancels the producer's
 * cancellable, fails waiting consumers with %FS_ERROR_CLOSED, and joins the
 * producer thread. Called on the producer thread itself, it does not join:
 * the thread returns on its own.
 *
 * The join waits for the generator function to return, which a well-behaved
 * one does at its next yield. Closing again does nothing more.
 *
 * Since: 0.1
 */
void
fs_background_generator_close (FsBackgroundGenerator *self)
{
  g_return_if_fail (FS_IS_BACKGROUND_GENERATOR (self));

  if (_fs_queue_close (self->queue))
    fs_thread_cancel (self->thread);

  if (!_fs_thread_is_current (self->thread))
    _fs_thread_wait_until (self->thread, -1, NULL, NULL);
}

/**
 * fs_background_generator_is_closed:
 * @self: a [class@Fs.BackgroundGenerator]
 *
 * Whether [method@Fs.BackgroundGenerator.close] was called.
 *
 * Returns: %TRUE once the stream is closed
 *
 * Since: 0.1
 */
gboolean
fs_background_generator_is_closed (FsBackgroundGenerator *self)
{
  g_return_val_if_fail (FS_IS_BACKGROUND_GENERATOR (self), TRUE);

  return _fs_queue_is_closed (self->queue);
}
