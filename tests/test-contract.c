/* test-contract.c: a wait's outcome and the work's failure never share a
 * channel; dropping a background generator never waits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include <fsthread.h>

#include "fs-test-util.h"

/* A gate a generator waits at, outside any yield and deaf to its
 * cancellable: the worst case for whoever waits for the producer. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean open;
  gboolean waiting;         /* the generator reached the gate */
  gboolean freed;           /* user_data_free ran */
  GThread *freed_on;
  GThread *producer;
  GQuark   fail_domain;
  gint     fail_code;
  const char *fail_message;
} Gate;

static Gate *
gate_new (void)
{
  Gate *gate = g_new0 (Gate, 1);

  g_mutex_init (&gate->mutex);
  g_cond_init (&gate->cond);
  return gate;
}

static void
gate_free (Gate *gate)
{
  g_mutex_clear (&gate->mutex);
  g_cond_clear (&gate->cond);
  g_free (gate);
}

static void
gate_open (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}

static void
gate_pass (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->producer = g_thread_self ();
  gate->waiting = TRUE;
  g_cond_broadcast (&gate->cond);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

static void
gate_wait_until_waiting (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  while (!gate->waiting)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

/* The user_data_free of the generators here: notes where it ran; the test
 * frees the gate. */
static void
gate_mark_freed (gpointer data)
{
  Gate *gate = data;

  g_mutex_lock (&gate->mutex);
  gate->freed = TRUE;
  gate->freed_on = g_thread_self ();
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}

static void
gate_wait_until_freed (Gate *gate)
{
  g_mutex_lock (&gate->mutex);
  while (!gate->freed)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

/* Yields 1, waits at the gate, yields 2, then fails with the gate's error
 * (or returns normally when it has none). */
static gboolean
one_gate_two_fail (FsGenerator  *generator,
                   gpointer      data,
                   GError      **error)
{
  Gate *gate = data;

  if (!fs_generator_yield (generator, GUINT_TO_POINTER (1), error))
    return FALSE;
  gate_pass (gate);
  if (!fs_generator_yield (generator, GUINT_TO_POINTER (2), error))
    return FALSE;
  if (gate->fail_message != NULL)
    {
      g_set_error_literal (error, gate->fail_domain, gate->fail_code, gate->fail_message);
      return FALSE;
    }
  return TRUE;
}

/* What 0.1 reported for its waits, as errors: a generator that fails with
 * exactly these is still told apart from the waits. */
static const struct {
  const char *name;
  const char *domain;
  gint        code;
  const char *message;
} lookalikes[] = {
  { "closed", "fs-error-quark", 6, "The background generator is closed" },
  { "timed-out", "fs-error-quark", 5, "Timed out waiting for the next item" },
  { "cancelled", "g-io-error-quark", G_IO_ERROR_CANCELLED, "Stopped waiting for the next item" },
  { "closed-by-consumer", "fs-error-quark", FS_ERROR_CLOSED, "The consumer closed the background generator" },
};

static void
test_failure_told_from_outcomes (gconstpointer data)
{
  guint which = GPOINTER_TO_UINT (data);
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Gate *gate = gate_new ();
  gpointer item = NULL;

  gate->fail_domain = g_quark_from_string (lookalikes[which].domain);
  gate->fail_code = lookalikes[which].code;
  gate->fail_message = lookalikes[which].message;
  bg = fs_background_generator_new (4, "lookalike", one_gate_two_fail, gate,
                                    gate_mark_freed, NULL);

  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, 1);

  /* The generator waits at the gate: the waits end, and say how, with no
   * error. */
  gate_wait_until_waiting (gate);
  g_assert_cmpint (fs_background_generator_next (bg, &item, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_cmpint (fs_background_generator_next (bg, &item, 2000, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_cancellable_cancel (cancelled);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, cancelled, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);

  gate_open (gate);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, 2);

  /* The failure, however much it looks like a wait's outcome, is the
   * failure: the only status with an error, the same every time. */
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_FAILED);
      g_assert_error (error, gate->fail_domain, gate->fail_code);
      /* As every thread's failure, prefixed with the thread's name. */
      g_assert_true (g_str_has_prefix (error->message, "Error in thread (lookalike): "));
      g_assert_cmpstr (error->message + strlen ("Error in thread (lookalike): "), ==, gate->fail_message);
      g_clear_error (&error);
    }
  g_assert_false (fs_background_generator_is_closed (bg));

  /* And a close is a close. */
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_CLOSED);
  g_assert_no_error (error);

  g_clear_object (&bg);
  gate_wait_until_freed (gate);
  gate_free (gate);
}

static void
test_end_is_not_an_error (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  Gate *gate = gate_new ();
  gpointer item;

  gate_open (gate);
  bg = fs_background_generator_new (1, NULL, one_gate_two_fail, gate, gate_mark_freed, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
      g_assert_no_error (error);
    }
  g_clear_object (&bg);
  gate_wait_until_freed (gate);
  gate_free (gate);
}

/* The last reference dropped while the producer is busy outside a yield:
 * the caller goes on at once, the producer finishes and frees on its own. */
static void
test_dispose_never_waits (void)
{
  FsBackgroundGenerator *bg;
  Gate *gate = gate_new ();
  gpointer item;

  bg = fs_background_generator_new (1, "busy", one_gate_two_fail, gate, gate_mark_freed, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, NULL), ==, FS_WAIT_OK);
  gate_wait_until_waiting (gate);

  /* Would hang here if dispose waited for the producer. */
  g_object_unref (bg);
  g_mutex_lock (&gate->mutex);
  g_assert_false (gate->freed);
  g_mutex_unlock (&gate->mutex);

  gate_open (gate);
  gate_wait_until_freed (gate);
  /* user_data_free ran on the producer, as documented. */
  g_assert_true (gate->freed_on == gate->producer);
  gate_free (gate);
}

