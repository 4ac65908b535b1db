/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsthread-bench.c: what fsthread costs, next to what it replaces
 *
 * Every case runs beside the baseline it is compared with, in the same
 * process and interleaved with it: each repetition runs every member of a
 * group once, in a rotating order, so that a slow moment of the machine
 * falls on all of them alike. Each member is warmed up first (which also
 * sizes its run), then repeated; the median is reported.
 *
 *   fsthread-bench            a table, with each target of the issue checked
 *   fsthread-bench --json     one JSON object, {"cases": [...]}
 *   fsthread-bench --quick    a short run, for a smoke test
 *
 * Times are wall-clock (CLOCK_MONOTONIC). The machine may be shared: run it
 * more than once before believing a small difference.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <gio/gio.h>
#include <fsthread.h>
#ifdef HAVE_GDK_PIXBUF
# include <gdk-pixbuf/gdk-pixbuf.h>
#endif

#define ITEM_BYTES 4096

/* Options. */
static gboolean opt_json;
static gboolean opt_quick;
static gint opt_repeats;
static char *opt_only;
static gint64 opt_stream_child_items;
static gint opt_stream_child_prefetch;
static gint64 opt_map_child_items;

/* Sizing: how long one run of a case lasts, and how often it is repeated. */
static gint64 run_target_ns;
static guint n_repeats;

static gint64
now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* Spends @ns of the calling thread's time on the CPU, spinning on the
 * clock: the "work" of the overlap case. */
