/* fs-generator-private.h
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fs-generator.h"
#include "fs-queue-private.h"

G_BEGIN_DECLS

FsGenerator *_fs_generator_new   (FsQueue      *queue,
                                  GCancellable *cancellable,
                                  gboolean      values);
void         _fs_value_free      (gpointer      value);

G_END_DECLS
