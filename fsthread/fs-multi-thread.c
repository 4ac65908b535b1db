/* fs-multi-thread.c: N threads running one target as a group
 *
 * Every start makes a GroupRun: its members, and once every member is
 * joined, the run's first error, kept for whoever joins that run later. A
 * join holds the run it started with, so that a start meanwhile (from
 * another joiner's callback, say) neither holds it up nor changes its
 * result.
 *
 * A start builds its members, publishes the run as being created, then
 * creates their OS threads without any lock; joins that come meanwhile
 * wait (or, asynchronously, are queued) until the creation is over.
 *
 * Lock order: the group's mutex, then nothing. Members, error states and
 * cancellables are called without it; no OS thread is created or joined,
 * and no object or task released, with it held.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-binding-private.h"

#include "fs-closure-private.h"
#include "fs-error.h"
#include "fs-multi-thread.h"
#include "fs-names-private.h"
#include "fs-task-private.h"
#include "fs-thread-private.h"
#include "fs-wait-private.h"

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
 * and then returns %FS_WAIT_FAILED with the first error; the others stay in
 * [method@Fs.MultiThread.dup_errors]. How the wait itself ended is a
 * status, never an error, as for [method@Fs.Thread.join]. After a join the
 * group can be started again: the new run starts with no errors and a reset
 * cancellable.
 *
 * No signal is emitted and no property notified on the worker threads.
 *
 * Since: 0.1
 */

typedef struct
{
  gatomicrefcount  ref_count;
  /* Under the group's mutex. The members: fixed once the creation is over,
   * and NULL once the run is joined (a joiner holds its own reference). */
  GPtrArray       *threads;
  gboolean         creating;
  gboolean         joined;
  GError          *first_error;  /* final once joined */
} GroupRun;

struct _FsMultiThread
{
  GObject       parent_instance;

  char         *name;
  guint         name_reserved : 1;
  guint         thread_count;
  FsClosure    *closure;
  GCancellable *cancellable;
  FsErrorState *error_state;

  /* Guards everything below. */
  GMutex        mutex;
  GroupRun     *run;            /* the current or last run, or NULL */
  /* A start is resetting the group, creating its threads, or unwinding a
   * failed start: another start is refused. */
  gboolean      starting;
  FsWaitList    creation_waiters;  /* joins waiting for the creation */
  GQueue        creation_tasks;    /* join_async tasks waiting for it */
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_THREAD_COUNT,
  PROP_CANCELLABLE,
  PROP_ERROR_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FsMultiThread, fs_multi_thread, G_TYPE_OBJECT)

static GroupRun *
group_run_new (guint thread_count)
{
  GroupRun *run = g_new0 (GroupRun, 1);

  g_atomic_ref_count_init (&run->ref_count);
  run->threads = g_ptr_array_new_full (thread_count, g_object_unref);
  return run;
}

static GroupRun *
group_run_ref (GroupRun *run)
{
  g_atomic_ref_count_inc (&run->ref_count);
  return run;
}

static void
group_run_unref (gpointer data)
{
  GroupRun *run = data;

  if (run != NULL && g_atomic_ref_count_dec (&run->ref_count))
    {
      g_clear_pointer (&run->threads, g_ptr_array_unref);
      g_clear_error (&run->first_error);
      g_free (run);
    }
}

/* With the mutex held. */
static gboolean
run_has_member (GroupRun *run,
                FsThread *thread)
{
  if (thread == NULL || run->threads == NULL)
    return FALSE;

  for (guint i = 0; i < run->threads->len; i++)
    if (g_ptr_array_index (run->threads, i) == thread)
      return TRUE;

  return FALSE;
}

