/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* test-error-state.c: FsErrorState */

#include <fsthread.h>

#include "fs-test-util.h"

#define TEST_ERROR (test_error_quark ())

static GQuark
test_error_quark (void)
{
  return g_quark_from_static_string ("test-error-state-error-quark");
}

/* Asserts that @error is exactly (@domain, @code, @message). */
static void
assert_error_is (const GError *error,
                 GQuark        domain,
                 int           code,
                 const char   *message)
{
  g_assert_nonnull (error);
  g_assert_error (error, domain, code);
  g_assert_cmpstr (error->message, ==, message);
}

/* The resident memory of the process, in KiB. */
static guint64
resident_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
}

/* Runs first, so that several threads race to create the default state. */

#define N_DEFAULT_THREADS 8

typedef struct
{
  FsTestGate    gate;
  FsErrorState *seen[N_DEFAULT_THREADS];
} DefaultRace;

typedef struct
{
  DefaultRace *race;
  guint        slot;
} DefaultRaceSlot;

static gpointer
default_race_thread (gpointer data)
{
  DefaultRaceSlot *slot = data;

  fs_test_gate_wait (&slot->race->gate);
  slot->race->seen[slot->slot] = fs_error_state_get_default ();

  return NULL;
}

static void
test_default_singleton (void)
{
  DefaultRace race = { 0 };
  DefaultRaceSlot slots[N_DEFAULT_THREADS];
  GThread *threads[N_DEFAULT_THREADS];
  FsErrorState *state;
  FsErrorState *other;

  fs_test_gate_init (&race.gate);

  for (guint i = 0; i < N_DEFAULT_THREADS; i++)
    {
      slots[i].race = &race;
      slots[i].slot = i;
      threads[i] = g_thread_new ("default-race", default_race_thread, &slots[i]);
    }

  /* Every thread asks for the default state at once. */
  fs_test_gate_open (&race.gate);
  for (guint i = 0; i < N_DEFAULT_THREADS; i++)
    g_thread_join (threads[i]);

  state = fs_error_state_get_default ();
  g_assert_true (FS_IS_ERROR_STATE (state));
  g_assert_true (fs_error_state_get_default () == state);
  for (guint i = 0; i < N_DEFAULT_THREADS; i++)
    g_assert_true (race.seen[i] == state);

  /* A new state is never the default one, and does not feed it. */
  other = fs_error_state_new ();
  g_assert_true (other != state);
  {
    guint before = fs_error_state_get_n_errors (state);
    g_autoptr(GError) error = g_error_new_literal (TEST_ERROR, 1, "not for the default");

    fs_error_state_set (other, error);
    g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, before);
  }
  g_object_unref (other);

  fs_test_gate_clear (&race.gate);
}

static void
test_new_is_empty (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GPtrArray) errors = NULL;
  GError *error = NULL;

  g_assert_true (FS_IS_ERROR_STATE (state));
  g_assert_false (fs_error_state_get_has_error (state));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 0);
  g_assert_cmpuint (fs_error_state_get_max_errors (state), ==, 0);

  errors = fs_error_state_dup_errors (state);
  g_assert_nonnull (errors);
  g_assert_cmpuint (errors->len, ==, 0);

  g_assert_true (fs_error_state_re_raise (state, &error));
  g_assert_no_error (error);
  g_assert_true (fs_error_state_re_raise (state, NULL));
}

static void
test_set_copies (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) raised = NULL;
  GError *original;

  original = g_error_new_literal (TEST_ERROR, 7, "the original message");
  fs_error_state_set (state, original);

  /* Mutate the caller's error, then free it: the state keeps its copy. */
  g_free (original->message);
  original->message = g_strdup ("changed after set");
  original->code = 99;
  original->domain = G_IO_ERROR;

  g_assert_false (fs_error_state_re_raise (state, &raised));
  g_assert_true (raised != original);
  assert_error_is (raised, TEST_ERROR, 7, "the original message");

  g_error_free (original);

  errors = fs_error_state_dup_errors (state);
  g_assert_cmpuint (errors->len, ==, 1);
  assert_error_is (g_ptr_array_index (errors, 0), TEST_ERROR, 7, "the original message");
}

static void
test_order_kept (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GPtrArray) errors = NULL;
  const char *messages[] = { "first", "second", "third", "fourth" };

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (TEST_ERROR, (int) i, messages[i]);

      fs_error_state_set (state, error);
      g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, i + 1);
    }

  errors = fs_error_state_dup_errors (state);
  g_assert_cmpuint (errors->len, ==, G_N_ELEMENTS (messages));
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    assert_error_is (g_ptr_array_index (errors, i), TEST_ERROR, (int) i, messages[i]);
}

