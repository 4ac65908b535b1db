/* stress-background-generator.c: thousands of background generators, each
 * closed at a random moment from a random thread
 *
 * Each trial runs one FsBackgroundGenerator with one to four consumers,
 * synchronous or asynchronous, and closes it at one of five moments: before
 * the first item, mid-stream, after the end, while the producer is blocked
 * on a full queue, or while a consumer is blocked on an empty one. The
 * closer is the thread running the trial, a consumer, a thread of its own,
 * or the generator itself; some closers first close without waiting, then
 * wait. Some generators fail at a random item, some consumers are
 * cancelled while they wait, and the last reference is dropped by
 * whichever thread finishes last.
 *
 * Nothing is assumed; everything is counted:
 *  - every item yielded is taken by exactly one consumer or freed exactly
 *    once by the stream (each item carries its own state, claimed with a
 *    compare-and-swap), and each consumer sees its items in order;
 *  - a generator's error reaches every consumer that reaches the end, and is
 *    listed once in the producer thread's error state and once in the
 *    default one; no consumer sees an end or an error that did not happen;
 *  - every wait ends with a status that fits what happened, and a GError
 *    comes with FS_WAIT_FAILED only;
 *  - every object is finalized and the thread count comes back;
 *  - a watchdog fails the run, with its seed, if a trial hangs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "stress-common.h"

#define N_GENERATORS_FULL 10000
#define N_LONG_STREAMS_FULL 1200
#define N_DRIVERS 2
#define MAX_CONSUMERS 4

typedef enum {
  MOMENT_BEFORE_FIRST,
  MOMENT_MID_STREAM,
  MOMENT_AFTER_END,
  MOMENT_PRODUCER_BLOCKED,
  MOMENT_CONSUMER_BLOCKED,
  N_MOMENTS
} Moment;

static const char *moment_names[N_MOMENTS] = {
  "before the first item",
  "mid-stream",
  "after the end",
  "producer blocked on a full queue",
  "consumer blocked on an empty queue",
};

typedef enum {
  CLOSER_DRIVER,
  CLOSER_CONSUMER,
  CLOSER_OTHER,
  CLOSER_PRODUCER,
  N_CLOSERS
} Closer;

typedef enum {
  WAIT_NEXT,
  WAIT_NEXT_TIMEOUT_LONG,
  WAIT_NEXT_TIMEOUT_SHORT,
  WAIT_ASYNC,
  WAIT_NEXT_VALUE,
  N_WAITS
} WaitKind;

typedef enum {
  ON_CLOSED_PASS_ERROR,
  ON_CLOSED_RETURN_TRUE,
  ON_CLOSED_RETURN_FALSE_MUTE,
  N_ON_CLOSED
} OnClosed;

typedef enum {
  OUTCOME_NONE,
  OUTCOME_END,
  OUTCOME_GENERATOR_ERROR,
  OUTCOME_CLOSED,
  OUTCOME_CANCELLED,
} Outcome;

enum {
  ITEM_IN_STREAM = 0,
  ITEM_CONSUMED = 1,
  ITEM_FREED = 2,
};

typedef struct _Trial Trial;

typedef struct
{
  Trial *trial;
  guint  index;
  gint   state;
} Item;

typedef struct
{
  Trial        *trial;
  guint         index;
  WaitKind      wait;
  GCancellable *cancellable;     /* NULL, or one the closer may cancel */
  GThread      *thread;
  FsBackgroundGenerator *bg;     /* the consumer's own reference */

  /* Written by the consumer thread only; read after it is joined. */
  Outcome       outcome;
  guint         n_taken;
  guint         last_index;
  GError       *error;

  /* Async completion, on the consumer's own context. */
  gboolean      async_done;
  FsWaitStatus  async_status;
  gpointer      async_item;
} Consumer;

struct _Trial
{
  guint           salt;
  guint           index;
  char           *plan;         /* the plan, for messages */

  /* The plan. */
  guint           prefetch;
  guint           n_items;
  guint           fail_at;       /* G_MAXUINT: never */
  guint           stall_at;      /* G_MAXUINT: never */
  guint           close_at;      /* MID_STREAM: items taken before the close */
  Moment          moment;
  Closer          closer;
  gboolean        close_without_waiting_first;
  OnClosed        on_closed;
  gboolean        cancel_one;    /* CONSUMER_BLOCKED: cancel a consumer first */
  gboolean        driver_drops_early;
  guint           n_consumers;
  char           *name;

  Item           *items;
  Consumer        consumers[MAX_CONSUMERS];
  FsBackgroundGenerator *bg;     /* the driver's reference, or NULL */
  FsBackgroundGenerator *producer_bg; /* the generator's, CLOSER_PRODUCER */
  FsThread       *thread;        /* the producer, kept to join and check */