static void
test_close_is_bounded (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Gate *gate = gate_new ();
  gpointer item;

  bg = fs_background_generator_new (1, "busy", one_gate_two_fail, gate, gate_mark_freed, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, NULL), ==, FS_WAIT_OK);
  gate_wait_until_waiting (gate);

  g_assert_cmpint (fs_background_generator_close (bg, 0, NULL), ==, FS_WAIT_TIMED_OUT);
  g_assert_true (fs_background_generator_is_closed (bg));
  g_assert_cmpint (fs_background_generator_close (bg, 5000, NULL), ==, FS_WAIT_TIMED_OUT);
  g_cancellable_cancel (cancellable);
  g_assert_cmpint (fs_background_generator_close (bg, -1, cancellable), ==, FS_WAIT_CANCELLED);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, NULL), ==, FS_WAIT_CLOSED);

  gate_open (gate);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_clear_object (&bg);
  gate_wait_until_freed (gate);
  gate_free (gate);
}

typedef struct
{
  FsBackgroundGenerator *bg;
  FsWaitStatus           status;
} ProducerClose;

static gboolean
close_own_stream (FsGenerator  *generator,
                  gpointer      data,
                  GError      **error)
{
  ProducerClose *pc = data;

  /* Waits until the consumer has published the object. */
  while (g_atomic_pointer_get (&pc->bg) == NULL)
    if (!fs_generator_yield (generator, NULL, error))
      return FALSE;
  g_atomic_int_set ((gint *) &pc->status,
                    fs_background_generator_close (g_atomic_pointer_get (&pc->bg), -1, NULL));
  return TRUE;
}

static void
test_close_on_producer_would_deadlock (void)
{
  FsBackgroundGenerator *bg;
  ProducerClose pc = { NULL, FS_WAIT_FAILED };
  FsWaitStatus status;
  gpointer item;

  bg = fs_background_generator_new (1, "self-close", close_own_stream, &pc, NULL, NULL);
  g_atomic_pointer_set (&pc.bg, bg);
  /* Drain until the producer's close ends the stream for us. */
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, NULL)) == FS_WAIT_OK)
    ;
  g_assert_cmpint (status, ==, FS_WAIT_CLOSED);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (g_atomic_int_get ((gint *) &pc.status), ==, FS_WAIT_WOULD_DEADLOCK);
  g_object_unref (bg);
}

