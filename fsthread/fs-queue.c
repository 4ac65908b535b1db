/* fs-queue.c: the bounded handoff between a generator and its consumers
 *
 * One producer, any number of consumers, synchronous or asynchronous.
 *
 * The bound: the producer's push enqueues and then waits until the queue
 * holds fewer than `capacity` items, so that when it returns the generator
 * may make one more. Items queued plus the one the generator is making never
 * exceed `capacity`.
 *
 * End of stream, the generator's error and the consumer's close are flags
 * beside the items, never values among them, so every pointer (NULL too) is
 * an item. GAsyncQueue is not used: it refuses NULL, has no bound, and can
 * only be woken by pushing a value.
 *
 * Ownership: an item belongs to the generator until push is called, then to
 * the queue, then to the consumer that pops it. Close frees every item the
 * queue holds; a push after close frees its item at once.
 *
 * How items flow. They live in a ring of slots indexed by two counters that
 * only grow: `tail`, the items ever published, which only the producer
 * writes, and `head`, the items ever taken, which a consumer advances with a
 * compare-and-swap: that is what gives each item to exactly one consumer. A
 * push writes its slot and then publishes the new tail; a pop reads the slot
 * at the head and claims it. While items flow nobody takes the mutex, makes
 * a system call or allocates. The ring holds `capacity` slots rounded up to a
 * power of two; it starts at no more than RING_INITIAL_MAX and doubles when
 * more items are queued, so a huge capacity costs nothing until it is used.
 * Since fewer than `capacity` items are queued when a push starts, the slot
 * it writes was taken already.
 *
 * How threads wait. A thread with nothing to do first spins, since the
 * other side is often a cache miss away: for about as long as its recent
 * waits lasted, at most SPIN_MAX_USEC, and not at all when they were longer
 * (see spin_learn()); when the other side last ran on the same CPU, it
 * yields the CPU a few times instead (see spin_init()). Then it sleeps on a
 * condition under the mutex, after announcing itself: consumers in
 * `n_sleeping` or `n_async`, the producer in `producer_want`, the head it
 * waits for. The other side reads the announcement after each publish or
 * take. Between an announcement and the sleeper's last look at the
 * counters, and between a publish (or take) and the read of the
 * announcements, there is a full fence, so at least one of the two sees the
 * other: no wakeup is lost, and the side that does not sleep pays one
 * fence, not a system call.
 *
 * Only one wakeup of a consumer is in flight at a time (`wake_sent`): the
 * consumer it wakes passes it on if items and sleepers remain. A full queue
 * makes the producer wait until there is room for `batch` items (a quarter
 * of the capacity, at least one), so that a fast producer and a fast
 * consumer take turns in batches instead of bouncing on every item; the
 * bound is the same, the producer only waits a little longer than it must.
 *
 * The slow operations (close, the end, asynchronous waiters, sleeping) take
 * the mutex, which also orders them with one another.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#ifdef __linux__
# include <sched.h>
#endif

#include "fs-error.h"
#include "fs-queue-private.h"
#include "fs-task-private.h"

/* The largest ring allocated before it is needed. */
#define RING_INITIAL_MAX 1024

/* How long a thread spins, pausing the CPU, before it sleeps: adapted per
 * side of each queue between 0 and SPIN_MAX_USEC (see spin_learn()). The
 * pauses between two looks at the other side double up to
 * SPIN_BACKOFF_MAX, so that a spinning thread does not keep stealing the
 * cache line the other side writes; the clock is read about every
 * SPIN_CLOCK_EVERY pauses. Each side notes the CPU it runs on when it
 * waits, and every SPIN_CPU_EVERY items; a thread whose partner last ran
 * on its CPU yields it up to SPIN_YIELDS times instead of pausing, except
 * one wait in SPIN_SLEEP_EVERY, which sleeps at once. A side whose budget
 * fell to 0 spins for SPIN_MIN_USEC one wait in SPIN_PROBE_EVERY. No spin
 * outlasts the deadline of a timed wait. */
#define SPIN_MAX_USEC 50
#define SPIN_MIN_USEC 4
#define SPIN_BACKOFF_MAX 32
#define SPIN_CLOCK_EVERY 64
#define SPIN_CPU_EVERY 64
#define SPIN_YIELDS 8
#define SPIN_SLEEP_EVERY 8
#define SPIN_PROBE_EVERY 16