static void
burn_ns (gint64 ns)
{
  gint64 end = now_ns () + ns;

  while (now_ns () < end)
    ;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (double *values,
        guint   n)
{
  g_assert (n > 0);
  qsort (values, n, sizeof *values, compare_doubles);
  if (n % 2 == 1)
    return values[n / 2];
  return (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* How busy the machine was with other work while a group ran: CPU time
 * used by every process but this one (and its children), in CPUs. 0 is a
 * quiet machine; 1 means another program kept a whole CPU busy, and the
 * numbers of that group are not to be trusted. */
typedef struct
{
  guint64 busy;   /* ticks, all CPUs */
  guint64 own;    /* ticks, this process and its waited-for children */
  gint64  time;   /* monotonic microseconds */
} LoadMark;

static void
load_mark (LoadMark *mark)
{
  g_autofree char *stat = NULL;
  g_autofree char *self = NULL;
  guint64 fields[10] = { 0 };
  const char *p;

  mark->busy = mark->own = 0;
  mark->time = g_get_monotonic_time ();

  if (g_file_get_contents ("/proc/stat", &stat, NULL, NULL) &&
      g_str_has_prefix (stat, "cpu "))
    {
      char *end = stat + 4;

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        fields[i] = g_ascii_strtoull (end, &end, 10);
      /* user nice system idle iowait irq softirq steal guest guest_nice:
       * busy is all but idle and iowait (guest time is in user already). */
      mark->busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7];
    }

  /* Fields 14-17 of /proc/self/stat, after the command in parentheses. */
  if (g_file_get_contents ("/proc/self/stat", &self, NULL, NULL) &&
      (p = strrchr (self, ')')) != NULL)
    {
      char *end = (char *) p + 2;

      for (guint i = 3; i <= 17; i++)
        {
          guint64 value;

          while (*end == ' ')
            end++;
          value = g_ascii_strtoull (end, &end, 10);
          if (i >= 14)
            mark->own += value;
          if (*end == '\0')
            break;
          /* Field 3 is the state, a letter: strtoull read nothing. */
          if (i == 3)
            end++;
        }
    }
}

static double
load_since (const LoadMark *mark)
{
  LoadMark now;
  double seconds;
  guint64 others;

  load_mark (&now);
  seconds = (now.time - mark->time) / 1e6;
  if (seconds <= 0 || now.busy < mark->busy)
    return 0;
  others = now.busy - mark->busy;
  others -= MIN (others, now.own - mark->own);
  return others / (seconds * sysconf (_SC_CLK_TCK));
}

static void
die_on_error (GError     *error,
              const char *what)
{
  if (error != NULL)
    g_error ("%s: %s", what, error->message);
}

/* The results. */

typedef struct
{
  char   *name;     /* the case, as in the JSON */
  char   *params;   /* for the table: "prefetch=64" */
  char   *json;     /* the whole JSON object */
  double  value;    /* the headline number */
  char   *unit;
  double  other_load;
} Result;

static GPtrArray *results;

/* The other load during the group being reported. */
static double group_load;

static void
result_free (gpointer data)
{
  Result *result = data;

  g_free (result->name);
  g_free (result->params);
  g_free (result->json);
  g_free (result->unit);
  g_free (result);
}

static char *
format_number (double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (value >= 100 || value <= -100)
    g_ascii_formatd (buf, sizeof buf, "%.0f", value);
  else if (value >= 1 || value <= -1)
    g_ascii_formatd (buf, sizeof buf, "%.2f", value);
  else
    g_ascii_formatd (buf, sizeof buf, "%.3f", value);
  return g_strdup (buf);
}

/* Adds a result. @fields are the JSON members after "case", already
 * formatted; @value_key names the headline number among them. */
static void
add_result (const char *name,
            const char *params,
            const char *fields,
            const char *value_key,
            double      value,
            const char *unit)
{
  Result *result = g_new0 (Result, 1);
  g_autofree char *number = format_number (value);
  g_autofree char *load = format_number (group_load);

  result->name = g_strdup (name);
  result->params = g_strdup (params != NULL ? params : "");
  result->json = g_strdup_printf ("{\"case\": \"%s\"%s%s, \"%s\": %s, \"repeats\": %u, "
                                  "\"other_load\": %s}",
                                  name, fields[0] != '\0' ? ", " : "", fields,
                                  value_key, number, n_repeats, load);
  result->other_load = group_load;
  result->value = value;
  result->unit = g_strdup (unit);
  g_ptr_array_add (results, result);
}

static Result *
find_result (const char *name,
             const char *params)
{
  for (guint i = 0; i < results->len; i++)
    {
      Result *result = g_ptr_array_index (results, i);

      if (g_str_equal (result->name, name) &&
          (params == NULL || g_str_equal (result->params, params)))
        return result;
    }
  return NULL;
}

static gboolean
group_selected (const char *group)
{
  return opt_only == NULL || strstr (group, opt_only) != NULL;
}

/* A member of a group: run() does @n units of work and returns the
 * elapsed nanoseconds. */
typedef struct
{
  const char *label;
  gint64    (*run) (gpointer data, guint64 n);
  gpointer    data;
  guint64     n;          /* sized by the warm-up */
  guint64     n_min;
  guint64     n_max;
  double     *samples;    /* ns per unit, one per repetition */
} Member;

/* Warms each member up and sizes its run to last about run_target_ns,
 * then runs the group n_repeats times, interleaved. */
static void
measure_group (Member *members,
               guint   n_members)
{
  for (guint m = 0; m < n_members; m++)
    {
      Member *member = &members[m];
      guint64 n = member->n_min;
      gint64 elapsed;

      /* Grow the run until it is long enough to time, then size it. */
      for (;;)
        {
          elapsed = member->run (member->data, n);
          if (elapsed >= run_target_ns / 8 || n >= member->n_max)
            break;
          n = MIN (n * 8, member->n_max);
        }
      n = (guint64) ((double) n * run_target_ns / MAX (elapsed, 1));
      member->n = CLAMP (n, member->n_min, member->n_max);
      member->run (member->data, member->n);   /* the warm-up proper */
      member->samples = g_new0 (double, n_repeats);
    }

  for (guint r = 0; r < n_repeats; r++)
    for (guint k = 0; k < n_members; k++)
      {
        Member *member = &members[(r + k) % n_members];

        member->samples[r] = (double) member->run (member->data, member->n) / member->n;
      }
}

static double
member_median (Member *member)
{
  double value = median (member->samples, n_repeats);

  g_clear_pointer (&member->samples, g_free);
  return value;
}

/* ------------------------------------------------------------------ */
/* Handoff: one producer thread, one consumer, trivial items.          */

static gboolean
count_up (FsGenerator  *generator,
          gpointer      data,
          GError      **error)
{
  guint64 n = *(guint64 *) data;

  for (guint64 i = 1; i <= n; i++)
    if (!fs_generator_yield (generator, GSIZE_TO_POINTER (i), error))
      return FALSE;
  return TRUE;
}

/* A stream read to its end must end with FS_WAIT_END, and no error. */
static void
die_unless_end (FsWaitStatus  status,
                GError       *error,
                const char   *what)
{
  die_on_error (error, what);
  if (status != FS_WAIT_END)
    g_error ("%s: the stream ended with status %d", what, status);
}

static void
check_sum (guint64 count,
           guint64 sum,
           guint64 n)
{
  if (count != n || sum != n * (n + 1) / 2)
    g_error ("handed over %" G_GUINT64_FORMAT " items (sum %" G_GUINT64_FORMAT
             "), expected %" G_GUINT64_FORMAT, count, sum, n);
}

static gint64
run_handoff (gpointer data,
             guint64  n)
{
  guint prefetch = GPOINTER_TO_UINT (data);
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  guint64 count = 0, sum = 0;
  gpointer item;
  gint64 start;

  start = now_ns ();
  bg = fs_background_generator_new (prefetch, "bench-producer", count_up,
                                     g_memdup2 (&n, sizeof n), g_free, NULL);
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    {
      count++;
      sum += GPOINTER_TO_SIZE (item);
    }
  die_unless_end (status, error, "handoff");
  g_object_unref (bg);
  start = now_ns () - start;

  check_sum (count, sum, n);
  return start;
}

/* The raw, unbounded GAsyncQueue. */

typedef struct
{
  GAsyncQueue *queue;
  guint64      n;
} AsyncProducer;

static gpointer
async_produce (gpointer data)
{
  AsyncProducer *p = data;

  for (guint64 i = 1; i <= p->n; i++)
    g_async_queue_push (p->queue, GSIZE_TO_POINTER (i));
  return NULL;
}

static gint64
run_gasyncqueue (gpointer data,
                 guint64  n)
{
  AsyncProducer p;
  guint64 count = 0, sum = 0;
  GThread *thread;
  gint64 start;

  start = now_ns ();
  p.queue = g_async_queue_new ();
  p.n = n;
  thread = g_thread_new ("bench-producer", async_produce, &p);
  for (guint64 i = 0; i < n; i++)
    {
      sum += GPOINTER_TO_SIZE (g_async_queue_pop (p.queue));
      count++;
    }
  g_thread_join (thread);
  g_async_queue_unref (p.queue);
  start = now_ns () - start;

  check_sum (count, sum, n);
  return start;
}

/* The naive bounded queue: one mutex, two conditions, a signal for every
 * item whether or not anyone waits. As usual for such a queue, push waits
 * for room before it enqueues, so one item more than the capacity exists
 * ahead of the consumer (the one the producer holds). */

typedef struct
{
  GMutex   mutex;
  GCond    not_empty;
  GCond    not_full;
  GQueue   items;
  guint    capacity;
  gboolean ended;
} NaiveQueue;

static void
naive_init (NaiveQueue *q,
            guint       capacity)
{
  g_mutex_init (&q->mutex);
  g_cond_init (&q->not_empty);
  g_cond_init (&q->not_full);
  g_queue_init (&q->items);
  q->capacity = capacity;
  q->ended = FALSE;
}

static void
naive_clear (NaiveQueue *q)
{
  g_queue_clear (&q->items);
  g_mutex_clear (&q->mutex);
  g_cond_clear (&q->not_empty);
  g_cond_clear (&q->not_full);
}

static void
naive_push (NaiveQueue *q,
            gpointer    item)
{
  g_mutex_lock (&q->mutex);
  while (q->items.length >= q->capacity)
    g_cond_wait (&q->not_full, &q->mutex);
  g_queue_push_tail (&q->items, item);
  g_cond_signal (&q->not_empty);
  g_mutex_unlock (&q->mutex);
}

static void
naive_end (NaiveQueue *q)
{
  g_mutex_lock (&q->mutex);
  q->ended = TRUE;
  g_cond_broadcast (&q->not_empty);
  g_mutex_unlock (&q->mutex);
}

static gboolean
naive_pop (NaiveQueue *q,
           gpointer   *item)
{
  gboolean ret = FALSE;

  g_mutex_lock (&q->mutex);
  while (g_queue_is_empty (&q->items) && !q->ended)
    g_cond_wait (&q->not_empty, &q->mutex);
  if (!g_queue_is_empty (&q->items))
    {
      *item = g_queue_pop_head (&q->items);
      g_cond_signal (&q->not_full);
      ret = TRUE;
    }
  g_mutex_unlock (&q->mutex);

  return ret;
}

typedef struct
{
  NaiveQueue queue;
  guint64    n;
  gint64     work_ns;
} NaiveProducer;

static gpointer
naive_produce (gpointer data)
{
  NaiveProducer *p = data;

  for (guint64 i = 1; i <= p->n; i++)
    {
      if (p->work_ns > 0)
        burn_ns (p->work_ns);
      naive_push (&p->queue, GSIZE_TO_POINTER (i));
    }
  naive_end (&p->queue);
  return NULL;
}

static gint64
run_naive (gpointer data,
           guint64  n)
{
  NaiveProducer p;
  guint64 count = 0, sum = 0;
  GThread *thread;
  gpointer item;
  gint64 start;

  start = now_ns ();
  naive_init (&p.queue, GPOINTER_TO_UINT (data));
  p.n = n;
  p.work_ns = 0;
  thread = g_thread_new ("bench-producer", naive_produce, &p);
  while (naive_pop (&p.queue, &item))
    {
      count++;
      sum += GPOINTER_TO_SIZE (item);
    }
  g_thread_join (thread);
  naive_clear (&p.queue);
  start = now_ns () - start;

  check_sum (count, sum, n);
  return start;
}

static const guint handoff_prefetches[] = { 1, 4, 64, 1024 };

static void
bench_handoff (void)
{
  LoadMark mark;
  guint n_p = G_N_ELEMENTS (handoff_prefetches);
  Member members[2 * G_N_ELEMENTS (handoff_prefetches) + 1];
  guint n_members = 0;
  guint64 n_max = opt_quick ? 200000 : 20000000;

  if (!group_selected ("handoff"))
    return;
  load_mark (&mark);

  for (guint i = 0; i < n_p; i++)
    members[n_members++] = (Member) { "handoff", run_handoff,
                                      GUINT_TO_POINTER (handoff_prefetches[i]),
                                      0, 500, n_max, NULL };
  members[n_members++] = (Member) { "baseline_gasyncqueue", run_gasyncqueue, NULL,
                                    0, 500, n_max, NULL };
  for (guint i = 0; i < n_p; i++)
    members[n_members++] = (Member) { "baseline_bounded_naive", run_naive,
                                      GUINT_TO_POINTER (handoff_prefetches[i]),
                                      0, 500, n_max, NULL };

  measure_group (members, n_members);
  group_load = load_since (&mark);

  for (guint m = 0; m < n_members; m++)
    {
      Member *member = &members[m];
      double ns = member_median (member);
      g_autofree char *fields = NULL;
      g_autofree char *params = NULL;

      if (member->data != NULL)
        {
          guint prefetch = GPOINTER_TO_UINT (member->data);

          fields = g_strdup_printf ("\"prefetch\": %u, \"items\": %" G_GUINT64_FORMAT,
                                    prefetch, member->n);
          params = g_strdup_printf ("prefetch=%u", prefetch);
        }
      else
        {
          fields = g_strdup_printf ("\"items\": %" G_GUINT64_FORMAT, member->n);
          params = g_strdup ("unbounded");
        }
      add_result (member->label, params, fields, "ns_per_item", ns, "ns/item");
    }
}

/* ------------------------------------------------------------------ */
/* Thread start + join.                                                */

static gboolean
thread_noop (FsThread  *thread,
             gpointer   data,
             GError   **error)
{
  return TRUE;
}

static gpointer
gthread_noop (gpointer data)
{
  return NULL;
}

static gint64
run_fs_thread (gpointer data,
               guint64  n)
{
  gint64 start = now_ns ();

  for (guint64 i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      FsThread *thread = fs_thread_new ("bench", thread_noop, NULL, NULL);

      if (!fs_thread_start (thread, &error) ||
          fs_thread_join (thread, -1, NULL, &error) != FS_WAIT_OK)
        die_on_error (error, "thread");
      g_object_unref (thread);
    }

  return now_ns () - start;
}

static gint64
run_gthread (gpointer data,
             guint64  n)
{
  gint64 start = now_ns ();

  for (guint64 i = 0; i < n; i++)
    g_thread_join (g_thread_new ("bench", gthread_noop, NULL));

  return now_ns () - start;
}

static gint64
run_fs_multi_thread (gpointer data,
                     guint64  n)
{
  guint n_threads = GPOINTER_TO_UINT (data);
  gint64 start = now_ns ();

  for (guint64 i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      FsMultiThread *group = fs_multi_thread_new ("bench", n_threads, thread_noop, NULL, NULL);

      if (!fs_multi_thread_start (group, &error) ||
          fs_multi_thread_join (group, -1, NULL, &error) != FS_WAIT_OK)
        die_on_error (error, "multi-thread");
      g_object_unref (group);
    }

  return now_ns () - start;
}

static gint64
run_gthreads (gpointer data,
              guint64  n)
{
  guint n_threads = GPOINTER_TO_UINT (data);
  GThread **threads = g_newa (GThread *, n_threads);
  gint64 start = now_ns ();

  for (guint64 i = 0; i < n; i++)
    {
      for (guint t = 0; t < n_threads; t++)
        threads[t] = g_thread_new ("bench", gthread_noop, NULL);
      for (guint t = 0; t < n_threads; t++)
        g_thread_join (threads[t]);
    }

  return now_ns () - start;
}

static guint
start_join_threads (void)
{
  return MAX (fs_total_cpus (), 4);
}

static void
bench_start_join (void)
{
  LoadMark mark;
  guint n_threads = start_join_threads ();
  gpointer n_data = GUINT_TO_POINTER (n_threads);
  guint64 n_max = opt_quick ? 2000 : 100000;
  Member members[] = {
    { "thread_start_join", run_fs_thread, NULL, 0, 20, n_max, NULL },
    { "baseline_gthread_start_join", run_gthread, NULL, 0, 20, n_max, NULL },
    { "multi_thread_start_join", run_fs_multi_thread, n_data, 0, 10, n_max, NULL },
    { "baseline_gthreads_start_join", run_gthreads, n_data, 0, 10, n_max, NULL },
  };

  if (!group_selected ("start_join"))
    return;
  load_mark (&mark);

  measure_group (members, G_N_ELEMENTS (members));
  group_load = load_since (&mark);

  for (guint m = 0; m < G_N_ELEMENTS (members); m++)
    {
      Member *member = &members[m];
      double us = member_median (member) / 1000;
      g_autofree char *fields = NULL;
      g_autofree char *params = NULL;

      if (member->data != NULL)
        {
          fields = g_strdup_printf ("\"threads\": %u", n_threads);
          params = g_strdup_printf ("threads=%u", n_threads);
        }
      else
        {
          fields = g_strdup ("");
          params = g_strdup ("threads=1");
        }
      add_result (member->label, params, fields, "us", us, "us");
    }
}

/* ------------------------------------------------------------------ */
/* Overlap: producer and consumer each spend work_us per item.         */

#define OVERLAP_WORK_US 20
#define OVERLAP_PREFETCH 4

static gboolean
produce_with_work (FsGenerator  *generator,
                   gpointer      data,
                   GError      **error)
{
  guint64 n = *(guint64 *) data;

  for (guint64 i = 1; i <= n; i++)
    {
      burn_ns (OVERLAP_WORK_US * 1000);
      if (!fs_generator_yield (generator, GSIZE_TO_POINTER (i), error))
        return FALSE;
    }
  return TRUE;
}

static gint64
run_overlap (gpointer data,
             guint64  n)
{
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  guint64 count = 0, sum = 0;
  gpointer item;
  gint64 start;

  start = now_ns ();
  bg = fs_background_generator_new (OVERLAP_PREFETCH, "bench-producer", produce_with_work,
                                     g_memdup2 (&n, sizeof n), g_free, NULL);
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    {
      burn_ns (OVERLAP_WORK_US * 1000);
      count++;
      sum += GPOINTER_TO_SIZE (item);
    }
  die_unless_end (status, error, "overlap");
  g_object_unref (bg);
  start = now_ns () - start;

  check_sum (count, sum, n);
  return start;
}

static gint64
run_overlap_naive (gpointer data,
                   guint64  n)
{
  NaiveProducer p;
  guint64 count = 0, sum = 0;
  GThread *thread;
  gpointer item;
  gint64 start;

  start = now_ns ();
  naive_init (&p.queue, OVERLAP_PREFETCH);
  p.n = n;
  p.work_ns = OVERLAP_WORK_US * 1000;
  thread = g_thread_new ("bench-producer", naive_produce, &p);
  while (naive_pop (&p.queue, &item))
    {
      burn_ns (OVERLAP_WORK_US * 1000);
      count++;
      sum += GPOINTER_TO_SIZE (item);
    }
  g_thread_join (thread);
  naive_clear (&p.queue);
  start = now_ns () - start;

  check_sum (count, sum, n);
  return start;
}

static void
bench_overlap (void)
{
  LoadMark mark;
  guint64 n = opt_quick ? 500 : 5000;
  Member members[] = {
    { "overlap", run_overlap, NULL, 0, n, n, NULL },
    { "baseline_overlap_naive", run_overlap_naive, NULL, 0, n, n, NULL },
  };

  if (!group_selected ("overlap"))
    return;
  load_mark (&mark);

  measure_group (members, G_N_ELEMENTS (members));
  group_load = load_since (&mark);

  for (guint m = 0; m < G_N_ELEMENTS (members); m++)
    {
      double ns = member_median (&members[m]);
      double efficiency = OVERLAP_WORK_US * 1000.0 / ns;
      g_autofree char *fields = NULL;
      g_autofree char *params = NULL;

      fields = g_strdup_printf ("\"work_us\": %d, \"prefetch\": %d, \"items\": %" G_GUINT64_FORMAT,
                                OVERLAP_WORK_US, OVERLAP_PREFETCH, n);
      params = g_strdup_printf ("work_us=%d prefetch=%d", OVERLAP_WORK_US, OVERLAP_PREFETCH);
      add_result (members[m].label, params, fields, "efficiency", efficiency, "");
    }
}

/* ------------------------------------------------------------------ */
/* FsMultiThread on CPU-bound work.                                    */

typedef struct
{
  guint64 work;          /* iterations in all */
  guint   n_threads;
  guint64 sinks[64];     /* one per thread, apart, so the compiler keeps it */
} Crunch;

static guint64
crunch (guint64 iterations,
        guint64 seed)
{
  guint64 x = seed | 1;

  for (guint64 i = 0; i < iterations; i++)
    {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
    }
  return x;
}

static gboolean
crunch_share (FsThread  *thread,
              gpointer   data,
              GError   **error)
{
  Crunch *c = data;
  guint index = fs_thread_get_index (thread);

  c->sinks[(index * 8) % G_N_ELEMENTS (c->sinks)] ^=
    crunch (c->work / c->n_threads, index + 1);
  return TRUE;
}

static gint64
run_crunch (Crunch *c)
{
  g_autoptr(GError) error = NULL;
  FsMultiThread *group;
  gint64 start = now_ns ();

  group = fs_multi_thread_new ("bench-crunch", c->n_threads, crunch_share, c, NULL);
  if (!fs_multi_thread_start (group, &error) ||
      fs_multi_thread_join (group, -1, NULL, &error) != FS_WAIT_OK)
    die_on_error (error, "crunch");
  g_object_unref (group);

  return now_ns () - start;
}

static void
bench_speedup (void)
{
  LoadMark mark;
  guint n_threads = MIN (fs_total_cpus (), 8);
  Crunch one = { 0, 1, { 0 } };
  Crunch many = { 0, n_threads, { 0 } };
  double *ratios;
  guint64 work = 1 << 20;
  gint64 target = opt_quick ? 40000000 : 250000000;
  gint64 elapsed;
  g_autofree char *fields = NULL;
  g_autofree char *params = NULL;

  if (!group_selected ("speedup"))
    return;
  load_mark (&mark);

  /* Size the work so that one thread takes about `target`. */
  for (;;)
    {
      one.work = work;
      elapsed = run_crunch (&one);
      if (elapsed >= target / 8)
        break;
      work *= 8;
    }
  work = (guint64) ((double) work * target / MAX (elapsed, 1));
  work -= work % n_threads;
  one.work = many.work = work;
  run_crunch (&many);

  ratios = g_new0 (double, n_repeats);
  for (guint r = 0; r < n_repeats; r++)
    {
      gint64 t_one, t_many;

      if (r % 2 == 0)
        {
          t_one = run_crunch (&one);
          t_many = run_crunch (&many);
        }
      else
        {
          t_many = run_crunch (&many);
          t_one = run_crunch (&one);
        }
      ratios[r] = (double) t_one / t_many;
    }

  group_load = load_since (&mark);
  fields = g_strdup_printf ("\"threads\": %u", n_threads);
  params = g_strdup_printf ("threads=%u", n_threads);
  add_result ("multi_thread_speedup", params, fields, "speedup",
              median (ratios, n_repeats), "x");
  g_free (ratios);
}

/* ------------------------------------------------------------------ */
/* Memory: streaming many 4 KiB items, each run in a fresh process.    */

static gboolean
produce_pages (FsGenerator  *generator,
               gpointer      data,
               GError      **error)
{
  guint64 n = *(guint64 *) data;

  for (guint64 i = 0; i < n; i++)
    {
      guchar *page = g_malloc (ITEM_BYTES);

      memset (page, (int) (i & 0xff), ITEM_BYTES);
      if (!fs_generator_yield (generator, page, error))
        return FALSE;
    }
  return TRUE;
}

static guint64
read_vm_hwm_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  line = strstr (status, "VmHWM:");
  if (line == NULL)
    return 0;
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

/* In the child: streams the items and prints "PEAK_KIB NS_PER_ITEM". */
static int
stream_child (guint64 n,
              guint   prefetch)
{
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *bg;
  FsWaitStatus status;
  guint64 count = 0;
  gpointer item;
  gint64 start;

  start = now_ns ();
  bg = fs_background_generator_new (prefetch, "bench-stream", produce_pages,
                                     g_memdup2 (&n, sizeof n), g_free, g_free);
  while ((status = fs_background_generator_next (bg, &item, -1, NULL, &error)) == FS_WAIT_OK)
    {
      guchar *page = item;

      if (page[ITEM_BYTES - 1] != (guchar) (count & 0xff))
        g_error ("item %" G_GUINT64_FORMAT " is damaged", count);
      g_free (page);
      count++;
    }
  die_unless_end (status, error, "stream");
  g_object_unref (bg);
  start = now_ns () - start;

  if (count != n)
    g_error ("streamed %" G_GUINT64_FORMAT " items, expected %" G_GUINT64_FORMAT, count, n);

  printf ("%" G_GUINT64_FORMAT " %.1f\n", read_vm_hwm_kib (), (double) start / n);
  return 0;
}

static void
run_stream_child (guint64  n,
                  guint    prefetch,
                  double  *peak_kib,
                  double  *ns_per_item)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *items_arg = g_strdup_printf ("--stream-child-items=%" G_GUINT64_FORMAT, n);
  g_autofree char *prefetch_arg = g_strdup_printf ("--stream-child-prefetch=%u", prefetch);
  char *argv[] = { (char *) "/proc/self/exe", items_arg, prefetch_arg, NULL };
  char **fields;
  gint status;

  if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    die_on_error (error, "stream child");

  fields = g_strsplit (g_strstrip (out), " ", 2);
  if (g_strv_length (fields) != 2)
    g_error ("stream child said \"%s\"", out);
  *peak_kib = g_ascii_strtod (fields[0], NULL);
  *ns_per_item = g_ascii_strtod (fields[1], NULL);
  g_strfreev (fields);
}

static void
bench_stream_memory (void)
{
  LoadMark mark;
  const guint64 sizes[] = { opt_quick ? 100000 : 1000000, 10000 };
  const guint prefetch = 8;
  guint n_runs = opt_quick ? 1 : 3;
  double peaks[G_N_ELEMENTS (sizes)][3];
  double times[G_N_ELEMENTS (sizes)][3];

  if (!group_selected ("stream_memory"))
    return;
  load_mark (&mark);

  for (guint r = 0; r < n_runs; r++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      run_stream_child (sizes[s], prefetch, &peaks[s][r], &times[s][r]);
  group_load = load_since (&mark);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autofree char *fields = NULL;
      g_autofree char *params = NULL;
      g_autofree char *ns = format_number (median (times[s], n_runs));

      fields = g_strdup_printf ("\"items\": %" G_GUINT64_FORMAT ", \"item_bytes\": %d, "
                                "\"prefetch\": %u, \"ns_per_item\": %s",
                                sizes[s], ITEM_BYTES, prefetch, ns);
      params = g_strdup_printf ("items=%" G_GUINT64_FORMAT " prefetch=%u", sizes[s], prefetch);
      add_result ("stream_memory", params, fields, "peak_rss_kib",
                  median (peaks[s], n_runs), "KiB");
    }
}

/* ------------------------------------------------------------------ */
/* The map: N workers, results in order                                */

/* The CPU-bound work of one item: about MAP_ITEM_US of crunch(). */
#define MAP_ITEM_US 20
static guint64 map_item_iterations;
/* Where results go, so that the compiler computes them. */
static volatile guint64 map_sink;

static void
calibrate_map_item (void)
{
  double samples[5];
  guint64 n = 1 << 12;
  gint64 elapsed;

  if (map_item_iterations > 0)
    return;
  for (;;)
    {
      elapsed = now_ns ();
      map_sink ^= crunch (n, 1);
      elapsed = now_ns () - elapsed;
      if (elapsed >= 2000000)
        break;
      n *= 2;
    }
  /* The fastest of a few: a busy machine only makes runs slower. */
  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    {
      elapsed = now_ns ();
      map_sink ^= crunch (n, i + 2);
      samples[i] = (double) (now_ns () - elapsed);
    }
  qsort (samples, G_N_ELEMENTS (samples), sizeof samples[0], compare_doubles);
  map_item_iterations = MAX (1, (guint64) ((double) n * MAP_ITEM_US * 1000 / samples[0]));
}

/* One item's work, never inlined: the loop of the one-thread run must not
 * be vectorised across items, which the map's workers cannot do. */
static G_GNUC_NO_INLINE guint64
map_work (guint64 seed)
{
  return crunch (map_item_iterations, seed);
}

static gboolean
count_items (FsGenerator  *generator,
             gpointer      data,
             GError      **error)
{
  guint64 n = *(guint64 *) data;

  for (guint64 i = 0; i < n; i++)
    if (!fs_generator_yield (generator, GSIZE_TO_POINTER ((gsize) i + 1), error))
      return FALSE;
  return TRUE;
}

static gboolean
map_crunch (gpointer   item,
            gpointer  *result,
            gpointer   user_data,
            GError   **error)
{
  *result = GSIZE_TO_POINTER ((gsize) map_work (GPOINTER_TO_SIZE (item)) | 1);
  return TRUE;
}

/* One thread, no fsthread: the work of @n items in a loop. */
static gint64
run_map_sequential (guint64 n)
{
  gint64 start = now_ns ();
  guint64 x = 0;

  for (guint64 i = 0; i < n; i++)
    x ^= map_work (i + 1);
  map_sink ^= x;
  return now_ns () - start;
}

/* The same items through an ordered map of @n_threads; checks the order. */
static gint64
run_map (guint64 n,
         guint   n_threads,
         guint   prefetch)
{
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *source, *map;
  gint64 start = now_ns ();
  guint64 count = 0;
  gpointer item;

  source = fs_background_generator_new (256, "bench-source", count_items,
                                        g_memdup2 (&n, sizeof n), g_free, NULL);
  map = fs_background_generator_map (source, n_threads, prefetch, FS_MAP_NONE,
                                     map_crunch, NULL, NULL, NULL);
  g_object_unref (source);
  while (fs_background_generator_next (map, &item, -1, NULL, &error) == FS_WAIT_OK)
    {
      /* The first few are checked: the consumer must not do the work. */
      if (count < 16 && GPOINTER_TO_SIZE (item) != ((gsize) map_work (count + 1) | 1))
        g_error ("map result %" G_GUINT64_FORMAT " out of order", count);
      count++;
    }
  die_on_error (g_steal_pointer (&error), "map");
  if (count != n)
    g_error ("mapped %" G_GUINT64_FORMAT " items, expected %" G_GUINT64_FORMAT, count, n);
  fs_background_generator_close (map, -1, NULL);
  g_object_unref (map);
  return now_ns () - start;
}

static void
bench_map (void)
{
  LoadMark mark;
  guint n_threads = fs_total_cpus ();
  const guint prefetch = 256;
  guint64 n = opt_quick ? 2000 : 12500;   /* a quarter of a second on one thread */
  double *ratios;
  g_autofree char *fields = NULL;
  g_autofree char *params = NULL;

  if (!group_selected ("map"))
    return;
  calibrate_map_item ();
  load_mark (&mark);

  run_map (n / 4, n_threads, prefetch);   /* warm-up */
  ratios = g_new0 (double, n_repeats);
  for (guint r = 0; r < n_repeats; r++)
    {
      gint64 t_one, t_map;

      if (r % 2 == 0)
        {
          t_one = run_map_sequential (n);
          t_map = run_map (n, n_threads, prefetch);
        }
      else
        {
          t_map = run_map (n, n_threads, prefetch);
          t_one = run_map_sequential (n);
        }
      ratios[r] = (double) t_one / t_map;
    }

  group_load = load_since (&mark);
  fields = g_strdup_printf ("\"threads\": %u, \"item_us\": %d, \"items\": %" G_GUINT64_FORMAT
                            ", \"prefetch\": %u, \"ordered\": 1",
                            n_threads, MAP_ITEM_US, n, prefetch);
  params = g_strdup_printf ("threads=%u item=%dus", n_threads, MAP_ITEM_US);
  add_result ("map", params, fields, "speedup", median (ratios, n_repeats), "x");
  g_free (ratios);
}

static gboolean
map_page (gpointer   item,
          gpointer  *result,
          gpointer   user_data,
          GError   **error)
{
  guchar *page = g_malloc (ITEM_BYTES);

  memset (page, (int) (GPOINTER_TO_SIZE (item) & 0xff), ITEM_BYTES);
  *result = page;
  return TRUE;
}

/* In the child: maps @n items through an ordered map whose results are
 * 4 KiB pages, and prints "PEAK_KIB NS_PER_ITEM". */
static int
map_child (guint64 n)
{
  g_autoptr(GError) error = NULL;
  FsBackgroundGenerator *source, *map;
  gint64 start = now_ns ();
  guint64 count = 0;
  gpointer item;

  source = fs_background_generator_new (8, "bench-source", count_items,
                                        g_memdup2 (&n, sizeof n), g_free, NULL);
  map = fs_background_generator_map (source, fs_total_cpus (), 16, FS_MAP_NONE,
                                     map_page, NULL, NULL, g_free);
  g_object_unref (source);
  while (fs_background_generator_next (map, &item, -1, NULL, &error) == FS_WAIT_OK)
    {
      guchar *page = item;

      if (page[ITEM_BYTES - 1] != (guchar) ((count + 1) & 0xff))
        g_error ("map result %" G_GUINT64_FORMAT " is damaged or out of order", count);
      g_free (page);
      count++;
    }
  die_on_error (g_steal_pointer (&error), "map child");
  fs_background_generator_close (map, -1, NULL);
  g_object_unref (map);
  if (count != n)
    g_error ("mapped %" G_GUINT64_FORMAT " items, expected %" G_GUINT64_FORMAT, count, n);
  printf ("%" G_GUINT64_FORMAT " %.1f\n", read_vm_hwm_kib (), (double) (now_ns () - start) / n);
  return 0;
}

static void
bench_map_memory (void)
{
  LoadMark mark;
  const guint64 sizes[] = { 10000, opt_quick ? 100000 : 1000000 };
  guint n_runs = opt_quick ? 1 : 3;
  double peaks[G_N_ELEMENTS (sizes)][3];
  double times[G_N_ELEMENTS (sizes)][3];

  if (!group_selected ("map_memory"))
    return;
  load_mark (&mark);

  for (guint r = 0; r < n_runs; r++)
    for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
      {
        g_autoptr(GError) error = NULL;
        g_autofree char *out = NULL;
        g_autofree char *items_arg = g_strdup_printf ("--map-child-items=%" G_GUINT64_FORMAT, sizes[s]);
        char *argv[] = { (char *) "/proc/self/exe", items_arg, NULL };
        gint status;

        if (!g_spawn_sync (NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                           &out, NULL, &status, &error) ||
            !g_spawn_check_wait_status (status, &error))
          die_on_error (error, "map child");
        if (sscanf (out, "%lf %lf", &peaks[s][r], &times[s][r]) != 2)
          g_error ("map child said \"%s\"", out);
      }
  group_load = load_since (&mark);

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autofree char *fields = NULL;
      g_autofree char *params = NULL;
      g_autofree char *ns = format_number (median (times[s], n_runs));

      fields = g_strdup_printf ("\"items\": %" G_GUINT64_FORMAT ", \"item_bytes\": %d, "
                                "\"threads\": %u, \"prefetch\": 16, \"ns_per_item\": %s",
                                sizes[s], ITEM_BYTES, fs_total_cpus (), ns);
      params = g_strdup_printf ("items=%" G_GUINT64_FORMAT, sizes[s]);
      add_result ("map_memory", params, fields, "peak_kib", median (peaks[s], n_runs), "KiB");
    }
}

