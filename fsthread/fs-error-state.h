/* fs-error-state.h: errors collected from many threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <glib-object.h>

#include "fs-version-macros.h"

G_BEGIN_DECLS

#define FS_TYPE_ERROR_STATE (fs_error_state_get_type ())

/**
 * FS_ERROR_STATE_DEFAULT_MAX_ERRORS:
 *
 * The most errors the process-wide default state
 * ([func@Fs.ErrorState.get_default]) keeps: the first, and the newest.
 *
 * Since: 0.2
 */
#define FS_ERROR_STATE_DEFAULT_MAX_ERRORS 64

FS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FsErrorState, fs_error_state, FS, ERROR_STATE, GObject)

FS_AVAILABLE_IN_ALL
FsErrorState *fs_error_state_new           (void) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
FsErrorState *fs_error_state_new_bounded   (guint          max_errors) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
guint         fs_error_state_get_max_errors (FsErrorState *self);
FS_AVAILABLE_IN_ALL
FsErrorState *fs_error_state_get_default   (void);
FS_AVAILABLE_IN_ALL
void          fs_error_state_set           (FsErrorState  *self,
                                            const GError  *error);
FS_AVAILABLE_IN_ALL
gboolean      fs_error_state_get_has_error (FsErrorState  *self);
FS_AVAILABLE_IN_ALL
guint         fs_error_state_get_n_errors  (FsErrorState  *self);
FS_AVAILABLE_IN_ALL
GPtrArray    *fs_error_state_dup_errors    (FsErrorState  *self) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_ALL
gboolean      fs_error_state_re_raise      (FsErrorState  *self,
                                            GError       **error);
FS_AVAILABLE_IN_ALL
void          fs_error_state_clear         (FsErrorState  *self);

G_END_DECLS
