/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-multi-thread.c: FsMultiThread */

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>
#include <fsthread.h>

#include "fs-test-util.h"

#if defined(FS_TEST_UNDER_ASAN) || defined(__SANITIZE_THREAD__)
# define FS_TEST_NO_INTERPOSE 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define FS_TEST_NO_INTERPOSE 1
# endif
#endif

#define TEST_ERROR (test_error_quark ())

static GQuark
test_error_quark (void)
{
  return g_quark_from_static_string ("test-multi-thread-error-quark");
}

/* Blocks until @cancellable is cancelled: on a GCond, with no timeout. */

static void
open_gate_cb (GCancellable *cancellable,
              gpointer      data)
{
  fs_test_gate_open (data);
}

static void
wait_cancelled (GCancellable *cancellable)
{
  FsTestGate gate;
  gulong handler;

  fs_test_gate_init (&gate);
  /* Runs the callback at once when it is cancelled already. */
  handler = g_cancellable_connect (cancellable, G_CALLBACK (open_gate_cb), &gate, NULL);
  fs_test_gate_wait (&gate);
  /* Also waits for a callback still running on the cancelling thread. */
  g_cancellable_disconnect (cancellable, handler);
  fs_test_gate_clear (&gate);
}

static void
gate_close (FsTestGate *gate)
{
  g_mutex_lock (&gate->mutex);
  gate->open = FALSE;
  g_mutex_unlock (&gate->mutex);
}

/* The names the kernel shows for this process's threads. */
static GPtrArray *
dup_os_thread_names (void)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  GDir *dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "comm", NULL);
      char *contents = NULL;
      gsize len = 0;

      /* A thread may be gone between the listing and the read. */
      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      if (len > 0 && contents[len - 1] == '\n')
        contents[len - 1] = '\0';
      g_ptr_array_add (names, contents);
    }
  g_dir_close (dir);

  return names;
}

static gboolean
os_thread_names_contain (GPtrArray  *names,
                         const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_strcmp0 (g_ptr_array_index (names, i), name) == 0)
      return TRUE;

  return FALSE;
}

/* How many threads of this process carry an OS name starting with @prefix. */
static guint
count_os_threads_named (const char *prefix)
{
  g_autoptr(GPtrArray) names = dup_os_thread_names ();
  guint n = 0;

  for (guint i = 0; i < names->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (names, i), prefix))
      n++;

  return n;
}

/* pthread_join() returns as soon as the joined thread has left user space,
 * and the kernel unlists it from /proc a moment later, with no event to wait
 * for. So after a join, give the exiting threads the CPU until they are
 * unlisted. The bound is no synchronisation: it only turns a thread that
 * never ends into a failure rather than a hang. */
static void
assert_os_threads_gone (const char *prefix)
{
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint n;

  while ((n = count_os_threads_named (prefix)) > 0 &&
         g_get_monotonic_time () < give_up)
    g_thread_yield ();

  g_assert_cmpuint (n, ==, 0);
}

/* As above, for the whole process: back to @baseline threads. A thread of
 * an earlier test may still be leaving when @baseline is taken, so the count
 * may end below it, never above. */
static void
assert_thread_count_back_to (guint baseline)
{
  gint64 give_up = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  guint n;

  while ((n = fs_test_count_threads ()) > baseline &&
         g_get_monotonic_time () < give_up)
    g_thread_yield ();

  g_assert_cmpuint (n, <=, baseline);
}

/* What each target does, by the index of its thread, in this order. */
typedef enum
{
  ACT_JOIN_GROUP  = 1 << 0,  /* try to join its own group, keep the error */
  ACT_WAIT_CANCEL = 1 << 1,  /* block until its cancellable is cancelled */
  ACT_WAIT_GATE   = 1 << 2,  /* block until the test opens the gate */
  ACT_FAIL        = 1 << 3,  /* fail with TEST_ERROR, code = index */
} Act;

#define MAX_THREADS 256

typedef struct
{
  GMutex         mutex;
  GCond          cond;
  guint          arrived;          /* targets started in this run */
  FsTestGate     gate;
  guint          acts[MAX_THREADS];
  FsMultiThread *group;            /* not owned; for ACT_JOIN_GROUP */

  /* Written by the targets, by index; read once the threads are joined. */
  gint           bad_index;        /* atomic */
  gint           entered[MAX_THREADS];
  gint           done[MAX_THREADS];
  char          *names[MAX_THREADS];
  gboolean       current_ok[MAX_THREADS];
  gboolean       saw_cancel[MAX_THREADS];
  GCancellable  *cancellables[MAX_THREADS];
  FsWaitStatus   join_status[MAX_THREADS];
  GError        *join_errors[MAX_THREADS];

  /* user_data_free */
  gint           freed;            /* atomic */
  gint           done_when_freed;
  FsTestGate     freed_gate;
} Work;

static Work *
work_new (void)
{
  Work *work = g_new0 (Work, 1);

  g_mutex_init (&work->mutex);
  g_cond_init (&work->cond);
  fs_test_gate_init (&work->gate);
  fs_test_gate_init (&work->freed_gate);

  return work;
}

static void
work_free (Work *work)
{
  for (guint i = 0; i < MAX_THREADS; i++)
    {
      g_free (work->names[i]);
      g_clear_error (&work->join_errors[i]);
    }
  g_mutex_clear (&work->mutex);
  g_cond_clear (&work->cond);
  fs_test_gate_clear (&work->gate);
  fs_test_gate_clear (&work->freed_gate);
  g_free (work);
}

/* Between runs, with no target running. */
static void
work_reset_run (Work *work)
{
  g_mutex_lock (&work->mutex);
  work->arrived = 0;
  g_mutex_unlock (&work->mutex);
  gate_close (&work->gate);
}

static void
work_wait_arrived (Work  *work,
                   guint  n)
{
  g_mutex_lock (&work->mutex);
  while (work->arrived < n)
    g_cond_wait (&work->cond, &work->mutex);
  g_mutex_unlock (&work->mutex);
}

static gint
work_total_done (Work *work)
{
  gint total = 0;

  for (guint i = 0; i < MAX_THREADS; i++)
    total += g_atomic_int_get (&work->done[i]);

  return total;
}

static void
work_freed (gpointer data)
{
  Work *work = data;

  work->done_when_freed = work_total_done (work);
  g_atomic_int_inc (&work->freed);
  fs_test_gate_open (&work->freed_gate);
}

