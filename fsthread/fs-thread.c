/* fs-thread.c: a thread whose failure is captured as a GError
 *
 * Every start makes a Run: the record of one run, which joiners hold while
 * they wait. The worker sets its error and marks it finished; the joiner
 * that releases the OS thread marks it joined. A joiner looks only at the
 * Run it started waiting for, so a restart meanwhile (by another joiner's
 * callback, say) never makes it wait for the next run, nor gives it the
 * next run's result.
 *
 * Lock order: the thread's mutex, then nothing. The cancellable handlers of
 * waits (fs-wait.c) and of asynchronous joins (fs-task.c) take the mutex;
 * they are connected and disconnected without it. No OS thread is created,
 * joined, and no GTask or object released, with the mutex held.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#ifdef HAVE_PTHREAD_SETNAME_NP
# include <pthread.h>
#endif

#include "fs-binding-private.h"
#include "fs-enums.h"
#include "fs-error.h"
#include "fs-names-private.h"
#include "fs-task-private.h"
#include "fs-thread-private.h"
#include "fs-wait-private.h"

/**
 * FsThread:
 *
 * A thread whose failure is captured as a [struct@GLib.Error] and raised
 * again in the thread that joins it.
 *
 * The work runs on a new operating-system thread that carries the thread's
 * name (cut to 15 bytes there, as Linux requires;
 * [property@Fs.Thread:name] keeps it whole). The work is the
 * [vfunc@Fs.Thread.run] virtual method, which by default calls the target
 * given to [ctor@Fs.Thread.new], a [callback@Fs.ThreadFunc]; a subclass
 * overrides it instead (in Python, `do_run`).
 *
 * When the work fails, its error keeps its domain and code, its message is
 * prefixed with `Error in thread (NAME): `, and it is recorded into the
 * thread's own [class@Fs.ErrorState], into its group's when it belongs to a
 * [class@Fs.MultiThread], and into the default state. Then the thread's
 * [property@Fs.Thread:cancellable] is cancelled, so that whatever shares it
 * can stop early.
 *
 * ```
 *            start()              run returns           join()
 *   NEW ──────────────▶ RUNNING ──────────────────▶ FINISHED ──────▶ JOINED
 *                          ▲                                           │
 *                          └───────────────── start() ─────────────────┘
 * ```
 *
 * [method@Fs.Thread.start] is refused with %FS_ERROR_BUSY in RUNNING and
 * FINISHED; a new run starts with an empty error state and a reset
 * cancellable. [method@Fs.Thread.join] waits for FINISHED, releases the
 * operating-system thread and returns %FS_WAIT_OK, or %FS_WAIT_FAILED with
 * the run's error. How the wait itself ended is a status, never an error:
 * %FS_WAIT_TIMED_OUT, %FS_WAIT_CANCELLED, %FS_WAIT_INTERRUPTED (nothing is
 * reaped then: join again), %FS_WAIT_NOT_STARTED in NEW and
 * %FS_WAIT_WOULD_DEADLOCK from the thread itself. Joining again returns the
 * same result.
 *
 * While it runs, the thread holds a reference to its [class@Fs.Thread],
 * and so does every join while it waits: dropping yours lets the thread run
 * to its end and clean up after itself.
 *
 * No signal is emitted and no property notified on the worker thread.
 *
 * Since: 0.1
 */

typedef struct
{
  gatomicrefcount  ref_count;
  GError          *error;      /* the run's failure, set before finished */
  /* Under the thread's mutex. */
  gboolean         finished;   /* the work returned; its finish func ran */
  gboolean         joined;     /* the OS thread is released */
  gboolean         never_ran;  /* the OS refused the thread */
} Run;

typedef struct
{
  char               *name;
  char                os_name[16];  /* name cut to 15 bytes, for the OS */
  guint               name_reserved : 1;
  guint               index;
  GCancellable       *cancellable;
  FsErrorState       *error_state;  /* made when first needed (atomic) */
  FsErrorState       *group_state;

  FsThreadFunc        func;
  gpointer            user_data;
  GDestroyNotify      user_data_free;

  FsThreadFinishFunc  finish_func;
  gpointer            finish_data;
  GDestroyNotify      finish_data_free;

  /* Guards everything below. */
  GMutex              mutex;
  Run                *run;          /* the current or last run, or NULL */
  gboolean            starting;     /* a start resets or creates, unlocked */
  gboolean            reaping;      /* a joiner is in g_thread_join() */
  GThread            *gthread;
  FsWaitList          joiners;      /* waits for the end of the run */
  GCond               cond;         /* a start or a reap ended */
  guint               n_cond_waiting;
  GQueue              async_joiners; /* GTasks waiting for the run's end */
} FsThreadPrivate;

