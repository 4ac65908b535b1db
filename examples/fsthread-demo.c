/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsthread-demo.c: a parallel sha256sum
 *
 * One FsBackgroundGenerator walks the tree and reads the files ahead; an
 * FsMultiThread of workers takes the files from it and hashes them. The
 * output is the same as sha256sum's, so `sha256sum -c` checks it.
 *
 *                     ┌──────────┐  Entry  ┌──────────┐
 *   DIR ──readdir──▶  │  walker  │ ──────▶ │ worker_0 │ ──▶ stdout
 *                     │ (yields) │  queue  │ worker_1 │
 *                     └──────────┘ ≤ N     │   ...    │ ──▶ errors
 *                                          └──────────┘
 *
 * The main thread runs a main loop: it joins the workers asynchronously,
 * draws the progress line and handles Ctrl-C.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <fsthread.h>

/* A tree every Debian system has, big enough to show the threads at work. */
#define DEFAULT_DIR "/usr/share"

/* Files up to this size are read whole by the walker, ahead of the
 * workers. Bigger ones travel as a name that the worker opens and reads in
 * chunks, so that the queue never holds more than prefetch × this, nor any
 * open file. */
#define READ_AHEAD_MAX (1024 * 1024)

/* The buffer a worker streams a big file through. */
#define CHUNK_SIZE (256 * 1024)

/* The default read-ahead: enough entries to smooth out a run of small
 * files, and no more than DEFAULT_PREFETCH_MAX × READ_AHEAD_MAX of memory. */
#define DEFAULT_PREFETCH_PER_THREAD 16
#define DEFAULT_PREFETCH_MAX 256

#define MAX_THREADS 1024
#define MAX_PREFETCH 65536

enum {
  EXIT_OK = 0,
  EXIT_ENTRY_FAILED = 1,
  EXIT_USAGE = 2,
  /* and 128 + the signal's number when interrupted, as a shell reports */
};

/* One file of the tree, as the walker hands it to a worker: its contents,
 * or why it cannot be read, or neither for a big file the worker reads. */
typedef struct
{
  char     *path;      /* as printed: DIR joined with the relative path */
  GBytes   *contents;  /* the whole file, read ahead */
  GError   *error;     /* or why it cannot be read */
  gboolean  follow;    /* a big file: whether @path is a link to it */
} Entry;

static Entry *
entry_new (const char *path)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->path = g_strdup (path);

  return entry;
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_clear_pointer (&entry->contents, g_bytes_unref);
  g_clear_error (&entry->error);
  g_free (entry->path);
  g_free (entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Entry, entry_free)

static void
set_error_from_errno (GError **error,
                      int      saved_errno)
{
  g_set_error_literal (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       g_strerror (saved_errno));
}

/* Opens a file that lstat() (or, when @follow, stat()) said is regular.
 * O_NONBLOCK: should it have been replaced by a fifo in the meantime, the
 * open does not wait for a writer; fstat() then tells, and the caller skips
 * the entry. Returns the descriptor, or -1 with errno set. */
static int
open_regular (int          dir_fd,
              const char  *name,
              gboolean     follow,
              struct stat *st)
{
  int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  int fd;

  if (!follow)
    flags |= O_NOFOLLOW;

  do
    fd = openat (dir_fd, name, flags);
  while (fd < 0 && errno == EINTR);

  if (fd >= 0 && fstat (fd, st) < 0)
    {
      int saved_errno = errno;

      close (fd);
      errno = saved_errno;
      return -1;
    }

  return fd;
}

/* The walker: runs on the generator's thread. */

/* Reads @fd to its end; @size_hint is the size fstat() gave. */
static GBytes *
read_whole (int      fd,
            gsize    size_hint,
            GError **error)
{
  /* One byte more than expected, so that the end is seen without growing. */
  gsize allocated = size_hint + 1;
  guint8 *buffer = g_malloc (allocated);
  gsize length = 0;

  for (;;)
    {
      gssize n;

      if (length == allocated)
        {
          allocated *= 2;
          buffer = g_realloc (buffer, allocated);
        }

      n = read (fd, buffer + length, allocated - length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_error_from_errno (error, errno);
          g_free (buffer);
          return NULL;
        }
      if (n == 0)
        break;
      length += n;
    }

  return g_bytes_new_take (buffer, length);
}