#ifdef HAVE_GDK_PIXBUF
/* ------------------------------------------------------------------ */
/* Thumbnails: decode and scale N images, as a GTK program would        */

#define THUMB_IMAGES 192
#define THUMB_IMAGE_SIZE 320
#define THUMB_SIZE 96

static GBytes *thumb_images[THUMB_IMAGES];

/* PNGs made here: gradients with some noise, so that they compress and
 * decode like pictures rather than flat colours. */
static void
make_thumb_images (void)
{
  GRand *rand = g_rand_new_with_seed (7);

  if (thumb_images[0] != NULL)
    return;
  for (guint i = 0; i < THUMB_IMAGES; i++)
    {
      g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8,
                                                    THUMB_IMAGE_SIZE, THUMB_IMAGE_SIZE);
      guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
      int stride = gdk_pixbuf_get_rowstride (pixbuf);
      g_autoptr(GError) error = NULL;
      gchar *buffer;
      gsize size;

      for (int y = 0; y < THUMB_IMAGE_SIZE; y++)
        for (int x = 0; x < THUMB_IMAGE_SIZE; x++)
          {
            guchar *p = pixels + y * stride + x * 3;

            p[0] = (guchar) (x + i * 7);
            p[1] = (guchar) (y + i * 3);
            p[2] = (guchar) g_rand_int_range (rand, 0, 64);
          }
      if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", &error, NULL))
        die_on_error (g_steal_pointer (&error), "make images");
      thumb_images[i] = g_bytes_new_take (buffer, size);
    }
  g_rand_free (rand);
}

