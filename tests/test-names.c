/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-names.c: the registry of thread names and the OS names */

#include <string.h>

#include <glib.h>

#include "fs-names-private.h"

static void
test_reserve_free_name (void)
{
  g_autofree char *name = _fs_names_reserve ("alpha");

  g_assert_cmpstr (name, ==, "alpha");
  _fs_names_release (name);
}

static void
test_reserve_suffixes (void)
{
  g_autofree char *first = _fs_names_reserve ("beta");
  g_autofree char *second = _fs_names_reserve ("beta");
  g_autofree char *third = _fs_names_reserve ("beta");
  g_autofree char *again = NULL;
  g_autofree char *fourth = NULL;

  g_assert_cmpstr (first, ==, "beta");
  g_assert_cmpstr (second, ==, "beta_0");
  g_assert_cmpstr (third, ==, "beta_1");

  /* Probing starts at 0 every time: a freed beta_0 is the next one. */
  _fs_names_release (second);
  again = _fs_names_reserve ("beta");
  g_assert_cmpstr (again, ==, "beta_0");

  fourth = _fs_names_reserve ("beta");
  g_assert_cmpstr (fourth, ==, "beta_2");

  _fs_names_release (first);
  _fs_names_release (again);
  _fs_names_release (third);
  _fs_names_release (fourth);
}

static void
test_release (void)
{
  g_autofree char *base = _fs_names_reserve ("gamma");
  g_autofree char *suffixed = _fs_names_reserve ("gamma");
  g_autofree char *base_again = NULL;
  g_autofree char *after_all = NULL;

  g_assert_cmpstr (base, ==, "gamma");
  g_assert_cmpstr (suffixed, ==, "gamma_0");

  /* The plain name is free again as soon as it is released, even while
   * a suffixed one is held. */
  _fs_names_release (base);
  base_again = _fs_names_reserve ("gamma");
  g_assert_cmpstr (base_again, ==, "gamma");

  _fs_names_release (base_again);
  _fs_names_release (suffixed);

  after_all = _fs_names_reserve ("gamma");
  g_assert_cmpstr (after_all, ==, "gamma");
  _fs_names_release (after_all);

  /* Releasing what nobody holds, or nothing, is harmless. */
  _fs_names_release ("never-reserved");
  _fs_names_release (NULL);
  g_clear_pointer (&after_all, g_free);
  after_all = _fs_names_reserve ("never-reserved");
  g_assert_cmpstr (after_all, ==, "never-reserved");
  _fs_names_release (after_all);
}

static void
test_explicit_suffix_taken (void)
{
  g_autofree char *taken = _fs_names_reserve ("delta_0");
  g_autofree char *base = _fs_names_reserve ("delta");
  g_autofree char *next = _fs_names_reserve ("delta");

  g_assert_cmpstr (taken, ==, "delta_0");
  g_assert_cmpstr (base, ==, "delta");
  /* delta_0 is held by someone else: the probe skips it. */
  g_assert_cmpstr (next, ==, "delta_1");

  _fs_names_release (taken);
  _fs_names_release (base);
  _fs_names_release (next);
}

static void
test_non_utf8 (void)
{
  const char *invalid = "bad\xff\xfename";
  g_autofree char *name = NULL;
  g_autofree char *second = NULL;
  g_autofree char *expected_second = NULL;

  g_assert_false (g_utf8_validate (invalid, -1, NULL));

  name = _fs_names_reserve (invalid);
  g_assert_true (g_utf8_validate (name, -1, NULL));
  g_assert_true (g_str_has_prefix (name, "bad"));
  g_assert_true (g_str_has_suffix (name, "name"));
  g_assert_cmpstr (name, !=, invalid);

  /* The valid form is what is registered: the same bytes again collide. */
  second = _fs_names_reserve (invalid);
  expected_second = g_strconcat (name, "_0", NULL);
  g_assert_cmpstr (second, ==, expected_second);

  _fs_names_release (second);
  _fs_names_release (name);
}

#define N_RESERVERS 8
#define N_RESERVES  100

typedef struct
{
  GMutex  mutex;
  GCond   cond;
  gboolean go;
  char   *names[N_RESERVERS][N_RESERVES];
} Race;

typedef struct
{
  Race  *race;
  guint  slot;
} RaceSlot;

static gpointer
reserve_thread (gpointer data)
{
  RaceSlot *slot = data;

  g_mutex_lock (&slot->race->mutex);
  while (!slot->race->go)
    g_cond_wait (&slot->race->cond, &slot->race->mutex);
  g_mutex_unlock (&slot->race->mutex);

  for (guint i = 0; i < N_RESERVES; i++)
    slot->race->names[slot->slot][i] = _fs_names_reserve ("epsilon");

  return NULL;
}

