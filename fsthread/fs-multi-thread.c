/* fs-multi-thread.c: N threads running one target as a group
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-closure-private.h"
#include "fs-error.h"
#include "fs-multi-thread.h"
#include "fs-names-private.h"
#include "fs-thread-private.h"

/**
 * FsMultiThread:
 *
 * A group of [class@Fs.Thread]s that run one target, started, joined and
 * checked together.
 *
 * With a [property@Fs.MultiThread:thread-count] of 1 the thread is called
 * [property@Fs.MultiThread:name]; with more, `NAME_0` ... `NAME_{n-1}`. Each
 * thread learns its index with [method@Fs.Thread.get_index].
 *
 * The threads share the group's [property@Fs.MultiThread:cancellable]. When
 * one fails, its error goes to the group's [class@Fs.ErrorState] and the
 * cancellable is cancelled, so that the others can stop early (fail fast,
 * as Go's errgroup does).
 *
 * ```
 *          start()                 all targets return     join()
 *   NEW ───────────▶ RUNNING ────────────────────────▶ DONE ──────▶ JOINED
 *                       ▲                                             │
 *                       └─────────────────── start() ─────────────────┘
 * ```
 *
 * [method@Fs.MultiThread.join] joins every thread, even after one failed,
 * and then raises the first error; the others stay in
 * [method@Fs.MultiThread.dup_errors]. After a join the group can be started
 * again: the new run starts with no errors and a reset cancellable.
 *
 * Since: 0.1
 */

struct _FsMultiThread
{
  GObject       parent_instance;

  char         *name;
  guint         name_reserved : 1;
  guint         thread_count;
  FsClosure    *closure;
  GCancellable *cancellable;
  FsErrorState *error_state;

  /* Guards the members of the current run: NULL before the first start and
   * after each join. */
  GMutex        mutex;
  GPtrArray    *threads;
  gboolean      ever_started;
  /* A start is resetting the group, or unwinding a failed start, without
   * the lock: another start is refused. */
  gboolean      starting;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_THREAD_COUNT,
  PROP_CANCELLABLE,
  PROP_ERROR_STATE,
  PROP_HAS_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FsMultiThread, fs_multi_thread, G_TYPE_OBJECT)

static void
fs_multi_thread_finalize (GObject *object)
{
  FsMultiThread *self = (FsMultiThread *)object;

  /* Members still running hold their own references and finish alone. */
  g_clear_pointer (&self->threads, g_ptr_array_unref);
  g_clear_pointer (&self->closure, _fs_closure_unref);
  if (self->name_reserved)
    _fs_names_release_group (self->name, self->thread_count);
  g_clear_pointer (&self->name, g_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->error_state);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (fs_multi_thread_parent_class)->finalize (object);
}

static void
fs_multi_thread_constructed (GObject *object)
{
  FsMultiThread *self = (FsMultiThread *)object;

  G_OBJECT_CLASS (fs_multi_thread_parent_class)->constructed (object);

  if (self->name == NULL)
    {
      self->name = _fs_names_reserve_group ("work", self->thread_count);
      self->name_reserved = TRUE;
    }
}

