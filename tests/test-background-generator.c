/* test-background-generator.c: FsBackgroundGenerator and FsGenerator
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-background-generator-error"))
#define UNLIMITED G_MAXUINT

/* A stream of counted items.
 *
 * The generator makes items with item_new() (counted in `created`); the
 * stream frees the ones no consumer took with item_free() (counted in
 * `freed`); a consumer that takes one frees it with g_free(). So at the end
 * `created == taken + freed`, for every test.
 *
 * Before each next() the consumer counts a request (`requested`): the
 * generator checks after each successful yield that it is not more than
 * `prefetch` items ahead of the requests, which a correct bound guarantees
 * whatever the interleaving. */

typedef struct _Stream Stream;

typedef struct
{
  Stream *stream;
  guint   index;
} Item;

struct _Stream
{
  /* What the generator does; set before it starts. */
  guint                  prefetch;
  guint                  n_items;      /* UNLIMITED: until closed */
  gboolean               hold;         /* wait for `release` (or the close) first */
  guint                  gate_at;      /* open `about_to_yield` before yield number gate_at */
  gboolean               fail_at_end;
  gboolean               false_at_end;
  FsBackgroundGenerator *bg;           /* for the generators that close it themselves */

  /* What happened; read by the test after a gate or a join. */
  gint                   created;
  gint                   freed;
  gint                   yields_ok;
  gint                   requested;
  gint                   bound_violations;
  gint                   user_data_freed;
  gboolean               closed_at_start;
  gboolean               cancelled_at_start;
  gboolean               closed_after_failed_yield;
  gboolean               closed_after_own_close;
  gboolean               cancelled_after_own_close;
  FsWaitStatus           own_close_status;
  GError                *yield_error;
  GCancellable          *cancellable;  /* the generator's */
  GThread               *producer;

  FsTestGate             started;
  FsTestGate             release;
  FsTestGate             about_to_yield;
  FsTestGate             finished;
  FsTestGate             user_data_gone;
};

static Stream *
stream_new (guint prefetch,
            guint n_items)
{
  Stream *s = g_new0 (Stream, 1);

  s->prefetch = prefetch;
  s->n_items = n_items;
  fs_test_gate_init (&s->started);
  fs_test_gate_init (&s->release);
  fs_test_gate_init (&s->about_to_yield);
  fs_test_gate_init (&s->finished);
  fs_test_gate_init (&s->user_data_gone);
  return s;
}

static void
stream_free (Stream *s)
{
  g_clear_error (&s->yield_error);
  g_clear_object (&s->cancellable);
  fs_test_gate_clear (&s->started);
  fs_test_gate_clear (&s->release);
  fs_test_gate_clear (&s->about_to_yield);
  fs_test_gate_clear (&s->finished);
  fs_test_gate_clear (&s->user_data_gone);
  g_free (s);
}

/* The user_data_free of every stream: the Stream itself belongs to the
 * test, which frees it once the generator is gone. */
static void
stream_released (gpointer data)
{
  Stream *s = data;

  g_atomic_int_inc (&s->user_data_freed);
  fs_test_gate_open (&s->user_data_gone);
}

static Item *
item_new (Stream *s,
          guint   index)
{
  Item *item = g_new0 (Item, 1);

  item->stream = s;
  item->index = index;
  g_atomic_int_inc (&s->created);
  return item;
}

/* The stream's item_free: only for items no consumer took. */
static void
item_free (gpointer data)
{
  Item *item = data;

  g_atomic_int_inc (&item->stream->freed);
  g_free (item);
}

static void
wake_gate (GCancellable *cancellable,
           FsTestGate   *gate)
{
  g_mutex_lock (&gate->mutex);
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}

/* Waits until @gate opens or @cancellable is cancelled, so that a generator
 * held by the test always lets a close (which cancels it) finish.
 * Returns: TRUE when the gate opened */
static gboolean
gate_wait_or_cancelled (FsTestGate   *gate,
                        GCancellable *cancellable)
{
  gulong handler;
  gboolean open;

  handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_gate), gate, NULL);
  g_mutex_lock (&gate->mutex);
  while (!gate->open && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&gate->cond, &gate->mutex);
  open = gate->open;
  g_mutex_unlock (&gate->mutex);
  g_cancellable_disconnect (cancellable, handler);

  return open;
}

static void
generator_begin (Stream      *s,
                 FsGenerator *generator)
{
  s->producer = g_thread_self ();
  s->cancellable = g_object_ref (fs_generator_get_cancellable (generator));
  s->closed_at_start = fs_generator_is_closed (generator);
  s->cancelled_at_start = g_cancellable_is_cancelled (s->cancellable);
  fs_test_gate_open (&s->started);
}

/* Yields @item; on failure records what the generator sees. */
static gboolean
generator_yield (Stream       *s,
                 FsGenerator  *generator,
                 Item         *item,
                 GError      **error)
{
  GError *local_error = NULL;
  gint made = g_atomic_int_get (&s->created);

  if (s->gate_at != 0 && (guint) made == s->gate_at)
    fs_test_gate_open (&s->about_to_yield);

  if (!fs_generator_yield (generator, item, &local_error))
    {
      s->closed_after_failed_yield = fs_generator_is_closed (generator);
      s->yield_error = g_error_copy (local_error);
      g_propagate_error (error, local_error);
      return FALSE;
    }

  g_atomic_int_inc (&s->yields_ok);
  if (made - g_atomic_int_get (&s->requested) >= (gint) s->prefetch)
    g_atomic_int_inc (&s->bound_violations);

  return TRUE;
}

/* The generator most tests use. */
static gboolean
generate (FsGenerator  *generator,
          gpointer      data,
          GError      **error)
{
  Stream *s = data;

  generator_begin (s, generator);

  /* Held: go on when released, or when closed (the yield then fails). */
  if (s->hold)
    gate_wait_or_cancelled (&s->release, s->cancellable);

  for (guint i = 0; s->n_items == UNLIMITED || i < s->n_items; i++)
    {
      if (!generator_yield (s, generator, item_new (s, i), error))
        return FALSE;
    }

  if (s->fail_at_end)
    {
      g_set_error_literal (error, TEST_ERROR, 7, "disk on fire");
      return FALSE;
    }

  return !s->false_at_end;
}

static FsBackgroundGenerator *
stream_start (Stream     *s,
              const char *name)
{
  return fs_background_generator_new (s->prefetch, name, generate, s,
                                      stream_released, item_free);
}

/* A consumer's next(), counting the request first. A GError comes with
 * FS_WAIT_FAILED and only with it; only FS_WAIT_OK takes an item. */
static FsWaitStatus
take (FsBackgroundGenerator  *bg,
      Stream                 *s,
      Item                  **item,
      GCancellable           *cancellable,
      GError                **error)
{
  gpointer ptr = NULL;
  FsWaitStatus status;

  g_atomic_int_inc (&s->requested);
  status = fs_background_generator_next (bg, &ptr, -1, cancellable, error);
  if (status == FS_WAIT_FAILED)
    g_assert_true (error == NULL || *error != NULL);
  else
    g_assert_true (error == NULL || *error == NULL);
  if (status != FS_WAIT_OK)
    g_assert_null (ptr);
  *item = ptr;
  return status;
}

/* A next() that takes nothing and is no failure: @status, no error, the
 * item left alone. */
static void
assert_next_status (FsBackgroundGenerator *bg,
                    FsWaitStatus           status)
{
  g_autoptr(GError) error = NULL;
  gpointer item = GINT_TO_POINTER (1);

  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, status);
  g_assert_no_error (error);
  g_assert_true (item == GINT_TO_POINTER (1));
}

static void
assert_next_ends (FsBackgroundGenerator *bg)
{
  assert_next_status (bg, FS_WAIT_END);
}

static void
assert_next_closed (FsBackgroundGenerator *bg)
{
  assert_next_status (bg, FS_WAIT_CLOSED);
}

/* What a value next() leaves when it takes nothing; unsets it. */
static void
assert_end_value (GValue *value)
{
  g_assert_true (G_VALUE_HOLDS_OBJECT (value));
  g_assert_null (g_value_get_object (value));
  g_value_unset (value);
}

/* Closes @bg and waits, without a limit, for its producer to return. */
static void
close_and_wait (FsBackgroundGenerator *bg)
{
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
}

/* Joins the producer, whose work must have succeeded. */
static void
assert_producer_joins (FsBackgroundGenerator *bg)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (fs_thread_join (fs_background_generator_get_thread (bg), -1, NULL, &error),
                   ==, FS_WAIT_OK);
  g_assert_no_error (error);
}

/* Dropping the last reference never waits for the producer, which may let
 * go of the user data on its own thread a moment later: wait for that, and
 * check it happened once. */