  /* What the threads report, under mutex; cond is broadcast on each
   * change. */
  GMutex          mutex;
  GCond           cond;
  gboolean        started;
  gboolean        consume_open;
  guint           entered_yield;
  gboolean        stalled;
  gboolean        generator_returned;
  guint           taken;
  guint           consumers_waiting;
  guint           consumers_done;
  gboolean        close_requested;
  gboolean        closed;

  /* Atomics. */
  gint            produced;
  gint            freed;
  gint            generator_failed;
  gint            bg_finalized;
  gint            user_data_freed;
};

typedef struct
{
  guint  salt;
  gboolean long_streams;
  guint  first_trial;
  guint  n_trials;
  gint   next_trial;
  gint   generator_failures;
  gint   items_produced;
  gint   items_consumed;
  gint   items_freed;
  gint   moments[N_MOMENTS];
  gint   closers[N_CLOSERS];
  gint   async_consumers;
  gint   cancelled_consumers;
} Case;

static void
trial_lock (Trial *t)
{
  g_mutex_lock (&t->mutex);
}

static void
trial_unlock_broadcast (Trial *t)
{
  g_cond_broadcast (&t->cond);
  g_mutex_unlock (&t->mutex);
}

/* The items. */

static void
item_free (gpointer data)
{
  Item *item = data;

  if (!g_atomic_int_compare_and_exchange (&item->state, ITEM_IN_STREAM, ITEM_FREED))
    stress_fail (item->trial,
                 "item %u freed, but its state was %d", item->index,
                 g_atomic_int_get (&item->state));
  g_atomic_int_inc (&item->trial->freed);
}

static void
consumer_take (Consumer *c,
               gpointer  data)
{
  Trial *t = c->trial;
  Item *item = data;

  if (item == NULL || item->trial != t || item->index >= t->n_items)
    stress_fail (t, "consumer %u got an item of another stream", c->index);
  if (!g_atomic_int_compare_and_exchange (&item->state, ITEM_IN_STREAM, ITEM_CONSUMED))
    stress_fail (t, "consumer %u got item %u, whose state was %d",
                 c->index, item->index, g_atomic_int_get (&item->state));
  if (c->n_taken > 0 && item->index <= c->last_index)
    stress_fail (t, "consumer %u got item %u after item %u",
                 c->index, item->index, c->last_index);
  c->last_index = item->index;
  c->n_taken++;

  trial_lock (t);
  t->taken++;
  trial_unlock_broadcast (t);
}

/* Closing. */

static void
close_now (Trial                 *t,
           FsBackgroundGenerator *bg)
{
  /* The producer cannot wait for itself; anyone else waits until it has
   * returned, which it does at its next yield or on the cancellable. */
  gboolean on_producer = fs_thread_get_current () == t->thread;
  FsWaitStatus expected = on_producer ? FS_WAIT_WOULD_DEADLOCK : FS_WAIT_OK;
  FsWaitStatus status;

  trial_lock (t);
  t->close_requested = TRUE;
  g_mutex_unlock (&t->mutex);

  if (t->close_without_waiting_first)
    {
      /* Closes at once; the wait for the producer may be over, or not. */
      status = fs_background_generator_close (bg, 0, NULL);
      if (status != expected && (on_producer || status != FS_WAIT_TIMED_OUT))
        stress_fail (t, "a close without waiting returned %d", status);
      g_assert_true (fs_background_generator_is_closed (bg));
    }

  /* Closing again closes nothing more, and waits. */
  status = fs_background_generator_close (bg, -1, NULL);
  if (status != expected)
    stress_fail (t, "the close returned %d, not %d", status, expected);
  g_assert_true (fs_background_generator_is_closed (bg));
  if (!on_producer && fs_thread_is_alive (t->thread))
    stress_fail (t, "the close returned while the producer runs");

  trial_lock (t);
  t->closed = TRUE;
  t->consume_open = TRUE;
  trial_unlock_broadcast (t);
}

static gboolean
all_consumers_done (Trial *t)
{
  return t->consumers_done == t->n_consumers;
}

