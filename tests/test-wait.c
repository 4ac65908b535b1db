/* test-wait.c: the wait unit and the spin unit, white-box
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <glib-unix.h>

#include "fs-cpus.h"
#include "fs-spin-private.h"
#include "fs-wait-private.h"

/* One condition under a mutex, as an owner of a wait list has it. */
typedef struct
{
  GMutex      mutex;
  FsWaitList  list;
  guint       tokens;      /* what sleepers wait for */
  guint       taken;
  guint       sleeping;    /* threads inside their wait loop */
  GCond       sleeping_cond;
} Owner;

static void
owner_init (Owner *owner)
{
  g_mutex_init (&owner->mutex);
  _fs_wait_list_init (&owner->list);
  g_cond_init (&owner->sleeping_cond);
  owner->tokens = owner->taken = owner->sleeping = 0;
}

static void
owner_clear (Owner *owner)
{
  g_assert_true (_fs_wait_list_is_empty (&owner->list));
  g_mutex_clear (&owner->mutex);
  g_cond_clear (&owner->sleeping_cond);
}

/* Waits for a token: the pattern of every caller of the unit. */
static FsWaitStatus
take_token (Owner        *owner,
            gint64        end_time,
            GCancellable *cancellable)
{
  FsWaitStatus status = FS_WAIT_OK;
  FsWait wait;

  _fs_wait_init (&wait, &owner->mutex, end_time, cancellable);
  g_mutex_lock (&owner->mutex);
  owner->sleeping++;
  g_cond_broadcast (&owner->sleeping_cond);
  while (owner->tokens == 0)
    {
      status = _fs_wait_sleep (&wait, &owner->list);
      if (status != FS_WAIT_OK)
        break;
    }
  if (status == FS_WAIT_OK)
    {
      owner->tokens--;
      owner->taken++;
    }
  owner->sleeping--;
  g_mutex_unlock (&owner->mutex);
  _fs_wait_clear (&wait);

  return status;
}

/* Until @n threads sleep on the list itself. */
static void
wait_for_sleepers (Owner *owner,
                   guint  n)
{
  g_mutex_lock (&owner->mutex);
  while (_fs_wait_list_length (&owner->list) < n)
    {
      g_mutex_unlock (&owner->mutex);
      g_thread_yield ();
      g_mutex_lock (&owner->mutex);
    }
  g_mutex_unlock (&owner->mutex);
}

static gpointer
taker_thread (gpointer data)
{
  return GINT_TO_POINTER (take_token (data, -1, NULL));
}

static void
test_wake_one_wakes_exactly_one (void)
{
  Owner owner;
  GThread *threads[4];

  owner_init (&owner);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("taker", taker_thread, &owner);
  wait_for_sleepers (&owner, G_N_ELEMENTS (threads));

  /* One token, one wake: exactly one thread leaves the list. */
  g_mutex_lock (&owner.mutex);
  owner.tokens = 1;
  g_assert_true (_fs_wait_list_wake_one (&owner.list));
  g_assert_cmpuint (_fs_wait_list_length (&owner.list), ==, 3);
  g_mutex_unlock (&owner.mutex);

  /* The rest, all at once. */
  g_mutex_lock (&owner.mutex);
  while (owner.taken < 1)
    {
      g_mutex_unlock (&owner.mutex);
      g_thread_yield ();
      g_mutex_lock (&owner.mutex);
    }
  owner.tokens = 3;
  _fs_wait_list_wake_all (&owner.list);
  g_assert_true (_fs_wait_list_is_empty (&owner.list));
  g_assert_false (_fs_wait_list_wake_one (&owner.list));
  g_mutex_unlock (&owner.mutex);

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (threads[i])), ==, FS_WAIT_OK);
  g_assert_cmpuint (owner.taken, ==, 4);
  g_assert_cmpuint (owner.tokens, ==, 0);
  owner_clear (&owner);
}