static void
wait_user_data_gone (Stream *s)
{
  fs_test_gate_wait (&s->user_data_gone);
  g_assert_cmpint (g_atomic_int_get (&s->user_data_freed), ==, 1);
}

/* Unrefs @bg, which must be the last reference, and checks the stream
 * accounted for every item and let go of its user data. */
static void
finish_stream (FsBackgroundGenerator *bg,
               Stream                *s,
               gint                   taken)
{
  g_object_unref (bg);
  wait_user_data_gone (s);
  g_assert_cmpint (s->created, ==, taken + s->freed);
  g_assert_cmpint (s->bound_violations, ==, 0);
  stream_free (s);
}

static gboolean
default_state_has_message (const char *message)
{
  g_autoptr(GPtrArray) errors = fs_error_state_dup_errors (fs_error_state_get_default ());

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *e = g_ptr_array_index (errors, i);

      if (g_str_equal (e->message, message))
        return TRUE;
    }

  return FALSE;
}

static gboolean
default_state_mentions_thread (const char *name)
{
  g_autofree char *prefix = g_strdup_printf ("Error in thread (%s): ", name);
  g_autoptr(GPtrArray) errors = fs_error_state_dup_errors (fs_error_state_get_default ());

  for (guint i = 0; i < errors->len; i++)
    {
      const GError *e = g_ptr_array_index (errors, i);

      if (g_str_has_prefix (e->message, prefix))
        return TRUE;
    }

  return FALSE;
}

/* Runs the current test again in a child process, whose failure fails
 * this test alone. A non-zero @timeout_seconds is for the cases where a bug
 * would leave a thread that never returns: the limit only turns such a hang
 * into a failure. */
static void
run_in_subprocess (guint timeout_seconds)
{
  g_test_trap_subprocess (NULL, (guint64) timeout_seconds * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (g_test_trap_reached_timeout ())
    g_test_fail_printf ("the child process did not finish within %u s", timeout_seconds);
  else if (!g_test_trap_has_passed ())
    g_test_fail_printf ("the child process failed: its messages are above");
}

/* Order, exactly once, item_free. */

static void
test_items_in_order (void)
{
  Stream *s = stream_new (4, 1000);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  Item *item;
  guint i;

  bg = stream_start (s, "bg-order");
  for (i = 0; (status = take (bg, s, &item, NULL, &error)) == FS_WAIT_OK; i++)
    {
      g_assert_nonnull (item);
      g_assert_true (item->stream == s);
      g_assert_cmpuint (item->index, ==, i);
      g_free (item);
    }
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, 1000);

  /* The end is final. */
  assert_next_ends (bg);
  assert_next_ends (bg);

  assert_producer_joins (bg);
  g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (bg)));
  g_assert_true (s->producer != g_thread_self ());
  g_assert_cmpint (s->created, ==, 1000);
  g_assert_cmpint (s->freed, ==, 0);
  g_assert_cmpint (s->user_data_freed, ==, 0);

  finish_stream (bg, s, 1000);
}

static void
test_untaken_items_freed (void)
{
  Stream *s = stream_new (16, 10);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  Item *item;

  bg = stream_start (s, "bg-untaken");

  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (take (bg, s, &item, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_cmpuint (item->index, ==, i);
      g_free (item);
    }

  /* Without a place to put it, next() frees the item it took. */
  for (guint i = 0; i < 2; i++)
    {
      g_atomic_int_inc (&s->requested);
      g_assert_cmpint (fs_background_generator_next (bg, NULL, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_cmpint (s->freed, ==, i + 1);
    }

  /* The prefetch holds the whole stream: the generator runs to its end. */
  assert_producer_joins (bg);
  g_assert_cmpint (s->created, ==, 10);
  g_assert_cmpint (s->freed, ==, 2);

  /* The five still queued are freed with the stream, once each, before
   * the unref returns. */
  g_object_unref (bg);
  g_assert_cmpint (s->freed, ==, 7);
  wait_user_data_gone (s);
  g_assert_cmpint (s->freed, ==, 7);
  stream_free (s);
}

/* NULL and any pointer are items. */

static gint null_frees;
static gint marker_frees;
static char markers[3];

static void
count_marker_free (gpointer item)
{
  if (item == NULL)
    g_atomic_int_inc (&null_frees);
  else
    g_atomic_int_inc (&marker_frees);
}

static gboolean
generate_nulls (FsGenerator  *generator,
                gpointer      data,
                GError      **error)
{
  /* NULL, then items, then NULL again: none of them ends the stream. */
  return fs_generator_yield (generator, NULL, error) &&
         fs_generator_yield (generator, &markers[0], error) &&
         fs_generator_yield (generator, NULL, error) &&
         fs_generator_yield (generator, &markers[1], error);
}

static void
test_null_is_an_item (void)
{
  gpointer expected[] = { NULL, &markers[0], NULL, &markers[1] };
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  gpointer item;

  null_frees = marker_frees = 0;

  bg = fs_background_generator_new (1, "bg-nulls", generate_nulls, NULL, NULL, count_marker_free);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      item = &markers[2];
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_true (item == expected[i]);
    }
  assert_next_ends (bg);
  g_object_unref (bg);
  g_assert_cmpint (null_frees, ==, 0);
  g_assert_cmpint (marker_frees, ==, 0);

  /* Not taken, NULL items are freed like the others. */
  bg = fs_background_generator_new (8, "bg-nulls", generate_nulls, NULL, NULL, count_marker_free);
  item = &markers[2];
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_null (item);
  assert_producer_joins (bg);
  g_assert_cmpint (null_frees + marker_frees, ==, 0);
  close_and_wait (bg);
  g_assert_cmpint (null_frees, ==, 1);
  g_assert_cmpint (marker_frees, ==, 2);
  g_object_unref (bg);
  g_assert_cmpint (null_frees, ==, 1);
  g_assert_cmpint (marker_frees, ==, 2);
}

/* A stream of pointers read as values: each item is a G_TYPE_POINTER
 * value, NULL too. */
static void
test_pointer_stream_as_values (void)
{
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  FsBackgroundGenerator *bg;

  null_frees = marker_frees = 0;

  bg = fs_background_generator_new (1, "bg-pointer-values", generate_nulls, NULL, NULL,
                                    count_marker_free);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_POINTER (&value));
  g_assert_null (g_value_get_pointer (&value));
  g_value_unset (&value);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  g_assert_true (G_VALUE_HOLDS_POINTER (&value));
  g_assert_true (g_value_get_pointer (&value) == &markers[0]);
  /* The value does not own the item: unsetting it frees nothing. */
  g_value_unset (&value);
  g_assert_cmpint (null_frees + marker_frees, ==, 0);

  /* Taken without a place to put it: freed with the stream's item_free. */
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (null_frees, ==, 1);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  g_assert_true (g_value_get_pointer (&value) == &markers[1]);
  g_value_unset (&value);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
  g_assert_null (g_value_get_object (&value));
  g_value_unset (&value);

  g_object_unref (bg);
  g_assert_cmpint (null_frees, ==, 1);
  g_assert_cmpint (marker_frees, ==, 0);
}

/* Bounded waits: a timeout is an outcome, not an error, and takes
 * nothing. */
static void
test_next_timeout (void)
{
  Stream *s = stream_new (1, 2);
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  FsBackgroundGenerator *bg;
  gpointer item;
  gint64 start;

  s->hold = TRUE;
  bg = stream_start (s, "bg-next-timeout");

  /* Nothing can come while the generator is held. */
  item = GINT_TO_POINTER (1);
  g_assert_cmpint (fs_background_generator_next (bg, &item, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_true (item == GINT_TO_POINTER (1));

  start = g_get_monotonic_time ();
  g_assert_cmpint (fs_background_generator_next (bg, &item, 2000, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_true (item == GINT_TO_POINTER (1));
  /* Never before the deadline. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2000);

  g_assert_cmpint (fs_background_generator_next_value (bg, 1000, NULL, &value, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  assert_end_value (&value);
  g_assert_false (fs_background_generator_is_closed (bg));

  /* Nothing was lost: every item comes, then the end, however short the
   * later waits. */
  fs_test_gate_open (&s->release);
  for (guint i = 0; i < 2; i++)
    {
      Item *taken;

      g_assert_cmpint (take (bg, s, &taken, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_cmpuint (taken->index, ==, i);
      g_free (taken);
    }
  assert_next_ends (bg);
  assert_producer_joins (bg);
  g_assert_cmpint (fs_background_generator_next (bg, &item, 0, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);

  finish_stream (bg, s, 2);
}

/* The bound. */

static void
test_bound_is_exact (gconstpointer data)
{
  guint prefetch = GPOINTER_TO_UINT (data);
  Stream *s = stream_new (prefetch, UNLIMITED);
  FsBackgroundGenerator *bg;

  s->gate_at = prefetch;
  bg = stream_start (s, "bg-bound");
  g_assert_cmpuint (fs_background_generator_get_prefetch (bg), ==, prefetch);

  /* The generator has made item number `prefetch` and is about to yield
   * it. Nobody consumes: that yield must not return but for the close, so
   * the generator, which would loop forever, stops at exactly `prefetch`.
   * With the original's bound of `prefetch + 1`, that yield returns and the
   * generator makes one more item while the close is on its way. */
  fs_test_gate_wait (&s->about_to_yield);
  close_and_wait (bg);

  /* The close waited for the producer to return. */
  g_assert_false (fs_thread_is_alive (fs_background_generator_get_thread (bg)));
  g_assert_cmpint (s->created, ==, prefetch);
  g_assert_cmpint (s->yields_ok, ==, prefetch - 1);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_cmpint (s->freed, ==, prefetch);
  g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (bg)));

  finish_stream (bg, s, 0);
}

static void
test_bound_while_consuming (gconstpointer data)
{
  guint prefetch = GPOINTER_TO_UINT (data);
  Stream *s = stream_new (prefetch, 5000);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  Item *item;
  guint i;

  /* The generator checks after every yield that it is at most `prefetch`
   * items ahead of the requests. */
  bg = stream_start (s, "bg-bound-consuming");
  for (i = 0; (status = take (bg, s, &item, NULL, &error)) == FS_WAIT_OK; i++)
    {
      g_assert_cmpuint (item->index, ==, i);
      g_free (item);
    }
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, 5000);
  g_assert_cmpint (s->yields_ok, ==, 5000);

  finish_stream (bg, s, 5000);
}

/* Errors. */

static void
check_error_everywhere (FsBackgroundGenerator *bg,
                        const GError          *error,
                        GQuark                 domain,
                        gint                   code,
                        const char            *message)
{
  FsThread *thread = fs_background_generator_get_thread (bg);
  g_autofree char *expected = NULL;
  g_autoptr(GError) again = NULL;
  g_autoptr(GError) raised = NULL;
  gpointer item = NULL;

  expected = g_strdup_printf ("Error in thread (%s): %s",
                              fs_background_generator_get_name (bg), message);
  g_assert_error (error, domain, code);
  g_assert_cmpstr (error->message, ==, expected);

  /* Every later next() gives the same error. */
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &again), ==, FS_WAIT_FAILED);
      g_assert_null (item);
      g_assert_error (again, domain, code);
      g_assert_cmpstr (again->message, ==, expected);
      g_clear_error (&again);
    }

  /* The producer thread and the default state recorded it before the
   * consumer saw it. */
  g_assert_true (fs_thread_get_has_error (thread));
  g_assert_cmpuint (fs_error_state_get_n_errors (fs_thread_get_error_state (thread)), ==, 1);
  g_assert_false (fs_thread_check_and_raise_error (thread, &raised));
  g_assert_error (raised, domain, code);
  g_assert_cmpstr (raised->message, ==, expected);
  g_assert_true (default_state_has_message (expected));

  g_assert_false (fs_background_generator_is_closed (bg));
}

static void
test_error_after_items (gconstpointer data)
{
  guint prefetch = GPOINTER_TO_UINT (data);
  Stream *s = stream_new (prefetch, 5);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  Item *item;
  guint i;

  s->fail_at_end = TRUE;
  bg = stream_start (s, "bg-error");

  /* Every item yielded before the error comes first. */
  for (i = 0; (status = take (bg, s, &item, NULL, &error)) == FS_WAIT_OK; i++)
    {
      g_assert_cmpuint (item->index, ==, i);
      g_free (item);
    }
  g_assert_cmpint (status, ==, FS_WAIT_FAILED);
  g_assert_cmpuint (i, ==, 5);
  check_error_everywhere (bg, error, TEST_ERROR, 7, "disk on fire");

  finish_stream (bg, s, 5);
}

static void
test_false_without_error (void)
{
  Stream *s = stream_new (2, 3);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  Item *item;
  guint i;

  s->false_at_end = TRUE;
  bg = stream_start (s, "bg-false");
  for (i = 0; (status = take (bg, s, &item, NULL, &error)) == FS_WAIT_OK; i++)
    g_free (item);
  g_assert_cmpint (status, ==, FS_WAIT_FAILED);
  g_assert_cmpuint (i, ==, 3);
  g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "): "));
  check_error_everywhere (bg, error, FS_ERROR, FS_ERROR_FAILED,
                          strstr (error->message, "): ") + strlen ("): "));

  finish_stream (bg, s, 3);
}

