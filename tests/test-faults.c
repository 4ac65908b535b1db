/* test-faults.c: what happens when things go wrong
 *
 * Thread creation refused by the operating system (a tight RLIMIT_NPROC for
 * an unprivileged user, or a tight address space), generators and targets
 * that fail, consumers and joiners cancelled while they wait, a close that
 * races the end of the stream, the last reference dropped on the producer
 * thread, and hostile values: long or invalid names, messages that are not
 * UTF-8, a prefetch near G_MAXUINT, a group far larger than the CPU count.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-faults-error"))

/* Helpers. */

/* Blocks until @cancellable fires, on a condition, never a timeout. */
typedef struct
{
  GMutex mutex;
  GCond  cond;
} CancelWait;

static void
cancel_wait_wake (GCancellable *cancellable,
                  CancelWait   *w)
{
  g_mutex_lock (&w->mutex);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->mutex);
}

static void
wait_cancelled (GCancellable *cancellable)
{
  CancelWait w;
  gulong handler;

  g_mutex_init (&w.mutex);
  g_cond_init (&w.cond);
  handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_wait_wake), &w, NULL);
  g_mutex_lock (&w.mutex);
  while (!g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&w.cond, &w.mutex);
  g_mutex_unlock (&w.mutex);
  g_cancellable_disconnect (cancellable, handler);
  g_mutex_clear (&w.mutex);
  g_cond_clear (&w.cond);
}

/* Counters of what a test's targets and data did, with a condition that
 * is broadcast on every change. */
typedef struct
{
  GMutex  mutex;
  GCond   cond;
  guint   arrived;
  guint   freed;
  guint   items_freed;
  gint    tid;
  gboolean release;
} Counters;

static Counters *
counters_new (void)
{
  Counters *c = g_new0 (Counters, 1);

  g_mutex_init (&c->mutex);
  g_cond_init (&c->cond);
  return c;
}

static void
counters_free (Counters *c)
{
  g_mutex_clear (&c->mutex);
  g_cond_clear (&c->cond);
  g_free (c);
}

static void
counters_arrive (Counters *c)
{
  g_mutex_lock (&c->mutex);
  c->arrived++;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->mutex);
}

static void
counters_wait_arrived (Counters *c,
                       guint     n)
{
  g_mutex_lock (&c->mutex);
  while (c->arrived < n)
    g_cond_wait (&c->cond, &c->mutex);
  g_mutex_unlock (&c->mutex);
}

static void
counters_release (Counters *c)
{
  g_mutex_lock (&c->mutex);
  c->release = TRUE;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->mutex);
}

static void
counters_wait_release (Counters *c)
{
  g_mutex_lock (&c->mutex);
  while (!c->release)
    g_cond_wait (&c->cond, &c->mutex);
  g_mutex_unlock (&c->mutex);
}

static void
counters_data_freed (gpointer data)
{
  Counters *c = data;

  g_mutex_lock (&c->mutex);
  c->freed++;
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->mutex);
}

static void
counters_wait_freed (Counters *c,
                     guint     n)
{
  g_mutex_lock (&c->mutex);
  while (c->freed < n)
    g_cond_wait (&c->cond, &c->mutex);
  g_mutex_unlock (&c->mutex);
}

static guint
counters_get_freed (Counters *c)
{
  guint n;

  g_mutex_lock (&c->mutex);
  n = c->freed;
  g_mutex_unlock (&c->mutex);
  return n;
}

/* An item that counts its own release. */
typedef struct
{
  Counters *counters;
  guint     index;
} Item;

static Item *
item_new (Counters *c,
          guint     index)
{
  Item *item = g_new0 (Item, 1);

  item->counters = c;
  item->index = index;
  return item;
}

static void
item_free (gpointer data)
{
  Item *item = data;

  g_mutex_lock (&item->counters->mutex);
  item->counters->items_freed++;
  g_mutex_unlock (&item->counters->mutex);
  g_free (item);
}

/* Waits until the thread @tid sleeps in the kernel: a consumer that said
 * it is about to wait is then really waiting. A bounded watch of a state
 * nothing signals, as fs_test_assert_threads_settle() does. */
static void
wait_thread_sleeping (gint tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/task/%d/stat", tid);
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autofree char *stat = NULL;
      const char *end;

      g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
      /* "tid (comm) S ...": the state follows the last ')'. */
      end = strrchr (stat, ')');
      g_assert_nonnull (end);
      if (end[1] == ' ' && end[2] == 'S')
        return;
      g_assert_cmpint (g_get_monotonic_time (), <=, give_up);
      g_thread_yield ();
    }
}

static gint
current_tid (void)
{
  return (gint) syscall (SYS_gettid);
}

/* Thread creation refused. */

/* Runs in a test subprocess as root: becomes "nobody" with room for
 * @headroom more threads of its own. Returns FALSE when it cannot. */
static gboolean
limit_threads (guint headroom)
{
  struct passwd *pw = getpwnam ("nobody");
  uid_t uid = pw != NULL ? pw->pw_uid : 65534;
  gid_t gid = pw != NULL ? pw->pw_gid : 65534;
  guint others = 0;
  struct rlimit limit;
  GDir *proc;
  const char *name;

  /* Everything that lives as long as the process starts now. */
  g_type_ensure (G_TYPE_TASK);
  fs_error_state_get_default ();

  /* The limit counts every thread of the user, also in other processes. */
  proc = g_dir_open ("/proc", 0, NULL);
  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *status = NULL;
      g_autofree char *path = NULL;
      const char *line;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_strdup_printf ("/proc/%s/status", name);
      if (!g_file_get_contents (path, &status, NULL, NULL))
        continue;
      line = strstr (status, "\nUid:\t");
      if (line != NULL && (uid_t) g_ascii_strtoull (line + 6, NULL, 10) == uid)
        {
          line = strstr (status, "\nThreads:\t");
          if (line != NULL)
            others += (guint) g_ascii_strtoull (line + 10, NULL, 10);
        }
    }
  g_dir_close (proc);

  g_assert_cmpint (getrlimit (RLIMIT_NPROC, &limit), ==, 0);
  limit.rlim_cur = others + fs_test_count_threads () + headroom;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < limit.rlim_cur)
    return FALSE;
  if (setrlimit (RLIMIT_NPROC, &limit) != 0 ||
      setgroups (0, NULL) != 0 || setgid (gid) != 0 || setuid (uid) != 0)
    return FALSE;

  /* setuid() made the process undumpable: LeakSanitizer's tracer could not
   * attach to it at exit. */
  prctl (PR_SET_DUMPABLE, 1, 0, 0, 0);
  return TRUE;
}

/* Lifts the limit again (the hard limit was left as it was). */
static void
unlimit_threads (void)
{
  struct rlimit limit;

  g_assert_cmpint (getrlimit (RLIMIT_NPROC, &limit), ==, 0);
  limit.rlim_cur = limit.rlim_max;
  g_assert_cmpint (setrlimit (RLIMIT_NPROC, &limit), ==, 0);
}

