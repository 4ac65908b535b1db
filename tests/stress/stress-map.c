/* stress-map.c: many maps at random, every item and result counted
 *
 * Each trial draws a map from its seed: workers, prefetch, order, a source
 * of some length (or endless), an item whose function fails (or the source
 * failing there), and how the consumer ends: taking everything, closing
 * midway, dropping its reference midway, or taking from a main loop.
 * Whatever happens, at the end of each trial:
 *
 *   items made by the source == items freed     (each exactly once)
 *   results made == results taken + results freed
 *   in order: results 0, 1, 2 ... with nothing missing, and a failure
 *   raised after exactly the results before it
 *   the data of the map freed once
 *
 * and at the end of the run the process has the threads it started with.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "stress-common.h"

#define N_DRIVERS 2
#define N_TRIALS_FULL 600
#define NEVER G_MAXUINT

typedef enum {
  END_TAKE_ALL,
  END_CLOSE,
  END_DROP,
  END_ASYNC,
  N_ENDS
} End;

static const char *end_names[N_ENDS] = { "take-all", "close", "drop", "async" };

typedef struct
{
  /* For stress_fail(). */
  guint       index;
  guint       salt;
  char       *plan;

  /* The plan. */
  guint       n_threads;
  guint       prefetch;
  gboolean    ordered;
  guint       n_items;        /* NEVER: endless */
  guint       fail_at;        /* the function fails on this item */
  guint       source_fail_at; /* the source fails instead of making it */
  End         end;
  guint       stop_after;     /* close or drop after this many results */
  guint       slow_every;

  /* The counts. */
  gint        made;
  gint        items_freed;
  gint        results_made;
  gint        results_freed;
  gint        taken;
  gint        data_freed;
  FsTestGate  data_gone;
} Trial;

typedef struct
{
  guint  salt;
  guint  n_trials;
  gint   next_trial;
  guint  first_trial;
  gint   outcomes[N_ENDS];
  gint   failures_seen;
} Case;

typedef struct
{
  Trial *trial;
  guint  index;
} Item;

typedef struct
{
  Trial *trial;
  guint  index;
} Result;

static void
item_free (gpointer data)
{
  Item *item = data;

  g_atomic_int_inc (&item->trial->items_freed);
  g_free (item);
}

static void
result_free (gpointer data)
{
  Result *result = data;

  g_atomic_int_inc (&result->trial->results_freed);
  g_free (result);
}

static void
data_free (gpointer data)
{
  Trial *t = data;

  g_atomic_int_inc (&t->data_freed);
  fs_test_gate_open (&t->data_gone);
}