enum {
  PROP_0,
  PROP_NAME,
  PROP_INDEX,
  PROP_CANCELLABLE,
  PROP_ERROR_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];
static GPrivate current_thread;
/* Set while _fs_thread_new_member() builds a member. */
static GPrivate constructing_member;

G_DEFINE_TYPE_WITH_PRIVATE (FsThread, fs_thread, G_TYPE_OBJECT)

#define PRIV(self) ((FsThreadPrivate *) fs_thread_get_instance_private (self))

static Run *
run_new (void)
{
  Run *run = g_new0 (Run, 1);

  g_atomic_ref_count_init (&run->ref_count);
  return run;
}

static Run *
run_ref (Run *run)
{
  g_atomic_ref_count_inc (&run->ref_count);
  return run;
}

static void
run_unref (gpointer data)
{
  Run *run = data;

  if (run != NULL && g_atomic_ref_count_dec (&run->ref_count))
    {
      g_clear_error (&run->error);
      g_free (run);
    }
}

/* The status, and error, a join of @run returns once it is joined. */
static FsWaitStatus
run_result (Run     *run,
            GError **error)
{
  if (run->never_ran)
    return FS_WAIT_NOT_STARTED;
  if (run->error != NULL)
    {
      g_propagate_error (error, g_error_copy (run->error));
      return FS_WAIT_FAILED;
    }
  return FS_WAIT_OK;
}

/* Waits, with the mutex held, until a start or a reap in progress ends:
 * both take microseconds once the run has finished, which is when this is
 * used, so the wait has no deadline. Counted, so that most ends skip the
 * system call of a broadcast. */
static void
cond_wait (FsThreadPrivate *priv)
{
  priv->n_cond_waiting++;
  g_cond_wait (&priv->cond, &priv->mutex);
  priv->n_cond_waiting--;
}

static void
cond_wake (FsThreadPrivate *priv)
{
  if (priv->n_cond_waiting > 0)
    g_cond_broadcast (&priv->cond);
}

/* The thread's error state, made on first use: most threads never fail,
 * and nobody asks. */
static FsErrorState *
ensure_error_state (FsThread *self)
{
  FsThreadPrivate *priv = PRIV (self);
  FsErrorState *state = g_atomic_pointer_get (&priv->error_state);

  if G_UNLIKELY (state == NULL)
    {
      FsErrorState *fresh = fs_error_state_new ();

      if (g_atomic_pointer_compare_and_exchange (&priv->error_state, NULL, fresh))
        return fresh;
      g_object_unref (fresh);
      state = g_atomic_pointer_get (&priv->error_state);
    }

  return state;
}

static void
fs_thread_finalize (GObject *object)
{
  FsThread *self = (FsThread *)object;
  FsThreadPrivate *priv = PRIV (self);

  /* A run holds a reference until it finishes, a join while it waits. */
  g_assert (priv->run == NULL || priv->run->finished);
  g_assert (!priv->reaping && !priv->starting);
  g_assert (g_queue_is_empty (&priv->async_joiners));
  g_assert (_fs_wait_list_is_empty (&priv->joiners));

  /* Finished but never joined: reap it, unless this is the thread itself
   * dropping its last reference, which must not join itself. */
  if (priv->gthread != NULL)
    {
      if (priv->gthread == g_thread_self ())
        g_thread_unref (priv->gthread);
      else
        g_thread_join (priv->gthread);
      priv->gthread = NULL;
    }

  if (priv->user_data_free != NULL)
    priv->user_data_free (priv->user_data);
  if (priv->finish_data_free != NULL)
    priv->finish_data_free (priv->finish_data);

  if (priv->name_reserved)
    _fs_names_release (priv->name);
  g_clear_pointer (&priv->name, g_free);
  g_clear_pointer (&priv->run, run_unref);
  g_clear_object (&priv->cancellable);
  g_clear_object (&priv->error_state);
  g_clear_object (&priv->group_state);
  g_mutex_clear (&priv->mutex);
  g_cond_clear (&priv->cond);

  G_OBJECT_CLASS (fs_thread_parent_class)->finalize (object);
}

/* Made when the object is built, so that the new thread allocates
 * nothing to name itself. */
static void
set_os_name_field (FsThreadPrivate *priv)
{
  g_autofree char *os_name = _fs_names_os_name (priv->name);

  g_strlcpy (priv->os_name, os_name, sizeof priv->os_name);
}

