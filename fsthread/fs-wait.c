/* fs-wait.c: how every fsthread wait sleeps and is woken
 *
 * A waiting thread puts an FsWait of its own (on its stack) on the wait
 * list of what it waits for, and sleeps; whoever changes that condition
 * wakes one sleeper or all of them, under the owner's lock. A woken wait is
 * taken off the list by the waker, so "wake one" wakes exactly one thread
 * that sleeps, and nobody is woken for nothing.
 *
 * A wait sleeps on a condition variable of its own, unless its thread has
 * an interrupt descriptor (fs_wait_set_interrupt_fd()): then it sleeps in
 * poll() on that descriptor and on a wake pipe of its thread's, so that a
 * binding's signal wake-up descriptor ends the wait at once, however late
 * the signal comes. A cancellable wakes its waits through a handler.
 *
 * Lock order: the owner's lock, then nothing. The cancellable's handler
 * takes the owner's lock; it is connected and disconnected without it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <glib-unix.h>

#include "fs-wait-private.h"

/**
 * fs_wait_set_interrupt_fd:
 * @fd: a file descriptor, or -1 for none
 *
 * Sets the calling thread's interrupt descriptor: from now on, every wait
 * of fsthread on this thread that would sleep ends with
 * %FS_WAIT_INTERRUPTED as soon as @fd is readable (and at once when it is
 * readable already), without taking an item or reaping a thread. The wait
 * does not read from @fd: the caller drains it.
 *
 * This is for bindings whose runtime learns of a signal through a
 * descriptor, such as Python's `signal.set_wakeup_fd()`: the binding sets
 * the read end of its wake-up pipe here around a blocking call on the main
 * thread, so that Ctrl+C ends the call at once and nothing is lost. A wait
 * that finds its item ready does not look at @fd.
 *
 * fsthread never closes @fd; set -1 before closing it.
 *
 * Returns: the descriptor set before, or -1
 *
 * Since: 0.2
 */

typedef struct
{
  int interrupt_fd;
  int wake_pipe[2];   /* read end, write end; -1 until first needed */
} ThreadWaitState;

static void
thread_wait_state_free (gpointer data)
{
  ThreadWaitState *state = data;

  if (state->wake_pipe[0] >= 0)
    {
      close (state->wake_pipe[0]);
      close (state->wake_pipe[1]);
    }
  g_free (state);
}

static GPrivate thread_wait_state = G_PRIVATE_INIT (thread_wait_state_free);

static ThreadWaitState *
get_thread_state (gboolean create)
{
  ThreadWaitState *state = g_private_get (&thread_wait_state);

  if (state == NULL && create)
    {
      state = g_new (ThreadWaitState, 1);
      state->interrupt_fd = -1;
      state->wake_pipe[0] = state->wake_pipe[1] = -1;
      g_private_set (&thread_wait_state, state);
    }
  return state;
}

int
fs_wait_set_interrupt_fd (int fd)
{
  ThreadWaitState *state;
  int old;

  g_return_val_if_fail (fd >= -1, -1);

  state = get_thread_state (fd >= 0);
  if (state == NULL)
    return -1;
  old = state->interrupt_fd;
  state->interrupt_fd = fd;
  return old;
}

/* The wake pipe of the calling thread, made when first needed: -1 when the
 * system refuses one (then the wait sleeps on its condition and only the
 * interrupt descriptor is not watched). */
static int
thread_wake_fd (ThreadWaitState *state)
{
  if (state->wake_pipe[0] < 0)
    {
      int fds[2];

      if (!g_unix_open_pipe (fds, FD_CLOEXEC, NULL))
        return -1;
      if (!g_unix_set_fd_nonblocking (fds[0], TRUE, NULL) ||
          !g_unix_set_fd_nonblocking (fds[1], TRUE, NULL))
        {
          close (fds[0]);
          close (fds[1]);
          return -1;
        }
      state->wake_pipe[0] = fds[0];
      state->wake_pipe[1] = fds[1];
    }
  return state->wake_pipe[0];
}

void
_fs_wait_list_init (FsWaitList *list)
{
  g_queue_init (&list->sleepers);
}

gboolean
_fs_wait_list_is_empty (FsWaitList *list)
{
  return g_queue_is_empty (&list->sleepers);
}

guint
_fs_wait_list_length (FsWaitList *list)
{
  return g_queue_get_length (&list->sleepers);
}

/* With the owner's lock held. */
static void
wake (FsWait *wait)
{
  wait->woken = TRUE;
  if (wait->list != NULL)
    {
      g_queue_unlink (&wait->list->sleepers, &wait->node);
      wait->list = NULL;
    }
  if (wait->wake_write >= 0)
    {
      char byte = 0;

      /* Full means a byte is there already: the sleeper wakes. */
      while (write (wait->wake_write, &byte, 1) < 0 && errno == EINTR)
        ;
    }
  else
    {
      g_cond_signal (&wait->cond);
    }
}

gboolean
_fs_wait_list_wake_one (FsWaitList *list)
{
  GList *node = g_queue_peek_head_link (&list->sleepers);

  if (node == NULL)
    return FALSE;
  wake (node->data);
  return TRUE;
}

void
_fs_wait_list_wake_all (FsWaitList *list)
{
  while (_fs_wait_list_wake_one (list))
    ;
}

gint64
_fs_wait_end_time (gint64 timeout_usec)
{
  gint64 now;

  if (timeout_usec < 0)
    return -1;
  now = g_get_monotonic_time ();
  if (timeout_usec > G_MAXINT64 - now)
    return -1;
  return now + timeout_usec;
}

FsWaitStatus
_fs_wait_check_cancelled (GCancellable *cancellable)
{
  return g_cancellable_is_cancelled (cancellable) ? FS_WAIT_CANCELLED : FS_WAIT_OK;
}

