/* stress-common.h: seed, scale, watchdog and counted invariants shared by
 * the stress programs
 *
 * Every stress program draws its whole plan from one seed. It prints the
 * seed first; FS_STRESS_SEED=N reruns that plan (the interleavings differ,
 * the plan is the same). Without FS_STRESS_SEED the seed comes from GTest's
 * own random seed, so `--seed=R02S...` reruns it too.
 *
 * FS_STRESS_SCALE (a factor, 1 by default) sizes the run: the sanitizer and
 * valgrind runs use a fraction of it.
 *
 * No wait may outlive a bound: a watchdog thread fails the program, with
 * the seed, when no trial has finished for FS_STRESS_WATCHDOG seconds (120
 * by default), instead of letting CI hang.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <fsthread.h>

#include "fs-test-util.h"

G_BEGIN_DECLS

#define STRESS_ERROR (g_quark_from_static_string ("fs-stress-error"))

static guint32 stress_seed;
static double stress_scale = 1.0;
static guint stress_watchdog_seconds = 120;

/* The library reports each failure with g_debug(): thousands of lines in a
 * stress run. They are counted, not printed. */
static gint stress_debug_messages;

static inline void
stress_count_debug (const char     *domain,
                    GLogLevelFlags  level,
                    const char     *message,
                    gpointer        data)
{
  g_atomic_int_inc (&stress_debug_messages);
}

/* Reads the seed and the scale; call after g_test_init(). */
static inline void
stress_init (void)
{
  const char *seed = g_getenv ("FS_STRESS_SEED");
  const char *scale = g_getenv ("FS_STRESS_SCALE");
  const char *watchdog = g_getenv ("FS_STRESS_WATCHDOG");

  if (seed != NULL && *seed != '\0')
    stress_seed = (guint32) g_ascii_strtoull (seed, NULL, 0);
  else
    stress_seed = (guint32) g_test_rand_int ();

  if (scale != NULL && *scale != '\0')
    {
      stress_scale = g_ascii_strtod (scale, NULL);
      if (!(stress_scale > 0))
        g_error ("FS_STRESS_SCALE must be a positive number, not \"%s\"", scale);
    }

  if (watchdog != NULL && *watchdog != '\0')
    stress_watchdog_seconds = (guint) g_ascii_strtoull (watchdog, NULL, 10);
  if (stress_watchdog_seconds == 0)
    stress_watchdog_seconds = 120;

  g_log_set_handler ("Fs", G_LOG_LEVEL_DEBUG, stress_count_debug, NULL);

  /* On stderr, so that it is in the log of a run that crashes. */
  g_printerr ("# %s: FS_STRESS_SEED=%" G_GUINT32_FORMAT " FS_STRESS_SCALE=%g\n",
              g_get_prgname (), stress_seed, stress_scale);
}

/* @full, scaled, at least @min. */
static inline guint
stress_scaled (guint full,
               guint min)
{
  double n = full * stress_scale;

  return n < min ? min : (guint) n;
}

/* The seed of trial @index of case @salt: trials are independent, so a
 * failing trial is described by (seed, case, index). */
static inline guint32
stress_trial_seed (guint32 salt,
                   guint   index)
{
  guint32 h = stress_seed ^ (salt * 0x9E3779B9u);

  h ^= index + 0x7F4A7C15u + (h << 6) + (h >> 2);
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  return h;
}

/* The watchdog. */

#define STRESS_MAX_IN_FLIGHT 8

typedef struct
{
  GMutex      mutex;
  GCond       cond;
  const char *what;
  guint       progress;
  gboolean    stop;
  GThread    *thread;

  /* The trials running, to name the one that hangs. */
  gboolean    busy[STRESS_MAX_IN_FLIGHT];
  guint       index[STRESS_MAX_IN_FLIGHT];
  const char *plan[STRESS_MAX_IN_FLIGHT];
} StressWatchdog;

static StressWatchdog stress_watchdog;

/* A hang is easier to fix with the stacks of every thread: gdb prints them
 * to stderr, when it is installed. */
static inline void
stress_dump_stacks (void)
{
  g_autofree char *gdb = g_find_program_in_path ("gdb");
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autofree char *stacks = NULL;
  const char *argv[] = {
    NULL, "-batch", "-nx", "-p", NULL, "-ex", "thread apply all bt", NULL,
  };

  if (gdb == NULL)
    return;
  argv[0] = gdb;
  argv[4] = pid;
#ifdef PR_SET_PTRACER
  prctl (PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
  if (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, &stacks, NULL, NULL, NULL))
    g_printerr ("%s\n", stacks);
}

static inline gpointer
stress_watchdog_main (gpointer data)
{
  StressWatchdog *w = data;
  guint seen;
  gint64 deadline;

  g_mutex_lock (&w->mutex);
  seen = w->progress;
  deadline = g_get_monotonic_time () + (gint64) stress_watchdog_seconds * G_USEC_PER_SEC;
  while (!w->stop)
    {
      /* A timeout here is the failure detector, not synchronisation. */
      if (!g_cond_wait_until (&w->cond, &w->mutex, deadline) &&
          !w->stop && w->progress == seen)
        {
          GString *in_flight = g_string_new (NULL);

          for (guint i = 0; i < STRESS_MAX_IN_FLIGHT; i++)
            if (w->busy[i])
              g_string_append_printf (in_flight, " [trial %u: %s (FS_STRESS_ONLY=%u)]",
                                      w->index[i], w->plan[i], w->index[i]);
          stress_dump_stacks ();
          g_error ("%s: no trial finished for %u s after %u trials: a wait "
                   "outlived its bound; rerun with FS_STRESS_SEED=%" G_GUINT32_FORMAT
                   "; running:%s",
                   w->what, stress_watchdog_seconds, w->progress, stress_seed,
                   in_flight->str);
        }
      if (w->progress != seen)
        {
          seen = w->progress;
          deadline = g_get_monotonic_time () + (gint64) stress_watchdog_seconds * G_USEC_PER_SEC;
        }
    }
  g_mutex_unlock (&w->mutex);

  return NULL;
}

