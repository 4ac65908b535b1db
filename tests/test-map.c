/* test-map.c: the parallel, ordered, bounded map
 *
 * Every test counts: items made by the source (`made`), items the map
 * freed after mapping them or unmapped (`items_freed`), results made by the
 * function (`results_made`), results the map freed (`results_freed`) and
 * results the consumer took (`taken`). At the end, whatever happened:
 *
 *   made == items_freed          (every item taken is freed exactly once,
 *                                 those left in the source by its close)
 *   results_made == taken + results_freed
 *
 * and the process has as many threads as before the map was made.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-map-error"))
#define INFINITE G_MAXUINT

typedef struct
{
  /* The plan. */
  guint         n_items;        /* INFINITE: until closed */
  guint         fail_at;        /* the function fails on this item; G_MAXUINT: never */
  guint         source_fail_at; /* the source fails instead of making this one */
  gboolean      false_no_error; /* the failure is FALSE without an error */
  guint         slow_every;     /* every Nth item takes a while (reordering) */

  /* The counts. */
  gint          made;
  gint          items_freed;
  gint          results_made;
  gint          results_freed;
  gint          taken;
  gint          started;        /* calls of the function */
  gint          max_ahead;      /* the most items started ahead of `taken` */
  gint          user_data_freed;
  gint          in_func;        /* calls under way now */
  gint          max_in_func;

  FsTestGate    user_data_gone;
} Plan;

typedef struct
{
  Plan  *plan;
  guint  index;
} Item;

typedef struct
{
  Plan  *plan;
  guint  index;
  guint  value;
} Result;

static Plan *
plan_new (guint n_items)
{
  Plan *plan = g_new0 (Plan, 1);

  plan->n_items = n_items;
  plan->fail_at = G_MAXUINT;
  plan->source_fail_at = G_MAXUINT;
  fs_test_gate_init (&plan->user_data_gone);
  return plan;
}

static void
plan_free (Plan *plan)
{
  fs_test_gate_clear (&plan->user_data_gone);
  g_free (plan);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Plan, plan_free)

static void
item_free (gpointer data)
{
  Item *item = data;

  g_atomic_int_inc (&item->plan->items_freed);
  g_free (item);
}

static void
result_free (gpointer data)
{
  Result *result = data;

  g_atomic_int_inc (&result->plan->results_freed);
  g_free (result);
}

static void
user_data_free (gpointer data)
{
  Plan *plan = data;

  g_atomic_int_inc (&plan->user_data_freed);
  fs_test_gate_open (&plan->user_data_gone);
}

/* The source: yields n_items counted items, one at a time. */
static gboolean
make_items (FsGenerator  *generator,
            gpointer      data,
            GError      **error)
{
  Plan *plan = data;

  for (guint i = 0; plan->n_items == INFINITE || i < plan->n_items; i++)
    {
      Item *item;

      if (i == plan->source_fail_at)
        {
          g_set_error (error, TEST_ERROR, 7, "the source failed at %u", i);
          return FALSE;
        }
      item = g_new0 (Item, 1);
      item->plan = plan;
      item->index = i;
      g_atomic_int_inc (&plan->made);
      if (!fs_generator_yield (generator, item, error))
        return FALSE;
    }
  return TRUE;
}

static FsBackgroundGenerator *
source_new (Plan *plan)
{
  /* Prefetch 1: the source makes one item ahead of the map. */
  return fs_background_generator_new (1, "source", make_items, plan, NULL, item_free);
}

/* Burns a little CPU, so that items overlap and finish out of order. */
static guint
work (guint index,
      guint amount)
{
  guint x = index + 1;

  for (guint i = 0; i < amount; i++)
    x = x * 1103515245u + 12345u;
  return x;
}

static gint work_sink;

static void
note_max (gint *max,
          gint  value)
{
  gint old;

  do
    old = g_atomic_int_get (max);
  while (value > old && !g_atomic_int_compare_and_exchange (max, old, value));
}