#define CACHE_LINE 64

#define load_relaxed(p)      __atomic_load_n ((p), __ATOMIC_RELAXED)
#define load_acquire(p)      __atomic_load_n ((p), __ATOMIC_ACQUIRE)
#define load_seq_cst(p)      __atomic_load_n ((p), __ATOMIC_SEQ_CST)
#define store_relaxed(p, v)  __atomic_store_n ((p), (v), __ATOMIC_RELAXED)
#define store_release(p, v)  __atomic_store_n ((p), (v), __ATOMIC_RELEASE)
#define store_seq_cst(p, v)  __atomic_store_n ((p), (v), __ATOMIC_SEQ_CST)
#define full_fence()         __atomic_thread_fence (__ATOMIC_SEQ_CST)

/* What a side of the queue learnt about spinning (see spin_learn()). */
typedef struct
{
  guint budget;        /* microseconds */
  gint  cpu;           /* the CPU this side last ran on, or -1 */
  guint shared_waits;  /* waits that found the partner on the same CPU */
  guint idle_waits;    /* waits that started with a budget of 0 */
} SpinState;

typedef struct _Ring Ring;

struct _Ring
{
  Ring     *retired;     /* the ring this one replaced: freed with the queue */
  guint64   mask;        /* slots - 1 */
  gpointer  slots[];
};

struct _FsQueue
{
  /* Set at creation. */
  gatomicrefcount  ref_count;
  guint            capacity;
  guint64          batch;
  GDestroyNotify   item_free;

  /* The producer's: written on every push. */
  guint64          tail __attribute__ ((aligned (CACHE_LINE)));
  Ring            *ring;
  guint64          head_seen;     /* the producer's last look at head */
  SpinState        producer_spin;

  /* The consumers': written on every pop. */
  guint64          head __attribute__ ((aligned (CACHE_LINE)));
  guint64          tail_seen;     /* a consumer's last look at tail */
  SpinState        consumer_spin; /* shared by the consumers */

  /* Announcements and state: read on every push and pop, written seldom.
   * Written under the mutex, read anywhere. */
  gint             n_sleeping __attribute__ ((aligned (CACHE_LINE)));
  gint             n_async;       /* the length of async_waiters */
  gint             wake_sent;     /* a not_empty signal is in flight */
  gint             ended;
  gint             closed;
  guint64          producer_want; /* 0, or the head the producer sleeps for */

  GMutex           mutex __attribute__ ((aligned (CACHE_LINE)));
  GCond            not_empty;
  GCond            not_full;
  GQueue           async_waiters;
  GError          *error;         /* set before ended */
};

/* What a finished pop_async carries. */
typedef struct
{
  gpointer       item;
  gboolean       has_item;
  GDestroyNotify item_free;
} Slot;

/* Spinning. */

typedef struct
{
  gint64   start;      /* when the wait began */
  gint64   deadline;   /* when the spin ends */
  guint    backoff;    /* pauses per step */
  guint    pauses;     /* since the clock was last read */
  gint64   end_time;   /* the caller's deadline, or -1 */
  gboolean pausing;
  guint    yields;     /* left to do, when the partner shares this CPU */
  gboolean learn;      /* whether this wait says anything about spinning */
} Spin;

/* Spinning helps only when the other side can run at the same time. */
static gboolean
spin_allowed (void)
{
  static gsize allowed = 0;

  if (g_once_init_enter (&allowed))
    g_once_init_leave (&allowed, g_get_num_processors () > 1 ? 2 : 1);

  return allowed == 2;
}

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#elif defined(__aarch64__)
  __asm__ __volatile__ ("yield" ::: "memory");
#else
  __asm__ __volatile__ ("" ::: "memory");
#endif
}

static inline gint
current_cpu (void)
{
#ifdef __linux__
  return sched_getcpu ();
#else
  return -1;
#endif
}

/* Starts a wait of the side @mine for the side @partner, which ends by
 * @end_time (or -1) at the latest. */
