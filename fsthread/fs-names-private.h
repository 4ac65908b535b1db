/* fs-names-private.h: the process-wide registry of thread names
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *_fs_names_reserve       (const char *wanted);
void  _fs_names_release       (const char *name);
char *_fs_names_reserve_group (const char *wanted,
                               guint       n_members);
void  _fs_names_release_group (const char *name,
                               guint       n_members);
char *_fs_names_os_name (const char *name);

G_END_DECLS