static void
test_concurrent_reserve (void)
{
  Race race = { 0 };
  RaceSlot slots[N_RESERVERS];
  GThread *threads[N_RESERVERS];
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_mutex_init (&race.mutex);
  g_cond_init (&race.cond);

  for (guint i = 0; i < N_RESERVERS; i++)
    {
      slots[i].race = &race;
      slots[i].slot = i;
      threads[i] = g_thread_new ("reserver", reserve_thread, &slots[i]);
    }

  g_mutex_lock (&race.mutex);
  race.go = TRUE;
  g_cond_broadcast (&race.cond);
  g_mutex_unlock (&race.mutex);

  for (guint i = 0; i < N_RESERVERS; i++)
    g_thread_join (threads[i]);

  /* Every name once: "epsilon" and epsilon_0 .. epsilon_798. */
  for (guint i = 0; i < N_RESERVERS; i++)
    for (guint j = 0; j < N_RESERVES; j++)
      g_assert_true (g_hash_table_add (seen, race.names[i][j]));
  g_assert_true (g_hash_table_contains (seen, "epsilon"));
  for (guint i = 0; i < N_RESERVERS * N_RESERVES - 1; i++)
    {
      g_autofree char *expected = g_strdup_printf ("epsilon_%u", i);

      g_assert_true (g_hash_table_contains (seen, expected));
    }

  for (guint i = 0; i < N_RESERVERS; i++)
    for (guint j = 0; j < N_RESERVES; j++)
      {
        _fs_names_release (race.names[i][j]);
        g_free (race.names[i][j]);
      }

  g_mutex_clear (&race.mutex);
  g_cond_clear (&race.cond);
}

static void
assert_os_name (const char *name,
                const char *expected)
{
  g_autofree char *os_name = _fs_names_os_name (name);

  g_assert_cmpstr (os_name, ==, expected);
  g_assert_cmpuint (strlen (os_name), <=, 15);
  g_assert_true (g_str_has_prefix (name, os_name));
  g_assert_true (g_utf8_validate (os_name, -1, NULL));
}

static void
test_os_name_short (void)
{
  assert_os_name ("", "");
  assert_os_name ("work", "work");
  assert_os_name ("work_0", "work_0");
  /* Exactly 15 bytes: whole. */
  assert_os_name ("abcdefghijklmno", "abcdefghijklmno");
  /* 15 bytes of multibyte characters: whole (5 x 3 bytes). */
  assert_os_name ("\u20ac\u20ac\u20ac\u20ac\u20ac", "\u20ac\u20ac\u20ac\u20ac\u20ac");
}

static void
test_os_name_cut (void)
{
  /* 16 ASCII bytes: cut at 15. */
  assert_os_name ("abcdefghijklmnop", "abcdefghijklmno");
  assert_os_name ("converter-worker_12", "converter-worke");

  /* A 2-byte character at bytes 14-15 would be cut in two: dropped. */
  assert_os_name ("abcdefghijklmn\u00e9xyz", "abcdefghijklmn");

  /* A 2-byte character ending exactly at byte 15 stays. */
  assert_os_name ("abcdefghijklm\u00e9xyz", "abcdefghijklm\u00e9");

  /* 3-byte characters: the fifth one covers bytes 13-15. */
  assert_os_name ("a\u20ac\u20ac\u20ac\u20ac\u20ac", "a\u20ac\u20ac\u20ac\u20ac");
  assert_os_name ("ab\u20ac\u20ac\u20ac\u20ac\u20ac", "ab\u20ac\u20ac\u20ac\u20ac");

  /* 4-byte characters: the fourth one covers bytes 12-15. */
  assert_os_name ("\U0001F600\U0001F600\U0001F600\U0001F600",
                  "\U0001F600\U0001F600\U0001F600");
  /* Starting at byte 15: cut just before it. */
  assert_os_name ("abcdefghijklmno\U0001F600", "abcdefghijklmno");
}

static void
test_os_name_invalid_utf8 (void)
{
  g_autofree char *os_name = _fs_names_os_name ("abcdefghijklmn\xff\xfe\xfdxyz");

  /* Nothing to keep whole: at most 15 bytes all the same. */
  g_assert_cmpuint (strlen (os_name), <=, 15);
  g_assert_true (g_str_has_prefix ("abcdefghijklmn\xff\xfe\xfdxyz", os_name));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/names/reserve/free-name", test_reserve_free_name);
  g_test_add_func ("/names/reserve/suffixes", test_reserve_suffixes);
  g_test_add_func ("/names/reserve/explicit-suffix-taken", test_explicit_suffix_taken);
  g_test_add_func ("/names/reserve/non-utf8", test_non_utf8);
  g_test_add_func ("/names/reserve/concurrent", test_concurrent_reserve);
  g_test_add_func ("/names/release", test_release);
  g_test_add_func ("/names/os-name/short", test_os_name_short);
  g_test_add_func ("/names/os-name/cut", test_os_name_cut);
  g_test_add_func ("/names/os-name/invalid-utf8", test_os_name_invalid_utf8);

  return g_test_run ();
}