static inline void
spin_init (Spin      *spin,
           SpinState *mine,
           SpinState *partner,
           gint64     end_time)
{
  guint budget = load_relaxed (&mine->budget);
  gboolean shared = TRUE;
  guint yields = SPIN_YIELDS;

  if (spin_allowed ())
    {
      gint cpu = current_cpu ();

      store_relaxed (&mine->cpu, cpu);
      shared = cpu >= 0 && cpu == load_relaxed (&partner->cpu);
      /* Now and then sleep at once: waking up, a thread is put on an idle
       * CPU if there is one, which threads that keep yielding to each
       * other are not. */
      if (shared)
        {
          guint n = load_relaxed (&mine->shared_waits) + 1;

          store_relaxed (&mine->shared_waits, n);
          if (n % SPIN_SLEEP_EVERY == 0)
            yields = 0;
        }
    }

  /* A side that stopped spinning (its waits were long) tries a short spin
   * now and then, to notice when they are short again. */
  if (budget == 0)
    {
      guint n = load_relaxed (&mine->idle_waits) + 1;

      store_relaxed (&mine->idle_waits, n);
      if (n % SPIN_PROBE_EVERY == 0)
        budget = SPIN_MIN_USEC;
    }

  spin->start = g_get_monotonic_time ();
  spin->deadline = spin->start + budget;
  spin->end_time = end_time;
  if (end_time >= 0 && end_time < spin->deadline)
    spin->deadline = end_time;
  spin->backoff = 1;
  spin->pauses = 0;

  /* The partner last ran on this CPU (or there is only one): pausing would
   * only keep it from running, and how long the wait takes says little.
   * Giving it the CPU instead hands over without a sleep, and a thread
   * that stays runnable lets the scheduler move one of the two to an idle
   * CPU, if there is one. */
  spin->pausing = !shared && budget > 0;
  spin->yields = shared ? yields : 0;
  spin->learn = !shared;
}

/* One step of a bounded spin. Returns FALSE when it is time to sleep. */
static inline gboolean
spin_step (Spin *spin)
{
  if (!spin->pausing)
    {
      if (spin->yields == 0)
        return FALSE;
      /* A yield may last long on a busy machine: mind the deadline. */
      if (spin->end_time >= 0 && g_get_monotonic_time () >= spin->end_time)
        return FALSE;
      spin->yields--;
      g_thread_yield ();
      return TRUE;
    }

  for (guint i = 0; i < spin->backoff; i++)
    cpu_relax ();
  spin->pauses += spin->backoff;
  if (spin->backoff < SPIN_BACKOFF_MAX)
    spin->backoff *= 2;

  if (spin->pauses >= SPIN_CLOCK_EVERY)
    {
      spin->pauses = 0;
      if (g_get_monotonic_time () >= spin->deadline)
        spin->pausing = FALSE;
    }

  return TRUE;
}

/* After a wait that got what it waited for, spun for or slept for: the
 * budget moves halfway towards twice the time the wait took, or towards 0
 * when that was more than SPIN_MAX_USEC. So a thread spins about as long
 * as its waits last when they are short, and does not spin when they are
 * long (a slow partner). A wait that slept counts too, so a pair that fell
 * into sleeping on every item, each waiting for the other to wake up,
 * learns to spin through it. */
static inline void
spin_learn (Spin      *spin,
            SpinState *mine)
{
  guint old = load_relaxed (&mine->budget);
  gint64 took;
  guint target;

  if (!spin->learn)
    return;

  took = g_get_monotonic_time () - spin->start;
  target = took <= SPIN_MAX_USEC ? CLAMP (2 * took, SPIN_MIN_USEC, SPIN_MAX_USEC) : 0;
  store_relaxed (&mine->budget, (old + target + (target > old)) / 2);
}

/* The ring. */

static Ring *
ring_new (guint64 n_slots)
{
  Ring *ring = g_malloc0 (sizeof (Ring) + n_slots * sizeof (gpointer));

  ring->mask = n_slots - 1;
  return ring;
}

static guint64
round_up_pow2 (guint64 n)
{
  guint64 p = 1;

  while (p < n)
    p <<= 1;
  return p;
}

static gboolean
ring_has_items (FsQueue *self)
{
  return load_acquire (&self->tail) > load_acquire (&self->head);
}

/* Takes the item at the head, if one is published. Any thread may call it:
 * the compare-and-swap gives each item to exactly one caller. The slot is
 * read before the claim: the producer reuses a slot only once its item is
 * claimed, so the value read belongs to whoever claims it. */
