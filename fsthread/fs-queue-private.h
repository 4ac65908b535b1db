/* fs-queue-private.h: the bounded handoff between a generator and its
 * consumers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "fs-wait.h"

G_BEGIN_DECLS

typedef struct _FsQueue FsQueue;

FsQueue      *_fs_queue_new        (guint                capacity,
                                    GDestroyNotify       item_free);
FsQueue      *_fs_queue_ref        (FsQueue             *self);
void          _fs_queue_unref      (FsQueue             *self);
guint         _fs_queue_capacity   (FsQueue             *self);
void          _fs_queue_free_item  (FsQueue             *self,
                                    gpointer             item);

/* The producers' end (any number of threads). FALSE with FS_ERROR_CLOSED
 * when the consumer closed the queue; the item is freed then. */
gboolean      _fs_queue_push       (FsQueue             *self,
                                    gpointer             item,
                                    GError             **error);
/* Once, after the last push: the end, with the generator's error or NULL. */
gboolean      _fs_queue_push_many  (FsQueue             *self,
                                    gpointer const      *items,
                                    guint                n_items,
                                    GError             **error);
void          _fs_queue_end        (FsQueue             *self,
                                    const GError        *error);

/* The consumers' end: FS_WAIT_OK with an item, FS_WAIT_END,
 * FS_WAIT_FAILED (the generator's error, after every item),
 * FS_WAIT_CLOSED, FS_WAIT_TIMED_OUT, FS_WAIT_CANCELLED,
 * FS_WAIT_INTERRUPTED. @end_time is monotonic, -1 for no limit. */
FsWaitStatus  _fs_queue_pop        (FsQueue             *self,
                                    gpointer            *item,
                                    gint64               end_time,
                                    GCancellable        *cancellable,
                                    GError             **error);
void          _fs_queue_pop_async  (FsQueue             *self,
                                    gpointer             source_object,
                                    gpointer             source_tag,
                                    const char          *name,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
FsWaitStatus  _fs_queue_pop_finish (GAsyncResult        *result,
                                    gpointer            *item,
                                    GError             **error);
/* Returns TRUE for the call that closed the queue. */
gboolean      _fs_queue_close      (FsQueue             *self);
gboolean      _fs_queue_is_closed  (FsQueue             *self);
/* For the map (fs-map.c): the items queued now, and how long a side
 * spins before it sleeps (FS_SPIN_USEC by default). */
guint         _fs_queue_length     (FsQueue             *self);
void          _fs_queue_set_spin_usec (FsQueue          *self,
                                       guint             spin_usec);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FsQueue, _fs_queue_unref)

G_END_DECLS