/* Waits, on a closer thread, for the trial's moment. */
static void
wait_for_moment (Trial *t)
{
  trial_lock (t);
  switch (t->moment)
    {
    case MOMENT_BEFORE_FIRST:
      break;

    case MOMENT_MID_STREAM:
      while (t->taken < t->close_at && !all_consumers_done (t))
        g_cond_wait (&t->cond, &t->mutex);
      break;

    case MOMENT_AFTER_END:
      while (!all_consumers_done (t))
        g_cond_wait (&t->cond, &t->mutex);
      break;

    case MOMENT_PRODUCER_BLOCKED:
      /* The generator is in the yield that fills the queue, and nobody
       * takes anything until the close. */
      while (t->entered_yield < t->prefetch && !t->generator_returned)
        g_cond_wait (&t->cond, &t->mutex);
      break;

    case MOMENT_CONSUMER_BLOCKED:
      while (!(t->stalled && t->consumers_waiting > 0) &&
             !t->generator_returned && !all_consumers_done (t))
        g_cond_wait (&t->cond, &t->mutex);
      break;

    case N_MOMENTS:
    default:
      g_assert_not_reached ();
    }
  g_mutex_unlock (&t->mutex);
}

/* The closer's work on a thread that is not the producer. */
static void
run_closer (Trial                 *t,
            FsBackgroundGenerator *bg,
            Consumer              *self)
{
  wait_for_moment (t);

  if (t->cancel_one)
    {
      /* A consumer cancelled while it waits, before the stream closes:
       * the others must not notice. */
      for (guint i = 0; i < t->n_consumers; i++)
        {
          Consumer *c = &t->consumers[i];

          if (c != self && c->cancellable != NULL)
            {
              g_cancellable_cancel (c->cancellable);
              break;
            }
        }
    }

  close_now (t, bg);
}

static gpointer
other_closer_main (gpointer data)
{
  Trial *t = data;
  FsBackgroundGenerator *bg = g_object_ref (t->bg);

  run_closer (t, bg, NULL);
  g_object_unref (bg);
  return NULL;
}

/* The generator. */

static void
generator_wake (GCancellable *cancellable,
                Trial        *t)
{
  trial_lock (t);
  trial_unlock_broadcast (t);
}

static gboolean
generator_closed (Trial   *t,
                  GError **error,
                  GError  *yield_error)
{
  if (!g_error_matches (yield_error, FS_ERROR, FS_ERROR_CLOSED))
    stress_fail (t, "yield failed with %s", yield_error->message);

  switch (t->on_closed)
    {
    case ON_CLOSED_PASS_ERROR:
      g_propagate_error (error, yield_error);
      return FALSE;

    case ON_CLOSED_RETURN_TRUE:
      g_error_free (yield_error);
      return TRUE;

    case ON_CLOSED_RETURN_FALSE_MUTE:
      g_error_free (yield_error);
      return FALSE;

    case N_ON_CLOSED:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
generate (FsGenerator  *gen,
          gpointer      data,
          GError      **error)
{
  Trial *t = data;
  GCancellable *cancellable = fs_generator_get_cancellable (gen);
  gboolean ret = TRUE;
  gulong handler;

  handler = g_cancellable_connect (cancellable, G_CALLBACK (generator_wake), t, NULL);

  /* Waits for the trial to be set up, or for the close. */
  trial_lock (t);
  while (!t->started && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&t->cond, &t->mutex);
  g_mutex_unlock (&t->mutex);

  for (guint i = 0; i <= t->n_items; i++)
    {
      GError *yield_error = NULL;

      if (t->closer == CLOSER_PRODUCER && i == t->close_at && t->producer_bg != NULL)
        close_now (t, t->producer_bg);

      if (i == t->stall_at)
        {
          /* Nothing comes until the close: a consumer blocks on the empty
           * queue. */
          trial_lock (t);
          t->stalled = TRUE;
          g_cond_broadcast (&t->cond);
          while (!g_cancellable_is_cancelled (cancellable))
            g_cond_wait (&t->cond, &t->mutex);
          g_mutex_unlock (&t->mutex);
        }

      if (i == t->fail_at)
        {
          g_atomic_int_set (&t->generator_failed, 1);
          g_set_error (error, STRESS_ERROR, (gint) t->index,
                       "generator %u failed at item %u", t->index, i);
          ret = FALSE;
          break;
        }

      if (i == t->n_items)
        break;

      trial_lock (t);
      t->entered_yield = i + 1;
      trial_unlock_broadcast (t);

      g_atomic_int_inc (&t->produced);
      if (!fs_generator_yield (gen, &t->items[i], &yield_error))
        {
          ret = generator_closed (t, error, yield_error);
          break;
        }
    }

  g_cancellable_disconnect (cancellable, handler);

  /* Perhaps the last reference: dropped on the producer thread. */
  g_clear_object (&t->producer_bg);

  trial_lock (t);
  t->generator_returned = TRUE;
  trial_unlock_broadcast (t);

  return ret;
}

static void
generator_data_free (gpointer data)
{
  Trial *t = data;

  g_atomic_int_inc (&t->user_data_freed);
}

static void
bg_finalized (gpointer  data,
              GObject  *where_the_object_was)
{
  Trial *t = data;

  g_atomic_int_inc (&t->bg_finalized);
}

/* The consumers. */

static void
async_next_done (GObject      *object,
                 GAsyncResult *result,
                 gpointer      data)
{
  Consumer *c = data;
  GValue *value;

  c->async_status = FS_WAIT_OK;
  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object), result,
                                               &c->async_status, &c->error);
  if ((value != NULL) != (c->async_status == FS_WAIT_OK))
    stress_fail (c->trial, "consumer %u: next_finish returned %s value with status %d",
                 c->index, value != NULL ? "a" : "no", c->async_status);
  if (value != NULL)
    {
      if (!G_VALUE_HOLDS_POINTER (value))
        stress_fail (c->trial, "consumer %u: next_finish returned a %s value",
                     c->index, G_VALUE_TYPE_NAME (value));
      c->async_item = g_value_get_pointer (value);
      g_value_unset (value);
      g_free (value);
    }
  c->async_done = TRUE;
}

