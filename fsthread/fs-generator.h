/* fs-generator.h: the producer's end of a background generator
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fs-version-macros.h"

G_BEGIN_DECLS

#define FS_TYPE_GENERATOR (fs_generator_get_type ())

FS_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (FsGenerator, fs_generator, FS, GENERATOR, GObject)

/**
 * FsGeneratorFunc:
 * @generator: the producer's end of the stream: yield items into it
 * @user_data: the data given with the function
 * @error: return location for the failure
 *
 * A generator function, run on the background thread of a
 * [class@Fs.BackgroundGenerator]. It hands each item to the consumer with
 * [method@Fs.Generator.yield] (or [method@Fs.Generator.yield_value]) and
 * returns when it has no more.
 *
 * When a yield returns %FALSE the consumer has closed the stream: the
 * function should return at once, passing that error on (it is not reported
 * as a failure) or returning %TRUE.
 *
 * Returns: %TRUE when the stream ended normally, %FALSE with @error set when
 *   it failed
 *
 * Since: 0.1
 */
typedef gboolean (*FsGeneratorFunc) (FsGenerator  *generator,
                                     gpointer      user_data,
                                     GError      **error);

FS_AVAILABLE_IN_ALL
gboolean      fs_generator_yield           (FsGenerator   *self,
                                            gpointer       item,
                                            GError       **error);
FS_AVAILABLE_IN_ALL
gboolean      fs_generator_yield_value     (FsGenerator   *self,
                                            const GValue  *value,
                                            GError       **error);
FS_AVAILABLE_IN_ALL
gboolean      fs_generator_is_closed       (FsGenerator   *self);
FS_AVAILABLE_IN_ALL
GCancellable *fs_generator_get_cancellable (FsGenerator   *self);

G_END_DECLS
