/* fs-wait-private.h: how every fsthread wait sleeps and is woken
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fs-wait.h"

G_BEGIN_DECLS

/* The sleepers of one condition (a queue's consumers, its producer, a
 * thread's joiners), under the lock of the object that owns it. */
typedef struct
{
  GQueue sleepers;     /* of FsWait, each linked by its own node */
} FsWaitList;

/* One wait of one thread, on its stack, from _fs_wait_init() to
 * _fs_wait_clear(). */
typedef struct
{
  GMutex        *mutex;
  gint64         end_time;     /* monotonic, or -1 for no limit */
  GCancellable  *cancellable;
  gulong         handler;
  gboolean       connected;
  int            interrupt_fd; /* the thread's, or -1 */
  int            wake_read;    /* the thread's wake pipe, or -1 */
  int            wake_write;
  gboolean       woken;
  GCond          cond;
  GList          node;
  FsWaitList    *list;         /* while sleeping */
} FsWait;

#define FS_WAIT_LIST_INIT { G_QUEUE_INIT }

void          _fs_wait_list_init     (FsWaitList   *list);
gboolean      _fs_wait_list_is_empty (FsWaitList   *list);
guint         _fs_wait_list_length   (FsWaitList   *list);
/* With the owner's lock held. */
gboolean      _fs_wait_list_wake_one (FsWaitList   *list);
void          _fs_wait_list_wake_all (FsWaitList   *list);

/* Without the lock. */
void          _fs_wait_init          (FsWait       *wait,
                                      GMutex       *mutex,
                                      gint64        end_time,
                                      GCancellable *cancellable);
/* With @wait's lock held; returns with it held. Before sleeping it looks
 * at the cancellable, the deadline and the interrupt descriptor. Returns
 * FS_WAIT_OK when woken, or maybe for nothing: the caller looks at its
 * condition again and sleeps again; or FS_WAIT_TIMED_OUT,
 * FS_WAIT_CANCELLED, FS_WAIT_INTERRUPTED: the wait is over. */
FsWaitStatus  _fs_wait_sleep         (FsWait       *wait,
                                      FsWaitList   *list);
/* Without the lock. */
void          _fs_wait_clear         (FsWait       *wait);

/* The status for a wait that has not started: FS_WAIT_CANCELLED when
 * @cancellable is cancelled, else FS_WAIT_OK. */
FsWaitStatus  _fs_wait_check_cancelled (GCancellable *cancellable);

gint64        _fs_wait_end_time      (gint64        timeout_usec);

G_END_DECLS