/* One thumbnail: decode image @index and scale it. */
static GdkPixbuf *
make_thumbnail (guint index)
{
  g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new_with_type ("png", NULL);
  g_autoptr(GError) error = NULL;
  GdkPixbuf *full;

  if (!gdk_pixbuf_loader_write_bytes (loader, thumb_images[index], &error) ||
      !gdk_pixbuf_loader_close (loader, &error))
    die_on_error (g_steal_pointer (&error), "decode");
  full = gdk_pixbuf_loader_get_pixbuf (loader);
  return gdk_pixbuf_scale_simple (full, THUMB_SIZE, THUMB_SIZE, GDK_INTERP_BILINEAR);
}

static gboolean
map_thumbnail (gpointer   item,
               gpointer  *result,
               gpointer   user_data,
               GError   **error)
{
  *result = make_thumbnail (GPOINTER_TO_UINT (item) - 1);
  return TRUE;
}

typedef struct
{
  GMainLoop *loop;
  guint      n_done;
  guint      next;     /* the map: the index expected next */
} ThumbRun;

static void
on_map_thumbnail (GObject      *object,
                  GAsyncResult *res,
                  gpointer      data)
{
  ThumbRun *run = data;
  GValue *value = fs_background_generator_next_finish (FS_BACKGROUND_GENERATOR (object), res, NULL);

  if (value == NULL)
    {
      g_main_loop_quit (run->loop);
      return;
    }
  g_object_unref (g_value_get_pointer (value));
  g_free (value);
  run->n_done++;
  fs_background_generator_next_async (FS_BACKGROUND_GENERATOR (object), NULL, on_map_thumbnail, run);
}

