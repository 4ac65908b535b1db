/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* consumer.c: a program of a project that has fsthread as a subproject. It
 * runs one thread whose target fails and checks that the error comes back
 * through the join. */

#include <fsthread.h>

static gboolean
fail (FsThread *thread G_GNUC_UNUSED, gpointer user_data G_GNUC_UNUSED, GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_BUSY, "from the thread");
  return FALSE;
}

int
main (void)
{
  g_autoptr(FsThread) thread = NULL;
  g_autoptr(GError) error = NULL;

  if (!fs_check_version (FS_MAJOR_VERSION, FS_MINOR_VERSION, FS_MICRO_VERSION))
    g_error ("the library is not the one of the headers");
  if (fs_total_cpus () < 1)
    g_error ("no CPU");

  thread = fs_thread_new ("consumer", fail, NULL, NULL);
  if (!fs_thread_start (thread, &error))
    g_error ("start: %s", error->message);
#if FS_CHECK_VERSION (0, 2, 0)
  if (fs_thread_join (thread, -1, NULL, &error) != FS_WAIT_FAILED)
    g_error ("join did not fail");
#else
  if (fs_thread_join (thread, NULL, &error))
    g_error ("join did not fail");
#endif
  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY))
    g_error ("the thread's error was lost");

  g_print ("fsthread %s as a subproject: ok\n", FS_VERSION_S);
  return 0;
}
