/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-cpus.c: fs_total_cpus() and its seams */

#ifndef _GNU_SOURCE
# define _GNU_SOURCE 1
#endif

#include <sched.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <fsthread.h>

#include "fs-cpus-private.h"

/* A scratch tree: ROOT/cgroup is the file /proc/self/cgroup stands for,
 * ROOT/mount the cgroup2 mount point. */
typedef struct
{
  char *root;
  char *cgroup_file;
  char *mount;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->root = g_dir_make_tmp ("test-cpus-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->cgroup_file = g_build_filename (fixture->root, "cgroup", NULL);
  fixture->mount = g_build_filename (fixture->root, "mount", NULL);
  g_assert_cmpint (g_mkdir (fixture->mount, 0700), ==, 0);
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      g_assert_nonnull (dir);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_assert_cmpint (g_rmdir (path), ==, 0);
    }
  else
    {
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  remove_tree (fixture->root);
  g_free (fixture->root);
  g_free (fixture->cgroup_file);
  g_free (fixture->mount);
}

static void
write_file (const char *path,
            const char *contents)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
write_cgroup (Fixture    *fixture,
              const char *contents)
{
  write_file (fixture->cgroup_file, contents);
}

/* Writes ROOT/mount/@relative/cpu.max. */
static void
write_cpu_max (Fixture    *fixture,
               const char *relative,
               const char *contents)
{
  g_autofree char *path = g_build_filename (fixture->mount, relative, "cpu.max", NULL);

  write_file (path, contents);
}

static guint
cgroup_limit (Fixture *fixture)
{
  return _fs_cpus_cgroup_limit (fixture->cgroup_file, fixture->mount);
}

static guint
count_affinity (void)
{
  cpu_set_t set;

  CPU_ZERO (&set);
  g_assert_cmpint (sched_getaffinity (0, sizeof set, &set), ==, 0);

  return (guint) CPU_COUNT (&set);
}

static void
test_total_cpus_range (void)
{
  long online = sysconf (_SC_NPROCESSORS_ONLN);
  guint total = fs_total_cpus ();

  g_assert_cmpint (online, >=, 1);
  g_assert_cmpuint (total, >=, 1);
  g_assert_cmpuint (total, <=, (guint) online);

  /* Never more than the affinity mask allows. */
  g_assert_cmpuint (total, <=, count_affinity ());
  g_assert_cmpuint (_fs_cpus_affinity (), ==, count_affinity ());

  /* Never more than this process's cgroup quota, when there is one. */
  {
    guint quota = _fs_cpus_cgroup_limit ("/proc/self/cgroup", "/sys/fs/cgroup");

    if (quota > 0)
      g_assert_cmpuint (total, <=, quota);
    else
      g_assert_cmpuint (total, ==, count_affinity ());
  }
}

static void
test_total_cpus_affinity (void)
{
  if (g_test_subprocess ())
    {
      cpu_set_t set;
      cpu_set_t one;
      int cpu = -1;

      CPU_ZERO (&set);
      g_assert_cmpint (sched_getaffinity (0, sizeof set, &set), ==, 0);
      for (int i = 0; i < CPU_SETSIZE && cpu < 0; i++)
        if (CPU_ISSET (i, &set))
          cpu = i;
      g_assert_cmpint (cpu, >=, 0);

      CPU_ZERO (&one);
      CPU_SET (cpu, &one);
      g_assert_cmpint (sched_setaffinity (0, sizeof one, &one), ==, 0);

      g_assert_cmpuint (_fs_cpus_affinity (), ==, 1);
      g_assert_cmpuint (fs_total_cpus (), ==, 1);
      return;
    }

  if (count_affinity () < 2)
    {
      g_test_skip ("This process may use one CPU only: restricting it proves nothing");
      return;
    }

  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
}

static void
test_cgroup_quota (Fixture       *fixture,
                   gconstpointer  data)
{
  write_cgroup (fixture, "0::/a/b\n");

  /* 1.5 CPUs round up to 2. */
  write_cpu_max (fixture, "a/b", "150000 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 2);

  /* Whole CPUs stay whole. */
  write_cpu_max (fixture, "a/b", "200000 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 2);

  /* Half a CPU is one CPU, never none. */
  write_cpu_max (fixture, "a/b", "50000 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 1);

  /* A hair over a whole CPU is two. */
  write_cpu_max (fixture, "a/b", "100001 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 2);
}

static void
test_cgroup_no_quota (Fixture       *fixture,
                      gconstpointer  data)
{
  write_cgroup (fixture, "0::/a/b\n");

  write_cpu_max (fixture, "a/b", "max 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);

  /* No cpu.max anywhere on the path. */
  write_cgroup (fixture, "0::/c/d\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);
}

static void
test_cgroup_parent_wins (Fixture       *fixture,
                         gconstpointer  data)
{
  write_cgroup (fixture, "0::/a/b\n");

  /* The parent allows 1 CPU, the child 4: the parent wins. */
  write_cpu_max (fixture, "a", "100000 100000\n");
  write_cpu_max (fixture, "a/b", "400000 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 1);

  /* The child allows less than the parent: the child wins. */
  write_cpu_max (fixture, "a", "800000 100000\n");
  write_cpu_max (fixture, "a/b", "300000 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 3);

  /* A parent with no quota does not lift the child's. */
  write_cpu_max (fixture, "a", "max 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 3);

  /* The child has none, the grandparent at the mount has one. */
  write_cpu_max (fixture, "a/b", "max 100000\n");
  write_cpu_max (fixture, ".", "200000 100000\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 2);
}

static void
test_cgroup_stops_at_mount (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree char *above = g_build_filename (fixture->root, "cpu.max", NULL);

  /* A cpu.max above the mount point is none of this cgroup's business. */
  write_file (above, "100000 100000\n");
  write_cgroup (fixture, "0::/a/b\n");
  write_cpu_max (fixture, "a/b", "400000 100000\n");

  g_assert_cmpuint (cgroup_limit (fixture), ==, 4);
}

static void
test_cgroup_root (Fixture       *fixture,
                  gconstpointer  data)
{
  write_cgroup (fixture, "0::/\n");
  write_cpu_max (fixture, ".", "300000 100000\n");

  g_assert_cmpuint (cgroup_limit (fixture), ==, 3);
}

static void
test_cgroup_hybrid (Fixture       *fixture,
                    gconstpointer  data)
{
  /* v1 lines first, the unified one last. */
  write_cgroup (fixture,
                "12:cpu,cpuacct:/elsewhere\n"
                "11:memory:/elsewhere\n"
                "0::/a/b\n");
  write_cpu_max (fixture, "elsewhere", "100000 100000\n");
  write_cpu_max (fixture, "a/b", "250000 100000\n");

  g_assert_cmpuint (cgroup_limit (fixture), ==, 3);
}

static void
test_cgroup_v1_only (Fixture       *fixture,
                     gconstpointer  data)
{
  write_cgroup (fixture,
                "12:cpu,cpuacct:/a/b\n"
                "11:memory:/a/b\n"
                "1:name=systemd:/a/b\n");
  write_cpu_max (fixture, "a/b", "100000 100000\n");
  write_cpu_max (fixture, ".", "100000 100000\n");

  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);
}

static void
test_cgroup_missing_file (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (fixture->root, "no-such-file", NULL);

  write_cpu_max (fixture, ".", "100000 100000\n");

  g_assert_cmpuint (_fs_cpus_cgroup_limit (missing, fixture->mount), ==, 0);

  /* A missing mount point reads as no quota, too. */
  write_cgroup (fixture, "0::/a/b\n");
  {
    g_autofree char *no_mount = g_build_filename (fixture->root, "no-such-mount", NULL);

    g_assert_cmpuint (_fs_cpus_cgroup_limit (fixture->cgroup_file, no_mount), ==, 0);
  }
}

static void
test_cgroup_dot_dot (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *outside = g_build_filename (fixture->root, "outside", "cpu.max", NULL);

  /* Quotas outside the mount, where a ".." path would lead. */
  write_file (outside, "100000 100000\n");
  write_cpu_max (fixture, "a/outside", "100000 100000\n");

  write_cgroup (fixture, "0::/../outside\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);

  write_cgroup (fixture, "0::/a/../../outside\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);

  write_cgroup (fixture, "0::/a/..\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);

  /* A relative path is not followed either. */
  write_cgroup (fixture, "0::../outside\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 0);

  /* A directory whose name only starts with dots is an ordinary one. */
  write_cpu_max (fixture, "..data", "300000 100000\n");
  write_cgroup (fixture, "0::/..data\n");
  g_assert_cmpuint (cgroup_limit (fixture), ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/cpus/total/range", test_total_cpus_range);
  g_test_add_func ("/cpus/total/affinity", test_total_cpus_affinity);

#define ADD_CGROUP_TEST(path, func) \
  g_test_add ("/cpus/cgroup/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD_CGROUP_TEST ("quota", test_cgroup_quota);
  ADD_CGROUP_TEST ("no-quota", test_cgroup_no_quota);
  ADD_CGROUP_TEST ("parent-wins", test_cgroup_parent_wins);
  ADD_CGROUP_TEST ("stops-at-mount", test_cgroup_stops_at_mount);
  ADD_CGROUP_TEST ("root", test_cgroup_root);
  ADD_CGROUP_TEST ("hybrid", test_cgroup_hybrid);
  ADD_CGROUP_TEST ("v1-only", test_cgroup_v1_only);
  ADD_CGROUP_TEST ("missing-file", test_cgroup_missing_file);
  ADD_CGROUP_TEST ("dot-dot", test_cgroup_dot_dot);

#undef ADD_CGROUP_TEST

  return g_test_run ();
}
