/* fs-error-state.c: errors collected from many threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-error-state.h"

/**
 * FsErrorState:
 *
 * A thread-safe list of errors, in the order they were received.
 *
 * Any thread may add an error with [method@Fs.ErrorState.set]; one thread,
 * usually the main one, checks [property@Fs.ErrorState:has-error] and raises
 * the first error again with [method@Fs.ErrorState.re_raise].
 *
 * Every [class@Fs.Thread] records its failure into its own state, into its
 * group's state when it belongs to a [class@Fs.MultiThread], and into the
 * process-wide default state ([func@Fs.ErrorState.get_default]). An object
 * only ever re-raises its own errors; the default state is there for code
 * that watches the whole process.
 *
 * Nothing clears a state but [method@Fs.ErrorState.clear] (and, for the
 * state of a thread or a group, starting it again).
 *
 * Since: 0.1
 */

struct _FsErrorState
{
  GObject    parent_instance;

  GMutex     mutex;
  GPtrArray *errors;
};

enum {
  PROP_0,
  PROP_HAS_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FsErrorState, fs_error_state, G_TYPE_OBJECT)

static void
fs_error_state_finalize (GObject *object)
{
  FsErrorState *self = (FsErrorState *)object;

  g_clear_pointer (&self->errors, g_ptr_array_unref);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (fs_error_state_parent_class)->finalize (object);
}

static void
fs_error_state_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  FsErrorState *self = FS_ERROR_STATE (object);

  switch (prop_id)
    {
    case PROP_HAS_ERROR:
      g_value_set_boolean (value, fs_error_state_get_has_error (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_error_state_class_init (FsErrorStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fs_error_state_finalize;
  object_class->get_property = fs_error_state_get_property;

  /**
   * FsErrorState:has-error:
   *
   * Whether the state holds at least one error.
   *
   * The value changes on whichever thread records an error, so it is never
   * notified: read it when you need it.
   *
   * Since: 0.1
   */
  properties[PROP_HAS_ERROR] =
    g_param_spec_boolean ("has-error", NULL, NULL,
                          FALSE,
                          (G_PARAM_READABLE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fs_error_state_init (FsErrorState *self)
{
  g_mutex_init (&self->mutex);
  self->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
}

/**
 * fs_error_state_new:
 *
 * Creates an empty error state.
 *
 * Returns: (transfer full): a new [class@Fs.ErrorState]
 *
 * Since: 0.1
 */
FsErrorState *
fs_error_state_new (void)
{
  return g_object_new (FS_TYPE_ERROR_STATE, NULL);
}

/**
 * fs_error_state_get_default:
 *
 * The process-wide error state: every [class@Fs.Thread] that fails records
 * its error here too, as the original's class-wide `error_state` did.
 *
 * No object re-raises from it on its own; it is for code that watches the
 * whole process. It lives as long as the process.
 *
 * Returns: (transfer none): the default [class@Fs.ErrorState]
 *
 * Since: 0.1
 */
FsErrorState *
fs_error_state_get_default (void)
{
  static FsErrorState *default_state;

  if (g_once_init_enter (&default_state))
    g_once_init_leave (&default_state, fs_error_state_new ());

  return default_state;
}

/**
 * fs_error_state_set:
 * @self: a [class@Fs.ErrorState]
 * @error: the error to record
 *
 * Appends a copy of @error to the state. Safe to call from any thread.
 *
 * Since: 0.1
 */
void
fs_error_state_set (FsErrorState *self,
                    const GError *error)
{
  GError *copy;

  g_return_if_fail (FS_IS_ERROR_STATE (self));
  g_return_if_fail (error != NULL);

  copy = g_error_copy (error);

  g_mutex_lock (&self->mutex);
  g_ptr_array_add (self->errors, copy);
  g_mutex_unlock (&self->mutex);
}

/**
 * fs_error_state_get_has_error: (get-property has-error)
 * @self: a [class@Fs.ErrorState]
 *
 * Whether the state holds at least one error.
 *
 * Returns: %TRUE when an error was recorded and not cleared
 *
 * Since: 0.1
 */
gboolean
fs_error_state_get_has_error (FsErrorState *self)
{
  return fs_error_state_get_n_errors (self) > 0;
}

/**
 * fs_error_state_get_n_errors:
 * @self: a [class@Fs.ErrorState]
 *
 * The number of errors in the state.
 *
 * Returns: how many errors were recorded since the last clear
 *
 * Since: 0.1
 */
guint
fs_error_state_get_n_errors (FsErrorState *self)
{
  guint n;

  g_return_val_if_fail (FS_IS_ERROR_STATE (self), 0);

  g_mutex_lock (&self->mutex);
  n = self->errors->len;
  g_mutex_unlock (&self->mutex);

  return n;
}

/**
 * fs_error_state_dup_errors:
 * @self: a [class@Fs.ErrorState]
 *
 * Copies the errors of the state, first received first.
 *
 * Returns: (transfer container) (element-type GLib.Error): the errors, freed
 *   with the array (it has g_error_free() as its free function); empty when
 *   there are none
 *
 * Since: 0.1
 */
GPtrArray *
fs_error_state_dup_errors (FsErrorState *self)
{
  GPtrArray *copy;

  g_return_val_if_fail (FS_IS_ERROR_STATE (self), NULL);

  g_mutex_lock (&self->mutex);
  copy = g_ptr_array_copy (self->errors, (GCopyFunc) (void (*) (void)) g_error_copy, NULL);
  g_mutex_unlock (&self->mutex);

  g_ptr_array_set_free_func (copy, (GDestroyNotify) g_error_free);

  return copy;
}

/**
 * fs_error_state_re_raise:
 * @self: a [class@Fs.ErrorState]
 * @error: return location for the first error
 *
 * Raises the first error of the state again: every call returns a copy of
 * the same first error until the state is cleared.
 *
 * Returns: %TRUE when the state holds no error; %FALSE with @error set to
 *   a copy of the first one otherwise
 *
 * Since: 0.1
 */
gboolean
fs_error_state_re_raise (FsErrorState  *self,
                         GError       **error)
{
  GError *first = NULL;

  g_return_val_if_fail (FS_IS_ERROR_STATE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);
  if (self->errors->len > 0)
    first = g_error_copy (g_ptr_array_index (self->errors, 0));
  g_mutex_unlock (&self->mutex);

  if (first == NULL)
    return TRUE;

  g_propagate_error (error, first);
  return FALSE;
}

/**
 * fs_error_state_clear:
 * @self: a [class@Fs.ErrorState]
 *
 * Removes every error from the state.
 *
 * Since: 0.1
 */
void
fs_error_state_clear (FsErrorState *self)
{
  GPtrArray *old;

  g_return_if_fail (FS_IS_ERROR_STATE (self));

  g_mutex_lock (&self->mutex);
  old = g_steal_pointer (&self->errors);
  self->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
  g_mutex_unlock (&self->mutex);

  g_ptr_array_unref (old);
}
