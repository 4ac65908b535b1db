/* stress-multi-thread.c: a thousand thread groups of random sizes, with
 * random failures and cancellations, joined blocking and asynchronously
 *
 * Each trial makes one FsMultiThread of 1 to 48 threads and runs it one to
 * three times. In each run every member does one of: return at once, work
 * while polling the cancellable, fail with an error, fail without one, wait
 * until cancelled, or cancel the group. The group is cancelled before the
 * start (which a start undoes), after it, after some members have started,
 * or from another thread, and joined by one of: join, a join with a long
 * timeout, short timeouts tried again, a join whose cancellable fires, the
 * same four asynchronously, or not at all (the last reference dropped while
 * it runs). Sometimes a second thread joins at the same time.
 *
 * Counted for each run: every member ran exactly once; the errors listed
 * are exactly those of the members that failed, each once, and join returns
 * FS_WAIT_FAILED with the first of them (FS_WAIT_OK when none failed, and no
 * other status than those and the timeouts and cancellations planned); the default error state grew by exactly the number of
 * failures; the data is freed exactly once, after every member; the thread
 * count comes back. A watchdog fails the run, with its seed, if it hangs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "stress-common.h"

#define N_GROUPS_FULL 1000
#define N_DRIVERS 2
#define MAX_RUNS 8
#define MAX_EXTRA_JOINERS 3
#define N_RESTARTING_GROUPS_FULL 3000

typedef enum {
  ACT_RETURN,
  ACT_WORK,
  ACT_FAIL,
  ACT_FAIL_MUTE,
  ACT_STALL,
  ACT_CANCEL_GROUP,
  N_ACTS
} Act;

typedef enum {
  CANCEL_NONE,
  CANCEL_BEFORE_START,
  CANCEL_AFTER_START,
  CANCEL_AFTER_ARRIVALS,
  CANCEL_FROM_OTHER_THREAD,
  N_CANCELS
} CancelPlan;

typedef enum {
  JOIN_BLOCKING,
  JOIN_TIMEOUT_LONG,
  JOIN_POLL,
  JOIN_CANCELLABLE,
  JOIN_ASYNC,
  JOIN_ASYNC_CANCELLABLE,
  JOIN_DROP,
  N_JOINS
} JoinPlan;

static const char *join_names[N_JOINS] = {
  "join", "join with a long timeout", "short timeouts", "join with a cancellable",
  "join_async", "join_async with a cancellable", "dropped unjoined",
};

typedef struct
{
  Act       act;
  guint     work;
  gboolean  cancel_error;

  /* Written by the member's thread, read after the join. */
  gint      ran;
  gboolean  failed;
  GQuark    domain;
  gint      code;
  char     *name;
} Member;

typedef struct
{
  Member     *members;
  CancelPlan  cancel;
  guint       cancel_after;
  JoinPlan    join;
  guint       n_extra;        /* other threads joining at the same time */
  gboolean    extra_poll[MAX_EXTRA_JOINERS];
  guint       arrived;        /* under the group's mutex */
} Run;

typedef struct
{
  guint          salt;
  guint          index;
  char          *plan;        /* the plan, for messages */
  guint          n;
  guint          n_runs;
  char          *name;
  Run            runs[MAX_RUNS];
  Run           *run;         /* the current one: set before each start */
  GMainContext  *context;     /* the driver's */

  GMutex         mutex;
  GCond          cond;
  gint           data_freed;
} Group;

typedef struct
{
  guint  salt;
  gboolean restarting;
  guint  first_trial;
  guint  n_trials;
  gint   next_trial;
  gint   failures;
  gint   runs;
  gint   threads;
  gint   cancelled_runs;
  gint   joins[N_JOINS];
} Case;

/* The members. */

static void
group_arrive (Group *g)
{
  g_mutex_lock (&g->mutex);
  g->run->arrived++;
  g_cond_broadcast (&g->cond);
  g_mutex_unlock (&g->mutex);
}

static gboolean
member_fail (Member   *m,
             GQuark    domain,
             gint      code,
             GError  **error,
             const char *message)
{
  m->failed = TRUE;
  m->domain = domain;
  m->code = code;
  if (message != NULL)
    g_set_error_literal (error, domain, code, message);
  return FALSE;
}

/* Stopped by the cancellable: some members say so with an error. */
static gboolean
member_stopped (Member  *m,
                GError **error)
{
  if (m->cancel_error)
    return member_fail (m, G_IO_ERROR, G_IO_ERROR_CANCELLED, error, "stopped: cancelled");
  return TRUE;
}