static void
on_next (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  GAsyncResult **out = data;

  *out = g_object_ref (result);
}

static GAsyncResult *
next_async_result (FsBackgroundGenerator *bg)
{
  GAsyncResult *result = NULL;

  fs_background_generator_next_async (bg, NULL, on_next, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return result;
}

/* Made with g_object_new(), as GJS's `new Fs.BackgroundGenerator()` does:
 * an empty, ended stream, never a crash. */
static void
test_made_with_g_object_new (void)
{
  g_autoptr(FsBackgroundGenerator) bg = g_object_new (FS_TYPE_BACKGROUND_GENERATOR, NULL);
  g_autoptr(GAsyncResult) result = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  FsWaitStatus status = FS_WAIT_OK;
  gpointer item;

  g_assert_null (fs_background_generator_get_name (bg));
  g_assert_null (fs_background_generator_get_thread (bg));
  g_assert_cmpuint (fs_background_generator_get_prefetch (bg), ==, 1);
  g_assert_false (fs_background_generator_is_closed (bg));
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_END);
  g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
  g_assert_null (g_value_get_object (&value));
  result = next_async_result (bg);
  g_assert_null (fs_background_generator_next_finish_full (bg, result, &status, &error));
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_true (fs_background_generator_is_closed (bg));
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_CLOSED);
  g_assert_no_error (error);
}

static gboolean
count_values (FsGenerator  *generator,
              gpointer      data,
              GError      **error)
{
  guint n = GPOINTER_TO_UINT (data);

  for (guint i = 1; i <= n; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_UINT);
      g_value_set_uint (&value, i);
      if (!fs_generator_yield_value (generator, &value, error))
        return FALSE;
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The background generator is closed");
  return FALSE;
}

/* The finish gives the item itself, or NULL with the reason; the
 * generator's failure is the only error. */
static void
test_next_finish_shape (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(FsBackgroundGenerator) pointers = NULL;
  g_autoptr(GError) error = NULL;
  FsWaitStatus status;
  Gate *gate = gate_new ();

  bg = fs_background_generator_new_for_values (2, "values", count_values, GUINT_TO_POINTER (3), NULL);
  for (guint i = 1; i <= 3; i++)
    {
      g_autoptr(GAsyncResult) result = next_async_result (bg);
      GValue *value = fs_background_generator_next_finish_full (bg, result, &status, &error);

      g_assert_no_error (error);
      g_assert_cmpint (status, ==, FS_WAIT_OK);
      g_assert_nonnull (value);
      g_assert_cmpuint (g_value_get_uint (value), ==, i);
      g_value_unset (value);
      g_free (value);
    }
  {
    g_autoptr(GAsyncResult) result = next_async_result (bg);

    /* A GIO-cancelled lookalike from the generator is its failure. */
    g_assert_null (fs_background_generator_next_finish_full (bg, result, &status, &error));
    g_assert_cmpint (status, ==, FS_WAIT_FAILED);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  gate_open (gate);
  pointers = fs_background_generator_new (1, "pointers", one_gate_two_fail, gate, gate_mark_freed, NULL);
  for (guint i = 1; i <= 2; i++)
    {
      g_autoptr(GAsyncResult) result = next_async_result (pointers);
      /* What bindings call: the item, nothing else. */
      GValue *value = fs_background_generator_next_finish (pointers, result, &error);

      g_assert_no_error (error);
      g_assert_true (G_VALUE_HOLDS_POINTER (value));
      g_assert_cmpuint (GPOINTER_TO_UINT (g_value_get_pointer (value)), ==, i);
      g_free (value);
    }
  {
    g_autoptr(GAsyncResult) result = next_async_result (pointers);

    g_assert_null (fs_background_generator_next_finish_full (pointers, result, &status, &error));
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, FS_WAIT_END);
  }
  g_clear_object (&pointers);
  gate_wait_until_freed (gate);
  gate_free (gate);
}

