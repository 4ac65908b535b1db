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

G_END_DECLS
