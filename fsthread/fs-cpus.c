/* fs-cpus.c: how many CPUs this process may use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_SCHED_GETAFFINITY
# include <sched.h>
#endif

#include "fs-cpus.h"
#include "fs-cpus-private.h"

/* The CPUs in the affinity mask of the calling thread, or the online CPUs
 * where there is no mask. 0 when neither is known. */
guint
_fs_cpus_affinity (void)
{
#ifdef HAVE_SCHED_GETAFFINITY
  /* The mask can be wider than cpu_set_t on very large hosts: grow it. */
  for (gsize n_cpus = CPU_SETSIZE; n_cpus <= 1 << 20; n_cpus *= 2)
    {
      gsize size = CPU_ALLOC_SIZE (n_cpus);
      cpu_set_t *set = CPU_ALLOC (n_cpus);
      int count;

      if (set == NULL)
        break;

      CPU_ZERO_S (size, set);
      if (sched_getaffinity (0, size, set) == 0)
        {
          count = CPU_COUNT_S (size, set);
          CPU_FREE (set);
          return count > 0 ? (guint) count : 0;
        }

      CPU_FREE (set);
      if (errno != EINVAL)
        break;
    }
#endif

  {
    long online = sysconf (_SC_NPROCESSORS_ONLN);
    return online > 0 ? (guint) online : 0;
  }
}

/* Reads one cgroup v2 cpu.max file: "max PERIOD" or "QUOTA PERIOD".
 * Returns the quota in CPUs, rounded up, or 0 when there is none. */
static guint
read_cpu_max (const char *path)
{
  g_autofree char *contents = NULL;
  char *end = NULL;
  guint64 quota, period;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;

  if (g_str_has_prefix (contents, "max"))
    return 0;

  quota = g_ascii_strtoull (contents, &end, 10);
  if (end == contents || quota == 0)
    return 0;

  period = g_ascii_strtoull (end, NULL, 10);
  if (period == 0)
    return 0;

  return (guint) MIN ((quota + period - 1) / period, G_MAXUINT);
}

/* The smallest cgroup v2 CPU quota on the path from this process's cgroup
 * up to the root, in whole CPUs rounded up; 0 when no quota applies.
 *
 * @proc_self_cgroup: usually /proc/self/cgroup
 * @cgroup_mount: usually /sys/fs/cgroup
 */
guint
_fs_cpus_cgroup_limit (const char *proc_self_cgroup,
                       const char *cgroup_mount)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *dir = NULL;
  const char *relative = NULL;
  guint limit = 0;

  if (!g_file_get_contents (proc_self_cgroup, &contents, NULL, NULL))
    return 0;

  /* The unified hierarchy's line is "0::/path". */
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "0::"))
        {
          relative = lines[i] + 3;
          break;
        }
    }

  if (relative == NULL || relative[0] != '/')
    return 0;

  /* A path that tries to leave the mount is not followed. */
  {
    g_auto(GStrv) parts = g_strsplit (relative, "/", -1);

    for (guint i = 0; parts[i] != NULL; i++)
      if (g_str_equal (parts[i], ".."))
        return 0;
  }

  dir = g_build_filename (cgroup_mount, relative, NULL);

  for (;;)
    {
      g_autofree char *cpu_max = g_build_filename (dir, "cpu.max", NULL);
      guint here = read_cpu_max (cpu_max);
      char *parent;

      if (here > 0 && (limit == 0 || here < limit))
        limit = here;

      if (strlen (dir) <= strlen (cgroup_mount))
        break;

      parent = g_path_get_dirname (dir);
      g_free (dir);
      dir = parent;
    }

  return limit;
}

/**
 * fs_total_cpus:
 *
 * The number of CPUs this process may really use: the CPUs in its affinity
 * mask (as `taskset` or `sched_setaffinity()` set it), and no more than its
 * cgroup v2 CPU quota (`cpu.max`, as a container's `--cpus` sets it),
 * rounded up. Never less than 1.
 *
 * The original's `total_cpus()` counted every CPU of the host, and so does
 * g_get_num_processors() in GLib 2.74: in a container limited to 2 CPUs on
 * a 64-CPU host they say 64, this says 2.
 *
 * The value is computed on every call, since the affinity can change.
 *
 * Returns: the number of CPUs to size a group of workers by
 *
 * Since: 0.1
 */
guint
fs_total_cpus (void)
{
  guint cpus = _fs_cpus_affinity ();
  guint quota = _fs_cpus_cgroup_limit ("/proc/self/cgroup", "/sys/fs/cgroup");

  if (quota > 0 && (cpus == 0 || quota < cpus))
    cpus = quota;

  return MAX (cpus, 1);
}
