/* test-breakages.c: each way the original module breaks, shown impossible
 *
 * One test per breakage listed in the reference notes on the original's
 * behaviour, named after it. Each would fail on the original's behaviour.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

typedef struct
{
  gint made;
  gint freed;
  gint user_data_freed;
} Tally;

static void
tally_item_free (gpointer item)
{
  Tally *t = item != NULL ? *(Tally **) item : NULL;

  if (t != NULL)
    g_atomic_int_inc (&t->freed);
  g_free (item);
}

/* Items are heap cells pointing at the tally, so frees can be counted. */
static gpointer
tally_item_new (Tally *t)
{
  Tally **cell = g_new (Tally *, 1);

  *cell = t;
  g_atomic_int_inc (&t->made);
  return cell;
}

static void
tally_user_data_free (gpointer data)
{
  Tally *t = data;

  g_atomic_int_inc (&t->user_data_freed);
}

static gboolean
infinite (FsGenerator  *gen,
          gpointer      data,
          GError      **error)
{
  Tally *t = data;

  for (;;)
    if (!fs_generator_yield (gen, tally_item_new (t), error))
      return FALSE;
}

/* 1. A consumer that stops early leaves the producer blocked forever. */
static void
test_early_exit_leaks_producer (void)
{
  guint before = fs_test_count_threads ();
  Tally t = { 0 };
  FsBackgroundGenerator *bg;
  gpointer item = NULL;

  for (guint round = 0; round < 100; round++)
    {
      bg = fs_background_generator_new (2, "early-exit", infinite, &t,
                                        tally_user_data_free, tally_item_free);
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, NULL), ==, FS_WAIT_OK);
      tally_item_free (item);

      /* Drop it mid-stream: the producer is woken and stopped, and its
       * thread goes away on its own (the unref does not wait for it). */
      g_object_unref (bg);
      /* Until the producer has let go of the tally (it frees its data as
       * it ends): an atomic read, which also orders its last write before
       * whatever uses this stack next. */
      while (g_atomic_int_get (&t.user_data_freed) < (gint) round + 1)
        g_thread_yield ();
      fs_test_assert_threads_settle (before);
    }

  /* Every item made was freed, and every generator's data released. */
  g_assert_cmpint (t.made, ==, t.freed);
  g_assert_cmpint (t.user_data_freed, ==, 100);
}

static gboolean
yield_sentinels (FsGenerator  *gen,
                 gpointer      data,
                 GError      **error)
{
  static const char *items[] = { NULL, "EOF", "", "after" };

  for (guint i = 0; i < G_N_ELEMENTS (items); i++)
    if (!fs_generator_yield (gen, (gpointer) items[i], error))
      return FALSE;
  return TRUE;
}

/* 2. In-band sentinels: None or "EOF" ended the original's stream. */
static void
test_in_band_sentinels (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  const char *expected[] = { NULL, "EOF", "", "after" };
  FsWaitStatus status;
  gpointer item;
  guint n = 0;

  bg = fs_background_generator_new (1, "sentinels", yield_sentinels, NULL, NULL, NULL);
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    {
      g_assert_cmpuint (n, <, G_N_ELEMENTS (expected));
      g_assert_cmpstr (item, ==, expected[n]);
      n++;
    }
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
}

typedef struct
{
  guint n_items;
} FailAfter;

static gboolean
yield_then_fail (FsGenerator  *gen,
                 gpointer      data,
                 GError      **error)
{
  FailAfter *f = data;

  for (guint i = 0; i < f->n_items; i++)
    if (!fs_generator_yield (gen, GUINT_TO_POINTER (i + 1), error))
      return FALSE;

  g_set_error (error, TEST_ERROR, 7, "failed after %u items", f->n_items);
  return FALSE;
}

/* 3. Items already queued were dropped when the generator raised. */
static void
test_items_lost_on_error (void)
{
  FailAfter f = { 5 };
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  FsWaitStatus status;
  gpointer item;
  guint n = 0;

  /* A prefetch larger than the item count: all five are queued before the
   * error is, and all five must still come out first. */
  bg = fs_background_generator_new (16, "lossy", yield_then_fail, &f, NULL, NULL);
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, ++n);

  g_assert_cmpint (status, ==, FS_WAIT_FAILED);
  g_assert_cmpuint (n, ==, 5);
  g_assert_error (error, TEST_ERROR, 7);
}

/* 4. The end marker was queued before the error was recorded: about one
 * run in a thousand ended "normally". */
