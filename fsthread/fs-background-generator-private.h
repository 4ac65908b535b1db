/* fs-background-generator-private.h: what the map (fs-map.c) needs of a
 * background generator it consumes or feeds
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fs-background-generator.h"
#include "fs-queue-private.h"

G_BEGIN_DECLS

/* (transfer none): the stream's queue; NULL never (one is made for a
 * generator built with g_object_new()). */
FsQueue  *_fs_background_generator_get_queue (FsBackgroundGenerator *self);
/* Whether it was made with new_for_values(): its items are GValue *. */
gboolean  _fs_background_generator_is_values (FsBackgroundGenerator *self);

G_END_DECLS