/* One wait for the next item, of the consumer's kind. */
static FsWaitStatus
consumer_next (Consumer     *c,
               GMainContext *context,
               gpointer     *item)
{
  FsWaitStatus status;

  switch (c->wait)
    {
    case WAIT_NEXT:
      return fs_background_generator_next (c->bg, item, -1, c->cancellable, &c->error);

    case WAIT_NEXT_TIMEOUT_LONG:
      return fs_background_generator_next (c->bg, item, (gint64) 3600 * G_USEC_PER_SEC,
                                           c->cancellable, &c->error);

    case WAIT_NEXT_TIMEOUT_SHORT:
      /* Short waits that time out and are tried again: the timeout is
       * the behaviour under test. */
      for (guint i = 0; ; i++)
        {
          status = fs_background_generator_next (c->bg, item, (i % 7) * 100,
                                                 c->cancellable, &c->error);
          if (status != FS_WAIT_TIMED_OUT)
            return status;
          if (c->error != NULL || *item != NULL)
            stress_fail (c->trial, "consumer %u: a timed out next set %s", c->index,
                         c->error != NULL ? c->error->message : "an item");
        }

    case WAIT_ASYNC:
      c->async_done = FALSE;
      c->async_item = NULL;
      fs_background_generator_next_async (c->bg, c->cancellable, async_next_done, c);
      while (!c->async_done)
        g_main_context_iteration (context, TRUE);
      *item = c->async_item;
      return c->async_status;

    case WAIT_NEXT_VALUE:
      {
        GValue value = G_VALUE_INIT;

        /* A stream of pointers: the item comes as a G_TYPE_POINTER. */
        status = fs_background_generator_next_value (c->bg, -1, c->cancellable, &value,
                                                     &c->error);
        if (status == FS_WAIT_OK)
          {
            if (!G_VALUE_HOLDS_POINTER (&value))
              stress_fail (c->trial, "consumer %u: next_value gave a %s value",
                           c->index, G_VALUE_TYPE_NAME (&value));
            *item = g_value_get_pointer (&value);
          }
        g_value_unset (&value);
        return status;
      }

    case N_WAITS:
    default:
      g_assert_not_reached ();
    }
}