/* Runs the current test again in a subprocess as root, or skips. */
static gboolean
nproc_subprocess_or_skip (void)
{
  if (g_test_subprocess ())
    return TRUE;

  if (getuid () != 0)
    {
      g_test_skip ("RLIMIT_NPROC can only be made tight for one process as root "
                   "(which then becomes nobody)");
      return FALSE;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  return FALSE;
}

static gboolean
stall_until_cancelled (FsThread  *thread,
                       gpointer   data,
                       GError   **error)
{
  Counters *c = data;

  counters_arrive (c);
  wait_cancelled (fs_thread_get_cancellable (thread));
  return TRUE;
}

static gboolean
succeed (FsThread  *thread,
         gpointer   data,
         GError   **error)
{
  return TRUE;
}

static void
test_create_fails_thread (void)
{
  Counters *c;
  FsThread *thread;
  g_autoptr(GError) error = NULL;
  guint before;

  if (!nproc_subprocess_or_skip ())
    return;

  c = counters_new ();
  thread = fs_thread_new ("no-room", succeed, c, counters_data_freed);
  if (!limit_threads (0))
    {
      g_test_skip ("cannot become nobody with a tight RLIMIT_NPROC");
      return;
    }
  before = fs_test_count_threads ();

  g_assert_false (fs_thread_start (thread, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE);
  g_assert_nonnull (strstr (error->message, "no-room"));
  g_clear_error (&error);
  g_assert_false (fs_thread_is_alive (thread));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);

  /* A refused start leaves the thread as new: it starts once there is
   * room. */
  unlimit_threads ();
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (thread);
  g_assert_cmpuint (counters_get_freed (c), ==, 1);
  fs_test_assert_threads_settle (before);
  counters_free (c);
}

/* The group of test_create_fails_group(), which its targets ask about
 * themselves while the failed start unwinds. */
static FsMultiThread *unwinding_group;

static gboolean
stall_then_ask_group (FsThread  *thread,
                      gpointer   data,
                      GError   **error)
{
  stall_until_cancelled (thread, data, error);

  /* The start that failed is joining this thread: it must not hold the
   * group's lock meanwhile. */
  g_assert_true (fs_multi_thread_is_alive (unwinding_group));
  g_assert_false (fs_multi_thread_completed (unwinding_group));
  g_assert_false (fs_multi_thread_get_has_error (unwinding_group));
  /* The threads started are the group's run until they are joined. */
  {
    g_autoptr(GError) local_error = NULL;

    g_assert_cmpint (fs_multi_thread_join (unwinding_group, -1, NULL, &local_error), ==,
                     FS_WAIT_WOULD_DEADLOCK);
    g_assert_no_error (local_error);
  }
  return TRUE;
}

static void
test_create_fails_group (void)
{
  const guint n = 6, room = 3;
  Counters *c;
  FsMultiThread *group;
  g_autoptr(GError) error = NULL;
  guint before;
  int fds[2];

  if (!nproc_subprocess_or_skip ())
    return;

  /* A readable interrupt descriptor: it must not cut the reaping short. */
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);

  c = counters_new ();
  group = fs_multi_thread_new ("no-room-group", n, stall_then_ask_group, c, counters_data_freed);
  unwinding_group = group;
  if (!limit_threads (room))
    {
      g_test_skip ("cannot become nobody with a tight RLIMIT_NPROC");
      return;
    }
  before = fs_test_count_threads ();

  /* Three threads start, the fourth is refused: the three are cancelled
   * and joined before start returns, even though the caller's interrupt
   * descriptor is readable. */
  g_assert_cmpint (fs_wait_set_interrupt_fd (fds[0]), ==, -1);
  g_assert_false (fs_multi_thread_start (group, &error));
  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, fds[0]);
  close (fds[0]);
  close (fds[1]);
  g_assert_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE);
  g_clear_error (&error);
  g_assert_cmpuint (c->arrived, ==, room);
  g_assert_false (fs_multi_thread_is_alive (group));
  g_assert_true (fs_multi_thread_completed (group));
  fs_test_assert_threads_settle (before);

  /* Nothing to join: the start did not happen. */
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);

  /* With room, the group starts whole; the cancel of the failed start does
   * not carry over. */
  unlimit_threads ();
  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_false (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
  counters_wait_arrived (c, room + n);
  fs_multi_thread_cancel (group);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (group);
  g_assert_cmpuint (counters_get_freed (c), ==, 1);
  fs_test_assert_threads_settle (before);
  counters_free (c);
}

static gboolean
never_runs (FsGenerator  *gen,
            gpointer      data,
            GError      **error)
{
  g_assert_not_reached ();
  return FALSE;
}

static gboolean
yield_nothing (FsGenerator  *gen,
               gpointer      data,
               GError      **error)
{
  return TRUE;
}

static void
test_create_fails_generator (void)
{
  Counters *c;
  FsBackgroundGenerator *bg;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;
  guint before;

  if (!nproc_subprocess_or_skip ())
    return;

  c = counters_new ();
  if (!limit_threads (0))
    {
      g_test_skip ("cannot become nobody with a tight RLIMIT_NPROC");
      return;
    }
  before = fs_test_count_threads ();

  /* Nothing blocks and nothing fails at construction: the stream's first
   * answer is the error, and every later one. */
  bg = fs_background_generator_new (2, "no-room-gen", never_runs, c, counters_data_freed, item_free);
  g_assert_nonnull (bg);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_FAILED);
      g_assert_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE);
      g_assert_nonnull (strstr (error->message, "no-room-gen"));
      g_assert_null (item);
      g_clear_error (&error);
    }
  g_assert_false (fs_thread_is_alive (fs_background_generator_get_thread (bg)));

  unlimit_threads ();
  /* No producer to wait for. */
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_CLOSED);
  g_assert_no_error (error);

  g_object_unref (bg);
  g_assert_cmpuint (counters_get_freed (c), ==, 1);
  g_assert_cmpuint (c->items_freed, ==, 0);
  fs_test_assert_threads_settle (before);
  counters_free (c);
}

/* Where the address space cannot hold one more thread stack: the second
 * way the OS refuses a thread, for users who are not root. */

static gpointer
blocker_main (gpointer data)
{
  counters_arrive (data);
  counters_wait_release (data);
  return NULL;
}