static void
test_empty_stream (void)
{
  Stream *s = stream_new (1, 0);
  FsBackgroundGenerator *bg;

  bg = stream_start (s, "bg-empty");
  assert_next_ends (bg);
  assert_next_ends (bg);
  assert_producer_joins (bg);
  g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (bg)));
  g_assert_cmpint (s->created, ==, 0);

  finish_stream (bg, s, 0);
}

static void
test_fails_at_once (void)
{
  Stream *s = stream_new (1, 0);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  Item *item = NULL;

  s->fail_at_end = TRUE;
  bg = stream_start (s, "bg-fails-at-once");
  g_assert_cmpint (take (bg, s, &item, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_null (item);
  check_error_everywhere (bg, error, TEST_ERROR, 7, "disk on fire");

  finish_stream (bg, s, 0);
}

/* Several consumers. */

typedef struct
{
  FsBackgroundGenerator *bg;
  Stream                *stream;
  gint                  *seen;
  guint64                sum;
  guint                  count;
  gboolean               in_order;
  FsWaitStatus           status;
  GError                *error;
  FsTestGate            *ready;
  gint                  *n_ready;
  gint                   n_consumers;
} Consumer;

static gpointer
consume_all (gpointer data)
{
  Consumer *c = data;
  gint last = -1;
  Item *item;

  c->in_order = TRUE;
  if (c->ready != NULL && g_atomic_int_add (c->n_ready, 1) + 1 == c->n_consumers)
    fs_test_gate_open (c->ready);

  while ((c->status = take (c->bg, c->stream, &item, NULL, &c->error)) == FS_WAIT_OK)
    {
      g_atomic_int_inc (&c->seen[item->index]);
      /* The queue is first in, first out: one consumer's items increase. */
      if ((gint) item->index <= last)
        c->in_order = FALSE;
      last = item->index;
      c->sum += item->index;
      c->count++;
      g_free (item);
    }

  return NULL;
}

static void
run_consumers (Stream                *s,
               FsBackgroundGenerator *bg,
               guint                  n_consumers,
               guint                  n_items,
               GError               **first_error)
{
  g_autofree gint *seen = g_new0 (gint, MAX (n_items, 1));
  g_autofree Consumer *consumers = g_new0 (Consumer, n_consumers);
  g_autofree GThread **threads = g_new0 (GThread *, n_consumers);
  FsTestGate ready;
  gint n_ready = 0;
  guint64 sum = 0;
  guint count = 0;

  fs_test_gate_init (&ready);
  for (guint i = 0; i < n_consumers; i++)
    {
      consumers[i].bg = bg;
      consumers[i].stream = s;
      consumers[i].seen = seen;
      consumers[i].ready = &ready;
      consumers[i].n_ready = &n_ready;
      consumers[i].n_consumers = n_consumers;
      threads[i] = g_thread_new ("consumer", consume_all, &consumers[i]);
    }

  /* A held generator starts once every consumer is about to wait. */
  fs_test_gate_wait (&ready);
  fs_test_gate_open (&s->release);

  /* None hangs: each sees the end. */
  for (guint i = 0; i < n_consumers; i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (consumers[i].in_order);
      sum += consumers[i].sum;
      count += consumers[i].count;
    }

  for (guint i = 0; i < n_items; i++)
    g_assert_cmpint (seen[i], ==, 1);
  g_assert_cmpuint (count, ==, n_items);
  g_assert_cmpuint (sum, ==, (guint64) n_items * (n_items - 1) / 2);

  /* Every consumer ended the same way: the end, or the failure. */
  g_assert_cmpint (consumers[0].status, ==,
                   consumers[0].error != NULL ? FS_WAIT_FAILED : FS_WAIT_END);
  for (guint i = 0; i < n_consumers; i++)
    {
      g_assert_cmpint (consumers[i].status, ==, consumers[0].status);
      if (i == 0)
        {
          *first_error = consumers[0].error;
          continue;
        }
      if (consumers[0].error == NULL)
        g_assert_no_error (consumers[i].error);
      else
        g_assert_error (consumers[i].error, consumers[0].error->domain, consumers[0].error->code);
      g_clear_error (&consumers[i].error);
    }

  fs_test_gate_clear (&ready);
}

static void
test_several_consumers (gconstpointer data)
{
  guint n_consumers = GPOINTER_TO_UINT (data);
  Stream *s = stream_new (3, 10000);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;

  s->hold = TRUE;
  bg = stream_start (s, "bg-consumers");
  run_consumers (s, bg, n_consumers, 10000, &error);
  g_assert_no_error (error);

  finish_stream (bg, s, 10000);
}

static void
test_several_consumers_see_error (void)
{
  Stream *s = stream_new (2, 500);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;

  s->hold = TRUE;
  s->fail_at_end = TRUE;
  bg = stream_start (s, "bg-consumers-error");
  run_consumers (s, bg, 3, 500, &error);
  g_assert_error (error, TEST_ERROR, 7);

  finish_stream (bg, s, 500);
}

static void
test_blocked_consumers_see_end (void)
{
  Stream *s = stream_new (1, 1);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;

  /* Four consumers wait, one item comes, then the end: the three that got
   * nothing must wake too. */
  s->hold = TRUE;
  bg = stream_start (s, "bg-blocked-end");
  run_consumers (s, bg, 4, 1, &error);
  g_assert_no_error (error);

  finish_stream (bg, s, 1);
}

/* Close. */

static void
assert_stopped_quietly (FsBackgroundGenerator *bg,
                        Stream                *s)
{
  FsThread *thread = fs_background_generator_get_thread (bg);
  g_autoptr(GError) error = NULL;

  /* The generator stopped because of the close: not a failure. */
  g_assert_false (fs_thread_is_alive (thread));
  g_assert_false (fs_thread_get_has_error (thread));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_false (default_state_mentions_thread (fs_background_generator_get_name (bg)));

  g_assert_true (fs_background_generator_is_closed (bg));
  g_assert_false (s->closed_at_start);
  g_assert_false (s->cancelled_at_start);
  g_assert_true (g_cancellable_is_cancelled (s->cancellable));
  assert_next_closed (bg);
}

static void
test_close_before_first_item (void)
{
  Stream *s = stream_new (2, UNLIMITED);
  FsBackgroundGenerator *bg;

  s->hold = TRUE;
  bg = stream_start (s, "bg-close-first");
  fs_test_gate_wait (&s->started);
  g_assert_false (fs_background_generator_is_closed (bg));

  /* The close wakes the held generator; its first yield fails. */
  close_and_wait (bg);
  assert_stopped_quietly (bg, s);
  g_assert_cmpint (s->created, ==, 1);
  g_assert_cmpint (s->yields_ok, ==, 0);
  g_assert_cmpint (s->freed, ==, 1);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_true (s->closed_after_failed_yield);

  finish_stream (bg, s, 0);
}

static void
test_close_mid_stream (void)
{
  Stream *s = stream_new (4, UNLIMITED);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  Item *item;

  bg = stream_start (s, "bg-close-mid");
  for (guint i = 0; i < 10; i++)
    {
      g_assert_cmpint (take (bg, s, &item, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_cmpuint (item->index, ==, i);
      g_free (item);
    }

  close_and_wait (bg);
  assert_stopped_quietly (bg, s);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_true (s->closed_after_failed_yield);

  /* Whatever was made and not taken is freed, once: at most `prefetch`.
   * (None when the consumer had taken all that was made: the yield in
   * progress delivered its item, then saw the close.) */
  g_assert_cmpint (s->created, ==, 10 + s->freed);
  g_assert_cmpint (s->freed, <=, 4);

  finish_stream (bg, s, 10);
}

static void
test_close_after_end (void)
{
  Stream *s = stream_new (4, 3);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  Item *item;
  guint i;

  bg = stream_start (s, "bg-close-end");
  for (i = 0; (status = take (bg, s, &item, NULL, &error)) == FS_WAIT_OK; i++)
    g_free (item);
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, 3);

  close_and_wait (bg);
  g_assert_true (fs_background_generator_is_closed (bg));
  g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (bg)));
  /* Closed wins over ended. */
  assert_next_closed (bg);
  g_assert_null (s->yield_error);
  g_assert_cmpint (s->freed, ==, 0);

  finish_stream (bg, s, 3);
}

static void
test_close_after_end_with_items_queued (void)
{
  Stream *s = stream_new (8, 5);
  FsBackgroundGenerator *bg;

  bg = stream_start (s, "bg-close-end-queued");
  assert_producer_joins (bg);
  g_assert_cmpint (s->created, ==, 5);
  g_assert_cmpint (s->freed, ==, 0);

  close_and_wait (bg);
  g_assert_cmpint (s->freed, ==, 5);
  assert_next_closed (bg);

  finish_stream (bg, s, 0);
}

static void
test_close_producer_blocked (void)
{
  Stream *s = stream_new (2, UNLIMITED);
  FsBackgroundGenerator *bg;

  s->gate_at = 2;
  bg = stream_start (s, "bg-close-blocked");
  fs_test_gate_wait (&s->about_to_yield);

  close_and_wait (bg);
  assert_stopped_quietly (bg, s);
  g_assert_cmpint (s->created, ==, 2);
  g_assert_cmpint (s->freed, ==, 2);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_true (s->closed_after_failed_yield);

  finish_stream (bg, s, 0);
}

typedef struct
{
  FsBackgroundGenerator *bg;
  FsTestGate            *about_to_wait;
  gint                  *n_about;
  gint                   n_total;
  FsWaitStatus           status;
  gpointer               item;
  GError                *error;
  GCancellable          *cancellable;
} Waiter;

static gpointer
wait_next (gpointer data)
{
  Waiter *w = data;

  if (g_atomic_int_add (w->n_about, 1) + 1 == w->n_total)
    fs_test_gate_open (w->about_to_wait);
  w->status = fs_background_generator_next (w->bg, &w->item, -1, w->cancellable, &w->error);
  return NULL;
}

static void
test_close_consumers_blocked (void)
{
  Stream *s = stream_new (1, UNLIMITED);
  FsBackgroundGenerator *bg;
  Waiter waiters[3] = { { 0 } };
  GThread *threads[3];
  FsTestGate about_to_wait;
  gint n_about = 0;

  /* The generator yields nothing: the consumers wait for a first item. */
  s->hold = TRUE;
  bg = stream_start (s, "bg-close-consumers");
  fs_test_gate_wait (&s->started);
  fs_test_gate_init (&about_to_wait);
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    {
      waiters[i].bg = bg;
      waiters[i].about_to_wait = &about_to_wait;
      waiters[i].n_about = &n_about;
      waiters[i].n_total = G_N_ELEMENTS (waiters);
      threads[i] = g_thread_new ("waiter", wait_next, &waiters[i]);
    }
  fs_test_gate_wait (&about_to_wait);

  /* Waiting or about to: either way they get FS_WAIT_CLOSED. */
  close_and_wait (bg);
  for (guint i = 0; i < G_N_ELEMENTS (waiters); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpint (waiters[i].status, ==, FS_WAIT_CLOSED);
      g_assert_null (waiters[i].item);
      g_assert_no_error (waiters[i].error);
    }
  assert_stopped_quietly (bg, s);

  fs_test_gate_clear (&about_to_wait);
  finish_stream (bg, s, 0);
}

static void
test_close_twice (void)
{
  Stream *s = stream_new (3, UNLIMITED);
  FsBackgroundGenerator *bg;

  s->gate_at = 3;
  bg = stream_start (s, "bg-close-twice");
  fs_test_gate_wait (&s->about_to_yield);

  close_and_wait (bg);
  g_assert_cmpint (s->freed, ==, 3);
  close_and_wait (bg);
  assert_stopped_quietly (bg, s);
  close_and_wait (bg);
  assert_next_closed (bg);
  g_assert_cmpint (s->freed, ==, 3);

  finish_stream (bg, s, 0);
}

/* The generator hands its cancellable to a GIO call, as
 * fs_generator_get_cancellable() advises, and passes the call's error on.
 * The close cancels the call: it fails with G_IO_ERROR_CANCELLED, and the
 * generator stops because the consumer left, which is not a failure. */
static gboolean
generate_from_socket (FsGenerator  *generator,
                      gpointer      data,
                      GError      **error)
{
  Stream *s = data;
  g_autoptr(GSocket) socket = NULL;
  char buffer[16];
  int fds[2];

  generator_begin (s, generator);
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM, 0, fds), ==, 0);
  socket = g_socket_new_from_fd (fds[0], NULL);
  g_assert_nonnull (socket);

  /* Nothing ever arrives: only the close ends this read. */
  fs_test_gate_open (&s->about_to_yield);
  if (g_socket_receive (socket, buffer, sizeof buffer,
                        fs_generator_get_cancellable (generator), error) < 0)
    {
      close (fds[1]);
      return FALSE;
    }

  close (fds[1]);
  return fs_generator_yield (generator, item_new (s, 0), error);
}

