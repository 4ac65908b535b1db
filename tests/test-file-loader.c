/* test-file-loader.c: fs_background_generator_new_for_files()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <sys/stat.h>

#include <glib/gstdio.h>

#include <fsthread.h>

#include "fs-test-util.h"

typedef struct
{
  char      *dir;
  GPtrArray *files;
} Fixture;

static GFile *
add_file (Fixture    *fixture,
          const char *name,
          const char *contents)
{
  g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
  GFile *file = g_file_new_for_path (path);

  if (contents != NULL)
    g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  g_ptr_array_add (fixture->files, file);
  return file;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("fs-file-loader-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->files = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  for (guint i = 0; i < fixture->files->len; i++)
    g_file_delete (g_ptr_array_index (fixture->files, i), NULL, NULL);
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  g_ptr_array_unref (fixture->files);
}

/* The next file, or NULL at the end: the loader's stream never fails, a
 * file's error comes in its item. */
static FsLoadedFile *
next_loaded_status (FsBackgroundGenerator *bg,
                    FsWaitStatus           expected_end)
{
  g_autoptr(GError) error = NULL;
  GValue value = G_VALUE_INIT;
  FsLoadedFile *loaded;
  FsWaitStatus status;

  status = fs_background_generator_next_value (bg, -1, NULL, &value, &error);
  g_assert_no_error (error);
  if (status != FS_WAIT_OK)
    {
      g_assert_cmpint (status, ==, expected_end);
      g_value_unset (&value);
      return NULL;
    }
  g_assert_true (G_VALUE_HOLDS (&value, FS_TYPE_LOADED_FILE));
  loaded = g_value_dup_object (&value);
  g_assert_nonnull (loaded);
  g_value_unset (&value);
  return loaded;
}

static FsLoadedFile *
next_loaded (FsBackgroundGenerator *bg)
{
  return next_loaded_status (bg, FS_WAIT_END);
}

static void
test_reads_in_order_with_errors (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  GFile *a = add_file (fixture, "a.txt", "alpha");
  GFile *missing = add_file (fixture, "missing.txt", NULL);
  GFile *empty = add_file (fixture, "empty.txt", "");
  GFile *b = add_file (fixture, "b.txt", "bravo");
  GFile *expected[] = { a, missing, empty, b };
  const char *contents[] = { "alpha", NULL, "", "bravo" };
  FsLoadedFile *loaded;
  guint n = 0;

  bg = fs_background_generator_new_for_files ((GFile **) fixture->files->pdata,
                                              fixture->files->len, 2);
  g_assert_cmpuint (fs_background_generator_get_prefetch (bg), ==, 2);

  while ((loaded = next_loaded (bg)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GFile) file_prop = NULL;

      g_assert_cmpuint (n, <, G_N_ELEMENTS (expected));
      g_assert_true (fs_loaded_file_get_file (loaded) == expected[n]);
      g_object_get (loaded, "file", &file_prop, NULL);
      g_assert_true (file_prop == expected[n]);

      bytes = fs_loaded_file_get_contents (loaded, &error);
      if (contents[n] == NULL)
        {
          /* The read error arrives in its place, and the stream goes on. */
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
          g_assert_null (bytes);
        }
      else
        {
          g_assert_no_error (error);
          g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                           contents[n], strlen (contents[n]));
        }
      g_object_unref (loaded);
      n++;
    }

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
}

static void
test_special_files_refused (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autofree char *fifo_path = g_build_filename (fixture->dir, "fifo", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  FsLoadedFile *loaded;

  g_assert_cmpint (mkfifo (fifo_path, 0600), ==, 0);
  add_file (fixture, "fifo", NULL);
  add_file (fixture, "after.txt", "after");

  /* Opening the fifo would block with no writer: it is refused instead. */
  bg = fs_background_generator_new_for_files ((GFile **) fixture->files->pdata,
                                              fixture->files->len, 1);
  loaded = next_loaded (bg);
  g_assert_null (fs_loaded_file_get_contents (loaded, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  g_object_unref (loaded);

  loaded = next_loaded (bg);
  bytes = fs_loaded_file_get_contents (loaded, NULL);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 5);
  g_object_unref (loaded);
  g_assert_null (next_loaded (bg));
}

static void
test_no_files (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(FsBackgroundGenerator) bg = fs_background_generator_new_for_files (NULL, 0, 1);

  g_assert_null (next_loaded (bg));
}

static void
test_close_mid_stream (Fixture       *fixture,
                       gconstpointer  data)
{
  guint before = fs_test_count_threads ();
  FsBackgroundGenerator *bg;
  FsLoadedFile *loaded;

  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("file-%u", i);

      add_file (fixture, name, name);
    }

  bg = fs_background_generator_new_for_files ((GFile **) fixture->files->pdata,
                                              fixture->files->len, 1);
  loaded = next_loaded (bg);
  g_assert_nonnull (loaded);
  g_object_unref (loaded);

  /* Dropping it mid-stream stops the reader, without waiting for it: its
   * thread goes away on its own. */
  g_object_unref (bg);
  fs_test_assert_threads_settle (before);

  /* Closed, it stops too, and the close waits for the reader. */
  bg = fs_background_generator_new_for_files ((GFile **) fixture->files->pdata,
                                              fixture->files->len, 1);
  loaded = next_loaded (bg);
  g_assert_nonnull (loaded);
  g_object_unref (loaded);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_false (fs_thread_is_alive (fs_background_generator_get_thread (bg)));
  g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (bg)));
  g_assert_null (next_loaded_status (bg, FS_WAIT_CLOSED));
  g_object_unref (bg);
  fs_test_assert_threads_settle (before);
}

static void
test_bad_input (Fixture       *fixture,
                gconstpointer  data)
{
  GFile *files[] = { NULL };

  g_test_expect_message ("Fs", G_LOG_LEVEL_CRITICAL, "*prefetch >= 1*");
  g_assert_null (fs_background_generator_new_for_files (NULL, 0, 0));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Fs", G_LOG_LEVEL_CRITICAL, "*G_IS_FILE*");
  g_assert_null (fs_background_generator_new_for_files (files, 1, 1));
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/file-loader/in-order-with-errors", test_reads_in_order_with_errors);
  ADD ("/file-loader/special-files-refused", test_special_files_refused);
  ADD ("/file-loader/no-files", test_no_files);
  ADD ("/file-loader/close-mid-stream", test_close_mid_stream);
  ADD ("/file-loader/bad-input", test_bad_input);

#undef ADD

  return g_test_run ();
}