/* Reads the file @name of @dir_fd, which the directory or lstat() said is
 * regular (or a symbolic link to a regular file, when @follow).
 *
 * Returns: (transfer full) (nullable): the entry, or %NULL to skip */
static Entry *
read_file (int         dir_fd,
           const char *name,
           const char *path,
           gboolean    follow)
{
  g_autoptr(Entry) entry = entry_new (path);
  struct stat st;
  int fd;

  fd = open_regular (dir_fd, name, follow, &st);
  if (fd < 0)
    {
      set_error_from_errno (&entry->error, errno);
      return g_steal_pointer (&entry);
    }

  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      return NULL;
    }

  if (st.st_size > READ_AHEAD_MAX)
    {
      /* The worker opens it again and reads it in chunks. */
      entry->follow = follow;
      close (fd);
      return g_steal_pointer (&entry);
    }

  entry->contents = read_whole (fd, st.st_size, &entry->error);
  close (fd);

  return g_steal_pointer (&entry);
}

static Entry *
error_entry (const char *path,
             int         saved_errno)
{
  Entry *entry = entry_new (path);

  set_error_from_errno (&entry->error, saved_errno);

  return entry;
}

/* Decides what to do with one name of a directory: queue a directory,
 * make an entry of a file, or skip it. Special files are never opened, nor
 * are the targets of symbolic links unless stat() says they are regular.
 *
 * Returns: (transfer full) (nullable): an entry to yield, or %NULL */
static Entry *
visit (int           dir_fd,
       const char   *name,
       const char   *path,
       unsigned char d_type,
       GPtrArray    *pending_dirs)
{
  struct stat st;

  if (d_type == DT_UNKNOWN)
    {
      /* Some file systems do not fill in d_type: ask lstat(). */
      if (fstatat (dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return error_entry (path, errno);

      if (S_ISDIR (st.st_mode))
        d_type = DT_DIR;
      else if (S_ISREG (st.st_mode))
        d_type = DT_REG;
      else if (S_ISLNK (st.st_mode))
        d_type = DT_LNK;
      else
        return NULL;
    }

  switch (d_type)
    {
    case DT_DIR:
      g_ptr_array_add (pending_dirs, g_strdup (path));
      return NULL;

    case DT_REG:
      return read_file (dir_fd, name, path, FALSE);

    case DT_LNK:
      /* sha256sum follows a link to a file; a link to a directory is not
       * followed, and one to a special file must not be opened. */
      if (fstatat (dir_fd, name, &st, 0) < 0)
        return error_entry (path, errno);
      if (!S_ISREG (st.st_mode))
        return NULL;
      return read_file (dir_fd, name, path, TRUE);

    default:
      /* Fifos, sockets, devices. */
      return NULL;
    }
}

/* Yields the entries of the directory @path, queueing its subdirectories.
 * Returns %FALSE only when the consumer closed the stream. */
static gboolean
walk_directory (FsGenerator  *generator,
                const char   *path,
                gboolean      is_root,
                GPtrArray    *pending_dirs,
                GError      **error)
{
  struct dirent *dirent;
  DIR *dir;
  int fd;

  /* Below the root a directory is never entered through a link, even one
   * swapped in since readdir() said it was a directory. */
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (is_root ? 0 : O_NOFOLLOW));
  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      return fs_generator_yield (generator, error_entry (path, saved_errno), error);
    }

  for (;;)
    {
      g_autofree char *child = NULL;
      Entry *entry;

      errno = 0;
      if ((dirent = readdir (dir)) == NULL)
        {
          if (errno != 0 &&
              !fs_generator_yield (generator, error_entry (path, errno), error))
            {
              closedir (dir);
              return FALSE;
            }
          break;
        }

      if (strcmp (dirent->d_name, ".") == 0 || strcmp (dirent->d_name, "..") == 0)
        continue;

      child = g_build_filename (path, dirent->d_name, NULL);
      entry = visit (dirfd (dir), dirent->d_name, child, dirent->d_type, pending_dirs);

      if (entry != NULL && !fs_generator_yield (generator, entry, error))
        {
          closedir (dir);
          return FALSE;
        }
    }

  closedir (dir);
  return TRUE;
}

