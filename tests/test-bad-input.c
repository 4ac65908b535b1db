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
  g_assert_true (fs_multi_thread_join (group, NULL, &error));
  g_assert_no_error (error);
}

static void
test_join_before_start (void)
{
  g_autoptr(FsMultiThread) group = fs_multi_thread_new ("early", 2, noop_target, NULL, NULL);
  g_autoptr(FsThread) thread = fs_thread_new ("early", noop_target, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (fs_multi_thread_join (group, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_NOT_STARTED);
  g_clear_error (&error);
  g_assert_false (fs_thread_join (thread, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_NOT_STARTED);
}

static gboolean
join_own_group (FsThread  *thread,
                gpointer   data,
                GError   **error)
{
  FsMultiThread **group = data;
  g_autoptr(GError) local_error = NULL;

  g_assert_false (fs_multi_thread_join (*group, NULL, &local_error));
  g_assert_error (local_error, FS_ERROR, FS_ERROR_WOULD_DEADLOCK);
  g_assert_false (fs_thread_join (thread, NULL, NULL));
  return TRUE;
}

static void
test_join_from_inside (void)
{
  FsMultiThread *group = NULL;
  g_autoptr(GError) error = NULL;

  group = fs_multi_thread_new ("inside", 2, join_own_group, &group, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_true (fs_multi_thread_join (group, NULL, &error));
  g_assert_no_error (error);
  g_object_unref (group);
}

static void
test_close_twice (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;

  bg = fs_background_generator_new (1, "close-twice", noop_generator, NULL, NULL, NULL);
  fs_background_generator_close (bg);
  fs_background_generator_close (bg);
  g_assert_true (fs_background_generator_is_closed (bg));
}

static void
test_next_after_close (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  bg = fs_background_generator_new (1, "next-after-close", noop_generator, NULL, NULL, NULL);
  fs_background_generator_close (bg);
  g_assert_false (fs_background_generator_next (bg, &item, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_CLOSED);
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
  g_assert_false (fs_multi_thread_join (group, NULL, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_FAILED);
}

static void
test_generator_yields_nothing (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  bg = fs_background_generator_new (1, "empty", noop_generator, NULL, NULL, NULL);
  g_assert_false (fs_background_generator_next (bg, &item, NULL, &error));
  g_assert_no_error (error);
  /* The end is seen again by every later call. */
  g_assert_false (fs_background_generator_next (bg, &item, NULL, &error));
  g_assert_no_error (error);
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
  g_assert_false (fs_background_generator_next (bg, &item, NULL, &error));
  g_assert_error (error, TEST_ERROR, 99);
  g_clear_error (&error);
  g_assert_false (fs_background_generator_next (bg, &item, NULL, &error));
  g_assert_error (error, TEST_ERROR, 99);
}

static void
test_null_self (void)
{
  EXPECT_CRITICAL ("*FS_IS_THREAD*");
  g_assert_false (fs_thread_start (NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_THREAD*");
  g_assert_false (fs_thread_join (NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_MULTI_THREAD*");
  g_assert_false (fs_multi_thread_start (NULL, NULL));
  g_test_assert_expected_messages ();

  EXPECT_CRITICAL ("*FS_IS_BACKGROUND_GENERATOR*");
  g_assert_false (fs_background_generator_next (NULL, NULL, NULL, NULL));
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
  GValue value = G_VALUE_INIT;

  bg = fs_background_generator_new (1, "pointers", noop_generator, NULL, NULL, NULL);
  EXPECT_CRITICAL ("*self->values*");
  g_assert_false (fs_background_generator_next_value (bg, &value, NULL, NULL));
  g_test_assert_expected_messages ();
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

  return g_test_run ();
}
