/* test-queue.c: the bounded queue between a generator and its consumers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <gio/gio.h>

#include "fs-error.h"
#include "fs-queue-private.h"

#include "fs-test-util.h"

#define TEST_ERROR (g_quark_from_static_string ("test-queue-error"))

/* Items are small integers as pointers, 0 (NULL) included. The queue's
 * item_free counts, per item, how often it freed each. */

#define MAX_TRACKED 64

static gint freed_total;
static gint freed_per_item[MAX_TRACKED];

static void
reset_frees (void)
{
  freed_total = 0;
  memset (freed_per_item, 0, sizeof freed_per_item);
}

static void
count_free (gpointer item)
{
  guint index = GPOINTER_TO_UINT (item);

  g_atomic_int_inc (&freed_total);
  if (index < MAX_TRACKED)
    g_atomic_int_inc (&freed_per_item[index]);
}

static void
assert_freed_at_most_once (void)
{
  for (guint i = 0; i < MAX_TRACKED; i++)
    g_assert_cmpint (freed_per_item[i], <=, 1);
}

static gpointer
item (guint index)
{
  return GUINT_TO_POINTER (index);
}

static void
assert_pop (FsQueue *queue,
            guint    expected)
{
  g_autoptr(GError) error = NULL;
  gpointer popped = item (999);

  g_assert_cmpint (_fs_queue_pop (queue, &popped, -1, NULL, &error), ==, FS_WAIT_OK);
  g_assert_no_error (error);
  g_assert_true (popped == item (expected));
}

/* A pop that takes nothing: @status, no error (only FS_WAIT_FAILED comes
 * with one), and the item left alone. */
static void
assert_pop_status (FsQueue      *queue,
                   gint64        end_time,
                   GCancellable *cancellable,
                   FsWaitStatus  status)
{
  g_autoptr(GError) error = NULL;
  gpointer popped = item (999);

  g_assert_cmpint (status, !=, FS_WAIT_OK);
  g_assert_cmpint (status, !=, FS_WAIT_FAILED);
  g_assert_cmpint (_fs_queue_pop (queue, &popped, end_time, cancellable, &error), ==, status);
  g_assert_no_error (error);
  g_assert_true (popped == item (999));
}

static void
assert_pop_ends (FsQueue *queue)
{
  assert_pop_status (queue, -1, NULL, FS_WAIT_END);
}

static void
assert_pop_closed (FsQueue *queue)
{
  assert_pop_status (queue, -1, NULL, FS_WAIT_CLOSED);
}

/* Runs the current test again in a child process, which must pass within
 * @timeout_seconds: for the cases where a bug would leave a thread that
 * never returns. The limit only turns such a hang into a failure. */
static void
run_in_subprocess (guint timeout_seconds)
{
  g_test_trap_subprocess (NULL, timeout_seconds * G_USEC_PER_SEC,
                          G_TEST_SUBPROCESS_INHERIT_STDERR);
  if (g_test_trap_reached_timeout ())
    g_test_fail_printf ("the child process did not finish within %u s", timeout_seconds);
  else if (!g_test_trap_has_passed ())
    g_test_fail_printf ("the child process failed: its messages are above");
}

/* Synchronous use. */

