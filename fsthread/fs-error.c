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
G_DEFINE_QUARK (fs-error-quark, fs_error)