static gboolean
work_target (FsThread  *thread,
             gpointer   user_data,
             GError   **error)
{
  Work *work = user_data;
  guint idx = fs_thread_get_index (thread);
  guint acts;

  if (idx >= MAX_THREADS)
    {
      g_atomic_int_inc (&work->bad_index);
      return TRUE;
    }

  g_atomic_int_inc (&work->entered[idx]);

  g_mutex_lock (&work->mutex);
  g_free (work->names[idx]);
  work->names[idx] = g_strdup (fs_thread_get_name (thread));
  work->current_ok[idx] = fs_thread_get_current () == thread;
  work->cancellables[idx] = fs_thread_get_cancellable (thread);
  acts = work->acts[idx];
  work->arrived++;
  g_cond_broadcast (&work->cond);
  g_mutex_unlock (&work->mutex);

  if (acts & ACT_JOIN_GROUP)
    {
      g_clear_error (&work->join_errors[idx]);
      work->join_status[idx] = fs_multi_thread_join (work->group, -1, NULL, &work->join_errors[idx]);
    }

  if (acts & ACT_WAIT_CANCEL)
    {
      wait_cancelled (fs_thread_get_cancellable (thread));
      work->saw_cancel[idx] = g_cancellable_is_cancelled (fs_thread_get_cancellable (thread));
    }

  if (acts & ACT_WAIT_GATE)
    fs_test_gate_wait (&work->gate);

  g_atomic_int_inc (&work->done[idx]);

  if (acts & ACT_FAIL)
    {
      g_set_error (error, TEST_ERROR, (int) idx, "failure of %u", idx);
      return FALSE;
    }

  return TRUE;
}

static FsMultiThread *
work_group_new (Work       *work,
                const char *name,
                guint       thread_count)
{
  FsMultiThread *group = fs_multi_thread_new (name, thread_count, work_target, work, NULL);

  g_assert_true (FS_IS_MULTI_THREAD (group));
  work->group = group;

  return group;
}

/* Asserts that @error came from thread @thread_name failing with @code. */
static void
assert_thread_failure (const GError *error,
                       const char   *thread_name,
                       int           code)
{
  g_autofree char *named = g_strdup_printf ("(%s)", thread_name);
  g_autofree char *original = g_strdup_printf ("failure of %d", code);

  g_assert_nonnull (error);
  g_assert_error (error, TEST_ERROR, code);
  g_assert_nonnull (strstr (error->message, named));
  g_assert_true (g_str_has_suffix (error->message, original));
}

/* Names */

static void
test_names_single (void)
{
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-single", 1);
  g_autoptr(GPtrArray) os_names = NULL;
  g_autoptr(GError) error = NULL;
  guint thread_count = 0;

  work->acts[0] = ACT_WAIT_GATE;

  g_assert_cmpstr (fs_multi_thread_get_name (group), ==, "mt-single");
  g_assert_cmpuint (fs_multi_thread_get_thread_count (group), ==, 1);
  g_object_get (group, "thread-count", &thread_count, NULL);
  g_assert_cmpuint (thread_count, ==, 1);

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, 1);

  /* One thread: it carries the group's name, with no suffix. */
  os_names = dup_os_thread_names ();
  g_assert_true (os_thread_names_contain (os_names, "mt-single"));
  g_assert_false (os_thread_names_contain (os_names, "mt-single_0"));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_assert_cmpint (work->entered[0], ==, 1);
  g_assert_cmpstr (work->names[0], ==, "mt-single");
  g_assert_true (work->current_ok[0]);

  g_object_unref (group);
  work_free (work);
}

static void
test_names_many (void)
{
  const guint n = 4;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-many", n);
  g_autoptr(GPtrArray) os_names = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_cmpstr (fs_multi_thread_get_name (group), ==, "mt-many");
  g_assert_cmpuint (fs_multi_thread_get_thread_count (group), ==, n);

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  os_names = dup_os_thread_names ();
  g_assert_false (os_thread_names_contain (os_names, "mt-many"));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("mt-many_%u", i);

      g_assert_true (os_thread_names_contain (os_names, expected));
    }
  g_assert_false (os_thread_names_contain (os_names, "mt-many_4"));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  /* Each target sees its own thread's name. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("mt-many_%u", i);

      g_assert_cmpstr (work->names[i], ==, expected);
      g_assert_true (work->current_ok[i]);
    }

  g_object_unref (group);
  work_free (work);
}

static void
test_names_os_cut (void)
{
  /* 14 ASCII bytes, then a 2-byte character across the 15-byte limit. */
  const char *name = "abcdefghijklmn\u00e9-group";
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, name, 1);
  g_autoptr(GPtrArray) os_names = NULL;
  g_autoptr(GError) error = NULL;

  work->acts[0] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, 1);

  os_names = dup_os_thread_names ();
  g_assert_true (os_thread_names_contain (os_names, "abcdefghijklmn"));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  /* The object keeps the name whole. */
  g_assert_cmpstr (fs_multi_thread_get_name (group), ==, name);
  g_assert_cmpstr (work->names[0], ==, name);

  g_object_unref (group);
  work_free (work);
}