static void
fs_multi_thread_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  FsMultiThread *self = FS_MULTI_THREAD (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_THREAD_COUNT:
      g_value_set_uint (value, self->thread_count);
      break;

    case PROP_CANCELLABLE:
      g_value_set_object (value, self->cancellable);
      break;

    case PROP_ERROR_STATE:
      g_value_set_object (value, self->error_state);
      break;

    case PROP_HAS_ERROR:
      g_value_set_boolean (value, fs_multi_thread_get_has_error (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_multi_thread_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  FsMultiThread *self = FS_MULTI_THREAD (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_free (self->name);
      self->name = g_value_get_string (value) != NULL
                 ? g_utf8_make_valid (g_value_get_string (value), -1)
                 : NULL;
      break;

    case PROP_THREAD_COUNT:
      self->thread_count = g_value_get_uint (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_multi_thread_class_init (FsMultiThreadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fs_multi_thread_constructed;
  object_class->finalize = fs_multi_thread_finalize;
  object_class->get_property = fs_multi_thread_get_property;
  object_class->set_property = fs_multi_thread_set_property;

  /**
   * FsMultiThread:name:
   *
   * The name of the group. [ctor@Fs.MultiThread.new] makes it, and its
   * threads' names, unique among living objects (`work`, `work_0`,
   * `work_1`, ... when none is given).
   *
   * Since: 0.1
   */
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FsMultiThread:thread-count:
   *
   * How many threads run the target, at least 1.
   *
   * Since: 0.1
   */
  properties[PROP_THREAD_COUNT] =
    g_param_spec_uint ("thread-count", NULL, NULL,
                       1, G_MAXUINT, 1,
                       (G_PARAM_READWRITE |
                        G_PARAM_CONSTRUCT_ONLY |
                        G_PARAM_STATIC_STRINGS));

  /**
   * FsMultiThread:cancellable:
   *
   * The cancellable every thread of the group shares. It is cancelled by
   * [method@Fs.MultiThread.cancel] and when any thread fails, and reset when
   * the group is started again.
   *
   * Since: 0.1
   */
  properties[PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL,
                         G_TYPE_CANCELLABLE,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FsMultiThread:error-state:
   *
   * The errors of the group's threads in the current (or last) run, in the
   * order they failed.
   *
   * Since: 0.1
   */
  properties[PROP_ERROR_STATE] =
    g_param_spec_object ("error-state", NULL, NULL,
                         FS_TYPE_ERROR_STATE,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FsMultiThread:has-error:
   *
   * Whether a thread of the current (or last) run failed. It changes on the
   * worker threads, so it is never notified.
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
fs_multi_thread_init (FsMultiThread *self)
{
  g_mutex_init (&self->mutex);
  self->thread_count = 1;
  self->cancellable = g_cancellable_new ();
  self->error_state = fs_error_state_new ();
}

/**
 * fs_multi_thread_new:
 * @name: (nullable): the name of the group, or %NULL for `work`
 * @thread_count: how many threads run @func, at least 1
 * @func: (scope notified) (closure user_data) (destroy user_data_free): the
 *   target every thread runs
 * @user_data: data for @func, shared by every thread
 * @user_data_free: (nullable): frees @user_data once the group and all its
 *   threads are gone
 *
 * Creates a group of @thread_count threads running @func. Nothing starts
 * until [method@Fs.MultiThread.start].
 *
 * Returns: (transfer full): a new [class@Fs.MultiThread]
 *
 * Since: 0.1
 */
FsMultiThread *
fs_multi_thread_new (const char     *name,
                     guint           thread_count,
                     FsThreadFunc    func,
                     gpointer        user_data,
                     GDestroyNotify  user_data_free)
{
  g_autofree char *unique = NULL;
  FsMultiThread *self;

  g_return_val_if_fail (thread_count >= 1, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  unique = _fs_names_reserve_group (name != NULL ? name : "work", thread_count);
  self = g_object_new (FS_TYPE_MULTI_THREAD,
                       "name", unique,
                       "thread-count", thread_count,
                       NULL);
  self->name_reserved = TRUE;
  self->closure = _fs_closure_new (G_CALLBACK (func), user_data, user_data_free);

  return self;
}

/**
 * fs_multi_thread_get_name: (get-property name)
 * @self: a [class@Fs.MultiThread]
 *
 * The name of the group.
 *
 * Returns: (transfer none): the name
 *
 * Since: 0.1
 */
const char *
fs_multi_thread_get_name (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), NULL);

  return self->name;
}

/**
 * fs_multi_thread_get_thread_count: (get-property thread-count)
 * @self: a [class@Fs.MultiThread]
 *
 * How many threads the group runs.
 *
 * Returns: the thread count
 *
 * Since: 0.1
 */
guint
fs_multi_thread_get_thread_count (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), 0);

  return self->thread_count;
}

/**
 * fs_multi_thread_get_cancellable: (get-property cancellable)
 * @self: a [class@Fs.MultiThread]
 *
 * The cancellable the group's threads share.
 *
 * Returns: (transfer none): the group's [class@Gio.Cancellable]
 *
 * Since: 0.1
 */
GCancellable *
fs_multi_thread_get_cancellable (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), NULL);

  return self->cancellable;
}

/**
 * fs_multi_thread_get_error_state: (get-property error-state)
 * @self: a [class@Fs.MultiThread]
 *
 * The group's own error state.
 *
 * Returns: (transfer none): the group's [class@Fs.ErrorState]
 *
 * Since: 0.1
 */
FsErrorState *
fs_multi_thread_get_error_state (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), NULL);

  return self->error_state;
}

/**
 * fs_multi_thread_get_has_error: (get-property has-error)
 * @self: a [class@Fs.MultiThread]
 *
 * Whether a thread of the current (or last) run failed.
 *
 * Returns: %TRUE when the group recorded an error
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_get_has_error (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);

  return fs_error_state_get_has_error (self->error_state);
}

/**
 * fs_multi_thread_dup_errors:
 * @self: a [class@Fs.MultiThread]
 *
 * The errors of the current (or last) run, first failure first.
 *
 * Returns: (transfer container) (element-type GLib.Error): copies of the
 *   errors, freed with the array
 *
 * Since: 0.1
 */
GPtrArray *
fs_multi_thread_dup_errors (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), NULL);

  return fs_error_state_dup_errors (self->error_state);
}