/* The generator function: a depth-first walk with a stack of directories
 * still to read, in no particular order. */
static gboolean
walk (FsGenerator  *generator,
      gpointer      user_data,
      GError      **error)
{
  const char *root = user_data;
  g_autoptr(GPtrArray) pending_dirs = g_ptr_array_new_with_free_func (g_free);
  struct stat st;

  /* The root is followed if it is a link, as `find -H` does. */
  if (stat (root, &st) < 0)
    return fs_generator_yield (generator, error_entry (root, errno), error);

  if (!S_ISDIR (st.st_mode))
    {
      Entry *entry = S_ISREG (st.st_mode) ? read_file (AT_FDCWD, root, root, TRUE)
                                          : error_entry (root, ENOTDIR);

      return entry == NULL || fs_generator_yield (generator, entry, error);
    }

  if (!walk_directory (generator, root, TRUE, pending_dirs, error))
    return FALSE;

  while (pending_dirs->len > 0)
    {
      g_autofree char *dir = g_ptr_array_steal_index_fast (pending_dirs, pending_dirs->len - 1);

      if (!walk_directory (generator, dir, FALSE, pending_dirs, error))
        return FALSE;
    }

  return TRUE;
}

/* The workers. */

typedef struct
{
  FsBackgroundGenerator *generator;
  FsMultiThread         *workers;
  FsErrorState          *errors;
  GMainLoop             *loop;
  gint64                 start_time;
  guint                  n_threads;
  gboolean               show_progress;
  gboolean               stdout_is_tty;
  int                    stop_signal;  /* what interrupted the run, or 0 */
  guint                  sigint_id;
  guint                  sigterm_id;
  GError                *join_error;

  /* Guards stdout, the progress line and the counters. */
  GMutex                 output_lock;
  guint64                n_files;
  guint64                n_bytes;
  gboolean               progress_visible;
} Demo;

/* With the output lock held. */
static void
erase_progress_locked (Demo *demo)
{
  if (demo->progress_visible)
    {
      fputs ("\r\033[K", stderr);
      demo->progress_visible = FALSE;
    }
}

/* The file name as sha256sum prints it: a name with a backslash, a newline
 * or a carriage return has them escaped, and its line starts with a
 * backslash. Returns whether it escaped anything. */
static gboolean
append_escaped_path (GString    *line,
                     const char *path)
{
  if (strpbrk (path, "\\\n\r") == NULL)
    {
      g_string_append (line, path);
      return FALSE;
    }

  for (const char *p = path; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '\\':
          g_string_append (line, "\\\\");
          break;
        case '\n':
          g_string_append (line, "\\n");
          break;
        case '\r':
          g_string_append (line, "\\r");
          break;
        default:
          g_string_append_c (line, *p);
        }
    }

  return TRUE;
}

/* Prints the sum of @path, adding @n_bytes to the bytes hashed. */
static void
print_sum (Demo       *demo,
           GString    *line,
           GChecksum  *checksum,
           const char *path,
           gsize       n_bytes)
{
  g_string_truncate (line, 0);
  g_string_append (line, g_checksum_get_string (checksum));
  g_string_append (line, "  ");
  if (append_escaped_path (line, path))
    g_string_prepend_c (line, '\\');
  g_string_append_c (line, '\n');

  g_mutex_lock (&demo->output_lock);
  /* On a terminal, the progress line makes room for the sum. */
  if (demo->stdout_is_tty)
    erase_progress_locked (demo);
  fwrite (line->str, 1, line->len, stdout);
  demo->n_files++;
  demo->n_bytes += n_bytes;
  g_mutex_unlock (&demo->output_lock);
}

static void
count_bytes (Demo  *demo,
             gsize  n)
{
  g_mutex_lock (&demo->output_lock);
  demo->n_bytes += n;
  g_mutex_unlock (&demo->output_lock);
}

