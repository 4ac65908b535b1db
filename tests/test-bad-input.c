/* test-bad-input.c: every bad input gets a clear answer
 *
 * Programmer errors get a critical (g_return_val_if_fail) and a harmless
 * return value; what a caller can cause at run time gets a GError.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-error"))

static gboolean
noop_target (FsThread  *thread,
             gpointer   data,
             GError   **error)
{
  return TRUE;
}

static gboolean
noop_generator (FsGenerator  *gen,
                gpointer      data,
                GError      **error)
{
  return TRUE;
}

#define EXPECT_CRITICAL(pattern) \
  g_test_expect_message ("Fs", G_LOG_LEVEL_CRITICAL, pattern)

static void
test_null_target (void)
{
  EXPECT_CRITICAL ("*func != NULL*");
  g_assert_null (fs_thread_new ("x", NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*func != NULL*");
  g_assert_null (fs_multi_thread_new ("x", 2, NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*func != NULL*");
  g_assert_null (fs_background_generator_new (1, "x", NULL, NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*func != NULL*");
  g_assert_null (fs_background_generator_new_for_values (1, "x", NULL, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
test_prefetch_zero (void)
{
  EXPECT_CRITICAL ("*prefetch >= 1*");
  g_assert_null (fs_background_generator_new (0, "x", noop_generator, NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*prefetch >= 1*");
  g_assert_null (fs_background_generator_new_for_values (0, "x", noop_generator, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
test_thread_count_zero (void)
{
  EXPECT_CRITICAL ("*thread_count >= 1*");
  g_assert_null (fs_multi_thread_new ("x", 0, noop_target, NULL, NULL));
  g_test_assert_expected_messages ();
}

static void
test_start_twice (void)
{
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;

  group = fs_multi_thread_new ("twice", 2, noop_target, NULL, NULL);
  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_false (fs_multi_thread_start (group, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
}

static void
test_join_before_start (void)
{
  g_autoptr(FsMultiThread) group = fs_multi_thread_new ("early", 2, noop_target, NULL, NULL);
  g_autoptr(FsThread) thread = fs_thread_new ("early", noop_target, NULL, NULL);
  g_autoptr(GError) error = NULL;

  /* A status, not an error. */
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);
}

static gboolean
join_own_group (FsThread  *thread,
                gpointer   data,
                GError   **error)
{
  FsMultiThread **group = data;
  g_autoptr(GError) local_error = NULL;

  g_assert_cmpint (fs_multi_thread_join (*group, -1, NULL, &local_error), ==, FS_WAIT_WOULD_DEADLOCK);
  g_assert_no_error (local_error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &local_error), ==, FS_WAIT_WOULD_DEADLOCK);
  g_assert_no_error (local_error);
  return TRUE;
}

static void
test_join_from_inside (void)
{
  FsMultiThread *group = NULL;
  g_autoptr(GError) error = NULL;

  group = fs_multi_thread_new ("inside", 2, join_own_group, &group, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_object_unref (group);
}

static void
test_close_twice (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;

  bg = fs_background_generator_new (1, "close-twice", noop_generator, NULL, NULL, NULL);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  /* Closing again closes nothing more; the producer is done, so even a
   * close that does not wait says so. */
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_background_generator_close (bg, 0, NULL), ==, FS_WAIT_OK);
  g_assert_true (fs_background_generator_is_closed (bg));
}

static void
test_next_after_close (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  bg = fs_background_generator_new (1, "next-after-close", noop_generator, NULL, NULL, NULL);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  /* A status, not an error. */
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_CLOSED);
  g_assert_no_error (error);
  g_assert_null (item);
}

static void
test_re_raise_empty (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  GError *error = NULL;

  g_assert_true (fs_error_state_re_raise (state, &error));
  g_assert_null (error);
  g_assert_true (fs_error_state_re_raise (state, NULL));
}

static gboolean
false_without_error (FsThread  *thread,
                     gpointer   data,
                     GError   **error)
{
  return FALSE;
}