static void
test_has_error (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GError) error = g_error_new_literal (TEST_ERROR, 1, "boom");

  /* A method only since 0.2: it changes on whichever thread records an
   * error, where no notification may be emitted. */
  g_assert_null (g_object_class_find_property (G_OBJECT_GET_CLASS (state), "has-error"));

  g_assert_false (fs_error_state_get_has_error (state));

  fs_error_state_set (state, error);
  g_assert_true (fs_error_state_get_has_error (state));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 1);

  fs_error_state_set (state, error);
  g_assert_true (fs_error_state_get_has_error (state));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 2);

  fs_error_state_clear (state);
  g_assert_false (fs_error_state_get_has_error (state));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 0);
}

static void
test_dup_errors_copies (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GPtrArray) first = NULL;
  g_autoptr(GPtrArray) second = NULL;
  g_autoptr(GPtrArray) third = NULL;
  g_autoptr(GError) a = g_error_new_literal (TEST_ERROR, 1, "a");
  g_autoptr(GError) b = g_error_new_literal (TEST_ERROR, 2, "b");
  GError *copy;

  fs_error_state_set (state, a);
  fs_error_state_set (state, b);

  first = fs_error_state_dup_errors (state);
  second = fs_error_state_dup_errors (state);
  g_assert_cmpuint (first->len, ==, 2);
  g_assert_cmpuint (second->len, ==, 2);
  g_assert_true (first != second);
  for (guint i = 0; i < 2; i++)
    g_assert_true (g_ptr_array_index (first, i) != g_ptr_array_index (second, i));

  /* Changing or dropping a copy does not reach the state. */
  copy = g_ptr_array_index (first, 0);
  g_free (copy->message);
  copy->message = g_strdup ("scribbled");
  copy->code = 42;
  g_ptr_array_remove_index (first, 1);
  g_clear_pointer (&first, g_ptr_array_unref);

  /* The state does not see errors added to a copy, either. */
  g_ptr_array_add (second, g_error_new_literal (TEST_ERROR, 3, "c"));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 2);

  third = fs_error_state_dup_errors (state);
  g_assert_cmpuint (third->len, ==, 2);
  assert_error_is (g_ptr_array_index (third, 0), TEST_ERROR, 1, "a");
  assert_error_is (g_ptr_array_index (third, 1), TEST_ERROR, 2, "b");
}

static void
test_re_raise (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GError) a = g_error_new_literal (TEST_ERROR, 1, "first failure");
  g_autoptr(GError) b = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "second failure");
  GError *raised = NULL;
  GError *raised_again = NULL;

  g_assert_true (fs_error_state_re_raise (state, &raised));
  g_assert_null (raised);

  fs_error_state_set (state, a);
  fs_error_state_set (state, b);

  /* The first error, every time, and never consumed. */
  g_assert_false (fs_error_state_re_raise (state, &raised));
  assert_error_is (raised, TEST_ERROR, 1, "first failure");
  g_assert_true (raised != a);

  g_assert_false (fs_error_state_re_raise (state, &raised_again));
  assert_error_is (raised_again, TEST_ERROR, 1, "first failure");
  g_assert_true (raised_again != raised);

  /* Each raise is its own copy: freeing one leaves the state whole. */
  g_clear_error (&raised);
  g_clear_error (&raised_again);

  g_assert_false (fs_error_state_re_raise (state, NULL));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 2);
  g_assert_true (fs_error_state_get_has_error (state));

  g_assert_false (fs_error_state_re_raise (state, &raised));
  assert_error_is (raised, TEST_ERROR, 1, "first failure");
  g_clear_error (&raised);
}

static void
test_clear (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new ();
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) old = g_error_new_literal (TEST_ERROR, 1, "old");
  g_autoptr(GError) fresh = g_error_new_literal (TEST_ERROR, 2, "fresh");
  g_autoptr(GError) raised = NULL;

  /* Clearing an empty state is harmless. */
  fs_error_state_clear (state);
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 0);

  fs_error_state_set (state, old);
  fs_error_state_set (state, old);
  fs_error_state_clear (state);

  g_assert_false (fs_error_state_get_has_error (state));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 0);
  g_assert_true (fs_error_state_re_raise (state, NULL));

  errors = fs_error_state_dup_errors (state);
  g_assert_cmpuint (errors->len, ==, 0);

  /* After a clear, the next error is the first one again. */
  fs_error_state_set (state, fresh);
  g_assert_false (fs_error_state_re_raise (state, &raised));
  assert_error_is (raised, TEST_ERROR, 2, "fresh");
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 1);
}