static void
test_close_cancels_gio_call (void)
{
  Stream *s;
  FsBackgroundGenerator *bg;

  /* In a child process: a failure here must not leave an error in this
   * process's default state. */
  if (!g_test_subprocess ())
    {
      run_in_subprocess (0);
      return;
    }

  s = stream_new (1, 0);
  bg = fs_background_generator_new (1, "bg-close-gio", generate_from_socket, s,
                                    stream_released, item_free);
  fs_test_gate_wait (&s->about_to_yield);

  close_and_wait (bg);
  assert_stopped_quietly (bg, s);
  g_assert_cmpint (s->created, ==, 0);

  finish_stream (bg, s, 0);
}

/* Dropping the last reference. */

static void
test_unref_closes_and_joins (void)
{
  Stream *s = stream_new (2, UNLIMITED);
  guint before = fs_test_count_threads ();
  FsBackgroundGenerator *bg;

  s->gate_at = 2;
  bg = stream_start (s, "bg-unref");
  fs_test_gate_wait (&s->about_to_yield);
  g_assert_cmpuint (fs_test_count_threads (), ==, before + 1);

  /* The producer is blocked in a yield: the unref wakes it, and does not
   * wait for it. The producer returns, and its thread object, which holds
   * the user data, lets go of it and of the OS thread on its own. */
  g_object_unref (bg);
  wait_user_data_gone (s);
  fs_test_assert_threads_settle (before);
  g_assert_cmpint (s->created, ==, 2);
  g_assert_cmpint (s->freed, ==, 2);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_true (g_cancellable_is_cancelled (s->cancellable));
  g_assert_false (default_state_mentions_thread ("bg-unref"));

  stream_free (s);
}