static gboolean
ring_take (FsQueue  *self,
           gpointer *item,
           guint64  *new_head)
{
  guint64 head = load_relaxed (&self->head);

  for (;;)
    {
      guint64 tail = load_acquire (&self->tail_seen);
      gpointer value;
      Ring *ring;

      if (head >= tail)
        {
          tail = load_acquire (&self->tail);
          if (head >= tail)
            return FALSE;
          /* Consumers share what they saw, so the next pops need not read
           * the producer's cache line. A lower value stored by a slower
           * consumer is still true, only older. */
          store_release (&self->tail_seen, tail);
        }

      /* Loaded after the tail: a ring replaced before the item at `head`
       * was published is not seen here. */
      ring = load_acquire (&self->ring);
      value = load_relaxed (&ring->slots[head & ring->mask]);
      if (__atomic_compare_exchange_n (&self->head, &head, head + 1, FALSE,
                                       __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
        {
          *item = value;
          if (new_head != NULL)
            *new_head = head + 1;
          return TRUE;
        }
      /* Another consumer took it: `head` now holds the new head. */
    }
}

/* On the producer: the ring is full of unclaimed items and the capacity
 * allows more. The old ring stays readable (consumers may still be reading
 * it) until the queue is freed. */
static Ring *
ring_grow (FsQueue *self,
           Ring    *old,
           guint64  tail)
{
  guint64 head = load_acquire (&self->head);
  Ring *ring = ring_new ((old->mask + 1) * 2);

  for (guint64 i = head; i < tail; i++)
    store_relaxed (&ring->slots[i & ring->mask],
                   load_relaxed (&old->slots[i & old->mask]));
  ring->retired = old;
  store_release (&self->ring, ring);

  return ring;
}

FsQueue *
_fs_queue_new (guint          capacity,
               GDestroyNotify item_free)
{
  FsQueue *self;

  g_return_val_if_fail (capacity >= 1, NULL);

  self = g_aligned_alloc0 (1, sizeof (FsQueue), G_ALIGNOF (FsQueue));
  g_atomic_ref_count_init (&self->ref_count);
  self->capacity = capacity;
  self->batch = MAX (1, capacity / 4);
  self->item_free = item_free;
  self->producer_spin.budget = SPIN_MAX_USEC;
  self->producer_spin.cpu = -1;
  self->consumer_spin.budget = SPIN_MAX_USEC;
  self->consumer_spin.cpu = -1;
  self->ring = ring_new (round_up_pow2 (MIN (capacity, RING_INITIAL_MAX)));
  g_mutex_init (&self->mutex);
  g_cond_init (&self->not_empty);
  g_cond_init (&self->not_full);
  g_queue_init (&self->async_waiters);

  return self;
}

FsQueue *
_fs_queue_ref (FsQueue *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
free_item (FsQueue  *self,
           gpointer  item)
{
  if (self->item_free != NULL)
    self->item_free (item);
}

void
_fs_queue_free_item (FsQueue  *self,
                     gpointer  item)
{
  free_item (self, item);
}

static void
free_items (FsQueue *self,
            GQueue  *items)
{
  gpointer item;

  while (!g_queue_is_empty (items))
    {
      item = g_queue_pop_head (items);
      free_item (self, item);
    }
}

/* Frees every item still queued. */
static void
drain (FsQueue *self)
{
  gpointer item;

  while (ring_take (self, &item, NULL))
    free_item (self, item);
}

void
_fs_queue_unref (FsQueue *self)
{
  Ring *ring;

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;

  g_assert (g_queue_is_empty (&self->async_waiters));

  drain (self);
  ring = self->ring;
  while (ring != NULL)
    {
      Ring *retired = ring->retired;

      g_free (ring);
      ring = retired;
    }
  g_clear_error (&self->error);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->not_empty);
  g_cond_clear (&self->not_full);
  g_aligned_free (self);
}

guint
_fs_queue_capacity (FsQueue *self)
{
  return self->capacity;
}

static void
slot_free (gpointer data)
{
  Slot *slot = data;

  if (slot->has_item && slot->item_free != NULL)
    slot->item_free (slot->item);
  g_free (slot);
}

static Slot *
slot_new_item (FsQueue  *self,
               gpointer  item)
{
  Slot *slot = g_new0 (Slot, 1);

  slot->item = item;
  slot->has_item = TRUE;
  slot->item_free = self->item_free;
  return slot;
}

/* On the task's context, from a worker: the slot is the result. */
static void
deliver_slot (GTask    *task,
              gpointer  data)
{
  g_task_return_pointer (task, data, slot_free);
}

/* On the task's context, from a worker: the end, or the generator's error. */
static void
deliver_end (GTask    *task,
             gpointer  data)
{
  if (data != NULL)
    g_task_return_error (task, data);
  else
    g_task_return_pointer (task, g_new0 (Slot, 1), slot_free);
}

static void
deliver_closed (GTask    *task,
                gpointer  data)
{
  g_task_return_new_error (task, FS_ERROR, FS_ERROR_CLOSED,
                           "The background generator is closed");
}

/* Called with the lock held: the caller must complete the tasks left in
 * @waiters after unlocking. */
static void
steal_waiters (FsQueue *self,
               GQueue  *waiters)
{
  *waiters = self->async_waiters;
  g_queue_init (&self->async_waiters);
  store_relaxed (&self->n_async, 0);
}

/* With the lock held: wakes one sleeping consumer for the items queued,
 * unless a wakeup is already on its way. */
static void
wake_consumer_locked (FsQueue *self)
{
  if (load_relaxed (&self->n_sleeping) > 0 &&
      !load_relaxed (&self->wake_sent) &&
      ring_has_items (self))
    {
      store_relaxed (&self->wake_sent, TRUE);
      g_cond_signal (&self->not_empty);
    }
}

/* After a take that left the head at @new_head: wakes the producer if it
 * sleeps until then, and another consumer if items remain for it. */
static void
after_take (FsQueue  *self,
            guint64   new_head,
            gboolean  locked)
{
  guint64 want = load_seq_cst (&self->producer_want);
  gboolean wake_producer = want != 0 && new_head >= want;
  gboolean wake_consumer = load_acquire (&self->n_sleeping) > 0 &&
                           !load_relaxed (&self->wake_sent);

  if G_LIKELY (!wake_producer && !wake_consumer)
    return;

  if (!locked)
    g_mutex_lock (&self->mutex);

  want = load_relaxed (&self->producer_want);
  if (want != 0 && load_acquire (&self->head) >= want)
    {
      store_relaxed (&self->producer_want, 0);
      g_cond_signal (&self->not_full);
    }
  wake_consumer_locked (self);

  if (!locked)
    g_mutex_unlock (&self->mutex);
}

/* With the lock held: hands queued items to the asynchronous waiters, in
 * order, as pairs (task, item) in @handed, to complete after unlocking. */
static void
hand_to_waiters_locked (FsQueue *self,
                        GQueue  *handed)
{
  while (!g_queue_is_empty (&self->async_waiters))
    {
      gpointer item;
      guint64 new_head;

      if (!ring_take (self, &item, &new_head))
        break;
      after_take (self, new_head, TRUE);
      g_queue_push_tail (handed, g_queue_pop_head (&self->async_waiters));
      g_queue_push_tail (handed, item);
      store_relaxed (&self->n_async, self->n_async - 1);
    }
}

static void
complete_handed (FsQueue *self,
                 GQueue  *handed)
{
  while (!g_queue_is_empty (handed))
    {
      GTask *task = g_queue_pop_head (handed);
      gpointer item = g_queue_pop_head (handed);

      _fs_task_complete_in_context (task, deliver_slot,
                                    slot_new_item (self, item), slot_free);
    }
}

/* On the producer, after a publish that found someone waiting. */
static void
notify_consumers (FsQueue *self)
{
  GQueue handed = G_QUEUE_INIT;

  g_mutex_lock (&self->mutex);
  hand_to_waiters_locked (self, &handed);
  wake_consumer_locked (self);
  g_mutex_unlock (&self->mutex);

  complete_handed (self, &handed);
}

/* On the producer, the queue full: waits until the consumers leave room
 * for `batch` items past @tail. Returns FALSE when the queue was closed;
 * the caller looks at the flag again after TRUE. */
static gboolean
wait_for_room (FsQueue *self,
               guint64  tail)
{
  guint64 want = tail - self->capacity + self->batch;
  gboolean closed;
  Spin spin;

  spin_init (&spin, &self->producer_spin, &self->consumer_spin, -1);
  while (spin_step (&spin))
    {
      guint64 head = load_acquire (&self->head);

      if (head >= want)
        {
          spin_learn (&spin, &self->producer_spin);
          self->head_seen = head;
          return TRUE;
        }
      if (load_relaxed (&self->closed))
        return FALSE;
    }

  g_mutex_lock (&self->mutex);
  while (!(closed = load_relaxed (&self->closed)))
    {
      store_seq_cst (&self->producer_want, want);
      if (load_seq_cst (&self->head) >= want)
        break;
      g_cond_wait (&self->not_full, &self->mutex);
    }
  store_relaxed (&self->producer_want, 0);
  g_mutex_unlock (&self->mutex);

  if (!closed)
    spin_learn (&spin, &self->producer_spin);
  self->head_seen = load_acquire (&self->head);
  return !closed;
}

gboolean
_fs_queue_push (FsQueue   *self,
                gpointer   item,
                GError   **error)
{
  guint64 tail;
  Ring *ring;

  if (load_acquire (&self->closed))
    {
      free_item (self, item);
      goto closed;
    }

  if G_UNLIKELY (load_relaxed (&self->ended))
    {
      free_item (self, item);
      g_critical ("An item was yielded after its generator function returned; it was freed");
      goto closed;
    }

  /* Only this thread writes the tail and the ring. */
  tail = load_relaxed (&self->tail);
  ring = load_relaxed (&self->ring);
  if G_UNLIKELY (tail - self->head_seen > ring->mask)
    {
      self->head_seen = load_acquire (&self->head);
      if (tail - self->head_seen > ring->mask)
        ring = ring_grow (self, ring, tail);
    }

  store_relaxed (&ring->slots[tail & ring->mask], item);
  store_release (&self->tail, tail + 1);
  full_fence ();

  if G_UNLIKELY (tail % SPIN_CPU_EVERY == 0)
    store_relaxed (&self->producer_spin.cpu, current_cpu ());

  /* Acquire: a consumer that announced itself reset wake_sent before. */
  if G_UNLIKELY (load_relaxed (&self->n_async) > 0 ||
                 (load_acquire (&self->n_sleeping) > 0 && !load_relaxed (&self->wake_sent)))
    notify_consumers (self);

  /* Closed while publishing: whatever close did not free is freed here. */
  if G_UNLIKELY (load_relaxed (&self->closed))
    {
      drain (self);
      goto closed;
    }

  /* The bound: fewer than capacity queued when push returns. */
  tail++;
  if (tail - self->head_seen < self->capacity)
    return TRUE;
  self->head_seen = load_acquire (&self->head);
  if (tail - self->head_seen >= self->capacity && !wait_for_room (self, tail))
    goto closed;
  /* The room may be the close's doing, which empties the queue after
   * setting the flag: then the flag is seen here. */
  if (!load_acquire (&self->closed))
    return TRUE;

closed:
  g_set_error_literal (error, FS_ERROR, FS_ERROR_CLOSED,
                       "The consumer closed the background generator");
  return FALSE;
}

void
_fs_queue_end (FsQueue      *self,
               const GError *error)
{
  GQueue handed = G_QUEUE_INIT;
  GQueue waiters;
  GTask *task;

  g_mutex_lock (&self->mutex);
  g_assert (!self->ended);
  if (error != NULL)
    self->error = g_error_copy (error);
  store_release (&self->ended, TRUE);
  full_fence ();
  /* Items published before the end go first; the waiters left, if any,
   * found the queue empty. */
  hand_to_waiters_locked (self, &handed);
  steal_waiters (self, &waiters);
  g_cond_broadcast (&self->not_empty);
  g_mutex_unlock (&self->mutex);

  complete_handed (self, &handed);
  while ((task = g_queue_pop_head (&waiters)))
    _fs_task_complete_in_context (task, deliver_end,
                                  error != NULL ? g_error_copy (error) : NULL,
                                  (GDestroyNotify) g_error_free);
}

static void
wake_consumers (GCancellable *cancellable,
                FsQueue      *self)
{
  g_mutex_lock (&self->mutex);
  g_cond_broadcast (&self->not_empty);
  g_mutex_unlock (&self->mutex);
}

/* Takes an item or the end, if there is one. Returns TRUE when the pop is
 * decided, with *ret its result. */
static gboolean
try_pop (FsQueue   *self,
         gpointer  *item,
         gboolean  *ret,
         gboolean   locked,
         GError   **error)
{
  guint64 new_head;
  gboolean ended;

  if G_UNLIKELY (load_acquire (&self->closed))
    {
      g_set_error_literal (error, FS_ERROR, FS_ERROR_CLOSED,
                           "The background generator is closed");
      *ret = FALSE;
      return TRUE;
    }

  /* The end is read before the items: every item published before it is
   * then seen. */
  ended = load_acquire (&self->ended);

  if (ring_take (self, item, &new_head))
    {
      after_take (self, new_head, locked);
      if G_UNLIKELY (new_head % SPIN_CPU_EVERY == 0)
        store_relaxed (&self->consumer_spin.cpu, current_cpu ());
      *ret = TRUE;
      return TRUE;
    }

  if (ended)
    {
      if (self->error != NULL)
        g_propagate_error (error, g_error_copy (self->error));
      *ret = FALSE;
      return TRUE;
    }

  return FALSE;
}

/* Spins until something may have changed: an item, the end, the close.
 * Returns FALSE when the spin is over, or @end_time passed, first. */
static gboolean
spin_for_item (FsQueue *self,
               Spin    *spin,
               gint64   end_time)
{
  if (end_time >= 0 && spin->start >= end_time)
    return FALSE;

  while (spin_step (spin))
    {
      if (ring_has_items (self) ||
          load_relaxed (&self->ended) ||
          load_relaxed (&self->closed))
        return TRUE;
    }

  return FALSE;
}

/* Waits for an item or the end until @end_time (monotonic, -1 for ever). */
gboolean
_fs_queue_pop_until (FsQueue       *self,
                     gpointer      *item,
                     gint64         end_time,
                     GCancellable  *cancellable,
                     GError       **error)
{
  gulong handler = 0;
  gboolean connected = FALSE;
  gboolean waited = FALSE;
  gboolean slept = FALSE;
  gboolean ret = FALSE;
  Spin spin;

  for (;;)
    {
      gboolean signalled = TRUE;

      /* A cancelled call takes nothing, even when items are queued, as GIO
       * calls do: a consumer told to stop does not drain the stream. */
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          ret = FALSE;
          break;
        }
      if (try_pop (self, item, &ret, FALSE, error))
        break;

      /* The producer is often about to publish: look again for a moment
       * before paying for a sleep and a wakeup. */
      if (!waited)
        {
          waited = TRUE;
          spin_init (&spin, &self->consumer_spin, &self->producer_spin, end_time);
          if (spin_for_item (self, &spin, end_time))
            continue;
        }

      if (cancellable != NULL && !connected)
        {
          /* Connect only when about to sleep: the fast path stays cheap.
           * Unlocked, since the handler runs at once if already cancelled
           * (and then the id is 0). */
          handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_consumers), self, NULL);
          connected = TRUE;
          continue;
        }

      g_mutex_lock (&self->mutex);
      __atomic_fetch_add (&self->n_sleeping, 1, __ATOMIC_RELEASE);
      full_fence ();
      if (!ring_has_items (self) &&
          !load_relaxed (&self->ended) &&
          !load_relaxed (&self->closed) &&
          !g_cancellable_is_cancelled (cancellable))
        {
          if (end_time < 0)
            g_cond_wait (&self->not_empty, &self->mutex);
          else
            signalled = g_cond_wait_until (&self->not_empty, &self->mutex, end_time);
        }
      __atomic_fetch_sub (&self->n_sleeping, 1, __ATOMIC_RELAXED);
      store_relaxed (&self->wake_sent, FALSE);
      g_mutex_unlock (&self->mutex);
      slept = TRUE;

      if (!signalled)
        {
          if (!g_cancellable_set_error_if_cancelled (cancellable, error) &&
              !try_pop (self, item, &ret, FALSE, error))
            {
              g_set_error_literal (error, FS_ERROR, FS_ERROR_TIMED_OUT,
                                   "Timed out waiting for the next item");
              ret = FALSE;
            }
          break;
        }
    }

  if (waited && ret)
    spin_learn (&spin, &self->consumer_spin);

  /* A wakeup this call received, and did not use for an item, goes on to
   * another sleeper. */
  if (slept && load_relaxed (&self->n_sleeping) > 0)
    {
      g_mutex_lock (&self->mutex);
      wake_consumer_locked (self);
      g_mutex_unlock (&self->mutex);
    }

  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  return ret;
}

