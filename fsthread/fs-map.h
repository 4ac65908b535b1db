/* fs-map.h: a function run on N threads over a stream, results in order
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(FSTHREAD_INSIDE) && !defined(FSTHREAD_COMPILATION)
# error "Only <fsthread.h> can be included directly."
#endif

#include <gio/gio.h>

#include "fs-version-macros.h"
#include "fs-background-generator.h"

G_BEGIN_DECLS

/**
 * FsMapFlags:
 * @FS_MAP_NONE: the default: results come in the order of the source.
 * @FS_MAP_UNORDERED: each result is handed over as soon as it is ready,
 *   whatever its place in the source; a failure is raised after the
 *   results that were ready before it.
 *
 * How a map made with `fs_background_generator_map()` (or one of its
 * variants) hands its results over.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/ {
  FS_MAP_NONE      = 0,
  FS_MAP_UNORDERED = 1 << 0,
} FsMapFlags;

#define FS_TYPE_MAP_RESULT (fs_map_result_get_type ())

FS_AVAILABLE_IN_0_2
G_DECLARE_FINAL_TYPE (FsMapResult, fs_map_result, FS, MAP_RESULT, GObject)

/**
 * FsMapFunc:
 * @item: the item of the source, borrowed: the map frees it after the call
 * @result: (out) (transfer full) (nullable): return location for the result
 * @user_data: the data given with the function
 * @error: return location for the failure
 *
 * The function of a map made with `fs_background_generator_map()`,
 * run on one of its worker threads for each item of the source. Several
 * run at once, each on its own item.
 *
 * It sets @result, which the consumer receives (any pointer, %NULL too),
 * and returns %TRUE; or it returns %FALSE with @error set, and the map fails
 * with that error in the item's place. A function that returns %FALSE
 * without an error has failed all the same, with %FS_ERROR_FAILED.
 *
 * A function that works long on one item can look at the cancellable of
 * its worker, `fs_thread_get_cancellable (fs_thread_get_current ())`,
 * cancelled when the map is closed or fails.
 *
 * Returns: %TRUE with @result set, %FALSE with @error set
 *
 * Since: 0.2
 */
typedef gboolean (*FsMapFunc) (gpointer   item,
                               gpointer  *result,
                               gpointer   user_data,
                               GError   **error);

/**
 * FsMapValueFunc:
 * @item: the item of the source, as a value
 * @result: where the function puts its result, with
 *   [method@Fs.MapResult.set_value]
 * @user_data: the data given with the function
 * @error: return location for the failure
 *
 * The function of a map of values, made with
 * [method@Fs.BackgroundGenerator.map_values] or
 * [ctor@Fs.BackgroundGenerator.new_map_for_array]: the form bindings use.
 * It runs on a worker thread for each item, several at once.
 *
 * It hands its result over with [method@Fs.MapResult.set_value] (a result
 * never set is a %NULL object) and returns %TRUE; or it returns %FALSE
 * with @error set, and the map fails with that error in the item's place.
 * %FALSE without an error is a failure with %FS_ERROR_FAILED.
 *
 * Returns: %TRUE on success, %FALSE with @error set
 *
 * Since: 0.2
 */
typedef gboolean (*FsMapValueFunc) (const GValue  *item,
                                    FsMapResult   *result,
                                    gpointer       user_data,
                                    GError       **error);

FS_AVAILABLE_IN_0_2
FsBackgroundGenerator *fs_background_generator_map                 (FsBackgroundGenerator  *source,
                                                                        guint                   n_threads,
                                                                        guint                   prefetch,
                                                                        FsMapFlags              flags,
                                                                        FsMapFunc               func,
                                                                        gpointer                user_data,
                                                                        GDestroyNotify          user_data_free,
                                                                        GDestroyNotify          result_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
FsBackgroundGenerator *fs_background_generator_map_values      (FsBackgroundGenerator  *source,
                                                                        guint                   n_threads,
                                                                        guint                   prefetch,
                                                                        FsMapFlags              flags,
                                                                        FsMapValueFunc          func,
                                                                        gpointer                user_data,
                                                                        GDestroyNotify          user_data_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
FsBackgroundGenerator *fs_background_generator_new_map_for_array       (const GValue           *values,
                                                                        guint                   n_values,
                                                                        guint                   n_threads,
                                                                        guint                   prefetch,
                                                                        FsMapFlags              flags,
                                                                        FsMapValueFunc          func,
                                                                        gpointer                user_data,
                                                                        GDestroyNotify          user_data_free) G_GNUC_WARN_UNUSED_RESULT;
FS_AVAILABLE_IN_0_2
FsBackgroundGenerator *fs_background_generator_new_for_files_parallel  (GFile * const          *files,
                                                                        guint                   n_files,
                                                                        guint                   n_threads,
                                                                        guint                   prefetch) G_GNUC_WARN_UNUSED_RESULT;

FS_AVAILABLE_IN_0_2
guint64                fs_map_result_get_index                         (FsMapResult            *self);
FS_AVAILABLE_IN_0_2
void                   fs_map_result_set_value                         (FsMapResult            *self,
                                                                        const GValue           *value);

G_END_DECLS