static void
test_unref_held_generator (void)
{
  Stream *s = stream_new (1, UNLIMITED);
  guint before = fs_test_count_threads ();
  FsBackgroundGenerator *bg;

  /* Waiting for something other than a yield: the cancellable wakes it. */
  s->hold = TRUE;
  bg = stream_start (s, "bg-unref-held");
  fs_test_gate_wait (&s->started);

  g_object_unref (bg);
  wait_user_data_gone (s);
  fs_test_assert_threads_settle (before);
  g_assert_cmpint (s->created, ==, 1);
  g_assert_cmpint (s->freed, ==, 1);

  stream_free (s);
}

/* Close on the producer thread. */

static gboolean
generate_then_close (FsGenerator  *generator,
                     gpointer      data,
                     GError      **error)
{
  Stream *s = data;
  gboolean ret = FALSE;

  generator_begin (s, generator);
  if (!gate_wait_or_cancelled (&s->release, s->cancellable))
    goto out;

  if (!generator_yield (s, generator, item_new (s, 0), error))
    goto out;

  /* Must return: the thread cannot wait for itself. */
  s->own_close_status = fs_background_generator_close (s->bg, -1, NULL);
  s->closed_after_own_close = fs_generator_is_closed (generator);
  s->cancelled_after_own_close = g_cancellable_is_cancelled (s->cancellable);

  ret = generator_yield (s, generator, item_new (s, 1), error);

out:
  fs_test_gate_open (&s->finished);
  return ret;
}

static void
test_close_on_producer_thread (void)
{
  Stream *s = stream_new (4, 0);
  FsBackgroundGenerator *bg;

  bg = fs_background_generator_new (4, "bg-close-self", generate_then_close, s,
                                    stream_released, item_free);
  s->bg = bg;
  fs_test_gate_open (&s->release);
  fs_test_gate_wait (&s->finished);

  g_assert_cmpint (s->own_close_status, ==, FS_WAIT_WOULD_DEADLOCK);
  g_assert_true (s->closed_after_own_close);
  g_assert_true (s->cancelled_after_own_close);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_cmpint (s->created, ==, 2);
  g_assert_cmpint (s->yields_ok, ==, 1);

  g_assert_true (fs_background_generator_is_closed (bg));
  assert_producer_joins (bg);
  assert_stopped_quietly (bg, s);
  g_assert_cmpint (s->freed, ==, 2);

  finish_stream (bg, s, 0);
}

static gboolean
generate_then_drop_last_ref (FsGenerator  *generator,
                             gpointer      data,
                             GError      **error)
{
  Stream *s = data;
  gboolean ret = FALSE;

  generator_begin (s, generator);
  if (!gate_wait_or_cancelled (&s->release, s->cancellable))
    goto out;

  if (!generator_yield (s, generator, item_new (s, 0), error))
    goto out;

  /* The only reference: disposing closes, without joining this thread. */
  g_object_unref (g_steal_pointer (&s->bg));
  s->closed_after_own_close = fs_generator_is_closed (generator);
  s->cancelled_after_own_close = g_cancellable_is_cancelled (s->cancellable);

  ret = generator_yield (s, generator, item_new (s, 1), error);

out:
  fs_test_gate_open (&s->finished);
  return ret;
}

