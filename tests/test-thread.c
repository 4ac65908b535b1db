/* test-thread.c: FsThread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

typedef struct
{
  gint        runs;
  gint        freed;
  FsThread   *seen_thread;
  FsThread   *seen_current;
  GThread    *seen_gthread;
  guint       seen_index;
  FsTestGate  started;
  FsTestGate  release;
  char       *comm;
} Counters;

static Counters *
counters_new (void)
{
  Counters *c = g_new0 (Counters, 1);

  fs_test_gate_init (&c->started);
  fs_test_gate_init (&c->release);
  return c;
}

static void
counters_free (Counters *c)
{
  fs_test_gate_clear (&c->started);
  fs_test_gate_clear (&c->release);
  g_free (c->comm);
  g_free (c);
}

static void
count_free (gpointer data)
{
  Counters *c = data;

  g_atomic_int_inc (&c->freed);
}

static gboolean
succeed (FsThread  *thread,
         gpointer   data,
         GError   **error)
{
  Counters *c = data;

  g_atomic_int_inc (&c->runs);
  c->seen_thread = thread;
  c->seen_current = fs_thread_get_current ();
  c->seen_gthread = g_thread_self ();
  c->seen_index = fs_thread_get_index (thread);
  return TRUE;
}

static gboolean
fail_with_test_error (FsThread  *thread,
                      gpointer   data,
                      GError   **error)
{
  g_set_error (error, TEST_ERROR, 42, "disk on fire");
  return FALSE;
}

static gboolean
fail_without_error (FsThread  *thread,
                    gpointer   data,
                    GError   **error)
{
  return FALSE;
}

/* Signals that it runs, then waits until the test releases it. */
static gboolean
wait_for_release (FsThread  *thread,
                  gpointer   data,
                  GError   **error)
{
  Counters *c = data;

  g_atomic_int_inc (&c->runs);
  fs_test_gate_open (&c->started);
  fs_test_gate_wait (&c->release);
  return TRUE;
}

static void
test_thread_runs_target (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("runs-target", succeed, c, count_free);
  g_assert_false (fs_thread_is_alive (thread));
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_assert_cmpint (c->runs, ==, 1);
  g_assert_true (c->seen_thread == thread);
  g_assert_true (c->seen_current == thread);
  g_assert_true (c->seen_gthread != g_thread_self ());
  g_assert_cmpuint (c->seen_index, ==, 0);
  g_assert_null (fs_thread_get_current ());
  g_assert_false (fs_thread_is_alive (thread));
  g_assert_false (fs_thread_get_has_error (thread));
  g_assert_true (fs_thread_check_and_raise_error (thread, &error));

  /* Joining again gives the same result, also when only looking. */
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_assert_cmpint (c->freed, ==, 0);
  g_object_unref (thread);
  g_assert_cmpint (c->freed, ==, 1);
  counters_free (c);
}

static void
test_thread_failure_captured (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) again = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(FsThread) thread = NULL;
  guint default_before = fs_error_state_get_n_errors (fs_error_state_get_default ());

  thread = fs_thread_new ("fails", fail_with_test_error, NULL, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);

  /* Domain and code kept, message names the thread. */
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "Error in thread (fails): disk on fire");

  g_assert_true (fs_thread_get_has_error (thread));
  g_assert_false (fs_thread_check_and_raise_error (thread, &again));
  g_assert_error (again, TEST_ERROR, 42);
  g_clear_error (&again);

  /* Joining again raises the same error again. */
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &again), ==, FS_WAIT_FAILED);
  g_assert_error (again, TEST_ERROR, 42);
  g_assert_cmpstr (again->message, ==, "Error in thread (fails): disk on fire");

  errors = fs_error_state_dup_errors (fs_thread_get_error_state (thread));
  g_assert_cmpuint (errors->len, ==, 1);

  /* The process-wide state sees it too. */
  g_assert_cmpuint (fs_error_state_get_n_errors (fs_error_state_get_default ()), ==, default_before + 1);

  /* Failing cancels the thread's cancellable: fail fast. */
  g_assert_true (g_cancellable_is_cancelled (fs_thread_get_cancellable (thread)));
}

