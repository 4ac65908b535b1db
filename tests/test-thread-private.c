/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-thread-private.c: what FsThread offers the background generator and
 * the groups: waiting for the end of a run without reaping it, and joins
 * with a deadline */

#include <unistd.h>

#include <glib-unix.h>

#include "fs-test-util.h"
#include "fs-thread-private.h"

typedef struct
{
  FsTestGate started;
  FsTestGate release;
  gint       finished;      /* set by the finish func */
  FsWaitStatus on_itself;   /* the work's wait for its own thread */
} Held;

static Held *
held_new (void)
{
  Held *h = g_new0 (Held, 1);

  fs_test_gate_init (&h->started);
  fs_test_gate_init (&h->release);
  h->on_itself = FS_WAIT_OK;
  return h;
}

static void
held_free (Held *h)
{
  fs_test_gate_clear (&h->started);
  fs_test_gate_clear (&h->release);
  g_free (h);
}

static gboolean
hold (FsThread  *thread,
      gpointer   data,
      GError   **error)
{
  Held *h = data;

  h->on_itself = _fs_thread_wait_finished (thread, -1, NULL);
  fs_test_gate_open (&h->started);
  fs_test_gate_wait (&h->release);
  return TRUE;
}

static void
note_finished (FsThread     *thread,
               const GError *error,
               gpointer      data)
{
  Held *h = data;

  g_atomic_int_set (&h->finished, TRUE);
}

static FsThread *
held_thread_new (Held *h)
{
  FsThread *thread = fs_thread_new ("held", hold, h, NULL);

  _fs_thread_set_finish_func (thread, note_finished, h, NULL);
  return thread;
}

static void
test_wait_finished (void)
{
  Held *h = held_new ();
  FsThread *thread = held_thread_new (h);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  int fds[2];

  /* Never started: nothing to wait for. */
  g_assert_cmpint (_fs_thread_wait_finished (thread, -1, NULL), ==, FS_WAIT_OK);

  g_assert_true (fs_thread_start (thread, NULL));
  fs_test_gate_wait (&h->started);

  /* From the thread itself: refused at once. */
  g_assert_cmpint (h->on_itself, ==, FS_WAIT_WOULD_DEADLOCK);

  /* Held: each way the wait can end early. */
  g_assert_cmpint (_fs_thread_wait_finished (thread, g_get_monotonic_time (), NULL), ==,
                   FS_WAIT_TIMED_OUT);
  g_assert_cmpint (_fs_thread_wait_finished (thread, _fs_wait_end_time (1000), NULL), ==,
                   FS_WAIT_TIMED_OUT);
  g_cancellable_cancel (cancelled);
  g_assert_cmpint (_fs_thread_wait_finished (thread, -1, cancelled), ==, FS_WAIT_CANCELLED);

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  g_assert_cmpint (fs_wait_set_interrupt_fd (fds[0]), ==, -1);
  g_assert_cmpint (_fs_thread_wait_finished (thread, -1, NULL), ==, FS_WAIT_INTERRUPTED);
  g_assert_cmpint (_fs_thread_join_until (thread, -1, NULL, &error), ==, FS_WAIT_INTERRUPTED);
  g_assert_no_error (error);
  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, fds[0]);
  close (fds[0]);
  close (fds[1]);
  g_assert_false (g_atomic_int_get (&h->finished));

  /* Released: the wait ends once the finish func has run, and reaps
   * nothing: the thread is not started again before a join. */
  fs_test_gate_open (&h->release);
  g_assert_cmpint (_fs_thread_wait_finished (thread, -1, NULL), ==, FS_WAIT_OK);
  g_assert_true (g_atomic_int_get (&h->finished));
  g_assert_false (fs_thread_is_alive (thread));
  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);

  /* Finished: at once, whatever the bound and the cancellable. */
  g_assert_cmpint (_fs_thread_wait_finished (thread, g_get_monotonic_time (), cancelled), ==,
                   FS_WAIT_OK);

  /* A deadline already passed still joins a finished run. */
  g_assert_cmpint (_fs_thread_join_until (thread, g_get_monotonic_time (), NULL, &error), ==,
                   FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (_fs_thread_wait_finished (thread, -1, NULL), ==, FS_WAIT_OK);

  g_object_unref (thread);
  held_free (h);
}

typedef struct
{
  FsThread     *thread;   /* borrowed */
  FsWaitStatus  status;
} Waiter;

static gpointer
waiter_main (gpointer data)
{
  Waiter *w = data;

  w->status = _fs_thread_wait_finished (w->thread, -1, NULL);
  return NULL;
}

/* The wait holds a reference: the caller's last one may go meanwhile. */
static void
test_wait_finished_holds_reference (void)
{
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  Held *h = held_new ();
  Waiter w = { NULL, FS_WAIT_FAILED };
  GThread *waiter;

  w.thread = held_thread_new (h);
  g_assert_true (fs_thread_start (w.thread, NULL));
  fs_test_gate_wait (&h->started);

  waiter = g_thread_new ("waiter", waiter_main, &w);
  /* The test's, the worker's and the wait's. */
  while (g_atomic_int_get ((gint *) &G_OBJECT (w.thread)->ref_count) != 3)
    {
      g_assert_cmpint (g_get_monotonic_time (), <=, give_up);
      g_thread_yield ();
    }
  g_object_unref (w.thread);

  fs_test_gate_open (&h->release);
  g_thread_join (waiter);
  g_assert_cmpint (w.status, ==, FS_WAIT_OK);
  g_assert_true (g_atomic_int_get (&h->finished));

  /* Whoever drops the last reference, the worker or the waiter, the OS
   * thread is released (a finished thread is reaped when finalized). */
  held_free (h);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/thread-private/wait-finished", test_wait_finished);
  g_test_add_func ("/thread-private/wait-finished-holds-reference", test_wait_finished_holds_reference);

  return g_test_run ();
}