static void
test_timeout (void)
{
  Owner owner;
  gint64 start, end_time;

  owner_init (&owner);
  g_assert_cmpint (take_token (&owner, g_get_monotonic_time (), NULL), ==, FS_WAIT_TIMED_OUT);

  start = g_get_monotonic_time ();
  end_time = start + 20000;
  g_assert_cmpint (take_token (&owner, end_time, NULL), ==, FS_WAIT_TIMED_OUT);
  /* Never before the deadline. */
  g_assert_cmpint (g_get_monotonic_time (), >=, end_time);
  g_assert_cmpuint (owner.taken, ==, 0);
  owner_clear (&owner);
}

static gpointer
cancel_when_sleeping (gpointer data)
{
  gpointer *args = data;

  wait_for_sleepers (args[0], 1);
  g_cancellable_cancel (args[1]);
  return NULL;
}

static void
test_cancel (void)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Owner owner;
  gpointer args[2];
  GThread *thread;

  owner_init (&owner);
  args[0] = &owner;
  args[1] = cancellable;
  thread = g_thread_new ("canceller", cancel_when_sleeping, args);
  g_assert_cmpint (take_token (&owner, -1, cancellable), ==, FS_WAIT_CANCELLED);
  g_thread_join (thread);

  /* Cancelled before: no sleep at all. */
  g_assert_cmpint (take_token (&owner, -1, cancellable), ==, FS_WAIT_CANCELLED);
  g_assert_cmpint (_fs_wait_check_cancelled (cancellable), ==, FS_WAIT_CANCELLED);
  g_assert_cmpint (_fs_wait_check_cancelled (NULL), ==, FS_WAIT_OK);
  owner_clear (&owner);
}

typedef struct
{
  Owner *owner;
  int    write_fd;
} Interrupter;

static gpointer
write_when_sleeping (gpointer data)
{
  Interrupter *interrupter = data;
  char byte = 'x';

  wait_for_sleepers (interrupter->owner, 1);
  g_assert_cmpint (write (interrupter->write_fd, &byte, 1), ==, 1);
  return NULL;
}

static void
drain (int fd)
{
  char buf[16];

  while (read (fd, buf, sizeof buf) > 0)
    ;
}

static void
test_interrupt_fd (void)
{
  Owner owner;
  Interrupter interrupter;
  GThread *thread;
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[0], TRUE, NULL));
  owner_init (&owner);

  g_assert_cmpint (fs_wait_set_interrupt_fd (fds[0]), ==, -1);

  /* Written while the wait sleeps. */
  interrupter.owner = &owner;
  interrupter.write_fd = fds[1];
  thread = g_thread_new ("interrupter", write_when_sleeping, &interrupter);
  g_assert_cmpint (take_token (&owner, -1, NULL), ==, FS_WAIT_INTERRUPTED);
  g_thread_join (thread);

  /* Readable already: at once, and the wait does not read it. */
  g_assert_cmpint (take_token (&owner, -1, NULL), ==, FS_WAIT_INTERRUPTED);
  drain (fds[0]);

  /* Not readable: a wake still works through the wake pipe. */
  {
    GThread *taker = g_thread_new ("taker", taker_thread, &owner);

    wait_for_sleepers (&owner, 1);
    g_mutex_lock (&owner.mutex);
    owner.tokens = 1;
    _fs_wait_list_wake_one (&owner.list);
    g_mutex_unlock (&owner.mutex);
    g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (taker)), ==, FS_WAIT_OK);
  }

  /* A token ready wins over the descriptor: the wait never sleeps. */
  {
    char byte = 'x';

    g_assert_cmpint (write (fds[1], &byte, 1), ==, 1);
    owner.tokens = 1;
    g_assert_cmpint (take_token (&owner, -1, NULL), ==, FS_WAIT_OK);
    drain (fds[0]);
  }

  /* Timeouts still hold in poll(). */
  g_assert_cmpint (take_token (&owner, g_get_monotonic_time () + 5000, NULL), ==, FS_WAIT_TIMED_OUT);

  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, fds[0]);
  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, -1);
  close (fds[0]);
  close (fds[1]);
  owner_clear (&owner);
}

/* A signal handler that writes a wake-up pipe, as Python's does. */
static int signal_write_fd = -1;

static void
on_signal (int signo)
{
  char byte = (char) signo;

  if (write (signal_write_fd, &byte, 1) < 0)
    return;
}

typedef struct
{
  Owner     *owner;
  pthread_t  target;
} Signaller;