static void
test_thread_false_without_error (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("silent", fail_without_error, NULL, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Error in thread (silent): "));
  g_assert_nonnull (strstr (error->message, "without setting an error"));
}

static void
test_thread_start_busy (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("busy", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);

  g_assert_true (fs_thread_is_alive (thread));
  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);

  fs_test_gate_open (&c->release);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (c->runs, ==, 1);

  g_object_unref (thread);
  counters_free (c);
}

typedef struct
{
  FsWaitStatus  blocking;
  FsWaitStatus  bounded;
  GError       *error;
} SelfJoin;

static gboolean
join_self (FsThread  *thread,
           gpointer   data,
           GError   **error)
{
  SelfJoin *j = data;

  /* Refused at once, whatever the bound, and not an error. */
  j->blocking = fs_thread_join (thread, -1, NULL, &j->error);
  if (j->error == NULL)
    j->bounded = fs_thread_join (thread, 1000, NULL, &j->error);
  return TRUE;
}

static void
test_thread_join_self (void)
{
  SelfJoin j = { FS_WAIT_OK, FS_WAIT_OK, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("narcissus", join_self, &j, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_no_error (j.error);
  g_assert_cmpint (j.blocking, ==, FS_WAIT_WOULD_DEADLOCK);
  g_assert_cmpint (j.bounded, ==, FS_WAIT_WOULD_DEADLOCK);
  /* The refusal is no failure of the thread. */
  g_assert_false (fs_thread_get_has_error (thread));
}

static void
test_thread_join_not_started (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("idle", succeed, NULL, NULL);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);
}

static void
test_thread_restart (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("again", succeed, c, NULL);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (fs_thread_start (thread, &error));
      g_assert_no_error (error);
      g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
    }
  g_assert_cmpint (c->runs, ==, 3);
  counters_free (c);
}

typedef struct
{
  gint runs;
} FailOnce;

static gboolean
fail_first_run (FsThread  *thread,
                gpointer   data,
                GError   **error)
{
  FailOnce *f = data;

  if (g_atomic_int_add (&f->runs, 1) == 0)
    {
      g_set_error_literal (error, TEST_ERROR, 1, "first run fails");
      return FALSE;
    }

  g_assert_false (g_cancellable_is_cancelled (fs_thread_get_cancellable (thread)));
  return TRUE;
}

static void
test_thread_restart_clears_error (void)
{
  FailOnce f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("phoenix", fail_first_run, &f, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 1);
  g_clear_error (&error);
  g_assert_true (fs_thread_get_has_error (thread));

  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_false (fs_thread_get_has_error (thread));
}

/* Waits for the end of the run without joining: is_alive turns FALSE
 * once the run has finished. */
static void
wait_not_alive (FsThread *thread)
{
  while (fs_thread_is_alive (thread))
    g_thread_yield ();
}