static void
test_names_default (void)
{
  Work *work = work_new ();
  FsMultiThread *first = fs_multi_thread_new (NULL, 1, work_target, work, NULL);
  FsMultiThread *second = fs_multi_thread_new (NULL, 1, work_target, work, NULL);
  FsMultiThread *third = fs_multi_thread_new (NULL, 2, work_target, work, NULL);
  FsMultiThread *fourth;
  FsMultiThread *plain;
  g_autoptr(GError) error = NULL;
  g_autofree char *property_name = NULL;

  g_assert_cmpstr (fs_multi_thread_get_name (first), ==, "work");
  g_assert_cmpstr (fs_multi_thread_get_name (second), ==, "work_0");
  g_assert_cmpstr (fs_multi_thread_get_name (third), ==, "work_1");
  g_object_get (third, "name", &property_name, NULL);
  g_assert_cmpstr (property_name, ==, "work_1");

  /* The default-named group's thread carries the name too. */
  g_assert_true (fs_multi_thread_start (first, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (first, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpstr (work->names[0], ==, "work");

  g_assert_true (fs_multi_thread_start (third, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (third, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpstr (work->names[0], ==, "work_1_0");
  g_assert_cmpstr (work->names[1], ==, "work_1_1");

  /* A finalized group frees its name; probing starts at 0 again. */
  g_object_unref (second);
  fourth = fs_multi_thread_new (NULL, 1, work_target, work, NULL);
  g_assert_cmpstr (fs_multi_thread_get_name (fourth), ==, "work_0");

  g_object_unref (first);
  g_object_unref (third);
  g_object_unref (fourth);

  /* All gone: "work" is free, also for a group made by g_object_new(). */
  plain = g_object_new (FS_TYPE_MULTI_THREAD, NULL);
  g_assert_cmpstr (fs_multi_thread_get_name (plain), ==, "work");
  g_assert_cmpuint (fs_multi_thread_get_thread_count (plain), ==, 1);
  g_object_unref (plain);

  first = fs_multi_thread_new (NULL, 1, work_target, work, NULL);
  g_assert_cmpstr (fs_multi_thread_get_name (first), ==, "work");
  g_object_unref (first);

  work_free (work);
}

static void
test_index (void)
{
  const guint n = 8;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-index", n);
  g_autoptr(GError) error = NULL;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  /* Every index 0..n-1 exactly once, and nothing else. */
  g_assert_cmpint (g_atomic_int_get (&work->bad_index), ==, 0);
  for (guint i = 0; i < MAX_THREADS; i++)
    g_assert_cmpint (work->entered[i], ==, i < n ? 1 : 0);

  /* The index matches the suffix of the name. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("mt-index_%u", i);

      g_assert_cmpstr (work->names[i], ==, expected);
    }

  g_object_unref (group);
  work_free (work);
}

/* Life cycle */

static void
test_lifecycle (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-lifecycle", n);
  g_autoptr(GError) error = NULL;
  guint baseline = fs_test_count_threads ();

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  /* As the original: completed before the first start. */
  g_assert_true (fs_multi_thread_completed (group));
  g_assert_false (fs_multi_thread_is_alive (group));

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  g_assert_true (fs_multi_thread_is_alive (group));
  g_assert_false (fs_multi_thread_completed (group));
  g_assert_cmpuint (count_os_threads_named ("mt-lifecycle_"), ==, n);

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_assert_false (fs_multi_thread_is_alive (group));
  g_assert_true (fs_multi_thread_completed (group));
  assert_os_threads_gone ("mt-lifecycle_");
  assert_thread_count_back_to (baseline);
  g_assert_cmpint (work_total_done (work), ==, n);

  g_object_unref (group);
  work_free (work);
}

/* Joins and failures */

static void
test_join_all_despite_failure (void)
{
  const guint n = 4;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-join-all", n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) raised = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  guint baseline = fs_test_count_threads ();

  /* Thread 2 fails first; thread 0 fails second, once it sees the group
   * cancelled; 1 and 3 finish their work after the gate opens. */
  work->acts[0] = ACT_WAIT_CANCEL | ACT_FAIL;
  work->acts[1] = ACT_WAIT_CANCEL | ACT_WAIT_GATE;
  work->acts[2] = ACT_FAIL;
  work->acts[3] = ACT_WAIT_CANCEL | ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  wait_cancelled (fs_multi_thread_get_cancellable (group));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);

  /* The first failure in time, not in index order, with its domain and
   * code, naming its thread. */
  assert_thread_failure (error, "mt-join-all_2", 2);

  /* Every thread was joined: all side effects happened, no thread left. */
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (work->done[i], ==, 1);
  g_assert_false (fs_multi_thread_is_alive (group));
  assert_os_threads_gone ("mt-join-all_");
  assert_thread_count_back_to (baseline);

  /* Both failures, in the order they happened. */
  errors = fs_multi_thread_dup_errors (group);
  g_assert_cmpuint (errors->len, ==, 2);
  assert_thread_failure (g_ptr_array_index (errors, 0), "mt-join-all_2", 2);
  assert_thread_failure (g_ptr_array_index (errors, 1), "mt-join-all_0", 0);

  /* Joining again gives the same answer. */
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &raised), ==, FS_WAIT_FAILED);
  assert_thread_failure (raised, "mt-join-all_2", 2);

  g_object_unref (group);
  work_free (work);
}

static void
test_join_waits_past_failure (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-waits", n);
  g_autoptr(GError) error = NULL;

  /* Thread 0 fails at once, the others are held by the gate. */
  work->acts[0] = ACT_FAIL;
  work->acts[1] = ACT_WAIT_GATE;
  work->acts[2] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  wait_cancelled (fs_multi_thread_get_cancellable (group));
  work_wait_arrived (work, n);

  /* The failure does not end the wait: the held threads make it time
   * out, where the original raised at once and left them unjoined. */
  g_assert_cmpint (fs_multi_thread_join (group, 10 * G_TIME_SPAN_MILLISECOND, NULL, &error), ==,
                   FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);
  g_assert_true (fs_multi_thread_is_alive (group));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  assert_thread_failure (error, "mt-waits_0", 0);
  g_assert_cmpint (work_total_done (work), ==, n);
  g_assert_false (fs_multi_thread_is_alive (group));

  g_object_unref (group);
  work_free (work);
}

static void
test_fail_fast (void)
{
  const guint n = 4;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-fail-fast", n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;

  /* The siblings would block forever but for the group's cancellable. */
  work->acts[0] = ACT_WAIT_CANCEL;
  work->acts[1] = ACT_WAIT_CANCEL;
  work->acts[2] = ACT_FAIL;
  work->acts[3] = ACT_WAIT_CANCEL;

  g_assert_false (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);

  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  assert_thread_failure (error, "mt-fail-fast_2", 2);

  g_assert_true (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
  for (guint i = 0; i < n; i++)
    {
      /* Every thread shares the group's cancellable. */
      g_assert_true (work->cancellables[i] == fs_multi_thread_get_cancellable (group));
      g_assert_cmpint (work->done[i], ==, 1);
      if (i != 2)
        g_assert_true (work->saw_cancel[i]);
    }

  /* The siblings stopped because they were asked to: no error of theirs. */
  errors = fs_multi_thread_dup_errors (group);
  g_assert_cmpuint (errors->len, ==, 1);

  g_object_unref (group);
  work_free (work);
}

static void
test_cancel (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-cancel", n);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_CANCEL;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  fs_multi_thread_cancel (group);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    g_assert_true (work->saw_cancel[i]);
  g_assert_false (fs_multi_thread_get_has_error (group));
  g_assert_true (fs_multi_thread_check_and_raise_error (group, NULL));

  g_object_unref (group);
  work_free (work);
}

static void
test_has_error (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-has-error", n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) raised = NULL;
  g_autoptr(GError) raised_again = NULL;
  FsErrorState *state = NULL;

  g_object_get (group, "error-state", &state, NULL);
  g_assert_true (state == fs_multi_thread_get_error_state (group));
  g_object_unref (state);

  g_assert_false (fs_multi_thread_get_has_error (group));
  g_assert_false (fs_multi_thread_get_has_error (group));
  g_assert_true (fs_multi_thread_check_and_raise_error (group, &error));
  g_assert_no_error (error);

  /* Thread 1 fails; the others are still running when it is checked. */
  work->acts[0] = ACT_WAIT_GATE;
  work->acts[1] = ACT_FAIL;
  work->acts[2] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  wait_cancelled (fs_multi_thread_get_cancellable (group));

  /* Visible while the group runs, as the original's polling needs. */
  g_assert_true (fs_multi_thread_is_alive (group));
  g_assert_true (fs_multi_thread_get_has_error (group));
  g_assert_true (fs_multi_thread_get_has_error (group));
  g_assert_cmpuint (fs_error_state_get_n_errors (fs_multi_thread_get_error_state (group)), ==, 1);

  /* Raised again on every call: the same first error. */
  g_assert_false (fs_multi_thread_check_and_raise_error (group, &raised));
  assert_thread_failure (raised, "mt-has-error_1", 1);
  g_assert_false (fs_multi_thread_check_and_raise_error (group, &raised_again));
  assert_thread_failure (raised_again, "mt-has-error_1", 1);

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  assert_thread_failure (error, "mt-has-error_1", 1);

  g_assert_true (fs_multi_thread_get_has_error (group));
  g_assert_false (fs_multi_thread_check_and_raise_error (group, NULL));

  g_object_unref (group);
  work_free (work);
}

/* Restarting */

static void
test_restart_after_success (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-restart", n);
  g_autoptr(GError) error = NULL;

  for (guint run = 1; run <= 3; run++)
    {
      for (guint i = 0; i < n; i++)
        work->acts[i] = ACT_WAIT_GATE;

      g_assert_true (fs_multi_thread_start (group, &error));
      g_assert_no_error (error);
      work_wait_arrived (work, n);
      g_assert_true (fs_multi_thread_is_alive (group));

      fs_test_gate_open (&work->gate);
      g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_true (fs_multi_thread_completed (group));

      /* Joining a joined group succeeds again. */
      g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);

      for (guint i = 0; i < n; i++)
        g_assert_cmpint (work->done[i], ==, run);

      work_reset_run (work);
    }

  g_object_unref (group);
  work_free (work);
}

static void
test_restart_after_failure (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-restart-fail", n);
  GCancellable *cancellable = fs_multi_thread_get_cancellable (group);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;

  /* First run: thread 0 fails, the others stop on the cancellable. */
  work->acts[0] = ACT_FAIL;
  work->acts[1] = ACT_WAIT_CANCEL;
  work->acts[2] = ACT_WAIT_CANCEL;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  assert_thread_failure (error, "mt-restart-fail_0", 0);
  g_clear_error (&error);
  g_assert_true (fs_multi_thread_get_has_error (group));
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  /* Second run: errors cleared and the cancellable reset at start. */
  work_reset_run (work);
  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_false (fs_multi_thread_get_has_error (group));
  g_assert_true (fs_multi_thread_check_and_raise_error (group, NULL));
  g_assert_true (fs_multi_thread_get_cancellable (group) == cancellable);
  g_assert_false (g_cancellable_is_cancelled (cancellable));

  work_wait_arrived (work, n);
  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  errors = fs_multi_thread_dup_errors (group);
  g_assert_cmpuint (errors->len, ==, 0);
  g_assert_false (fs_multi_thread_get_has_error (group));
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (work->done[i], ==, 2);

  g_object_unref (group);
  work_free (work);
}

static void
test_start_twice (void)
{
  const guint n = 2;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-busy", n);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  g_assert_false (fs_multi_thread_start (group, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "mt-busy"));
  g_clear_error (&error);

  /* The refused start started nothing and left the run alone. */
  g_assert_cmpuint (count_os_threads_named ("mt-busy_"), ==, n);
  g_assert_false (fs_multi_thread_get_has_error (group));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (work->entered[i], ==, 1);

  g_object_unref (group);
  work_free (work);
}

static void
test_join_not_started (void)
{
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-not-started", 2);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, 0, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (error);

  /* Nothing ran, nothing failed. */
  g_assert_cmpint (work_total_done (work), ==, 0);
  g_assert_false (fs_multi_thread_get_has_error (group));

  g_object_unref (group);
  work_free (work);
}

static void
test_join_from_member (void)
{
  const guint n = 2;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-self-join", n);
  g_autoptr(GError) error = NULL;

  work->acts[0] = ACT_JOIN_GROUP;
  work->acts[1] = ACT_JOIN_GROUP;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpint (work->join_status[i], ==, FS_WAIT_WOULD_DEADLOCK);
      g_assert_no_error (work->join_errors[i]);
      g_assert_cmpint (work->done[i], ==, 1);
    }

  /* The refused join is not a failure of the group. */
  g_assert_false (fs_multi_thread_get_has_error (group));

  g_object_unref (group);
  work_free (work);
}

static void
test_join_timeout (void)
{
  const guint n = 2;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-timeout", n);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  /* The gate holds the threads: the bounded wait can only time out. */
  g_assert_cmpint (fs_multi_thread_join (group, 10 * G_TIME_SPAN_MILLISECOND, NULL, &error), ==,
                   FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);

  g_assert_cmpint (fs_multi_thread_join (group, 0, NULL, &error), ==, FS_WAIT_TIMED_OUT);
  g_assert_no_error (error);

  /* Still running, not failed; and the group is still busy. */
  g_assert_true (fs_multi_thread_is_alive (group));
  g_assert_false (fs_multi_thread_get_has_error (group));
  g_assert_false (fs_multi_thread_start (group, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, G_MAXINT64, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (work_total_done (work), ==, n);
  g_assert_false (fs_multi_thread_is_alive (group));

  g_object_unref (group);
  work_free (work);
}

static gpointer
cancel_thread (gpointer data)
{
  g_cancellable_cancel (data);

  return NULL;
}

static void
test_join_cancelled (void)
{
  const guint n = 2;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-join-cancel", n);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GThread *canceller;

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  /* Cancelled from another thread, before or during the wait. */
  canceller = g_thread_new ("canceller", cancel_thread, cancellable);
  g_assert_cmpint (fs_multi_thread_join (group, -1, cancellable, &error), ==, FS_WAIT_CANCELLED);
  g_assert_no_error (error);
  g_thread_join (canceller);

  /* Only the wait stopped: the threads run on, the group is untouched. */
  g_assert_true (fs_multi_thread_is_alive (group));
  g_assert_false (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
  g_assert_false (fs_multi_thread_get_has_error (group));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (work_total_done (work), ==, n);

  g_object_unref (group);
  work_free (work);
}

/* Asynchronous joins */

typedef struct
{
  gboolean      done;
  FsWaitStatus  status;
  GError       *error;
  GThread      *thread;
} AsyncJoin;

static void
join_ready_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncJoin *join = user_data;

  g_assert_false (join->done);
  join->thread = g_thread_self ();
  join->status = fs_multi_thread_join_finish (FS_MULTI_THREAD (object), result, &join->error);
  join->done = TRUE;
}

/* Dispatches whatever is ready, without blocking. */
static void
iterate_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_join_async_success (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-async", n);
  g_autoptr(GError) error = NULL;
  AsyncJoin join = { 0 };

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  fs_multi_thread_join_async (group, NULL, join_ready_cb, &join);

  /* Held by the gate: nothing can complete the join yet. */
  iterate_pending ();
  g_assert_false (join.done);

  fs_test_gate_open (&work->gate);
  fs_test_iterate_until (&join.done);

  g_assert_cmpint (join.status, ==, FS_WAIT_OK);
  g_assert_no_error (join.error);
  g_assert_true (join.thread == g_thread_self ());
  g_assert_cmpint (work_total_done (work), ==, n);
  g_assert_false (fs_multi_thread_is_alive (group));

  /* Joined: the group can start again. */
  work_reset_run (work);
  fs_test_gate_open (&work->gate);
  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (group);
  work_free (work);
}

static void
test_join_async_failure (void)
{
  const guint n = 3;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-async-fail", n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  AsyncJoin join = { 0 };

  work->acts[0] = ACT_WAIT_CANCEL;
  work->acts[1] = ACT_FAIL;
  work->acts[2] = ACT_WAIT_CANCEL;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);

  fs_multi_thread_join_async (group, NULL, join_ready_cb, &join);
  fs_test_iterate_until (&join.done);

  g_assert_cmpint (join.status, ==, FS_WAIT_FAILED);
  assert_thread_failure (join.error, "mt-async-fail_1", 1);
  g_clear_error (&join.error);
  g_assert_true (join.thread == g_thread_self ());

  g_assert_cmpint (work_total_done (work), ==, n);
  g_assert_false (fs_multi_thread_is_alive (group));
  errors = fs_multi_thread_dup_errors (group);
  g_assert_cmpuint (errors->len, ==, 1);

  g_object_unref (group);
  work_free (work);
}

static void
test_join_async_cancelled (void)
{
  const guint n = 2;
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-async-cancel", n);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  AsyncJoin join = { 0 };
  GThread *canceller;

  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);
  work_wait_arrived (work, n);

  fs_multi_thread_join_async (group, cancellable, join_ready_cb, &join);
  iterate_pending ();
  g_assert_false (join.done);

  canceller = g_thread_new ("canceller", cancel_thread, cancellable);
  fs_test_iterate_until (&join.done);
  g_thread_join (canceller);

  g_assert_cmpint (join.status, ==, FS_WAIT_CANCELLED);
  g_assert_no_error (join.error);
  g_assert_true (join.thread == g_thread_self ());

  /* The threads were not stopped, and still need a join. */
  g_assert_true (fs_multi_thread_is_alive (group));
  g_assert_false (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)));
  g_assert_false (fs_multi_thread_start (group, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (work_total_done (work), ==, n);

  /* Nothing of the cancelled join is left to dispatch. */
  iterate_pending ();

  g_object_unref (group);
  work_free (work);
}

static void
test_join_async_not_started (void)
{
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-async-new", 2);
  AsyncJoin join = { 0 };

  fs_multi_thread_join_async (group, NULL, join_ready_cb, &join);
  fs_test_iterate_until (&join.done);

  g_assert_cmpint (join.status, ==, FS_WAIT_NOT_STARTED);
  g_assert_no_error (join.error);
  g_assert_true (join.thread == g_thread_self ());

  g_object_unref (group);
  work_free (work);
}

/* Errors stay with their group */

static void
test_errors_isolated (void)
{
  Work *failing_work = work_new ();
  Work *running_work = work_new ();
  Work *later_work = work_new ();
  Work *thread_work = work_new ();
  FsMultiThread *failing = work_group_new (failing_work, "mt-iso-failing", 2);
  FsMultiThread *running = work_group_new (running_work, "mt-iso-running", 2);
  FsMultiThread *later = work_group_new (later_work, "mt-iso-later", 2);
  FsThread *thread = fs_thread_new ("mt-iso-thread", work_target, thread_work, NULL);
  FsErrorState *global = fs_error_state_get_default ();
  guint global_before = fs_error_state_get_n_errors (global);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) global_errors = NULL;

  failing_work->acts[0] = ACT_FAIL;
  failing_work->acts[1] = ACT_WAIT_CANCEL;
  running_work->acts[0] = ACT_WAIT_GATE;
  running_work->acts[1] = ACT_WAIT_GATE;
  thread_work->acts[0] = ACT_WAIT_GATE;

  /* These two run while the other group fails. */
  g_assert_true (fs_multi_thread_start (running, &error));
  g_assert_no_error (error);
  g_assert_true (fs_thread_start (thread, &error));
  g_assert_no_error (error);
  work_wait_arrived (running_work, 2);
  work_wait_arrived (thread_work, 1);

  g_assert_true (fs_multi_thread_start (failing, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (failing, -1, NULL, &error), ==, FS_WAIT_FAILED);
  assert_thread_failure (error, "mt-iso-failing_0", 0);
  g_clear_error (&error);

  /* Neither the running group nor the thread sees it. */
  g_assert_false (fs_multi_thread_get_has_error (running));
  g_assert_true (fs_multi_thread_check_and_raise_error (running, NULL));
  g_assert_false (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (running)));
  g_assert_false (fs_thread_get_has_error (thread));
  g_assert_true (fs_thread_check_and_raise_error (thread, NULL));

  fs_test_gate_open (&running_work->gate);
  fs_test_gate_open (&thread_work->gate);
  g_assert_cmpint (fs_multi_thread_join (running, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (fs_thread_join (thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_thread_check_and_raise_error (thread, NULL));

  /* Nor does a group started after the failure. */
  g_assert_true (fs_multi_thread_start (later, &error));
  g_assert_no_error (error);
  g_assert_cmpint (fs_multi_thread_join (later, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (fs_multi_thread_check_and_raise_error (later, NULL));

  /* The process-wide state did record it, once. */
  g_assert_true (fs_error_state_get_has_error (global));
  g_assert_cmpuint (fs_error_state_get_n_errors (global), ==, global_before + 1);
  global_errors = fs_error_state_dup_errors (global);
  assert_thread_failure (g_ptr_array_index (global_errors, global_errors->len - 1),
                         "mt-iso-failing_0", 0);

  g_object_unref (thread);
  g_object_unref (failing);
  g_object_unref (running);
  g_object_unref (later);
  work_free (failing_work);
  work_free (running_work);
  work_free (later_work);
  work_free (thread_work);
}

/* Scale */

static void
test_many_threads (void)
{
  guint n = MAX (64, 4 * fs_total_cpus ());
  Work *work;
  FsMultiThread *group;
  g_autoptr(GError) error = NULL;
  guint baseline = fs_test_count_threads ();

  if (n > MAX_THREADS)
    n = MAX_THREADS;

  work = work_new ();
  group = work_group_new (work, "mt-many-threads", n);
  for (guint i = 0; i < n; i++)
    work->acts[i] = ACT_WAIT_GATE;

  g_assert_true (fs_multi_thread_start (group, &error));
  g_assert_no_error (error);

  /* All of them at once, whatever the number of CPUs. */
  work_wait_arrived (work, n);
  g_assert_cmpuint (count_os_threads_named ("mt-many-threads"), ==, n);
  g_assert_true (fs_multi_thread_is_alive (group));

  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_assert_cmpint (g_atomic_int_get (&work->bad_index), ==, 0);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (work->done[i], ==, 1);
  assert_os_threads_gone ("mt-many-threads");
  assert_thread_count_back_to (baseline);

  g_object_unref (group);
  work_free (work);
}

/* user_data_free */

static void
test_user_data_free_after_join (void)
{
  const guint n = 4;
  Work *work = work_new ();
  FsMultiThread *group = fs_multi_thread_new ("mt-free", n, work_target, work, work_freed);
  g_autoptr(GError) error = NULL;

  /* Two runs: the data is shared by both and freed once. */
  for (guint run = 0; run < 2; run++)
    {
      g_assert_true (fs_multi_thread_start (group, &error));
      g_assert_no_error (error);
      g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
      g_assert_cmpint (g_atomic_int_get (&work->freed), ==, 0);
    }

  g_object_unref (group);
  g_assert_cmpint (g_atomic_int_get (&work->freed), ==, 1);
  g_assert_cmpint (work->done_when_freed, ==, 2 * n);

  work_free (work);
}

static void
test_user_data_free_never_started (void)
{
  Work *work = work_new ();
  FsMultiThread *group = fs_multi_thread_new ("mt-free-new", 2, work_target, work, work_freed);

  g_assert_cmpint (g_atomic_int_get (&work->freed), ==, 0);
  g_object_unref (group);
  g_assert_cmpint (g_atomic_int_get (&work->freed), ==, 1);
  g_assert_cmpint (work->done_when_freed, ==, 0);

  work_free (work);
}

static void
test_user_data_free_group_dropped (void)
{
  const guint n = 4;

  if (g_test_subprocess ())
    {
      guint before = fs_test_count_threads ();
      Work *work = work_new ();
      FsMultiThread *group = fs_multi_thread_new ("mt-free-dropped", n, work_target, work, work_freed);
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < n; i++)
        work->acts[i] = ACT_WAIT_GATE;

      g_assert_true (fs_multi_thread_start (group, &error));
      g_assert_no_error (error);
      work_wait_arrived (work, n);

      /* Dropped while its threads run: they finish on their own, and the
       * last of them frees the data. */
      g_object_unref (group);
      g_assert_cmpint (g_atomic_int_get (&work->freed), ==, 0);

      fs_test_gate_open (&work->gate);
      fs_test_gate_wait (&work->freed_gate);

      g_assert_cmpint (g_atomic_int_get (&work->freed), ==, 1);
      g_assert_cmpint (work->done_when_freed, ==, n);

      /* The last thread may still be leaving the gate it opened: free the
       * work once every thread is gone (LeakSanitizer checks this child). */
      fs_test_assert_threads_settle (before);
      work_free (work);
      return;
    }

  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
}

/* Construction */

static void
test_thread_count_zero (void)
{
  if (g_test_subprocess ())
    {
      FsMultiThread *group = g_object_new (FS_TYPE_MULTI_THREAD, "thread-count", 0, NULL);

      /* Not reached: GObject's warning is fatal in a test. */
      g_object_unref (group);
      return;
    }

  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*WARNING*out of range for property*thread-count*");
}

static void
test_thread_count_zero_not_applied (void)
{
  if (g_test_subprocess ())
    {
      FsMultiThread *group;

      g_test_expect_message ("GLib-GObject", G_LOG_LEVEL_WARNING,
                             "*out of range for property*thread-count*");
      group = g_object_new (FS_TYPE_MULTI_THREAD, "thread-count", 0, NULL);
      g_test_assert_expected_messages ();

      /* The value was refused: the group keeps its default of one. */
      g_assert_cmpuint (fs_multi_thread_get_thread_count (group), ==, 1);
      g_object_unref (group);
      return;
    }

  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
}

/* Asynchronous joins of one run, whose first callback starts the group
 * again: the second comes at once, with the first run's result, although
 * the group's error state now belongs to the new run. A watcher thread
 * turns a second callback that never comes into a failure after 10 s. */
typedef struct
{
  Work          *work;
  FsMultiThread *group;
  guint          n_callbacks;
  AsyncJoin      joins[2];
  gint           released;
  gboolean       second_during_new_run;
  FsTestGate     restarted;
  GMutex         mutex;
  GCond          cond;
  gboolean       second_done;
  gboolean       watcher_gave_up;
} GroupRestart;

static void
group_restart_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GroupRestart *r = user_data;
  AsyncJoin *mine = &r->joins[r->n_callbacks++];

  mine->status = fs_multi_thread_join_finish (FS_MULTI_THREAD (object), result, &mine->error);
  mine->done = TRUE;

  if (r->n_callbacks == 1)
    {
      work_reset_run (r->work);
      r->work->acts[0] = ACT_WAIT_GATE;
      r->work->acts[1] = ACT_WAIT_GATE;
      g_assert_true (fs_multi_thread_start (r->group, NULL));
      fs_test_gate_open (&r->restarted);
      return;
    }

  r->second_during_new_run = !g_atomic_int_get (&r->released);
  g_mutex_lock (&r->mutex);
  r->second_done = TRUE;
  g_cond_signal (&r->cond);
  g_mutex_unlock (&r->mutex);
}

static gpointer
group_restart_watcher (gpointer data)
{
  GroupRestart *r = data;
  gint64 give_up;

  fs_test_gate_wait (&r->restarted);
  work_wait_arrived (r->work, 2);
  give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  g_mutex_lock (&r->mutex);
  while (!r->second_done)
    if (!g_cond_wait_until (&r->cond, &r->mutex, give_up))
      {
        r->watcher_gave_up = TRUE;
        break;
      }
  g_mutex_unlock (&r->mutex);

  g_atomic_int_set (&r->released, TRUE);
  fs_test_gate_open (&r->work->gate);
  return NULL;
}

static void
test_join_async_restart_in_callback (void)
{
  GroupRestart *r = g_new0 (GroupRestart, 1);
  g_autoptr(GError) error = NULL;
  GThread *watcher;

  fs_test_gate_init (&r->restarted);
  g_mutex_init (&r->mutex);
  g_cond_init (&r->cond);
  r->work = work_new ();
  r->group = work_group_new (r->work, "mt-restart-in-cb", 2);
  r->work->acts[1] = ACT_FAIL;

  watcher = g_thread_new ("watcher", group_restart_watcher, r);
  g_assert_true (fs_multi_thread_start (r->group, NULL));
  fs_multi_thread_join_async (r->group, NULL, group_restart_cb, r);
  fs_multi_thread_join_async (r->group, NULL, group_restart_cb, r);

  while (r->n_callbacks < 2)
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (watcher);

  g_assert_false (r->watcher_gave_up);
  g_assert_true (r->second_during_new_run);
  for (guint i = 0; i < 2; i++)
    {
      g_assert_cmpint (r->joins[i].status, ==, FS_WAIT_FAILED);
      assert_thread_failure (r->joins[i].error, "mt-restart-in-cb_1", 1);
      g_clear_error (&r->joins[i].error);
    }

  /* The new run succeeds, and its join says so. */
  g_assert_cmpint (fs_multi_thread_join (r->group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  g_object_unref (r->group);
  work_free (r->work);
  fs_test_gate_clear (&r->restarted);
  g_mutex_clear (&r->mutex);
  g_cond_clear (&r->cond);
  g_free (r);
}

/* References held by joins, interrupts */

typedef struct
{
  FsMultiThread *group;    /* borrowed: the joiner owns no reference */
  FsWaitStatus   status;
} GroupJoiner;

static gpointer
group_joiner_main (gpointer data)
{
  GroupJoiner *j = data;

  j->status = fs_multi_thread_join (j->group, -1, NULL, NULL);
  return NULL;
}

static void
note_finalizer (gpointer  data,
                GObject  *where_the_object_was)
{
  *(GThread **) data = g_thread_self ();
}

/* Waits until @object has @n references; gives up after 10 s only when a
 * join never takes its own. */
static void
wait_ref_count (gpointer object,
                guint    n)
{
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_atomic_int_get ((gint *) &G_OBJECT (object)->ref_count) != (gint) n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <=, give_up);
      g_thread_yield ();
    }
}

static void
test_join_holds_reference (void)
{
  Work *work = work_new ();
  GroupJoiner j = { NULL, FS_WAIT_FAILED };
  GThread *finalizer = NULL;
  GThread *joiner;

  j.group = work_group_new (work, "mt-held-by-joiner", 2);
  work->acts[0] = ACT_WAIT_GATE;
  work->acts[1] = ACT_WAIT_GATE;
  g_object_weak_ref (G_OBJECT (j.group), note_finalizer, &finalizer);
  g_assert_true (fs_multi_thread_start (j.group, NULL));
  work_wait_arrived (work, 2);

  /* Members hold no reference to their group: the test's and the join's.
   * Then the test drops its own while the join waits. */
  joiner = g_thread_new ("joiner", group_joiner_main, &j);
  wait_ref_count (j.group, 2);
  g_object_unref (j.group);

  fs_test_gate_open (&work->gate);
  g_thread_join (joiner);

  g_assert_cmpint (j.status, ==, FS_WAIT_OK);
  g_assert_true (finalizer == joiner);
  work_free (work);
}

static gpointer
write_byte (gpointer data)
{
  g_assert_cmpint (write (GPOINTER_TO_INT (data), "x", 1), ==, 1);
  return NULL;
}

static void
test_join_interrupted (void)
{
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-interrupted", 2);
  g_autoptr(GError) error = NULL;
  GThread *writer;
  int fds[2];

  work->acts[0] = ACT_WAIT_GATE;
  work->acts[1] = ACT_WAIT_GATE;
  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_true (fs_multi_thread_start (group, NULL));
  work_wait_arrived (work, 2);

  g_assert_cmpint (fs_wait_set_interrupt_fd (fds[0]), ==, -1);
  writer = g_thread_new ("writer", write_byte, GINT_TO_POINTER (fds[1]));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_INTERRUPTED);
  g_assert_no_error (error);
  g_thread_join (writer);

  /* Nothing was joined: the group still runs, and is still busy. */
  g_assert_true (fs_multi_thread_is_alive (group));
  g_assert_false (fs_multi_thread_start (group, &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_BUSY);
  g_clear_error (&error);

  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, fds[0]);
  fs_test_gate_open (&work->gate);
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);

  close (fds[0]);
  close (fds[1]);
  g_object_unref (group);
  work_free (work);
}

/* Objects made with g_object_new(), no property changed on workers */

static void
test_g_object_new (void)
{
  g_autoptr(GError) error = NULL;
  FsMultiThread *plain = g_object_new (FS_TYPE_MULTI_THREAD, "thread-count", 3, NULL);
  FsMultiThread *first = g_object_new (FS_TYPE_MULTI_THREAD, "name", "mt-plainly", NULL);
  FsMultiThread *second = g_object_new (FS_TYPE_MULTI_THREAD, "name", "mt-plainly", NULL);

  /* No target: the threads do nothing and succeed, run after run. */
  g_assert_cmpint (fs_multi_thread_join (plain, 0, NULL, &error), ==, FS_WAIT_NOT_STARTED);
  for (guint run = 0; run < 2; run++)
    {
      g_assert_true (fs_multi_thread_start (plain, &error));
      g_assert_no_error (error);
      g_assert_cmpint (fs_multi_thread_join (plain, -1, NULL, &error), ==, FS_WAIT_OK);
      g_assert_no_error (error);
    }
  g_assert_false (fs_multi_thread_get_has_error (plain));

  /* Names are unique however the object is made. */
  g_assert_cmpstr (fs_multi_thread_get_name (first), ==, "mt-plainly");
  g_assert_cmpstr (fs_multi_thread_get_name (second), ==, "mt-plainly_0");

  g_object_unref (plain);
  g_object_unref (first);
  g_object_unref (second);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    data)
{
  g_atomic_int_inc ((gint *) data);
}

static void
test_has_error_not_a_property (void)
{
  Work *work = work_new ();
  FsMultiThread *group = work_group_new (work, "mt-no-notify", 2);
  g_autoptr(GError) error = NULL;
  gint notified = 0;

  g_assert_null (g_object_class_find_property (G_OBJECT_GET_CLASS (group), "has-error"));

  work->acts[1] = ACT_FAIL;
  g_signal_connect (group, "notify", G_CALLBACK (count_notify), &notified);
  g_assert_true (fs_multi_thread_start (group, NULL));
  g_assert_cmpint (fs_multi_thread_join (group, -1, NULL, &error), ==, FS_WAIT_FAILED);
  g_assert_true (fs_multi_thread_get_has_error (group));
  g_assert_cmpint (g_atomic_int_get (&notified), ==, 0);

  g_object_unref (group);
  work_free (work);
}

/* No lock is held while a thread is created: pthread_create() is wrapped
 * so that, while the start creates its first thread, another thread asks
 * the object something that takes its lock, and must get an answer before
 * the creation goes on. (Not under sanitizers, whose own pthread_create()
 * this would displace.) */

#ifndef FS_TEST_NO_INTERPOSE

typedef int (*PthreadCreateFunc) (pthread_t             *thread,
                                  const pthread_attr_t  *attr,
                                  void                *(*start) (void *),
                                  void                  *arg);

typedef void (*CreationHook) (gpointer data);

static CreationHook creation_hook;
static gpointer creation_hook_data;
static GPrivate in_creation_hook;

int
pthread_create (pthread_t             *thread,
                const pthread_attr_t  *attr,
                void                *(*start) (void *),
                void                  *arg)
{
  static PthreadCreateFunc real;
  CreationHook hook = g_atomic_pointer_exchange (&creation_hook, NULL);

  if (real == NULL)
    real = (PthreadCreateFunc) dlsym (RTLD_NEXT, "pthread_create");

  /* Once: the hook disarms itself, and the prober it makes is not hooked. */
  if (hook != NULL && g_private_get (&in_creation_hook) == NULL)
    {
      g_private_set (&in_creation_hook, GINT_TO_POINTER (TRUE));
      hook (creation_hook_data);
      g_private_set (&in_creation_hook, NULL);
    }

  return real (thread, attr, start, arg);
}

typedef struct
{
  FsThread      *thread;
  FsMultiThread *group;
  GMutex         mutex;
  GCond          cond;
  gboolean       answered;
  gboolean       ran;
  gboolean       timed_out;
  GThread       *prober;
} Probe;

static gpointer
probe_main (gpointer data)
{
  Probe *p = data;

  /* Both take the object's lock. */
  if (p->thread != NULL)
    (void) fs_thread_is_alive (p->thread);
  if (p->group != NULL)
    (void) fs_multi_thread_is_alive (p->group);

  g_mutex_lock (&p->mutex);
  p->answered = TRUE;
  g_cond_signal (&p->cond);
  g_mutex_unlock (&p->mutex);
  return NULL;
}

/* On the thread that starts, inside pthread_create(). */
static void
probe_during_creation (gpointer data)
{
  Probe *p = data;
  gint64 give_up = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  p->ran = TRUE;
  p->prober = g_thread_new ("prober", probe_main, p);
  g_mutex_lock (&p->mutex);
  while (!p->answered)
    if (!g_cond_wait_until (&p->cond, &p->mutex, give_up))
      {
        p->timed_out = TRUE;
        break;
      }
  g_mutex_unlock (&p->mutex);
}

static void
probe_start (Probe *p)
{
  g_autoptr(GError) error = NULL;

  g_mutex_init (&p->mutex);
  g_cond_init (&p->cond);
  g_atomic_pointer_set (&creation_hook_data, p);
  g_atomic_pointer_set (&creation_hook, probe_during_creation);

  if (p->thread != NULL)
    g_assert_true (fs_thread_start (p->thread, &error));
  else
    g_assert_true (fs_multi_thread_start (p->group, &error));
  g_assert_no_error (error);

  /* The prober may still wait for the lock, when the start held it. */
  g_thread_join (p->prober);
  g_mutex_clear (&p->mutex);
  g_cond_clear (&p->cond);

  g_assert_true (p->ran);
  g_assert_false (p->timed_out);
}

static void
test_start_creates_without_lock (void)
{
  Work *work = work_new ();
  Probe group_probe = { 0 };
  Probe thread_probe = { 0 };
  g_autoptr(GError) error = NULL;

  group_probe.group = work_group_new (work, "mt-unlocked-start", 3);
  probe_start (&group_probe);
  g_assert_cmpint (fs_multi_thread_join (group_probe.group, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_cmpint (work_total_done (work), ==, 3);
  g_object_unref (group_probe.group);

  thread_probe.thread = g_object_new (FS_TYPE_THREAD, "name", "unlocked-start", NULL);
  probe_start (&thread_probe);
  g_assert_cmpint (fs_thread_join (thread_probe.thread, -1, NULL, &error), ==, FS_WAIT_OK);
  g_object_unref (thread_probe.thread);

  work_free (work);
}

#endif /* !FS_TEST_NO_INTERPOSE */

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/multi-thread/names/single", test_names_single);
  g_test_add_func ("/multi-thread/names/many", test_names_many);
  g_test_add_func ("/multi-thread/names/os-cut", test_names_os_cut);
  g_test_add_func ("/multi-thread/names/default", test_names_default);
  g_test_add_func ("/multi-thread/index", test_index);
  g_test_add_func ("/multi-thread/lifecycle", test_lifecycle);
  g_test_add_func ("/multi-thread/join/all-despite-failure", test_join_all_despite_failure);
  g_test_add_func ("/multi-thread/join/waits-past-failure", test_join_waits_past_failure);
  g_test_add_func ("/multi-thread/join/not-started", test_join_not_started);
  g_test_add_func ("/multi-thread/join/from-member", test_join_from_member);
  g_test_add_func ("/multi-thread/join/timeout", test_join_timeout);
  g_test_add_func ("/multi-thread/join/cancelled", test_join_cancelled);
  g_test_add_func ("/multi-thread/join-async/success", test_join_async_success);
  g_test_add_func ("/multi-thread/join-async/failure", test_join_async_failure);
  g_test_add_func ("/multi-thread/join-async/cancelled", test_join_async_cancelled);
  g_test_add_func ("/multi-thread/join-async/not-started", test_join_async_not_started);
  g_test_add_func ("/multi-thread/join-async/restart-in-callback", test_join_async_restart_in_callback);
  g_test_add_func ("/multi-thread/join/holds-reference", test_join_holds_reference);
  g_test_add_func ("/multi-thread/join/interrupted", test_join_interrupted);
  g_test_add_func ("/multi-thread/g-object-new", test_g_object_new);
  g_test_add_func ("/multi-thread/has-error-not-a-property", test_has_error_not_a_property);
#ifndef FS_TEST_NO_INTERPOSE
  g_test_add_func ("/multi-thread/start/creates-without-lock", test_start_creates_without_lock);
#endif
  g_test_add_func ("/multi-thread/fail-fast", test_fail_fast);
  g_test_add_func ("/multi-thread/cancel", test_cancel);
  g_test_add_func ("/multi-thread/has-error", test_has_error);
  g_test_add_func ("/multi-thread/restart/after-success", test_restart_after_success);
  g_test_add_func ("/multi-thread/restart/after-failure", test_restart_after_failure);
  g_test_add_func ("/multi-thread/start/twice", test_start_twice);
  g_test_add_func ("/multi-thread/errors/isolated", test_errors_isolated);
  g_test_add_func ("/multi-thread/many-threads", test_many_threads);
  g_test_add_func ("/multi-thread/user-data-free/after-join", test_user_data_free_after_join);
  g_test_add_func ("/multi-thread/user-data-free/never-started", test_user_data_free_never_started);
  g_test_add_func ("/multi-thread/user-data-free/group-dropped", test_user_data_free_group_dropped);
  g_test_add_func ("/multi-thread/thread-count-zero/warns", test_thread_count_zero);
  g_test_add_func ("/multi-thread/thread-count-zero/not-applied", test_thread_count_zero_not_applied);

  return g_test_run ();
}