static gboolean
member_main (FsThread  *thread,
             gpointer   data,
             GError   **error)
{
  Group *g = data;
  Run *run = g->run;
  guint index = fs_thread_get_index (thread);
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  Member *m;
  volatile guint sink = 0;

  if (index >= g->n)
    stress_fail (g, "a member has index %u in a group of %u", index, g->n);
  m = &run->members[index];
  if (g_atomic_int_add (&m->ran, 1) != 0)
    stress_fail (g, "member %u ran twice in one run", index);
  m->name = g_strdup (fs_thread_get_name (thread));
  group_arrive (g);

  switch (m->act)
    {
    case ACT_RETURN:
      return TRUE;

    case ACT_WORK:
      for (guint i = 0; i < m->work; i++)
        {
          if (g_cancellable_is_cancelled (cancellable))
            return member_stopped (m, error);
          sink += i;
        }
      return TRUE;

    case ACT_FAIL:
      {
        g_autofree char *message = g_strdup_printf ("member %u of group %u failed", index, g->index);

        return member_fail (m, STRESS_ERROR, (gint) index + 1, error, message);
      }

    case ACT_FAIL_MUTE:
      /* FALSE without an error: the thread reports FS_ERROR_FAILED. */
      return member_fail (m, FS_ERROR, FS_ERROR_FAILED, error, NULL);

    case ACT_STALL:
      fs_test_wait_cancelled (cancellable);
      return member_stopped (m, error);

    case ACT_CANCEL_GROUP:
      /* The threads share the group's cancellable. */
      fs_thread_cancel (thread);
      return TRUE;

    case N_ACTS:
    default:
      g_assert_not_reached ();
    }
}

static GMutex freed_mutex;
static GCond freed_cond;

static void
group_data_free (gpointer data)
{
  Group *g = data;

  /* Freed once the group and all its threads are gone: on whichever thread
   * let go last. The condition is global, since the driver frees the
   * group as soon as it sees this. */
  g_mutex_lock (&freed_mutex);
  g_atomic_int_inc (&g->data_freed);
  g_cond_broadcast (&freed_cond);
  g_main_context_wakeup (g->context);
  g_mutex_unlock (&freed_mutex);
}

/* The plan. */