typedef struct
{
  FsBackgroundGenerator *bg;     /* borrowed: the consumer holds none */
  GMutex                 mutex;
  GCond                  cond;
  gboolean               started;
  pid_t                  tid;
} Borrower;

/* Whether thread @tid of this process sleeps in the kernel (state S). */
static gboolean
thread_sleeps (pid_t tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/task/%d/stat", (int) tid);
  g_autofree char *stat = NULL;
  const char *end;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  /* "tid (name) S ...": the name may hold anything but ends at the last ')'. */
  end = strrchr (stat, ')');
  return end != NULL && end[1] == ' ' && end[2] == 'S';
}

static gpointer
consume_without_reference (gpointer data)
{
  Borrower *borrower = data;
  FsWaitStatus status;
  gpointer item;

  g_mutex_lock (&borrower->mutex);
  borrower->tid = (pid_t) syscall (SYS_gettid);
  borrower->started = TRUE;
  g_cond_signal (&borrower->cond);
  g_mutex_unlock (&borrower->mutex);

  status = fs_background_generator_next (borrower->bg, &item, -1, NULL, NULL);
  return GINT_TO_POINTER (status);
}

/* Blocks outside yield until the generator is told to stop. (Through a
 * handler, not a GCancellableSource, which GLib 2.74 may leak when the
 * cancellable fires on another thread as the source is destroyed.) */
static gboolean
wait_for_cancel (FsGenerator  *generator,
                 gpointer      data,
                 GError      **error)
{
  fs_test_wait_cancelled (fs_generator_get_cancellable (generator));
  return TRUE;
}

/* A consumer asleep in next() with no reference of its own, while another
 * thread drops the last one: it wakes with FS_WAIT_CLOSED and reads no
 * freed memory (AddressSanitizer and valgrind would say). */
static void
test_blocked_consumer_last_reference_elsewhere (void)
{
  Borrower borrower = { 0 };
  FsThread *producer;
  GThread *thread;

  g_mutex_init (&borrower.mutex);
  g_cond_init (&borrower.cond);
  borrower.bg = fs_background_generator_new (1, "idle", wait_for_cancel, NULL, NULL, NULL);
  thread = g_thread_new ("borrower", consume_without_reference, &borrower);
  g_mutex_lock (&borrower.mutex);
  while (!borrower.started)
    g_cond_wait (&borrower.cond, &borrower.mutex);
  g_mutex_unlock (&borrower.mutex);
  /* Until it sleeps inside next(): nothing else there can sleep, and the
   * stream has no item to give. */
  while (!thread_sleeps (borrower.tid))
    g_thread_yield ();

  producer = g_object_ref (fs_background_generator_get_thread (borrower.bg));
  g_object_unref (borrower.bg);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (thread)), ==, FS_WAIT_CLOSED);
  /* The producer finishes on its own: wait for it, so that nothing of it
   * outlives the test. */
  g_assert_cmpint (fs_thread_join (producer, -1, NULL, NULL), ==, FS_WAIT_OK);
  g_object_unref (producer);
  g_mutex_clear (&borrower.mutex);
  g_cond_clear (&borrower.cond);
}

/* A wait that the interrupt descriptor ends takes nothing: the item is
 * still there for the next call. */
static void
test_interrupted_takes_nothing (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  Gate *gate = gate_new ();
  gpointer item = NULL;
  char byte = 'x';
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  bg = fs_background_generator_new (1, "interrupted", one_gate_two_fail, gate, gate_mark_freed, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  gate_wait_until_waiting (gate);

  g_assert_cmpint (write (fds[1], &byte, 1), ==, 1);
  fs_wait_set_interrupt_fd (fds[0]);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_INTERRUPTED);
  g_assert_no_error (error);
  fs_wait_set_interrupt_fd (-1);

  gate_open (gate);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, 2);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);

  close (fds[0]);
  close (fds[1]);
  g_clear_object (&bg);
  gate_wait_until_freed (gate);
  gate_free (gate);
}