static gpointer
consumer_main (gpointer data)
{
  Consumer *c = data;
  Trial *t = c->trial;
  GMainContext *context = NULL;
  gboolean is_closer = t->closer == CLOSER_CONSUMER && c->index == 0;

  if (c->wait == WAIT_ASYNC)
    {
      context = g_main_context_new ();
      g_main_context_push_thread_default (context);
    }

  if (is_closer && t->moment != MOMENT_MID_STREAM && t->moment != MOMENT_AFTER_END)
    run_closer (t, c->bg, c);

  /* Nobody takes an item before a close that must find them queued. */
  trial_lock (t);
  while (!t->consume_open)
    g_cond_wait (&t->cond, &t->mutex);
  g_mutex_unlock (&t->mutex);

  for (;;)
    {
      gpointer item = NULL;
      FsWaitStatus status;

      if (is_closer && t->moment == MOMENT_MID_STREAM && c->n_taken == t->close_at)
        close_now (t, c->bg);

      trial_lock (t);
      t->consumers_waiting++;
      trial_unlock_broadcast (t);

      status = consumer_next (c, context, &item);

      trial_lock (t);
      t->consumers_waiting--;
      trial_unlock_broadcast (t);

      /* The error comes with FS_WAIT_FAILED, and only with it. */
      if ((status == FS_WAIT_FAILED) != (c->error != NULL))
        stress_fail (t, "consumer %u: status %d came with %s", c->index, status,
                     c->error != NULL ? c->error->message : "no error");

      if (status == FS_WAIT_OK)
        {
          consumer_take (c, item);
          continue;
        }

      if (item != NULL)
        stress_fail (t, "consumer %u: an item came with status %d", c->index, status);

      switch (status)
        {
        case FS_WAIT_END:
          c->outcome = OUTCOME_END;
          break;
        case FS_WAIT_FAILED:
          if (c->error->domain != STRESS_ERROR)
            stress_fail (t, "consumer %u: unexpected error: %s", c->index, c->error->message);
          c->outcome = OUTCOME_GENERATOR_ERROR;
          break;
        case FS_WAIT_CLOSED:
          c->outcome = OUTCOME_CLOSED;
          break;
        case FS_WAIT_CANCELLED:
          c->outcome = OUTCOME_CANCELLED;
          break;
        case FS_WAIT_OK:
        case FS_WAIT_TIMED_OUT:
        case FS_WAIT_INTERRUPTED:
        case FS_WAIT_WOULD_DEADLOCK:
        case FS_WAIT_NOT_STARTED:
        default:
          stress_fail (t, "consumer %u: unexpected status %d", c->index, status);
        }
      break;
    }

  if (is_closer && t->moment == MOMENT_MID_STREAM)
    {
      gboolean closed;

      /* The others took the items this one was to close after. */
      trial_lock (t);
      closed = t->closed;
      g_mutex_unlock (&t->mutex);
      if (!closed)
        close_now (t, c->bg);
    }

  trial_lock (t);
  t->consumers_done++;
  trial_unlock_broadcast (t);

  if (is_closer && t->moment == MOMENT_AFTER_END)
    run_closer (t, c->bg, c);

  /* Perhaps the last reference: then this thread closes the stream, and
   * does not wait for the producer. */
  g_clear_object (&c->bg);

  if (context != NULL)
    {
      g_main_context_pop_thread_default (context);
      g_main_context_unref (context);
    }

  return NULL;
}

/* The plan. */

static char *
random_name (GRand *rand)
{
  switch (g_rand_int_range (rand, 0, 8))
    {
    case 0:
      /* Longer than the 15 bytes Linux keeps. */
      return g_strdup ("stress-generator-with-a-long-name");
    case 1:
      /* Not UTF-8. */
      return g_strdup ("stress-\xff\xfe-gen");
    case 2:
      return g_strdup ("stress-gén-éé");
    default:
      return g_strdup ("stress-gen");
    }
}

