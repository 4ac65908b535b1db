/* fs-background-generator.h: a generator run ahead on its own thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fs-version-macros.h"
#include "fs-generator.h"
#include "fs-thread.h"
#include "fs-wait.h"

G_BEGIN_DECLS

#define FS_TYPE_BACKGROUND_GENERATOR (fs_background_generator_get_type ())

FS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FsBackgroundGenerator, fs_background_generator, FS, BACKGROUND_GENERATOR, GObject)

FS_AVAILABLE_IN_ALL
FsBackgroundGenerator *fs_background_generator_new               (guint                   prefetch,
                                                                  const char             *name,
                                                                  FsGeneratorFunc         func,
                                                                  gpointer                user_data,
                                                                  GDestroyNotify          user_data_free,
                                                                  GDestroyNotify          item_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
FsBackgroundGenerator *fs_background_generator_new_for_values    (guint                   prefetch,
                                                                  const char             *name,
                                                                  FsGeneratorFunc         func,
                                                                  gpointer                user_data,
                                                                  GDestroyNotify          user_data_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
FsBackgroundGenerator *fs_background_generator_new_for_files     (GFile * const          *files,
                                                                  guint                   n_files,
                                                                  guint                   prefetch) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
const char            *fs_background_generator_get_name          (FsBackgroundGenerator  *self);
FS_AVAILABLE_IN_ALL
guint                  fs_background_generator_get_prefetch      (FsBackgroundGenerator  *self);
FS_AVAILABLE_IN_ALL
FsThread              *fs_background_generator_get_thread        (FsBackgroundGenerator  *self);
FS_AVAILABLE_IN_0_2
FsWaitStatus           fs_background_generator_next              (FsBackgroundGenerator  *self,
                                                                  gpointer               *item,
                                                                  gint64                  timeout_usec,
                                                                  GCancellable           *cancellable,
                                                                  GError                **error);
FS_AVAILABLE_IN_0_2
FsWaitStatus           fs_background_generator_next_value        (FsBackgroundGenerator  *self,
                                                                  gint64                  timeout_usec,
                                                                  GCancellable           *cancellable,
                                                                  GValue                 *value,
                                                                  GError                **error);
FS_AVAILABLE_IN_ALL
void                   fs_background_generator_next_async        (FsBackgroundGenerator  *self,
                                                                  GCancellable           *cancellable,
                                                                  GAsyncReadyCallback     callback,
                                                                  gpointer                user_data);
FS_AVAILABLE_IN_0_2
GValue                *fs_background_generator_next_finish       (FsBackgroundGenerator  *self,
                                                                  GAsyncResult           *result,
                                                                  GError                **error) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
GValue                *fs_background_generator_next_finish_full  (FsBackgroundGenerator  *self,
                                                                  GAsyncResult           *result,
                                                                  FsWaitStatus           *status,
                                                                  GError                **error) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
FsWaitStatus           fs_background_generator_close             (FsBackgroundGenerator  *self,
                                                                  gint64                  timeout_usec,
                                                                  GCancellable           *cancellable);
FS_AVAILABLE_IN_ALL
gboolean               fs_background_generator_is_closed         (FsBackgroundGenerator  *self);

G_END_DECLS