static void
test_create_fails_address_space (void)
{
#if defined(FS_TEST_UNDER_ASAN) || defined(__SANITIZE_THREAD__)
  g_test_skip ("a sanitizer's shadow memory does not fit a tight address space");
  return;
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
  g_test_skip ("a sanitizer's shadow memory does not fit a tight address space");
  return;
# endif
#endif

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      Counters *c = counters_new ();
      FsMultiThread *group = fs_multi_thread_new ("no-space", 4, stall_until_cancelled,
                                                  c, counters_data_freed);
      FsBackgroundGenerator *bg;
      GThread *blocker;

      g_type_ensure (G_TYPE_TASK);
      fs_test_count_threads ();
      /* The C library keeps the stack of a joined thread for the next one:
       * this thread takes it, so that no stack is left to reuse. */
      blocker = g_thread_new ("blocker", blocker_main, c);
      counters_wait_arrived (c, 1);

      /* Everything the test needs is mapped now; a thread stack is not. */
      fs_test_limit_address_space (1024 * 1024);

      g_assert_false (fs_multi_thread_start (group, &error));
      g_assert_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE);
      g_clear_error (&error);
      g_assert_cmpuint (c->arrived, ==, 1);

      bg = fs_background_generator_new (1, "no-space-gen", never_runs, NULL, NULL, NULL);
      g_assert_cmpint (fs_background_generator_next (bg, NULL, -1, NULL, &error), ==, FS_WAIT_FAILED);
      g_assert_error (error, FS_ERROR, FS_ERROR_THREAD_CREATE);
      g_object_unref (bg);

      counters_release (c);
      g_thread_join (blocker);

      g_object_unref (group);
      g_assert_cmpuint (counters_get_freed (c), ==, 1);
      counters_free (c);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Failures. */

typedef struct
{
  Counters *counters;
  guint     n_items;
  guint     fail_at;
} FailingSource;

static gboolean
generate_then_fail (FsGenerator  *gen,
                    gpointer      data,
                    GError      **error)
{
  FailingSource *s = data;

  for (guint i = 0; i < s->n_items; i++)
    {
      if (i == s->fail_at)
        {
          g_set_error (error, TEST_ERROR, 40 + (gint) i, "failed at item %u", i);
          return FALSE;
        }
      if (!fs_generator_yield (gen, item_new (s->counters, i), error))
        return FALSE;
    }
  return TRUE;
}

static void
test_generator_fails_at_random_item (void)
{
  for (guint round = 0; round < 50; round++)
    {
      Counters *c = counters_new ();
      FailingSource s = { c, 0, 0 };
      FsBackgroundGenerator *bg;
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = NULL;
      guint prefetch = g_test_rand_int_range (1, 6);
      FsWaitStatus status;
      gpointer item;
      guint taken = 0;

      s.n_items = g_test_rand_int_range (1, 40);
      s.fail_at = g_test_rand_int_range (0, s.n_items);
      bg = fs_background_generator_new (prefetch, "fails-at-random", generate_then_fail,
                                        &s, NULL, item_free);

      /* Every item before the failure, in order, then the error with its
       * domain and code, every time it is asked. */
      while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
        {
          g_assert_cmpuint (((Item *) item)->index, ==, taken);
          taken++;
          item_free (item);
        }
      g_assert_cmpint (status, ==, FS_WAIT_FAILED);
      g_assert_cmpuint (taken, ==, s.fail_at);
      g_assert_error (error, TEST_ERROR, 40 + (gint) s.fail_at);
      expected = g_strdup_printf ("Error in thread (%s): failed at item %u",
                                  fs_background_generator_get_name (bg), s.fail_at);
      g_assert_cmpstr (error->message, ==, expected);
      g_clear_error (&error);
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_FAILED);
      g_assert_error (error, TEST_ERROR, 40 + (gint) s.fail_at);

      /* Listed once, where the producer's failures go. */
      g_assert_cmpuint (fs_error_state_get_n_errors (fs_thread_get_error_state (
                          fs_background_generator_get_thread (bg))), ==, 1);

      g_object_unref (bg);
      g_assert_cmpuint (c->items_freed, ==, s.fail_at);
      counters_free (c);
    }
}

static gboolean
fail_at_once (FsThread  *thread,
              gpointer   data,
              GError   **error)
{
  g_set_error (error, TEST_ERROR, 100 + (gint) fs_thread_get_index (thread),
               "thread %u failed at once", fs_thread_get_index (thread));
  return FALSE;
}

static void
test_target_fails_at_once (void)
{
  const guint n = 8;
  g_autoptr(FsThread) thread = fs_thread_new ("fails-at-once", fail_at_once, NULL, NULL);
  g_autoptr(FsMultiThread) group = fs_multi_thread_new ("all-fail", n, fail_at_once, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  gboolean seen[8] = { FALSE, };

  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 100);
  g_assert_true (g_cancellable_is_cancelled (fs_thread_get_cancellable (thread)));
  g_clear_error (&error);

  /* Every thread fails at once: join raises the first, every one is
   * listed once. */
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  errors = fs_multi_thread_dup_errors (group);
  g_assert_cmpuint (errors->len, ==, n);
  g_assert_true (g_error_matches (error, TEST_ERROR,
                                  ((GError *) g_ptr_array_index (errors, 0))->code));
  for (guint i = 0; i < errors->len; i++)
    {
      GError *e = g_ptr_array_index (errors, i);
      guint index = (guint) e->code - 100;

      g_assert_true (e->domain == TEST_ERROR);
      g_assert_cmpuint (index, <, n);
      g_assert_false (seen[index]);
      seen[index] = TRUE;
    }
  g_assert_true (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
}

static gboolean
first_fails_others_stall (FsThread  *thread,
                          gpointer   data,
                          GError   **error)
{
  if (fs_thread_get_index (thread) == 0)
    return fail_at_once (thread, data, error);
  return stall_until_cancelled (thread, data, error);
}

static void
test_target_fails_others_stop (void)
{
  Counters *c = counters_new ();
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;

  /* Fail fast: the failure cancels the group, and the others, waiting
   * for that, return. */
  group = fs_multi_thread_new ("fail-fast", 5, first_fails_others_stall, c, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 100);
  g_assert_cmpuint (c->arrived, ==, 4);
  g_assert_cmpuint (fs_error_state_get_n_errors (fs_multi_thread_get_error_state (group)), ==, 1);
  counters_free (c);
}

/* Cancelled while blocked. */

typedef struct
{
  Counters     *counters;
  GCancellable *cancellable;
} Canceller;

static gpointer
cancel_when_sleeping (gpointer data)
{
  Canceller *k = data;

  g_mutex_lock (&k->counters->mutex);
  while (k->counters->tid == 0)
    g_cond_wait (&k->counters->cond, &k->counters->mutex);
  g_mutex_unlock (&k->counters->mutex);
  wait_thread_sleeping (k->counters->tid);
  g_cancellable_cancel (k->cancellable);
  return NULL;
}

static void
announce_tid (Counters *c)
{
  g_mutex_lock (&c->mutex);
  c->tid = current_tid ();
  g_cond_broadcast (&c->cond);
  g_mutex_unlock (&c->mutex);
}

static gboolean
yield_when_released (FsGenerator  *gen,
                     gpointer      data,
                     GError      **error)
{
  Counters *c = data;

  counters_wait_release (c);
  for (guint i = 0; i < 3; i++)
    if (!fs_generator_yield (gen, item_new (c, i), error))
      return FALSE;
  return TRUE;
}

static void
test_consumer_cancelled_while_blocked (void)
{
  Counters *c = counters_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  Canceller k = { c, cancellable };
  GThread *canceller;
  gpointer item = NULL;

  bg = fs_background_generator_new (1, "cancel-blocked", yield_when_released, c, NULL, item_free);

  /* The queue is empty until released: the consumer blocks, and another
   * thread cancels it once it sleeps. */
  canceller = g_thread_new ("canceller", cancel_when_sleeping, &k);
  announce_tid (c);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_assert_null (item);
  g_thread_join (canceller);

  /* The cancelled wait took nothing: every item still comes. */
  counters_release (c);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_cmpuint (((Item *) item)->index, ==, i);
      item_free (item);
    }
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);

  g_object_unref (bg);
  g_assert_cmpuint (c->items_freed, ==, 3);
  counters_free (c);
}

