/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* installed.c: built by test-install.sh against an installed fsthread only,
 * with `pkg-config --cflags --libs fsthread-1`. */

#include <fsthread.h>

#if !FS_CHECK_VERSION (0, 1, 0)
# error "fs-version.h is not the installed one"
#endif

static gboolean
count (FsGenerator *gen, gpointer user_data, GError **error)
{
  for (guint i = 1; i <= 100; i++)
    if (!fs_generator_yield (gen, GUINT_TO_POINTER (i), error))
      return FALSE;
  return TRUE;
}

static gboolean
fail (FsThread *thread, gpointer user_data, GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "no access");
  return FALSE;
}

int
main (void)
{
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;
  FsWaitStatus status;
  gpointer item;
  guint sum = 0;

  if (!fs_check_version (FS_MAJOR_VERSION, FS_MINOR_VERSION, FS_MICRO_VERSION) ||
      fs_get_minor_version () != FS_MINOR_VERSION)
    g_error ("the library (%u.%u.%u) is not the one of the headers (%s)",
             fs_get_major_version (), fs_get_minor_version (),
             fs_get_micro_version (), FS_VERSION_S);

  bg = fs_background_generator_new (4, "installed-counter", count, NULL, NULL, NULL);
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    sum += GPOINTER_TO_UINT (item);
  if (status != FS_WAIT_END || sum != 5050)
    g_error ("sum %u: %s", sum, error != NULL ? error->message : "no error");

  group = fs_multi_thread_new ("installed-group", fs_total_cpus (), fail, NULL, NULL);
  if (!fs_multi_thread_start (group, &error))
    g_error ("%s", error->message);
  if (fs_multi_thread_join (group, -1, NULL, &error) != FS_WAIT_FAILED ||
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_error ("the group's error was lost");

  g_print ("C against the installed fsthread %s: ok\n", FS_VERSION_S);
  return 0;
}