static void
test_false_without_error (void)
{
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;

  group = fs_multi_thread_new ("mute", 1, false_without_error, NULL, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
}

static void
test_generator_yields_nothing (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  bg = fs_background_generator_new (1, "empty", noop_generator, NULL, NULL, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  /* The end is seen again by every later call. */
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_null (item);
}

static gboolean
fail_at_once (FsGenerator  *gen,
              gpointer      data,
              GError      **error)
{
  g_set_error_literal (error, TEST_ERROR, 99, "no items at all");
  return FALSE;
}

static void
test_generator_fails_at_once (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  bg = fs_background_generator_new (1, "fails-at-once", fail_at_once, NULL, NULL, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 99);
  g_clear_error (&error);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 99);
  g_assert_null (item);
}

static void
test_null_self (void)
{
  EXPECT_CRITICAL ("*FS_IS_THREAD*");
  g_assert_false (fs_thread_start (NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_THREAD*");
  g_assert_cmpint (fs_thread_join (NULL, -1, NULL, NULL), ==, FS_WAIT_NOT_STARTED);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_MULTI_THREAD*");
  g_assert_false (fs_multi_thread_start (NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*");
  g_assert_cmpint (fs_background_generator_next (NULL, NULL, -1, NULL, NULL), ==, FS_WAIT_CLOSED);
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_ERROR_STATE*");
  fs_error_state_set (NULL, NULL);
  g_test_assert_expected_messages ();
}

static void
test_error_state_set_null (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();

  EXPECT_CRITICAL ("*error != NULL*");
  fs_error_state_set (state, NULL);
  g_test_assert_expected_messages ();
  g_assert_false (fs_error_state_get_has_error (state));
}

static void
test_error_already_set (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("preset", noop_target, NULL, NULL);
  g_autoptr(GError) error = g_error_new_literal (TEST_ERROR, 1, "already here");

  EXPECT_CRITICAL ("*error == NULL || *error == NULL*");
  g_assert_false (fs_thread_start (thread, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, TEST_ERROR, 1);
}

static void
test_values_api_on_pointer_stream (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;

  /* Since 0.2 not a misuse: an item comes as a G_TYPE_POINTER value, and
   * the end as a status. */
  bg = fs_background_generator_new (1, "pointers", noop_generator, NULL, NULL, NULL);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
  g_assert_null (g_value_get_object (&value));
  g_value_unset (&value);
}

/* Every method, given NULL or an object of another type. */

#define CHECK_CRITICAL(pattern, expr) \
  G_STMT_START { \
    EXPECT_CRITICAL (pattern); \
    expr; \
    g_test_assert_expected_messages (); \
  } G_STMT_END

static void
test_null_self_everywhere (void)
{
  GValue value = G_VALUE_INIT;

  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_null (fs_thread_get_name (NULL)));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_cmpuint (fs_thread_get_index (NULL), ==, 0));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_null (fs_thread_get_cancellable (NULL)));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_null (fs_thread_get_error_state (NULL)));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_false (fs_thread_is_alive (NULL)));
  CHECK_CRITICAL ("*FS_IS_THREAD*", fs_thread_cancel (NULL));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_cmpint (fs_thread_join (NULL, 0, NULL, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*FS_IS_THREAD*", fs_thread_join_async (NULL, NULL, NULL, NULL));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_cmpint (fs_thread_join_finish (NULL, NULL, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_false (fs_thread_get_has_error (NULL)));
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_false (fs_thread_check_and_raise_error (NULL, NULL)));

  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_null (fs_multi_thread_get_name (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_cmpuint (fs_multi_thread_get_thread_count (NULL), ==, 0));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_null (fs_multi_thread_get_cancellable (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_null (fs_multi_thread_get_error_state (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_false (fs_multi_thread_completed (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_false (fs_multi_thread_is_alive (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", fs_multi_thread_cancel (NULL));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_cmpint (fs_multi_thread_join (NULL, 0, NULL, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", fs_multi_thread_join_async (NULL, NULL, NULL, NULL));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_cmpint (fs_multi_thread_join_finish (NULL, NULL, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_false (fs_multi_thread_get_has_error (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_null (fs_multi_thread_dup_errors (NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_false (fs_multi_thread_check_and_raise_error (NULL, NULL)));

  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_null (fs_background_generator_get_name (NULL)));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_cmpuint (fs_background_generator_get_prefetch (NULL), ==, 0));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_null (fs_background_generator_get_thread (NULL)));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_cmpint (fs_background_generator_next (NULL, NULL, 0, NULL, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_cmpint (fs_background_generator_next_value (NULL, -1, NULL, &value, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_cmpint (fs_background_generator_next_value (NULL, 0, NULL, &value, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", fs_background_generator_next_async (NULL, NULL, NULL, NULL));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_null (fs_background_generator_next_finish_full (NULL, NULL, NULL, NULL)));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_cmpint (fs_background_generator_close (NULL, -1, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*", g_assert_true (fs_background_generator_is_closed (NULL)));
  g_assert_false (G_IS_VALUE (&value));

  CHECK_CRITICAL ("*FS_IS_GENERATOR*", g_assert_false (fs_generator_yield (NULL, NULL, NULL)));
  CHECK_CRITICAL ("*FS_IS_GENERATOR*", g_assert_false (fs_generator_yield_value (NULL, NULL, NULL)));
  CHECK_CRITICAL ("*FS_IS_GENERATOR*", g_assert_true (fs_generator_is_closed (NULL)));
  CHECK_CRITICAL ("*FS_IS_GENERATOR*", g_assert_null (fs_generator_get_cancellable (NULL)));

  CHECK_CRITICAL ("*FS_IS_ERROR_STATE*", g_assert_false (fs_error_state_get_has_error (NULL)));
  CHECK_CRITICAL ("*FS_IS_ERROR_STATE*", g_assert_cmpuint (fs_error_state_get_n_errors (NULL), ==, 0));
  CHECK_CRITICAL ("*FS_IS_ERROR_STATE*", g_assert_null (fs_error_state_dup_errors (NULL)));
  CHECK_CRITICAL ("*FS_IS_ERROR_STATE*", g_assert_false (fs_error_state_re_raise (NULL, NULL)));
  CHECK_CRITICAL ("*FS_IS_ERROR_STATE*", fs_error_state_clear (NULL));

  CHECK_CRITICAL ("*FS_IS_LOADED_FILE*", g_assert_null (fs_loaded_file_get_file (NULL)));
  CHECK_CRITICAL ("*FS_IS_LOADED_FILE*", g_assert_null (fs_loaded_file_get_contents (NULL, NULL)));
}

static void
test_wrong_type_self (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(FsThread) thread = fs_thread_new ("wrong-type", noop_target, NULL, NULL);

  /* An object of another type is refused as NULL is. */
  CHECK_CRITICAL ("*FS_IS_THREAD*", g_assert_false (fs_thread_start ((FsThread *) state, NULL)));
  CHECK_CRITICAL ("*FS_IS_MULTI_THREAD*", g_assert_false (fs_multi_thread_start ((FsMultiThread *) state, NULL)));
  CHECK_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*",
                  g_assert_cmpint (fs_background_generator_next ((FsBackgroundGenerator *) state, NULL, -1, NULL, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*FS_IS_GENERATOR*", g_assert_false (fs_generator_yield ((FsGenerator *) state, NULL, NULL)));
  CHECK_CRITICAL ("*FS_IS_ERROR_STATE*", fs_error_state_clear ((FsErrorState *) thread));
  CHECK_CRITICAL ("*FS_IS_LOADED_FILE*", g_assert_null (fs_loaded_file_get_file ((FsLoadedFile *) state)));
}

/* A GError already set. */

static gboolean
yield_one_value (FsGenerator  *gen,
                 gpointer      data,
                 GError      **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 7);
  return fs_generator_yield_value (gen, &value, error);
}

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
} Pending;

static void
keep_result (GObject      *object,
             GAsyncResult *result,
             gpointer      data)
{
  Pending *p = data;

  p->result = g_object_ref (result);
  p->done = TRUE;
}

static void
test_error_preset_everywhere (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("preset-thread", noop_target, NULL, NULL);
  g_autoptr(FsMultiThread) group = fs_multi_thread_new ("preset-group", 2, noop_target, NULL, NULL);
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GError) error = g_error_new_literal (TEST_ERROR, 1, "already here");
  GValue value = G_VALUE_INIT;
  Pending p = { 0 };

  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (fs_multi_thread_start (group, &error)));
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_true (fs_multi_thread_start (group, NULL));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (fs_thread_check_and_raise_error (thread, &error)));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (fs_multi_thread_check_and_raise_error (group, &error)));

  fs_thread_join_async (thread, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_thread_join_finish (thread, p.result, &error), ==, FS_WAIT_NOT_STARTED));
  g_assert_cmpint (fs_thread_join_finish (thread, p.result, NULL), ==, FS_WAIT_OK);
  g_clear_object (&p.result);
  p.done = FALSE;
  fs_multi_thread_join_async (group, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_multi_thread_join_finish (group, p.result, &error), ==, FS_WAIT_NOT_STARTED));
  g_assert_cmpint (fs_multi_thread_join_finish (group, p.result, NULL), ==, FS_WAIT_OK);
  g_clear_object (&p.result);

  bg = fs_background_generator_new_for_values (1, "preset-values", yield_one_value, NULL, NULL);
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_background_generator_next (bg, NULL, -1, NULL, &error), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_background_generator_next (bg, NULL, 0, NULL, &error), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_cmpint (fs_background_generator_next_value (bg, 0, NULL, &value, &error), ==, FS_WAIT_CLOSED));
  g_assert_false (G_IS_VALUE (&value));
  p.done = FALSE;
  fs_background_generator_next_async (bg, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_null (fs_background_generator_next_finish_full (bg, p.result, NULL, &error)));
  {
    /* Refused before taking anything: the item is still there for a
     * proper call. */
    FsWaitStatus status = FS_WAIT_FAILED;
    GValue *got = fs_background_generator_next_finish_full (bg, p.result, &status, NULL);

    g_assert_cmpint (status, ==, FS_WAIT_OK);
    g_assert_nonnull (got);
    g_assert_cmpint (g_value_get_int (got), ==, 7);
    g_boxed_free (G_TYPE_VALUE, got);
  }
  g_clear_object (&p.result);

  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (fs_error_state_re_raise (state, &error)));

  /* Untouched through all of it. */
  g_assert_error (error, TEST_ERROR, 1);
}

/* A cancellable that is not one. */

static void
test_bad_cancellable (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("bad-cancellable", noop_target, NULL, NULL);
  g_autoptr(FsMultiThread) group = fs_multi_thread_new ("bad-cancellable", 1, noop_target, NULL, NULL);
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(FsErrorState) not_a_cancellable = fs_error_state_new ();
  GCancellable *bad = (GCancellable *) not_a_cancellable;
  GValue value = G_VALUE_INIT;

  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_true (fs_multi_thread_start (group, NULL));
  bg = fs_background_generator_new_for_values (1, "bad-cancellable", yield_one_value, NULL, NULL);

  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_thread_join (thread, -1, bad, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_thread_join (thread, 0, bad, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", fs_thread_join_async (thread, bad, NULL, NULL));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_multi_thread_join (group, -1, bad, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_multi_thread_join (group, 0, bad, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", fs_multi_thread_join_async (group, bad, NULL, NULL));
  /* A timeout below -1 is a programmer error too. */
  CHECK_CRITICAL ("*timeout_usec >= -1*", g_assert_cmpint (fs_thread_join (thread, -2, NULL, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*timeout_usec >= -1*", g_assert_cmpint (fs_multi_thread_join (group, -2, NULL, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_background_generator_next (bg, NULL, -1, bad, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_background_generator_next (bg, NULL, 0, bad, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_background_generator_next_value (bg, -1, bad, &value, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_background_generator_next_value (bg, 0, bad, &value, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", fs_background_generator_next_async (bg, bad, NULL, NULL));
  CHECK_CRITICAL ("*G_IS_CANCELLABLE*", g_assert_cmpint (fs_background_generator_close (bg, -1, bad), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*timeout_usec >= -1*", g_assert_cmpint (fs_background_generator_next (bg, NULL, -2, NULL, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*timeout_usec >= -1*", g_assert_cmpint (fs_background_generator_next_value (bg, G_MININT64, NULL, &value, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*timeout_usec >= -1*", g_assert_cmpint (fs_background_generator_close (bg, -2, NULL), ==, FS_WAIT_CLOSED));
  /* None of it closed the stream or took its item. */
  g_assert_false (fs_background_generator_is_closed (bg));
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (g_value_get_int (&value), ==, 7);
  g_value_unset (&value);

  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, NULL), ==, FS_WAIT_OK);
}

/* A result that is not this object's, or not of this call. */

static void
test_finish_foreign_result (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("foreign-a", noop_target, NULL, NULL);
  g_autoptr(FsThread) other = fs_thread_new ("foreign-b", noop_target, NULL, NULL);
  g_autoptr(FsMultiThread) group = fs_multi_thread_new ("foreign", 1, noop_target, NULL, NULL);
  g_autoptr(FsBackgroundGenerator) bg = fs_background_generator_new (1, "foreign", noop_generator, NULL, NULL, NULL);
  g_autoptr(FsBackgroundGenerator) values = fs_background_generator_new_for_values (1, "foreign-v", noop_generator, NULL, NULL);
  g_autoptr(GTask) untagged_group = g_task_new (group, NULL, NULL, NULL);
  g_autoptr(GTask) untagged_thread = g_task_new (thread, NULL, NULL, NULL);
  g_autoptr(GTask) untagged_bg = g_task_new (values, NULL, NULL, NULL);
  GValue value = G_VALUE_INIT;
  Pending p = { 0 };

  g_assert_true (fs_thread_start (thread, NULL));
  fs_thread_join_async (thread, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);

  /* Another object's result. */
  CHECK_CRITICAL ("*g_task_is_valid*", g_assert_cmpint (fs_thread_join_finish (other, p.result, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*g_task_is_valid*", g_assert_cmpint (fs_multi_thread_join_finish (group, p.result, NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*g_task_is_valid*", g_assert_null (fs_background_generator_next_finish_full (bg, p.result, NULL, NULL)));
  CHECK_CRITICAL ("*g_task_is_valid*", g_assert_null (fs_background_generator_next_finish_full (values, p.result, NULL, NULL)));
  g_assert_cmpint (fs_thread_join_finish (thread, p.result, NULL), ==, FS_WAIT_OK);
  g_clear_object (&p.result);

  /* Another generator's result. */
  p.done = FALSE;
  fs_background_generator_next_async (bg, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);
  CHECK_CRITICAL ("*g_task_is_valid*", g_assert_null (fs_background_generator_next_finish_full (values, p.result, NULL, NULL)));
  {
    FsWaitStatus status = FS_WAIT_OK;

    g_assert_null (fs_background_generator_next_finish_full (bg, p.result, &status, NULL));
    g_assert_cmpint (status, ==, FS_WAIT_END);
  }
  g_clear_object (&p.result);

  /* This object's, but of another call. */
  g_task_return_boolean (untagged_group, TRUE);
  g_task_return_boolean (untagged_thread, TRUE);
  g_task_return_boolean (untagged_bg, TRUE);
  CHECK_CRITICAL ("*source_tag*", g_assert_cmpint (fs_multi_thread_join_finish (group, G_ASYNC_RESULT (untagged_group), NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*source_tag*", g_assert_cmpint (fs_thread_join_finish (thread, G_ASYNC_RESULT (untagged_thread), NULL), ==, FS_WAIT_NOT_STARTED));
  CHECK_CRITICAL ("*source_tag*", g_assert_null (fs_background_generator_next_finish_full (values, G_ASYNC_RESULT (untagged_bg), NULL, NULL)));
  g_assert_false (G_IS_VALUE (&value));
}

/* The value API misused. */

static void
test_value_misuse (void)
{
  g_autoptr(FsBackgroundGenerator) values = NULL;
  g_autoptr(FsBackgroundGenerator) pointers = NULL;
  GValue value = G_VALUE_INIT;
  Pending p = { 0 };

  values = fs_background_generator_new_for_values (1, "value-misuse", yield_one_value, NULL, NULL);
  pointers = fs_background_generator_new (1, "pointer-misuse", noop_generator, NULL, NULL, NULL);

  /* A value already holding something would be overwritten: refused,
   * and nothing is taken. */
  g_value_init (&value, G_TYPE_STRING);
  CHECK_CRITICAL ("*!G_IS_VALUE (value)*", g_assert_cmpint (fs_background_generator_next_value (values, -1, NULL, &value, NULL), ==, FS_WAIT_CLOSED));
  CHECK_CRITICAL ("*!G_IS_VALUE (value)*", g_assert_cmpint (fs_background_generator_next_value (values, 0, NULL, &value, NULL), ==, FS_WAIT_CLOSED));
  g_assert_true (G_VALUE_HOLDS_STRING (&value));
  g_value_unset (&value);
  fs_background_generator_next_async (values, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);
  {
    FsWaitStatus status = FS_WAIT_FAILED;
    GValue *got = fs_background_generator_next_finish_full (values, p.result, &status, NULL);

    g_assert_cmpint (status, ==, FS_WAIT_OK);
    g_assert_nonnull (got);
    g_assert_cmpint (g_value_get_int (got), ==, 7);
    g_boxed_free (G_TYPE_VALUE, got);
  }
  g_clear_object (&p.result);

  /* The value calls on a stream of pointers: no misuse since 0.2, an
   * item would come as a G_TYPE_POINTER value. */
  g_assert_cmpint (fs_background_generator_next_value (pointers, -1, NULL, &value, NULL), ==, FS_WAIT_END);
  g_assert_true (G_VALUE_HOLDS_OBJECT (&value));
  g_value_unset (&value);
  p.done = FALSE;
  fs_background_generator_next_async (pointers, NULL, keep_result, &p);
  fs_test_iterate_until (&p.done);
  {
    FsWaitStatus status = FS_WAIT_OK;

    g_assert_null (fs_background_generator_next_finish_full (pointers, p.result, &status, NULL));
    g_assert_cmpint (status, ==, FS_WAIT_END);
  }
  g_clear_object (&p.result);
  g_assert_false (G_IS_VALUE (&value));
}

/* The producer's end misused. */

typedef struct
{
  FsGenerator *kept;
} KeptGenerator;

static gboolean
keep_generator (FsGenerator  *gen,
                gpointer      data,
                GError      **error)
{
  KeptGenerator *k = data;

  k->kept = g_object_ref (gen);
  return TRUE;
}

static void
test_generator_misuse (void)
{
  g_autoptr(FsGenerator) orphan = g_object_new (FS_TYPE_GENERATOR, NULL);
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  GValue unset = G_VALUE_INIT;
  KeptGenerator k = { NULL };
  KeptGenerator kv = { NULL };

  /* One made outside a background generator has no stream. */
  CHECK_CRITICAL ("*self->queue != NULL*", g_assert_false (fs_generator_yield (orphan, NULL, NULL)));
  CHECK_CRITICAL ("*self->queue != NULL*", g_assert_true (fs_generator_is_closed (orphan)));

  /* Kept past the end of its function: a yield is a bug of the generator,
   * the item is freed, and the stream says it is over. */
  bg = fs_background_generator_new (1, "kept", keep_generator, &k, NULL, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, NULL, -1, NULL, NULL), ==, FS_WAIT_END);
  CHECK_CRITICAL ("*yielded after its generator function returned*",
                  g_assert_false (fs_generator_yield (k.kept, NULL, &error)));
  g_assert_error (error, FS_ERROR, FS_ERROR_CLOSED);
  g_clear_error (&error);

  /* yield_value on a stream of pointers, and with no value. */
  g_value_init (&value, G_TYPE_INT);
  CHECK_CRITICAL ("*self->values*", g_assert_false (fs_generator_yield_value (k.kept, &value, NULL)));
  g_clear_object (&bg);
  bg = fs_background_generator_new_for_values (1, "kept-values", keep_generator, &kv, NULL);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, NULL, NULL), ==, FS_WAIT_END);
  CHECK_CRITICAL ("*G_IS_VALUE (value)*", g_assert_false (fs_generator_yield_value (kv.kept, &unset, NULL)));
  CHECK_CRITICAL ("*G_IS_VALUE (value)*", g_assert_false (fs_generator_yield_value (kv.kept, NULL, NULL)));

  /* An error location that holds an error already. */
  error = g_error_new_literal (TEST_ERROR, 2, "already here");
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (fs_generator_yield (k.kept, NULL, &error)));
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_false (fs_generator_yield_value (kv.kept, &value, &error)));
  g_assert_error (error, TEST_ERROR, 2);
  g_clear_error (&error);

  /* After the close, a yield is refused without a critical. */
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_false (fs_generator_yield_value (kv.kept, &value, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_CLOSED);

  g_clear_object (&k.kept);
  g_clear_object (&kv.kept);
}

/* The file loader given bad files. */

static void
test_files_bad (void)
{
  g_autoptr(GFile) file = g_file_new_for_path ("/nonexistent/fsthread-bad-input");
  g_autoptr(GFile) dir = g_file_new_for_path (g_get_tmp_dir ());
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  GFile *files[2] = { NULL, NULL };
  g_auto(GValue) value = G_VALUE_INIT;
  FsLoadedFile *loaded;
  GBytes *contents;

  CHECK_CRITICAL ("*files != NULL || n_files == 0*", g_assert_null (fs_background_generator_new_for_files (NULL, 2, 1)));
  CHECK_CRITICAL ("*G_IS_FILE*", g_assert_null (fs_background_generator_new_for_files (files, 2, 1)));
  files[0] = file;
  CHECK_CRITICAL ("*prefetch >= 1*", g_assert_null (fs_background_generator_new_for_files (files, 1, 0)));

  /* No files: an empty stream. */
  bg = fs_background_generator_new_for_files (NULL, 0, 1);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_clear_object (&bg);

  /* A file that is missing, or a directory: the stream goes on, and the
   * loaded file holds the error. */
  files[1] = dir;
  bg = fs_background_generator_new_for_files (files, 2, 1);
  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  loaded = g_value_get_object (&value);
  contents = fs_loaded_file_get_contents (loaded, &error);
  g_assert_null (contents);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  CHECK_CRITICAL ("*error == NULL || *error == NULL*", g_assert_null (fs_loaded_file_get_contents (loaded, &error)));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_value_unset (&value);

  g_assert_cmpint (fs_background_generator_next_value (bg, -1, NULL, &value, &error), ==, FS_WAIT_OK);
  contents = fs_loaded_file_get_contents (g_value_get_object (&value), &error);
  g_assert_null (contents);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
}

/* Waits that are told to stop, or to stop at once. */

static gboolean
wait_for_cancel (FsThread  *thread,
                 gpointer   data,
                 GError   **error)
{
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  FsTestGate *gate = data;

  /* Polled: this target is released by the test's cancel, and the gate
   * says when it may start looking. */
  fs_test_gate_wait (gate);
  while (!g_cancellable_is_cancelled (cancellable))
    g_thread_yield ();
  return TRUE;
}

static void
join_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      data)
{
  Pending *p = data;

  p->result = g_object_ref (result);
  p->done = TRUE;
}

static gboolean
hold_until_released (FsGenerator  *gen,
                     gpointer      data,
                     GError      **error)
{
  fs_test_gate_wait (data);
  return TRUE;
}

static void
test_waits_stopped (void)
{
  FsTestGate gate;
  g_autoptr(FsThread) thread = NULL;
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  FsTestGate held;
  Pending p = { 0 };
  gpointer item = NULL;

  fs_test_gate_init (&gate);
  fs_test_gate_init (&held);
  g_cancellable_cancel (cancelled);
  thread = fs_thread_new ("stopped-waits", wait_for_cancel, &gate, NULL);
  group = fs_multi_thread_new ("stopped-waits", 2, wait_for_cancel, &gate, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_true (fs_multi_thread_start (group, NULL));

  /* A timeout of 0 answers at once, with a status and no error. */
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);

  /* A cancelled cancellable stops the wait, not the thread. */
  g_assert_cmpint (fs_thread_join (thread, -1, cancelled, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, cancelled, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  fs_thread_join_async (thread, cancelled, join_cb, &p);
  fs_test_iterate_until (&p.done);
  g_assert_cmpint (fs_thread_join_finish (thread, p.result, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_clear_object (&p.result);
  p.done = FALSE;
  fs_multi_thread_join_async (group, cancelled, join_cb, &p);
  fs_test_iterate_until (&p.done);
  g_assert_cmpint (fs_multi_thread_join_finish (group, p.result, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_clear_object (&p.result);
  g_assert_true (fs_thread_is_alive (thread));

  fs_test_gate_open (&gate);
  fs_thread_cancel (thread);
  fs_multi_thread_cancel (group);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, NULL), ==, FS_WAIT_OK);

  /* The same for the next item. */
  bg = fs_background_generator_new (1, "stopped-next", hold_until_released, &held, NULL, NULL);
  g_assert_cmpint (fs_background_generator_next (bg, &item, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, cancelled, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  p.done = FALSE;
  fs_background_generator_next_async (bg, cancelled, keep_result, &p);
  fs_test_iterate_until (&p.done);
  {
    FsWaitStatus status = FS_WAIT_OK;

    g_assert_null (fs_background_generator_next_finish_full (bg, p.result, &status, &error));
    g_assert_cmpint (status, ==, FS_WAIT_CANCELLED);
    g_assert_no_error (error);
  }
  g_clear_object (&p.result);
  g_assert_null (item);
  fs_test_gate_open (&held);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);

  /* And for the close's wait for its producer, which here does not look
   * at its cancellable: the stream is closed all the same. */
  {
    g_autoptr(FsBackgroundGenerator) held_bg = NULL;
    FsTestGate held_too;

    fs_test_gate_init (&held_too);
    held_bg = fs_background_generator_new (1, "stopped-close", hold_until_released, &held_too,
                                           NULL, NULL);
    g_assert_cmpint (fs_background_generator_close (held_bg, 0, NULL), ==, FS_WAIT_TIMED_OUT);
    g_assert_true (fs_background_generator_is_closed (held_bg));
    g_assert_cmpint (fs_background_generator_close (held_bg, 1000, NULL), ==, FS_WAIT_TIMED_OUT);
    g_assert_cmpint (fs_background_generator_close (held_bg, -1, cancelled), ==, FS_WAIT_CANCELLED);
    g_assert_cmpint (fs_background_generator_next (held_bg, &item, -1, NULL, &error), ==, FS_WAIT_CLOSED);
    g_assert_no_error (error);
    fs_test_gate_open (&held_too);
    g_assert_cmpint (fs_background_generator_close (held_bg, -1, NULL), ==, FS_WAIT_OK);
    g_clear_object (&held_bg);
    fs_test_gate_clear (&held_too);
  }

  fs_test_gate_clear (&gate);
  fs_test_gate_clear (&held);
}

static gboolean
wait_on_self (FsThread  *thread,
              gpointer   data,
              GError   **error)
{
  FsMultiThread **group = data;

  /* A wait on oneself would never end: it says so at once, whatever the
   * bound, and synchronously or not. */
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_WOULD_DEADLOCK);
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, NULL), ==, FS_WAIT_WOULD_DEADLOCK);
  if (*group != NULL)
    {
      g_assert_cmpint (fs_multi_thread_join (*group, -1, NULL, NULL), ==, FS_WAIT_WOULD_DEADLOCK);
      g_assert_cmpint (fs_multi_thread_join (*group, 0, NULL, NULL), ==, FS_WAIT_WOULD_DEADLOCK);
    }
  return TRUE;
}

static void
test_wait_on_self (void)
{
  FsMultiThread *group = NULL;
  FsMultiThread *none = NULL;
  g_autoptr(FsThread) thread = fs_thread_new ("wait-self", wait_on_self, &none, NULL);

  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);

  group = fs_multi_thread_new ("wait-self", 2, wait_on_self, &group, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, NULL), ==, FS_WAIT_OK);
  g_object_unref (group);
}

static void
test_thread_start_finished_unjoined (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("finished", noop_target, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (fs_thread_start (thread, NULL));
  while (fs_thread_is_alive (thread))
    g_thread_yield ();
  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);
  /* Joined: it may run again. */
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
}

/* Objects made with g_object_new() (as GJS's `new Fs.Thread()` does):
 * usable, or criticals and harmless returns, never a crash. */

static void
test_g_object_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FsThread) thread = g_object_new (FS_TYPE_THREAD, NULL);
  g_autoptr(FsMultiThread) group = g_object_new (FS_TYPE_MULTI_THREAD, NULL);
  g_autoptr(FsErrorState) state = g_object_new (FS_TYPE_ERROR_STATE, NULL);
  g_autoptr(FsGenerator) gen = g_object_new (FS_TYPE_GENERATOR, NULL);
  g_autoptr(GPtrArray) errors = NULL;
  GValue value = G_VALUE_INIT;

  /* A thread and a group with no target run nothing, and succeed. */
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (fs_multi_thread_get_thread_count (group), ==, 1);

  /* An error state as fs_error_state_new() makes it. */
  g_assert_false (fs_error_state_get_has_error (state));
  g_assert_true (fs_error_state_re_raise (state, &error));
  error = g_error_new_literal (TEST_ERROR, 3, "kept");
  fs_error_state_set (state, error);
  g_clear_error (&error);
  g_assert_false (fs_error_state_re_raise (state, &error));
  g_assert_error (error, TEST_ERROR, 3);
  g_clear_error (&error);
  errors = fs_error_state_dup_errors (state);
  g_assert_cmpuint (errors->len, ==, 1);

  /* A generator belongs to a background generator: alone it has no
   * stream, and says so. */
  CHECK_CRITICAL ("*queue*", g_assert_false (fs_generator_yield (gen, NULL, &error)));
  g_assert_no_error (error);
  g_value_init (&value, G_TYPE_INT);
  CHECK_CRITICAL ("*queue*", g_assert_false (fs_generator_yield_value (gen, &value, &error)));
  g_assert_no_error (error);
  g_value_unset (&value);
  CHECK_CRITICAL ("*queue*", g_assert_true (fs_generator_is_closed (gen)));
  (void) fs_generator_get_cancellable (gen);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/bad-input/null-target", test_null_target);
  g_test_add_func ("/bad-input/prefetch-zero", test_prefetch_zero);
  g_test_add_func ("/bad-input/thread-count-zero", test_thread_count_zero);
  g_test_add_func ("/bad-input/start-twice", test_start_twice);
  g_test_add_func ("/bad-input/join-before-start", test_join_before_start);
  g_test_add_func ("/bad-input/join-from-inside", test_join_from_inside);
  g_test_add_func ("/bad-input/close-twice", test_close_twice);
  g_test_add_func ("/bad-input/next-after-close", test_next_after_close);
  g_test_add_func ("/bad-input/re-raise-empty", test_re_raise_empty);
  g_test_add_func ("/bad-input/false-without-error", test_false_without_error);
  g_test_add_func ("/bad-input/generator-yields-nothing", test_generator_yields_nothing);
  g_test_add_func ("/bad-input/generator-fails-at-once", test_generator_fails_at_once);
  g_test_add_func ("/bad-input/null-self", test_null_self);
  g_test_add_func ("/bad-input/error-state-set-null", test_error_state_set_null);
  g_test_add_func ("/bad-input/error-already-set", test_error_already_set);
  g_test_add_func ("/bad-input/values-api-on-pointer-stream", test_values_api_on_pointer_stream);
  g_test_add_func ("/bad-input/null-self-everywhere", test_null_self_everywhere);
  g_test_add_func ("/bad-input/wrong-type-self", test_wrong_type_self);
  g_test_add_func ("/bad-input/error-preset-everywhere", test_error_preset_everywhere);
  g_test_add_func ("/bad-input/bad-cancellable", test_bad_cancellable);
  g_test_add_func ("/bad-input/finish-foreign-result", test_finish_foreign_result);
  g_test_add_func ("/bad-input/value-misuse", test_value_misuse);
  g_test_add_func ("/bad-input/generator-misuse", test_generator_misuse);
  g_test_add_func ("/bad-input/files", test_files_bad);
  g_test_add_func ("/bad-input/waits-stopped", test_waits_stopped);
  g_test_add_func ("/bad-input/wait-on-self", test_wait_on_self);
  g_test_add_func ("/bad-input/start-finished-unjoined", test_thread_start_finished_unjoined);
  g_test_add_func ("/bad-input/g-object-new", test_g_object_new);

  return g_test_run ();
}