gboolean
_fs_queue_pop (FsQueue       *self,
               gpointer      *item,
               GCancellable  *cancellable,
               GError       **error)
{
  return _fs_queue_pop_until (self, item, -1, cancellable, error);
}

static void
return_cancelled (GTask    *task,
                  gpointer  data)
{
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           "Stopped waiting for the next item");
}

/* An FsTaskCancelFunc, on the thread that cancels: takes the task, which
 * return_cancelled() then completes. */
static gboolean
pop_cancelled (gpointer  owner,
               GTask    *task)
{
  FsQueue *self = owner;
  gboolean mine;

  g_mutex_lock (&self->mutex);
  mine = g_queue_remove (&self->async_waiters, task);
  if (mine)
    store_relaxed (&self->n_async, self->n_async - 1);
  g_mutex_unlock (&self->mutex);

  return mine;
}

static void
complete_now (FsQueue  *self,
              GTask    *task,
              gboolean  ret,
              gpointer  item,
              GError   *error)
{
  if (ret)
    g_task_return_pointer (task, slot_new_item (self, item), slot_free);
  else
    deliver_end (task, error);
}

void
_fs_queue_pop_async (FsQueue             *self,
                     gpointer             source_object,
                     gpointer             source_tag,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;
  gpointer item = NULL;
  gboolean ret;

  task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  /* An item handed over as the cancellable fires is delivered, not lost. */
  g_task_set_check_cancellable (task, FALSE);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               "Stopped waiting for the next item");
      return;
    }

  if (try_pop (self, &item, &ret, FALSE, &error))
    {
      complete_now (self, task, ret, item, error);
      return;
    }

  g_mutex_lock (&self->mutex);

  /* Announced before the last look: a push either is seen here or sees
   * the waiter, and hands it the item. */
  __atomic_fetch_add (&self->n_async, 1, __ATOMIC_RELAXED);
  full_fence ();
  if (try_pop (self, &item, &ret, TRUE, &error))
    {
      store_relaxed (&self->n_async, self->n_async - 1);
      g_mutex_unlock (&self->mutex);
      complete_now (self, task, ret, item, error);
      return;
    }

  /* The queue outlives its waiters: each holds a reference. */
  g_object_set_data_full (G_OBJECT (task), "fs-queue", _fs_queue_ref (self),
                          (GDestroyNotify) _fs_queue_unref);
  g_queue_push_tail (&self->async_waiters, g_object_ref (task));

  g_mutex_unlock (&self->mutex);

  if (cancellable != NULL)
    _fs_task_watch_cancellable (task, cancellable, pop_cancelled, return_cancelled,
                                _fs_queue_ref (self), (GDestroyNotify) _fs_queue_unref);
}