static void
test_thread_start_finished_unjoined_busy (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("unjoined", succeed, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  wait_not_alive (thread);

  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  counters_free (c);
}

static void
test_thread_join_timeout (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("slow", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);

  /* The thread is held by the gate: the bounded wait must time out, with
   * no error, and reap nothing. */
  g_assert_cmpint (fs_thread_join (thread, 1000, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_true (fs_thread_is_alive (thread));
  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);

  fs_test_gate_open (&c->release);
  g_assert_cmpint (fs_thread_join (thread, G_MAXINT64, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (thread);
  counters_free (c);
}

static gpointer
cancel_in_thread (gpointer data)
{
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_thread_join_cancelled (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  GThread *canceller;
  FsThread *thread;

  thread = fs_thread_new ("held", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);

  /* Cancelled from another thread while (or before) the join waits: the
   * target is held, so the only way out is the cancellable. */
  canceller = g_thread_new ("canceller", cancel_in_thread, cancellable);
  g_assert_cmpint (fs_thread_join (thread, -1, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_thread_join (canceller);

  g_assert_true (fs_thread_is_alive (thread));
  fs_test_gate_open (&c->release);
  /* A run that has ended is joined whatever the cancellable. */
  wait_not_alive (thread);
  g_assert_cmpint (fs_thread_join (thread, 0, cancellable, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (thread);
  counters_free (c);
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  fs_test_gate_open (data);
}

static gboolean
wait_for_cancel (FsThread  *thread,
                 gpointer   data,
                 GError   **error)
{
  Counters *c = data;
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  gulong handler;

  handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), &c->release, NULL);
  fs_test_gate_open (&c->started);
  fs_test_gate_wait (&c->release);
  g_cancellable_disconnect (cancellable, handler);

  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static void
test_thread_cancel (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("cancel-me", wait_for_cancel, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);
  fs_thread_cancel (thread);
  /* The work's own error, which is a cancellation: FAILED, not CANCELLED. */
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_str_has_prefix (error->message, "Error in thread (cancel-me): "));

  g_object_unref (thread);
  counters_free (c);
}

static gboolean
read_comm (FsThread  *thread,
           gpointer   data,
           GError   **error)
{
  Counters *c = data;

  return g_file_get_contents ("/proc/thread-self/comm", &c->comm, NULL, error);
}

static void
test_thread_os_name (void)
{
  const char *long_name = "a-rather-long-thread-name";
  Counters *c = counters_new ();
  g_autoptr(FsThread) thread = NULL;
  g_autoptr(FsThread) short_thread = NULL;
  g_autoptr(GError) error = NULL;

  thread = fs_thread_new (long_name, read_comm, c, NULL);
  g_assert_cmpstr (fs_thread_get_name (thread), ==, long_name);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  /* The kernel keeps 15 bytes; the property keeps the whole name. */
  g_assert_cmpstr (c->comm, ==, "a-rather-long-t\n");
  g_clear_pointer (&c->comm, g_free);

  short_thread = fs_thread_new ("short", read_comm, c, NULL);
  g_assert_true (fs_thread_start (short_thread, NULL));
  g_assert_cmpint (fs_thread_join (short_thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_cmpstr (c->comm, ==, "short\n");

  counters_free (c);
}

static void
test_thread_unique_names (void)
{
  g_autoptr(FsThread) a = fs_thread_new ("job", succeed, NULL, NULL);
  g_autoptr(FsThread) b = fs_thread_new ("job", succeed, NULL, NULL);
  g_autoptr(FsThread) c = fs_thread_new ("job", succeed, NULL, NULL);
  g_autoptr(FsThread) d = fs_thread_new (NULL, succeed, NULL, NULL);
  g_autofree char *name = NULL;

  g_assert_cmpstr (fs_thread_get_name (a), ==, "job");
  g_assert_cmpstr (fs_thread_get_name (b), ==, "job_0");
  g_assert_cmpstr (fs_thread_get_name (c), ==, "job_1");
  g_assert_true (g_str_has_prefix (fs_thread_get_name (d), "thread"));

  g_object_get (a, "name", &name, NULL);
  g_assert_cmpstr (name, ==, "job");

  /* A released name is free again. */
  g_clear_object (&b);
  b = fs_thread_new ("job", succeed, NULL, NULL);
  g_assert_cmpstr (fs_thread_get_name (b), ==, "job_0");
}

static void
test_thread_properties (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("props", succeed, NULL, NULL);
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(FsErrorState) state = NULL;
  guint index = 99;

  g_object_get (thread,
                "cancellable", &cancellable,
                "error-state", &state,
                "index", &index,
                NULL);
  g_assert_true (cancellable == fs_thread_get_cancellable (thread));
  g_assert_true (state == fs_thread_get_error_state (thread));
  g_assert_true (state != fs_error_state_get_default ());
  g_assert_cmpuint (index, ==, 0);
}

static void
test_thread_join_reaps (void)
{
  Counters *c = counters_new ();
  guint before = fs_test_count_threads ();
  FsThread *thread;

  thread = fs_thread_new ("reaped", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);
  g_assert_cmpuint (fs_test_count_threads (), ==, before + 1);
  fs_test_gate_open (&c->release);

  /* Once join returns, the OS thread is gone. */
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);
  fs_test_assert_threads_settle (before);
  g_object_unref (thread);

  counters_free (c);
}

static void
signal_freed (gpointer data)
{
  Counters *c = data;

  g_atomic_int_inc (&c->freed);
  fs_test_gate_open (&c->started);
}

static gboolean
wait_release_only (FsThread  *thread,
                   gpointer   data,
                   GError   **error)
{
  Counters *c = data;

  fs_test_gate_wait (&c->release);
  return TRUE;
}

static void
test_thread_unref_while_running (void)
{
  Counters *c = counters_new ();
  guint before = fs_test_count_threads ();
  FsThread *thread;

  thread = fs_thread_new ("orphan", wait_release_only, c, signal_freed);
  g_assert_true (fs_thread_start (thread, NULL));

  /* The running thread holds its own reference: this unref frees nothing. */
  g_object_unref (thread);
  g_assert_cmpint (c->freed, ==, 0);

  /* Let it finish: it finalizes itself on its own thread, then exits. */
  fs_test_gate_open (&c->release);
  fs_test_gate_wait (&c->started);
  g_assert_cmpint (c->freed, ==, 1);
  fs_test_assert_threads_settle (before);

  counters_free (c);
}

static void
test_thread_join_only_looks (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("looked-at", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);

  /* Running: a timeout of 0 looks and reaps nothing. */
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_true (fs_thread_is_alive (thread));

  /* Finished: a timeout of 0 reaps and reports, and the thread starts
   * again. */
  fs_test_gate_open (&c->release);
  wait_not_alive (thread);
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (c->runs, ==, 2);

  g_object_unref (thread);
  counters_free (c);
}

/* Interrupts, references held by joins */

static gpointer
write_byte (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);

  g_assert_cmpint (write (fd, "x", 1), ==, 1);
  return NULL;
}

static void
test_thread_join_interrupted (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;
  GThread *writer;
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));

  thread = fs_thread_new ("interrupted", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);

  g_assert_cmpint (fs_wait_set_interrupt_fd (fds[0]), ==, -1);

  /* Nothing to read: the bounded join times out as without it. */
  g_assert_cmpint (fs_thread_join (thread, 1000, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);

  /* A join with no limit and no cancellable must still watch the
   * descriptor (it cannot sleep in g_thread_join()): written from another
   * thread, before or during the wait. */
  writer = g_thread_new ("writer", write_byte, GINT_TO_POINTER (fds[1]));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_INTERRUPTED);
  g_assert_no_error (error);
  g_thread_join (writer);

  /* Nothing was reaped; still readable: interrupted again at once. */
  g_assert_true (fs_thread_is_alive (thread));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_INTERRUPTED);
  g_assert_no_error (error);

  /* A run that has ended is joined without looking at the descriptor. */
  fs_test_gate_open (&c->release);
  wait_not_alive (thread);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, fds[0]);
  close (fds[0]);
  close (fds[1]);
  g_object_unref (thread);
  counters_free (c);
}

typedef struct
{
  FsThread     *thread;       /* borrowed: the joiner owns no reference */
  GCancellable *cancellable;
  FsWaitStatus  status;
} Joiner;

static gpointer
joiner_main (gpointer data)
{
  Joiner *j = data;

  j->status = fs_thread_join (j->thread, -1, j->cancellable, NULL);
  return NULL;
}

static void
note_finalizer (gpointer  data,
                GObject  *where_the_object_was)
{
  *(GThread **) data = g_thread_self ();
}

/* Waits until @object has @n references. Only a thread that never takes
 * its reference makes this give up, after 10 s, rather than hang. */
static void
wait_ref_count (gpointer object,
                guint    n)
{
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_atomic_int_get ((gint *) &G_OBJECT (object)->ref_count) != (gint) n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <=, give_up);
      g_thread_yield ();
    }
}

/* A thread blocked in a join while another drops the last reference it
 * knew of: the join holds its own, so the object outlives the wait and is
 * finalized by the joiner, never under it. With @data, the join has a
 * cancellable, so it sleeps in the wait unit rather than in
 * g_thread_join(). */
static void
test_thread_join_holds_reference (gconstpointer data)
{
  gboolean with_cancellable = GPOINTER_TO_INT (data);
  g_autoptr(GCancellable) cancellable = with_cancellable ? g_cancellable_new () : NULL;
  Counters *c = counters_new ();
  GThread *finalizer = NULL;
  Joiner j = { NULL, cancellable, FS_WAIT_FAILED };
  GThread *joiner;

  j.thread = fs_thread_new ("held-by-joiner", wait_for_release, c, NULL);
  g_object_weak_ref (G_OBJECT (j.thread), note_finalizer, &finalizer);
  g_assert_true (fs_thread_start (j.thread, NULL));
  fs_test_gate_wait (&c->started);

  joiner = g_thread_new ("joiner", joiner_main, &j);
  /* The test's reference, the worker's, and the join's. */
  wait_ref_count (j.thread, 3);
  g_object_unref (j.thread);

  fs_test_gate_open (&c->release);
  g_thread_join (joiner);

  g_assert_cmpint (j.status, ==, FS_WAIT_OK);
  g_assert_true (finalizer == joiner);
  counters_free (c);
}

/* Asynchronous joins. */

typedef struct
{
  gboolean      done;
  FsWaitStatus  status;
  GError       *error;
  GThread      *callback_thread;
} AsyncResult;

static void
joined_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  AsyncResult *r = data;

  r->status = fs_thread_join_finish (FS_THREAD (object), result, &r->error);
  r->callback_thread = g_thread_self ();
  r->done = TRUE;
}

