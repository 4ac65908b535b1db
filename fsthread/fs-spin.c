/* fs-spin.c: waiting a moment before sleeping
 *
 * A handoff whose other side is about to act costs a cache miss when the
 * waiting side looks again for a few microseconds, and a system call on
 * each side when it sleeps. So a waiting side spins for FS_SPIN_USEC at
 * most, pausing the CPU between looks, then sleeps. It never spins when
 * the process may use one CPU only: the other side could not run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-cpus.h"
#include "fs-spin-private.h"

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield");
#else
  __atomic_signal_fence (__ATOMIC_SEQ_CST);
#endif
}

gboolean
_fs_spin_allowed (void)
{
  static gint allowed = -1;   /* -1 unknown, 0 no, 1 yes */
  gint value = g_atomic_int_get (&allowed);

  if G_UNLIKELY (value < 0)
    {
      value = fs_total_cpus () > 1;
      g_atomic_int_set (&allowed, value);
    }
  return value;
}

void
_fs_spin_init (FsSpin *spin,
               guint   budget_usec,
               gint64  end_time)
{
  gint64 now;

  spin->n = 0;
  spin->deadline = 0;
  if (budget_usec == 0 || !_fs_spin_allowed ())
    return;
  now = g_get_monotonic_time ();
  spin->deadline = now + budget_usec;
  if (end_time >= 0 && end_time < spin->deadline)
    spin->deadline = end_time <= now ? 0 : end_time;
}

gboolean
_fs_spin_next (FsSpin *spin)
{
  if (spin->deadline == 0)
    return FALSE;

  /* The clock only every 32 looks: reading it costs more than a pause.
   * Then the CPU is offered too: when the other side waits for this CPU
   * (the machine is busy), it runs at once instead of after the spin. */
  if (++spin->n % 32 == 0)
    {
      if (g_get_monotonic_time () >= spin->deadline)
        {
          spin->deadline = 0;
          return FALSE;
        }
      g_thread_yield ();
      return TRUE;
    }
  cpu_relax ();
  return TRUE;
}
