/* fs-generator.c: the producer's end of a background generator
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-generator-private.h"

/**
 * FsGenerator:
 *
 * The producer's end of a [class@Fs.BackgroundGenerator]: the object a
 * [callback@Fs.GeneratorFunc] yields its items into.
 *
 * Only the background generator creates it. It holds no reference to the
 * [class@Fs.BackgroundGenerator], so a generator function that keeps it
 * does not keep the consumer's object alive: dropping that object still
 * closes the stream.
 *
 * Since: 0.1
 */

struct _FsGenerator
{
  GObject       parent_instance;

  FsQueue      *queue;
  GCancellable *cancellable;
  gboolean      values;
};

G_DEFINE_FINAL_TYPE (FsGenerator, fs_generator, G_TYPE_OBJECT)

static void
fs_generator_finalize (GObject *object)
{
  FsGenerator *self = (FsGenerator *)object;

  g_clear_pointer (&self->queue, _fs_queue_unref);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (fs_generator_parent_class)->finalize (object);
}

static void
fs_generator_class_init (FsGeneratorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fs_generator_finalize;
}

static void
fs_generator_init (FsGenerator *self)
{
}

FsGenerator *
_fs_generator_new (FsQueue      *queue,
                   GCancellable *cancellable,
                   gboolean      values)
{
  FsGenerator *self = g_object_new (FS_TYPE_GENERATOR, NULL);

  self->queue = _fs_queue_ref (queue);
  self->cancellable = g_object_ref (cancellable);
  self->values = values;

  return self;
}

void
_fs_value_free (gpointer value)
{
  g_value_unset (value);
  g_free (value);
}

/**
 * fs_generator_yield: (skip)
 * @self: a [class@Fs.Generator]
 * @item: (transfer full) (nullable): the item, any pointer, %NULL included
 * @error: return location for an error
 *
 * Hands @item to the consumer. The item belongs to the stream from now on,
 * whatever the result; the background generator frees it with its item free
 * function if no consumer takes it.
 *
 * The call returns once the generator may make one more item without going
 * over the bound (see [ctor@Fs.BackgroundGenerator.new]). It fails with
 * %FS_ERROR_CLOSED when the consumer has closed the stream: the generator
 * function should then return.
 *
 * Returns: %TRUE when the stream goes on
 *
 * Since: 0.1
 */
gboolean
fs_generator_yield (FsGenerator  *self,
                    gpointer      item,
                    GError      **error)
{
  g_return_val_if_fail (FS_IS_GENERATOR (self), FALSE);
  g_return_val_if_fail (self->queue != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return _fs_queue_push (self->queue, item, error);
}

/**
 * fs_generator_yield_value:
 * @self: a [class@Fs.Generator]
 * @value: the item, copied
 * @error: return location for an error
 *
 * Hands a copy of @value to the consumer, for a background generator made
 * with [ctor@Fs.BackgroundGenerator.new_for_values]. Bindings use this; the
 * consumer receives it with [method@Fs.BackgroundGenerator.next_value].
 *
 * Returns: %TRUE when the stream goes on; %FALSE with %FS_ERROR_CLOSED
 *   when the consumer has closed it
 *
 * Since: 0.1
 */
gboolean
fs_generator_yield_value (FsGenerator   *self,
                          const GValue  *value,
                          GError       **error)
{
  GValue *copy;

  g_return_val_if_fail (FS_IS_GENERATOR (self), FALSE);
  g_return_val_if_fail (self->queue != NULL, FALSE);
  g_return_val_if_fail (self->values, FALSE);
  g_return_val_if_fail (G_IS_VALUE (value), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  copy = g_new0 (GValue, 1);
  g_value_init (copy, G_VALUE_TYPE (value));
  g_value_copy (value, copy);

  return _fs_queue_push (self->queue, copy, error);
}

/**
 * fs_generator_is_closed:
 * @self: a [class@Fs.Generator]
 *
 * Whether the consumer has closed the stream. A generator that works long
 * between yields polls this (or its cancellable) to stop early.
 *
 * Returns: %TRUE once the consumer has closed the stream
 *
 * Since: 0.1
 */
gboolean
fs_generator_is_closed (FsGenerator *self)
{
  g_return_val_if_fail (FS_IS_GENERATOR (self), TRUE);
  g_return_val_if_fail (self->queue != NULL, TRUE);

  return _fs_queue_is_closed (self->queue);
}

/**
 * fs_generator_get_cancellable:
 * @self: a [class@Fs.Generator]
 *
 * The cancellable of the producer's thread, cancelled when the consumer
 * closes the stream: hand it to GIO calls so that they stop too.
 *
 * Returns: (transfer none): the producer's [class@Gio.Cancellable]
 *
 * Since: 0.1
 */
GCancellable *
fs_generator_get_cancellable (FsGenerator *self)
{
  g_return_val_if_fail (FS_IS_GENERATOR (self), NULL);

  return self->cancellable;
}