static void
test_lost_error_race (void)
{
  FailAfter f = { 1 };

  for (guint round = 0; round < 2000; round++)
    {
      g_autoptr(FsBackgroundGenerator) bg = NULL;
      g_autoptr(GError) error = NULL;
      FsWaitStatus status;
      gpointer item;
      guint n = 0;

      bg = fs_background_generator_new (1 + round % 3, "race", yield_then_fail, &f, NULL, NULL);
      while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
        n++;

      g_assert_cmpint (status, ==, FS_WAIT_FAILED);
      g_assert_cmpuint (n, ==, 1);
      g_assert_error (error, TEST_ERROR, 7);
    }
}

static gboolean
fail_now (FsThread  *thread,
          gpointer   data,
          GError   **error)
{
  g_set_error_literal (error, TEST_ERROR, 5, "unrelated failure");
  return FALSE;
}

static gboolean
succeed (FsThread  *thread,
         gpointer   data,
         GError   **error)
{
  return TRUE;
}

static gboolean
yield_three (FsGenerator  *gen,
             gpointer      data,
             GError      **error)
{
  for (guint i = 0; i < 3; i++)
    if (!fs_generator_yield (gen, GUINT_TO_POINTER (i), error))
      return FALSE;
  return TRUE;
}

/* 5. One failure made every unrelated object in the process raise it. */
static void
test_sticky_global_errors (void)
{
  g_autoptr(FsThread) failing = NULL;
  g_autoptr(FsThread) other = NULL;
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) all = NULL;
  gboolean seen = FALSE;
  gpointer item;
  guint n = 0;

  failing = fs_thread_new ("failing", fail_now, NULL, NULL);
  g_assert_true (fs_thread_start (failing, NULL));
  g_assert_cmpint (fs_thread_join (failing, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 5);
  g_clear_error (&error);

  /* Unrelated objects, before and after the failure, do not raise it. */
  other = fs_thread_new ("other", succeed, NULL, NULL);
  g_assert_true (fs_thread_start (other, NULL));
  g_assert_cmpint (fs_thread_join (other, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_thread_check_and_raise_error (other, &error));

  group = fs_multi_thread_new ("others", 3, succeed, NULL, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_multi_thread_check_and_raise_error (group, &error));
  g_assert_false (fs_multi_thread_get_has_error (group));

  bg = fs_background_generator_new (1, "other-gen", yield_three, NULL, NULL, NULL);
  while (fs_background_generator_next (bg, &item, -1, NULL, &error) == FS_WAIT_OK)
    n++;
  g_assert_no_error (error);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 3);

  /* The process-wide state still saw it, for code that watches it all. */
  all = fs_error_state_dup_errors (fs_error_state_get_default ());
  for (guint i = 0; i < all->len; i++)
    seen |= g_error_matches (g_ptr_array_index (all, i), TEST_ERROR, 5);
  g_assert_true (seen);
}

typedef struct
{
  gint finished;
} Siblings;

static void
open_gate (GCancellable *cancellable,
           gpointer      data)
{
  fs_test_gate_open (data);
}

/* Thread 0 fails at once; the others block until the group's cancellable
 * fires, then finish (and count). */
static gboolean
one_fails_others_wait (FsThread  *thread,
                       gpointer   data,
                       GError   **error)
{
  Siblings *s = data;
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  FsTestGate gate;
  gulong handler;

  if (fs_thread_get_index (thread) == 0)
    {
      g_atomic_int_inc (&s->finished);
      g_set_error_literal (error, TEST_ERROR, 10, "first to fail");
      return FALSE;
    }

  fs_test_gate_init (&gate);
  handler = g_cancellable_connect (cancellable, G_CALLBACK (open_gate), &gate, NULL);
  fs_test_gate_wait (&gate);
  g_cancellable_disconnect (cancellable, handler);
  fs_test_gate_clear (&gate);

  g_atomic_int_inc (&s->finished);
  g_set_error (error, TEST_ERROR, 11, "thread %u stopped", fs_thread_get_index (thread));
  return FALSE;
}

/* 6. join() stopped at the first failed thread and never joined the rest. */
static void
test_join_stops_at_first_failure (void)
{
  guint before = fs_test_count_threads ();
  Siblings s = { 0 };
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;

  group = fs_multi_thread_new ("siblings", 4, one_fails_others_wait, &s, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);

  /* Every thread ran to its end and was joined... */
  g_assert_cmpint (s.finished, ==, 4);
  fs_test_assert_threads_settle (before);
  g_assert_true (fs_multi_thread_completed (group));

  /* ...the first error is raised, and the others are kept, in order. */
  g_assert_error (error, TEST_ERROR, 10);
  errors = fs_multi_thread_dup_errors (group);
  g_assert_cmpuint (errors->len, ==, 4);
  g_assert_true (g_error_matches (g_ptr_array_index (errors, 0), TEST_ERROR, 10));
  for (guint i = 1; i < errors->len; i++)
    g_assert_true (g_error_matches (g_ptr_array_index (errors, i), TEST_ERROR, 11));
}