static void
test_last_unref_on_producer_thread (void)
{
  guint before = fs_test_count_threads ();
  Stream *s = stream_new (4, 0);

  /* The test gives its only reference away. */
  s->bg = fs_background_generator_new (4, "bg-last-ref-self", generate_then_drop_last_ref, s,
                                       stream_released, item_free);
  fs_test_gate_open (&s->release);

  /* The thread finalizes itself, freeing the user data, then exits. */
  fs_test_gate_wait (&s->user_data_gone);
  fs_test_gate_wait (&s->finished);
  g_assert_cmpint (s->user_data_freed, ==, 1);
  g_assert_true (s->closed_after_own_close);
  g_assert_true (s->cancelled_after_own_close);
  g_assert_error (s->yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_cmpint (s->created, ==, 2);
  g_assert_cmpint (s->freed, ==, 2);
  g_assert_false (default_state_mentions_thread ("bg-last-ref-self"));

  /* Nobody joins that thread: it goes away by itself. */
  fs_test_assert_threads_settle (before);
  stream_free (s);
}

/* Cancelling a next(). */

typedef struct
{
  FsTestGate    gate;
  GCancellable *cancellable;
} CancelJob;

static gpointer
cancel_after_gate (gpointer data)
{
  CancelJob *job = data;

  fs_test_gate_wait (&job->gate);
  g_cancellable_cancel (job->cancellable);
  return NULL;
}

static void
test_next_already_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  Stream *s;
  Item *item = NULL;

  if (!g_test_subprocess ())
    {
      run_in_subprocess (30);
      return;
    }

  s = stream_new (1, 1);
  s->hold = TRUE;
  bg = stream_start (s, "bg-next-already-cancelled");
  cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);

  /* No item can come, and the cancellable fired before the call: next()
   * does not wait at all. */
  g_assert_cmpint (take (bg, s, &item, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_assert_null (item);

  fs_test_gate_open (&s->release);
  g_assert_cmpint (take (bg, s, &item, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (item->index, ==, 0);
  g_free (item);

  finish_stream (bg, s, 1);
}

static void
test_next_cancelled (void)
{
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  CancelJob job;
  GThread *canceller;
  FsWaitStatus status;
  Item *item = NULL;
  Stream *s;
  guint i;

  /* The cancellation may come before next() starts waiting: in a child,
   * so that a next() that never returns fails this test alone. */
  if (!g_test_subprocess ())
    {
      run_in_subprocess (30);
      return;
    }

  s = stream_new (2, 5);
  s->hold = TRUE;
  bg = stream_start (s, "bg-next-cancelled");

  fs_test_gate_init (&job.gate);
  job.cancellable = g_cancellable_new ();
  canceller = g_thread_new ("canceller", cancel_after_gate, &job);

  /* No item will come until the test releases the generator: only the
   * cancellable, triggered from another thread, ends this wait. */
  fs_test_gate_open (&job.gate);
  g_assert_cmpint (take (bg, s, &item, job.cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_assert_null (item);
  g_thread_join (canceller);

  g_assert_false (fs_background_generator_is_closed (bg));

  /* The stream goes on, nothing lost. */
  fs_test_gate_open (&s->release);
  for (i = 0; (status = take (bg, s, &item, NULL, &error)) == FS_WAIT_OK; i++)
    {
      g_assert_cmpuint (item->index, ==, i);
      g_free (item);
    }
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, 5);

  g_object_unref (job.cancellable);
  fs_test_gate_clear (&job.gate);
  finish_stream (bg, s, 5);
}

/* Asynchronous next. */

typedef struct
{
  gboolean      done;
  FsWaitStatus  status;
  Item         *item;
  GError       *error;
  GThread      *thread;
} NextResult;

/* The item of a stream of pointers comes as a G_TYPE_POINTER value, and
 * no value comes with any other status; a GError only with
 * FS_WAIT_FAILED. */
static void
next_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      data)
{
  NextResult *r = data;
  GValue *value;

  g_assert_false (r->done);
  r->status = FS_WAIT_OK;
  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object),
                                               result, &r->status, &r->error);
  if (value != NULL)
    {
      g_assert_cmpint (r->status, ==, FS_WAIT_OK);
      g_assert_true (G_VALUE_HOLDS_POINTER (value));
      r->item = g_value_get_pointer (value);
      g_value_unset (value);
      g_free (value);
    }
  else
    {
      g_assert_cmpint (r->status, !=, FS_WAIT_OK);
    }
  if (r->status == FS_WAIT_FAILED)
    g_assert_nonnull (r->error);
  else
    g_assert_null (r->error);
  r->thread = g_thread_self ();
  r->done = TRUE;
}

static void
next_async (FsBackgroundGenerator *bg,
            Stream                *s,
            GCancellable          *cancellable,
            NextResult            *r)
{
  memset (r, 0, sizeof *r);
  g_atomic_int_inc (&s->requested);
  fs_background_generator_next_async (bg, cancellable, next_cb, r);
}

static void
test_async_items_and_end (void)
{
  Stream *s = stream_new (2, 20);
  FsBackgroundGenerator *bg;
  NextResult r;

  bg = stream_start (s, "bg-async");
  for (guint i = 0; i < 20; i++)
    {
      next_async (bg, s, NULL, &r);
      fs_test_iterate_until (&r.done);
      g_assert_true (r.thread == g_thread_self ());
      g_assert_no_error (r.error);
      g_assert_cmpint (r.status, ==, FS_WAIT_OK);
      g_assert_cmpuint (r.item->index, ==, i);
      g_free (r.item);
    }

  for (guint i = 0; i < 2; i++)
    {
      next_async (bg, s, NULL, &r);
      fs_test_iterate_until (&r.done);
      g_assert_true (r.thread == g_thread_self ());
      g_assert_cmpint (r.status, ==, FS_WAIT_END);
      g_assert_no_error (r.error);
      g_assert_null (r.item);
    }

  finish_stream (bg, s, 20);
}

static void
test_async_pending_before_yield (void)
{
  Stream *s = stream_new (1, 3);
  FsBackgroundGenerator *bg;
  NextResult r[4];

  /* Three requests wait before anything is made: the producer hands each
   * item to the request that came first. */
  s->hold = TRUE;
  bg = stream_start (s, "bg-async-pending");
  for (guint i = 0; i < 3; i++)
    next_async (bg, s, NULL, &r[i]);
  fs_test_gate_open (&s->release);

  for (guint i = 0; i < 3; i++)
    {
      fs_test_iterate_until (&r[i].done);
      g_assert_true (r[i].thread == g_thread_self ());
      g_assert_no_error (r[i].error);
      g_assert_cmpint (r[i].status, ==, FS_WAIT_OK);
      g_assert_cmpuint (r[i].item->index, ==, i);
      g_free (r[i].item);
    }

  /* A request pending when the generator returns gets the end. */
  next_async (bg, s, NULL, &r[3]);
  fs_test_iterate_until (&r[3].done);
  g_assert_cmpint (r[3].status, ==, FS_WAIT_END);
  g_assert_no_error (r[3].error);

  finish_stream (bg, s, 3);
}

static void
test_async_error (void)
{
  Stream *s = stream_new (1, 2);
  g_autofree char *expected = NULL;
  FsBackgroundGenerator *bg;
  NextResult r;

  s->fail_at_end = TRUE;
  bg = stream_start (s, "bg-async-error");
  expected = g_strdup_printf ("Error in thread (%s): disk on fire",
                              fs_background_generator_get_name (bg));
  for (guint i = 0; i < 2; i++)
    {
      next_async (bg, s, NULL, &r);
      fs_test_iterate_until (&r.done);
      g_assert_cmpint (r.status, ==, FS_WAIT_OK);
      g_assert_cmpuint (r.item->index, ==, i);
      g_free (r.item);
    }

  for (guint i = 0; i < 2; i++)
    {
      next_async (bg, s, NULL, &r);
      fs_test_iterate_until (&r.done);
      g_assert_true (r.thread == g_thread_self ());
      g_assert_cmpint (r.status, ==, FS_WAIT_FAILED);
      g_assert_null (r.item);
      g_assert_error (r.error, TEST_ERROR, 7);
      g_assert_cmpstr (r.error->message, ==, expected);
      g_clear_error (&r.error);
    }

  finish_stream (bg, s, 2);
}

static void
test_async_cancelled (void)
{
  Stream *s = stream_new (1, 2);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  FsBackgroundGenerator *bg;
  CancelJob job;
  GThread *canceller;
  NextResult r;

  s->hold = TRUE;
  bg = stream_start (s, "bg-async-cancelled");

  /* Cancelled from another thread while pending. */
  fs_test_gate_init (&job.gate);
  job.cancellable = cancellable;
  canceller = g_thread_new ("canceller", cancel_after_gate, &job);
  next_async (bg, s, cancellable, &r);
  fs_test_gate_open (&job.gate);
  fs_test_iterate_until (&r.done);
  g_thread_join (canceller);
  g_assert_true (r.thread == g_thread_self ());
  g_assert_cmpint (r.status, ==, FS_WAIT_CANCELLED);
  g_assert_null (r.item);
  g_assert_no_error (r.error);

  /* Cancelled before it was asked. */
  next_async (bg, s, cancellable, &r);
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_CANCELLED);
  g_assert_null (r.item);
  g_assert_no_error (r.error);

  /* The cancelled requests took nothing: every item still comes. */
  fs_test_gate_open (&s->release);
  for (guint i = 0; i < 2; i++)
    {
      next_async (bg, s, NULL, &r);
      fs_test_iterate_until (&r.done);
      g_assert_no_error (r.error);
      g_assert_cmpint (r.status, ==, FS_WAIT_OK);
      g_assert_cmpuint (r.item->index, ==, i);
      g_free (r.item);
    }
  next_async (bg, s, NULL, &r);
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_END);
  g_assert_no_error (r.error);

  fs_test_gate_clear (&job.gate);
  finish_stream (bg, s, 2);
}

static void
test_async_close_pending (void)
{
  Stream *s = stream_new (1, UNLIMITED);
  FsBackgroundGenerator *bg;
  NextResult r[2];

  s->hold = TRUE;
  bg = stream_start (s, "bg-async-close");
  fs_test_gate_wait (&s->started);
  next_async (bg, s, NULL, &r[0]);
  next_async (bg, s, NULL, &r[1]);

  close_and_wait (bg);
  for (guint i = 0; i < 2; i++)
    {
      fs_test_iterate_until (&r[i].done);
      g_assert_true (r[i].thread == g_thread_self ());
      g_assert_cmpint (r[i].status, ==, FS_WAIT_CLOSED);
      g_assert_null (r[i].item);
      g_assert_no_error (r[i].error);
    }
  assert_stopped_quietly (bg, s);

  /* And after the close. */
  next_async (bg, s, NULL, &r[0]);
  fs_test_iterate_until (&r[0].done);
  g_assert_cmpint (r[0].status, ==, FS_WAIT_CLOSED);
  g_assert_null (r[0].item);
  g_assert_no_error (r[0].error);

  finish_stream (bg, s, 0);
}

/* The end reaches a next_async() that waits for it from the producer
 * thread. Once the callback has run, the consumer's reference must be the
 * last one: dropping it finalizes the generator at once (the request holds
 * no reference any more), and the producer lets go of the user data. The
 * window in which the producer still holds the request is narrow, hence
 * the repetitions. */
static void
test_async_unref_after_end (void)
{
  if (!g_test_subprocess ())
    {
      run_in_subprocess (0);
      return;
    }

  for (guint i = 0; i < 1000; i++)
    {
      Stream *s = stream_new (1, 0);
      FsBackgroundGenerator *bg;
      NextResult r;

      s->hold = TRUE;
      bg = stream_start (s, "bg-async-unref");
      next_async (bg, s, NULL, &r);
      fs_test_gate_open (&s->release);
      fs_test_iterate_until (&r.done);
      g_assert_cmpint (r.status, ==, FS_WAIT_END);
      g_assert_no_error (r.error);

      g_object_add_weak_pointer (G_OBJECT (bg), (gpointer *) &bg);
      g_object_unref (bg);
      g_assert_null (bg);
      wait_user_data_gone (s);
      stream_free (s);
    }
}