static void
fs_multi_thread_finalize (GObject *object)
{
  FsMultiThread *self = (FsMultiThread *)object;

  /* Joins and starts hold a reference while they run. */
  g_assert (!self->starting);
  g_assert (_fs_wait_list_is_empty (&self->creation_waiters));
  g_assert (g_queue_is_empty (&self->creation_tasks));

  /* Members still running hold their own references and finish alone. */
  g_clear_pointer (&self->run, group_run_unref);
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
  char *unique;

  G_OBJECT_CLASS (fs_multi_thread_parent_class)->constructed (object);

  /* However the object is made, its name and its threads' are unique. */
  unique = _fs_names_reserve_group (self->name != NULL ? self->name : "work",
                                    self->thread_count);
  g_free (self->name);
  self->name = unique;
  self->name_reserved = TRUE;
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
   * The name of the group. It is made unique among living objects, with
   * its threads' names (`work`, `work_0`, `work_1`, ... when none is
   * given).
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

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fs_multi_thread_init (FsMultiThread *self)
{
  g_mutex_init (&self->mutex);
  self->thread_count = 1;
  self->cancellable = g_cancellable_new ();
  self->error_state = fs_error_state_new ();
  _fs_wait_list_init (&self->creation_waiters);
  g_queue_init (&self->creation_tasks);
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
  FsMultiThread *self;

  g_return_val_if_fail (thread_count >= 1, NULL);
  g_return_val_if_fail (func != NULL, NULL);

  self = g_object_new (FS_TYPE_MULTI_THREAD,
                       "name", name,
                       "thread-count", thread_count,
                       NULL);
  /* A JavaScript target never reaches the group's threads. */
  _fs_binding_refuse_javascript ((GCallback *) &func, &user_data, &user_data_free);
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
 * fs_multi_thread_get_has_error:
 * @self: a [class@Fs.MultiThread]
 *
 * Whether a thread of the current (or last) run failed. It changes on the
 * worker threads, so it is a method, not a property that could be
 * notified.
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


/* The members of the current (or last) run, referenced, or NULL. */
static GPtrArray *
dup_threads (FsMultiThread *self)
{
  GPtrArray *threads = NULL;

  g_mutex_lock (&self->mutex);
  if (self->run != NULL && self->run->threads != NULL)
    threads = g_ptr_array_ref (self->run->threads);
  g_mutex_unlock (&self->mutex);

  return threads;
}

static guint
count_alive (FsMultiThread *self)
{
  g_autoptr(GPtrArray) threads = dup_threads (self);
  guint alive = 0;

  if (threads != NULL)
    for (guint i = 0; i < threads->len; i++)
      alive += fs_thread_is_alive (g_ptr_array_index (threads, i));

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

static void join_async_begin_in_context (GTask    *task,
                                         gpointer  data);

/* The creation of @run is over: the joins that waited for it go on. With
 * the mutex held; the tasks are moved to @tasks, to be dispatched without
 * it. */
static void
end_creation (FsMultiThread *self,
              GroupRun      *run,
              GQueue        *tasks)
{
  run->creating = FALSE;
  _fs_wait_list_wake_all (&self->creation_waiters);
  *tasks = self->creation_tasks;
  g_queue_init (&self->creation_tasks);
}

static void
dispatch_creation_tasks (GQueue   *tasks,
                         GroupRun *run)
{
  while (!g_queue_is_empty (tasks))
    _fs_task_complete_in_context (g_queue_pop_head (tasks), join_async_begin_in_context,
                                  group_run_ref (run), group_run_unref);
}

/* Every member of @run is joined: the run is over, and its first error
 * final. Returns the join's result. */
static FsWaitStatus
finish_run (FsMultiThread  *self,
            GroupRun       *run,
            GError        **error)
{
  GPtrArray *threads = NULL;
  GError *first = NULL;
  FsWaitStatus status;

  /* Outside the lock. No start clears the state before the run is marked
   * joined below; whoever marks it first keeps its copy. */
  fs_error_state_re_raise (self->error_state, &first);

  g_mutex_lock (&self->mutex);
  if (!run->joined)
    {
      run->joined = TRUE;
      run->first_error = g_steal_pointer (&first);
      threads = g_steal_pointer (&run->threads);
    }
  if (run->first_error != NULL)
    {
      g_propagate_error (error, g_error_copy (run->first_error));
      status = FS_WAIT_FAILED;
    }
  else
    {
      status = FS_WAIT_OK;
    }
  g_mutex_unlock (&self->mutex);

  g_clear_error (&first);
  g_clear_pointer (&threads, g_ptr_array_unref);

  return status;
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
  g_autoptr(GPtrArray) unstarted = NULL;
  g_autoptr(GPtrArray) threads = NULL;
  GQueue tasks = G_QUEUE_INIT;
  GroupRun *previous;
  GroupRun *run;
  guint started;

  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);

  if (self->starting || (self->run != NULL && !self->run->joined))
    {
      g_mutex_unlock (&self->mutex);
      g_set_error (error, FS_ERROR, FS_ERROR_BUSY,
                   "Thread group %s is already started; join it before starting it again",
                   self->name);
      return FALSE;
    }

  self->starting = TRUE;
  previous = self->run;
  g_mutex_unlock (&self->mutex);
  /* The caller's reference may be dropped by another thread meanwhile. */
  g_object_ref (self);

  /* Without the lock: a reset waits for the handlers of the cancellable
   * that run meanwhile, and they may call the group. */
  fs_error_state_clear (self->error_state);
  g_cancellable_reset (self->cancellable);

  /* Made with g_object_new(): no target, the threads succeed at once. */
  if (self->closure == NULL)
    self->closure = _fs_closure_new (NULL, NULL, NULL);

  run = group_run_new (self->thread_count);
  for (guint i = 0; i < self->thread_count; i++)
    {
      char *thread_name;

      if (self->thread_count == 1)
        thread_name = g_strdup (self->name);
      else
        thread_name = g_strdup_printf ("%s_%u", self->name, i);

      /* The name, valid UTF-8 as the group's is, passes to the member. */
      g_ptr_array_add (run->threads,
                       _fs_thread_new_member (thread_name, i,
                                              self->cancellable,
                                              self->error_state,
                                              member_main,
                                              _fs_closure_ref (self->closure),
                                              _fs_closure_unref));
    }

  /* Published before any thread exists: a join meanwhile waits for the
   * creation to end, and sees every member. */
  g_mutex_lock (&self->mutex);
  self->run = run;
  run->creating = TRUE;
  g_mutex_unlock (&self->mutex);

  for (started = 0; started < run->threads->len; started++)
    if (!fs_thread_start (g_ptr_array_index (run->threads, started), error))
      break;

  if (started == run->threads->len)
    {
      g_mutex_lock (&self->mutex);
      end_creation (self, run, &tasks);
      self->starting = FALSE;
      g_mutex_unlock (&self->mutex);

      dispatch_creation_tasks (&tasks, run);
      group_run_unref (previous);
      g_object_unref (self);
      return TRUE;
    }

  /* All or nothing. The members not started leave the run; those started
   * are its run until they are stopped and reaped, which waits and joins
   * see (a join meanwhile reports the cancelled run) and a start refuses.
   * Then the group is as it was before the call. */
  unstarted = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_lock (&self->mutex);
  while (run->threads->len > started)
    g_ptr_array_add (unstarted, g_ptr_array_steal_index (run->threads, run->threads->len - 1));
  end_creation (self, run, &tasks);
  /* Taken now: a join meanwhile may finish the run and drop its array. */
  threads = g_ptr_array_ref (run->threads);
  g_mutex_unlock (&self->mutex);

  dispatch_creation_tasks (&tasks, run);
  g_clear_pointer (&unstarted, g_ptr_array_unref);

  g_cancellable_cancel (self->cancellable);
  {
    /* Every thread started is reaped before the call returns: the
     * caller's interrupt descriptor must not end these joins. */
    int interrupt_fd = fs_wait_set_interrupt_fd (-1);

    for (guint i = 0; i < threads->len; i++)
      _fs_thread_join_until (g_ptr_array_index (threads, i), -1, NULL, NULL);
    fs_wait_set_interrupt_fd (interrupt_fd);
  }
  finish_run (self, run, NULL);

  g_mutex_lock (&self->mutex);
  self->run = previous;
  self->starting = FALSE;
  g_mutex_unlock (&self->mutex);

  group_run_unref (run);
  g_object_unref (self);

  return FALSE;
}

/* The run to join, referenced, with its members referenced in @threads;
 * or the status that ends the join at once. Waits while the run is being
 * created: that run, even if another start follows it meanwhile. */
static FsWaitStatus
take_run (FsMultiThread  *self,
          FsWait         *wait,
          GroupRun      **run_out,
          GPtrArray     **threads_out)
{
  FsThread *current = fs_thread_get_current ();
  GroupRun *run = NULL;
  FsWaitStatus status;

  g_mutex_lock (&self->mutex);
  for (;;)
    {
      if (run == NULL)
        {
          if (self->run == NULL)
            {
              status = FS_WAIT_NOT_STARTED;
              break;
            }
          if (run_has_member (self->run, current))
            {
              status = FS_WAIT_WOULD_DEADLOCK;
              break;
            }
          run = group_run_ref (self->run);
        }

      if (!run->creating)
        {
          *threads_out = run->threads != NULL ? g_ptr_array_ref (run->threads) : NULL;
          *run_out = g_steal_pointer (&run);
          status = FS_WAIT_OK;
          break;
        }

      status = _fs_wait_sleep (wait, &self->creation_waiters);
      if (status != FS_WAIT_OK)
        break;
    }
  g_mutex_unlock (&self->mutex);

  group_run_unref (run);

  return status;
}

/**
 * fs_multi_thread_join:
 * @self: a [class@Fs.MultiThread]
 * @timeout_usec: the longest wait for the whole group in microseconds, 0 to
 *   only look, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for the run's first error
 *
 * Joins every thread of the group, also when one of them failed, then
 * returns how the run ended: %FS_WAIT_OK, or %FS_WAIT_FAILED with the first
 * error of the run (the others stay in [method@Fs.MultiThread.dup_errors]).
 *
 * The wait ends early with %FS_WAIT_TIMED_OUT, %FS_WAIT_CANCELLED or
 * %FS_WAIT_INTERRUPTED, as for [method@Fs.Thread.join]: the threads not yet
 * joined keep running; join again later. Joining a group that was never
 * started returns %FS_WAIT_NOT_STARTED, and joining from one of its own
 * threads %FS_WAIT_WOULD_DEADLOCK. Only %FS_WAIT_FAILED sets @error.
 *
 * Returns: %FS_WAIT_OK when every thread succeeded, %FS_WAIT_FAILED with
 *   @error set when one failed, or how the wait ended without a join
 *
 * Since: 0.2
 */
FsWaitStatus
fs_multi_thread_join (FsMultiThread  *self,
                      gint64          timeout_usec,
                      GCancellable   *cancellable,
                      GError        **error)
{
  g_autoptr(GPtrArray) threads = NULL;
  GroupRun *run = NULL;
  FsWaitStatus status;
  gint64 end_time;
  FsWait wait;

  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (timeout_usec >= -1, FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (error == NULL || *error == NULL, FS_WAIT_NOT_STARTED);

  end_time = _fs_wait_end_time (timeout_usec);

  /* The caller's reference may be dropped by another thread meanwhile. */
  g_object_ref (self);
  _fs_wait_init (&wait, &self->mutex, end_time, cancellable);
  status = take_run (self, &wait, &run, &threads);
  _fs_wait_clear (&wait);

  if (status == FS_WAIT_OK)
    {
      /* The members' own results are the group's errors. */
      for (guint i = 0; threads != NULL && i < threads->len; i++)
        {
          FsWaitStatus member = _fs_thread_join_until (g_ptr_array_index (threads, i),
                                                       end_time, cancellable, NULL);

          if (member != FS_WAIT_OK && member != FS_WAIT_FAILED)
            {
              status = member;
              break;
            }
        }

      if (status == FS_WAIT_OK)
        status = finish_run (self, run, error);
    }

  group_run_unref (run);
  g_object_unref (self);

  return status;
}

typedef struct
{
  GroupRun     *run;
  GPtrArray    *threads;
  guint         pending;
  FsWaitStatus  status;    /* the first member's wait that did not join */
} JoinAll;

static void
join_all_free (gpointer data)
{
  JoinAll *all = data;

  group_run_unref (all->run);
  g_clear_pointer (&all->threads, g_ptr_array_unref);
  g_free (all);
}

static void
return_status (GTask        *task,
               FsWaitStatus  status,
               GError       *error)
{
  if (status == FS_WAIT_FAILED)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, status);
}

static void
member_joined (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FsMultiThread *self = g_task_get_source_object (task);
  JoinAll *all = g_task_get_task_data (task);
  FsWaitStatus status;
  GError *error = NULL;

  status = fs_thread_join_finish (FS_THREAD (object), result, NULL);
  if (status != FS_WAIT_OK && status != FS_WAIT_FAILED && all->status == FS_WAIT_OK)
    all->status = status;

  if (--all->pending > 0)
    return;

  if (all->status != FS_WAIT_OK)
    {
      g_task_return_int (task, all->status);
      return;
    }

  status = finish_run (self, all->run, &error);
  return_status (task, status, error);
}

/* Joins the members of @run, or when it is %NULL of the current run, or
 * queues the task until the current run is created. On the task's context.
 *
 * @run: (nullable) (transfer full) */
static void
join_async_begin (GTask    *task,
                  GroupRun *run)
{
  FsMultiThread *self = g_task_get_source_object (task);
  GError *error = NULL;
  FsWaitStatus status;
  JoinAll *all;

  g_mutex_lock (&self->mutex);

  if (run == NULL)
    {
      if (self->run == NULL)
        {
          g_mutex_unlock (&self->mutex);
          g_task_return_int (task, FS_WAIT_NOT_STARTED);
          return;
        }

      if (run_has_member (self->run, fs_thread_get_current ()))
        {
          g_mutex_unlock (&self->mutex);
          g_task_return_int (task, FS_WAIT_WOULD_DEADLOCK);
          return;
        }

      if (self->run->creating)
        {
          /* Taken up again on this context, with this run, once the
           * creation is over, which takes no longer than creating the
           * threads. */
          g_queue_push_tail (&self->creation_tasks, g_object_ref (task));
          g_mutex_unlock (&self->mutex);
          return;
        }

      run = group_run_ref (self->run);
    }

  all = g_new0 (JoinAll, 1);
  all->run = run;
  all->threads = run->threads != NULL ? g_ptr_array_ref (run->threads) : NULL;
  all->status = FS_WAIT_OK;
  g_task_set_task_data (task, all, join_all_free);

  g_mutex_unlock (&self->mutex);

  if (all->threads == NULL || all->threads->len == 0)
    {
      status = finish_run (self, all->run, &error);
      return_status (task, status, error);
      return;
    }

  all->pending = all->threads->len;
  for (guint i = 0; i < all->threads->len; i++)
    fs_thread_join_async (g_ptr_array_index (all->threads, i), g_task_get_cancellable (task),
                          member_joined, g_object_ref (task));
}

static void
join_async_begin_in_context (GTask    *task,
                             gpointer  data)
{
  GMainContext *context = g_task_get_context (task);

  /* The members' joins complete on this context too. */
  g_main_context_push_thread_default (context);
  join_async_begin (task, data);
  g_main_context_pop_thread_default (context);
}

/* Source tags: the address of an object, since ISO C has no conversion
 * from a function pointer to an object pointer. */
static char join_async_tag;

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
 * The join is of the run under way when it is called (or of the last run):
 * a callback that starts the group again does not hold up the other joins
 * of the same run, nor change their result.
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

  g_return_if_fail (FS_IS_MULTI_THREAD (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_name (task, "fs_multi_thread_join_async");
  g_task_set_source_tag (task, &join_async_tag);
  g_task_set_check_cancellable (task, FALSE);

  join_async_begin (task, NULL);
}

/**
 * fs_multi_thread_join_finish:
 * @self: a [class@Fs.MultiThread]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for the run's first error
 *
 * Completes [method@Fs.MultiThread.join_async], with the result
 * [method@Fs.MultiThread.join] would have given: a join whose cancellable
 * was triggered returns %FS_WAIT_CANCELLED, not an error.
 *
 * Returns: %FS_WAIT_OK when every thread succeeded, %FS_WAIT_FAILED with
 *   @error set when one failed, or how the wait ended without a join
 *
 * Since: 0.2
 */
FsWaitStatus
fs_multi_thread_join_finish (FsMultiThread  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  GError *local_error = NULL;
  gssize status;

  g_return_val_if_fail (FS_IS_MULTI_THREAD (self), FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (g_task_is_valid (result, self), FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == &join_async_tag,
                        FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (error == NULL || *error == NULL, FS_WAIT_NOT_STARTED);

  status = g_task_propagate_int (G_TASK (result), &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FS_WAIT_FAILED;
    }

  return (FsWaitStatus) status;
}