static Group *
group_new (guint         salt,
           guint         index,
           GMainContext *context,
           gboolean      restarting)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (stress_trial_seed (salt, index));
  Group *g = g_new0 (Group, 1);
  static const char *names[] = {
    "stress-group", "stress-group", "stress-group",
    "stress-group-with-a-long-name", "grp-\xff\xfe", "grüppé",
  };

  g->salt = salt;
  g->index = index;
  g->context = g_main_context_ref (context);
  g_mutex_init (&g->mutex);
  g_cond_init (&g->cond);
  g->name = g_strdup (names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))]);
  g->n = g_rand_int_range (rand, 0, 10) == 0
       ? (guint) g_rand_int_range (rand, 13, 49)
       : (guint) g_rand_int_range (rand, 1, 13);
  if (restarting)
    g->n_runs = g_rand_int_range (rand, 3, MAX_RUNS + 1);
  else
    g->n_runs = g_rand_int_range (rand, 0, 4) == 0 ? (guint) g_rand_int_range (rand, 2, 4) : 1;

  for (guint r = 0; r < g->n_runs; r++)
    {
      Run *run = &g->runs[r];
      static const guint fail_per_mille[] = { 0, 0, 30, 150, 500 };
      guint fail = fail_per_mille[g_rand_int_range (rand, 0, G_N_ELEMENTS (fail_per_mille))];
      gboolean ends_by_itself = FALSE;

      run->members = g_new0 (Member, g->n);
      run->cancel = g_rand_int_range (rand, 0, N_CANCELS);
      run->cancel_after = g_rand_int_range (rand, 1, g->n + 1);
      run->join = g_rand_int_range (rand, 0, N_JOINS);
      if (run->join == JOIN_DROP && r + 1 < g->n_runs)
        run->join = JOIN_BLOCKING;
      if (run->join != JOIN_DROP)
        run->n_extra = restarting ? (guint) g_rand_int_range (rand, 1, MAX_EXTRA_JOINERS + 1)
                                  : (g_rand_int_range (rand, 0, 8) == 0 ? 1 : 0);
      for (guint i = 0; i < run->n_extra; i++)
        run->extra_poll[i] = g_rand_boolean (rand);

      for (guint i = 0; i < g->n; i++)
        {
          Member *m = &run->members[i];

          if ((guint) g_rand_int_range (rand, 0, 1000) < fail)
            m->act = g_rand_int_range (rand, 0, 4) == 0 ? ACT_FAIL_MUTE : ACT_FAIL;
          else
            {
              static const Act others[] = {
                ACT_RETURN, ACT_RETURN, ACT_WORK, ACT_WORK, ACT_WORK,
                ACT_STALL, ACT_STALL, ACT_CANCEL_GROUP,
              };
              m->act = others[g_rand_int_range (rand, 0, G_N_ELEMENTS (others))];
              if (m->act == ACT_CANCEL_GROUP && g_rand_boolean (rand))
                m->act = ACT_WORK;
            }
          m->work = g_rand_int_range (rand, 1, 20000);
          m->cancel_error = g_rand_int_range (rand, 0, 3) == 0;
          if (m->act == ACT_FAIL || m->act == ACT_FAIL_MUTE || m->act == ACT_CANCEL_GROUP)
            ends_by_itself = TRUE;
        }

      /* A member that waits for the cancellable needs someone to cancel
       * it: a failure (fail fast), a member, or a cancel after the start
       * (the start undoes one made before). */
      if (run->cancel == CANCEL_AFTER_START || run->cancel == CANCEL_AFTER_ARRIVALS ||
          run->cancel == CANCEL_FROM_OTHER_THREAD)
        ends_by_itself = TRUE;
      if (!ends_by_itself)
        for (guint i = 0; i < g->n; i++)
          if (run->members[i].act == ACT_STALL)
            run->members[i].act = ACT_WORK;
    }

  {
    static const char *cancels[] = { "none", "before start", "after start", "after arrivals", "other thread" };
    static const char *acts = "RWFMSC";
    GString *plan = g_string_new (NULL);

    g_string_append_printf (plan, "%u threads", g->n);
    for (guint r = 0; r < g->n_runs; r++)
      {
        Run *run = &g->runs[r];

        g_string_append_printf (plan, "; run %u: cancel %s (%u), %s + %u other joiners, members ", r,
                                cancels[run->cancel], run->cancel_after, join_names[run->join],
                                run->n_extra);
        for (guint i = 0; i < g->n; i++)
          g_string_append_printf (plan, "%c%s", acts[run->members[i].act],
                                  run->members[i].cancel_error ? "!" : "");
      }
    g->plan = g_string_free (plan, FALSE);
  }

  return g;
}

static void
group_free (Group *g)
{
  for (guint r = 0; r < g->n_runs; r++)
    {
      for (guint i = 0; i < g->n; i++)
        g_free (g->runs[r].members[i].name);
      g_free (g->runs[r].members);
    }
  g_main_context_unref (g->context);
  g_free (g->name);
  g_free (g->plan);
  g_mutex_clear (&g->mutex);
  g_cond_clear (&g->cond);
  g_free (g);
}

/* The boolean view of a join that ended: FS_WAIT_OK or FS_WAIT_FAILED,
 * and no other status. */
static gboolean
joined_ok (Group        *g,
           FsWaitStatus  status,
           const char   *by)
{
  if (status != FS_WAIT_OK && status != FS_WAIT_FAILED)
    stress_fail (g, "%s ended with status %d", by, (int) status);
  return status == FS_WAIT_OK;
}

/* Joins with short timeouts, tried again while they time out: the timeout
 * is the behaviour under test. */
static gboolean
join_polling (Group          *g,
              FsMultiThread  *group,
              GError        **error)
{
  FsWaitStatus status;

  for (guint i = 0; ; i++)
    {
      status = fs_multi_thread_join (group, (i % 5) * 200, NULL, error);
      if (status != FS_WAIT_TIMED_OUT)
        return joined_ok (g, status, "a join with short timeouts");
      if (error != NULL && *error != NULL)
        stress_fail (g, "a timed-out join set an error");
    }
}

/* Helper threads. */

typedef struct
{
  Group          *g;
  FsMultiThread  *group;
  GCancellable   *cancellable;
  guint           after;
  gboolean        poll;
  gboolean        ret;
  GError         *error;
} Helper;

static void
wait_arrivals (Group *g,
               guint  n)
{
  g_mutex_lock (&g->mutex);
  while (g->run->arrived < n)
    g_cond_wait (&g->cond, &g->mutex);
  g_mutex_unlock (&g->mutex);
}