static gpointer
signal_when_sleeping (gpointer data)
{
  Signaller *signaller = data;

  wait_for_sleepers (signaller->owner, 1);
  pthread_kill (signaller->target, SIGUSR1);
  return NULL;
}

static void
test_interrupt_by_signal (void)
{
  struct sigaction action = { 0 }, old_action;
  Signaller signaller;
  Owner owner;
  GThread *thread;
  int fds[2];

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[0], TRUE, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[1], TRUE, NULL));
  signal_write_fd = fds[1];
  action.sa_handler = on_signal;
  sigemptyset (&action.sa_mask);
  g_assert_cmpint (sigaction (SIGUSR1, &action, &old_action), ==, 0);

  owner_init (&owner);
  fs_wait_set_interrupt_fd (fds[0]);
  signaller.owner = &owner;
  signaller.target = pthread_self ();
  thread = g_thread_new ("signaller", signal_when_sleeping, &signaller);
  g_assert_cmpint (take_token (&owner, -1, NULL), ==, FS_WAIT_INTERRUPTED);
  g_thread_join (thread);
  fs_wait_set_interrupt_fd (-1);

  g_assert_cmpint (sigaction (SIGUSR1, &old_action, NULL), ==, 0);
  close (fds[0]);
  close (fds[1]);
  owner_clear (&owner);
}

static gpointer
clear_interrupt_fd (gpointer data)
{
  return GINT_TO_POINTER (fs_wait_set_interrupt_fd (-1));
}

static void
test_interrupt_fd_is_per_thread (void)
{
  g_assert_cmpint (fs_wait_set_interrupt_fd (7), ==, -1);
  /* Another thread has none. */
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (g_thread_new ("other", clear_interrupt_fd, NULL))), ==, -1);
  g_assert_cmpint (fs_wait_set_interrupt_fd (-1), ==, 7);
}

static void
test_end_time (void)
{
  gint64 now = g_get_monotonic_time ();

  g_assert_cmpint (_fs_wait_end_time (-1), ==, -1);
  g_assert_cmpint (_fs_wait_end_time (0), >=, now);
  g_assert_cmpint (_fs_wait_end_time (1000), >=, now + 1000);
  /* Overflow is no limit, not a time in the past. */
  g_assert_cmpint (_fs_wait_end_time (G_MAXINT64), ==, -1);
}

static void
test_spin (void)
{
  FsSpin spin;
  gint64 start;
  guint n = 0;

  /* No budget, or a deadline passed: no spin. */
  _fs_spin_init (&spin, 0, -1);
  g_assert_false (_fs_spin_next (&spin));
  _fs_spin_init (&spin, FS_SPIN_USEC, g_get_monotonic_time () - 1);
  g_assert_false (_fs_spin_next (&spin));

  start = g_get_monotonic_time ();
  _fs_spin_init (&spin, 200, -1);
  while (_fs_spin_next (&spin))
    n++;
  if (_fs_spin_allowed ())
    {
      /* It spun, and it stopped at its budget. */
      g_assert_cmpuint (n, >, 0);
      g_assert_cmpint (g_get_monotonic_time () - start, >=, 200);
    }
  else
    {
      g_assert_cmpuint (n, ==, 0);
    }
  g_assert_false (_fs_spin_next (&spin));
}

static void
test_spin_allowed_follows_total_cpus (void)
{
  g_assert_cmpint (_fs_spin_allowed (), ==, fs_total_cpus () > 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/wait/wake-one-wakes-exactly-one", test_wake_one_wakes_exactly_one);
  g_test_add_func ("/wait/timeout", test_timeout);
  g_test_add_func ("/wait/cancel", test_cancel);
  g_test_add_func ("/wait/interrupt-fd", test_interrupt_fd);
  g_test_add_func ("/wait/interrupt-by-signal", test_interrupt_by_signal);
  g_test_add_func ("/wait/interrupt-fd-is-per-thread", test_interrupt_fd_is_per_thread);
  g_test_add_func ("/wait/end-time", test_end_time);
  g_test_add_func ("/spin/budget", test_spin);
  g_test_add_func ("/spin/allowed-follows-total-cpus", test_spin_allowed_follows_total_cpus);

  return g_test_run ();
}