static Trial *
trial_new (guint    salt,
           guint    index,
           gboolean long_stream)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (stress_trial_seed (salt, index));
  Trial *t = g_new0 (Trial, 1);

  t->salt = salt;
  t->index = index;
  g_mutex_init (&t->mutex);
  g_cond_init (&t->cond);

  t->moment = g_rand_int_range (rand, 0, N_MOMENTS);
  if (long_stream)
    t->moment = g_rand_boolean (rand) ? MOMENT_MID_STREAM : MOMENT_AFTER_END;
  t->closer = g_rand_int_range (rand, 0, N_CLOSERS);
  t->n_consumers = g_rand_int_range (rand, 1, MAX_CONSUMERS + 1);
  t->on_closed = g_rand_int_range (rand, 0, N_ON_CLOSED);
  t->name = random_name (rand);
  t->close_without_waiting_first = g_rand_boolean (rand);

  switch (g_rand_int_range (rand, 0, 16))
    {
    case 0:
      t->prefetch = G_MAXUINT;
      break;
    case 1:
      t->prefetch = G_MAXUINT - 1;
      break;
    case 2:
      t->prefetch = 1000;
      break;
    default:
      t->prefetch = g_rand_int_range (rand, 1, 5);
      break;
    }
  t->n_items = long_stream ? (guint) g_rand_int_range (rand, 2000, 20000)
                           : (guint) g_rand_int_range (rand, 0, 48);
  if (long_stream && t->prefetch < 1000)
    t->prefetch = g_rand_int_range (rand, 1, 65);
  t->fail_at = g_rand_int_range (rand, 0, 4) == 0
             ? (guint) g_rand_int_range (rand, 0, t->n_items + 1)
             : G_MAXUINT;
  t->stall_at = G_MAXUINT;
  t->close_at = G_MAXUINT;

  switch (t->moment)
    {
    case MOMENT_BEFORE_FIRST:
      t->close_at = 0;
      break;

    case MOMENT_MID_STREAM:
      t->close_at = t->n_items > 0 ? (guint) g_rand_int_range (rand, 0, t->n_items) : 0;
      break;

    case MOMENT_AFTER_END:
      t->close_at = t->n_items;
      break;

    case MOMENT_PRODUCER_BLOCKED:
      /* The queue must fill: a small bound and more items than it. */
      t->prefetch = g_rand_int_range (rand, 1, 5);
      t->n_items = t->prefetch + g_rand_int_range (rand, 1, 32);
      if (t->fail_at != G_MAXUINT)
        t->fail_at = g_rand_int_range (rand, 0, t->n_items + 1);
      if (t->closer == CLOSER_PRODUCER)
        t->closer = CLOSER_OTHER;
      break;

    case MOMENT_CONSUMER_BLOCKED:
      t->stall_at = g_rand_int_range (rand, 0, t->n_items + 1);
      if (t->closer == CLOSER_PRODUCER || (t->closer == CLOSER_CONSUMER && t->n_consumers < 2))
        t->closer = CLOSER_DRIVER;
      break;

    case N_MOMENTS:
    default:
      g_assert_not_reached ();
    }

  for (guint i = 0; i < t->n_consumers; i++)
    {
      Consumer *c = &t->consumers[i];

      c->trial = t;
      c->index = i;
      c->wait = g_rand_int_range (rand, 0, N_WAITS);
      if (g_rand_boolean (rand))
        c->cancellable = g_cancellable_new ();
    }

  /* Only a consumer that is not the closer may be cancelled. */
  if (t->moment == MOMENT_CONSUMER_BLOCKED && g_rand_boolean (rand))
    for (guint i = t->closer == CLOSER_CONSUMER ? 1 : 0; i < t->n_consumers; i++)
      if (t->consumers[i].cancellable != NULL)
        t->cancel_one = TRUE;

  t->driver_drops_early = t->closer != CLOSER_DRIVER && g_rand_boolean (rand);

  {
    static const char *closers[] = { "driver", "consumer 0", "other thread", "producer" };
    static const char *waits[] = { "next", "next with a timeout", "short timeouts", "next_async",
                                   "next_value" };
    GString *plan = g_string_new (NULL);

    g_string_append_printf (plan, "closed %s by the %s%s; prefetch %u, %u items, fail at %d, "
                            "stall at %d, close at %d, on close %d, cancel one %d, "
                            "driver drops early %d; consumers:",
                            moment_names[t->moment], closers[t->closer],
                            t->close_without_waiting_first ? " (first without waiting)" : "",
                            t->prefetch,
                            t->n_items, (gint) t->fail_at, (gint) t->stall_at,
                            (gint) t->close_at, t->on_closed, t->cancel_one,
                            t->driver_drops_early);
    for (guint i = 0; i < t->n_consumers; i++)
      g_string_append_printf (plan, " %s%s", waits[t->consumers[i].wait],
                              t->consumers[i].cancellable != NULL ? "+cancellable" : "");
    t->plan = g_string_free (plan, FALSE);
  }

  t->items = g_new0 (Item, t->n_items > 0 ? t->n_items : 1);
  for (guint i = 0; i < t->n_items; i++)
    {
      t->items[i].trial = t;
      t->items[i].index = i;
    }

  return t;
}

static void
trial_free (Trial *t)
{
  for (guint i = 0; i < t->n_consumers; i++)
    {
      g_clear_object (&t->consumers[i].cancellable);
      g_clear_error (&t->consumers[i].error);
    }
  g_free (t->items);
  g_free (t->name);
  g_free (t->plan);
  g_mutex_clear (&t->mutex);
  g_cond_clear (&t->cond);
  g_free (t);
}