/* Records that @path could not be hashed, and by which worker, without
 * failing the worker: the others go on, and so does this one. */
static void
record_error (Demo         *demo,
              FsThread     *thread,
              const char   *path,
              const GError *error)
{
  g_autofree char *display = g_filename_display_name (path);
  g_autoptr(GError) named = g_error_new (error->domain, error->code, "%s: %s: %s",
                                         fs_thread_get_name (thread), display,
                                         error->message);

  fs_error_state_set (demo->errors, named);
}

/* Hashes a big file, read in chunks. Sets *@skip when it is no longer a
 * regular file. Returns %FALSE with @error set when it cannot be read or
 * the group is cancelled. */
static gboolean
hash_stream (Demo          *demo,
             GChecksum     *checksum,
             guint8        *buffer,
             Entry         *entry,
             gboolean      *skip,
             GCancellable  *cancellable,
             GError       **error)
{
  struct stat st;
  gboolean ret = FALSE;
  int fd;

  *skip = FALSE;

  fd = open_regular (AT_FDCWD, entry->path, entry->follow, &st);
  if (fd < 0)
    {
      set_error_from_errno (error, errno);
      return FALSE;
    }

  if (!S_ISREG (st.st_mode))
    {
      *skip = TRUE;
      close (fd);
      return TRUE;
    }

  for (;;)
    {
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        break;

      n = read (fd, buffer, CHUNK_SIZE);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_error_from_errno (error, errno);
          break;
        }
      if (n == 0)
        {
          ret = TRUE;
          break;
        }

      g_checksum_update (checksum, buffer, n);
      count_bytes (demo, n);
    }

  close (fd);
  return ret;
}