/* The ordered map of fs_total_cpus() workers, consumed from a main loop. */
static gint64
run_thumbnails_map (gpointer data,
                    guint64  n)
{
  gint64 start = now_ns ();

  for (guint64 k = 0; k < n; k++)
    {
      guint64 n_images = THUMB_IMAGES;
      ThumbRun run = { g_main_loop_new (NULL, FALSE), 0, 0 };
      FsBackgroundGenerator *source, *map;

      source = fs_background_generator_new (8, "bench-images", count_items,
                                            g_memdup2 (&n_images, sizeof n_images), g_free, NULL);
      map = fs_background_generator_map (source, 0, 0, FS_MAP_NONE, map_thumbnail,
                                         NULL, NULL, g_object_unref);
      g_object_unref (source);
      fs_background_generator_next_async (map, NULL, on_map_thumbnail, &run);
      g_main_loop_run (run.loop);
      if (run.n_done != THUMB_IMAGES)
        g_error ("the map made %u thumbnails", run.n_done);
      g_object_unref (map);
      g_main_loop_unref (run.loop);
    }
  return (now_ns () - start) / THUMB_IMAGES;
}

static void
thumbnail_in_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  g_task_return_pointer (task, make_thumbnail (GPOINTER_TO_UINT (task_data)), g_object_unref);
}