static gpointer
canceller_main (gpointer data)
{
  Helper *h = data;

  wait_arrivals (h->g, h->after);
  g_cancellable_cancel (h->cancellable);
  return NULL;
}

static gpointer
extra_joiner_main (gpointer data)
{
  Helper *h = data;

  if (!h->poll)
    h->ret = joined_ok (h->g, fs_multi_thread_join (h->group, -1, NULL, &h->error),
                        "another joiner");
  else
    h->ret = join_polling (h->g, h->group, &h->error);
  return NULL;
}

/* Joining. */

typedef struct
{
  gboolean      done;
  FsWaitStatus  status;
  GError       *error;
} AsyncJoin;

static void
joined_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      data)
{
  AsyncJoin *j = data;

  j->status = fs_multi_thread_join_finish (FS_MULTI_THREAD (object), result, &j->error);
  j->done = TRUE;
}

static FsWaitStatus
join_async (FsMultiThread  *group,
            GMainContext   *context,
            GCancellable   *cancellable,
            GError        **error)
{
  AsyncJoin j = { 0 };

  fs_multi_thread_join_async (group, cancellable, joined_cb, &j);
  while (!j.done)
    g_main_context_iteration (context, TRUE);
  if (j.error != NULL)
    g_propagate_error (error, j.error);
  return j.status;
}

static gboolean
join_group (Group          *g,
            FsMultiThread  *group,
            JoinPlan        plan,
            GError        **error)
{
  g_autoptr(GCancellable) cancellable = NULL;
  Helper canceller = { 0 };
  GThread *thread = NULL;
  GError *local_error = NULL;
  FsWaitStatus status;

  switch (plan)
    {
    case JOIN_BLOCKING:
      return joined_ok (g, fs_multi_thread_join (group, -1, NULL, error), join_names[plan]);

    case JOIN_TIMEOUT_LONG:
      return joined_ok (g, fs_multi_thread_join (group, (gint64) 3600 * G_USEC_PER_SEC, NULL, error),
                        join_names[plan]);

    case JOIN_POLL:
      return join_polling (g, group, error);

    case JOIN_CANCELLABLE:
    case JOIN_ASYNC_CANCELLABLE:
      /* Another thread cancels the wait at some point: before the group
       * ends (the wait stops, the group runs on; join again), or after. */
      cancellable = g_cancellable_new ();
      canceller.g = g;
      canceller.cancellable = cancellable;
      canceller.after = 1;
      thread = g_thread_new ("stress-join-cancel", canceller_main, &canceller);
      if (plan == JOIN_CANCELLABLE)
        status = fs_multi_thread_join (group, -1, cancellable, &local_error);
      else
        status = join_async (group, g->context, cancellable, &local_error);
      g_thread_join (thread);
      if (status == FS_WAIT_CANCELLED)
        {
          if (local_error != NULL)
            stress_fail (g, "a cancelled join set an error");
          if (plan == JOIN_CANCELLABLE)
            status = fs_multi_thread_join (group, -1, NULL, &local_error);
          else
            status = join_async (group, g->context, NULL, &local_error);
        }
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      return joined_ok (g, status, join_names[plan]);

    case JOIN_ASYNC:
      return joined_ok (g, join_async (group, g->context, NULL, error), join_names[plan]);

    case JOIN_DROP:
    case N_JOINS:
    default:
      g_assert_not_reached ();
    }
}

/* The checks. */

/* The errors listed must be exactly those of the members that failed,
 * each once. Returns the number of failures. */
static guint
check_errors (Group     *g,
              Run       *run,
              GPtrArray *errors)
{
  guint n_failed = 0;
  gboolean *seen = g_new0 (gboolean, g->n);

  for (guint i = 0; i < g->n; i++)
    n_failed += run->members[i].failed;

  if (errors->len != n_failed)
    stress_fail (g, "%u members failed, %u errors are listed", n_failed, errors->len);

  for (guint e = 0; e < errors->len; e++)
    {
      const GError *error = g_ptr_array_index (errors, e);
      gboolean found = FALSE;

      for (guint i = 0; i < g->n && !found; i++)
        {
          Member *m = &run->members[i];
          g_autofree char *prefix = g_strdup_printf ("Error in thread (%s): ", m->name);

          if (!m->failed || !g_str_has_prefix (error->message, prefix))
            continue;
          found = TRUE;
          if (seen[i])
            stress_fail (g, "the error of member %u is listed twice", i);
          seen[i] = TRUE;
          if (error->domain != m->domain || error->code != m->code)
            stress_fail (g, "member %u failed with %s %d, listed as %s %d: %s",
                         i, g_quark_to_string (m->domain), m->code,
                         g_quark_to_string (error->domain), error->code, error->message);
        }
      if (!found)
        stress_fail (g, "error \"%s\" is listed, but no member failed so",
                     error->message);
    }

  g_free (seen);
  return n_failed;
}

