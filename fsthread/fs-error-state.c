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
 * usually the main one, checks [method@Fs.ErrorState.get_has_error] and
 * raises the first error again with [method@Fs.ErrorState.re_raise].
 * (`has_error` is a method, not a property: it changes on whichever thread
 * records an error, where no notification may be emitted.)
 *
 * A state made with [ctor@Fs.ErrorState.new_bounded] keeps at most
 * [property@Fs.ErrorState:max-errors] errors, however many it is given: the
 * first one, which [method@Fs.ErrorState.re_raise] raises, and the newest
 * others; [method@Fs.ErrorState.get_n_errors] still counts them all. The
 * process-wide default state is bounded so, at
 * %FS_ERROR_STATE_DEFAULT_MAX_ERRORS.
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

  guint      max_errors;   /* 0: no bound */
  GMutex     mutex;
  GPtrArray *errors;       /* the first, then the newest */
  guint      n_errors;     /* every error set since the last clear */
};

enum {
  PROP_0,
  PROP_MAX_ERRORS,
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
    case PROP_MAX_ERRORS:
      g_value_set_uint (value, self->max_errors);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_error_state_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  FsErrorState *self = FS_ERROR_STATE (object);

  switch (prop_id)
    {
    case PROP_MAX_ERRORS:
      self->max_errors = g_value_get_uint (value);
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
  object_class->set_property = fs_error_state_set_property;

  /**
   * FsErrorState:max-errors:
   *
   * The most errors the state keeps, 0 for no bound. When it is full, a new
   * error replaces the oldest but the first.
   *
   * Since: 0.2
   */
  properties[PROP_MAX_ERRORS] =
    g_param_spec_uint ("max-errors", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
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
 * fs_error_state_new_bounded:
 * @max_errors: the most errors to keep, at least 1
 *
 * Creates an empty error state that keeps at most @max_errors errors: the
 * first, and the newest others. Memory stays bounded however many errors
 * it is given.
 *
 * Returns: (transfer full): a new [class@Fs.ErrorState]
 *
 * Since: 0.2
 */
FsErrorState *
fs_error_state_new_bounded (guint max_errors)
{
  g_return_val_if_fail (max_errors >= 1, NULL);

  return g_object_new (FS_TYPE_ERROR_STATE, "max-errors", max_errors, NULL);
}

/**
 * fs_error_state_get_max_errors: (get-property max-errors)
 * @self: a [class@Fs.ErrorState]
 *
 * The most errors the state keeps.
 *
 * Returns: the bound, or 0 when there is none
 *
 * Since: 0.2
 */
guint
fs_error_state_get_max_errors (FsErrorState *self)
{
  g_return_val_if_fail (FS_IS_ERROR_STATE (self), 0);

  return self->max_errors;
}

/**
 * fs_error_state_get_default:
 *
 * The process-wide error state: every [class@Fs.Thread] that fails records
 * its error here too, as the original's class-wide `error_state` did.
 *
 * No object re-raises from it on its own; it is for code that watches the
 * whole process. It lives as long as the process, and keeps at most
 * %FS_ERROR_STATE_DEFAULT_MAX_ERRORS errors (the first, and the newest),
 * so a process that runs for weeks does not keep every failure it had.
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
    g_once_init_leave (&default_state, fs_error_state_new_bounded (FS_ERROR_STATE_DEFAULT_MAX_ERRORS));

  return default_state;
}

/**
 * fs_error_state_set:
 * @self: a [class@Fs.ErrorState]
 * @error: the error to record
 *
 * Appends a copy of @error to the state. Safe to call from any thread.
 * When the state is full ([property@Fs.ErrorState:max-errors]), the oldest
 * error but the first is dropped to make room.
 *
 * Since: 0.1
 */
void
fs_error_state_set (FsErrorState *self,
                    const GError *error)
{
  GError *dropped = NULL;
  GError *copy;

  g_return_if_fail (FS_IS_ERROR_STATE (self));
  g_return_if_fail (error != NULL);

  copy = g_error_copy (error);

  g_mutex_lock (&self->mutex);
  if (self->max_errors > 0 && self->errors->len >= self->max_errors)
    {
      /* The first stays; the oldest other goes (freed after unlocking),
       * or, when only the first is kept, the new one. */
      if (self->max_errors == 1)
        dropped = g_steal_pointer (&copy);
      else
        dropped = g_ptr_array_steal_index (self->errors, 1);
    }
  if (copy != NULL)
    g_ptr_array_add (self->errors, copy);
  if (self->n_errors < G_MAXUINT)
    self->n_errors++;
  g_mutex_unlock (&self->mutex);

  if (dropped != NULL)
    g_error_free (dropped);
}

/**
 * fs_error_state_get_has_error:
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
 * The number of errors given to the state since it was last cleared,
 * including those a bounded state did not keep.
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
  n = self->n_errors;
  g_mutex_unlock (&self->mutex);

  return n;
}

/**
 * fs_error_state_dup_errors:
 * @self: a [class@Fs.ErrorState]
 *
 * Copies the errors the state keeps, first received first (for a bounded
 * state: the first, then the newest).
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
  self->n_errors = 0;
  g_mutex_unlock (&self->mutex);

  g_ptr_array_unref (old);
}