static gboolean
worker_main (FsThread  *thread,
             gpointer   user_data,
             GError   **error)
{
  Demo *demo = user_data;
  GCancellable *cancellable = fs_thread_get_cancellable (thread);
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GString) line = g_string_new (NULL);
  g_autofree guint8 *buffer = NULL;
  g_autoptr(GError) local_error = NULL;
  gpointer item;

  /* Every worker consumes from the one generator: each entry goes to
   * exactly one of them. The cancellable only stops a next() that waits:
   * while entries are queued it hands them out, so check it first. */
  FsWaitStatus status = FS_WAIT_CANCELLED;

  while (!g_cancellable_is_cancelled (cancellable) &&
         (status = fs_background_generator_next (demo->generator, &item, -1, cancellable,
                                                 &local_error)) == FS_WAIT_OK)
    {
      g_autoptr(Entry) entry = item;
      g_autoptr(GError) hash_error = NULL;
      gsize n_bytes = 0;

      g_checksum_reset (checksum);

      if (entry->error != NULL)
        {
          record_error (demo, thread, entry->path, entry->error);
          continue;
        }

      if (entry->contents != NULL)
        {
          gconstpointer data = g_bytes_get_data (entry->contents, &n_bytes);

          g_checksum_update (checksum, data, n_bytes);
        }
      else
        {
          gboolean skip;

          /* Its bytes are counted as they are read, for the progress line. */
          if (buffer == NULL)
            buffer = g_malloc (CHUNK_SIZE);

          if (!hash_stream (demo, checksum, buffer, entry, &skip, cancellable, &hash_error))
            {
              if (g_error_matches (hash_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                return TRUE;
              record_error (demo, thread, entry->path, hash_error);
              continue;
            }
          if (skip)
            continue;
        }

      print_sum (demo, line, checksum, entry->path, n_bytes);
    }

  /* Ctrl-C cancels the group: stopping then is not a failure; only the
   * generator's own failure comes with an error. */
  if (status != FS_WAIT_FAILED)
    return TRUE;

  /* The generator itself failed (its thread could not start, say). */
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/* The main thread. */

static double
elapsed_seconds (Demo *demo)
{
  return (g_get_monotonic_time () - demo->start_time) / (double) G_USEC_PER_SEC;
}

static gboolean
draw_progress (gpointer user_data)
{
  Demo *demo = user_data;
  g_autofree char *size = NULL;
  g_autofree char *rate = NULL;
  double seconds = elapsed_seconds (demo);
  guint64 n_files, n_bytes;

  g_mutex_lock (&demo->output_lock);
  n_files = demo->n_files;
  n_bytes = demo->n_bytes;

  size = g_format_size (n_bytes);
  rate = g_format_size (seconds > 0 ? (guint64) (n_bytes / seconds) : 0);
  fprintf (stderr, "\r%" G_GUINT64_FORMAT " files, %s, %s/s\033[K",
           n_files, size, rate);
  demo->progress_visible = TRUE;
  g_mutex_unlock (&demo->output_lock);

  return G_SOURCE_CONTINUE;
}

/* Ctrl-C: the workers see their group's cancellable and return, the
 * asynchronous join completes, and the main loop quits as usual. */
static void
interrupt (Demo *demo,
           int   signal_number)
{
  demo->stop_signal = signal_number;
  fs_multi_thread_cancel (demo->workers);

  /* With both sources gone, a second signal finds its default action. */
  g_clear_handle_id (&demo->sigint_id, g_source_remove);
  g_clear_handle_id (&demo->sigterm_id, g_source_remove);
}

static gboolean
on_sigint (gpointer user_data)
{
  interrupt (user_data, SIGINT);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sigterm (gpointer user_data)
{
  interrupt (user_data, SIGTERM);
  return G_SOURCE_REMOVE;
}

static void
workers_joined (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Demo *demo = user_data;

  fs_multi_thread_join_finish (FS_MULTI_THREAD (object), result, &demo->join_error);
  g_main_loop_quit (demo->loop);
}

static void
print_summary (Demo *demo,
               guint n_errors)
{
  g_autofree char *size = g_format_size (demo->n_bytes);
  g_autofree char *rate = NULL;
  double seconds = elapsed_seconds (demo);

  rate = g_format_size (seconds > 0 ? (guint64) (demo->n_bytes / seconds) : 0);
  g_printerr ("%" G_GUINT64_FORMAT " files, %" G_GUINT64_FORMAT " bytes (%s) "
              "in %.2f s (%s/s), %u error%s, %u thread%s%s\n",
              demo->n_files, demo->n_bytes, size, seconds, rate,
              n_errors, n_errors == 1 ? "" : "s",
              demo->n_threads, demo->n_threads == 1 ? "" : "s",
              demo->stop_signal != 0 ? ", interrupted" : "");
}

static int
usage_error (const char *message)
{
  g_printerr ("%s: %s\n", g_get_prgname (), message);
  g_printerr ("Try “%s --help” for more information.\n", g_get_prgname ());
  return EXIT_USAGE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FsMultiThread) workers = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  gint threads = -1;
  gint prefetch = -1;
  const char *root;
  guint progress_id = 0;
  int status = EXIT_OK;
  Demo demo = { 0, };
  const GOptionEntry entries[] = {
    { "threads", 't', G_OPTION_FLAG_NONE, G_OPTION_ARG_INT, &threads,
      "Hash with N worker threads (default: the CPUs this process may use)", "N" },
    { "prefetch", 'p', G_OPTION_FLAG_NONE, G_OPTION_ARG_INT, &prefetch,
      "Read at most N files ahead of the workers (default: 16 per thread, at most 256)", "N" },
    G_OPTION_ENTRY_NULL
  };

  setlocale (LC_ALL, "");

  context = g_option_context_new ("[DIR] — print the SHA-256 of every file under DIR");
  g_option_context_set_summary (context,
    "Walks DIR (default " DEFAULT_DIR ") on a background thread that reads the\n"
    "files ahead, and hashes them on a group of worker threads. The output is\n"
    "sha256sum’s: check it with “sha256sum -c”. Lines come in no particular order.\n"
    "Links to files are followed; links to directories and special files are not.");
  g_option_context_set_description (context,
    "Exit status: 0 when every file was hashed, 1 when some could not be,\n"
    "2 on bad usage, 128 + N when stopped by signal N (130 for Ctrl-C).");
  g_option_context_add_main_entries (context, entries, NULL);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (error->message);

  if (argc > 2)
    return usage_error ("Only one DIR can be given");
  if (threads == -1)
    threads = fs_total_cpus ();
  if (threads < 1 || threads > MAX_THREADS)
    return usage_error ("--threads must be from 1 to " G_STRINGIFY (MAX_THREADS));
  if (prefetch == -1)
    prefetch = MIN (DEFAULT_PREFETCH_PER_THREAD * threads, DEFAULT_PREFETCH_MAX);
  if (prefetch < 1 || prefetch > MAX_PREFETCH)
    return usage_error ("--prefetch must be from 1 to " G_STRINGIFY (MAX_PREFETCH));

  root = argc == 2 ? argv[1] : DEFAULT_DIR;

  g_mutex_init (&demo.output_lock);
  demo.n_threads = threads;
  demo.errors = fs_error_state_new ();
  demo.show_progress = isatty (STDERR_FILENO);
  demo.stdout_is_tty = isatty (STDOUT_FILENO);
  demo.loop = loop = g_main_loop_new (NULL, FALSE);
  demo.start_time = g_get_monotonic_time ();

  /* The walk starts at once, reading ahead while the workers start. */
  demo.generator = fs_background_generator_new (prefetch, "walker", walk,
                                                g_strdup (root), g_free,
                                                entry_free);

  /* Handled from the first sum on: the signals are seen by the main loop,
   * which runs once the workers are started. */
  demo.sigint_id = g_unix_signal_add (SIGINT, on_sigint, &demo);
  demo.sigterm_id = g_unix_signal_add (SIGTERM, on_sigterm, &demo);

  demo.workers = workers = fs_multi_thread_new ("worker", threads, worker_main, &demo, NULL);
  if (!fs_multi_thread_start (workers, &error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      g_clear_handle_id (&demo.sigint_id, g_source_remove);
      g_clear_handle_id (&demo.sigterm_id, g_source_remove);
      fs_background_generator_close (demo.generator, -1, NULL);
      g_clear_object (&demo.generator);
      g_clear_object (&demo.errors);
      g_mutex_clear (&demo.output_lock);
      return EXIT_ENTRY_FAILED;
    }

  if (demo.show_progress)
    progress_id = g_timeout_add (250, draw_progress, &demo);

  fs_multi_thread_join_async (workers, NULL, workers_joined, &demo);
  g_main_loop_run (loop);

  if (demo.stop_signal != 0)
    status = 128 + demo.stop_signal;

  g_clear_handle_id (&progress_id, g_source_remove);
  g_clear_handle_id (&demo.sigint_id, g_source_remove);
  g_clear_handle_id (&demo.sigterm_id, g_source_remove);

  /* Every worker has returned; closing wakes and joins the walker, which
   * may still be waiting to hand over an entry after Ctrl-C, and frees the
   * entries nobody took. */
  fs_background_generator_close (demo.generator, -1, NULL);
  g_clear_object (&demo.generator);

  g_mutex_lock (&demo.output_lock);
  erase_progress_locked (&demo);
  g_mutex_unlock (&demo.output_lock);

  if (fflush (stdout) != 0 || ferror (stdout))
    {
      g_printerr ("%s: write error: %s\n", g_get_prgname (), g_strerror (errno));
      status = MAX (status, EXIT_ENTRY_FAILED);
    }

  errors = fs_error_state_dup_errors (demo.errors);
  for (guint i = 0; i < errors->len; i++)
    {
      const GError *e = g_ptr_array_index (errors, i);

      g_printerr ("%s: %s\n", g_get_prgname (), e->message);
    }

  if (demo.join_error != NULL)
    {
      g_printerr ("%s: %s\n", g_get_prgname (), demo.join_error->message);
      g_clear_error (&demo.join_error);
      status = MAX (status, EXIT_ENTRY_FAILED);
    }

  print_summary (&demo, errors->len);

  if (errors->len > 0)
    status = MAX (status, EXIT_ENTRY_FAILED);

  g_clear_object (&demo.errors);
  g_mutex_clear (&demo.output_lock);

  return status;
}
