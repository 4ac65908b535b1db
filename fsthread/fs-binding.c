/* fs-binding.c: callbacks that must never run on a worker
 *
 * GJS cannot run JavaScript on any thread but its own. Called on a worker,
 * its trampoline refuses, but only after reading the engine's state (and,
 * while the garbage collector runs on the main thread, dumping the
 * JavaScript stack from the worker): a crash in about one run of three of
 * a loop that starts a JavaScript target and collects garbage. Freeing its
 * closure on a worker races with the collector too. So fsthread never hands
 * a JavaScript function to a worker: it tells one apart on the thread that
 * gives it, and refuses it there.
 *
 * How a JavaScript function is told apart: a binding's function is code
 * made at run time (libffi's closures), which lies in no loaded object;
 * GJS's destroy notify lies in libgjs. A subclass's virtual function made
 * by GJS lies in no object either, and is handed over from the thread that
 * runs a GJS context. PyGObject's functions pass: Python may run on any
 * thread, taking its lock.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include "fs-binding-private.h"
#include "fs-error.h"

/* The address of a function, for dladdr(): ISO C converts a function
 * pointer to an integer, not to an object pointer. */
static const void *
code_address (GCallback code)
{
  return (const void *) (guintptr) code;
}

/* Whether @code lies in no loaded object: made at run time. */
static gboolean
is_generated_code (GCallback code)
{
  Dl_info info;

  return dladdr (code_address (code), &info) == 0 || info.dli_fname == NULL;
}

/* Whether @code lies in GJS's library. */
static gboolean
is_in_gjs (GCallback code)
{
  const char *base;
  Dl_info info;

  if (code == NULL || dladdr (code_address (code), &info) == 0 || info.dli_fname == NULL)
    return FALSE;
  base = strrchr (info.dli_fname, '/');
  base = base != NULL ? base + 1 : info.dli_fname;
  return g_str_has_prefix (base, "libgjs");
}

static gboolean
refuse (gpointer   object,
        gpointer   user_data,
        GError   **error)
{
  g_set_error_literal (error, FS_ERROR, FS_ERROR_NOT_SUPPORTED, FS_BINDING_REFUSAL_MESSAGE);
  return FALSE;
}

gboolean
_fs_binding_take_javascript (GCallback       func,
                             gpointer       *user_data,
                             GDestroyNotify *user_data_free)
{
  if (func == NULL || !is_generated_code (func) ||
      !is_in_gjs ((GCallback) *user_data_free))
    return FALSE;

  /* On the engine's thread: its closure is freed where it was made. */
  (*user_data_free) (*user_data);
  *user_data = NULL;
  *user_data_free = NULL;
  return TRUE;
}

void
_fs_binding_refuse_javascript (GCallback      *func,
                               gpointer       *user_data,
                               GDestroyNotify *user_data_free)
{
  if (_fs_binding_take_javascript (*func, user_data, user_data_free))
    *func = (GCallback) refuse;
}

gboolean
_fs_binding_vfunc_is_javascript (GCallback vfunc)
{
  gpointer (*get_current) (void) = NULL;
  void *symbol;

  G_STATIC_ASSERT (sizeof symbol == sizeof get_current);

  if (vfunc == NULL || !is_generated_code (vfunc))
    return FALSE;
  /* The object pointer dlsym() returns is copied into the function
   * pointer, as POSIX allows and ISO C has no cast for. */
  symbol = dlsym (RTLD_DEFAULT, "gjs_context_get_current");
  if (symbol == NULL)
    return FALSE;
  memcpy (&get_current, &symbol, sizeof symbol);
  return get_current () != NULL;
}