typedef struct
{
  FsBackgroundGenerator *bg;
  Stream                *stream;
  NextResult             results[3];
  GThread               *self;
} ContextJob;

static gpointer
next_in_own_context (gpointer data)
{
  ContextJob *job = data;
  GMainContext *context = g_main_context_new ();

  job->self = g_thread_self ();
  g_main_context_push_thread_default (context);
  for (guint i = 0; i < G_N_ELEMENTS (job->results); i++)
    {
      NextResult *r = &job->results[i];

      next_async (job->bg, job->stream, NULL, r);
      while (!r->done)
        g_main_context_iteration (context, TRUE);
    }
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  return NULL;
}

static void
test_async_thread_default_context (void)
{
  Stream *s = stream_new (1, 2);
  FsBackgroundGenerator *bg;
  ContextJob job = { 0 };

  bg = stream_start (s, "bg-async-context");
  job.bg = bg;
  job.stream = s;
  g_thread_join (g_thread_new ("own-context", next_in_own_context, &job));

  for (guint i = 0; i < 2; i++)
    {
      g_assert_true (job.results[i].thread == job.self);
      g_assert_cmpint (job.results[i].status, ==, FS_WAIT_OK);
      g_assert_cmpuint (job.results[i].item->index, ==, i);
      g_free (job.results[i].item);
    }
  g_assert_true (job.results[2].thread == job.self);
  g_assert_cmpint (job.results[2].status, ==, FS_WAIT_END);
  g_assert_no_error (job.results[2].error);

  /* Nothing was left for the default context. */
  g_assert_false (g_main_context_pending (NULL));

  finish_stream (bg, s, 2);
}

/* Values. */

typedef struct
{
  gint value;
} TestBox;

GType test_box_get_type (void);
static TestBox *test_box_copy (TestBox *box);
static void test_box_free (TestBox *box);

G_DEFINE_BOXED_TYPE (TestBox, test_box, test_box_copy, test_box_free)

static gint live_boxes;

static TestBox *
test_box_new (gint value)
{
  TestBox *box = g_new0 (TestBox, 1);

  box->value = value;
  g_atomic_int_inc (&live_boxes);
  return box;
}

static TestBox *
test_box_copy (TestBox *box)
{
  return test_box_new (box->value);
}

static void
test_box_free (TestBox *box)
{
  g_atomic_int_add (&live_boxes, -1);
  g_free (box);
}

typedef struct
{
  GObject    *object;
  gint        user_data_freed;
  GError     *yield_error;
  FsTestGate  user_data_gone;
} ValueSource;

static void
value_source_init (ValueSource *v)
{
  memset (v, 0, sizeof *v);
  fs_test_gate_init (&v->user_data_gone);
}

static void
value_source_released (gpointer data)
{
  ValueSource *v = data;

  g_atomic_int_inc (&v->user_data_freed);
  fs_test_gate_open (&v->user_data_gone);
}

/* As wait_user_data_gone(), then clears @v. */
static void
value_source_finish (ValueSource *v)
{
  fs_test_gate_wait (&v->user_data_gone);
  g_assert_cmpint (g_atomic_int_get (&v->user_data_freed), ==, 1);
  fs_test_gate_clear (&v->user_data_gone);
}

static gboolean
yield_and_unset (FsGenerator  *generator,
                 ValueSource  *v,
                 GValue       *value,
                 GError      **error)
{
  GError *local_error = NULL;
  gboolean ret;

  ret = fs_generator_yield_value (generator, value, &local_error);
  g_value_unset (value);
  if (!ret)
    {
      v->yield_error = g_error_copy (local_error);
      g_propagate_error (error, local_error);
    }
  return ret;
}

static gboolean
generate_values (FsGenerator  *generator,
                 gpointer      data,
                 GError      **error)
{
  ValueSource *v = data;
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "zero");
  if (!yield_and_unset (generator, v, &value, error))
    return FALSE;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 1);
  if (!yield_and_unset (generator, v, &value, error))
    return FALSE;

  g_value_init (&value, G_TYPE_OBJECT);
  g_value_set_object (&value, v->object);
  if (!yield_and_unset (generator, v, &value, error))
    return FALSE;

  g_value_init (&value, test_box_get_type ());
  g_value_take_boxed (&value, test_box_new (3));
  return yield_and_unset (generator, v, &value, error);
}

typedef struct
{
  gboolean      done;
  FsWaitStatus  status;
  gboolean      got_value;
  GValue        value;
  GError       *error;
  GThread      *thread;
} ValueResult;

/* The value comes with FS_WAIT_OK and only with it. */
static void
next_value_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      data)
{
  ValueResult *r = data;
  GValue *value;

  r->status = FS_WAIT_OK;
  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object),
                                               result, &r->status, &r->error);
  r->got_value = value != NULL;
  g_assert_cmpint (r->got_value, ==, r->status == FS_WAIT_OK);
  if (value != NULL)
    {
      /* Moved, not copied: the caller owns what the value holds. */
      r->value = *value;
      g_free (value);
    }
  r->thread = g_thread_self ();
  r->done = TRUE;
}

static void
test_values (void)
{
  ValueSource v;
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  FsBackgroundGenerator *bg;
  ValueResult r = { 0 };

  value_source_init (&v);
  g_atomic_int_set (&live_boxes, 0);
  v.object = g_object_new (G_TYPE_OBJECT, NULL);
  bg = fs_background_generator_new_for_values (1, "bg-values", generate_values, &v,
                                               value_source_released);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_STRING (&value));
  g_assert_cmpstr (g_value_get_string (&value), ==, "zero");
  g_value_unset (&value);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_INT (&value));
  g_assert_cmpint (g_value_get_int (&value), ==, 1);
  g_value_unset (&value);

  fs_background_generator_next_async (bg, NULL, next_value_cb, &r);
  fs_test_iterate_until (&r.done);
  g_assert_true (r.thread == g_thread_self ());
  g_assert_no_error (r.error);
  g_assert_cmpint (r.status, ==, FS_WAIT_OK);
  g_assert_true (G_VALUE_HOLDS_OBJECT (&r.value));
  g_assert_true (g_value_get_object (&r.value) == v.object);
  g_value_unset (&r.value);

  memset (&r, 0, sizeof r);
  fs_background_generator_next_async (bg, NULL, next_value_cb, &r);
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_OK);
  g_assert_true (G_VALUE_HOLDS (&r.value, test_box_get_type ()));
  g_assert_cmpint (((TestBox *) g_value_get_boxed (&r.value))->value, ==, 3);
  /* Once the generator has let go of its own, only the received box lives. */
  assert_producer_joins (bg);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), ==, 1);
  g_value_unset (&r.value);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), ==, 0);

  /* The end: synchronously, the value holds a NULL object; asynchronously
   * no value comes. */
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  assert_end_value (&value);
  memset (&r, 0, sizeof r);
  fs_background_generator_next_async (bg, NULL, next_value_cb, &r);
  fs_test_iterate_until (&r.done);
  g_assert_cmpint (r.status, ==, FS_WAIT_END);
  g_assert_false (r.got_value);
  g_assert_no_error (r.error);

  g_object_unref (bg);
  value_source_finish (&v);
  g_assert_null (v.yield_error);

  g_object_add_weak_pointer (v.object, (gpointer *) &v.object);
  g_object_unref (v.object);
  g_assert_null (v.object);
}

static void
test_values_freed_when_not_taken (void)
{
  ValueSource v;
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  FsBackgroundGenerator *bg;

  value_source_init (&v);
  g_atomic_int_set (&live_boxes, 0);
  v.object = g_object_new (G_TYPE_OBJECT, NULL);
  g_object_add_weak_pointer (v.object, (gpointer *) &v.object);
  bg = fs_background_generator_new_for_values (8, "bg-values-freed", generate_values, &v,
                                               value_source_released);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&value), ==, "zero");
  g_value_unset (&value);

  /* Taken without a place to put it: freed at once. */
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  /* The object and the box wait in the queue: the queue holds a copy of
   * each, the generator's own are gone. */
  assert_producer_joins (bg);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), ==, 1);
  g_object_unref (v.object);
  g_assert_nonnull (v.object);

  close_and_wait (bg);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), ==, 0);
  g_assert_null (v.object);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_CLOSED);
  g_assert_no_error (error);
  assert_end_value (&value);

  g_object_unref (bg);
  value_source_finish (&v);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), ==, 0);
}

