/* fs-version-macros.h: availability annotations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <glib.h>

#include "fs-version.h"

#ifndef _FS_EXTERN
# define _FS_EXTERN extern
#endif

#define FS_VERSION_0_1 (FS_ENCODE_VERSION (0, 1, 0))
#define FS_VERSION_0_2 (FS_ENCODE_VERSION (0, 2, 0))

#define FS_AVAILABLE_IN_ALL _FS_EXTERN
#define FS_AVAILABLE_IN_0_1 _FS_EXTERN
#define FS_AVAILABLE_IN_0_2 _FS_EXTERN

G_BEGIN_DECLS

FS_AVAILABLE_IN_ALL
guint        fs_get_major_version (void);
FS_AVAILABLE_IN_ALL
guint        fs_get_minor_version (void);
FS_AVAILABLE_IN_ALL
guint        fs_get_micro_version (void);
FS_AVAILABLE_IN_ALL
gboolean     fs_check_version     (guint major,
                                   guint minor,
                                   guint micro);

G_END_DECLS