/* The checks, once every thread of the trial is gone. */
static void
trial_check (Trial *t)
{
  g_autoptr(GError) join_error = NULL;
  FsErrorState *state = fs_thread_get_error_state (t->thread);
  FsWaitStatus join_status;
  gboolean joined, failed;
  guint produced, consumed = 0, freed = 0;

  /* Neither a close nor the last unref reaps the producer: this join
   * does, and waits for it when the last reference went while it ran. */
  join_status = fs_thread_join (t->thread, -1, NULL, &join_error);
  if (join_status != FS_WAIT_OK && join_status != FS_WAIT_FAILED)
    stress_fail (t, "the producer's join returned %d", join_status);
  if ((join_status == FS_WAIT_FAILED) != (join_error != NULL))
    stress_fail (t, "the producer's join returned %d with %s", join_status,
                 join_error != NULL ? join_error->message : "no error");
  joined = join_status == FS_WAIT_OK;
  failed = g_atomic_int_get (&t->generator_failed);
  produced = (guint) g_atomic_int_get (&t->produced);
  if (joined == failed)
    stress_fail (t, "the producer's join said %s, the generator %s",
                 join_error != NULL ? join_error->message : "success",
                 failed ? "failed" : "did not fail");

  /* Every reference is gone now, the generator's own too. */
  if (!g_atomic_int_get (&t->bg_finalized))
    stress_fail (t, "the background generator was not finalized");

  /* Every item yielded is consumed or freed, exactly once; no other. */
  for (guint i = 0; i < t->n_items; i++)
    {
      gint state_i = g_atomic_int_get (&t->items[i].state);

      if (i < produced && state_i == ITEM_IN_STREAM)
        stress_fail (t, "item %u of %u was lost", i, produced);
      if (i >= produced && state_i != ITEM_IN_STREAM)
        stress_fail (t, "item %u was never yielded, but its state is %d", i, state_i);
      consumed += state_i == ITEM_CONSUMED;
      freed += state_i == ITEM_FREED;
    }
  if (consumed + freed != produced || freed != (guint) g_atomic_int_get (&t->freed))
    stress_fail (t, "%u items produced, %u consumed, %u freed (%d free calls)",
                 produced, consumed, freed, g_atomic_int_get (&t->freed));

  /* The generator's error: listed once, never invented. */
  if (fs_error_state_get_n_errors (state) != (failed ? 1u : 0u))
    stress_fail (t, "the producer's state lists %u errors; the generator %s",
                 fs_error_state_get_n_errors (state), failed ? "failed" : "did not fail");
  if (failed)
    {
      g_autofree char *suffix = g_strdup_printf ("generator %u failed at item", t->index);

      g_assert_error (join_error, STRESS_ERROR, (gint) t->index);
      g_assert_true (g_str_has_prefix (join_error->message, "Error in thread ("));
      g_assert_nonnull (strstr (join_error->message, suffix));
    }

  for (guint i = 0; i < t->n_consumers; i++)
    {
      Consumer *c = &t->consumers[i];

      switch (c->outcome)
        {
        case OUTCOME_END:
          /* Reaching the end of a failed stream without its error loses
           * the error. */
          if (failed)
            stress_fail (t, "consumer %u saw a clean end, but the generator failed",
                         c->index);
          break;

        case OUTCOME_GENERATOR_ERROR:
          if (!failed)
            stress_fail (t, "consumer %u got an error nobody set", c->index);
          if (!g_error_matches (c->error, join_error->domain, join_error->code) ||
              g_strcmp0 (c->error->message, join_error->message) != 0)
            stress_fail (t, "consumer %u got \"%s\", the producer failed with \"%s\"",
                         c->index, c->error->message, join_error->message);
          break;

        case OUTCOME_CLOSED:
          if (!t->close_requested)
            stress_fail (t, "consumer %u saw a close that nobody made", c->index);
          break;

        case OUTCOME_CANCELLED:
          if (c->cancellable == NULL || !g_cancellable_is_cancelled (c->cancellable))
            stress_fail (t, "consumer %u was cancelled, but not by us", c->index);
          break;

        case OUTCOME_NONE:
        default:
          stress_fail (t, "consumer %u has no outcome", c->index);
        }
    }

  if (g_atomic_int_get (&t->user_data_freed) != 0)
    stress_fail (t, "the generator's data was freed while its thread is alive");
}