typedef struct
{
  gboolean  done;
  gboolean  ret;
  gpointer  item;
  GError   *error;
  FsWaitStatus next_status;   /* next_done() only */
} AsyncResult;

/* ret: an item came, as a G_TYPE_POINTER value, with FS_WAIT_OK. */
static void
next_done (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  AsyncResult *r = data;
  GValue *value;

  r->next_status = FS_WAIT_FAILED;
  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object), result,
                                               &r->next_status, &r->error);
  r->ret = value != NULL;
  g_assert_cmpint (r->ret, ==, r->next_status == FS_WAIT_OK);
  g_assert_cmpint (r->error != NULL, ==, r->next_status == FS_WAIT_FAILED);
  if (value != NULL)
    {
      g_assert_true (G_VALUE_HOLDS_POINTER (value));
      r->item = g_value_get_pointer (value);
      g_boxed_free (G_TYPE_VALUE, value);
    }
  r->done = TRUE;
}

static gpointer
cancel_when_arrived (gpointer data)
{
  Canceller *k = data;

  counters_wait_arrived (k->counters, 1);
  g_cancellable_cancel (k->cancellable);
  return NULL;
}

static gboolean
arrive_then_yield_when_released (FsGenerator  *gen,
                                 gpointer      data,
                                 GError      **error)
{
  counters_arrive (data);
  return yield_when_released (gen, data, error);
}

static void
test_async_consumer_cancelled_while_waiting (void)
{
  Counters *c = counters_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  FsBackgroundGenerator *bg;
  Canceller k = { c, cancellable };
  AsyncResult r = { 0 };
  GThread *canceller;

  bg = fs_background_generator_new (1, "cancel-async", arrive_then_yield_when_released,
                                    c, NULL, item_free);

  /* Pending, then cancelled from another thread. */
  fs_background_generator_next_async (bg, cancellable, next_done, &r);
  canceller = g_thread_new ("canceller", cancel_when_arrived, &k);
  fs_test_iterate_until (&r.done);
  g_thread_join (canceller);
  g_assert_false (r.ret);
  g_assert_cmpint (r.next_status, ==, FS_WAIT_CANCELLED);
  g_assert_no_error (r.error);
  g_assert_null (r.item);

  counters_release (c);
  for (guint i = 0; i < 3; i++)
    {
      memset (&r, 0, sizeof r);
      fs_background_generator_next_async (bg, NULL, next_done, &r);
      fs_test_iterate_until (&r.done);
      g_assert_true (r.ret);
      g_assert_cmpint (r.next_status, ==, FS_WAIT_OK);
      g_assert_cmpuint (((Item *) r.item)->index, ==, i);
      item_free (r.item);
    }

  g_object_unref (bg);
  g_assert_cmpuint (c->items_freed, ==, 3);
  counters_free (c);
}

