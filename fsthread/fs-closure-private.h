/* fs-closure-private.h: a target and its data, shared by several threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef struct
{
  gatomicrefcount ref_count;
  GCallback       func;
  gpointer        user_data;
  GDestroyNotify  user_data_free;
} FsClosure;

static inline FsClosure *
_fs_closure_new (GCallback      func,
                 gpointer       user_data,
                 GDestroyNotify user_data_free)
{
  FsClosure *closure = g_new0 (FsClosure, 1);

  g_atomic_ref_count_init (&closure->ref_count);
  closure->func = func;
  closure->user_data = user_data;
  closure->user_data_free = user_data_free;

  return closure;
}

static inline FsClosure *
_fs_closure_ref (FsClosure *closure)
{
  g_atomic_ref_count_inc (&closure->ref_count);
  return closure;
}

static inline void
_fs_closure_unref (gpointer data)
{
  FsClosure *closure = data;

  if (g_atomic_ref_count_dec (&closure->ref_count))
    {
      if (closure->user_data_free != NULL)
        closure->user_data_free (closure->user_data);
      g_free (closure);
    }
}

G_END_DECLS