static void
fs_thread_constructed (GObject *object)
{
  FsThread *self = (FsThread *)object;
  FsThreadPrivate *priv = PRIV (self);
  char *unique;

  G_OBJECT_CLASS (fs_thread_parent_class)->constructed (object);

  /* A member: _fs_thread_new_member() sets the rest. */
  if (g_private_get (&constructing_member) != NULL)
    return;

  /* However the object is made (fs_thread_new(), g_object_new(), a
   * subclass, a binding's constructor), its name is unique. */
  unique = _fs_names_reserve (priv->name != NULL ? priv->name : "thread");
  g_free (priv->name);
  priv->name = unique;
  priv->name_reserved = TRUE;
  set_os_name_field (priv);
  if (priv->cancellable == NULL)
    priv->cancellable = g_cancellable_new ();
}

static void
fs_thread_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  FsThread *self = FS_THREAD (object);
  FsThreadPrivate *priv = PRIV (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, priv->name);
      break;

    case PROP_INDEX:
      g_value_set_uint (value, priv->index);
      break;

    case PROP_CANCELLABLE:
      g_value_set_object (value, priv->cancellable);
      break;

    case PROP_ERROR_STATE:
      g_value_set_object (value, ensure_error_state (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_thread_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  FsThread *self = FS_THREAD (object);
  FsThreadPrivate *priv = PRIV (self);

  switch (prop_id)
    {
    case PROP_NAME:
      g_free (priv->name);
      priv->name = g_value_get_string (value) != NULL
                 ? g_utf8_make_valid (g_value_get_string (value), -1)
                 : NULL;
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* The default run: the target given to fs_thread_new(), if any. */
static gboolean
fs_thread_real_run (FsThread  *self,
                    GError   **error)
{
  FsThreadPrivate *priv = PRIV (self);

  if (priv->func == NULL)
    return TRUE;

  /* A JavaScript target was refused where it was given (fs-binding.c):
   * this calls C, or a binding that may run anywhere. */
  return priv->func (self, priv->user_data, error);
}

static void
fs_thread_class_init (FsThreadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fs_thread_constructed;
  object_class->finalize = fs_thread_finalize;
  object_class->get_property = fs_thread_get_property;
  object_class->set_property = fs_thread_set_property;

  klass->run = fs_thread_real_run;

  /**
   * FsThread:name:
   *
   * The name of the thread, whole. The operating-system thread carries its
   * first 15 bytes, cut at a character boundary.
   *
   * The name is made unique among living objects, as the original did: a
   * taken `NAME` becomes the first free of `NAME_0`, `NAME_1`, ... A thread
   * made without a name is called `thread`.
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
   * FsThread:index:
   *
   * The index of the thread in its [class@Fs.MultiThread], from 0; 0 for a
   * thread of its own.
   *
   * Since: 0.1
   */
  properties[PROP_INDEX] =
    g_param_spec_uint ("index", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_STATIC_STRINGS));

  /**
   * FsThread:cancellable:
   *
   * The cancellable of the thread: the work polls it or hands it to GIO.
   * [method@Fs.Thread.cancel] triggers it, and so does the work's failure.
   * The threads of a [class@Fs.MultiThread] share their group's.
   *
   * Since: 0.1
   */
  properties[PROP_CANCELLABLE] =
    g_param_spec_object ("cancellable", NULL, NULL,
                         G_TYPE_CANCELLABLE,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  /**
   * FsThread:error-state:
   *
   * The thread's own error state: the failure of its current (or last)
   * run, and nothing from any other thread.
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
fs_thread_init (FsThread *self)
{
  FsThreadPrivate *priv = PRIV (self);

  g_mutex_init (&priv->mutex);
  g_cond_init (&priv->cond);
  _fs_wait_list_init (&priv->joiners);
  g_queue_init (&priv->async_joiners);
}

/**
 * FsThreadClass::run:
 * @self: the thread
 * @error: return location for the failure
 *
 * Runs the thread's work on the new thread.
 *
 * Returns: %TRUE on success, %FALSE with @error set on failure
 *
 * Since: 0.2
 */

/**
 * fs_thread_new:
 * @name: (nullable): the name of the thread, or %NULL for `thread`
 * @func: (scope notified) (closure user_data) (destroy user_data_free): the
 *   target, run on the new thread
 * @user_data: data for @func
 * @user_data_free: (nullable): frees @user_data when the object is finalized
 *
 * Creates a thread that will run @func once started with
 * [method@Fs.Thread.start]. @name is made unique among living objects (see
 * [property@Fs.Thread:name]).
 *
 * @user_data_free runs on the thread that drops the last reference.
 *
 * Returns: (transfer full): a new [class@Fs.Thread]
 *
 * Since: 0.1
 */
FsThread *
fs_thread_new (const char     *name,
               FsThreadFunc    func,
               gpointer        user_data,
               GDestroyNotify  user_data_free)
{
  FsThreadPrivate *priv;
  FsThread *self;

  g_return_val_if_fail (func != NULL, NULL);

  /* A JavaScript target never reaches the new thread. */
  _fs_binding_refuse_javascript ((GCallback *) &func, &user_data, &user_data_free);

  self = g_object_new (FS_TYPE_THREAD, "name", name, NULL);
  priv = PRIV (self);
  priv->func = func;
  priv->user_data = user_data;
  priv->user_data_free = user_data_free;

  return self;
}

FsThread *
_fs_thread_new_member (char           *exact_name,
                       guint           index,
                       GCancellable   *cancellable,
                       FsErrorState   *group_state,
                       FsThreadFunc    func,
                       gpointer        user_data,
                       GDestroyNotify  user_data_free)
{
  FsThreadPrivate *priv;
  FsThread *self;

  g_return_val_if_fail (exact_name != NULL, NULL);
  g_return_val_if_fail (G_IS_CANCELLABLE (cancellable), NULL);

  /* Not through the name property, nor with a cancellable of its own that
   * the group's would replace at once: a group makes its members on every
   * start. */
  g_private_set (&constructing_member, GINT_TO_POINTER (TRUE));
  self = g_object_new (FS_TYPE_THREAD, NULL);
  g_private_set (&constructing_member, NULL);
  priv = PRIV (self);
  priv->name = exact_name;
  set_os_name_field (priv);
  priv->cancellable = g_object_ref (cancellable);
  priv->index = index;
  priv->group_state = group_state != NULL ? g_object_ref (group_state) : NULL;
  priv->func = func;
  priv->user_data = user_data;
  priv->user_data_free = user_data_free;

  return self;
}

void
_fs_thread_set_finish_func (FsThread           *self,
                            FsThreadFinishFunc  func,
                            gpointer            data,
                            GDestroyNotify      data_free)
{
  FsThreadPrivate *priv;

  g_return_if_fail (FS_IS_THREAD (self));
  priv = PRIV (self);
  g_return_if_fail (priv->run == NULL);

  priv->finish_func = func;
  priv->finish_data = data;
  priv->finish_data_free = data_free;
}

/**
 * fs_thread_get_current:
 *
 * The [class@Fs.Thread] whose work is running on the calling thread, if
 * any. A target that was given extra arguments (as bindings do) uses it to
 * find its thread.
 *
 * Returns: (transfer none) (nullable): the calling thread's
 *   [class@Fs.Thread], or %NULL when the caller is not running the work of
 *   an fsthread thread
 *
 * Since: 0.1
 */
FsThread *
fs_thread_get_current (void)
{
  return g_private_get (&current_thread);
}

gboolean
_fs_thread_is_current (FsThread *self)
{
  return g_private_get (&current_thread) == self;
}

/**
 * fs_thread_get_name: (get-property name)
 * @self: a [class@Fs.Thread]
 *
 * The name of the thread.
 *
 * Returns: (transfer none): the name, whole
 *
 * Since: 0.1
 */
const char *
fs_thread_get_name (FsThread *self)
{
  g_return_val_if_fail (FS_IS_THREAD (self), NULL);

  return PRIV (self)->name;
}

/**
 * fs_thread_get_index: (get-property index)
 * @self: a [class@Fs.Thread]
 *
 * The index of the thread in its group.
 *
 * Returns: the index, from 0
 *
 * Since: 0.1
 */
guint
fs_thread_get_index (FsThread *self)
{
  g_return_val_if_fail (FS_IS_THREAD (self), 0);

  return PRIV (self)->index;
}

/**
 * fs_thread_get_cancellable: (get-property cancellable)
 * @self: a [class@Fs.Thread]
 *
 * The cancellable the work polls or hands to GIO.
 *
 * Returns: (transfer none): the thread's [class@Gio.Cancellable]
 *
 * Since: 0.1
 */
GCancellable *
fs_thread_get_cancellable (FsThread *self)
{
  g_return_val_if_fail (FS_IS_THREAD (self), NULL);

  return PRIV (self)->cancellable;
}

/**
 * fs_thread_get_error_state: (get-property error-state)
 * @self: a [class@Fs.Thread]
 *
 * The thread's own error state.
 *
 * Returns: (transfer none): the thread's [class@Fs.ErrorState]
 *
 * Since: 0.1
 */
FsErrorState *
fs_thread_get_error_state (FsThread *self)
{
  g_return_val_if_fail (FS_IS_THREAD (self), NULL);

  return ensure_error_state (self);
}

/**
 * fs_thread_get_has_error:
 * @self: a [class@Fs.Thread]
 *
 * Whether the current (or last) run of the thread failed. It changes on
 * the worker thread, so it is a method, not a property that could be
 * notified.
 *
 * Returns: %TRUE when the thread recorded an error
 *
 * Since: 0.1
 */
gboolean
fs_thread_get_has_error (FsThread *self)
{
  FsErrorState *state;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);

  state = g_atomic_pointer_get (&PRIV (self)->error_state);
  return state != NULL && fs_error_state_get_has_error (state);
}

/**
 * fs_thread_check_and_raise_error:
 * @self: a [class@Fs.Thread]
 * @error: return location for an error
 *
 * Raises the error of this thread's current (or last) run, if it failed.
 * Only this thread's own error: never one from another thread.
 *
 * Returns: %TRUE when the thread has no error; %FALSE with @error set
 *   otherwise
 *
 * Since: 0.1
 */
gboolean
fs_thread_check_and_raise_error (FsThread  *self,
                                 GError   **error)
{
  FsErrorState *state;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  state = g_atomic_pointer_get (&PRIV (self)->error_state);
  return state == NULL || fs_error_state_re_raise (state, error);
}

/**
 * fs_thread_is_alive:
 * @self: a [class@Fs.Thread]
 *
 * Whether the work is running: started, and not returned yet.
 *
 * Returns: %TRUE while the work runs
 *
 * Since: 0.1
 */
gboolean
fs_thread_is_alive (FsThread *self)
{
  FsThreadPrivate *priv;
  gboolean alive;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);

  priv = PRIV (self);
  g_mutex_lock (&priv->mutex);
  alive = priv->run != NULL && !priv->run->finished;
  g_mutex_unlock (&priv->mutex);

  return alive;
}

/**
 * fs_thread_cancel:
 * @self: a [class@Fs.Thread]
 *
 * Triggers the thread's [property@Fs.Thread:cancellable]. The work decides
 * when to notice; nothing is interrupted by force.
 *
 * Since: 0.1
 */
void
fs_thread_cancel (FsThread *self)
{
  g_return_if_fail (FS_IS_THREAD (self));

  g_cancellable_cancel (PRIV (self)->cancellable);
}

static void
set_os_name (const char *os_name)
{
#ifdef HAVE_PTHREAD_SETNAME_NP
  pthread_setname_np (pthread_self (), os_name);
#endif
}

static void
record_failure (FsThread *self,
                GError   *error)
{
  FsThreadPrivate *priv = PRIV (self);

  fs_error_state_set (ensure_error_state (self), error);
  if (priv->group_state != NULL)
    fs_error_state_set (priv->group_state, error);
  fs_error_state_set (fs_error_state_get_default (), error);

  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;

  /* Messages should be UTF-8, and a log line must be. */
  {
    g_autofree char *message = g_utf8_make_valid (error->message, -1);

    g_debug ("%s", message);
  }
}

static void join_done_in_context (GTask    *task,
                                  gpointer  data);

/* Hands the asynchronous joiners of @run to their main contexts, which take
 * over the references. */
static void
complete_async_joiners (GQueue *waiters,
                        Run    *run)
{
  while (!g_queue_is_empty (waiters))
    _fs_task_complete_in_context (g_queue_pop_head (waiters), join_done_in_context,
                                  run_ref (run), run_unref);
}

static gpointer
fs_thread_main (gpointer data)
{
  FsThread *self = data;
  FsThreadPrivate *priv = PRIV (self);
  FsThreadClass *klass = FS_THREAD_GET_CLASS (self);
  GError *error = NULL;
  gboolean ok = TRUE;
  GQueue waiters = G_QUEUE_INIT;
  Run *run;

  g_private_set (&current_thread, self);
  set_os_name (priv->os_name);

  if (klass->run != NULL)
    ok = klass->run (self, &error);

  if (!ok)
    {
      if (error == NULL)
        error = g_error_new_literal (FS_ERROR, FS_ERROR_FAILED,
                                     "The target returned FALSE without setting an error");
      g_prefix_error (&error, "Error in thread (%s): ", priv->name);
      record_failure (self, error);

      /* Fail fast: whoever shares the cancellable can stop now. */
      g_cancellable_cancel (priv->cancellable);
    }
  else if (error != NULL)
    {
      g_critical ("The work of thread %s returned TRUE but set an error: %s",
                  priv->name, error->message);
      g_clear_error (&error);
    }

  if (priv->finish_func != NULL)
    priv->finish_func (self, error, priv->finish_data);

  g_mutex_lock (&priv->mutex);
  /* The run cannot change before it is joined, after this. */
  run = run_ref (priv->run);
  run->error = g_steal_pointer (&error);
  run->finished = TRUE;
  waiters = priv->async_joiners;
  g_queue_init (&priv->async_joiners);
  _fs_wait_list_wake_all (&priv->joiners);
  g_mutex_unlock (&priv->mutex);

  complete_async_joiners (&waiters, run);
  run_unref (run);

  g_private_set (&current_thread, NULL);

  /* May be the last reference: finalize knows not to join this thread. */
  g_object_unref (self);

  return NULL;
}

/**
 * fs_thread_start:
 * @self: a [class@Fs.Thread]
 * @error: return location for an error
 *
 * Starts the work on a new thread.
 *
 * A thread that is running, or that finished and was not joined yet, is
 * not started again: %FS_ERROR_BUSY. A joined thread starts a new run, with
 * an empty error state and a reset cancellable. When the operating system
 * cannot create a thread the call fails with %FS_ERROR_THREAD_CREATE, and
 * the thread is as it was before the call.
 *
 * Returns: %TRUE when the thread was started
 *
 * Since: 0.1
 */
gboolean
fs_thread_start (FsThread  *self,
                 GError   **error)
{
  g_autoptr(GError) local_error = NULL;
  FsThreadPrivate *priv;
  GQueue refused = G_QUEUE_INIT;
  Run *previous;
  Run *run;
  GThread *gthread;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* A subclass written in JavaScript: its run cannot go to a worker. */
  if (_fs_binding_vfunc_is_javascript ((GCallback) FS_THREAD_GET_CLASS (self)->run))
    {
      g_set_error_literal (error, FS_ERROR, FS_ERROR_NOT_SUPPORTED, FS_BINDING_REFUSAL_MESSAGE);
      return FALSE;
    }

  priv = PRIV (self);
  g_mutex_lock (&priv->mutex);

  if ((priv->run != NULL && !priv->run->joined) || priv->starting)
    {
      g_mutex_unlock (&priv->mutex);
      g_set_error (error, FS_ERROR, FS_ERROR_BUSY,
                   "Thread %s is already started; join it before starting it again",
                   priv->name);
      return FALSE;
    }

  /* From here on another start is refused; joins see the last run until
   * the new one is published. The caller's reference may be dropped by
   * another thread meanwhile. */
  priv->starting = TRUE;
  previous = priv->run;
  g_mutex_unlock (&priv->mutex);
  g_object_ref (self);

  /* Without the lock: a reset waits for handlers of the cancellable that
   * run meanwhile, and one may want the lock. */
  if (previous != NULL)
    {
      FsErrorState *state = g_atomic_pointer_get (&priv->error_state);

      if (state != NULL)
        fs_error_state_clear (state);
      /* Members share their group's cancellable: the group resets it. */
      if (priv->group_state == NULL)
        g_cancellable_reset (priv->cancellable);
    }

  /* The run is published before its thread exists, which finishes it, and
   * the thread is created without the lock. */
  run = run_new ();
  g_mutex_lock (&priv->mutex);
  priv->run = run;
  g_mutex_unlock (&priv->mutex);

  gthread = g_thread_try_new (NULL, fs_thread_main, g_object_ref (self), &local_error);

  g_mutex_lock (&priv->mutex);
  if (gthread == NULL)
    {
      /* As before the call. Whoever waits for the run meanwhile learns
       * that it never ran. */
      priv->run = previous;
      run->never_ran = run->finished = run->joined = TRUE;
      refused = priv->async_joiners;
      g_queue_init (&priv->async_joiners);
      _fs_wait_list_wake_all (&priv->joiners);
    }
  else
    {
      priv->gthread = gthread;
    }
  priv->starting = FALSE;
  cond_wake (priv);
  g_mutex_unlock (&priv->mutex);

  if (gthread == NULL)
    {
      complete_async_joiners (&refused, run);
      run_unref (run);
      g_object_unref (self);
      g_set_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE,
                   "Cannot create thread %s: %s",
                   priv->name, local_error->message);
      g_object_unref (self);
      return FALSE;
    }

  run_unref (previous);
  g_object_unref (self);

  return TRUE;
}

/* With the mutex held, @run finished and not joined: releases its OS
 * thread, or waits for whoever does. Microseconds: the work has returned. */
static void
reap_finished (FsThreadPrivate *priv,
               Run             *run)
{
  while (!run->joined)
    {
      if (!priv->reaping && !priv->starting)
        {
          GThread *gthread = g_steal_pointer (&priv->gthread);

          priv->reaping = TRUE;
          g_mutex_unlock (&priv->mutex);
          g_thread_join (gthread);
          g_mutex_lock (&priv->mutex);
          priv->reaping = FALSE;
          run->joined = TRUE;
          cond_wake (priv);
        }
      else
        {
          cond_wait (priv);
        }
    }
}

FsWaitStatus
_fs_thread_join_until (FsThread      *self,
                       gint64         end_time,
                       GCancellable  *cancellable,
                       GError       **error)
{
  FsThreadPrivate *priv = PRIV (self);
  FsWaitStatus status = FS_WAIT_OK;
  FsWait wait;
  Run *run;

  if (_fs_thread_is_current (self))
    return FS_WAIT_WOULD_DEADLOCK;

  /* The caller's reference may be dropped by another thread meanwhile. */
  g_object_ref (self);
  _fs_wait_init (&wait, &priv->mutex, end_time, cancellable);

  g_mutex_lock (&priv->mutex);
  run = priv->run != NULL ? run_ref (priv->run) : NULL;

  while (run != NULL && !run->joined)
    {
      /* Nothing can end this wait early: then the one sleep is in
       * g_thread_join(), not a sleep here and another in g_thread_join()
       * after the wakeup. Other joiners meanwhile wait with their own
       * bounds. */
      gboolean unbounded = end_time < 0 && cancellable == NULL && wait.interrupt_fd < 0;

      if (run->finished)
        {
          reap_finished (priv, run);
          break;
        }

      if (unbounded && !priv->reaping && !priv->starting)
        {
          GThread *gthread = g_steal_pointer (&priv->gthread);

          priv->reaping = TRUE;
          g_mutex_unlock (&priv->mutex);
          g_thread_join (gthread);
          g_mutex_lock (&priv->mutex);
          priv->reaping = FALSE;
          run->joined = TRUE;
          cond_wake (priv);
          break;
        }

      status = _fs_wait_sleep (&wait, &priv->joiners);
      if (status != FS_WAIT_OK)
        break;
    }

  g_mutex_unlock (&priv->mutex);
  _fs_wait_clear (&wait);

  if (run == NULL)
    status = FS_WAIT_NOT_STARTED;
  else if (status == FS_WAIT_OK)
    status = run_result (run, error);

  run_unref (run);
  g_object_unref (self);

  return status;
}

FsWaitStatus
_fs_thread_wait_finished (FsThread     *self,
                          gint64        end_time,
                          GCancellable *cancellable)
{
  FsThreadPrivate *priv;
  FsWaitStatus status = FS_WAIT_OK;
  FsWait wait;
  Run *run;

  g_return_val_if_fail (FS_IS_THREAD (self), FS_WAIT_OK);

  if (_fs_thread_is_current (self))
    return FS_WAIT_WOULD_DEADLOCK;

  priv = PRIV (self);
  g_object_ref (self);
  _fs_wait_init (&wait, &priv->mutex, end_time, cancellable);

  g_mutex_lock (&priv->mutex);
  run = priv->run != NULL ? run_ref (priv->run) : NULL;
  while (run != NULL && !run->finished)
    {
      status = _fs_wait_sleep (&wait, &priv->joiners);
      if (status != FS_WAIT_OK)
        break;
    }
  g_mutex_unlock (&priv->mutex);

  _fs_wait_clear (&wait);
  run_unref (run);
  g_object_unref (self);

  return status;
}

/**
 * fs_thread_join:
 * @self: a [class@Fs.Thread]
 * @timeout_usec: the longest wait in microseconds, 0 to only look, or -1
 *   for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for the run's error
 *
 * Waits until the run has ended, releases the operating-system thread
 * (after which the thread can be started again), and returns how the run
 * ended.
 *
 * The wait, not the thread, ends early: with %FS_WAIT_TIMED_OUT after
 * @timeout_usec, %FS_WAIT_CANCELLED when @cancellable is triggered, and
 * %FS_WAIT_INTERRUPTED when the calling thread's interrupt descriptor
 * becomes readable (see [func@Fs.wait_set_interrupt_fd]). The thread keeps
 * running then; join again later. A run that has ended is joined whatever
 * the timeout and the cancellable. Joining a thread that was never started
 * returns %FS_WAIT_NOT_STARTED, and joining from the thread itself
 * %FS_WAIT_WOULD_DEADLOCK. Only %FS_WAIT_FAILED sets @error: to the run's
 * error, prefixed with `Error in thread (NAME): `.
 *
 * Joining a joined thread returns the same result again.
 *
 * Returns: %FS_WAIT_OK when the work succeeded, %FS_WAIT_FAILED with
 *   @error set when it failed, or how the wait ended without a join
 *
 * Since: 0.2
 */
FsWaitStatus
fs_thread_join (FsThread      *self,
                gint64         timeout_usec,
                GCancellable  *cancellable,
                GError       **error)
{
  g_return_val_if_fail (FS_IS_THREAD (self), FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (timeout_usec >= -1, FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FS_WAIT_NOT_STARTED);
  g_return_val_if_fail (error == NULL || *error == NULL, FS_WAIT_NOT_STARTED);

  return _fs_thread_join_until (self, _fs_wait_end_time (timeout_usec), cancellable, error);
}

/* Asynchronous joins. A waiter is a GTask in async_joiners. Exactly one of
 * two things completes it, both on the task's own main context:
 *  - the worker, when the run ends, takes every waiter off the queue and
 *    schedules join_done_in_context() for each, with the run;
 *  - the cancellable's handler (on the thread that cancels), if it can
 *    still take the task off the queue: it schedules return_cancelled().
 * Whoever removes the task from the queue completes it.
 *
 * join_done_in_context() never waits for a run: the run it reports has
 * finished. It only releases that run's OS thread if nobody has yet, which
 * takes microseconds, and returns that run's result even when the thread
 * was started again meanwhile. */

static void
join_done_in_context (GTask    *task,
                      gpointer  data)
{
  FsThread *self = g_task_get_source_object (task);
  FsThreadPrivate *priv = PRIV (self);
  Run *run = data;
  GError *error = NULL;
  FsWaitStatus status;

  g_mutex_lock (&priv->mutex);
  reap_finished (priv, run);
  g_mutex_unlock (&priv->mutex);

  status = run_result (run, &error);
  run_unref (run);

  if (status == FS_WAIT_FAILED)
    g_task_return_error (task, error);
  else
    g_task_return_int (task, status);
}

static void
return_cancelled (GTask    *task,
                  gpointer  data)
{
  g_task_return_int (task, FS_WAIT_CANCELLED);
}

/* An FsTaskCancelFunc, on the thread that cancels: takes the task, which
 * return_cancelled() then completes. */
static gboolean
waiter_cancelled (gpointer  owner,
                  GTask    *task)
{
  FsThreadPrivate *priv = PRIV (FS_THREAD (owner));
  gboolean mine;

  g_mutex_lock (&priv->mutex);
  mine = g_queue_remove (&priv->async_joiners, task);
  g_mutex_unlock (&priv->mutex);

  return mine;
}

/* Source tags: the address of an object, since ISO C has no conversion
 * from a function pointer to an object pointer. */
static char join_async_tag;

/**
 * fs_thread_join_async:
 * @self: a [class@Fs.Thread]
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @callback: (scope async): called on the caller's thread-default main
 *   context once the thread is joined
 * @user_data: data for @callback
 *
 * Joins the thread without blocking the main loop. The wait takes no thread
 * of its own and none of GIO's pool: the worker wakes the caller's main
 * context when its work returns. Finish with [method@Fs.Thread.join_finish].
 *
 * The join is of the run under way when it is called (or of the last run):
 * a callback that starts the thread again does not hold up the other joins
 * of the same run.
 *
 * Since: 0.1
 */
void
fs_thread_join_async (FsThread            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FsThreadPrivate *priv;
  Run *run;

  g_return_if_fail (FS_IS_THREAD (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  priv = PRIV (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_name (task, "fs_thread_join_async");
  g_task_set_source_tag (task, &join_async_tag);
  g_task_set_check_cancellable (task, FALSE);

  if (_fs_thread_is_current (self))
    {
      g_task_return_int (task, FS_WAIT_WOULD_DEADLOCK);
      return;
    }

  g_mutex_lock (&priv->mutex);

  if (priv->run == NULL)
    {
      g_mutex_unlock (&priv->mutex);
      g_task_return_int (task, FS_WAIT_NOT_STARTED);
      return;
    }

  if (!priv->run->finished)
    {
      g_queue_push_tail (&priv->async_joiners, g_object_ref (task));
      g_mutex_unlock (&priv->mutex);
      if (cancellable != NULL)
        _fs_task_watch_cancellable (task, cancellable, waiter_cancelled, return_cancelled,
                                    g_object_ref (self), g_object_unref);
      return;
    }

  run = run_ref (priv->run);
  g_mutex_unlock (&priv->mutex);

  /* Finished already: complete on the next main-loop iteration. */
  _fs_task_complete_in_context (g_steal_pointer (&task), join_done_in_context, run, run_unref);
}

/**
 * fs_thread_join_finish:
 * @self: a [class@Fs.Thread]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for the run's error
 *
 * Completes [method@Fs.Thread.join_async], with the result
 * [method@Fs.Thread.join] would have given: a join whose cancellable was
 * triggered returns %FS_WAIT_CANCELLED, not an error.
 *
 * Returns: %FS_WAIT_OK when the work succeeded, %FS_WAIT_FAILED with
 *   @error set when it failed, or how the wait ended without a join
 *
 * Since: 0.2
 */
FsWaitStatus
fs_thread_join_finish (FsThread      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  GError *local_error = NULL;
  gssize status;

  g_return_val_if_fail (FS_IS_THREAD (self), FS_WAIT_NOT_STARTED);
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