gboolean
_fs_queue_pop_finish (GAsyncResult  *result,
                      gpointer      *item,
                      GError       **error)
{
  Slot *slot;
  gboolean ret;

  slot = g_task_propagate_pointer (G_TASK (result), error);
  if (slot == NULL)
    return FALSE;

  ret = slot->has_item;
  if (ret)
    {
      if (item != NULL)
        *item = slot->item;
      else if (slot->item_free != NULL)
        slot->item_free (slot->item);
      slot->has_item = FALSE;
    }
  slot_free (slot);

  return ret;
}

/* Returns: TRUE for the call that closed the queue */
gboolean
_fs_queue_close (FsQueue *self)
{
  GQueue items = G_QUEUE_INIT;
  GQueue waiters;
  gpointer item;
  GTask *task;

  g_mutex_lock (&self->mutex);
  if (load_relaxed (&self->closed))
    {
      g_mutex_unlock (&self->mutex);
      return FALSE;
    }
  store_release (&self->closed, TRUE);
  /* A push either sees the flag after publishing, or is seen here. */
  full_fence ();
  while (ring_take (self, &item, NULL))
    g_queue_push_tail (&items, item);
  steal_waiters (self, &waiters);
  g_cond_broadcast (&self->not_empty);
  g_cond_broadcast (&self->not_full);
  g_mutex_unlock (&self->mutex);

  free_items (self, &items);

  while ((task = g_queue_pop_head (&waiters)))
    _fs_task_complete_in_context (task, deliver_closed, NULL, NULL);

  return TRUE;
}

gboolean
_fs_queue_is_closed (FsQueue *self)
{
  return load_acquire (&self->closed);
}