static void
on_task_thumbnail (GObject      *object,
                   GAsyncResult *res,
                   gpointer      data)
{
  ThumbRun *run = data;
  GdkPixbuf *pixbuf = g_task_propagate_pointer (G_TASK (res), NULL);

  g_object_unref (pixbuf);
  if (++run->n_done == THUMB_IMAGES)
    g_main_loop_quit (run->loop);
}

/* The baseline: one GTask per image on GLib's pool, in no order. */
static gint64
run_thumbnails_gtask (gpointer data,
                      guint64  n)
{
  gint64 start = now_ns ();

  for (guint64 k = 0; k < n; k++)
    {
      ThumbRun run = { g_main_loop_new (NULL, FALSE), 0, 0 };

      for (guint i = 0; i < THUMB_IMAGES; i++)
        {
          GTask *task = g_task_new (NULL, NULL, on_task_thumbnail, &run);

          g_task_set_task_data (task, GUINT_TO_POINTER (i), NULL);
          g_task_run_in_thread (task, thumbnail_in_thread);
          g_object_unref (task);
        }
      g_main_loop_run (run.loop);
      g_main_loop_unref (run.loop);
    }
  return (now_ns () - start) / THUMB_IMAGES;
}

static void
bench_thumbnails (void)
{
  LoadMark mark;
  Member members[] = {
    { "thumbnails", run_thumbnails_map, NULL, 0, 1, 1000, NULL },
    { "baseline_gtask_per_item", run_thumbnails_gtask, NULL, 0, 1, 1000, NULL },
  };
  g_autofree char *fields = NULL;

  if (!group_selected ("thumbnails"))
    return;
  make_thumb_images ();
  load_mark (&mark);
  /* measure_group() times per unit; a unit here is one batch of images,
   * and run() returns ns per image: scale back to the batch. */
  measure_group (members, G_N_ELEMENTS (members));
  group_load = load_since (&mark);

  fields = g_strdup_printf ("\"images\": %d, \"image_size\": %d, \"thumbnail_size\": %d, "
                            "\"threads\": %u, \"ordered\": 1",
                            THUMB_IMAGES, THUMB_IMAGE_SIZE, THUMB_SIZE, fs_total_cpus ());
  add_result ("thumbnails", "images=192 ordered", fields, "us_per_image",
              member_median (&members[0]) / 1000, "us");
  g_free (fields);
  fields = g_strdup_printf ("\"images\": %d, \"image_size\": %d, \"thumbnail_size\": %d, "
                            "\"ordered\": 0",
                            THUMB_IMAGES, THUMB_IMAGE_SIZE, THUMB_SIZE);
  add_result ("baseline_gtask_per_item", "images=192 unordered", fields, "us_per_image",
              member_median (&members[1]) / 1000, "us");
}
#endif