static void
check_members_ran (Group *g,
                   Run   *run)
{
  for (guint i = 0; i < g->n; i++)
    if (g_atomic_int_get (&run->members[i].ran) != 1)
      stress_fail (g, "member %u ran %d times", i,
                   g_atomic_int_get (&run->members[i].ran));
}

static void
check_raised (Group        *g,
              gboolean      ret,
              const GError *error,
              GPtrArray    *errors,
              const char   *by)
{
  if (ret != (errors->len == 0))
    stress_fail (g, "%s returned %s with %u errors listed", by,
                 ret ? "TRUE" : "FALSE", errors->len);
  if (ret)
    {
      if (error != NULL)
        stress_fail (g, "%s succeeded with an error set", by);
      return;
    }

  /* The first error, as it was listed. */
  {
    const GError *first = g_ptr_array_index (errors, 0);

    if (error == NULL || !g_error_matches (error, first->domain, first->code) ||
        g_strcmp0 (error->message, first->message) != 0)
      stress_fail (g, "%s raised \"%s\", the first error listed is \"%s\"",
                   by, error != NULL ? error->message : "nothing", first->message);
  }
}

static void
wait_data_freed (Group *g)
{
  /* The context too: an asynchronous join's last references are released
   * there. */
  g_mutex_lock (&freed_mutex);
  while (g_atomic_int_get (&g->data_freed) == 0)
    {
      g_mutex_unlock (&freed_mutex);
      g_main_context_iteration (g->context, TRUE);
      g_mutex_lock (&freed_mutex);
    }
  g_mutex_unlock (&freed_mutex);
}

static void
run_trial (gpointer      data,
           guint         index,
           GMainContext *context)
{
  Case *cs = data;
  Group *g = group_new (cs->salt, index, context, cs->restarting);
  guint slot = stress_watchdog_enter (index, g->plan);
  FsMultiThread *group;
  FsErrorState *state;
  guint failures = 0;

  group = fs_multi_thread_new (g->name, g->n, member_main, g, group_data_free);
  g_assert_nonnull (group);
  g_assert_cmpuint (fs_multi_thread_get_thread_count (group), ==, g->n);
  state = g_object_ref (fs_multi_thread_get_error_state (group));

  for (guint r = 0; r < g->n_runs; r++)
    {
      Run *run = &g->runs[r];
      g_autoptr(GError) start_error = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) errors = NULL;
      Helper canceller = { 0 };
      Helper extra[MAX_EXTRA_JOINERS] = { { 0 }, };
      GThread *canceller_thread = NULL;
      GThread *extra_threads[MAX_EXTRA_JOINERS] = { NULL, };
      gboolean ret;

      g->run = run;
      g_atomic_int_inc (&cs->runs);
      g_atomic_int_add (&cs->threads, g->n);
      g_atomic_int_inc (&cs->joins[run->join]);

      if (run->cancel == CANCEL_BEFORE_START)
        fs_multi_thread_cancel (group);

      if (!fs_multi_thread_start (group, &start_error))
        stress_fail (g, "start failed: %s", start_error->message);

      switch (run->cancel)
        {
        case CANCEL_AFTER_START:
          fs_multi_thread_cancel (group);
          break;

        case CANCEL_AFTER_ARRIVALS:
          wait_arrivals (g, run->cancel_after);
          fs_multi_thread_cancel (group);
          break;

        case CANCEL_FROM_OTHER_THREAD:
          canceller.g = g;
          canceller.cancellable = fs_multi_thread_get_cancellable (group);
          canceller.after = run->cancel_after;
          canceller_thread = g_thread_new ("stress-cancel", canceller_main, &canceller);
          break;

        case CANCEL_NONE:
        case CANCEL_BEFORE_START:
        case N_CANCELS:
        default:
          break;
        }

      for (guint i = 0; i < run->n_extra; i++)
        {
          extra[i].g = g;
          extra[i].group = group;
          extra[i].poll = run->extra_poll[i];
          extra_threads[i] = g_thread_new ("stress-joiner", extra_joiner_main, &extra[i]);
        }

      if (run->join == JOIN_DROP)
        {
          /* Dropped while it runs: the members finish on their own and the
           * last of them frees the data. */
          if (canceller_thread != NULL)
            g_thread_join (canceller_thread);
          g_clear_object (&group);
          wait_data_freed (g);
          check_members_ran (g, run);
          errors = fs_error_state_dup_errors (state);
          failures += check_errors (g, run, errors);
          break;
        }

      ret = join_group (g, group, run->join, &error);

      if (canceller_thread != NULL)
        g_thread_join (canceller_thread);
      for (guint i = 0; i < run->n_extra; i++)
        g_thread_join (extra_threads[i]);

      check_members_ran (g, run);
      errors = fs_multi_thread_dup_errors (group);
      failures += check_errors (g, run, errors);
      check_raised (g, ret, error, errors, join_names[run->join]);
      for (guint i = 0; i < run->n_extra; i++)
        {
          check_raised (g, extra[i].ret, extra[i].error, errors,
                        extra[i].poll ? "another joiner, with short timeouts" : "another joiner");
          g_clear_error (&extra[i].error);
        }

      g_clear_error (&error);
      ret = fs_multi_thread_check_and_raise_error (group, &error);
      check_raised (g, ret, error, errors, "check_and_raise_error");

      if (fs_multi_thread_get_has_error (group) != (errors->len > 0))
        stress_fail (g, "get_has_error() is wrong");
      if (errors->len > 0 && !g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)))
        stress_fail (g, "a member failed, but the group was not cancelled");
      if (g_cancellable_is_cancelled (fs_multi_thread_get_cancellable (group)))
        g_atomic_int_inc (&cs->cancelled_runs);
      if (!fs_multi_thread_completed (group) || fs_multi_thread_is_alive (group))
        stress_fail (g, "a joined group is still alive");
    }

  /* Every member is gone: the data goes with the group. */
  g_clear_object (&group);
  wait_data_freed (g);
  if (g_atomic_int_get (&g->data_freed) != 1)
    stress_fail (g, "the data was freed %d times", g_atomic_int_get (&g->data_freed));

  g_object_unref (state);
  g_atomic_int_add (&cs->failures, failures);
  stress_watchdog_leave (slot);
  group_free (g);
}

