/* fs-test-util.h: helpers shared by the test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fsthread.h>

G_BEGIN_DECLS

#if defined(__SANITIZE_ADDRESS__)
# define FS_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define FS_TEST_UNDER_ASAN 1
# endif
#endif

/* Limits the address space to what is mapped now plus @headroom bytes:
 * too little for another thread's stack, so that the operating system
 * refuses the next thread. For a subprocess: the limit cannot be lifted. */
static inline void
fs_test_limit_address_space (gsize headroom)
{
  g_autofree char *status = NULL;
  const char *line;
  struct rlimit limit;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmSize:");
  g_assert_nonnull (line);
  limit.rlim_cur = limit.rlim_max =
    g_ascii_strtoull (line + strlen ("VmSize:"), NULL, 10) * 1024 + headroom;
  g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);
}

static inline gpointer
fs_test_warm_up_thread (gpointer data)
{
  *(pid_t *) data = (pid_t) syscall (SYS_gettid);
  return NULL;
}

/* The first thread a process creates can bring a helper of the runtime
 * with it (ThreadSanitizer starts its background thread then), which would
 * count as a leak if it came between two counts. So the first count makes
 * one thread, joins it, and waits until the kernel no longer lists it. */
static inline void
fs_test_warm_up_threads (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
      pid_t tid = 0;
      char path[64];

      g_thread_join (g_thread_new ("warm-up", fs_test_warm_up_thread, &tid));
      g_snprintf (path, sizeof path, "/proc/self/task/%d", (int) tid);
      while (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_assert_cmpint (g_get_monotonic_time (), <=, give_up);
          g_thread_yield ();
        }
      g_once_init_leave (&done, 1);
    }
}

/* The number of threads of this process, as the kernel counts them. */
static inline guint
fs_test_count_threads (void)
{
  GDir *dir;
  guint n = 0;

  fs_test_warm_up_threads ();
  dir = g_dir_open ("/proc/self/task", 0, NULL);
  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  g_dir_close (dir);

  return n;
}

/* Asserts that the thread count comes back to @expected. A joined thread
 * has left user space when pthread_join() returns, but the kernel may list
 * it in /proc/self/task a moment longer, and nothing signals its removal:
 * so this watches the count settle, and fails after 30 s rather than hang. */
static inline void
fs_test_assert_threads_settle (guint expected)
{
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint n;

  while ((n = fs_test_count_threads ()) != expected)
    {
      if (g_get_monotonic_time () > give_up)
        g_assert_cmpuint (n, ==, expected);
      g_thread_yield ();
    }
}

/* A gate a test opens when it wants a waiting thread to go on: the
 * synchronisation tests use instead of sleeping. */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  gboolean open;
} FsTestGate;

static inline void
fs_test_gate_init (FsTestGate *gate)
{
  g_mutex_init (&gate->mutex);
  g_cond_init (&gate->cond);
  gate->open = FALSE;
}

static inline void
fs_test_gate_clear (FsTestGate *gate)
{
  g_mutex_clear (&gate->mutex);
  g_cond_clear (&gate->cond);
}

static inline void
fs_test_gate_open (FsTestGate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->open = TRUE;
  g_cond_broadcast (&gate->cond);
  g_mutex_unlock (&gate->mutex);
}

static inline void
fs_test_gate_wait (FsTestGate *gate)
{
  g_mutex_lock (&gate->mutex);
  while (!gate->open)
    g_cond_wait (&gate->cond, &gate->mutex);
  g_mutex_unlock (&gate->mutex);
}

/* Runs the default main context until *done is set. */
static inline void
fs_test_iterate_until (gboolean *done)
{
  while (!*done)
    g_main_context_iteration (NULL, TRUE);
}

G_END_DECLS

/* Cancellation seen through a condition: a thread that must wait until a
 * cancellable fires (and for nothing else) waits on this, never on a
 * timeout. */
typedef struct
{
  GMutex        mutex;
  GCond         cond;
  GCancellable *cancellable;
  gulong        handler;
} FsTestCancelWait;

static inline void
fs_test_cancel_wait_wake (GCancellable     *cancellable,
                          FsTestCancelWait *w)
{
  g_mutex_lock (&w->mutex);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->mutex);
}

/* Blocks until @cancellable is cancelled. */
static inline void
fs_test_wait_cancelled (GCancellable *cancellable)
{
  FsTestCancelWait w;

  g_mutex_init (&w.mutex);
  g_cond_init (&w.cond);
  w.cancellable = cancellable;
  w.handler = g_cancellable_connect (cancellable, G_CALLBACK (fs_test_cancel_wait_wake), &w, NULL);

  g_mutex_lock (&w.mutex);
  while (!g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&w.cond, &w.mutex);
  g_mutex_unlock (&w.mutex);

  g_cancellable_disconnect (cancellable, w.handler);
  g_mutex_clear (&w.mutex);
  g_cond_clear (&w.cond);
}
