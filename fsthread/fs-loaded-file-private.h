/* fs-loaded-file-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fs-loaded-file.h"

G_BEGIN_DECLS

FsLoadedFile *_fs_loaded_file_new (GFile        *file,
                                   GBytes       *contents,
                                   const GError *error);

/* Reads @file whole, on the calling thread: a loaded file with its
 * contents, or with the error that stopped the read. Only regular files
 * are read, and a file is opened once, in a way that cannot block (see
 * fs-file-loader.c). */
FsLoadedFile *_fs_file_load       (GFile        *file,
                                   GCancellable *cancellable);

G_END_DECLS
