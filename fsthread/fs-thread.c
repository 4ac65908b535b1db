/* fs-thread.c: a thread whose failure is captured as a GError
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#ifdef HAVE_PTHREAD_SETNAME_NP
# include <pthread.h>
#endif

#include "fs-enums.h"
#include "fs-error.h"
#include "fs-names-private.h"
#include "fs-task-private.h"
#include "fs-thread-private.h"

/**
 * FsThread:
 *
 * A thread whose failure is captured as a [struct@GLib.Error] and raised
 * again in the thread that joins it.
 *
 * The target, a [callback@Fs.ThreadFunc], runs on a new operating-system
 * thread that carries the thread's name (cut to 15 bytes there, as Linux
 * requires; [property@Fs.Thread:name] keeps it whole). When the target
 * fails, its error keeps its domain and code, its message is prefixed with
 * `Error in thread (NAME): `, and it is recorded into the thread's own
 * [class@Fs.ErrorState], into its group's when it belongs to a
 * [class@Fs.MultiThread], and into the default state. Then the thread's
 * [property@Fs.Thread:cancellable] is cancelled, so that whatever shares it
 * can stop early.
 *
 * ```
 *            start()              target returns        join()
 *   NEW ──────────────▶ RUNNING ──────────────────▶ FINISHED ──────▶ JOINED
 *                          ▲                                           │
 *                          └───────────────── start() ─────────────────┘
 * ```
 *
 * [method@Fs.Thread.start] is refused with %FS_ERROR_BUSY in RUNNING and
 * FINISHED; a new run starts with an empty error state and a reset
 * cancellable. [method@Fs.Thread.join] waits for FINISHED, releases the
 * operating-system thread and returns the run's result; it is refused in NEW
 * (%FS_ERROR_NOT_STARTED) and from the thread itself
 * (%FS_ERROR_WOULD_DEADLOCK). Joining again returns the same result.
 *
 * While it runs, the thread holds a reference to its [class@Fs.Thread]:
 * dropping yours lets the thread run to its end and clean up after itself.
 *
 * Since: 0.1
 */

typedef enum {
  STATE_NEW,
  STATE_RUNNING,
  STATE_FINISHED,
  STATE_JOINED,
} State;

struct _FsThread
{
  GObject             parent_instance;

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
  GCond               cond;
  State               state;
  gboolean            reaping;
  gboolean            restarting;  /* a start resets the run, unlocked */
  guint               n_waiting;  /* threads asleep on cond */
  GThread            *gthread;
  GQueue              waiters;
};

enum {
  PROP_0,
  PROP_NAME,
  PROP_INDEX,
  PROP_CANCELLABLE,
  PROP_ERROR_STATE,
  PROP_HAS_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];
static GPrivate current_thread;
/* Set while _fs_thread_new_member() builds a member. */
static GPrivate constructing_member;

G_DEFINE_FINAL_TYPE (FsThread, fs_thread, G_TYPE_OBJECT)

/* Waits on the condition, counted, so that wake_waiters() can skip the
 * system call GLib makes for every broadcast when nobody sleeps (the
 * usual case: a blocking join sleeps in g_thread_join() instead). Called
 * with the mutex held. */
static void
cond_wait (FsThread *self)
{
  self->n_waiting++;
  g_cond_wait (&self->cond, &self->mutex);
  self->n_waiting--;
}

static gboolean
cond_wait_until (FsThread *self,
                 gint64    end_time)
{
  gboolean signalled;

  self->n_waiting++;
  signalled = g_cond_wait_until (&self->cond, &self->mutex, end_time);
  self->n_waiting--;

  return signalled;
}

static void
wake_waiters (FsThread *self)
{
  if (self->n_waiting > 0)
    g_cond_broadcast (&self->cond);
}

gint64
_fs_end_time_for_timeout (gint64 timeout_usec)
{
  if (timeout_usec < 0)
    return -1;
  if (timeout_usec > G_MAXINT64 - g_get_monotonic_time ())
    return -1;
  return g_get_monotonic_time () + timeout_usec;
}

/* The thread's error state, made on first use: most threads never fail,
 * and nobody asks. */
