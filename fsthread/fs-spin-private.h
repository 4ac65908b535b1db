/* fs-spin-private.h: waiting a moment before sleeping
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How long a side of a handoff looks again before it sleeps. */
#define FS_SPIN_USEC 20

typedef struct
{
  gint64 deadline;     /* monotonic; 0 once over */
  guint  n;
} FsSpin;

/* Whether spinning can help at all: it cannot when the process may use
 * one CPU only (fs_total_cpus()), since the other side cannot run while
 * this one spins. */
gboolean _fs_spin_allowed (void);

/* Starts a spin of @budget_usec, cut at @end_time (monotonic, -1 for no
 * limit); no spin at all when spinning is not allowed. */
void     _fs_spin_init    (FsSpin  *spin,
                           guint    budget_usec,
                           gint64   end_time);
/* Pauses once; FALSE when the spin is over. */
gboolean _fs_spin_next    (FsSpin  *spin);

G_END_DECLS