static void
test_joiner_cancelled_while_blocked (void)
{
  Counters *c = counters_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FsMultiThread) group = NULL;
  Canceller k = { c, cancellable };
  GThread *canceller;

  group = fs_multi_thread_new ("join-cancelled", 3, stall_until_cancelled, c, NULL);
  g_assert_true (fs_multi_thread_start (group, NULL));
  counters_wait_arrived (c, 3);

  canceller = g_thread_new ("canceller", cancel_when_sleeping, &k);
  announce_tid (c);
  g_assert_cmpint (fs_multi_thread_join (group, -1, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_thread_join (canceller);

  /* The group runs on; a later join gets it. */
  g_assert_true (fs_multi_thread_is_alive (group));
  fs_multi_thread_cancel (group);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  counters_free (c);
}

/* A close racing the end of the stream. */

typedef struct
{
  Counters              *counters;
  FsBackgroundGenerator *bg;
  guint                  n_items;
  gint                   returning;
  gint                   consumed;
  gboolean               consumer_closed;
  gboolean               consumer_end;
} Race;

static gboolean
generate_and_announce_end (FsGenerator  *gen,
                           gpointer      data,
                           GError      **error)
{
  Race *race = data;

  for (guint i = 0; i < race->n_items; i++)
    if (!fs_generator_yield (gen, item_new (race->counters, i), error))
      return FALSE;
  /* The closer starts now: its close meets the end being queued. */
  g_atomic_int_set (&race->returning, 1);
  counters_arrive (race->counters);
  return TRUE;
}

static gpointer
race_consumer (gpointer data)
{
  Race *race = data;
  GError *error = NULL;
  FsWaitStatus status;
  gpointer item;

  while ((status = fs_background_generator_next (race->bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    {
      g_atomic_int_inc (&race->consumed);
      item_free (item);
    }
  if (status == FS_WAIT_END && error == NULL)
    race->consumer_end = TRUE;
  else if (status == FS_WAIT_CLOSED && error == NULL)
    race->consumer_closed = TRUE;
  else
    g_error ("the consumer of a stream closed at its end got status %d and %s",
             status, error != NULL ? error->message : "no error");
  return NULL;
}

/* FS_STRESS_SCALE, as the stress suite reads it: the sanitizer and valgrind
 * runs make the loops shorter. */
static guint
scaled (guint n)
{
  const char *scale = g_getenv ("FS_STRESS_SCALE");
  double f = scale != NULL ? g_ascii_strtod (scale, NULL) : 1.0;

  if (!(f > 0))
    f = 1.0;
  return MAX (50, (guint) (n * MIN (f * 4, 1.0)));
}

static void
test_close_races_end (void)
{
  guint iterations = scaled (g_test_thorough () ? 20000 : 2000);
  guint ends = 0, closes = 0;
  guint before = fs_test_count_threads ();

  for (guint i = 0; i < iterations; i++)
    {
      Race race = { 0 };
      GThread *consumer;

      race.counters = counters_new ();
      race.n_items = g_test_rand_int_range (0, 4);
      race.bg = fs_background_generator_new (g_test_rand_int_range (1, 3), "close-race",
                                             generate_and_announce_end, &race, NULL, item_free);
      consumer = g_thread_new ("race-consumer", race_consumer, &race);

      counters_wait_arrived (race.counters, 1);
      g_assert_cmpint (fs_background_generator_close (race.bg, -1, NULL), ==, FS_WAIT_OK);
      g_assert_true (fs_background_generator_is_closed (race.bg));
      g_thread_join (consumer);

      /* The consumer saw the end or the close, never anything else; every
       * item was taken or freed once. */
      g_assert_true (race.consumer_end != race.consumer_closed);
      g_assert_cmpuint (race.counters->items_freed, ==, race.n_items);
      g_assert_cmpint (race.consumed, <=, (gint) race.n_items);
      g_assert_false (fs_thread_get_has_error (fs_background_generator_get_thread (race.bg)));
      ends += race.consumer_end;
      closes += race.consumer_closed;

      g_object_unref (race.bg);
      counters_free (race.counters);
    }

  g_test_message ("%u races: %u ends seen, %u closes seen", iterations, ends, closes);
  fs_test_assert_threads_settle (before);
}

/* The last reference dropped on the producer thread. */

typedef struct
{
  Counters              *counters;
  FsBackgroundGenerator *bg;
  GError                *yield_error;
} Owner;

static gboolean
generator_drops_last_ref (FsGenerator  *gen,
                          gpointer      data,
                          GError      **error)
{
  Owner *o = data;
  FsBackgroundGenerator *bg;

  if (!fs_generator_yield (gen, item_new (o->counters, 0), error))
    return FALSE;
  counters_wait_release (o->counters);

  /* The consumer let go: this is the last reference. Its close must not
   * wait for this thread, and the next yield says the stream is closed. */
  bg = g_steal_pointer (&o->bg);
  g_object_unref (bg);
  g_assert_true (fs_generator_is_closed (gen));
  g_assert_true (g_cancellable_is_cancelled (fs_generator_get_cancellable (gen)));
  g_assert_false (fs_generator_yield (gen, item_new (o->counters, 1), &o->yield_error));
  return TRUE;
}

static void
owner_freed (gpointer data)
{
  Owner *o = data;

  counters_data_freed (o->counters);
}

static void
test_last_ref_on_producer_thread (void)
{
  guint before = fs_test_count_threads ();
  Owner o = { 0 };
  FsBackgroundGenerator *bg;
  gpointer item = NULL;

  o.counters = counters_new ();
  bg = fs_background_generator_new (1, "last-ref-producer", generator_drops_last_ref,
                                    &o, owner_freed, item_free);
  o.bg = g_object_ref (bg);
  g_assert_cmpint (fs_background_generator_next (bg, &item, -1, NULL, NULL), ==, FS_WAIT_OK);
  item_free (item);
  g_object_unref (bg);
  counters_release (o.counters);

  /* The producer finishes on its own, frees its data, and is not left
   * behind. */
  counters_wait_freed (o.counters, 1);
  g_assert_error (o.yield_error, FS_ERROR, FS_ERROR_CLOSED);
  g_clear_error (&o.yield_error);
  g_assert_cmpuint (o.counters->items_freed, ==, 2);
  fs_test_assert_threads_settle (before);
  counters_free (o.counters);
}

typedef struct
{
  Counters      *counters;
  FsMultiThread *group;
} GroupOwner;

static gboolean
member_drops_group (FsThread  *thread,
                    gpointer   data,
                    GError   **error)
{
  GroupOwner *o = data;

  counters_wait_release (o->counters);
  /* Only member 0 holds the group by now. */
  if (fs_thread_get_index (thread) == 0)
    g_clear_object (&o->group);
  return TRUE;
}

static void
group_owner_freed (gpointer data)
{
  GroupOwner *o = data;

  counters_data_freed (o->counters);
}

static void
test_last_group_ref_on_member_thread (void)
{
  guint before = fs_test_count_threads ();
  GroupOwner o = { 0 };
  FsMultiThread *group;

  o.counters = counters_new ();
  group = fs_multi_thread_new ("last-ref-member", 3, member_drops_group, &o, group_owner_freed);
  o.group = g_object_ref (group);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_object_unref (group);
  counters_release (o.counters);

  /* Finalized on a member; the data goes once every member is gone. */
  counters_wait_freed (o.counters, 1);
  g_assert_null (o.group);
  fs_test_assert_threads_settle (before);
  counters_free (o.counters);
}

/* An asynchronous wait given a cancellable that never fires: once it has
 * its result, nothing of it may keep the object alive. */

static gboolean
yield_one (FsGenerator  *gen,
           gpointer      data,
           GError      **error)
{
  counters_wait_release (data);
  return fs_generator_yield (gen, item_new (data, 0), error);
}

static void
weak_notify_set (gpointer  data,
                 GObject  *where_the_object_was)
{
  *(gboolean *) data = TRUE;
}

/* Runs the body of a test that shows a known library bug in a subprocess,
 * so that its failure is reported and the tests after it still run. */
static gboolean
run_isolated (const char *what)
{
  if (g_test_subprocess ())
    return TRUE;

  /* A hang is a failure too: the subprocess is killed after 20 s. */
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (!g_test_trap_has_passed ())
    g_test_fail_printf ("%s", what);
  return FALSE;
}

static void
test_async_next_cancellable_unused (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  FsBackgroundGenerator *bg;
  AsyncResult r = { 0 };
  gboolean finalized = FALSE;
  Counters *c;
  guint before;

  if (!run_isolated ("a finished next_async() given a cancellable that never fires keeps "
                     "the background generator (and its open stream) alive"))
    return;

  c = counters_new ();
  cancellable = g_cancellable_new ();
  before = fs_test_count_threads ();
  bg = fs_background_generator_new (1, "unused-cancellable", yield_one, c, counters_data_freed, item_free);
  g_object_weak_ref (G_OBJECT (bg), weak_notify_set, &finalized);

  /* Pending when the item comes. */
  fs_background_generator_next_async (bg, cancellable, next_done, &r);
  counters_release (c);
  fs_test_iterate_until (&r.done);
  g_assert_true (r.ret);
  g_assert_cmpint (r.next_status, ==, FS_WAIT_OK);
  item_free (r.item);

  g_object_unref (bg);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  /* Dropping the last reference closes the stream at once; the producer
   * lets go of its data on its own, without anyone waiting for it. */
  g_assert_true (finalized);
  counters_wait_freed (c, 1);
  g_assert_cmpuint (counters_get_freed (c), ==, 1);
  fs_test_assert_threads_settle (before);
  counters_free (c);
}

static void
join_done (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  AsyncResult *r = data;

  if (FS_IS_THREAD (object))
    r->ret = fs_thread_join_finish (FS_THREAD (object), result, &r->error) == FS_WAIT_OK;
  else
    r->ret = fs_multi_thread_join_finish (FS_MULTI_THREAD (object), result, &r->error) == FS_WAIT_OK;
  r->done = TRUE;
}

static void
test_async_join_cancellable_unused (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  FsThread *thread;
  FsMultiThread *group;
  AsyncResult r = { 0 };
  gboolean thread_finalized = FALSE, group_finalized = FALSE;
  Counters *c;

  if (!run_isolated ("a finished join_async() given a cancellable that never fires keeps "
                     "the thread or group alive"))
    return;

  c = counters_new ();
  cancellable = g_cancellable_new ();
  thread = fs_thread_new ("unused-cancellable", stall_until_cancelled, c, NULL);
  g_object_weak_ref (G_OBJECT (thread), weak_notify_set, &thread_finalized);
  g_assert_true (fs_thread_start (thread, NULL));
  counters_wait_arrived (c, 1);
  fs_thread_join_async (thread, cancellable, join_done, &r);
  fs_thread_cancel (thread);
  fs_test_iterate_until (&r.done);
  g_assert_true (r.ret);
  g_object_unref (thread);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (thread_finalized);

  memset (&r, 0, sizeof r);
  group = fs_multi_thread_new ("unused-cancellable", 3, stall_until_cancelled, c, NULL);
  g_object_weak_ref (G_OBJECT (group), weak_notify_set, &group_finalized);
  g_assert_true (fs_multi_thread_start (group, NULL));
  counters_wait_arrived (c, 4);
  fs_multi_thread_join_async (group, cancellable, join_done, &r);
  fs_multi_thread_cancel (group);
  fs_test_iterate_until (&r.done);
  g_assert_true (r.ret);
  g_object_unref (group);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (group_finalized);

  counters_free (c);
}

/* A consumer on a thread of its own, with a main context of its own, that
 * takes its last item and frees its context at once: the producer that
 * handed the item over must not touch that context any more. (The window
 * is short: valgrind and AddressSanitizer see it; a plain run rarely.) */

typedef struct
{
  FsBackgroundGenerator *bg;
  Counters              *counters;
  gboolean               done;
  gboolean               ret;
  gpointer               item;
} LastItem;

static void
last_item_done (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  LastItem *l = data;
  FsWaitStatus status = FS_WAIT_FAILED;
  GValue *value;

  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object), result,
                                               &status, NULL);
  l->ret = value != NULL && status == FS_WAIT_OK;
  if (value != NULL)
    {
      l->item = g_value_get_pointer (value);
      g_boxed_free (G_TYPE_VALUE, value);
    }
  l->done = TRUE;
}

static gpointer
last_item_consumer (gpointer data)
{
  LastItem *l = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  fs_background_generator_next_async (l->bg, NULL, last_item_done, l);
  counters_arrive (l->counters);
  while (!l->done)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_async_consumer_frees_its_context (void)
{
  guint rounds = scaled (500);

  for (guint i = 0; i < rounds; i++)
    {
      LastItem l = { NULL, counters_new (), FALSE, FALSE, NULL };
      GThread *consumer;

      l.bg = fs_background_generator_new (1, "last-item", yield_one, l.counters, NULL, item_free);
      consumer = g_thread_new ("last-item", last_item_consumer, &l);
      counters_wait_arrived (l.counters, 1);
      counters_release (l.counters);
      g_thread_join (consumer);
      g_assert_true (l.ret);
      item_free (l.item);
      g_object_unref (l.bg);
      counters_free (l.counters);
    }
}

/* The data of a thread whose finalization touches cancellables. */
static void
cancel_on_free (gpointer data)
{
  g_autoptr(GCancellable) other = g_cancellable_new ();

  g_cancellable_cancel (other);
  g_cancellable_reset (G_CANCELLABLE (data));
  g_object_unref (data);
}

static void
test_async_join_last_reference_in_watch (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  FsThread *thread;
  AsyncResult r = { 0 };
  gboolean finalized = FALSE;

  if (!run_isolated ("the last reference to a thread, dropped when a join_async() with a "
                     "cancellable is freed, finalizes it where it may use cancellables"))
    return;

  /* The caller drops its reference at once: the task, and the watch of
   * its cancellable, hold the last ones. Finalizing the thread when the
   * watch goes must not happen under a lock of GLib's cancellables, since
   * the thread's data cancels and resets cancellables as it goes. */
  cancellable = g_cancellable_new ();
  thread = fs_thread_new ("last-ref-in-watch", succeed, g_cancellable_new (), cancel_on_free);
  g_object_weak_ref (G_OBJECT (thread), weak_notify_set, &finalized);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_thread_join_async (thread, cancellable, join_done, &r);
  g_object_unref (thread);
  fs_test_iterate_until (&r.done);
  g_assert_true (r.ret);
  g_assert_no_error (r.error);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_true (finalized);
}

typedef struct
{
  AsyncResult   r;
  GAsyncResult *kept;
} KeptResult;

static void
join_done_keep (GObject      *object,
                GAsyncResult *result,
                gpointer      data)
{
  KeptResult *k = data;

  k->kept = g_object_ref (result);
  join_done (object, result, &k->r);
}

static void
drop_kept (GCancellable *cancellable,
           gpointer      data)
{
  KeptResult *k = data;

  g_clear_object (&k->kept);
}

static void
test_async_result_freed_while_cancelling (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  FsThread *thread;
  KeptResult k = { { 0 }, NULL };

  if (!run_isolated ("a join_async() result freed by a handler of its own cancellable "
                     "while it is being cancelled"))
    return;

  /* A handler connected before the task's watch frees the finished
   * task during the emission of "cancelled": disconnecting the watch
   * there must not wait for the emission it runs in. */
  cancellable = g_cancellable_new ();
  g_cancellable_connect (cancellable, G_CALLBACK (drop_kept), &k, NULL);
  thread = fs_thread_new ("freed-while-cancelling", succeed, NULL, NULL);
  g_assert_true (fs_thread_start (thread, NULL));
  fs_thread_join_async (thread, cancellable, join_done_keep, &k);
  fs_test_iterate_until (&k.r.done);
  g_assert_true (k.r.ret);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_nonnull (k.kept);

  g_cancellable_cancel (cancellable);
  g_assert_null (k.kept);
  g_object_unref (thread);
}

/* Two joiners at once: one reaps the OS thread, the other's deadline
 * passes meanwhile. */

static void
hold_exit (gpointer data)
{
  /* In the thread-local destructors, after the target returned: the
   * thread is FINISHED and not gone, so a joiner waits in the OS join. */
  counters_arrive (data);
  counters_wait_release (data);
}

static GPrivate hold_exit_key = G_PRIVATE_INIT (hold_exit);

static gboolean
return_through_slow_exit (FsThread  *thread,
                          gpointer   data,
                          GError   **error)
{
  g_private_set (&hold_exit_key, data);
  return TRUE;
}

typedef struct
{
  FsThread *thread;
  gint64    timeout;
  Counters     *announced;
  FsWaitStatus  status;
  GError       *error;
} Joiner;

static gpointer
joiner_main (gpointer data)
{
  Joiner *j = data;

  announce_tid (j->announced);
  j->status = fs_thread_join (j->thread, j->timeout, NULL, &j->error);
  return NULL;
}

static void
test_timed_join_while_another_reaps (void)
{
  if (!run_isolated ("a bounded join whose deadline passes while another joiner reaps the "
                     "OS thread spins holding the thread's lock, and both hang"))
    return;

  for (guint round = 0; round < 10; round++)
    {
      Counters *exiting = counters_new ();
      Counters *reaper_seen = counters_new ();
      Counters *timed_seen = counters_new ();
      Joiner reaper = { NULL, -1, reaper_seen, FS_WAIT_FAILED, NULL };
      Joiner timed = { NULL, 0, timed_seen, FS_WAIT_FAILED, NULL };
      GThread *reaper_thread, *timed_thread;
      FsThread *thread;

      thread = fs_thread_new ("slow-exit", return_through_slow_exit, exiting, NULL);
      reaper.thread = timed.thread = thread;
      g_assert_true (fs_thread_start (thread, NULL));
      counters_wait_arrived (exiting, 1);

      /* The first joiner reaps: it waits in the OS join until the thread
       * has run its destructors. */
      reaper_thread = g_thread_new ("reaper", joiner_main, &reaper);
      g_mutex_lock (&reaper_seen->mutex);
      while (reaper_seen->tid == 0)
        g_cond_wait (&reaper_seen->cond, &reaper_seen->mutex);
      g_mutex_unlock (&reaper_seen->mutex);
      wait_thread_sleeping (reaper_seen->tid);

      /* The second has a deadline that is already over. */
      timed_thread = g_thread_new ("timed-joiner", joiner_main, &timed);
      g_mutex_lock (&timed_seen->mutex);
      while (timed_seen->tid == 0)
        g_cond_wait (&timed_seen->cond, &timed_seen->mutex);
      g_mutex_unlock (&timed_seen->mutex);

      counters_release (exiting);
      g_thread_join (reaper_thread);
      g_thread_join (timed_thread);

      g_assert_cmpint (reaper.status, ==, FS_WAIT_OK);
      g_assert_no_error (reaper.error);
      /* Either the reaped result, or a timeout: never a hang, never an
       * error. */
      if (timed.status != FS_WAIT_OK)
        g_assert_cmpint (timed.status, ==, FS_WAIT_TIMED_OUT);
      g_assert_no_error (timed.error);

      g_object_unref (thread);
      counters_free (exiting);
      counters_free (reaper_seen);
      counters_free (timed_seen);
    }
}

/* Hostile values. */

static char *
os_name_of (gint tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/task/%d/comm", tid);
  char *comm = NULL;

  g_assert_true (g_file_get_contents (path, &comm, NULL, NULL));
  g_strchomp (comm);
  return comm;
}

static gboolean
record_os_name (FsThread  *thread,
                gpointer   data,
                GError   **error)
{
  char **os_name = data;

  *os_name = os_name_of (current_tid ());
  return TRUE;
}

static void
check_name (const char *given,
            const char *expected_prefix)
{
  g_autofree char *os_name = NULL;
  g_autoptr(FsThread) thread = fs_thread_new (given, record_os_name, &os_name, NULL);
  const char *name = fs_thread_get_name (thread);

  /* Kept whole, and valid UTF-8 whatever was given. */
  g_assert_true (g_utf8_validate (name, -1, NULL));
  g_assert_true (g_str_has_prefix (name, expected_prefix));

  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, NULL), ==, FS_WAIT_OK);

  /* The OS keeps at most 15 bytes, cut at a character boundary. */
  g_assert_nonnull (os_name);
  g_assert_cmpuint (strlen (os_name), <=, 15);
  g_assert_true (g_utf8_validate (os_name, -1, NULL));
  g_assert_true (g_str_has_prefix (name, os_name));
}

static void
test_hostile_names (void)
{
  g_autofree char *long_name = g_strnfill (300, 'x');
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(FsBackgroundGenerator) bg = NULL;

  check_name ("exactly-15-byte", "exactly-15-byte");
  check_name ("exactly-16-bytes", "exactly-16-bytes");
  check_name (long_name, long_name);
  /* A two-byte character across byte 15. */
  check_name ("fourteen-bytes\xc3\xa9-tail", "fourteen-bytes\xc3\xa9");
  /* Not UTF-8: the bad bytes become U+FFFD. */
  check_name ("bad-\xff\xfe-name", "bad-\xef\xbf\xbd");
  check_name ("\xc3", "\xef\xbf\xbd");

  group = fs_multi_thread_new ("grp\xff", 2, succeed, NULL, NULL);
  g_assert_true (g_utf8_validate (fs_multi_thread_get_name (group), -1, NULL));
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, NULL), ==, FS_WAIT_OK);

  bg = fs_background_generator_new (1, "gen\xff\xfe", yield_nothing, NULL, NULL, NULL);
  g_assert_true (g_utf8_validate (fs_background_generator_get_name (bg), -1, NULL));
}