static gboolean
fail_without_error (FsGenerator  *gen,
                    gpointer      data,
                    GError      **error)
{
  if (!fs_generator_yield (gen, GUINT_TO_POINTER (1), error))
    return FALSE;
  return FALSE;
}

/* 7. A generator that failed outside the caught kinds left the consumer
 * blocked forever with no message. In C the nearest case is a failure that
 * sets no error (as a binding's callback returns when it cannot run). */
static void
test_silent_failure_hangs_consumer (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item;

  bg = fs_background_generator_new (1, "silent", fail_without_error, NULL, NULL, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "silent"));
}

static gboolean
wait_for_gate (FsThread  *thread,
               gpointer   data,
               GError   **error)
{
  fs_test_gate_wait (data);
  return TRUE;
}

static gboolean
yield_after_gate (FsGenerator  *gen,
                  gpointer      data,
                  GError      **error)
{
  fs_test_gate_wait (data);
  return fs_generator_yield (gen, GUINT_TO_POINTER (1), error);
}

static gboolean
yield_value_after_gate (FsGenerator  *gen,
                        gpointer      data,
                        GError      **error)
{
  GValue value = G_VALUE_INIT;
  gboolean ok;

  fs_test_gate_wait (data);
  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 42);
  ok = fs_generator_yield_value (gen, &value, error);
  g_value_unset (&value);
  return ok;
}

static gboolean
yield_nothing (FsGenerator  *gen,
               gpointer      data,
               GError      **error)
{
  return TRUE;
}

/* 8. Joins had no timeout or cancellation (and neither had waits for the
 * next item). */