static gboolean
make_items (FsGenerator  *generator,
            gpointer      data,
            GError      **error)
{
  Trial *t = data;

  for (guint i = 0; t->n_items == NEVER || i < t->n_items; i++)
    {
      Item *item;

      if (i == t->source_fail_at)
        {
          g_set_error (error, STRESS_ERROR, 2, "source failed at %u", i);
          return FALSE;
        }
      item = g_new0 (Item, 1);
      item->trial = t;
      item->index = i;
      g_atomic_int_inc (&t->made);
      if (!fs_generator_yield (generator, item, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
map_func (gpointer   data,
          gpointer  *out,
          gpointer   user_data,
          GError   **error)
{
  Item *item = data;
  Trial *t = user_data;
  Result *result;

  if (item->trial != t)
    stress_fail (t, "an item of another trial");
  if (t->slow_every > 0 && item->index % t->slow_every == 0)
    {
      /* A slow item: work the compiler cannot drop. */
      volatile guint x = 0;

      for (guint i = 0; i < 20000; i++)
        x = x + i;
      (void) x;
    }
  if (item->index == t->fail_at)
    {
      g_set_error (error, STRESS_ERROR, 1, "item %u failed", item->index);
      return FALSE;
    }
  result = g_new0 (Result, 1);
  result->trial = t;
  result->index = item->index;
  g_atomic_int_inc (&t->results_made);
  *out = result;
  return TRUE;
}

/* The first index whose result cannot come: a failure, or the end. */
static guint
first_missing (Trial *t)
{
  return MIN (MIN (t->fail_at, t->source_fail_at), t->n_items);
}

/* Checks one result taken; returns FALSE to stop taking. */
static void
check_result (Trial  *t,
              Result *result,
              guint   n_taken)
{
  if (result->trial != t)
    stress_fail (t, "a result of another trial");
  if (t->ordered && result->index != n_taken)
    stress_fail (t, "result %u came as number %u", result->index, n_taken);
  if (t->ordered && result->index >= first_missing (t))
    stress_fail (t, "result %u after the first missing %u", result->index, first_missing (t));
  g_atomic_int_inc (&t->taken);
  g_free (result);
}

/* The end of the stream: what it must be after @n_taken results. */
static void
check_end (Trial        *t,
           FsWaitStatus  status,
           const GError *error,
           guint         n_taken,
           Case         *cs)
{
  guint missing = first_missing (t);

  if (status == FS_WAIT_END)
    {
      if (missing != t->n_items || n_taken != t->n_items)
        stress_fail (t, "ended after %u results, expected %u", n_taken, t->n_items);
      return;
    }
  if (status != FS_WAIT_FAILED)
    stress_fail (t, "the stream ended with status %d", (int) status);
  g_atomic_int_inc (&cs->failures_seen);
  /* In no order, a later failure may be ready first. */
  if (!t->ordered)
    {
      if (!g_error_matches (error, STRESS_ERROR, 1) && !g_error_matches (error, STRESS_ERROR, 2))
        stress_fail (t, "unexpected error %s", error->message);
    }
  else if (missing == t->source_fail_at && t->source_fail_at < t->fail_at)
    {
      if (!g_error_matches (error, STRESS_ERROR, 2))
        stress_fail (t, "expected the source's error, got %s", error->message);
    }
  else if (!g_error_matches (error, STRESS_ERROR, 1))
    stress_fail (t, "expected the item's error, got %s", error->message);
  if (t->ordered && n_taken != missing)
    stress_fail (t, "failed after %u results, expected %u", n_taken, missing);
  if (!t->ordered && n_taken > (guint) t->results_made)
    stress_fail (t, "more results taken than made");
}

typedef struct
{
  Trial        *trial;
  Case         *cs;
  GMainContext *context;
  guint         n_taken;
  gboolean      done;
} AsyncTake;

static void
on_next (GObject      *object,
         GAsyncResult *res,
         gpointer      data)
{
  AsyncTake *a = data;
  g_autoptr(GError) error = NULL;
  FsWaitStatus status;
  GValue *value;

  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object), res,
                                                    &status, &error);
  if (value == NULL)
    {
      check_end (a->trial, status, error, a->n_taken, a->cs);
      a->done = TRUE;
      return;
    }
  check_result (a->trial, g_value_get_pointer (value), a->n_taken++);
  g_free (value);
  fs_background_generator_next_async (FS_BACKGROUND_GENERATOR (object), NULL, on_next, a);
}

static void
run_trial (gpointer      data,
           guint         index,
           GMainContext *context)
{
  Case *cs = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (stress_trial_seed (cs->salt, index));
  Trial t = { 0 };
  FsBackgroundGenerator *source, *map;
  FsThread *source_thread, *driver;
  g_autoptr(GError) error = NULL;
  guint slot, n_taken = 0;
  FsWaitStatus status = FS_WAIT_OK;

  t.index = index;
  t.salt = cs->salt;
  t.n_threads = g_rand_int_range (rand, 1, 7);
  t.prefetch = g_rand_int_range (rand, 1, 17);
  t.ordered = g_rand_int_range (rand, 0, 4) != 0;
  t.n_items = g_rand_int_range (rand, 0, 8) == 0 ? NEVER : (guint) g_rand_int_range (rand, 0, 3000);
  t.fail_at = g_rand_int_range (rand, 0, 3) == 0 ? (guint) g_rand_int_range (rand, 0, 3000) : NEVER;
  t.source_fail_at = g_rand_int_range (rand, 0, 6) == 0 ? (guint) g_rand_int_range (rand, 0, 3000) : NEVER;
  t.end = (End) g_rand_int_range (rand, 0, N_ENDS);
  t.stop_after = g_rand_int_range (rand, 0, 400);
  t.slow_every = g_rand_int_range (rand, 0, 3) == 0 ? (guint) g_rand_int_range (rand, 1, 9) : 0;
  /* An endless source that nothing stops: stop it. */
  if (first_missing (&t) == NEVER && (t.end == END_TAKE_ALL || t.end == END_ASYNC))
    t.end = END_CLOSE;
  fs_test_gate_init (&t.data_gone);
  t.plan = g_strdup_printf ("%u threads, prefetch %u, %s, %u items, fail at %u, source fails at %u, %s after %u",
                            t.n_threads, t.prefetch, t.ordered ? "ordered" : "unordered",
                            t.n_items, t.fail_at, t.source_fail_at, end_names[t.end], t.stop_after);
  slot = stress_watchdog_enter (index, t.plan);

  source = fs_background_generator_new (g_rand_int_range (rand, 1, 5), "stress-source",
                                        make_items, &t, NULL, item_free);
  source_thread = g_object_ref (fs_background_generator_get_thread (source));
  map = fs_background_generator_map (source, t.n_threads, t.prefetch,
                                     t.ordered ? FS_MAP_NONE : FS_MAP_UNORDERED,
                                     map_func, &t, data_free, result_free);
  driver = g_object_ref (fs_background_generator_get_thread (map));
  g_object_unref (source);

  if (t.end == END_ASYNC)
    {
      AsyncTake a = { &t, cs, context, 0, FALSE };

      fs_background_generator_next_async (map, NULL, on_next, &a);
      while (!a.done)
        g_main_context_iteration (context, TRUE);
    }
  else
    {
      gpointer item;

      for (;;)
        {
          if ((t.end == END_CLOSE || t.end == END_DROP) && n_taken == t.stop_after)
            break;
          /* Now and then a wait with a short timeout, which may end first. */
          status = fs_background_generator_next (map, &item, g_rand_int_range (rand, 0, 4) == 0 ? 50 : -1,
                                                 NULL, &error);
          if (status == FS_WAIT_TIMED_OUT)
            continue;
          if (status != FS_WAIT_OK)
            break;
          check_result (&t, item, n_taken++);
        }
      if (status != FS_WAIT_OK)
        check_end (&t, status, error, n_taken, cs);
    }

  g_atomic_int_inc (&cs->outcomes[t.end]);
  if (t.end == END_DROP)
    {
      /* Never waits: the driver stops the workers on its own thread. */
      g_object_unref (map);
    }
  else
    {
      if (fs_background_generator_close (map, -1, NULL) != FS_WAIT_OK)
        stress_fail (&t, "close did not wait for the driver");
      g_object_unref (map);
    }

  fs_thread_join (driver, -1, NULL, NULL);
  fs_thread_join (source_thread, -1, NULL, NULL);
  /* A thread holds its data until it is finalized. */
  g_object_unref (driver);
  g_object_unref (source_thread);
  fs_test_gate_wait (&t.data_gone);

  if (t.made != t.items_freed)
    stress_fail (&t, "%d items made, %d freed", t.made, t.items_freed);
  if (t.results_made != t.taken + t.results_freed)
    stress_fail (&t, "%d results made, %d taken, %d freed", t.results_made, t.taken, t.results_freed);
  if (t.data_freed != 1)
    stress_fail (&t, "the data was freed %d times", t.data_freed);

  stress_watchdog_leave (slot);
  fs_test_gate_clear (&t.data_gone);
  g_free (t.plan);
}

static void
test_maps_at_random (void)
{
  Case cs = { 0 };
  guint threads_before;

  cs.salt = 12;
  cs.n_trials = stress_scaled (N_TRIALS_FULL, 20);
  if (stress_only (&cs.n_trials))
    cs.next_trial = cs.first_trial = cs.n_trials++;

  stress_watchdog_start ("stress-map");
  threads_before = fs_test_count_threads ();

  stress_run_drivers (N_DRIVERS, TRUE, run_trial, &cs, &cs.next_trial, cs.n_trials);

  fs_error_state_clear (fs_error_state_get_default ());
  fs_test_assert_threads_settle (threads_before);
  stress_watchdog_stop ();

  g_test_message ("%u maps: %d taken whole, %d closed, %d dropped, %d from a main loop; %d failed",
                  cs.n_trials, cs.outcomes[END_TAKE_ALL], cs.outcomes[END_CLOSE],
                  cs.outcomes[END_DROP], cs.outcomes[END_ASYNC], cs.failures_seen);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  stress_init ();

  /* GTask's first use starts a GLib thread that lives as long as the
   * process: start it before counting. */
  g_type_ensure (G_TYPE_TASK);

  g_test_add_func ("/stress/map/maps-at-random", test_maps_at_random);

  return g_test_run ();
}
