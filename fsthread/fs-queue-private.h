/* fs-queue-private.h: the bounded handoff between a generator and its
 * consumers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _FsQueue FsQueue;

FsQueue  *_fs_queue_new        (guint                capacity,
                                GDestroyNotify       item_free);
FsQueue  *_fs_queue_ref        (FsQueue             *self);
void      _fs_queue_unref      (FsQueue             *self);
guint     _fs_queue_capacity   (FsQueue             *self);
void      _fs_queue_free_item  (FsQueue             *self,
                                gpointer             item);

/* The producer's end. */
gboolean  _fs_queue_push       (FsQueue             *self,
                                gpointer             item,
                                GError             **error);
void      _fs_queue_end        (FsQueue             *self,
                                const GError        *error);

/* The consumers' end. */
gboolean  _fs_queue_pop        (FsQueue             *self,
                                gpointer            *item,
                                GCancellable        *cancellable,
                                GError             **error);
gboolean  _fs_queue_pop_until  (FsQueue             *self,
                                gpointer            *item,
                                gint64               end_time,
                                GCancellable        *cancellable,
                                GError             **error);
void      _fs_queue_pop_async  (FsQueue             *self,
                                gpointer             source_object,
                                gpointer             source_tag,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);
gboolean  _fs_queue_pop_finish (GAsyncResult        *result,
                                gpointer            *item,
                                GError             **error);
gboolean  _fs_queue_close      (FsQueue             *self);
gboolean  _fs_queue_is_closed  (FsQueue             *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FsQueue, _fs_queue_unref)

G_END_DECLS