static FsErrorState *
ensure_error_state (FsThread *self)
{
  FsErrorState *state = g_atomic_pointer_get (&self->error_state);

  if G_UNLIKELY (state == NULL)
    {
      FsErrorState *fresh = fs_error_state_new ();

      if (g_atomic_pointer_compare_and_exchange (&self->error_state, NULL, fresh))
        return fresh;
      g_object_unref (fresh);
      state = g_atomic_pointer_get (&self->error_state);
    }

  return state;
}

/* Raises the run's own error, if any: %TRUE when there is none. */
static gboolean
re_raise_own (FsThread  *self,
              GError   **error)
{
  FsErrorState *state = g_atomic_pointer_get (&self->error_state);

  return state == NULL || fs_error_state_re_raise (state, error);
}

static void
fs_thread_finalize (GObject *object)
{
  FsThread *self = (FsThread *)object;

  g_assert (self->state != STATE_RUNNING);
  g_assert (g_queue_is_empty (&self->waiters));

  /* Finished but never joined: reap it, unless this is the thread itself
   * dropping its last reference, which must not join itself. */
  if (self->gthread != NULL)
    {
      if (self->gthread == g_thread_self ())
        g_thread_unref (self->gthread);
      else
        g_thread_join (self->gthread);
      self->gthread = NULL;
    }

  if (self->user_data_free != NULL)
    self->user_data_free (self->user_data);
  if (self->finish_data_free != NULL)
    self->finish_data_free (self->finish_data);

  if (self->name_reserved)
    _fs_names_release (self->name);
  g_clear_pointer (&self->name, g_free);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->error_state);
  g_clear_object (&self->group_state);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (fs_thread_parent_class)->finalize (object);
}

/* Made when the object is built, so that the new thread allocates
 * nothing to name itself. */
static void
set_os_name_field (FsThread *self)
{
  g_autofree char *os_name = _fs_names_os_name (self->name);

  g_strlcpy (self->os_name, os_name, sizeof self->os_name);
}

static void
fs_thread_constructed (GObject *object)
{
  FsThread *self = (FsThread *)object;

  G_OBJECT_CLASS (fs_thread_parent_class)->constructed (object);

  /* A member: _fs_thread_new_member() sets the rest. */
  if (g_private_get (&constructing_member) != NULL)
    return;

  if (self->name == NULL)
    {
      self->name = _fs_names_reserve ("thread");
      self->name_reserved = TRUE;
    }
  set_os_name_field (self);
  if (self->cancellable == NULL)
    self->cancellable = g_cancellable_new ();
}