static gboolean
fail_with_bad_utf8 (FsThread  *thread,
                    gpointer   data,
                    GError   **error)
{
  g_set_error_literal (error, TEST_ERROR, 7, "bad \xff\xfe bytes");
  return FALSE;
}

static void
test_error_message_not_utf8 (void)
{
  g_autoptr(FsThread) thread = fs_thread_new ("bad-message", fail_with_bad_utf8, NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;

  /* The message is carried as it is, bytes and all, behind the prefix. */
  g_assert_true (fs_thread_start (thread, NULL));
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_error (error, TEST_ERROR, 7);
  g_assert_cmpstr (error->message, ==, "Error in thread (bad-message): bad \xff\xfe bytes");
  errors = fs_error_state_dup_errors (fs_thread_get_error_state (thread));
  g_assert_cmpuint (errors->len, ==, 1);
  g_assert_cmpstr (((GError *) g_ptr_array_index (errors, 0))->message, ==, error->message);
}

typedef struct
{
  Counters *counters;
  guint     n_items;
  gint      yielded;
} Burst;

static gboolean
generate_burst (FsGenerator  *gen,
                gpointer      data,
                GError      **error)
{
  Burst *b = data;

  for (guint i = 0; i < b->n_items; i++)
    {
      if (!fs_generator_yield (gen, item_new (b->counters, i), error))
        return FALSE;
      g_atomic_int_inc (&b->yielded);
    }
  counters_arrive (b->counters);
  return TRUE;
}

static void
test_prefetch_near_maxuint (void)
{
  const guint prefetches[] = { G_MAXUINT, G_MAXUINT - 1, G_MAXUINT / 2 + 1 };

  for (guint p = 0; p < G_N_ELEMENTS (prefetches); p++)
    {
      Counters *c = counters_new ();
      Burst b = { c, 20000, 0 };
      FsBackgroundGenerator *bg;
      FsWaitStatus status;
      gpointer item;
      guint taken = 0;

      bg = fs_background_generator_new (prefetches[p], "huge-prefetch", generate_burst,
                                        &b, NULL, item_free);
      g_assert_cmpuint (fs_background_generator_get_prefetch (bg), ==, prefetches[p]);

      /* Nothing holds the generator back: it yields everything before the
       * first item is taken. */
      counters_wait_arrived (c, 1);
      g_assert_cmpint (g_atomic_int_get (&b.yielded), ==, (gint) b.n_items);

      while ((status = fs_background_generator_next (bg, &item, -1, NULL, NULL)) == FS_WAIT_OK)
        {
          g_assert_cmpuint (((Item *) item)->index, ==, taken);
          taken++;
          item_free (item);
        }
      g_assert_cmpint (status, ==, FS_WAIT_END);
      g_assert_cmpuint (taken, ==, b.n_items);
      g_object_unref (bg);
      g_assert_cmpuint (c->items_freed, ==, b.n_items);
      counters_free (c);
    }
}

static void
test_prefetch_huge_closed_full (void)
{
  Counters *c = counters_new ();
  Burst b = { c, 5000, 0 };
  FsBackgroundGenerator *bg;

  /* Closed with everything queued: all of it is freed, once. */
  bg = fs_background_generator_new (G_MAXUINT, "huge-closed", generate_burst,
                                    &b, NULL, item_free);
  counters_wait_arrived (c, 1);
  g_assert_cmpint (fs_background_generator_close (bg, -1, NULL), ==, FS_WAIT_OK);
  g_assert_cmpuint (c->items_freed, ==, b.n_items);
  g_object_unref (bg);
  counters_free (c);
}

typedef struct
{
  Counters *counters;
  guint     n;
} Barrier;

static gboolean
meet_all (FsThread  *thread,
          gpointer   data,
          GError   **error)
{
  Barrier *b = data;

  /* Each waits for all: only threads that truly run at once get past. */
  counters_arrive (b->counters);
  counters_wait_arrived (b->counters, b->n);
  return TRUE;
}

static void
test_thread_count_far_above_cpus (void)
{
  const guint n = 200;
  Barrier b = { counters_new (), n };
  g_autoptr(FsMultiThread) group = NULL;
  g_autoptr(GError) error = NULL;
  guint before = fs_test_count_threads ();

  g_assert_cmpuint (fs_total_cpus (), >=, 1);
  g_assert_cmpuint (n, >, fs_total_cpus ());

  group = fs_multi_thread_new ("crowd", n, meet_all, &b, NULL);
  g_assert_cmpuint (fs_multi_thread_get_thread_count (group), ==, n);
  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpuint (b.counters->arrived, ==, n);

  g_clear_object (&group);
  fs_test_assert_threads_settle (before);
  counters_free (b.counters);
}

static void
test_extreme_timeouts (void)
{
  Counters *c = counters_new ();
  g_autoptr(FsThread) thread = fs_thread_new ("timeouts", stall_until_cancelled, c, NULL);
  g_autoptr(FsBackgroundGenerator) bg = NULL;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  g_assert_true (fs_thread_start (thread, NULL));
  counters_wait_arrived (c, 1);

  /* Zero: an immediate answer. */
  g_assert_cmpint (fs_thread_join (thread, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);

  /* G_MAXINT64 and -1: no limit, and no overflow. (Below -1 is a
   * programmer error: see test-bad-input.) */
  fs_thread_cancel (thread);
  g_assert_cmpint (fs_thread_join (thread, G_MAXINT64, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  bg = fs_background_generator_new (1, "timeouts", yield_one, c, NULL, item_free);
  g_assert_cmpint (fs_background_generator_next (bg, &item, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_null (item);
  counters_release (c);
  g_assert_cmpint (fs_background_generator_next (bg, &item, G_MAXINT64, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  item_free (item);
  g_assert_cmpint (fs_background_generator_next (bg, &item, G_MAXINT64, NULL, &error), ==, FS_WAIT_END);
  g_assert_no_error (error);
  /* The close's wait: no limit, and no overflow. */
  g_assert_cmpint (fs_background_generator_close (bg, G_MAXINT64, NULL), ==, FS_WAIT_OK);

  g_clear_object (&bg);
  counters_free (c);
}

static void
drop_message (const char     *domain,
              GLogLevelFlags  level,
              const char     *message,
              gpointer        data)
{
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* GTask's first use starts a GLib thread that lives as long as the
   * process: start it before any thread is counted. */
  g_type_ensure (G_TYPE_TASK);

  /* The library logs each failure with g_debug(); the messages these tests
   * make are not always UTF-8, which the TAP reader refuses. */
  g_log_set_handler ("Fs", G_LOG_LEVEL_DEBUG, drop_message, NULL);

  g_test_add_func ("/faults/create-fails/thread", test_create_fails_thread);
  g_test_add_func ("/faults/create-fails/group", test_create_fails_group);
  g_test_add_func ("/faults/create-fails/generator", test_create_fails_generator);
  g_test_add_func ("/faults/create-fails/address-space", test_create_fails_address_space);
  g_test_add_func ("/faults/fails/generator-at-random-item", test_generator_fails_at_random_item);
  g_test_add_func ("/faults/fails/target-at-once", test_target_fails_at_once);
  g_test_add_func ("/faults/fails/others-stop", test_target_fails_others_stop);
  g_test_add_func ("/faults/cancelled/consumer-blocked", test_consumer_cancelled_while_blocked);
  g_test_add_func ("/faults/cancelled/async-consumer-waiting", test_async_consumer_cancelled_while_waiting);
  g_test_add_func ("/faults/cancelled/joiner-blocked", test_joiner_cancelled_while_blocked);
  g_test_add_func ("/faults/close-races-end", test_close_races_end);
  g_test_add_func ("/faults/last-ref/producer-thread", test_last_ref_on_producer_thread);
  g_test_add_func ("/faults/last-ref/member-thread", test_last_group_ref_on_member_thread);
  g_test_add_func ("/faults/async-cancellable-unused/next", test_async_next_cancellable_unused);
  g_test_add_func ("/faults/async-cancellable-unused/join", test_async_join_cancellable_unused);
  g_test_add_func ("/faults/async-join/last-reference-in-watch", test_async_join_last_reference_in_watch);
  g_test_add_func ("/faults/async-join/result-freed-while-cancelling", test_async_result_freed_while_cancelling);
  g_test_add_func ("/faults/join/timed-while-another-reaps", test_timed_join_while_another_reaps);
  g_test_add_func ("/faults/async-consumer-frees-its-context", test_async_consumer_frees_its_context);
  g_test_add_func ("/faults/hostile/names", test_hostile_names);
  g_test_add_func ("/faults/hostile/error-message-not-utf8", test_error_message_not_utf8);
  g_test_add_func ("/faults/hostile/prefetch-near-maxuint", test_prefetch_near_maxuint);
  g_test_add_func ("/faults/hostile/prefetch-huge-closed-full", test_prefetch_huge_closed_full);
  g_test_add_func ("/faults/hostile/thread-count-far-above-cpus", test_thread_count_far_above_cpus);
  g_test_add_func ("/faults/hostile/extreme-timeouts", test_extreme_timeouts);

  return g_test_run ();
}