static void
test_thread_join_async (void)
{
  Counters *c = counters_new ();
  AsyncResult r = { 0 };
  FsThread *thread;

  thread = fs_thread_new ("async", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_thread_join_async (thread, NULL, joined_cb, &r);
  fs_test_gate_wait (&c->started);

  /* Not done before the main loop runs, even if the thread is fast. */
  g_assert_false (r.done);
  fs_test_gate_open (&c->release);
  fs_test_iterate_until (&r.done);

  g_assert_cmpint (r.status, ==, FS_WAIT_OK);
  g_assert_no_error (r.error);
  g_assert_true (r.callback_thread == g_thread_self ());
  g_assert_false (fs_thread_is_alive (thread));

  /* Joined: it starts again at once. */
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);

  g_object_unref (thread);
  counters_free (c);
}

static void
test_thread_join_async_failure (void)
{
  AsyncResult r = { 0 };
  AsyncResult again = { 0 };
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("async-fail", fail_with_test_error, NULL, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_thread_join_async (thread, NULL, joined_cb, &r);
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_FAILED);
  g_assert_error (r.error, TEST_ERROR, 42);
  g_assert_cmpstr (r.error->message, ==, "Error in thread (async-fail): disk on fire");
  g_clear_error (&r.error);

  /* Already joined: completes on the next iteration with the same result. */
  fs_thread_join_async (thread, NULL, joined_cb, &again);
  g_assert_false (again.done);
  fs_test_iterate_until (&again.done);
  g_assert_cmpint (again.status, ==, FS_WAIT_FAILED);
  g_assert_error (again.error, TEST_ERROR, 42);
  g_clear_error (&again.error);
}