static void
fs_thread_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  FsThread *self = FS_THREAD (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_INDEX:
      g_value_set_uint (value, self->index);
      break;

    case PROP_CANCELLABLE:
      g_value_set_object (value, self->cancellable);
      break;

    case PROP_ERROR_STATE:
      g_value_set_object (value, ensure_error_state (self));
      break;

    case PROP_HAS_ERROR:
      g_value_set_boolean (value, fs_thread_get_has_error (self));
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

  switch (prop_id)
    {
    case PROP_NAME:
      g_free (self->name);
      self->name = g_value_get_string (value) != NULL
                 ? g_utf8_make_valid (g_value_get_string (value), -1)
                 : NULL;
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_thread_class_init (FsThreadClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = fs_thread_constructed;
  object_class->finalize = fs_thread_finalize;
  object_class->get_property = fs_thread_get_property;
  object_class->set_property = fs_thread_set_property;

  /**
   * FsThread:name:
   *
   * The name of the thread, whole. The operating-system thread carries its
   * first 15 bytes, cut at a character boundary.
   *
   * [ctor@Fs.Thread.new] makes the name unique among living objects, as the
   * original did: a taken `NAME` becomes the first free of `NAME_0`,
   * `NAME_1`, ...
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
   * The cancellable of the thread: the target polls it or hands it to GIO.
   * [method@Fs.Thread.cancel] triggers it, and so does the target's failure.
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

  /**
   * FsThread:has-error:
   *
   * Whether the current (or last) run failed. It changes on the worker
   * thread, so it is never notified.
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
fs_thread_init (FsThread *self)
{
  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  g_queue_init (&self->waiters);
  self->state = STATE_NEW;
}

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
  g_autofree char *unique = NULL;
  FsThread *self;

  g_return_val_if_fail (func != NULL, NULL);

  unique = _fs_names_reserve (name != NULL ? name : "thread");
  self = g_object_new (FS_TYPE_THREAD, "name", unique, NULL);
  self->name_reserved = TRUE;
  self->func = func;
  self->user_data = user_data;
  self->user_data_free = user_data_free;

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
  FsThread *self;

  g_return_val_if_fail (exact_name != NULL, NULL);
  g_return_val_if_fail (G_IS_CANCELLABLE (cancellable), NULL);

  /* Not through the name property, nor with a cancellable of its own that
   * the group's would replace at once: a group makes its members on every
   * start. */
  g_private_set (&constructing_member, GINT_TO_POINTER (TRUE));
  self = g_object_new (FS_TYPE_THREAD, NULL);
  g_private_set (&constructing_member, NULL);
  self->name = exact_name;
  set_os_name_field (self);
  self->cancellable = g_object_ref (cancellable);
  self->index = index;
  self->group_state = group_state != NULL ? g_object_ref (group_state) : NULL;
  self->func = func;
  self->user_data = user_data;
  self->user_data_free = user_data_free;

  return self;
}

void
_fs_thread_set_finish_func (FsThread           *self,
                            FsThreadFinishFunc  func,
                            gpointer            data,
                            GDestroyNotify      data_free)
{
  g_return_if_fail (FS_IS_THREAD (self));
  g_return_if_fail (self->state == STATE_NEW);

  self->finish_func = func;
  self->finish_data = data;
  self->finish_data_free = data_free;
}

/**
 * fs_thread_get_current:
 *
 * The [class@Fs.Thread] whose target is running on the calling thread, if
 * any. A target that was given extra arguments (as bindings do) uses it to
 * find its thread.
 *
 * Returns: (transfer none) (nullable): the calling thread's
 *   [class@Fs.Thread], or %NULL when the caller is not running an fsthread
 *   target
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

  return self->name;
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

  return self->index;
}

/**
 * fs_thread_get_cancellable: (get-property cancellable)
 * @self: a [class@Fs.Thread]
 *
 * The cancellable the target polls or hands to GIO.
 *
 * Returns: (transfer none): the thread's [class@Gio.Cancellable]
 *
 * Since: 0.1
 */
GCancellable *
fs_thread_get_cancellable (FsThread *self)
{
  g_return_val_if_fail (FS_IS_THREAD (self), NULL);

  return self->cancellable;
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
 * fs_thread_get_has_error: (get-property has-error)
 * @self: a [class@Fs.Thread]
 *
 * Whether the current (or last) run of the thread failed.
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

  state = g_atomic_pointer_get (&self->error_state);
  return state != NULL && fs_error_state_get_has_error (state);
}

/**
 * fs_thread_check_and_raise_error:
 * @self: a [class@Fs.Thread]
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
  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return re_raise_own (self, error);
}

/**
 * fs_thread_is_alive:
 * @self: a [class@Fs.Thread]
 *
 * Whether the target is running: started, and not returned yet.
 *
 * Returns: %TRUE while the target runs
 *
 * Since: 0.1
 */
gboolean
fs_thread_is_alive (FsThread *self)
{
  gboolean alive;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);

  g_mutex_lock (&self->mutex);
  alive = self->state == STATE_RUNNING;
  g_mutex_unlock (&self->mutex);

  return alive;
}

/**
 * fs_thread_cancel:
 * @self: a [class@Fs.Thread]
 *
 * Triggers the thread's [property@Fs.Thread:cancellable]. The target decides
 * when to notice; nothing is interrupted by force.
 *
 * Since: 0.1
 */
void
fs_thread_cancel (FsThread *self)
{
  g_return_if_fail (FS_IS_THREAD (self));

  g_cancellable_cancel (self->cancellable);
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
  fs_error_state_set (ensure_error_state (self), error);
  if (self->group_state != NULL)
    fs_error_state_set (self->group_state, error);
  fs_error_state_set (fs_error_state_get_default (), error);

  if (g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN))
    return;

  /* Messages should be UTF-8, and a log line must be. */
  {
    g_autofree char *message = g_utf8_make_valid (error->message, -1);

    g_debug ("%s", message);
  }
}

static void waiter_complete_in_context (GTask *task);