static gboolean
square (gpointer   data,
        gpointer  *out,
        gpointer   user_data,
        GError   **error)
{
  Item *item = data;
  Plan *plan = user_data;
  Result *result;
  gint started = g_atomic_int_add (&plan->started, 1) + 1;
  gint now = g_atomic_int_add (&plan->in_func, 1) + 1;

  g_assert_true (item->plan == plan);
  note_max (&plan->max_ahead, started - g_atomic_int_get (&plan->taken));
  note_max (&plan->max_in_func, now);

  if (plan->slow_every > 0 && item->index % plan->slow_every == 0)
    g_atomic_int_add (&work_sink, (gint) work (item->index, 200000));

  g_atomic_int_add (&plan->in_func, -1);

  if (item->index == plan->fail_at)
    {
      if (!plan->false_no_error)
        g_set_error (error, TEST_ERROR, 3, "item %u failed", item->index);
      return FALSE;
    }

  result = g_new0 (Result, 1);
  result->plan = plan;
  result->index = item->index;
  result->value = item->index * item->index;
  g_atomic_int_inc (&plan->results_made);
  *out = result;
  return TRUE;
}

/* Takes one result, which must be item @index's. */
static void
take_expect (FsBackgroundGenerator *map,
             Plan                  *plan,
             guint                  index)
{
  g_autoptr(GError) error = NULL;
  gpointer out = NULL;
  Result *result;

  g_assert_cmpint (fs_background_generator_next (map, &out, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  result = out;
  g_atomic_int_inc (&plan->taken);
  g_assert_cmpuint (result->index, ==, index);
  g_assert_cmpuint (result->value, ==, index * index);
  g_free (result);
}

static void
assert_counts (Plan *plan)
{
  g_assert_cmpint (plan->made, ==, plan->items_freed);
  g_assert_cmpint (plan->results_made, ==, plan->taken + plan->results_freed);
  g_assert_cmpint (plan->user_data_freed, ==, 1);
}

/* Closes and drops @map and the source, and checks every count. */
static void
finish (FsBackgroundGenerator *map,
        FsBackgroundGenerator *source,
        Plan                  *plan,
        guint                  threads_before)
{
  g_assert_cmpint (fs_background_generator_close (map, -1, NULL), ==, FS_WAIT_OK);
  g_object_unref (map);
  /* The map closed the source once its workers were done; this only
   * waits for the source's producer. */
  if (source != NULL)
    {
      g_assert_true (fs_background_generator_is_closed (source));
      g_assert_cmpint (fs_background_generator_close (source, -1, NULL), ==, FS_WAIT_OK);
      g_object_unref (source);
    }
  fs_test_gate_wait (&plan->user_data_gone);
  assert_counts (plan);
  fs_test_assert_threads_settle (threads_before);
}

/* ------------------------------------------------------------------ */

static void
test_ordered (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (2000);
  FsBackgroundGenerator *source, *map;
  g_autoptr(GError) error = NULL;

  plan->slow_every = 7;
  source = source_new (plan);
  map = fs_background_generator_map (source, 4, 8, FS_MAP_NONE, square,
                                         plan, user_data_free, result_free);
  g_assert_cmpuint (fs_background_generator_get_prefetch (map), ==, 8);

  for (guint i = 0; i < plan->n_items; i++)
    take_expect (map, plan, i);
  g_assert_cmpint (fs_background_generator_next (map, NULL, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpint (fs_background_generator_next (map, NULL, 0, NULL, &error), ==, FS_WAIT_END);

  g_assert_cmpint (plan->made, ==, 2000);
  g_assert_cmpint (plan->results_made, ==, 2000);
  g_assert_cmpint (plan->taken, ==, 2000);
  /* How many workers ran the function at once depends on the scheduler
   * (one at a time under a sanitizer on a busy machine): reported, not
   * asserted. */
  g_test_message ("at most %d items in the function at once", g_atomic_int_get (&plan->max_in_func));
  finish (map, source, plan, before);
}

static void
test_unordered (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (1000);
  g_autofree gboolean *seen = g_new0 (gboolean, 1000);
  FsBackgroundGenerator *source, *map;
  gpointer out;
  FsWaitStatus status;

  plan->slow_every = 5;
  source = source_new (plan);
  map = fs_background_generator_map (source, 3, 4, FS_MAP_UNORDERED, square,
                                         plan, user_data_free, result_free);

  while ((status = fs_background_generator_next (map, &out, -1, NULL, NULL)) == FS_WAIT_OK)
    {
      Result *result = out;

      g_atomic_int_inc (&plan->taken);
      g_assert_cmpuint (result->index, <, 1000);
      g_assert_false (seen[result->index]);
      seen[result->index] = TRUE;
      g_free (result);
    }
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_cmpint (plan->taken, ==, 1000);
  finish (map, source, plan, before);
}

/* With the consumer stopped, the map takes no more than prefetch + one
 * item per worker ahead of it, from an infinite source. */
static void
test_bounded (void)
{
  const guint n_threads = 3, prefetch = 5;
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (INFINITE);
  FsBackgroundGenerator *source, *map;

  source = source_new (plan);
  map = fs_background_generator_map (source, n_threads, prefetch, FS_MAP_NONE,
                                         square, plan, user_data_free, result_free);

  for (guint round = 0; round < 50; round++)
    {
      for (guint i = 0; i < 20; i++)
        take_expect (map, plan, round * 20 + i);
      /* Whatever the interleaving, an item is started only with fewer than
       * prefetch + n_threads ahead of the results taken, and a result is
       * counted as taken just after it left the map (one at most not yet). */
      g_assert_cmpint (g_atomic_int_get (&plan->max_ahead), <=, prefetch + n_threads + 1);
    }

  /* Stopped: wait (bounded) for the map to fill up, then check it stays
   * within the bound. */
  {
    gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

    while (g_atomic_int_get (&plan->started) - plan->taken < (gint) prefetch &&
           g_get_monotonic_time () < give_up)
      g_thread_yield ();
  }
  g_assert_cmpint (g_atomic_int_get (&plan->started) - plan->taken, <=, prefetch + n_threads);
  /* The source made the mapped items plus at most what its own prefetch
   * and the one item it makes allow. */
  g_assert_cmpint (g_atomic_int_get (&plan->made) - plan->taken, <=, prefetch + n_threads + 2);

  finish (map, source, plan, before);
}

static void
check_failure (FsMapFlags flags,
               gboolean   false_no_error,
               gboolean   in_source)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (INFINITE);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *source, *map;
  const guint fail_at = 300;
  guint n_ok = 0;
  gpointer out;
  FsWaitStatus status;

  if (in_source)
    plan->source_fail_at = fail_at;
  else
    plan->fail_at = fail_at;
  plan->false_no_error = false_no_error;
  plan->slow_every = 11;
  source = source_new (plan);
  map = fs_background_generator_map (source, 4, 6, flags, square,
                                         plan, user_data_free, result_free);

  while ((status = fs_background_generator_next (map, &out, -1, NULL, &error)) == FS_WAIT_OK)
    {
      Result *result = out;

      g_atomic_int_inc (&plan->taken);
      if ((flags & FS_MAP_UNORDERED) == 0)
        g_assert_cmpuint (result->index, ==, n_ok);
      g_assert_cmpuint (result->index, !=, fail_at);
      n_ok++;
      g_free (result);
    }

  g_assert_cmpint (status, ==, FS_WAIT_FAILED);
  if (in_source)
    g_assert_error (error, TEST_ERROR, 7);
  else if (false_no_error)
    g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
  else
    {
      g_assert_error (error, TEST_ERROR, 3);
      g_assert_cmpstr (error->message, ==, "Error in thread (map): item 300 failed");
    }
  /* In order, every result before the failure came first, and nothing
   * after it. */
  if ((flags & FS_MAP_UNORDERED) == 0)
    g_assert_cmpuint (n_ok, ==, fail_at);
  else
    /* In no order, what finished before the failure came first: results
     * of items made before it stopped the source, the failed one aside. */
    g_assert_cmpuint (n_ok, <, (guint) plan->made);

  /* The stream stays failed. */
  g_clear_error (&error);
  g_assert_cmpint (fs_background_generator_next (map, &out, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_nonnull (error);

  /* Fail fast: the infinite source stopped being read. */
  g_assert_cmpint (plan->made, <=, fail_at + 4 + 6 + 2);
  finish (map, source, plan, before);
}

static void
test_failure_ordered (void)
{
  check_failure (FS_MAP_NONE, FALSE, FALSE);
}

static void
test_failure_unordered (void)
{
  check_failure (FS_MAP_UNORDERED, FALSE, FALSE);
}

static void
test_failure_without_error (void)
{
  check_failure (FS_MAP_NONE, TRUE, FALSE);
}

static void
test_source_failure (void)
{
  check_failure (FS_MAP_NONE, FALSE, TRUE);
}

static void
test_close_midway (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (INFINITE);
  FsBackgroundGenerator *source, *map;

  plan->slow_every = 3;
  source = source_new (plan);
  map = fs_background_generator_map (source, 4, 16, FS_MAP_NONE, square,
                                         plan, user_data_free, result_free);
  for (guint i = 0; i < 100; i++)
    take_expect (map, plan, i);

  g_assert_cmpint (fs_background_generator_close (map, -1, NULL), ==, FS_WAIT_OK);
  g_assert_true (fs_background_generator_is_closed (map));
  g_assert_cmpint (fs_background_generator_next (map, NULL, -1, NULL, NULL), ==, FS_WAIT_CLOSED);
  /* Closing joined the workers: nothing runs the function any more. */
  g_assert_cmpint (g_atomic_int_get (&plan->in_func), ==, 0);
  finish (map, source, plan, before);
}

/* Dropping the last reference never waits, and still stops and frees
 * everything: the driver does it on its own thread. */
static void
test_drop (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (INFINITE);
  FsBackgroundGenerator *source, *map;
  FsThread *driver;

  source = source_new (plan);
  map = fs_background_generator_map (source, 2, 4, FS_MAP_NONE, square,
                                         plan, user_data_free, result_free);
  g_object_unref (source);
  for (guint i = 0; i < 10; i++)
    take_expect (map, plan, i);

  driver = g_object_ref (fs_background_generator_get_thread (map));
  g_object_unref (map);

  g_assert_cmpint (fs_thread_join (driver, -1, NULL, NULL), ==, FS_WAIT_OK);
  g_object_unref (driver);
  fs_test_gate_wait (&plan->user_data_gone);
  /* The source's producer may still be returning from its last yield:
   * the counts settle with the threads. */
  fs_test_assert_threads_settle (before);
  assert_counts (plan);
}

static void
test_threads (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (INFINITE);
  FsBackgroundGenerator *source, *map;

  source = source_new (plan);
  map = fs_background_generator_map (source, 0, 0, FS_MAP_NONE, square,
                                         plan, user_data_free, result_free);
  take_expect (map, plan, 0);
  /* The source's producer, the map's driver, one worker per CPU (the
   * last may still be starting). */
  fs_test_assert_threads_settle (before + 2 + fs_total_cpus ());
  g_assert_cmpuint (fs_background_generator_get_prefetch (map), ==, 2 * fs_total_cpus ());
  g_assert_cmpstr (fs_background_generator_get_name (map), ==, "map");
  finish (map, source, plan, before);
}

static void
test_empty (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (0);
  FsBackgroundGenerator *source, *map;

  source = source_new (plan);
  map = fs_background_generator_map (source, 2, 2, FS_MAP_NONE, square,
                                         plan, user_data_free, result_free);
  g_assert_cmpint (fs_background_generator_next (map, NULL, -1, NULL, NULL), ==, FS_WAIT_END);
  finish (map, source, plan, before);
}

/* ------------------------------------------------------------------ */
/* From a main loop                                                    */

typedef struct
{
  Plan         *plan;
  GMainLoop    *loop;
  guint         next;
  FsWaitStatus  last;
} AsyncRun;

static void
on_next (GObject      *object,
         GAsyncResult *res,
         gpointer      data)
{
  FsBackgroundGenerator *map = FS_BACKGROUND_GENERATOR (object);
  AsyncRun *run = data;
  g_autoptr(GError) error = NULL;
  GValue *value;

  value = fs_background_generator_next_finish_full (map, res, &run->last, &error);
  g_assert_no_error (error);
  if (value == NULL)
    {
      g_main_loop_quit (run->loop);
      return;
    }

  {
    Result *result = g_value_get_pointer (value);

    g_atomic_int_inc (&run->plan->taken);
    g_assert_cmpuint (result->index, ==, run->next);
    run->next++;
    g_free (result);
    g_free (value);
  }
  fs_background_generator_next_async (map, NULL, on_next, run);
}

static void
test_async (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (500);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  FsBackgroundGenerator *source, *map;
  AsyncRun run = { plan, loop, 0, FS_WAIT_OK };

  plan->slow_every = 9;
  source = source_new (plan);
  map = fs_background_generator_map (source, 3, 4, FS_MAP_NONE, square,
                                         plan, user_data_free, result_free);
  fs_background_generator_next_async (map, NULL, on_next, &run);
  g_main_loop_run (loop);

  g_assert_cmpint (run.last, ==, FS_WAIT_END);
  g_assert_cmpuint (run.next, ==, 500);
  finish (map, source, plan, before);
}

/* ------------------------------------------------------------------ */
/* Values: the form bindings use                                       */

static gint values_user_data_freed;

static void
count_values_user_data (gpointer data)
{
  g_atomic_int_inc (&values_user_data_freed);
}

static gboolean
yield_strings (FsGenerator  *generator,
               gpointer      data,
               GError      **error)
{
  guint n = GPOINTER_TO_UINT (data);

  for (guint i = 0; i < n; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_take_string (&value, g_strdup_printf ("item %u", i));
      if (!fs_generator_yield_value (generator, &value, error))
        return FALSE;
    }
  return TRUE;
}

/* Upper-cases strings; ints become their double; the item at index 13
 * gets no result at all; an item "fail" fails. */
static gboolean
value_func (const GValue  *item,
            FsMapResult   *result,
            gpointer       user_data,
            GError       **error)
{
  g_auto(GValue) out = G_VALUE_INIT;

  if (fs_map_result_get_index (result) == 13)
    return TRUE;

  if (G_VALUE_HOLDS_STRING (item))
    {
      if (g_strcmp0 (g_value_get_string (item), "fail") == 0)
        {
          g_set_error_literal (error, TEST_ERROR, 5, "fail");
          return FALSE;
        }
      g_value_init (&out, G_TYPE_STRING);
      g_value_take_string (&out, g_ascii_strup (g_value_get_string (item), -1));
    }
  else
    {
      g_value_init (&out, G_TYPE_INT);
      g_value_set_int (&out, 2 * g_value_get_int (item));
    }
  /* Setting twice replaces. */
  fs_map_result_set_value (result, &out);
  fs_map_result_set_value (result, &out);
  return TRUE;
}

static void
test_values (void)
{
  guint before = fs_test_count_threads ();
  FsBackgroundGenerator *source, *map;
  g_autoptr(GError) error = NULL;

  g_atomic_int_set (&values_user_data_freed, 0);
  source = fs_background_generator_new_for_values (1, "strings", yield_strings,
                                                   GUINT_TO_POINTER (100), NULL);
  map = fs_background_generator_map_values (source, 3, 4, FS_MAP_NONE, value_func,
                                                    NULL, count_values_user_data);
  g_object_unref (source);

  for (guint i = 0; i < 100; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_assert_cmpint (fs_background_generator_next_value (map, -1, NULL, &value, &error), ==, FS_WAIT_OK);
      if (i == 13)
        {
          g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
          g_assert_null (g_value_get_object (&value));
        }
      else
        {
          g_autofree char *expected = g_strdup_printf ("ITEM %u", i);

          g_assert_cmpstr (g_value_get_string (&value), ==, expected);
        }
    }
  {
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_cmpint (fs_background_generator_next_value (map, -1, NULL, &value, &error), ==, FS_WAIT_END);
  }
  g_assert_cmpint (fs_background_generator_close (map, -1, NULL), ==, FS_WAIT_OK);
  g_object_unref (map);
  fs_test_assert_threads_settle (before);
  g_assert_cmpint (g_atomic_int_get (&values_user_data_freed), ==, 1);
}

static void
test_array (void)
{
  guint before = fs_test_count_threads ();
  GValue values[40] = { G_VALUE_INIT, };
  FsBackgroundGenerator *map;
  g_autoptr(GError) error = NULL;
  guint n = 0;

  g_atomic_int_set (&values_user_data_freed, 0);
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      if (i == 30)
        {
          g_value_init (&values[i], G_TYPE_STRING);
          g_value_set_string (&values[i], "fail");
        }
      else
        {
          g_value_init (&values[i], G_TYPE_INT);
          g_value_set_int (&values[i], (gint) i);
        }
    }
  map = fs_background_generator_new_map_for_array (values, G_N_ELEMENTS (values), 2, 2,
                                                   FS_MAP_NONE, value_func,
                                                   NULL, count_values_user_data);
  /* The array was copied. */
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_value_unset (&values[i]);
  /* No producer thread in front of the workers: the driver and two. */
  fs_test_assert_threads_settle (before + 1 + 2);

  for (;;)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      FsWaitStatus status = fs_background_generator_next_value (map, -1, NULL, &value, &error);

      if (status != FS_WAIT_OK)
        {
          g_assert_cmpint (status, ==, FS_WAIT_FAILED);
          g_assert_error (error, TEST_ERROR, 5);
          break;
        }
      if (n != 13)
        g_assert_cmpint (g_value_get_int (&value), ==, 2 * (gint) n);
      n++;
    }
  g_assert_cmpuint (n, ==, 30);
  g_assert_cmpint (fs_background_generator_close (map, -1, NULL), ==, FS_WAIT_OK);
  g_object_unref (map);
  fs_test_assert_threads_settle (before);
  g_assert_cmpint (g_atomic_int_get (&values_user_data_freed), ==, 1);

  /* An empty array is an empty stream. */
  map = fs_background_generator_new_map_for_array (NULL, 0, 2, 2, FS_MAP_NONE, value_func, NULL, NULL);
  {
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_cmpint (fs_background_generator_next_value (map, -1, NULL, &value, NULL), ==, FS_WAIT_END);
  }
  g_object_unref (map);
  /* Its driver and workers end on their own: the next test must not count
   * them among the threads it starts with. */
  fs_test_assert_threads_settle (before);
}

/* A value function fed by a stream of pointers sees G_TYPE_POINTER
 * values; the map still frees each item with the source's function. */
static gboolean
pointer_value_func (const GValue  *item,
                    FsMapResult   *result,
                    gpointer       user_data,
                    GError       **error)
{
  g_auto(GValue) out = G_VALUE_INIT;
  Item *it;

  g_assert_true (G_VALUE_HOLDS_POINTER (item));
  it = g_value_get_pointer (item);
  g_assert_cmpuint (it->index, ==, fs_map_result_get_index (result));
  g_value_init (&out, G_TYPE_UINT);
  g_value_set_uint (&out, it->index);
  fs_map_result_set_value (result, &out);
  return TRUE;
}

static void
test_values_from_pointers (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(Plan) plan = plan_new (200);
  FsBackgroundGenerator *source, *map;

  source = source_new (plan);
  map = fs_background_generator_map_values (source, 2, 3, FS_MAP_NONE,
                                                    pointer_value_func, plan, user_data_free);
  for (guint i = 0; i < 200; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_assert_cmpint (fs_background_generator_next_value (map, -1, NULL, &value, NULL), ==, FS_WAIT_OK);
      g_assert_cmpuint (g_value_get_uint (&value), ==, i);
    }
  finish (map, source, plan, before);
}

/* Setting a result outside of the call is a programmer's error. */
static FsMapResult *kept_result;

static gboolean
keep_result (const GValue  *item,
             FsMapResult   *result,
             gpointer       user_data,
             GError       **error)
{
  if (kept_result == NULL)
    kept_result = g_object_ref (result);
  return TRUE;
}

static void
test_result_outside_call (void)
{
  if (g_test_subprocess ())
    {
      GValue values[1] = { G_VALUE_INIT };
      g_auto(GValue) out = G_VALUE_INIT;
      FsBackgroundGenerator *map;

      g_value_init (&values[0], G_TYPE_INT);
      map = fs_background_generator_new_map_for_array (values, 1, 1, 1, FS_MAP_NONE,
                                                       keep_result, NULL, NULL);
      g_assert_cmpint (fs_background_generator_next_value (map, -1, NULL, &out, NULL), ==, FS_WAIT_OK);
      g_object_unref (map);
      fs_map_result_set_value (kept_result, &values[0]);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*armed*");
}

/* ------------------------------------------------------------------ */
/* The parallel file loader                                            */

static void
test_files_parallel (void)
{
  guint before = fs_test_count_threads ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-map-XXXXXX", &error);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_object_unref);
  FsBackgroundGenerator *loader;
  const guint n = 60;

  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%02u", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = g_strnfill (i * 1000, (char) ('a' + i % 26));

      /* File 17 does not exist: its item carries the error, in place. */
      if (i != 17)
        g_assert_true (g_file_set_contents (path, contents, -1, NULL));
      g_ptr_array_add (files, g_file_new_for_path (path));
    }

  loader = fs_background_generator_new_for_files_parallel ((GFile * const *) files->pdata,
                                                          files->len, 4, 4);
  g_assert_cmpstr (fs_background_generator_get_name (loader), ==, "file-loader");
  for (guint i = 0; i < n; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) read_error = NULL;
      FsLoadedFile *loaded;

      g_assert_cmpint (fs_background_generator_next_value (loader, -1, NULL, &value, &error), ==, FS_WAIT_OK);
      loaded = g_value_get_object (&value);
      g_assert_true (g_file_equal (fs_loaded_file_get_file (loaded), files->pdata[i]));
      bytes = fs_loaded_file_get_contents (loaded, &read_error);
      if (i == 17)
        {
          g_assert_error (read_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
          continue;
        }
      g_assert_no_error (read_error);
      g_assert_cmpuint (g_bytes_get_size (bytes), ==, i * 1000);
      if (i > 0)
        g_assert_cmpint (((const char *) g_bytes_get_data (bytes, NULL))[i * 1000 - 1], ==, 'a' + i % 26);
    }
  {
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_cmpint (fs_background_generator_next_value (loader, -1, NULL, &value, NULL), ==, FS_WAIT_END);
  }
  g_assert_cmpint (fs_background_generator_close (loader, -1, NULL), ==, FS_WAIT_OK);
  g_object_unref (loader);
  fs_test_assert_threads_settle (before);

  for (guint i = 0; i < n; i++)
    g_file_delete (files->pdata[i], NULL, NULL);
  g_ptr_array_unref (files);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* ------------------------------------------------------------------ */

static void
test_bad_arguments (void)
{
  if (g_test_subprocess ())
    {
      FsBackgroundGenerator *map;

      map = fs_background_generator_map (NULL, 1, 1, FS_MAP_NONE, square, NULL, NULL, NULL);
      g_assert_null (map);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*FS_IS_BACKGROUND_GENERATOR*");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* GTask's class starts GLib's worker thread, and GIO its file system
   * layer: once for the process, before any test counts threads. */
  g_type_ensure (G_TYPE_TASK);
  g_object_unref (g_file_new_for_path ("/"));

  g_test_add_func ("/map/ordered", test_ordered);
  g_test_add_func ("/map/unordered", test_unordered);
  g_test_add_func ("/map/bounded", test_bounded);
  g_test_add_func ("/map/failure/ordered", test_failure_ordered);
  g_test_add_func ("/map/failure/unordered", test_failure_unordered);
  g_test_add_func ("/map/failure/without-error", test_failure_without_error);
  g_test_add_func ("/map/failure/source", test_source_failure);
  g_test_add_func ("/map/close-midway", test_close_midway);
  g_test_add_func ("/map/drop", test_drop);
  g_test_add_func ("/map/threads", test_threads);
  g_test_add_func ("/map/empty", test_empty);
  g_test_add_func ("/map/async", test_async);
  g_test_add_func ("/map/values", test_values);
  g_test_add_func ("/map/values/array", test_array);
  g_test_add_func ("/map/values/from-pointers", test_values_from_pointers);
  g_test_add_func ("/map/values/result-outside-call", test_result_outside_call);
  g_test_add_func ("/map/files-parallel", test_files_parallel);
  g_test_add_func ("/map/bad-arguments", test_bad_arguments);

  return g_test_run ();
}
