/* fs-loaded-file.h: a file and its contents, as the file loader yields it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fs-version-macros.h"

G_BEGIN_DECLS

#define FS_TYPE_LOADED_FILE (fs_loaded_file_get_type ())

FS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FsLoadedFile, fs_loaded_file, FS, LOADED_FILE, GObject)

FS_AVAILABLE_IN_ALL
GFile    *fs_loaded_file_get_file     (FsLoadedFile  *self);
FS_AVAILABLE_IN_ALL
GBytes   *fs_loaded_file_get_contents (FsLoadedFile  *self,
                                       GError       **error);

G_END_DECLS