static void
run_trial (gpointer      data,
           guint         index,
           GMainContext *context)
{
  Case *cs = data;
  Trial *t = trial_new (cs->salt, index, cs->long_streams);
  guint slot = stress_watchdog_enter (index, t->plan);
  FsBackgroundGenerator *bg;
  GThread *other = NULL;

  bg = fs_background_generator_new (t->prefetch, t->name, generate, t,
                                    generator_data_free, item_free);
  g_assert_nonnull (bg);
  g_object_weak_ref (G_OBJECT (bg), bg_finalized, t);
  t->bg = bg;
  t->thread = g_object_ref (fs_background_generator_get_thread (bg));
  if (t->closer == CLOSER_PRODUCER)
    t->producer_bg = g_object_ref (bg);

  g_atomic_int_inc (&cs->moments[t->moment]);
  g_atomic_int_inc (&cs->closers[t->closer]);

  t->consume_open = t->moment != MOMENT_BEFORE_FIRST &&
                    t->moment != MOMENT_PRODUCER_BLOCKED;

  for (guint i = 0; i < t->n_consumers; i++)
    {
      Consumer *c = &t->consumers[i];

      c->bg = g_object_ref (bg);
      if (c->wait == WAIT_ASYNC)
        g_atomic_int_inc (&cs->async_consumers);
      c->thread = g_thread_new ("stress-consumer", consumer_main, c);
    }
  if (t->closer == CLOSER_OTHER)
    other = g_thread_new ("stress-closer", other_closer_main, t);

  trial_lock (t);
  t->started = TRUE;
  trial_unlock_broadcast (t);

  if (t->closer == CLOSER_DRIVER)
    run_closer (t, bg, NULL);

  if (other != NULL)
    g_thread_join (other);

  if (t->driver_drops_early)
    g_clear_object (&t->bg);

  for (guint i = 0; i < t->n_consumers; i++)
    g_thread_join (t->consumers[i].thread);

  /* A stream nobody closed closes when its last reference goes: here, or
   * on a consumer, or on the producer thread. */
  g_clear_object (&t->bg);

  trial_check (t);

  for (guint i = 0; i < t->n_consumers; i++)
    if (t->consumers[i].outcome == OUTCOME_CANCELLED)
      g_atomic_int_inc (&cs->cancelled_consumers);
  g_atomic_int_add (&cs->generator_failures, g_atomic_int_get (&t->generator_failed));
  g_atomic_int_add (&cs->items_produced, g_atomic_int_get (&t->produced));
  g_atomic_int_add (&cs->items_freed, g_atomic_int_get (&t->freed));
  g_atomic_int_add (&cs->items_consumed, g_atomic_int_get (&t->produced) - g_atomic_int_get (&t->freed));

  /* The last reference to the producer: its data goes with it. */
  g_clear_object (&t->thread);
  if (g_atomic_int_get (&t->user_data_freed) != 1)
    stress_fail (t, "the generator's data was freed %d times",
                 g_atomic_int_get (&t->user_data_freed));

  stress_watchdog_leave (slot);
  trial_free (t);
}

static void
run_case (guint    salt,
          guint    n_trials,
          gboolean long_streams)
{
  Case cs = { 0 };
  guint threads_before, errors_before;

  cs.salt = salt;
  cs.n_trials = n_trials;
  cs.long_streams = long_streams;
  if (stress_only (&cs.n_trials))
    cs.next_trial = cs.first_trial = cs.n_trials++;

  stress_watchdog_start ("stress-background-generator");
  threads_before = fs_test_count_threads ();
  errors_before = stress_default_errors ();

  stress_run_drivers (N_DRIVERS, FALSE, run_trial, &cs, &cs.next_trial, cs.n_trials);

  /* Each failure is in the default state once: not lost, not doubled. */
  g_assert_cmpuint (stress_default_errors () - errors_before, ==, (guint) cs.generator_failures);
  fs_error_state_clear (fs_error_state_get_default ());

  fs_test_assert_threads_settle (threads_before);
  stress_watchdog_stop ();

  g_test_message ("%u generators, %d items produced, %d consumed, %d freed by the stream, "
                  "%d generators failed, %d async consumers, %d consumers cancelled",
                  cs.n_trials, cs.items_produced, cs.items_consumed, cs.items_freed,
                  cs.generator_failures, cs.async_consumers, cs.cancelled_consumers);
  for (guint i = 0; i < N_MOMENTS; i++)
    g_test_message ("closed %s: %d", moment_names[i], cs.moments[i]);
  g_test_message ("closed by the driver %d, a consumer %d, another thread %d, the producer %d",
                  cs.closers[CLOSER_DRIVER], cs.closers[CLOSER_CONSUMER],
                  cs.closers[CLOSER_OTHER], cs.closers[CLOSER_PRODUCER]);

  g_assert_cmpint (cs.items_produced, ==, cs.items_consumed + cs.items_freed);
  if (cs.n_trials - cs.first_trial >= 50 && !long_streams)
    for (guint i = 0; i < N_MOMENTS; i++)
      g_assert_cmpint (cs.moments[i], >, 0);
}

/* Ten thousand short streams, each closed at one of the five moments. */
static void
test_generators_closed_at_random (void)
{
  run_case (1, stress_scaled (N_GENERATORS_FULL, 50), FALSE);
}

/* Fewer, long streams: 2,000 to 20,000 items each, through every kind of
 * consumer at once, closed mid-stream or after the end. This is where the
 * handoff itself is loaded. */
static void
test_long_streams (void)
{
  run_case (3, stress_scaled (N_LONG_STREAMS_FULL, 10), TRUE);
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

  g_test_add_func ("/stress/background-generator/closed-at-random", test_generators_closed_at_random);
  g_test_add_func ("/stress/background-generator/long-streams", test_long_streams);

  return g_test_run ();
}