static gpointer
fs_thread_main (gpointer data)
{
  FsThread *self = data;
  GError *error = NULL;
  gboolean ok = TRUE;
  GQueue waiters = G_QUEUE_INIT;

  g_private_set (&current_thread, self);
  set_os_name (self->os_name);

  if (self->func != NULL)
    ok = self->func (self, self->user_data, &error);

  if (!ok)
    {
      if (error == NULL)
        error = g_error_new_literal (FS_ERROR, FS_ERROR_FAILED,
                                     "The target returned FALSE without setting an error "
                                     "(as a JavaScript function does: it cannot run "
                                     "on another thread)");
      g_prefix_error (&error, "Error in thread (%s): ", self->name);
      record_failure (self, error);

      /* Fail fast: whoever shares the cancellable can stop now. */
      g_cancellable_cancel (self->cancellable);
    }
  else if (error != NULL)
    {
      g_critical ("The target of thread %s returned TRUE but set an error: %s",
                  self->name, error->message);
      g_clear_error (&error);
    }

  if (self->finish_func != NULL)
    self->finish_func (self, error, self->finish_data);

  g_clear_error (&error);

  g_mutex_lock (&self->mutex);
  self->state = STATE_FINISHED;
  waiters = self->waiters;
  g_queue_init (&self->waiters);
  wake_waiters (self);
  g_mutex_unlock (&self->mutex);

  /* Asynchronous joiners complete on their own main contexts, which also
   * take over the references. */
  while (!g_queue_is_empty (&waiters))
    waiter_complete_in_context (g_queue_pop_head (&waiters));

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
 * Starts the target on a new thread.
 *
 * A thread that is running, or that finished and was not joined yet, is
 * not started again: %FS_ERROR_BUSY. A joined thread starts a new run, with
 * an empty error state and a reset cancellable. When the operating system
 * cannot create a thread the call fails with %FS_ERROR_THREAD_CREATE.
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
  State previous;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&self->mutex);

  if (self->state == STATE_RUNNING || self->state == STATE_FINISHED ||
      self->reaping || self->restarting)
    {
      g_mutex_unlock (&self->mutex);
      g_set_error (error, FS_ERROR, FS_ERROR_BUSY,
                   "Thread %s is already started; join it before starting it again",
                   self->name);
      return FALSE;
    }

  previous = self->state;
  if (previous == STATE_JOINED)
    {
      FsErrorState *state = g_atomic_pointer_get (&self->error_state);

      /* Without the lock: a reset waits for handlers of the cancellable
       * that run meanwhile, and one may want the lock. Another start
       * meanwhile is refused. */
      self->restarting = TRUE;
      g_mutex_unlock (&self->mutex);
      if (state != NULL)
        fs_error_state_clear (state);
      /* Members share their group's cancellable: the group resets it. */
      if (self->group_state == NULL)
        g_cancellable_reset (self->cancellable);
      g_mutex_lock (&self->mutex);
      self->restarting = FALSE;
    }

  /* Under the lock, so that no joiner sees the run before gthread is set. */
  self->state = STATE_RUNNING;
  self->gthread = g_thread_try_new (NULL, fs_thread_main, g_object_ref (self), &local_error);

  if (self->gthread == NULL)
    {
      self->state = previous;
      g_mutex_unlock (&self->mutex);
      g_object_unref (self);
      g_set_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE,
                   "Cannot create thread %s: %s",
                   self->name, local_error->message);
      return FALSE;
    }

  g_mutex_unlock (&self->mutex);

  return TRUE;
}

static void
wake_on_cancel (GCancellable *cancellable,
                FsThread     *self)
{
  g_mutex_lock (&self->mutex);
  wake_waiters (self);
  g_mutex_unlock (&self->mutex);
}

static gboolean
check_joinable (FsThread  *self,
                GError   **error)
{
  if (_fs_thread_is_current (self))
    {
      g_set_error (error, FS_ERROR, FS_ERROR_WOULD_DEADLOCK,
                   "Thread %s cannot join itself", self->name);
      return FALSE;
    }

  return TRUE;
}

/* Waits until the run has ended and its OS thread is released. Fails only
 * when the wait itself fails: not started, cancelled, timed out. */