static void
run_case (guint    salt,
          guint    n_trials,
          gboolean restarting)
{
  Case cs = { 0 };
  guint threads_before, errors_before;

  cs.salt = salt;
  cs.n_trials = n_trials;
  cs.restarting = restarting;
  if (stress_only (&cs.n_trials))
    cs.next_trial = cs.first_trial = cs.n_trials++;

  stress_watchdog_start ("stress-multi-thread");
  threads_before = fs_test_count_threads ();
  errors_before = stress_default_errors ();

  stress_run_drivers (N_DRIVERS, TRUE, run_trial, &cs, &cs.next_trial, cs.n_trials);

  /* Each failure is in the default state once: not lost, not doubled. */
  g_assert_cmpuint (stress_default_errors () - errors_before, ==, (guint) cs.failures);
  fs_error_state_clear (fs_error_state_get_default ());

  fs_test_assert_threads_settle (threads_before);
  stress_watchdog_stop ();

  g_test_message ("%u groups, %d runs, %d threads, %d failures, %d runs cancelled",
                  cs.n_trials, cs.runs, cs.threads, cs.failures, cs.cancelled_runs);
  for (guint i = 0; i < N_JOINS; i++)
    g_test_message ("%s: %d", join_names[i], cs.joins[i]);

  g_assert_cmpint (cs.runs, >=, (gint) (cs.n_trials - cs.first_trial));
}

/* A thousand groups, mostly run once. */
static void
test_groups_at_random (void)
{
  run_case (2, stress_scaled (N_GROUPS_FULL, 20), FALSE);
}

/* Groups started again and again, each run joined by up to four threads at
 * once, blocking and with short timeouts. */
static void
test_groups_restarted (void)
{
  run_case (4, stress_scaled (N_RESTARTING_GROUPS_FULL, 10), TRUE);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  stress_init ();

  /* GTask's first use starts a GLib thread that lives as long as the
   * process: start it before counting. */
  g_type_ensure (G_TYPE_TASK);

  g_test_add_func ("/stress/multi-thread/groups-at-random", test_groups_at_random);
  g_test_add_func ("/stress/multi-thread/restarted-and-joined-by-many", test_groups_restarted);

  return g_test_run ();
}