/* Bounded states. */

static void
set_numbered (FsErrorState *state,
              guint         n)
{
  g_autoptr(GError) error = g_error_new (TEST_ERROR, (int) n, "error %u", n);

  fs_error_state_set (state, error);
}

/* Asserts that @state keeps the errors numbered @first, then @from to
 * @to, in that order. */
static void
assert_kept (FsErrorState *state,
             guint         first,
             guint         from,
             guint         to)
{
  g_autoptr(GPtrArray) errors = fs_error_state_dup_errors (state);
  g_autofree char *message = g_strdup_printf ("error %u", first);

  g_assert_cmpuint (errors->len, ==, 1 + (to + 1 - from));
  assert_error_is (g_ptr_array_index (errors, 0), TEST_ERROR, (int) first, message);
  for (guint i = from; i <= to; i++)
    {
      g_autofree char *expected = g_strdup_printf ("error %u", i);

      assert_error_is (g_ptr_array_index (errors, 1 + i - from), TEST_ERROR, (int) i, expected);
    }
}

static void
test_bounded (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new_bounded (3);
  g_autoptr(GError) raised = NULL;
  guint max_errors = 0;

  g_assert_cmpuint (fs_error_state_get_max_errors (state), ==, 3);
  g_object_get (state, "max-errors", &max_errors, NULL);
  g_assert_cmpuint (max_errors, ==, 3);
  g_assert_false (fs_error_state_get_has_error (state));

  /* Up to the bound, every error is kept. */
  for (guint i = 0; i < 3; i++)
    set_numbered (state, i);
  assert_kept (state, 0, 1, 2);

  /* Then the first stays, and the newest others. */
  for (guint i = 3; i < 10; i++)
    {
      set_numbered (state, i);
      assert_kept (state, 0, i - 1, i);
      g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, i + 1);
    }

  g_assert_false (fs_error_state_re_raise (state, &raised));
  assert_error_is (raised, TEST_ERROR, 0, "error 0");
  g_assert_true (fs_error_state_get_has_error (state));

  /* A clear starts again, bound and all. */
  fs_error_state_clear (state);
  g_assert_false (fs_error_state_get_has_error (state));
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 0);
  g_assert_cmpuint (fs_error_state_get_max_errors (state), ==, 3);
  for (guint i = 20; i < 25; i++)
    set_numbered (state, i);
  assert_kept (state, 20, 23, 24);
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 5);
}

static void
test_bounded_to_one (void)
{
  g_autoptr(FsErrorState) state = fs_error_state_new_bounded (1);
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) raised = NULL;

  for (guint i = 0; i < 5; i++)
    set_numbered (state, i);

  /* Only the first, which re_raise gives. */
  errors = fs_error_state_dup_errors (state);
  g_assert_cmpuint (errors->len, ==, 1);
  assert_error_is (g_ptr_array_index (errors, 0), TEST_ERROR, 0, "error 0");
  g_assert_false (fs_error_state_re_raise (state, &raised));
  assert_error_is (raised, TEST_ERROR, 0, "error 0");
  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, 5);
}

static void
test_bounded_zero_refused (void)
{
  /* A programmer error: a state that could keep nothing. */
  g_test_expect_message ("Fs", G_LOG_LEVEL_CRITICAL, "*max_errors >= 1*");
  g_assert_null (fs_error_state_new_bounded (0));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Fs", G_LOG_LEVEL_CRITICAL, "*FS_IS_ERROR_STATE*");
  g_assert_cmpuint (fs_error_state_get_max_errors (NULL), ==, 0);
  g_test_assert_expected_messages ();
}

#define N_DEFAULT_FAILURES 2000
#define BIG_MESSAGE_BYTES  (64 * 1024)

/* The process-wide state is bounded: a process that fails for weeks keeps
 * the first failure and the newest, not all of them. */
/* Whether AddressSanitizer or valgrind runs this process: both hold freed
 * memory back, so resident memory says nothing about what is kept. */
static gboolean
under_memory_checker (void)
{
  g_autofree char *maps = NULL;

#ifdef FS_TEST_UNDER_ASAN
  return TRUE;
#endif
  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return TRUE;
  return strstr (maps, "vgpreload") != NULL || strstr (maps, "libasan") != NULL;
}