/* On the thread that cancels: wakes the wait if it sleeps. */
static void
on_cancelled (GCancellable *cancellable,
              FsWait       *wait)
{
  g_mutex_lock (wait->mutex);
  if (wait->list != NULL)
    wake (wait);
  g_mutex_unlock (wait->mutex);
}

void
_fs_wait_init (FsWait       *wait,
               GMutex       *mutex,
               gint64        end_time,
               GCancellable *cancellable)
{
  ThreadWaitState *state = get_thread_state (FALSE);

  wait->mutex = mutex;
  wait->end_time = end_time;
  wait->cancellable = cancellable;
  wait->handler = 0;
  wait->connected = FALSE;
  wait->interrupt_fd = state != NULL ? state->interrupt_fd : -1;
  wait->wake_read = wait->wake_write = -1;
  if (wait->interrupt_fd >= 0 && thread_wake_fd (state) >= 0)
    {
      wait->wake_read = state->wake_pipe[0];
      wait->wake_write = state->wake_pipe[1];
    }
  wait->woken = FALSE;
  g_cond_init (&wait->cond);
  wait->node.data = wait;
  wait->node.next = wait->node.prev = NULL;
  wait->list = NULL;
}

static gboolean
fd_is_readable (int fd)
{
  struct pollfd pfd = { fd, POLLIN, 0 };

  return poll (&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

static void
drain_wake_pipe (FsWait *wait)
{
  char buf[64];

  while (read (wait->wake_read, buf, sizeof buf) > 0)
    ;
}

/* poll() on the wake pipe and the interrupt descriptor, the lock
 * released. Returns FALSE when the interrupt descriptor is readable. */
static gboolean
sleep_in_poll (FsWait *wait)
{
  struct pollfd pfds[2] = {
    { wait->wake_read, POLLIN, 0 },
    { wait->interrupt_fd, POLLIN, 0 },
  };
  int timeout_ms = -1;
  gboolean interrupted;

  if (wait->end_time >= 0)
    {
      gint64 left = wait->end_time - g_get_monotonic_time ();

      /* Rounded up: the wait never ends before its deadline. */
      timeout_ms = left <= 0 ? 0 : (int) MIN ((left + 999) / 1000, G_MAXINT);
    }

  g_mutex_unlock (wait->mutex);
  while (poll (pfds, 2, timeout_ms) < 0 && errno == EINTR)
    {
      /* A signal: its handler may have written the interrupt descriptor. */
      if (fd_is_readable (wait->interrupt_fd))
        break;
    }
  interrupted = fd_is_readable (wait->interrupt_fd);
  g_mutex_lock (wait->mutex);

  return !interrupted;
}

FsWaitStatus
_fs_wait_sleep (FsWait     *wait,
                FsWaitList *list)
{
  if (wait->cancellable != NULL && !wait->connected)
    {
      /* Without the lock: the handler takes it, and runs at once when the
       * cancellable is cancelled already. Then the caller looks again. */
      g_mutex_unlock (wait->mutex);
      wait->handler = g_cancellable_connect (wait->cancellable,
                                             G_CALLBACK (on_cancelled), wait, NULL);
      wait->connected = TRUE;
      g_mutex_lock (wait->mutex);
      return g_cancellable_is_cancelled (wait->cancellable) ? FS_WAIT_CANCELLED : FS_WAIT_OK;
    }

  if (g_cancellable_is_cancelled (wait->cancellable))
    return FS_WAIT_CANCELLED;
  if (wait->end_time >= 0 && g_get_monotonic_time () >= wait->end_time)
    return FS_WAIT_TIMED_OUT;

  wait->woken = FALSE;
  wait->list = list;
  g_queue_push_tail_link (&list->sleepers, &wait->node);

  if (wait->wake_read >= 0)
    {
      gboolean interrupted;

      drain_wake_pipe (wait);
      /* Looked at under the lock: a wake before this is not lost, since
       * the wait is on the list and the pipe empty. */
      interrupted = !sleep_in_poll (wait);
      drain_wake_pipe (wait);
      if (wait->list != NULL)
        {
          g_queue_unlink (&list->sleepers, &wait->node);
          wait->list = NULL;
        }
      if (interrupted && !wait->woken)
        return FS_WAIT_INTERRUPTED;
    }
  else if (wait->interrupt_fd >= 0 && fd_is_readable (wait->interrupt_fd))
    {
      /* No wake pipe could be made: the descriptor is looked at before
       * each sleep only. */
      g_queue_unlink (&list->sleepers, &wait->node);
      wait->list = NULL;
      return FS_WAIT_INTERRUPTED;
    }
  else
    {
      if (wait->end_time < 0)
        g_cond_wait (&wait->cond, wait->mutex);
      else
        g_cond_wait_until (&wait->cond, wait->mutex, wait->end_time);
      if (wait->list != NULL)
        {
          g_queue_unlink (&list->sleepers, &wait->node);
          wait->list = NULL;
        }
    }

  if (wait->woken)
    return FS_WAIT_OK;
  if (g_cancellable_is_cancelled (wait->cancellable))
    return FS_WAIT_CANCELLED;
  if (wait->end_time >= 0 && g_get_monotonic_time () >= wait->end_time)
    return FS_WAIT_TIMED_OUT;
  return FS_WAIT_OK;
}

void
_fs_wait_clear (FsWait *wait)
{
  g_assert (wait->list == NULL);

  /* Waits for a handler running on another thread: never under the lock. */
  if (wait->handler != 0)
    g_cancellable_disconnect (wait->cancellable, wait->handler);
  wait->handler = 0;
  wait->connected = FALSE;
  g_cond_clear (&wait->cond);
}