static void
test_thread_join_async_cancelled (void)
{
  Counters *c = counters_new ();
  AsyncResult r = { 0 };
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("async-cancel", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);
  fs_thread_join_async (thread, cancellable, joined_cb, &r);
  g_cancellable_cancel (cancellable);
  fs_test_iterate_until (&r.done);
  /* A status, not an error. */
  g_assert_cmpint (r.status, ==, FS_WAIT_CANCELLED);
  g_assert_no_error (r.error);

  g_assert_true (fs_thread_is_alive (thread));
  fs_test_gate_open (&c->release);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (thread);
  counters_free (c);
}

static void
test_thread_join_async_not_started (void)
{
  AsyncResult r = { 0 };
  g_autoptr(FsThread) thread = fs_thread_new ("never", succeed, NULL, NULL);

  fs_thread_join_async (thread, NULL, joined_cb, &r);
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (r.error);
}

static gboolean
join_self_async (FsThread  *thread,
                 gpointer   data,
                 GError   **error)
{
  /* The worker has no main context of its own: the callback comes on the
   * global default one, which the test runs. */
  fs_thread_join_async (thread, NULL, joined_cb, data);
  return TRUE;
}

static void
test_thread_join_async_self (void)
{
  AsyncResult r = { 0 };
  g_autoptr(FsThread) thread = fs_thread_new ("async-narcissus", join_self_async, &r, NULL);

  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_WOULD_DEADLOCK);
  g_assert_no_error (r.error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);
}

