/* fs-error.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-error.h"

/**
 * fs_error_quark:
 *
 * The quark of the %FS_ERROR domain.
 *
 * Returns: the error domain of fsthread
 *
 * Since: 0.1
 */
GQuark
fs_error_quark (void)
{
  /* Not G_DEFINE_QUARK(): its cache is a plain static, which threads that
   * raise their first error together would write at the same time (with
   * the same value, but a data race all the same). */
  static GQuark quark;
  GQuark q = (GQuark) g_atomic_int_get ((gint *) &quark);

  if G_UNLIKELY (q == 0)
    {
      q = g_quark_from_static_string ("fs-error-quark");
      g_atomic_int_set ((gint *) &quark, (gint) q);
    }

  return q;
}