static void
test_default_bounded (void)
{
  FsErrorState *state = fs_error_state_get_default ();
  g_autofree char *padding = g_strnfill (BIG_MESSAGE_BYTES, 'x');
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) first_before = NULL;
  g_autoptr(GError) raised = NULL;
  gboolean had_error;
  guint before;
  guint64 rss_start = 0;

  g_assert_cmpuint (fs_error_state_get_max_errors (state), ==, FS_ERROR_STATE_DEFAULT_MAX_ERRORS);

  before = fs_error_state_get_n_errors (state);
  had_error = !fs_error_state_re_raise (state, &first_before);

  for (guint i = 0; i < N_DEFAULT_FAILURES; i++)
    {
      /* Each error carries 64 KiB: kept all, they would take 125 MiB. */
      g_autoptr(GError) error = g_error_new (TEST_ERROR, (int) i, "failure %u %s", i, padding);

      fs_error_state_set (state, error);
      if (i == FS_ERROR_STATE_DEFAULT_MAX_ERRORS)
        rss_start = resident_kib ();
    }

  g_assert_cmpuint (fs_error_state_get_n_errors (state), ==, before + N_DEFAULT_FAILURES);
  g_assert_true (fs_error_state_get_has_error (state));

  /* At most the bound; with so many failures, exactly. */
  errors = fs_error_state_dup_errors (state);
  g_assert_cmpuint (errors->len, ==, FS_ERROR_STATE_DEFAULT_MAX_ERRORS);

  /* The first error is still the one re_raise gives... */
  g_assert_false (fs_error_state_re_raise (state, &raised));
  if (had_error)
    {
      g_assert_error (raised, first_before->domain, first_before->code);
      g_assert_cmpstr (raised->message, ==, first_before->message);
    }
  else
    {
      g_assert_error (raised, TEST_ERROR, 0);
      g_assert_true (g_str_has_prefix (raised->message, "failure 0 "));
    }
  assert_error_is (g_ptr_array_index (errors, 0), raised->domain, raised->code, raised->message);

  /* ...and the others are the newest, in order. */
  for (guint i = 1; i < errors->len; i++)
    {
      guint expected = N_DEFAULT_FAILURES - errors->len + i;
      g_autofree char *prefix = g_strdup_printf ("failure %u ", expected);
      const GError *error = g_ptr_array_index (errors, i);

      g_assert_error (error, TEST_ERROR, (int) expected);
      g_assert_true (g_str_has_prefix (error->message, prefix));
    }

  /* Memory: once the state is full, the 1900-odd errors after it did not
   * add to what the process holds (125 MiB if they were kept; a few MiB
   * of slack for the allocator). */
  g_clear_pointer (&errors, g_ptr_array_unref);
  g_test_message ("resident memory once full: %" G_GUINT64_FORMAT " KiB, at the end: %"
                  G_GUINT64_FORMAT " KiB", rss_start, resident_kib ());
  /* AddressSanitizer and valgrind keep freed memory aside on purpose. */
  if (!under_memory_checker ())
    g_assert_cmpuint (resident_kib (), <, rss_start + 16 * 1024);
}

#define N_SETTERS 8
#define N_SETS    1000

typedef struct
{
  FsErrorState *state;
  FsTestGate    gate;
} Concurrent;

typedef struct
{
  Concurrent *shared;
  int         id;
} Setter;

static gpointer
setter_thread (gpointer data)
{
  Setter *setter = data;

  fs_test_gate_wait (&setter->shared->gate);

  for (guint i = 0; i < N_SETS; i++)
    {
      GError *error = g_error_new (TEST_ERROR, setter->id, "%u", i);

      fs_error_state_set (setter->shared->state, error);
      g_error_free (error);
    }

  return NULL;
}