static void
test_thread_join_async_many (void)
{
  Counters *c = counters_new ();
  AsyncResult r[5] = { { 0 } };
  FsThread *thread;

  thread = fs_thread_new ("async-many", wait_for_release, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (r); i++)
    fs_thread_join_async (thread, NULL, joined_cb, &r[i]);
  fs_test_gate_open (&c->release);
  for (guint i = 0; i < G_N_ELEMENTS (r); i++)
    {
      fs_test_iterate_until (&r[i].done);
      g_assert_cmpint (r[i].status, ==, FS_WAIT_OK);
      g_assert_no_error (r[i].error);
    }

  g_object_unref (thread);
  counters_free (c);
}

/* Two asynchronous joins of one run, and the first callback starts the
 * thread again, whose new run the test holds. The second callback must
 * come at once, with the first run's result, and never wait for the new
 * run on the main context. A watcher thread turns a blocked main context
 * into a failure: it gives up after 10 s and lets the new run end. */
typedef struct
{
  FsThread   *thread;
  gint        runs;
  FsTestGate  second_run_started;
  FsTestGate  second_run_release;
  gint        released;
  guint       n_callbacks;
  AsyncResult results[2];
  gboolean    second_during_new_run;
  GMutex      mutex;
  GCond       cond;
  gboolean    second_done;
  gboolean    watcher_gave_up;
} Restart;

static gboolean
restart_target (FsThread  *thread,
                gpointer   data,
                GError   **error)
{
  Restart *r = data;

  if (g_atomic_int_add (&r->runs, 1) == 0)
    {
      g_set_error_literal (error, TEST_ERROR, 5, "first run");
      return FALSE;
    }

  fs_test_gate_open (&r->second_run_started);
  fs_test_gate_wait (&r->second_run_release);
  return TRUE;
}

static void
restart_joined_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      data)
{
  Restart *r = data;
  AsyncResult *mine = &r->results[r->n_callbacks++];

  mine->status = fs_thread_join_finish (FS_THREAD (object), result, &mine->error);
  mine->done = TRUE;

  if (r->n_callbacks == 1)
    {
      g_assert_true (fs_thread_start (r->thread, NULL));
      return;
    }

  r->second_during_new_run = !g_atomic_int_get (&r->released);
  g_mutex_lock (&r->mutex);
  r->second_done = TRUE;
  g_cond_signal (&r->cond);
  g_mutex_unlock (&r->mutex);
}

static gpointer
restart_watcher (gpointer data)
{
  Restart *r = data;
  gint64 give_up;

  fs_test_gate_wait (&r->second_run_started);
  give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_mutex_lock (&r->mutex);
  while (!r->second_done)
    if (!g_cond_wait_until (&r->cond, &r->mutex, give_up))
      {
        r->watcher_gave_up = TRUE;
        break;
      }
  g_mutex_unlock (&r->mutex);

  g_atomic_int_set (&r->released, TRUE);
  fs_test_gate_open (&r->second_run_release);
  return NULL;
}

