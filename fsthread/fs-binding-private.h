/* fs-binding-private.h: callbacks that must never run on a worker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* If @func, with @user_data_free, is a function of a JavaScript engine
 * that can only run on its own thread (GJS), refuses it now, on the
 * calling thread, which is that engine's: frees @user_data at once and
 * puts in its place a function that fails with FS_ERROR_NOT_SUPPORTED, so
 * that no worker ever calls into, or frees, anything of the engine's.
 * Works for FsThreadFunc and FsGeneratorFunc alike. */
void     _fs_binding_refuse_javascript     (GCallback      *func,
                                            gpointer       *user_data,
                                            GDestroyNotify *user_data_free);

/* The same test for a function of any signature: when @func is
 * JavaScript, frees @user_data at once, clears @user_data and
 * @user_data_free, and returns TRUE; the caller puts a refusing function
 * of its own in place of @func. */
gboolean _fs_binding_take_javascript       (GCallback       func,
                                            gpointer       *user_data,
                                            GDestroyNotify *user_data_free);

/* Whether @vfunc, a class's implementation of a virtual function, was
 * written in JavaScript (a subclass made by GJS), asked on the thread that
 * is about to hand it to a worker. */
gboolean _fs_binding_vfunc_is_javascript   (GCallback       vfunc);

/* The message of the refusal. */
#define FS_BINDING_REFUSAL_MESSAGE \
  "A JavaScript function cannot run on another thread (GJS runs JavaScript on its own thread only); " \
  "use a function written in C, such as the built-in file loader, and the _async calls"

G_END_DECLS