/* The file loader opens a path once, and what it opened is what it reads:
 * a link switched to a fifo between a check and the open cannot block it.
 * A thread switches the link back and forth while the loader reads it. */
typedef struct
{
  const char *link;
  const char *regular;
  const char *fifo;
  gint        stop;
} Switcher;

static gpointer
switch_link (gpointer data)
{
  Switcher *switcher = data;
  g_autofree char *tmp = g_strconcat (switcher->link, ".new", NULL);
  gboolean to_fifo = TRUE;

  while (!g_atomic_int_get (&switcher->stop))
    {
      g_unlink (tmp);
      g_assert_cmpint (symlink (to_fifo ? switcher->fifo : switcher->regular, tmp), ==, 0);
      g_assert_cmpint (g_rename (tmp, switcher->link), ==, 0);
      to_fifo = !to_fifo;
    }
  return NULL;
}

static void
test_file_loader_link_switched_to_fifo (void)
{
  g_autofree char *dir = g_dir_make_tmp ("fsthread-fifo-XXXXXX", NULL);
  g_autofree char *regular = g_build_filename (dir, "regular", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *link = g_build_filename (dir, "link", NULL);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  Switcher switcher = { link, regular, fifo, 0 };
  guint n_regular = 0, n_refused = 0;
  GThread *thread;
  GValue value = G_VALUE_INIT;
  FsWaitStatus status;

  g_assert_true (g_file_set_contents (regular, "contents", -1, NULL));
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_cmpint (symlink (fifo, link), ==, 0);

  for (guint i = 0; i < 2000; i++)
    g_ptr_array_add (files, g_file_new_for_path (link));

  thread = g_thread_new ("switcher", switch_link, &switcher);
  bg = fs_background_generator_new_for_files ((GFile * const *) files->pdata, files->len, 4);
  while ((status = fs_background_generator_next_value (bg, -1, NULL, &value, NULL)) == FS_WAIT_OK)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) contents = fs_loaded_file_get_contents (g_value_get_object (&value), &error);

      if (contents != NULL)
        {
          g_assert_cmpmem (g_bytes_get_data (contents, NULL), g_bytes_get_size (contents), "contents", 8);
          n_regular++;
        }
      else
        {
          g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE) ||
                         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND));
          n_refused++;
        }
      g_value_unset (&value);
    }
  g_value_unset (&value);
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_cmpuint (n_regular + n_refused, ==, files->len);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);

  g_atomic_int_set (&switcher.stop, 1);
  g_thread_join (thread);
  g_test_message ("%u read, %u refused", n_regular, n_refused);

  {
    g_autofree char *tmp = g_strconcat (link, ".new", NULL);

    g_unlink (tmp);
  }
  g_unlink (link);
  g_unlink (fifo);
  g_unlink (regular);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (lookalikes); i++)
    {
      g_autofree char *path = g_strdup_printf ("/contract/failure-told-from-outcomes/%s",
                                               lookalikes[i].name);

      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_failure_told_from_outcomes);
    }
  g_test_add_func ("/contract/end-is-not-an-error", test_end_is_not_an_error);
  g_test_add_func ("/contract/dispose-never-waits", test_dispose_never_waits);
  g_test_add_func ("/contract/close-is-bounded", test_close_is_bounded);
  g_test_add_func ("/contract/close-on-producer-would-deadlock", test_close_on_producer_would_deadlock);
  g_test_add_func ("/contract/made-with-g-object-new", test_made_with_g_object_new);
  g_test_add_func ("/contract/next-finish-shape", test_next_finish_shape);
  g_test_add_func ("/contract/blocked-consumer-last-reference-elsewhere",
                   test_blocked_consumer_last_reference_elsewhere);
  g_test_add_func ("/contract/interrupted-takes-nothing", test_interrupted_takes_nothing);
  g_test_add_func ("/file-loader/link-switched-to-fifo", test_file_loader_link_switched_to_fifo);

  return g_test_run ();
}