static void
test_concurrent_sets (void)
{
  Concurrent shared;
  Setter setters[N_SETTERS];
  GThread *threads[N_SETTERS];
  guint next[N_SETTERS] = { 0 };
  g_autoptr(GPtrArray) errors = NULL;

  shared.state = fs_error_state_new ();
  fs_test_gate_init (&shared.gate);

  for (guint i = 0; i < N_SETTERS; i++)
    {
      setters[i].shared = &shared;
      setters[i].id = (int) i;
      threads[i] = g_thread_new ("setter", setter_thread, &setters[i]);
    }

  fs_test_gate_open (&shared.gate);
  for (guint i = 0; i < N_SETTERS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (fs_error_state_get_n_errors (shared.state), ==, N_SETTERS * N_SETS);
  g_assert_true (fs_error_state_get_has_error (shared.state));

  /* Every error is there once, and each thread's errors in its order. */
  errors = fs_error_state_dup_errors (shared.state);
  g_assert_cmpuint (errors->len, ==, N_SETTERS * N_SETS);
  for (guint i = 0; i < errors->len; i++)
    {
      GError *error = g_ptr_array_index (errors, i);
      guint64 seq;

      g_assert_true (error->domain == TEST_ERROR);
      g_assert_cmpint (error->code, >=, 0);
      g_assert_cmpint (error->code, <, N_SETTERS);
      g_assert_true (g_ascii_string_to_unsigned (error->message, 10, 0, N_SETS - 1, &seq, NULL));
      g_assert_cmpuint (seq, ==, next[error->code]);
      next[error->code]++;
    }
  for (guint i = 0; i < N_SETTERS; i++)
    g_assert_cmpuint (next[i], ==, N_SETS);

  fs_test_gate_clear (&shared.gate);
  g_object_unref (shared.state);
}

/* Many threads at a bounded state: every error counted, the bound kept,
 * the first error the first one set, each thread's kept errors in its
 * order. */
static void
test_bounded_concurrent_sets (void)
{
  Concurrent shared;
  Setter setters[N_SETTERS];
  GThread *threads[N_SETTERS];
  gint64 last[N_SETTERS];
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) raised = NULL;

  shared.state = fs_error_state_new_bounded (16);
  fs_test_gate_init (&shared.gate);

  for (guint i = 0; i < N_SETTERS; i++)
    {
      setters[i].shared = &shared;
      setters[i].id = (int) i;
      last[i] = -1;
      threads[i] = g_thread_new ("setter", setter_thread, &setters[i]);
    }

  fs_test_gate_open (&shared.gate);
  for (guint i = 0; i < N_SETTERS; i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (fs_error_state_get_n_errors (shared.state), ==, N_SETTERS * N_SETS);

  errors = fs_error_state_dup_errors (shared.state);
  g_assert_cmpuint (errors->len, ==, 16);
  for (guint i = 0; i < errors->len; i++)
    {
      GError *error = g_ptr_array_index (errors, i);
      guint64 seq;

      g_assert_true (error->domain == TEST_ERROR);
      g_assert_cmpint (error->code, >=, 0);
      g_assert_cmpint (error->code, <, N_SETTERS);
      g_assert_true (g_ascii_string_to_unsigned (error->message, 10, 0, N_SETS - 1, &seq, NULL));
      /* Nothing was set before the first. */
      if (i == 0)
        g_assert_cmpuint (seq, ==, 0);
      g_assert_cmpint ((gint64) seq, >, last[error->code]);
      last[error->code] = (gint64) seq;
      /* The newest is the last set of all: some thread's last. */
      if (i == errors->len - 1)
        g_assert_cmpuint (seq, ==, N_SETS - 1);
    }

  g_assert_false (fs_error_state_re_raise (shared.state, &raised));
  g_assert_error (raised, TEST_ERROR, ((GError *) g_ptr_array_index (errors, 0))->code);
  g_assert_cmpstr (raised->message, ==, "0");

  fs_test_gate_clear (&shared.gate);
  g_object_unref (shared.state);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  /* First: nothing else has asked for the default state yet. */
  g_test_add_func ("/error-state/default-singleton", test_default_singleton);
  g_test_add_func ("/error-state/new-is-empty", test_new_is_empty);
  g_test_add_func ("/error-state/set-copies", test_set_copies);
  g_test_add_func ("/error-state/order-kept", test_order_kept);
  g_test_add_func ("/error-state/has-error", test_has_error);
  g_test_add_func ("/error-state/dup-errors-copies", test_dup_errors_copies);
  g_test_add_func ("/error-state/re-raise", test_re_raise);
  g_test_add_func ("/error-state/clear", test_clear);
  g_test_add_func ("/error-state/concurrent-sets", test_concurrent_sets);
  g_test_add_func ("/error-state/bounded", test_bounded);
  g_test_add_func ("/error-state/bounded/to-one", test_bounded_to_one);
  g_test_add_func ("/error-state/bounded/zero-refused", test_bounded_zero_refused);
  g_test_add_func ("/error-state/bounded/default", test_default_bounded);
  g_test_add_func ("/error-state/bounded/concurrent-sets", test_bounded_concurrent_sets);

  return g_test_run ();
}