static void print_target (const char *what,
                          gboolean    met,
                          const char *detail);

static void
print_map_targets (void)
{
  Result *r, *b;

  if ((r = find_result ("map", NULL)) != NULL)
    {
      guint cpus = fs_total_cpus ();
      g_autofree char *detail = g_strdup_printf ("%.2fx, needs %.2fx", r->value, 0.9 * cpus);

      print_target ("ordered map speedup >= 0.9 x fs_total_cpus() (20 us items)",
                    r->value >= 0.9 * cpus, detail);
    }
  if ((r = find_result ("map_memory", "items=10000")) != NULL &&
      (b = find_result ("map_memory", opt_quick ? "items=100000" : "items=1000000")) != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.0f KiB (%s) vs %.0f KiB (%s): %+.0f KiB",
                                                 b->value, b->params, r->value, r->params,
                                                 b->value - r->value);

      print_target ("map peak flat within 2 MiB", b->value - r->value <= 2048, detail);
    }
  if ((r = find_result ("thumbnails", NULL)) != NULL &&
      (b = find_result ("baseline_gtask_per_item", NULL)) != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.0f us vs %.0f us per image (%.2fx)",
                                                 r->value, b->value, r->value / b->value);

      print_target ("ordered map thumbnails within 1.1x of one GTask per image",
                    r->value <= 1.1 * b->value, detail);
    }
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