gboolean
_fs_thread_wait_until (FsThread      *self,
                       gint64         end_time,
                       GCancellable  *cancellable,
                       GError       **error)
{
  gulong handler = 0;
  gboolean ret = TRUE;

  if (!check_joinable (self, error))
    return FALSE;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_on_cancel), self, NULL);

  g_mutex_lock (&self->mutex);

  for (;;)
    {
      if (self->state == STATE_NEW)
        {
          g_set_error (error, FS_ERROR, FS_ERROR_NOT_STARTED,
                       "Thread %s was never started", self->name);
          ret = FALSE;
          break;
        }

      if (self->state == STATE_JOINED)
        break;

      /* Reap the OS thread when the target has returned (microseconds),
       * or at once when nothing can end this wait early: then the one
       * sleep is in g_thread_join(), not a sleep on the condition and
       * another in g_thread_join() after the wakeup. Other joiners
       * meanwhile wait on the condition, each with its own bounds. */
      if (!self->reaping &&
          (self->state == STATE_FINISHED ||
           (self->state == STATE_RUNNING && end_time < 0 && cancellable == NULL)))
        {
          GThread *gthread = g_steal_pointer (&self->gthread);

          self->reaping = TRUE;
          g_mutex_unlock (&self->mutex);
          g_thread_join (gthread);
          g_mutex_lock (&self->mutex);
          self->reaping = FALSE;
          self->state = STATE_JOINED;
          wake_waiters (self);
          break;
        }

      /* Another joiner is releasing the OS thread of a target that has
       * returned, which takes microseconds: wait for it whatever the
       * deadline, rather than spin on an expired one and keep it from the
       * lock. */
      if (self->state == STATE_FINISHED)
        {
          cond_wait (self);
          continue;
        }

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ret = FALSE;
          break;
        }

      if (end_time < 0)
        {
          cond_wait (self);
        }
      else if (!cond_wait_until (self, end_time) &&
               self->state != STATE_FINISHED && self->state != STATE_JOINED)
        {
          g_set_error (error, FS_ERROR, FS_ERROR_TIMED_OUT,
                       "Timed out waiting for thread %s", self->name);
          ret = FALSE;
          break;
        }
    }

  g_mutex_unlock (&self->mutex);

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  return ret;
}

/**
 * fs_thread_wait:
 * @self: a #FsThread
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 *
 * Waits until the target is not running, for at most @timeout_usec, and
 * reports which came first. It neither joins nor raises: bindings wait in
 * slices with it, so that a signal (Ctrl+C) is seen between two, and then
 * join, which no longer blocks.
 *
 * Returns: %TRUE when the target is not running (it returned, or the thread
 *   was never started); %FALSE when the timeout passed first, or at once
 *   when called from the thread itself
 *
 * Since: 0.1
 */
gboolean
fs_thread_wait (FsThread *self,
                gint64    timeout_usec)
{
  gint64 end_time;
  gboolean done;

  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);

  if (_fs_thread_is_current (self))
    return FALSE;

  end_time = _fs_end_time_for_timeout (timeout_usec);

  g_mutex_lock (&self->mutex);
  while (self->state == STATE_RUNNING)
    {
      if (end_time < 0)
        cond_wait (self);
      else if (!cond_wait_until (self, end_time))
        break;
    }
  done = self->state != STATE_RUNNING;
  g_mutex_unlock (&self->mutex);

  return done;
}

/**
 * fs_thread_join:
 * @self: a [class@Fs.Thread]
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * Waits until the target has returned, releases the operating-system
 * thread, and raises the run's error if it failed.
 *
 * The wait ends early with %G_IO_ERROR_CANCELLED when @cancellable is
 * triggered (the thread keeps running; join again later). Joining a thread
 * that was never started fails with %FS_ERROR_NOT_STARTED, and joining from
 * the thread itself with %FS_ERROR_WOULD_DEADLOCK.
 *
 * Returns: %TRUE when the target succeeded; %FALSE with @error set when it
 *   failed or the wait did
 *
 * Since: 0.1
 */
gboolean
fs_thread_join (FsThread      *self,
                GCancellable  *cancellable,
                GError       **error)
{
  return fs_thread_join_timeout (self, -1, cancellable, error);
}