/**
 * fs_multi_thread_check_and_raise_error:
 * @self: a [class@Fs.MultiThread]
 * @error: return location for an error
 *
 * Raises the first error of the group's current (or last) run, if any. Only
 * the group's own errors: never one from another object.
 *
 * Returns: %TRUE when no thread of the group failed; %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_check_and_raise_error (FsMultiThread  *self,
                                       GError        **error)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return fs_error_state_re_raise (self->error_state, error);
}

/**
 * fs_multi_thread_cancel:
 * @self: a [class@Fs.MultiThread]
 *
 * Triggers the group's cancellable, asking every thread to stop.
 *
 * Since: 0.1
 */
void
fs_multi_thread_cancel (FsMultiThread *self)
{
  g_return_if_fail (FS_IS_MULTI_THREAD (self));

  g_cancellable_cancel (self->cancellable);
}

static guint
count_alive (FsMultiThread *self)
{
  guint alive = 0;

  g_mutex_lock (&self->mutex);
  if (self->threads != NULL)
    for (guint i = 0; i < self->threads->len; i++)
      alive += fs_thread_is_alive (g_ptr_array_index (self->threads, i));
  g_mutex_unlock (&self->mutex);

  return alive;
}

/**
 * fs_multi_thread_completed:
 * @self: a [class@Fs.MultiThread]
 *
 * Whether no thread of the group is running, as in the original: also
 * %TRUE before the first start.
 *
 * Returns: %TRUE when every target has returned
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_completed (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);

  return count_alive (self) == 0;
}

/**
 * fs_multi_thread_is_alive:
 * @self: a [class@Fs.MultiThread]
 *
 * Whether any thread of the group is running.
 *
 * Returns: %TRUE while at least one target runs
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_is_alive (FsMultiThread *self)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);

  return count_alive (self) > 0;
}

static gboolean
member_main (FsThread  *thread,
             gpointer   data,
             GError   **error)
{
  FsClosure *closure = data;

  if (closure->func == NULL)
    return TRUE;

  return ((FsThreadFunc) closure->func) (thread, closure->user_data, error);
}

/**
 * fs_multi_thread_start:
 * @self: a [class@Fs.MultiThread]
 * @error: return location for an error
 *
 * Starts every thread of the group.
 *
 * A group that was started and not joined since is not started again:
 * %FS_ERROR_BUSY. When the operating system cannot create one of the
 * threads, the threads already started are cancelled and joined, and the
 * call fails with %FS_ERROR_THREAD_CREATE: a start starts all or nothing.
 *
 * Returns: %TRUE when every thread was started
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_start (FsMultiThread  *self,
                       GError        **error)
{
  g_autoptr(GPtrArray) threads = NULL;

  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);

  if (self->threads != NULL || self->starting)
    {
      g_mutex_unlock (&self->mutex);
      g_set_error (error, FS_ERROR, FS_ERROR_BUSY,
                   "Thread group %s is already started; join it before starting it again",
                   self->name);
      return FALSE;
    }

  /* Without the lock: a reset waits for the handlers of the cancellable
   * that run meanwhile, and they may call the group. */
  self->starting = TRUE;
  g_mutex_unlock (&self->mutex);
  fs_error_state_clear (self->error_state);
  g_cancellable_reset (self->cancellable);
  g_mutex_lock (&self->mutex);
  self->starting = FALSE;

  if (self->closure == NULL)
    self->closure = _fs_closure_new (NULL, NULL, NULL);

  threads = g_ptr_array_new_full (self->thread_count, g_object_unref);

  for (guint i = 0; i < self->thread_count; i++)
    {
      char *thread_name;
      FsThread *thread;

      if (self->thread_count == 1)
        thread_name = g_strdup (self->name);
      else
        thread_name = g_strdup_printf ("%s_%u", self->name, i);

      /* The name, valid UTF-8 as the group's is, passes to the member. */
      thread = _fs_thread_new_member (thread_name, i,
                                      self->cancellable,
                                      self->error_state,
                                      member_main,
                                      _fs_closure_ref (self->closure),
                                      _fs_closure_unref);

      if (!fs_thread_start (thread, error))
        {
          g_object_unref (thread);

          /* All or nothing: stop and reap the threads already running,
           * without the lock, which their targets may want. Until then
           * they are the group's run, which waits and joins see (a join
           * meanwhile reports the cancelled run) and a start refuses. */
          self->threads = g_ptr_array_ref (threads);
          /* Even once a join took them: a start meanwhile would have its
           * run cancelled below. */
          self->starting = TRUE;
          g_mutex_unlock (&self->mutex);

          g_cancellable_cancel (self->cancellable);
          for (guint j = 0; j < threads->len; j++)
            _fs_thread_wait_until (g_ptr_array_index (threads, j), -1, NULL, NULL);

          g_mutex_lock (&self->mutex);
          if (self->threads == threads)
            g_clear_pointer (&self->threads, g_ptr_array_unref);
          self->starting = FALSE;
          g_mutex_unlock (&self->mutex);
          return FALSE;
        }

      g_ptr_array_add (threads, thread);
    }

  self->threads = g_steal_pointer (&threads);
  self->ever_started = TRUE;

  g_mutex_unlock (&self->mutex);

  return TRUE;
}