static void
test_join_cannot_be_bounded (void)
{
  FsTestGate gate;
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  fs_test_gate_init (&gate);
  group = fs_multi_thread_new ("bounded", 2, wait_for_gate, &gate, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));

  /* How the wait ended is a status, never an error of the work's. */
  g_assert_cmpint (fs_multi_thread_join (group, 1000, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);

  g_cancellable_cancel (cancellable);
  g_assert_cmpint (fs_multi_thread_join (group, -1, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);

  g_assert_true (fs_multi_thread_is_alive (group));

  fs_test_gate_open (&gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_multi_thread_completed (group));
  g_assert_cmpint (fs_multi_thread_join (group, 0, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  fs_test_gate_clear (&gate);
}

static void
test_next_cannot_be_bounded (void)
{
  FsTestGate gate;
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(FsBackgroundGenerator) values = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  gpointer item = NULL;

  fs_test_gate_init (&gate);
  bg = fs_background_generator_new (1, "held", yield_after_gate, &gate, NULL, NULL);

  /* The generator is held: the bounded waits end, with a status and no
   * error, and the stream goes on. */
  g_assert_cmpint (fs_background_generator_next (bg, &item, 1000, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_assert_null (item);

  fs_test_gate_open (&gate);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, 1);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  fs_test_gate_clear (&gate);

  /* The same for a stream of values, as bindings use it. */
  values = fs_background_generator_new_for_values (1, "values", yield_nothing, NULL, NULL);
  {
    FsWaitStatus status = fs_background_generator_next_value (values, 0, NULL, &value, &error);

    /* The producer may have returned already, or not. */
    g_assert_true (status == FS_WAIT_TIMED_OUT || status == FS_WAIT_END);
  }
  g_assert_no_error (error);
  g_value_unset (&value);
  g_assert_cmpint (fs_background_generator_next_value (values, -1, NULL, &value, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  /* At the end the value holds a NULL object, which bindings can read. */
  g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
  g_assert_null (g_value_get_object (&value));
  g_value_unset (&value);

  /* The call bindings use tells a timeout from the end by its status,
   * never by an error. */
  {
    g_autoptr(FsBackgroundGenerator) held = NULL;
    FsTestGate hold;

    fs_test_gate_init (&hold);
    held = fs_background_generator_new_for_values (1, "held-values", yield_value_after_gate, &hold, NULL);
    g_assert_cmpint (fs_background_generator_next_value (held, 1000, NULL, &value, &error), ==, FS_WAIT_TIMED_OUT);
    g_assert_no_error (error);
    g_value_unset (&value);

    fs_test_gate_open (&hold);
    g_assert_cmpint (fs_background_generator_next_value (held, -1, NULL, &value, &error), ==, FS_WAIT_OK);
    g_assert_no_error (error);
    g_assert_cmpint (g_value_get_int (&value), ==, 42);
    g_value_unset (&value);

    g_assert_cmpint (fs_background_generator_next_value (held, -1, NULL, &value, &error), ==, FS_WAIT_END);
    g_assert_no_error (error);
    g_value_unset (&value);
    g_assert_cmpint (fs_background_generator_close (held, -1, NULL), ==, FS_WAIT_OK);
    fs_test_gate_clear (&hold);
  }
}

#define N_SPLIT_ITEMS 10000

static gboolean
count_up (FsGenerator  *gen,
          gpointer      data,
          GError      **error)
{
  for (guint i = 1; i <= N_SPLIT_ITEMS; i++)
    if (!fs_generator_yield (gen, GUINT_TO_POINTER (i), error))
      return FALSE;
  return TRUE;
}

typedef struct
{
  FsBackgroundGenerator *bg;
  guint64                sum;
  guint                  count;
  gboolean               saw_end;
} Consumer;

static gpointer
consume_all (gpointer data)
{
  Consumer *c = data;
  g_autoptr(GError) error = NULL;
  FsWaitStatus status;
  gpointer item;

  while ((status = fs_background_generator_next (c->bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    {
      c->sum += GPOINTER_TO_UINT (item);
      c->count++;
    }
  g_assert_no_error (error);
  c->saw_end = status == FS_WAIT_END;
  return NULL;
}

/* 9. Two consumers split the items, and once one saw the end the other
 * blocked forever. */
static void
test_two_consumers_hang (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  Consumer consumers[2] = { { 0 } };
  GThread *threads[2];
  guint64 sum = 0;
  guint count = 0;

  bg = fs_background_generator_new (4, "shared", count_up, NULL, NULL, NULL);
  for (guint i = 0; i < 2; i++)
    {
      consumers[i].bg = bg;
      threads[i] = g_thread_new ("consumer", consume_all, &consumers[i]);
    }
  for (guint i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (consumers[i].saw_end);
      sum += consumers[i].sum;
      count += consumers[i].count;
    }

  /* Each item went to exactly one consumer. */
  g_assert_cmpuint (count, ==, N_SPLIT_ITEMS);
  g_assert_cmpuint (sum, ==, (guint64) N_SPLIT_ITEMS * (N_SPLIT_ITEMS + 1) / 2);
}

typedef struct
{
  gint stopped_early;
} Workers;

static gboolean
work_until_cancelled (FsThread  *thread,
                      gpointer   data,
                      GError   **error)
{
  Workers *w = data;
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  FsTestGate gate;
  gulong handler;

  if (fs_thread_get_index (thread) == 2)
    {
      g_set_error_literal (error, TEST_ERROR, 3, "worker 2 failed");
      return FALSE;
    }

  /* Without fail-fast this wait would never end. */
  fs_test_gate_init (&gate);
  handler = g_cancellable_connect (cancellable, G_CALLBACK (open_gate), &gate, NULL);
  fs_test_gate_wait (&gate);
  g_cancellable_disconnect (cancellable, handler);
  fs_test_gate_clear (&gate);

  g_atomic_int_inc (&w->stopped_early);
  return TRUE;
}

/* 10. No way to ask workers to stop: producers polled a global flag. */
static void
test_no_way_to_stop_workers (void)
{
  Workers w = { 0 };
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;

  group = fs_multi_thread_new ("fail-fast", 4, work_until_cancelled, &w, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 3);
  g_assert_cmpint (w.stopped_early, ==, 3);
  g_assert_true (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/breakage/1-early-exit-leaks-producer", test_early_exit_leaks_producer);
  g_test_add_func ("/breakage/2-in-band-sentinels", test_in_band_sentinels);
  g_test_add_func ("/breakage/3-items-lost-on-error", test_items_lost_on_error);
  g_test_add_func ("/breakage/4-lost-error-race", test_lost_error_race);
  g_test_add_func ("/breakage/5-sticky-global-errors", test_sticky_global_errors);
  g_test_add_func ("/breakage/6-join-stops-at-first-failure", test_join_stops_at_first_failure);
  g_test_add_func ("/breakage/7-silent-failure-hangs-consumer", test_silent_failure_hangs_consumer);
  g_test_add_func ("/breakage/8-join-cannot-be-bounded", test_join_cannot_be_bounded);
  g_test_add_func ("/breakage/8-next-cannot-be-bounded", test_next_cannot_be_bounded);
  g_test_add_func ("/breakage/9-two-consumers-hang", test_two_consumers_hang);
  g_test_add_func ("/breakage/10-no-way-to-stop-workers", test_no_way_to_stop_workers);

  return g_test_run ();
}
