/* fs-cpus.h: how many CPUs this process may use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <glib.h>

#include "fs-version-macros.h"

G_BEGIN_DECLS

FS_AVAILABLE_IN_ALL
guint fs_total_cpus (void);

G_END_DECLS
