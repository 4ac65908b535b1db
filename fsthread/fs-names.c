/* fs-names.c: the process-wide registry of thread names
 *
 * A free name is used as it is; a taken one becomes the first free of
 * name_0, name_1, ... A name is held while the object that reserved it is
 * alive, and released when it is finalized, so names are unique among the
 * living objects.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "fs-names-private.h"

/* The Linux limit on a thread's comm, without the terminating NUL. */
#define OS_NAME_MAX 15

G_LOCK_DEFINE_STATIC (names);
static GHashTable *names;

/* Returns: (transfer full): a name no living object holds, now reserved */
char *
_fs_names_reserve (const char *wanted)
{
  char *valid;
  char *name;

  g_return_val_if_fail (wanted != NULL, NULL);

  valid = g_utf8_make_valid (wanted, -1);

  G_LOCK (names);

  if (names == NULL)
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!g_hash_table_contains (names, valid))
    {
      name = g_steal_pointer (&valid);
    }
  else
    {
      for (guint i = 0; ; i++)
        {
          name = g_strdup_printf ("%s_%u", valid, i);
          if (!g_hash_table_contains (names, name))
            break;
          g_free (name);
        }
    }

  g_hash_table_add (names, g_strdup (name));

  G_UNLOCK (names);

  g_free (valid);

  return name;
}

void
_fs_names_release (const char *name)
{
  if (name == NULL)
    return;

  G_LOCK (names);
  if (names != NULL)
    g_hash_table_remove (names, name);
  G_UNLOCK (names);
}

/* The name the OS thread carries: @name cut to 15 bytes, at a UTF-8
 * character boundary so that `top -H` never shows half a character.
 *
 * Returns: (transfer full): the OS name
 */
char *
_fs_names_os_name (const char *name)
{
  const char *end;

  g_return_val_if_fail (name != NULL, NULL);

  if (strlen (name) <= OS_NAME_MAX)
    return g_strdup (name);

  /* The character that would be cut in two starts at or before byte 15. */
  end = name + OS_NAME_MAX;
  if (!g_utf8_validate (name, -1, NULL))
    return g_strndup (name, OS_NAME_MAX);
  while (end > name && (*end & 0xC0) == 0x80)
    end--;

  return g_strndup (name, end - name);
}
