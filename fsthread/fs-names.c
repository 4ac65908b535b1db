/* fs-names.c: the process-wide registry of thread names
 *
 * A free name is used as it is; a taken one becomes the first free of
 * name_0, name_1, ... A name is held while the object that reserved it is
 * alive, and released when it is finalized, so names are unique among the
 * living objects. A group reserves its members' names with its own.
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

static char *
member_name (const char *base,
             guint       index)
{
  return g_strdup_printf ("%s_%u", base, index);
}

/* NAME_INDEX without an allocation when it fits @buf: to look up or
 * remove, not to keep. */
static const char *
format_member (char        *buf,
               gsize        size,
               const char  *base,
               guint        index,
               char       **heap)
{
  if ((gsize) g_snprintf (buf, size, "%s_%u", base, index) < size)
    return buf;
  return *heap = member_name (base, index);
}

/* Whether @base, and for a group of several members each member's name,
 * are all free. Called with the lock held. */
static gboolean
group_is_free (const char *base,
               guint       n_members)
{
  if (g_hash_table_contains (names, base))
    return FALSE;

  for (guint i = 0; n_members > 1 && i < n_members; i++)
    {
      char buf[128];
      g_autofree char *heap = NULL;

      if (g_hash_table_contains (names, format_member (buf, sizeof buf, base, i, &heap)))
        return FALSE;
    }

  return TRUE;
}

/* Reserves a name for a group of @n_members threads: the group's (and its
 * single thread's) name, or with several members also NAME_0 ...
 * NAME_{n-1}, so that no two living threads share a name.
 *
 * Returns: (transfer full): the group's name, now reserved with its members'
 */
char *
_fs_names_reserve_group (const char *wanted,
                         guint       n_members)
{
  char *valid;
  char *name;

  g_return_val_if_fail (wanted != NULL, NULL);
  g_return_val_if_fail (n_members >= 1, NULL);

  valid = g_utf8_make_valid (wanted, -1);

  G_LOCK (names);

  if (names == NULL)
    names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (group_is_free (valid, n_members))
    {
      name = g_steal_pointer (&valid);
    }
  else
    {
      for (guint i = 0; ; i++)
        {
          name = g_strdup_printf ("%s_%u", valid, i);
          if (group_is_free (name, n_members))
            break;
          g_free (name);
        }
    }

  g_hash_table_add (names, g_strdup (name));
  for (guint i = 0; n_members > 1 && i < n_members; i++)
    g_hash_table_add (names, member_name (name, i));

  G_UNLOCK (names);

  g_free (valid);

  return name;
}

void
_fs_names_release_group (const char *name,
                         guint       n_members)
{
  if (name == NULL)
    return;

  G_LOCK (names);
  if (names != NULL)
    {
      g_hash_table_remove (names, name);
      for (guint i = 0; n_members > 1 && i < n_members; i++)
        {
          char buf[128];
          g_autofree char *heap = NULL;

          g_hash_table_remove (names, format_member (buf, sizeof buf, name, i, &heap));
        }
    }
  G_UNLOCK (names);
}

/* Returns: (transfer full): a name no living object holds, now reserved */
char *
_fs_names_reserve (const char *wanted)
{
  return _fs_names_reserve_group (wanted, 1);
}

void
_fs_names_release (const char *name)
{
  _fs_names_release_group (name, 1);
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
