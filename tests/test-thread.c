/* test-thread.c: FsThread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

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
  g_assert_true (fs_thread_join (thread, NULL, &error));
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

  /* Joining again gives the same result. */
  g_assert_true (fs_thread_join (thread, NULL, &error));
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
  gboolean has_error = FALSE;

  thread = fs_thread_new ("fails", fail_with_test_error, NULL, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_false (fs_thread_join (thread, NULL, &error));

  /* Domain and code kept, message names the thread. */
  g_assert_error (error, TEST_ERROR, 42);
  g_assert_cmpstr (error->message, ==, "Error in thread (fails): disk on fire");

  g_assert_true (fs_thread_get_has_error (thread));
  g_object_get (thread, "has-error", &has_error, NULL);
  g_assert_true (has_error);
  g_assert_false (fs_thread_check_and_raise_error (thread, &again));
  g_assert_error (again, TEST_ERROR, 42);

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
  g_assert_false (fs_thread_join (thread, NULL, &error));
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
  g_assert_true (fs_thread_join (thread, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (c->runs, ==, 1);

  g_object_unref (thread);
  counters_free (c);
}

static gboolean
join_self (FsThread  *thread,
           gpointer   data,
           GError   **error)
{
  GError **out = data;

  g_assert_false (fs_thread_join (thread, NULL, out));
  return TRUE;
}

static void
test_thread_join_self (void)
{
  GError *inner = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("narcissus", join_self, &inner, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_true (fs_thread_join (thread, NULL, &error));
  g_assert_error (inner, FS_ERROR, FS_ERROR_WOULD_DEADLOCK);
  g_clear_error (&inner);
}

static void
test_thread_join_not_started (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;

  thread = fs_thread_new ("idle", succeed, NULL, NULL);
  g_assert_false (fs_thread_join (thread, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_NOT_STARTED);
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
      g_assert_true (fs_thread_join (thread, NULL, &error));
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
  g_assert_false (fs_thread_join (thread, NULL, &error));
  g_assert_error (error, TEST_ERROR, 1);
  g_clear_error (&error);
  g_assert_true (fs_thread_get_has_error (thread));

  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_true (fs_thread_join (thread, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (fs_thread_get_has_error (thread));
}

static void
test_thread_start_finished_unjoined_busy (void)
{
  Counters *c = counters_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = NULL;
  gboolean done = FALSE;

  thread = fs_thread_new ("unjoined", succeed, c, NULL);
  g_assert_true (fs_thread_start (thread, NULL));

  /* Wait for the end without joining: is_alive turns FALSE at the end. */
  while (!done)
    {
      done = !fs_thread_is_alive (thread);
      if (!done)
        g_thread_yield ();
    }

  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_true (fs_thread_join (thread, NULL, &error));
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

  /* The thread is held by the gate: the bounded wait must time out. */
  g_assert_false (fs_thread_join_timeout (thread, 1000, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_false (fs_thread_join_timeout (thread, 0, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_TIMED_OUT);
  g_clear_error (&error);
  g_assert_true (fs_thread_is_alive (thread));

  fs_test_gate_open (&c->release);
  g_assert_true (fs_thread_join_timeout (thread, -1, NULL, &error));
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
  g_assert_false (fs_thread_join (thread, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_thread_join (canceller);

  g_assert_true (fs_thread_is_alive (thread));
  fs_test_gate_open (&c->release);
  g_assert_true (fs_thread_join (thread, NULL, &error));
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
  g_assert_false (fs_thread_join (thread, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

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
  g_assert_true (fs_thread_join (thread, NULL, &error));
  g_assert_no_error (error);
  /* The kernel keeps 15 bytes; the property keeps the whole name. */
  g_assert_cmpstr (c->comm, ==, "a-rather-long-t\n");
  g_clear_pointer (&c->comm, g_free);

  short_thread = fs_thread_new ("short", read_comm, c, NULL);
  g_assert_true (fs_thread_start (short_thread, NULL));
  g_assert_true (fs_thread_join (short_thread, NULL, &error));
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
  g_assert_true (fs_thread_join (thread, NULL, NULL));
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

static gboolean
wait_self (FsThread  *thread,
           gpointer   data,
           GError   **error)
{
  /* From the thread itself: FALSE at once, never a wait for ever. */
  return !fs_thread_wait (thread, -1);
}

static void
test_thread_wait (void)
{
  Counters *c = counters_new ();
  g_autoptr(FsThread) selfish = NULL;
  g_autoptr(GError) error = NULL;
  FsThread *thread;

  thread = fs_thread_new ("waited", wait_for_release, c, NULL);
  /* Never started: nothing runs, so nothing to wait for. */
  g_assert_true (fs_thread_wait (thread, 0));

  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&c->started);

  /* Held by the gate: the bounded waits report the timeout, raise nothing. */
  g_assert_false (fs_thread_wait (thread, 0));
  g_assert_false (fs_thread_wait (thread, 1000));

  fs_test_gate_open (&c->release);
  g_assert_true (fs_thread_wait (thread, -1));
  g_assert_false (fs_thread_is_alive (thread));

  /* It does not join: join still reaps and reports. */
  g_assert_true (fs_thread_join (thread, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (fs_thread_wait (thread, 0));
  g_object_unref (thread);

  selfish = fs_thread_new ("waits-self", wait_self, NULL, NULL);
  g_assert_true (fs_thread_start (selfish, NULL));
  g_assert_true (fs_thread_join (selfish, NULL, &error));
  g_assert_no_error (error);

  counters_free (c);
}

/* Asynchronous joins. */

typedef struct
{
  gboolean  done;
  gboolean  result;
  GError   *error;
  GThread  *callback_thread;
} AsyncResult;

static void
joined_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  AsyncResult *r = data;

  r->result = fs_thread_join_finish (FS_THREAD (object), result, &r->error);
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

  g_assert_true (r.result);
  g_assert_no_error (r.error);
  g_assert_true (r.callback_thread == g_thread_self ());
  g_assert_false (fs_thread_is_alive (thread));

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
  g_assert_false (r.result);
  g_assert_error (r.error, TEST_ERROR, 42);
  g_clear_error (&r.error);

  /* Already joined: completes on the next iteration with the same result. */
  fs_thread_join_async (thread, NULL, joined_cb, &again);
  g_assert_false (again.done);
  fs_test_iterate_until (&again.done);
  g_assert_false (again.result);
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
  g_assert_false (r.result);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&r.error);

  g_assert_true (fs_thread_is_alive (thread));
  fs_test_gate_open (&c->release);
  g_assert_true (fs_thread_join (thread, NULL, &error));
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
  g_assert_false (r.result);
  g_assert_error (r.error, FS_ERROR, FS_ERROR_NOT_STARTED);
  g_clear_error (&r.error);
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
      g_assert_true (r[i].result);
      g_assert_no_error (r[i].error);
    }

  g_object_unref (thread);
  counters_free (c);
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
      g_assert_false (fs_thread_join (thread, NULL, &error));
      g_assert_error (error, FS_ERROR, FS_ERROR_NOT_STARTED);
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
  g_test_add_func ("/thread/wait", test_thread_wait);
  g_test_add_func ("/thread/join-async", test_thread_join_async);
  g_test_add_func ("/thread/join-async-failure", test_thread_join_async_failure);
  g_test_add_func ("/thread/join-async-cancelled", test_thread_join_async_cancelled);
  g_test_add_func ("/thread/join-async-not-started", test_thread_join_async_not_started);
  g_test_add_func ("/thread/join-async-many", test_thread_join_async_many);
  g_test_add_func ("/thread/create-fails", test_thread_create_fails);

  return g_test_run ();
}