/* The members of the current run, or NULL with @error set. */
static GPtrArray *
dup_threads_to_join (FsMultiThread  *self,
                     GError        **error)
{
  GPtrArray *threads = NULL;
  FsThread *current = fs_thread_get_current ();

  g_mutex_lock (&self->mutex);

  if (self->threads != NULL)
    {
      for (guint i = 0; i < self->threads->len; i++)
        {
          if (g_ptr_array_index (self->threads, i) == current)
            {
              g_set_error (error, FS_ERROR, FS_ERROR_WOULD_DEADLOCK,
                           "Thread %s cannot join its own group %s",
                           fs_thread_get_name (current), self->name);
              g_mutex_unlock (&self->mutex);
              return NULL;
            }
        }
      threads = g_ptr_array_ref (self->threads);
    }
  else if (!self->ever_started)
    {
      g_set_error (error, FS_ERROR, FS_ERROR_NOT_STARTED,
                   "Thread group %s was never started", self->name);
    }
  else
    {
      /* Joined already: nothing to wait for. */
      threads = g_ptr_array_new ();
    }

  g_mutex_unlock (&self->mutex);

  return threads;
}

/* Every member is joined: the run is over. */
static gboolean
finish_join (FsMultiThread  *self,
             GPtrArray      *joined,
             GError        **error)
{
  g_mutex_lock (&self->mutex);
  if (self->threads == joined)
    g_clear_pointer (&self->threads, g_ptr_array_unref);
  g_mutex_unlock (&self->mutex);

  return fs_error_state_re_raise (self->error_state, error);
}