static gboolean
generate_values_until_closed (FsGenerator  *generator,
                              gpointer      data,
                              GError      **error)
{
  ValueSource *v = data;

  for (;;)
    {
      GValue value = G_VALUE_INIT;

      g_value_init (&value, test_box_get_type ());
      g_value_take_boxed (&value, test_box_new (0));
      if (!yield_and_unset (generator, v, &value, error))
        return FALSE;
    }
}

static void
test_values_closed_while_blocked (void)
{
  ValueSource v;
  FsBackgroundGenerator *bg;
  GValue value = G_VALUE_INIT;

  value_source_init (&v);
  g_atomic_int_set (&live_boxes, 0);
  bg = fs_background_generator_new_for_values (2, "bg-values-closed",
                                               generate_values_until_closed, &v,
                                               value_source_released);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), >=, 1);
  g_value_unset (&value);

  close_and_wait (bg);
  g_assert_cmpint (g_atomic_int_get (&live_boxes), ==, 0);
  g_assert_error (v.yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (bg)));

  g_clear_error (&v.yield_error);
  g_object_unref (bg);
  value_source_finish (&v);
}

/* Properties and names. */

static void
test_properties (void)
{
  Stream *s = stream_new (5, 0);
  g_autoptr(FsThread) thread = NULL;
  g_autofree char *name = NULL;
  FsBackgroundGenerator *bg;
  guint prefetch = 0;

  bg = stream_start (s, "bg-props");
  g_object_get (bg,
                "name", &name,
                "prefetch", &prefetch,
                "thread", &thread,
                NULL);
  g_assert_cmpstr (name, ==, "bg-props");
  g_assert_cmpstr (fs_background_generator_get_name (bg), ==, "bg-props");
  g_assert_cmpuint (prefetch, ==, 5);
  g_assert_cmpuint (fs_background_generator_get_prefetch (bg), ==, 5);
  g_assert_true (FS_IS_THREAD (thread));
  g_assert_true (thread == fs_background_generator_get_thread (bg));
  g_assert_cmpstr (fs_thread_get_name (thread), ==, "bg-props");

  assert_next_ends (bg);
  g_clear_object (&thread);
  finish_stream (bg, s, 0);
}

static void
test_default_name (void)
{
  Stream *s1 = stream_new (1, UNLIMITED);
  Stream *s2 = stream_new (1, UNLIMITED);
  FsBackgroundGenerator *bg1;
  FsBackgroundGenerator *bg2;
  const char *name1;
  const char *name2;

  s1->hold = s2->hold = TRUE;
  bg1 = stream_start (s1, NULL);
  bg2 = stream_start (s2, NULL);
  name1 = fs_background_generator_get_name (bg1);
  name2 = fs_background_generator_get_name (bg2);
  g_assert_true (g_str_has_prefix (name1, "generator"));
  g_assert_true (g_str_has_prefix (name2, "generator"));
  g_assert_cmpstr (name1, !=, name2);
  g_assert_cmpstr (fs_thread_get_name (fs_background_generator_get_thread (bg1)), ==, name1);

  finish_stream (bg1, s1, 0);
  finish_stream (bg2, s2, 0);
}

static guint
count_threads_with_comm (const char *comm)
{
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      g_autofree char *contents = NULL;

      /* A thread may end while this reads. */
      if (!g_file_get_contents (path, &contents, NULL, NULL))
        continue;
      g_strchomp (contents);
      if (g_str_equal (contents, comm))
        n++;
    }
  g_dir_close (dir);

  return n;
}

static void
test_os_thread_name (void)
{
  Stream *s = stream_new (1, UNLIMITED);
  FsBackgroundGenerator *bg;

  s->hold = TRUE;
  bg = stream_start (s, "bg-os-name-and-more");
  fs_test_gate_wait (&s->started);

  /* Whole in the property, cut to 15 bytes for the kernel. */
  g_assert_cmpstr (fs_background_generator_get_name (bg), ==, "bg-os-name-and-more");
  g_assert_cmpuint (count_threads_with_comm ("bg-os-name-and-"), ==, 1);
  g_assert_cmpuint (count_threads_with_comm ("bg-os-name-and-more"), ==, 0);

  g_object_unref (bg);
  wait_user_data_gone (s);
  stream_free (s);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/background-generator/items-in-order", test_items_in_order);
  g_test_add_func ("/background-generator/untaken-items-freed", test_untaken_items_freed);
  g_test_add_func ("/background-generator/null-is-an-item", test_null_is_an_item);
  g_test_add_func ("/background-generator/pointer-stream-as-values", test_pointer_stream_as_values);
  g_test_add_func ("/background-generator/next-timeout", test_next_timeout);
  g_test_add_data_func ("/background-generator/bound-is-exact/1", GUINT_TO_POINTER (1), test_bound_is_exact);
  g_test_add_data_func ("/background-generator/bound-is-exact/3", GUINT_TO_POINTER (3), test_bound_is_exact);
  g_test_add_data_func ("/background-generator/bound-is-exact/64", GUINT_TO_POINTER (64), test_bound_is_exact);
  g_test_add_data_func ("/background-generator/bound-while-consuming/1", GUINT_TO_POINTER (1), test_bound_while_consuming);
  g_test_add_data_func ("/background-generator/bound-while-consuming/3", GUINT_TO_POINTER (3), test_bound_while_consuming);
  g_test_add_data_func ("/background-generator/error-after-items/1", GUINT_TO_POINTER (1), test_error_after_items);
  g_test_add_data_func ("/background-generator/error-after-items/8", GUINT_TO_POINTER (8), test_error_after_items);
  g_test_add_func ("/background-generator/false-without-error", test_false_without_error);
  g_test_add_func ("/background-generator/empty", test_empty_stream);
  g_test_add_func ("/background-generator/fails-at-once", test_fails_at_once);
  g_test_add_data_func ("/background-generator/several-consumers/2", GUINT_TO_POINTER (2), test_several_consumers);
  g_test_add_data_func ("/background-generator/several-consumers/3", GUINT_TO_POINTER (3), test_several_consumers);
  g_test_add_data_func ("/background-generator/several-consumers/4", GUINT_TO_POINTER (4), test_several_consumers);
  g_test_add_func ("/background-generator/several-consumers-see-error", test_several_consumers_see_error);
  g_test_add_func ("/background-generator/blocked-consumers-see-end", test_blocked_consumers_see_end);
  g_test_add_func ("/background-generator/close/before-first-item", test_close_before_first_item);
  g_test_add_func ("/background-generator/close/mid-stream", test_close_mid_stream);
  g_test_add_func ("/background-generator/close/after-end", test_close_after_end);
  g_test_add_func ("/background-generator/close/after-end-items-queued", test_close_after_end_with_items_queued);
  g_test_add_func ("/background-generator/close/producer-blocked", test_close_producer_blocked);
  g_test_add_func ("/background-generator/close/consumers-blocked", test_close_consumers_blocked);
  g_test_add_func ("/background-generator/close/twice", test_close_twice);
  g_test_add_func ("/background-generator/close/cancels-gio-call", test_close_cancels_gio_call);
  g_test_add_func ("/background-generator/close/on-producer-thread", test_close_on_producer_thread);
  g_test_add_func ("/background-generator/close/last-unref-on-producer-thread", test_last_unref_on_producer_thread);
  g_test_add_func ("/background-generator/unref/closes-and-joins", test_unref_closes_and_joins);
  g_test_add_func ("/background-generator/unref/held-generator", test_unref_held_generator);
  g_test_add_func ("/background-generator/next-already-cancelled", test_next_already_cancelled);
  g_test_add_func ("/background-generator/next-cancelled", test_next_cancelled);
  g_test_add_func ("/background-generator/async/items-and-end", test_async_items_and_end);
  g_test_add_func ("/background-generator/async/pending-before-yield", test_async_pending_before_yield);
  g_test_add_func ("/background-generator/async/error", test_async_error);
  g_test_add_func ("/background-generator/async/cancelled", test_async_cancelled);
  g_test_add_func ("/background-generator/async/close-pending", test_async_close_pending);
  g_test_add_func ("/background-generator/async/thread-default-context", test_async_thread_default_context);
  g_test_add_func ("/background-generator/async/unref-after-end", test_async_unref_after_end);
  g_test_add_func ("/background-generator/values", test_values);
  g_test_add_func ("/background-generator/values/freed-when-not-taken", test_values_freed_when_not_taken);
  g_test_add_func ("/background-generator/values/closed-while-blocked", test_values_closed_while_blocked);
  g_test_add_func ("/background-generator/properties", test_properties);
  g_test_add_func ("/background-generator/default-name", test_default_name);
  g_test_add_func ("/background-generator/os-thread-name", test_os_thread_name);

  return g_test_run ();
}