/**
 * fs_thread_join_timeout:
 * @self: a [class@Fs.Thread]
 * @timeout_usec: the longest wait in microseconds, or -1 for no limit
 * @cancellable: (nullable): a [class@Gio.Cancellable] to stop waiting
 * @error: return location for an error
 *
 * As [method@Fs.Thread.join], but the wait ends with %FS_ERROR_TIMED_OUT
 * after @timeout_usec microseconds. The thread keeps running then; join it
 * again later.
 *
 * Returns: %TRUE when the target succeeded; %FALSE with @error set when it
 *   failed or the wait did
 *
 * Since: 0.1
 */
gboolean
fs_thread_join_timeout (FsThread      *self,
                        gint64         timeout_usec,
                        GCancellable  *cancellable,
                        GError       **error)
{
  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_fs_thread_wait_until (self, _fs_end_time_for_timeout (timeout_usec), cancellable, error))
    return FALSE;

  return re_raise_own (self, error);
}

/* Asynchronous joins. A waiter is a GTask in self->waiters. Exactly one of
 * two things completes it, both on the task's own main context:
 *  - the worker, when the run ends, takes every waiter off the queue and
 *    schedules reap_in_context() for each;
 *  - the cancellable's handler (on the thread that cancels), if it can
 *    still take the task off the queue: it schedules return_cancelled().
 * Whoever removes the task from the queue completes it. */

static void
reap_in_context (GTask    *task,
                 gpointer  data)
{
  FsThread *self = g_task_get_source_object (task);
  GError *error = NULL;

  /* The run has ended: this wait only releases the OS thread. */
  if (_fs_thread_wait_until (self, -1, NULL, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/* @task: (transfer full) */
static void
waiter_complete_in_context (GTask *task)
{
  _fs_task_complete_in_context (task, reap_in_context, NULL, NULL);
}

static void
return_cancelled (GTask    *task,
                  gpointer  data)
{
  FsThread *self = g_task_get_source_object (task);

  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "Stopped waiting for thread %s", self->name);
}

/* An FsTaskCancelFunc, on the thread that cancels: takes the task, which
 * return_cancelled() then completes. */
static gboolean
waiter_cancelled (gpointer  owner,
                  GTask    *task)
{
  FsThread *self = owner;
  gboolean mine;

  g_mutex_lock (&self->mutex);
  mine = g_queue_remove (&self->waiters, task);
  g_mutex_unlock (&self->mutex);

  return mine;
}

void
_fs_thread_wait_async (FsThread            *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, _fs_thread_wait_async);
  g_task_set_check_cancellable (task, FALSE);

  if (!check_joinable (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  g_mutex_lock (&self->mutex);

  if (self->state == STATE_NEW)
    {
      g_mutex_unlock (&self->mutex);
      g_task_return_new_error (task, FS_ERROR, FS_ERROR_NOT_STARTED,
                               "Thread %s was never started", self->name);
      return;
    }

  if (self->state == STATE_RUNNING)
    {
      g_queue_push_tail (&self->waiters, g_object_ref (task));
      g_mutex_unlock (&self->mutex);
      if (cancellable != NULL)
        _fs_task_watch_cancellable (task, cancellable, waiter_cancelled, return_cancelled,
                                    g_object_ref (self), g_object_unref);
      return;
    }

  g_mutex_unlock (&self->mutex);

  /* Finished already: complete on the next main-loop iteration. */
  waiter_complete_in_context (g_steal_pointer (&task));
}

gboolean
_fs_thread_wait_finish (FsThread      *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

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
 * context when its target returns. Finish with
 * [method@Fs.Thread.join_finish].
 *
 * Since: 0.1
 */
void
fs_thread_join_async (FsThread            *self,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_return_if_fail (FS_IS_THREAD (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  _fs_thread_wait_async (self, cancellable, callback, user_data);
}

/**
 * fs_thread_join_finish:
 * @self: a [class@Fs.Thread]
 * @result: the [iface@Gio.AsyncResult] given to the callback
 * @error: return location for an error
 *
 * Completes [method@Fs.Thread.join_async], with the result
 * [method@Fs.Thread.join] would have given.
 *
 * Returns: %TRUE when the target succeeded; %FALSE with @error set when it
 *   failed or the wait did
 *
 * Since: 0.1
 */
gboolean
fs_thread_join_finish (FsThread      *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (FS_IS_THREAD (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == _fs_thread_wait_async, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  return re_raise_own (self, error);
}