/**
 * fs_multi_thread_wait:
 * @self: a #FsMultiThread
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 *
 * Waits until no thread of the group is running, for at most
 * @timeout_usec, and reports which came first. It neither joins nor
 * raises: bindings wait in slices with it, so that a signal (Ctrl+C) is
 * seen between two, and then join, which no longer blocks.
 *
 * Returns: %TRUE when the group has [method@Fs.MultiThread.completed];
 *   %FALSE when the timeout passed first, or at once when called from one
 *   of the group's threads
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_wait (FsMultiThread *self,
                      gint64         timeout_usec)
{
  g_autoptr(GPtrArray) threads = NULL;
  gint64 end_time;

  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);

  g_mutex_lock (&self->mutex);
  threads = self->threads != NULL ? g_ptr_array_ref (self->threads) : NULL;
  g_mutex_unlock (&self->mutex);

  if (threads == NULL)
    return TRUE;

  end_time = _fs_end_time_for_timeout (timeout_usec);

  for (guint i = 0; i < threads->len; i++)
    {
      gint64 left = -1;

      if (end_time >= 0)
        left = MAX (end_time - g_get_monotonic_time (), 0);
      if (!fs_thread_wait (g_ptr_array_index (threads, i), left))
        return FALSE;
    }

  return TRUE;
}

/**
 * fs_multi_thread_join:
 * @self: a [class@Fs.MultiThread]
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * Joins every thread of the group, also when one of them failed, then
 * raises the first error of the run. The other errors stay in
 * [method@Fs.MultiThread.dup_errors].
 *
 * When @cancellable is triggered the wait ends with %G_IO_ERROR_CANCELLED
 * and the threads not yet joined keep running; join again later. Joining a
 * group that was never started fails with %FS_ERROR_NOT_STARTED, and
 * joining from one of its own threads with %FS_ERROR_WOULD_DEADLOCK.
 *
 * Returns: %TRUE when every thread succeeded; %FALSE with @error set when
 *   one failed or the wait did
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_join (FsMultiThread  *self,
                      GCancellable   *cancellable,
                      GError        **error)
{
  return fs_multi_thread_join_timeout (self, -1, cancellable, error);
}

/**
 * fs_multi_thread_join_timeout:
 * @self: a [class@Fs.MultiThread]
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * As [method@Fs.MultiThread.join], but the wait for the whole group ends
 * with %FS_ERROR_TIMED_OUT after @timeout_usec microseconds.
 *
 * Returns: %TRUE when every thread succeeded; %FALSE with @error set when
 *   one failed or the wait did
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_join_timeout (FsMultiThread  *self,
                              gint64          timeout_usec,
                              GCancellable   *cancellable,
                              GError        **error)
{
  g_autoptr(GPtrArray) threads = NULL;
  gint64 end_time;

  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!(threads = dup_threads_to_join (self, error)))
    return FALSE;

  end_time = _fs_end_time_for_timeout (timeout_usec);

  for (guint i = 0; i < threads->len; i++)
    if (!_fs_thread_wait_until (g_ptr_array_index (threads, i), end_time, cancellable, error))
      return FALSE;

  return finish_join (self, threads, error);
}

typedef struct
{
  GPtrArray *threads;
  guint      pending;
  GError    *wait_error;
} JoinAll;

static void
join_all_free (gpointer data)
{
  JoinAll *all = data;

  g_ptr_array_unref (all->threads);
  g_clear_error (&all->wait_error);
  g_free (all);
}

static void
member_joined (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FsMultiThread *self = g_task_get_source_object (task);
  JoinAll *all = g_task_get_task_data (task);
  GError *error = NULL;

  if (!_fs_thread_wait_finish (FS_THREAD (object), result, &error))
    {
      if (all->wait_error == NULL)
        all->wait_error = error;
      else
        g_error_free (error);
    }

  if (--all->pending > 0)
    return;

  if (all->wait_error != NULL)
    g_task_return_error (task, g_steal_pointer (&all->wait_error));
  else if (!finish_join (self, all->threads, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * fs_multi_thread_join_async:
 * @self: a [class@Fs.MultiThread]
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @callback: (scope async): called on the caller's thread-default main
 *   context once every thread is joined
 * @user_data: data for @callback
 *
 * Joins the group without blocking the main loop, with no thread of its
 * own. Finish with [method@Fs.MultiThread.join_finish].
 *
 * Since: 0.1
 */
void
fs_multi_thread_join_async (FsMultiThread       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  JoinAll *all;

  g_return_if_fail (FS_IS_MULTI_THREAD (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, fs_multi_thread_join_async);
  g_task_set_check_cancellable (task, FALSE);

  all = g_new0 (JoinAll, 1);
  g_task_set_task_data (task, all, join_all_free);

  if (!(all->threads = dup_threads_to_join (self, &error)))
    {
      all->threads = g_ptr_array_new ();
      g_task_return_error (task, error);
      return;
    }

  if (all->threads->len == 0)
    {
      if (!finish_join (self, all->threads, &error))
        g_task_return_error (task, error);
      else
        g_task_return_boolean (task, TRUE);
      return;
    }

  all->pending = all->threads->len;
  for (guint i = 0; i < all->threads->len; i++)
    _fs_thread_wait_async (g_ptr_array_index (all->threads, i), cancellable,
                           member_joined, g_object_ref (task));
}

/**
 * fs_multi_thread_join_finish:
 * @self: a [class@Fs.MultiThread]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Completes [method@Fs.MultiThread.join_async], with the result
 * [method@Fs.MultiThread.join] would have given.
 *
 * Returns: %TRUE when every thread succeeded; %FALSE with @error set when
 *   one failed or the wait did
 *
 * Since: 0.1
 */
gboolean
fs_multi_thread_join_finish (FsMultiThread  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == fs_multi_thread_join_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