static void
test_thread_join_async_restart_in_callback (void)
{
  Restart *r = g_new0 (Restart, 1);
  g_autoptr(GError) error = NULL;
  GThread *watcher;

  fs_test_gate_init (&r->second_run_started);
  fs_test_gate_init (&r->second_run_release);
  g_mutex_init (&r->mutex);
  g_cond_init (&r->cond);

  r->thread = fs_thread_new ("restarted-in-callback", restart_target, r, NULL);
  watcher = g_thread_new ("watcher", restart_watcher, r);

  g_assert_true (fs_thread_start (r->thread, NULL));
  fs_thread_join_async (r->thread, NULL, restart_joined_cb, r);
  fs_thread_join_async (r->thread, NULL, restart_joined_cb, r);

  while (r->n_callbacks < 2)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (watcher);

  g_assert_false (r->watcher_gave_up);
  g_assert_true (r->second_during_new_run);
  /* Both report the first run, although the second came after the start. */
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (r->results[i].status, ==, FS_WAIT_FAILED);
      g_assert_error (r->results[i].error, TEST_ERROR, 5);
      g_clear_error (&r->results[i].error);
    }

  g_assert_cmpint (fs_thread_join (r->thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (r->runs, ==, 2);

  g_object_unref (r->thread);
  fs_test_gate_clear (&r->second_run_started);
  fs_test_gate_clear (&r->second_run_release);
  g_mutex_clear (&r->mutex);
  g_cond_clear (&r->cond);
  g_free (r);
}

/* Subclasses and objects made with g_object_new() */

typedef struct
{
  FsThread  parent_instance;
  gint      runs;
  gboolean  fail;
  gboolean  fail_silently;
  gboolean  saw_current;
  GThread  *ran_on;
} TestWorker;

typedef struct
{
  FsThreadClass parent_class;
} TestWorkerClass;

GType test_worker_get_type (void);
G_DEFINE_TYPE (TestWorker, test_worker, FS_TYPE_THREAD)

static gboolean
test_worker_run (FsThread  *thread,
                 GError   **error)
{
  TestWorker *self = (TestWorker *) thread;

  g_atomic_int_inc (&self->runs);
  self->saw_current = fs_thread_get_current () == thread;
  self->ran_on = g_thread_self ();

  if (self->fail_silently)
    return FALSE;
  if (self->fail)
    {
      g_set_error_literal (error, TEST_ERROR, 7, "the subclass failed");
      return FALSE;
    }

  /* Chaining up runs the default: no target here, so nothing. */
  return FS_THREAD_CLASS (test_worker_parent_class)->run (thread, error);
}

static void
test_worker_class_init (TestWorkerClass *klass)
{
  FS_THREAD_CLASS (klass)->run = test_worker_run;
}

static void
test_worker_init (TestWorker *self)
{
}

static void
test_thread_subclass (void)
{
  g_autoptr(GError) error = NULL;
  TestWorker *worker = g_object_new (test_worker_get_type (), "name", "worker", NULL);
  FsThread *thread = FS_THREAD (worker);

  g_assert_cmpstr (fs_thread_get_name (thread), ==, "worker");
  g_assert_true (G_IS_CANCELLABLE (fs_thread_get_cancellable (thread)));

  g_assert_true (fs_thread_start (thread, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (worker->runs, ==, 1);
  g_assert_true (worker->saw_current);
  g_assert_true (worker->ran_on != g_thread_self ());

  /* Its failure is handled as a target's: prefixed, recorded, cancelled. */
  worker->fail = TRUE;
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 7);
  g_assert_cmpstr (error->message, ==, "Error in thread (worker): the subclass failed");
  g_clear_error (&error);
  g_assert_true (fs_thread_get_has_error (thread));
  g_assert_true (g_cancellable_is_cancelled (fs_thread_get_cancellable (thread)));

  worker->fail_silently = TRUE;
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (worker->runs, ==, 3);

  g_object_unref (worker);
}

static void
test_thread_g_object_new (void)
{
  g_autoptr(GError) error = NULL;
  FsThread *plain = g_object_new (FS_TYPE_THREAD, NULL);
  FsThread *first = g_object_new (FS_TYPE_THREAD, "name", "made-plainly", NULL);
  FsThread *second = g_object_new (FS_TYPE_THREAD, "name", "made-plainly", NULL);

  /* Usable as made: a name, a cancellable, an error state, and a run that
   * does nothing and succeeds. */
  g_assert_true (g_str_has_prefix (fs_thread_get_name (plain), "thread"));
  g_assert_true (G_IS_CANCELLABLE (fs_thread_get_cancellable (plain)));
  g_assert_true (FS_IS_ERROR_STATE (fs_thread_get_error_state (plain)));
  g_assert_cmpint (fs_thread_join (plain, 0, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_true (fs_thread_start (plain, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (plain, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_false (fs_thread_get_has_error (plain));

  /* Names are unique however the object is made. */
  g_assert_cmpstr (fs_thread_get_name (first), ==, "made-plainly");
  g_assert_cmpstr (fs_thread_get_name (second), ==, "made-plainly_0");

  g_object_unref (plain);
  g_object_unref (first);
  g_object_unref (second);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  g_atomic_int_inc ((gint *) data);
}

static void
test_thread_has_error_not_a_property (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("no-notify", fail_with_test_error, NULL, NULL);
  g_autoptr(GError) error = NULL;
  gint notified = 0;

  /* It changes on the worker, which must never notify: a method only. */
  g_assert_null (g_object_class_find_property (G_OBJECT_GET_CLASS (thread), "has-error"));

  g_signal_connect (thread, "notify", G_CALLBACK (count_notify), &notified);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_true (fs_thread_get_has_error (thread));
  g_assert_cmpint (g_atomic_int_get (&notified), ==, 0);
}

/* Thread creation failure: the address space is limited so that the OS
 * cannot map a new thread's stack. */

static void
test_thread_create_fails (void)
{
#ifdef FS_TEST_UNDER_ASAN
  g_test_skip ("AddressSanitizer cannot run under a tight address-space limit");
  return;
#endif

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FsThread) thread = fs_thread_new ("no-room", succeed, NULL, NULL);

      /* Everything the test needs is mapped now; a thread stack is not. */
      fs_test_limit_address_space (1024 * 1024);

      g_assert_false (fs_thread_start (thread, &error));
      g_assert_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE);
      g_assert_nonnull (strstr (error->message, "no-room"));
      g_clear_error (&error);

      g_assert_false (fs_thread_is_alive (thread));
      g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
      g_assert_no_error (error);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/thread/runs-target", test_thread_runs_target);
  g_test_add_func ("/thread/failure-captured", test_thread_failure_captured);
  g_test_add_func ("/thread/false-without-error", test_thread_false_without_error);
  g_test_add_func ("/thread/start-busy", test_thread_start_busy);
  g_test_add_func ("/thread/start-finished-unjoined-busy", test_thread_start_finished_unjoined_busy);
  g_test_add_func ("/thread/join-self", test_thread_join_self);
  g_test_add_func ("/thread/join-not-started", test_thread_join_not_started);
  g_test_add_func ("/thread/restart", test_thread_restart);
  g_test_add_func ("/thread/restart-clears-error", test_thread_restart_clears_error);
  g_test_add_func ("/thread/join-timeout", test_thread_join_timeout);
  g_test_add_func ("/thread/join-cancelled", test_thread_join_cancelled);
  g_test_add_func ("/thread/cancel", test_thread_cancel);
  g_test_add_func ("/thread/os-name", test_thread_os_name);
  g_test_add_func ("/thread/unique-names", test_thread_unique_names);
  g_test_add_func ("/thread/properties", test_thread_properties);
  g_test_add_func ("/thread/join-reaps", test_thread_join_reaps);
  g_test_add_func ("/thread/unref-while-running", test_thread_unref_while_running);
  g_test_add_func ("/thread/join-only-looks", test_thread_join_only_looks);
  g_test_add_func ("/thread/join-async", test_thread_join_async);
  g_test_add_func ("/thread/join-async-failure", test_thread_join_async_failure);
  g_test_add_func ("/thread/join-async-cancelled", test_thread_join_async_cancelled);
  g_test_add_func ("/thread/join-async-not-started", test_thread_join_async_not_started);
  g_test_add_func ("/thread/join-async-many", test_thread_join_async_many);
  g_test_add_func ("/thread/join-async-self", test_thread_join_async_self);
  g_test_add_func ("/thread/join-async-restart-in-callback", test_thread_join_async_restart_in_callback);
  g_test_add_func ("/thread/join-interrupted", test_thread_join_interrupted);
  g_test_add_data_func ("/thread/join-holds-reference/blocking", GINT_TO_POINTER (FALSE),
                        test_thread_join_holds_reference);
  g_test_add_data_func ("/thread/join-holds-reference/cancellable", GINT_TO_POINTER (TRUE),
                        test_thread_join_holds_reference);
  g_test_add_func ("/thread/subclass", test_thread_subclass);
  g_test_add_func ("/thread/g-object-new", test_thread_g_object_new);
  g_test_add_func ("/thread/has-error-not-a-property", test_thread_has_error_not_a_property);
  g_test_add_func ("/thread/create-fails", test_thread_create_fails);

  return g_test_run ();
}