static void
print_json (void)
{
  printf ("{\"cases\": [\n");
  for (guint i = 0; i < results->len; i++)
    {
      Result *result = g_ptr_array_index (results, i);

      printf ("  %s%s\n", result->json, i + 1 < results->len ? "," : "");
    }
  printf ("]}\n");
}

static void
print_target (const char *what,
              gboolean    met,
              const char *detail)
{
  printf ("  [%s] %s: %s\n", met ? "met" : "NOT MET", what, detail);
}

static void
print_targets (void)
{
  Result *gaq = find_result ("baseline_gasyncqueue", NULL);
  Result *r, *b;

  printf ("\nTargets, from the medians above:\n");

  if (gaq != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (handoff_prefetches); i++)
      {
        g_autofree char *params = g_strdup_printf ("prefetch=%u", handoff_prefetches[i]);
        g_autofree char *what = NULL;
        g_autofree char *detail = NULL;

        if (handoff_prefetches[i] < 64 || (r = find_result ("handoff", params)) == NULL)
          continue;
        what = g_strdup_printf ("handoff at prefetch %u no slower than GAsyncQueue",
                                handoff_prefetches[i]);
        detail = g_strdup_printf ("%.0f ns vs %.0f ns (%.2fx)", r->value, gaq->value,
                                  r->value / gaq->value);
        print_target (what, r->value <= gaq->value, detail);
      }

  if ((r = find_result ("handoff", "prefetch=1")) != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.0f ns", r->value);

      print_target ("handoff at prefetch 1 at most 2 us", r->value <= 2000, detail);
    }

  if ((r = find_result ("overlap", NULL)) != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.3f", r->value);

      print_target ("overlap efficiency >= 0.95", r->value >= 0.95, detail);
    }

  if ((r = find_result ("thread_start_join", NULL)) != NULL &&
      (b = find_result ("baseline_gthread_start_join", NULL)) != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.1f us vs %.1f us (%.2fx)",
                                                 r->value, b->value, r->value / b->value);

      print_target ("FsThread start + join within 1.1x of GThread", r->value <= 1.1 * b->value, detail);
    }

  if ((r = find_result ("multi_thread_start_join", NULL)) != NULL &&
      (b = find_result ("baseline_gthreads_start_join", NULL)) != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.1f us vs %.1f us (%.2fx)",
                                                 r->value, b->value, r->value / b->value);

      print_target ("FsMultiThread start + join within 1.1x of GThreads", r->value <= 1.1 * b->value, detail);
    }

  if ((r = find_result ("multi_thread_speedup", NULL)) != NULL)
    {
      guint cpus = fs_total_cpus ();
      g_autofree char *detail = g_strdup_printf ("%.2fx, needs %.2fx", r->value, 0.9 * cpus);

      print_target ("FsMultiThread speedup >= 0.9 x fs_total_cpus()", r->value >= 0.9 * cpus, detail);
    }

  r = b = NULL;
  for (guint i = 0; i < results->len; i++)
    {
      Result *result = g_ptr_array_index (results, i);

      if (!g_str_equal (result->name, "stream_memory"))
        continue;
      if (r == NULL)
        r = result;
      else
        b = result;
    }
  if (r != NULL && b != NULL)
    {
      g_autofree char *detail = g_strdup_printf ("%.0f KiB (%s) vs %.0f KiB (%s): %+.0f KiB",
                                                 r->value, r->params, b->value, b->params,
                                                 r->value - b->value);

      print_target ("streaming peak within 2 MiB", r->value - b->value <= 2048, detail);
    }
}

static void
print_table (void)
{
  printf ("%-30s %-26s %12s  %-8s %s\n", "case", "parameters", "median", "unit", "other load");
  printf ("%-30s %-26s %12s  %-8s %s\n", "----", "----------", "------", "----", "----------");
  for (guint i = 0; i < results->len; i++)
    {
      Result *result = g_ptr_array_index (results, i);
      g_autofree char *number = format_number (result->value);

      printf ("%-30s %-26s %12s  %-8s %.2f\n", result->name, result->params, number,
              result->unit, result->other_load);
    }
  printf ("\n%u repetitions each, median; %u CPUs (fs_total_cpus)%s. \"other load\": CPUs\n"
          "kept busy by other programs while the group ran (above ~0.2, distrust it).\n",
          n_repeats, fs_total_cpus (), opt_quick ? "; quick run" : "");
  print_targets ();
  print_map_targets ();
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, "Print one JSON object", NULL },
    { "quick", 0, 0, G_OPTION_ARG_NONE, &opt_quick, "A short run (for a smoke test)", NULL },
    { "repeats", 0, 0, G_OPTION_ARG_INT, &opt_repeats, "Repetitions of each case", "N" },
    { "only", 0, 0, G_OPTION_ARG_STRING, &opt_only,
      "Only the groups whose name contains WORD (handoff, start_join, overlap, speedup, stream_memory, map, map_memory, thumbnails)", "WORD" },
    { "stream-child-items", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &opt_stream_child_items, NULL, NULL },
    { "stream-child-prefetch", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &opt_stream_child_prefetch, NULL, NULL },
    { "map-child-items", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &opt_map_child_items, NULL, NULL },
    { NULL }
  };

  context = g_option_context_new ("- measure fsthread against its baselines");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }

  if (opt_map_child_items > 0)
    return map_child ((guint64) opt_map_child_items);
  if (opt_stream_child_items > 0)
    return stream_child ((guint64) opt_stream_child_items,
                         MAX (opt_stream_child_prefetch, 1));

  run_target_ns = opt_quick ? 8000000 : 80000000;
  n_repeats = opt_repeats > 0 ? (guint) opt_repeats : (opt_quick ? 3 : 7);
  results = g_ptr_array_new_with_free_func (result_free);

  bench_handoff ();
  bench_overlap ();
  bench_start_join ();
  bench_speedup ();
  bench_stream_memory ();
  bench_map ();
  bench_map_memory ();
#ifdef HAVE_GDK_PIXBUF
  bench_thumbnails ();
#endif

  if (opt_json)
    print_json ();
  else
    print_table ();

  g_ptr_array_unref (results);
  g_free (opt_only);
  return 0;
}
