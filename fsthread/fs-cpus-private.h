/* fs-cpus-private.h: seams of fs_total_cpus() for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

guint _fs_cpus_affinity     (void);
guint _fs_cpus_cgroup_limit (const char *proc_self_cgroup,
                             const char *cgroup_mount);

G_END_DECLS