static inline void
stress_watchdog_start (const char *what)
{
  StressWatchdog *w = &stress_watchdog;

  g_mutex_init (&w->mutex);
  g_cond_init (&w->cond);
  w->what = what;
  w->progress = 0;
  w->stop = FALSE;
  memset (w->busy, 0, sizeof w->busy);
  w->thread = g_thread_new ("stress-watchdog", stress_watchdog_main, w);
}

/* A trial starts: returns its slot for stress_watchdog_leave(). @plan must
 * live until then. */
static inline guint
stress_watchdog_enter (guint       index,
                       const char *plan)
{
  StressWatchdog *w = &stress_watchdog;
  guint slot;

  g_mutex_lock (&w->mutex);
  for (slot = 0; w->busy[slot]; slot++)
    g_assert_cmpuint (slot + 1, <, STRESS_MAX_IN_FLIGHT);
  w->busy[slot] = TRUE;
  w->index[slot] = index;
  w->plan[slot] = plan;
  g_mutex_unlock (&w->mutex);

  return slot;
}

/* A trial finished: that is progress. */
static inline void
stress_watchdog_leave (guint slot)
{
  StressWatchdog *w = &stress_watchdog;

  g_mutex_lock (&w->mutex);
  w->busy[slot] = FALSE;
  w->plan[slot] = NULL;
  w->progress++;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->mutex);
}

static inline void
stress_watchdog_stop (void)
{
  StressWatchdog *w = &stress_watchdog;

  g_mutex_lock (&w->mutex);
  w->stop = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->mutex);
  g_thread_join (w->thread);
  g_mutex_clear (&w->mutex);
  g_cond_clear (&w->cond);
}

/* Fails with the seed, the trial and its plan, so that the failure can be
 * rerun: @trial is any struct with the fields salt, index and plan. */
#define stress_fail(trial, ...) \
  G_STMT_START { \
    g_autofree char *stress_msg_ = g_strdup_printf (__VA_ARGS__); \
    g_error ("%s (trial %u of case %u: %s; rerun with FS_STRESS_SEED=%" G_GUINT32_FORMAT \
             " FS_STRESS_ONLY=%u)", stress_msg_, (guint) (trial)->index, (guint) (trial)->salt, \
             (trial)->plan, stress_seed, (guint) (trial)->index); \
  } G_STMT_END

/* FS_STRESS_ONLY=N runs trial N alone. */
static inline gboolean
stress_only (guint *index)
{
  const char *only = g_getenv ("FS_STRESS_ONLY");

  if (only == NULL || *only == '\0')
    return FALSE;
  *index = (guint) g_ascii_strtoull (only, NULL, 10);
  return TRUE;
}

/* The errors every failing FsThread adds to the process-wide state. */
static inline guint
stress_default_errors (void)
{
  return fs_error_state_get_n_errors (fs_error_state_get_default ());
}

/* One trial of a case, run by a driver: @context is the driver's own main
 * context, its thread default, or NULL for drivers without one. */
typedef void (*StressTrialFunc) (gpointer      data,
                                 guint         index,
                                 GMainContext *context);

typedef struct
{
  StressTrialFunc  run;
  gpointer         data;
  gint            *next_trial;
  guint            n_trials;
  gboolean         with_context;
} StressDrivers;

static gpointer
stress_driver_main (gpointer data)
{
  StressDrivers *drivers = data;
  GMainContext *context = drivers->with_context ? g_main_context_new () : NULL;
  guint index;

  if (context != NULL)
    g_main_context_push_thread_default (context);
  while ((index = (guint) g_atomic_int_add (drivers->next_trial, 1)) < drivers->n_trials)
    drivers->run (drivers->data, index, context);
  if (context != NULL)
    {
      g_main_context_pop_thread_default (context);
      /* Nothing may be left for the context to do. */
      while (g_main_context_iteration (context, FALSE))
        ;
      g_main_context_unref (context);
    }
  return NULL;
}

/* Runs trials *@next_trial to @n_trials - 1 on @n_drivers threads, each
 * taking the next trial as it finishes one, and returns once all are done.
 * With @with_context, each driver runs its trials with a main context of
 * its own as the thread default. */
static void
stress_run_drivers (guint            n_drivers,
                    gboolean         with_context,
                    StressTrialFunc  run,
                    gpointer         data,
                    gint            *next_trial,
                    guint            n_trials)
{
  StressDrivers drivers = { run, data, next_trial, n_trials, with_context };
  GThread **threads = g_new (GThread *, n_drivers);

  for (guint i = 0; i < n_drivers; i++)
    threads[i] = g_thread_new ("stress-driver", stress_driver_main, &drivers);
  for (guint i = 0; i < n_drivers; i++)
    g_thread_join (threads[i]);
  g_free (threads);
}

G_END_DECLS