static void
test_queue_order (void)
{
  g_autoptr(GError) error = NULL;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (100, count_free);
  g_assert_cmpuint (_fs_queue_capacity (queue), ==, 100);

  /* Below the capacity no push waits; NULL (item 0) is an item. */
  for (guint i = 0; i < 50; i++)
    {
      g_assert_true (_fs_queue_push (queue, item (i), &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < 50; i++)
    assert_pop (queue, i);

  _fs_queue_end (queue, NULL);
  assert_pop_ends (queue);
  assert_pop_ends (queue);
  g_assert_false (_fs_queue_is_closed (queue));

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_items_before_end (void)
{
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (8, count_free);
  g_assert_true (_fs_queue_push (queue, item (0), NULL));
  g_assert_true (_fs_queue_push (queue, item (1), NULL));
  _fs_queue_end (queue, NULL);

  /* The end waits behind the items. */
  assert_pop (queue, 0);
  assert_pop (queue, 1);
  assert_pop_ends (queue);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_end_with_error (void)
{
  g_autoptr(GError) failure = g_error_new_literal (TEST_ERROR, 5, "boom");
  g_autoptr(GError) error = NULL;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (8, count_free);
  g_assert_true (_fs_queue_push (queue, item (3), NULL));
  g_assert_true (_fs_queue_push (queue, item (4), NULL));
  _fs_queue_end (queue, failure);

  /* A copy: the caller's error is the caller's. */
  g_clear_error (&failure);

  assert_pop (queue, 3);
  assert_pop (queue, 4);
  for (guint i = 0; i < 3; i++)
    {
      gpointer popped = item (999);

      g_assert_cmpint (_fs_queue_pop (queue, &popped, -1, NULL, &error), ==, FS_WAIT_FAILED);
      g_assert_error (error, TEST_ERROR, 5);
      g_assert_cmpstr (error->message, ==, "boom");
      g_assert_true (popped == item (999));
      g_clear_error (&error);
    }

  /* Closed wins over the failure too. */
  g_assert_true (_fs_queue_close (queue));
  assert_pop_closed (queue);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_close_frees_items (void)
{
  g_autoptr(GError) error = NULL;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (10, count_free);
  for (guint i = 0; i < 5; i++)
    g_assert_true (_fs_queue_push (queue, item (i), NULL));
  assert_pop (queue, 0);

  g_assert_false (_fs_queue_is_closed (queue));
  g_assert_true (_fs_queue_close (queue));
  g_assert_true (_fs_queue_is_closed (queue));
  g_assert_cmpint (freed_total, ==, 4);
  g_assert_cmpint (freed_per_item[0], ==, 0);
  for (guint i = 1; i < 5; i++)
    g_assert_cmpint (freed_per_item[i], ==, 1);

  /* Only the first close closes. */
  g_assert_false (_fs_queue_close (queue));
  g_assert_cmpint (freed_total, ==, 4);

  /* A push after the close frees its item at once. */
  g_assert_false (_fs_queue_push (queue, item (5), &error));
  g_assert_error (error, FS_ERROR, FS_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_cmpint (freed_per_item[5], ==, 1);

  assert_pop_closed (queue);

  /* Closed wins over ended. */
  _fs_queue_end (queue, NULL);
  assert_pop_closed (queue);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 5);
  assert_freed_at_most_once ();
}

static void
test_queue_unref_frees_items (void)
{
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (10, count_free);
  for (guint i = 0; i < 3; i++)
    g_assert_true (_fs_queue_push (queue, item (i), NULL));

  g_assert_true (_fs_queue_ref (queue) == queue);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 3);
  assert_freed_at_most_once ();

  /* No item_free: nothing to call. */
  queue = _fs_queue_new (10, NULL);
  g_assert_true (_fs_queue_push (queue, item (1), NULL));
  _fs_queue_free_item (queue, item (2));
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 3);
}

/* The bound. */

typedef struct
{
  FsQueue    *queue;
  guint       capacity;
  guint       n_items;    /* G_MAXUINT: until closed */
  gint        requested;
  gint        violations;
  gint        pushed;
  GError     *error;
  FsTestGate  about_to_block;
} Producer;

static void
producer_init (Producer *p,
               FsQueue  *queue,
               guint     n_items)
{
  memset (p, 0, sizeof *p);
  p->queue = queue;
  p->capacity = _fs_queue_capacity (queue);
  p->n_items = n_items;
  fs_test_gate_init (&p->about_to_block);
}

static void
producer_clear (Producer *p)
{
  g_clear_error (&p->error);
  fs_test_gate_clear (&p->about_to_block);
}

/* Pushes 0, 1, ... Push number `capacity` is the first that finds the
 * queue full: the gate opens just before it. After each push the producer
 * checks that fewer than `capacity` items are queued, counting every pop
 * asked for as done. */
static gpointer
produce (gpointer data)
{
  Producer *p = data;

  for (guint i = 0; p->n_items == G_MAXUINT || i < p->n_items; i++)
    {
      gint made = i + 1;

      if ((guint) made == p->capacity)
        fs_test_gate_open (&p->about_to_block);
      if (!_fs_queue_push (p->queue, item (i % MAX_TRACKED), &p->error))
        return NULL;
      g_atomic_int_inc (&p->pushed);
      if (made - g_atomic_int_get (&p->requested) >= (gint) p->capacity)
        g_atomic_int_inc (&p->violations);
    }

  _fs_queue_end (p->queue, NULL);
  return NULL;
}

static void
test_queue_bound (gconstpointer data)
{
  guint capacity = GPOINTER_TO_UINT (data);
  g_autoptr(GError) error = NULL;
  FsQueue *queue;
  Producer p;
  GThread *thread;
  FsWaitStatus status;
  gpointer popped;
  guint i;

  reset_frees ();
  queue = _fs_queue_new (capacity, count_free);
  producer_init (&p, queue, 1000);
  thread = g_thread_new ("producer", produce, &p);

  /* The producer waits in push number `capacity` until this pop. */
  fs_test_gate_wait (&p.about_to_block);
  for (i = 0; ; i++)
    {
      g_atomic_int_inc (&p.requested);
      status = _fs_queue_pop (queue, &popped, -1, NULL, &error);
      if (status != FS_WAIT_OK)
        break;
      g_assert_true (popped == item (i % MAX_TRACKED));
    }
  g_assert_cmpint (status, ==, FS_WAIT_END);
  g_assert_no_error (error);
  g_assert_cmpuint (i, ==, 1000);

  g_thread_join (thread);
  g_assert_no_error (p.error);
  g_assert_cmpint (p.pushed, ==, 1000);
  g_assert_cmpint (p.violations, ==, 0);

  producer_clear (&p);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_bound_exact (gconstpointer data)
{
  guint capacity = GPOINTER_TO_UINT (data);
  FsQueue *queue;
  Producer p;
  GThread *thread;

  reset_frees ();
  queue = _fs_queue_new (capacity, count_free);
  producer_init (&p, queue, G_MAXUINT);
  thread = g_thread_new ("producer", produce, &p);

  /* Nobody pops: push number `capacity` returns only for the close, and
   * the producer, which would go on forever, stops there. */
  fs_test_gate_wait (&p.about_to_block);
  g_assert_true (_fs_queue_close (queue));
  g_thread_join (thread);

  g_assert_cmpint (p.pushed, ==, capacity - 1);
  g_assert_error (p.error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_cmpint (freed_total, ==, capacity);
  g_assert_cmpint (p.violations, ==, 0);

  producer_clear (&p);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, capacity);
}

static void
test_queue_capacity_max (void)
{
  FsQueue *queue;

  reset_frees ();

  /* Nothing is allocated for the capacity, and no push waits. */
  queue = _fs_queue_new (G_MAXUINT, count_free);
  g_assert_cmpuint (_fs_queue_capacity (queue), ==, G_MAXUINT);
  for (guint i = 0; i < 10000; i++)
    g_assert_true (_fs_queue_push (queue, item (i % MAX_TRACKED), NULL));
  for (guint i = 0; i < 9990; i++)
    assert_pop (queue, i % MAX_TRACKED);

  _fs_queue_end (queue, NULL);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 10);
}

/* Waking blocked threads. */

typedef struct
{
  FsQueue      *queue;
  GCancellable *cancellable;
  FsTestGate   *all_about_to_wait;
  gint         *n_about;
  gint          n_total;
  FsWaitStatus  status;
  gpointer      item;
  GError       *error;
} Popper;

static gpointer
pop_once (gpointer data)
{
  Popper *p = data;

  if (g_atomic_int_add (p->n_about, 1) + 1 == p->n_total)
    fs_test_gate_open (p->all_about_to_wait);
  p->item = item (999);
  p->status = _fs_queue_pop (p->queue, &p->item, -1, p->cancellable, &p->error);
  return NULL;
}

typedef enum
{
  WAKE_BY_END,
  WAKE_BY_END_WITH_ERROR,
  WAKE_BY_CLOSE,
} WakeBy;

static void
test_queue_wakes_consumers (gconstpointer data)
{
  WakeBy how = GPOINTER_TO_INT (data);
  g_autoptr(GError) failure = g_error_new_literal (TEST_ERROR, 6, "gone");
  Popper poppers[3];
  GThread *threads[3];
  FsTestGate gate;
  gint n_about = 0;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (1, count_free);
  fs_test_gate_init (&gate);
  for (guint i = 0; i < G_N_ELEMENTS (poppers); i++)
    {
      memset (&poppers[i], 0, sizeof poppers[i]);
      poppers[i].queue = queue;
      poppers[i].all_about_to_wait = &gate;
      poppers[i].n_about = &n_about;
      poppers[i].n_total = G_N_ELEMENTS (poppers);
      threads[i] = g_thread_new ("popper", pop_once, &poppers[i]);
    }

  /* Waiting or about to: the outcome is the same. */
  fs_test_gate_wait (&gate);
  switch (how)
    {
    case WAKE_BY_END:
      _fs_queue_end (queue, NULL);
      break;
    case WAKE_BY_END_WITH_ERROR:
      _fs_queue_end (queue, failure);
      break;
    case WAKE_BY_CLOSE:
      g_assert_true (_fs_queue_close (queue));
      break;
    default:
      g_assert_not_reached ();
    }

  for (guint i = 0; i < G_N_ELEMENTS (poppers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_true (poppers[i].item == item (999));
      switch (how)
        {
        case WAKE_BY_END:
          g_assert_cmpint (poppers[i].status, ==, FS_WAIT_END);
          g_assert_no_error (poppers[i].error);
          break;
        case WAKE_BY_END_WITH_ERROR:
          g_assert_cmpint (poppers[i].status, ==, FS_WAIT_FAILED);
          g_assert_error (poppers[i].error, TEST_ERROR, 6);
          break;
        case WAKE_BY_CLOSE:
          g_assert_cmpint (poppers[i].status, ==, FS_WAIT_CLOSED);
          g_assert_no_error (poppers[i].error);
          break;
        default:
          g_assert_not_reached ();
        }
      g_clear_error (&poppers[i].error);
    }

  fs_test_gate_clear (&gate);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_close_wakes_producer (void)
{
  FsQueue *queue;
  Producer p;
  GThread *thread;

  reset_frees ();
  queue = _fs_queue_new (1, count_free);
  producer_init (&p, queue, G_MAXUINT);
  thread = g_thread_new ("producer", produce, &p);

  fs_test_gate_wait (&p.about_to_block);
  g_assert_true (_fs_queue_close (queue));
  g_thread_join (thread);

  /* The item the producer waited behind was freed once, by the close. */
  g_assert_cmpint (p.pushed, ==, 0);
  g_assert_error (p.error, FS_ERROR, FS_ERROR_CLOSED);
  g_assert_cmpint (freed_total, ==, 1);
  g_assert_cmpint (freed_per_item[0], ==, 1);

  producer_clear (&p);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 1);
}

static void
test_queue_pop_already_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  FsQueue *queue;

  if (!g_test_subprocess ())
    {
      run_in_subprocess (30);
      return;
    }

  reset_frees ();
  queue = _fs_queue_new (2, count_free);
  cancellable = g_cancellable_new ();
  g_cancellable_cancel (cancellable);

  /* Nothing queued, and the cancellable fired before the call: the pop
   * does not wait at all. */
  assert_pop_status (queue, -1, cancellable, FS_WAIT_CANCELLED);
  g_assert_false (_fs_queue_is_closed (queue));

  /* An item queued: a cancelled pop does not take it either, nor do the
   * ends of the stream change that. */
  g_assert_true (_fs_queue_push (queue, item (1), NULL));
  assert_pop_status (queue, -1, cancellable, FS_WAIT_CANCELLED);
  _fs_queue_end (queue, NULL);
  assert_pop_status (queue, -1, cancellable, FS_WAIT_CANCELLED);
  g_assert_cmpint (freed_total, ==, 0);
  assert_pop (queue, 1);
  assert_pop_ends (queue);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_pop_cancelled (void)
{
  g_autoptr(GCancellable) cancellable = NULL;
  FsQueue *queue;
  Popper popper = { 0 };
  GThread *thread;
  FsTestGate gate;
  gint n_about = 0;

  /* The cancellation may come before the pop starts waiting: in a child,
   * so that a pop that never returns fails this test alone. */
  if (!g_test_subprocess ())
    {
      run_in_subprocess (30);
      return;
    }

  reset_frees ();
  cancellable = g_cancellable_new ();
  queue = _fs_queue_new (2, count_free);
  fs_test_gate_init (&gate);
  popper.queue = queue;
  popper.cancellable = cancellable;
  popper.all_about_to_wait = &gate;
  popper.n_about = &n_about;
  popper.n_total = 1;
  thread = g_thread_new ("popper", pop_once, &popper);

  fs_test_gate_wait (&gate);
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  g_assert_cmpint (popper.status, ==, FS_WAIT_CANCELLED);
  g_assert_no_error (popper.error);
  g_assert_true (popper.item == item (999));

  g_assert_false (_fs_queue_is_closed (queue));

  /* The queue goes on. */
  g_assert_true (_fs_queue_push (queue, item (1), NULL));
  assert_pop (queue, 1);

  fs_test_gate_clear (&gate);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

/* Deadlines and interrupt descriptors. */

static void
test_queue_pop_timeout (void)
{
  gint64 end_time;
  FsQueue *queue;

  if (!g_test_subprocess ())
    {
      run_in_subprocess (30);
      return;
    }

  reset_frees ();
  queue = _fs_queue_new (4, count_free);

  /* Nothing queued: a deadline that has passed answers at once, a later
   * one is waited for, never less. Neither is an error. */
  assert_pop_status (queue, g_get_monotonic_time (), NULL, FS_WAIT_TIMED_OUT);
  assert_pop_status (queue, 0, NULL, FS_WAIT_TIMED_OUT);
  end_time = g_get_monotonic_time () + 2000;
  assert_pop_status (queue, end_time, NULL, FS_WAIT_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time (), >=, end_time);

  /* What is ready is taken whatever the deadline; the end too. */
  g_assert_true (_fs_queue_push (queue, item (2), NULL));
  g_assert_true (_fs_queue_push (queue, item (0), NULL));
  {
    g_autoptr(GError) error = NULL;
    gpointer popped = item (999);

    g_assert_cmpint (_fs_queue_pop (queue, &popped, 0, NULL, &error), ==, FS_WAIT_OK);
    g_assert_no_error (error);
    g_assert_true (popped == item (2));
  }
  assert_pop (queue, 0);
  _fs_queue_end (queue, NULL);
  assert_pop_status (queue, 0, NULL, FS_WAIT_END);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

typedef struct
{
  FsQueue      *queue;
  int           interrupt_fd;
  FsTestGate    about_to_pop;
  FsWaitStatus  status;
  gpointer      item;
  GError       *error;
} Interrupted;

static gpointer
pop_interrupted (gpointer data)
{
  Interrupted *in = data;

  g_assert_cmpint (fs_wait_set_interrupt_fd (in->interrupt_fd), ==, -1);
  fs_test_gate_open (&in->about_to_pop);
  in->item = item (999);
  in->status = _fs_queue_pop (in->queue, &in->item, -1, NULL, &in->error);
  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, in->interrupt_fd);
  return NULL;
}

static void
test_queue_pop_interrupted (void)
{
  Interrupted in = { 0 };
  GThread *thread;
  FsQueue *queue;
  int fds[2];

  if (!g_test_subprocess ())
    {
      run_in_subprocess (30);
      return;
    }

  reset_frees ();
  queue = _fs_queue_new (2, count_free);
  g_assert_cmpint (pipe (fds), ==, 0);

  /* The descriptor becomes readable while the pop waits, or before it
   * sleeps: either way it ends, taking nothing. */
  in.queue = queue;
  in.interrupt_fd = fds[0];
  fs_test_gate_init (&in.about_to_pop);
  thread = g_thread_new ("interrupted", pop_interrupted, &in);
  fs_test_gate_wait (&in.about_to_pop);
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  g_thread_join (thread);
  g_assert_cmpint (in.status, ==, FS_WAIT_INTERRUPTED);
  g_assert_no_error (in.error);
  g_assert_true (in.item == item (999));

  /* Readable already: this thread's pop does not sleep at all, but one
   * that finds an item takes it without looking at the descriptor. */
  g_assert_cmpint (fs_wait_set_interrupt_fd (fds[0]), ==, -1);
  assert_pop_status (queue, -1, NULL, FS_WAIT_INTERRUPTED);
  g_assert_true (_fs_queue_push (queue, item (3), NULL));
  assert_pop (queue, 3);
  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, fds[0]);

  /* Without it the queue goes on as before. */
  g_assert_true (_fs_queue_push (queue, item (4), NULL));
  assert_pop (queue, 4);
  _fs_queue_end (queue, NULL);
  assert_pop_ends (queue);

  close (fds[0]);
  close (fds[1]);
  fs_test_gate_clear (&in.about_to_pop);
  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

/* Many consumers. */

#define N_MANY 100000

typedef struct
{
  FsQueue *queue;
  gint    *seen;
  gint    *requested;
  guint64  sum;
  guint    count;
  gboolean in_order;
  FsWaitStatus status;
  GError  *error;
} Consumer;

static gpointer
consume_all (gpointer data)
{
  Consumer *c = data;
  gint64 last = -1;
  gpointer popped;

  c->in_order = TRUE;
  for (;;)
    {
      guint index;

      g_atomic_int_inc (c->requested);
      c->status = _fs_queue_pop (c->queue, &popped, -1, NULL, &c->error);
      if (c->status != FS_WAIT_OK)
        break;
      index = GPOINTER_TO_UINT (popped);
      g_assert_cmpuint (index, <, N_MANY);
      g_atomic_int_inc (&c->seen[index]);
      if ((gint64) index <= last)
        c->in_order = FALSE;
      last = index;
      c->sum += index;
      c->count++;
    }

  return NULL;
}

typedef struct
{
  FsQueue *queue;
  gint    *requested;
  gint     violations;
} ManyProducer;

static gpointer
produce_many (gpointer data)
{
  ManyProducer *p = data;
  guint capacity = _fs_queue_capacity (p->queue);

  for (guint i = 0; i < N_MANY; i++)
    {
      gint made = i + 1;

      g_assert_true (_fs_queue_push (p->queue, item (i), NULL));
      if (made - g_atomic_int_get (p->requested) >= (gint) capacity)
        g_atomic_int_inc (&p->violations);
    }
  _fs_queue_end (p->queue, NULL);

  return NULL;
}

static void
test_queue_many_consumers (void)
{
  g_autofree gint *seen = g_new0 (gint, N_MANY);
  Consumer consumers[4];
  GThread *threads[4];
  ManyProducer producer = { 0 };
  GThread *producer_thread;
  gint requested = 0;
  guint64 sum = 0;
  guint count = 0;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (16, count_free);
  for (guint i = 0; i < G_N_ELEMENTS (consumers); i++)
    {
      memset (&consumers[i], 0, sizeof consumers[i]);
      consumers[i].queue = queue;
      consumers[i].seen = seen;
      consumers[i].requested = &requested;
      threads[i] = g_thread_new ("consumer", consume_all, &consumers[i]);
    }
  producer.queue = queue;
  producer.requested = &requested;
  producer_thread = g_thread_new ("producer", produce_many, &producer);

  g_thread_join (producer_thread);
  for (guint i = 0; i < G_N_ELEMENTS (consumers); i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpint (consumers[i].status, ==, FS_WAIT_END);
      g_assert_no_error (consumers[i].error);
      g_assert_true (consumers[i].in_order);
      sum += consumers[i].sum;
      count += consumers[i].count;
    }

  g_assert_cmpuint (count, ==, N_MANY);
  g_assert_cmpuint (sum, ==, (guint64) N_MANY * (N_MANY - 1) / 2);
  for (guint i = 0; i < N_MANY; i++)
    g_assert_cmpint (seen[i], ==, 1);
  g_assert_cmpint (producer.violations, ==, 0);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

/* Asynchronous pops. */

typedef struct
{
  gboolean  done;
  FsWaitStatus status;
  gboolean  finish;    /* FALSE: the callback does not call pop_finish */
  gboolean  want_item; /* FALSE: pop_finish without a place for the item */
  gpointer  item;
  GError   *error;
  GThread  *thread;
  gpointer  tag;
} PopResult;

static void
pop_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      data)
{
  PopResult *r = data;

  g_assert_false (r->done);
  r->tag = g_task_get_source_tag (G_TASK (result));
  r->thread = g_thread_self ();
  if (r->finish)
    r->status = _fs_queue_pop_finish (result, r->want_item ? &r->item : NULL, &r->error);
  r->done = TRUE;
}

static char pop_tag;

static void
pop_async (FsQueue      *queue,
           GCancellable *cancellable,
           PopResult    *r)
{
  memset (r, 0, sizeof *r);
  r->finish = TRUE;
  r->want_item = TRUE;
  r->item = item (999);
  _fs_queue_pop_async (queue, NULL, &pop_tag, "pop_async", cancellable, pop_cb, r);
}

/* A pop completed from this thread has its callback pending in the main
 * context when the call that completed it returns: running what is ready,
 * without waiting, delivers it. So a request left pending by mistake fails
 * the test instead of blocking it. Requests completed from another thread
 * are waited for with fs_test_iterate_until() first. */
static void
run_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
wait_done (PopResult *r)
{
  if (!r->done)
    run_pending ();
  g_assert_true (r->done);
}

static void
assert_popped_async (PopResult *r,
                     guint      expected)
{
  wait_done (r);
  g_assert_true (r->thread == g_thread_self ());
  g_assert_true (r->tag == &pop_tag);
  g_assert_no_error (r->error);
  g_assert_cmpint (r->status, ==, FS_WAIT_OK);
  g_assert_true (r->item == item (expected));
}

/* The generator's error: the only outcome with a GError. */
static void
assert_async_fails (PopResult *r,
                    GQuark     domain,
                    gint       code)
{
  wait_done (r);
  g_assert_true (r->thread == g_thread_self ());
  g_assert_cmpint (r->status, ==, FS_WAIT_FAILED);
  g_assert_error (r->error, domain, code);
  g_assert_true (r->item == item (999));
  g_clear_error (&r->error);
}

/* Any other outcome that takes nothing. */
static void
assert_async_status (PopResult    *r,
                     FsWaitStatus  status)
{
  wait_done (r);
  g_assert_true (r->thread == g_thread_self ());
  g_assert_cmpint (r->status, ==, status);
  g_assert_no_error (r->error);
  g_assert_true (r->item == item (999));
}

static void
assert_async_ends (PopResult *r)
{
  assert_async_status (r, FS_WAIT_END);
}

static void
test_queue_pop_async (void)
{
  PopResult r[3];
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (10, count_free);
  g_assert_true (_fs_queue_push (queue, item (0), NULL));
  g_assert_true (_fs_queue_push (queue, item (1), NULL));

  pop_async (queue, NULL, &r[0]);
  pop_async (queue, NULL, &r[1]);
  assert_popped_async (&r[0], 0);
  assert_popped_async (&r[1], 1);

  /* The end, while waiting and after. */
  pop_async (queue, NULL, &r[2]);
  run_pending ();
  g_assert_false (r[2].done);
  _fs_queue_end (queue, NULL);
  assert_async_ends (&r[2]);
  pop_async (queue, NULL, &r[2]);
  assert_async_ends (&r[2]);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_pop_async_end_with_error (void)
{
  g_autoptr(GError) failure = g_error_new_literal (TEST_ERROR, 8, "broken");
  PopResult r;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (1, count_free);

  pop_async (queue, NULL, &r);
  run_pending ();
  g_assert_false (r.done);
  _fs_queue_end (queue, failure);
  assert_async_fails (&r, TEST_ERROR, 8);

  pop_async (queue, NULL, &r);
  assert_async_fails (&r, TEST_ERROR, 8);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_pop_async_before_push (void)
{
  PopResult r[2];
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (1, count_free);
  pop_async (queue, NULL, &r[0]);
  pop_async (queue, NULL, &r[1]);

  run_pending ();
  g_assert_false (r[0].done);
  g_assert_false (r[1].done);

  /* Each push hands its item to the request that came first. With
   * capacity 1, a push that queued its item would wait for a pop: these
   * return at once because the items never enter the queue. */
  g_assert_true (_fs_queue_push (queue, item (0), NULL));
  g_assert_true (_fs_queue_push (queue, item (1), NULL));
  assert_popped_async (&r[0], 0);
  assert_popped_async (&r[1], 1);

  /* Nothing was queued: the close finds nothing to free. */
  g_assert_true (_fs_queue_close (queue));
  g_assert_cmpint (freed_total, ==, 0);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

typedef struct
{
  FsQueue *queue;
  guint    n_items;
} AsyncFeeder;

static gpointer
feed (gpointer data)
{
  AsyncFeeder *f = data;

  for (guint i = 0; i < f->n_items; i++)
    g_assert_true (_fs_queue_push (f->queue, item (i), NULL));
  _fs_queue_end (f->queue, NULL);

  return NULL;
}

static void
test_queue_pop_async_from_producer_thread (void)
{
  AsyncFeeder feeder;
  PopResult r[4];
  GThread *thread;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (1, count_free);
  for (guint i = 0; i < G_N_ELEMENTS (r); i++)
    pop_async (queue, NULL, &r[i]);

  /* Handed over on the producer's thread, delivered on this one, in the
   * order asked. */
  feeder.queue = queue;
  feeder.n_items = 3;
  thread = g_thread_new ("feeder", feed, &feeder);
  for (guint i = 0; i < 3; i++)
    {
      fs_test_iterate_until (&r[i].done);
      assert_popped_async (&r[i], i);
    }
  fs_test_iterate_until (&r[3].done);
  assert_async_ends (&r[3]);
  g_thread_join (thread);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_pop_async_close (void)
{
  PopResult r[2];
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (1, count_free);
  pop_async (queue, NULL, &r[0]);
  pop_async (queue, NULL, &r[1]);
  run_pending ();
  g_assert_false (r[0].done);

  g_assert_true (_fs_queue_close (queue));
  assert_async_status (&r[0], FS_WAIT_CLOSED);
  assert_async_status (&r[1], FS_WAIT_CLOSED);

  pop_async (queue, NULL, &r[0]);
  assert_async_status (&r[0], FS_WAIT_CLOSED);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

static void
test_queue_pop_async_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  PopResult r;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (2, count_free);

  /* Cancelled while pending. */
  pop_async (queue, cancellable, &r);
  run_pending ();
  g_assert_false (r.done);
  g_cancellable_cancel (cancellable);
  assert_async_status (&r, FS_WAIT_CANCELLED);

  /* Cancelled before, with nothing queued. */
  pop_async (queue, cancellable, &r);
  assert_async_status (&r, FS_WAIT_CANCELLED);

  /* The cancelled requests are gone: the next item is queued, not handed
   * to them, and a later pop gets it. */
  g_assert_true (_fs_queue_push (queue, item (4), NULL));

  /* Cancelled before, with an item queued: it takes nothing. */
  pop_async (queue, cancellable, &r);
  assert_async_status (&r, FS_WAIT_CANCELLED);
  g_assert_cmpint (freed_total, ==, 0);
  assert_pop (queue, 4);

  /* A request can be cancelled and the queue used again. */
  g_cancellable_reset (cancellable);
  pop_async (queue, cancellable, &r);
  g_assert_true (_fs_queue_push (queue, item (5), NULL));
  assert_popped_async (&r, 5);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 0);
}

typedef struct
{
  FsQueue      *queue;
  GCancellable *cancellable;
  FsTestGate   *gate;
} CancelRace;

static gpointer
cancel_racer (gpointer data)
{
  CancelRace *race = data;

  fs_test_gate_wait (race->gate);
  g_cancellable_cancel (race->cancellable);
  return NULL;
}

static gpointer
push_racer (gpointer data)
{
  CancelRace *race = data;

  fs_test_gate_wait (race->gate);
  g_assert_true (_fs_queue_push (race->queue, item (6), NULL));
  return NULL;
}

static void
test_queue_pop_async_cancel_race (void)
{
  guint got_item = 0, got_cancelled = 0;

  reset_frees ();

  /* The cancellation, on another thread, races the push: the request ends
   * either with the item or cancelled, and then the item is still queued.
   * Never both, never neither: the item is not lost or delivered twice. */
  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      FsTestGate gate;
      CancelRace race;
      GThread *canceller, *pusher;
      PopResult r;

      fs_test_gate_init (&gate);
      race.queue = _fs_queue_new (2, count_free);
      race.cancellable = cancellable;
      race.gate = &gate;

      pop_async (race.queue, cancellable, &r);
      canceller = g_thread_new ("canceller", cancel_racer, &race);
      pusher = g_thread_new ("pusher", push_racer, &race);
      fs_test_gate_open (&gate);
      g_thread_join (canceller);
      g_thread_join (pusher);

      wait_done (&r);
      if (r.status == FS_WAIT_OK)
        {
          assert_popped_async (&r, 6);
          got_item++;
        }
      else
        {
          assert_async_status (&r, FS_WAIT_CANCELLED);
          assert_pop (race.queue, 6);
          got_cancelled++;
        }

      /* Whatever came late finds nothing to do. */
      run_pending ();
      g_assert_cmpint (freed_total, ==, 0);
      _fs_queue_unref (race.queue);
      g_assert_cmpint (freed_total, ==, 0);
      fs_test_gate_clear (&gate);
    }

  g_test_message ("%u requests got the item, %u were cancelled", got_item, got_cancelled);
}

static void
test_queue_pop_async_finish_frees (void)
{
  PopResult r;
  FsQueue *queue;

  reset_frees ();
  queue = _fs_queue_new (4, count_free);

  /* pop_finish() with no place for the item frees it. */
  g_assert_true (_fs_queue_push (queue, item (7), NULL));
  pop_async (queue, NULL, &r);
  r.want_item = FALSE;
  wait_done (&r);
  g_assert_cmpint (r.status, ==, FS_WAIT_OK);
  g_assert_cmpint (freed_total, ==, 1);
  g_assert_cmpint (freed_per_item[7], ==, 1);

  /* A result never finished frees its item with the task. */
  g_assert_true (_fs_queue_push (queue, item (8), NULL));
  pop_async (queue, NULL, &r);
  r.finish = FALSE;
  wait_done (&r);
  g_assert_cmpint (freed_total, ==, 2);
  g_assert_cmpint (freed_per_item[8], ==, 1);

  /* The same for an item handed to a waiting request. */
  pop_async (queue, NULL, &r);
  r.finish = FALSE;
  g_assert_true (_fs_queue_push (queue, item (9), NULL));
  wait_done (&r);
  g_assert_cmpint (freed_total, ==, 3);
  g_assert_cmpint (freed_per_item[9], ==, 1);

  _fs_queue_unref (queue);
  g_assert_cmpint (freed_total, ==, 3);
  assert_freed_at_most_once ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/queue/order", test_queue_order);
  g_test_add_func ("/queue/items-before-end", test_queue_items_before_end);
  g_test_add_func ("/queue/end-with-error", test_queue_end_with_error);
  g_test_add_func ("/queue/close-frees-items", test_queue_close_frees_items);
  g_test_add_func ("/queue/unref-frees-items", test_queue_unref_frees_items);
  g_test_add_data_func ("/queue/bound/1", GUINT_TO_POINTER (1), test_queue_bound);
  g_test_add_data_func ("/queue/bound/3", GUINT_TO_POINTER (3), test_queue_bound);
  g_test_add_data_func ("/queue/bound-exact/1", GUINT_TO_POINTER (1), test_queue_bound_exact);
  g_test_add_data_func ("/queue/bound-exact/5", GUINT_TO_POINTER (5), test_queue_bound_exact);
  g_test_add_func ("/queue/capacity-max", test_queue_capacity_max);
  g_test_add_data_func ("/queue/wakes-consumers/end", GINT_TO_POINTER (WAKE_BY_END), test_queue_wakes_consumers);
  g_test_add_data_func ("/queue/wakes-consumers/end-with-error", GINT_TO_POINTER (WAKE_BY_END_WITH_ERROR), test_queue_wakes_consumers);
  g_test_add_data_func ("/queue/wakes-consumers/close", GINT_TO_POINTER (WAKE_BY_CLOSE), test_queue_wakes_consumers);
  g_test_add_func ("/queue/close-wakes-producer", test_queue_close_wakes_producer);
  g_test_add_func ("/queue/pop-already-cancelled", test_queue_pop_already_cancelled);
  g_test_add_func ("/queue/pop-cancelled", test_queue_pop_cancelled);
  g_test_add_func ("/queue/pop-timeout", test_queue_pop_timeout);
  g_test_add_func ("/queue/pop-interrupted", test_queue_pop_interrupted);
  g_test_add_func ("/queue/many-consumers", test_queue_many_consumers);
  g_test_add_func ("/queue/pop-async", test_queue_pop_async);
  g_test_add_func ("/queue/pop-async/end-with-error", test_queue_pop_async_end_with_error);
  g_test_add_func ("/queue/pop-async/before-push", test_queue_pop_async_before_push);
  g_test_add_func ("/queue/pop-async/from-producer-thread", test_queue_pop_async_from_producer_thread);
  g_test_add_func ("/queue/pop-async/close", test_queue_pop_async_close);
  g_test_add_func ("/queue/pop-async/cancel", test_queue_pop_async_cancel);
  g_test_add_func ("/queue/pop-async/cancel-race", test_queue_pop_async_cancel_race);
  g_test_add_func ("/queue/pop-async/finish-frees", test_queue_pop_async_finish_frees);

  return g_test_run ();
}
