/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fsthread-demo.c: a parallel sha256sum, in the order of the walk
 *
 * A background generator walks the tree as find does and reads the files
 * ahead; a map hashes them on a group of worker threads and hands the sums
 * back in the order of the walk. The output is the same, byte for byte, as
 * `find DIR -xtype f -print0 | xargs -0 sha256sum`, so two runs give the
 * same output and `sha256sum -c` checks it.
 *
 *                 ┌──────────┐  Entry  ┌─ map ──────┐  Sum   ┌────────────┐
 *   DIR ─walk──▶  │  walker  │ ──────▶ │ worker_0   │ ─────▶ │ main thread│ ──▶ stdout
 *                 │ (yields) │ ≤ N     │ worker_1   │ order  │ (prints)   │ ──▶ stderr
 *                 └──────────┘         │   ...      │        └────────────┘
 *                                      └────────────┘
 *
 * The main thread takes the sums with a blocking next() whose wait a
 * signal ends: Ctrl-C writes to a pipe that is the thread's interrupt
 * descriptor (fs_wait_set_interrupt_fd()).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <fsthread.h>

#ifdef HAVE_NETTLE
# include <nettle/sha2.h>
#endif

/* A tree every Debian system has, big enough to show the threads at work. */
#define DEFAULT_DIR "/usr/share"

/* Files up to this size are read whole by the walker, ahead of the
 * workers. Bigger ones travel as a name that the worker opens and reads in
 * chunks, so that the read-ahead never holds more than prefetch × this,
 * nor any open file. */
#define READ_AHEAD_MAX (1024 * 1024)

/* The buffer a worker streams a big file through. */
#define CHUNK_SIZE (256 * 1024)

/* The default read-ahead of the walker: enough entries to smooth out a run
 * of small files, and no more than DEFAULT_PREFETCH_MAX × READ_AHEAD_MAX. */
#define DEFAULT_PREFETCH_PER_THREAD 16
#define DEFAULT_PREFETCH_MAX 256

/* The sums finished ahead of the printer: they are small, and room for
 * many lets the other workers go on while one hashes a big file. */
#define RESULTS_PER_THREAD 256

#define MAX_THREADS 1024
#define MAX_PREFETCH 65536

enum {
  EXIT_OK = 0,
  EXIT_ENTRY_FAILED = 1,
  EXIT_USAGE = 2,
  /* and 128 + the signal's number when interrupted, as a shell reports */
};

/* ------------------------------------------------------------------ */
/* SHA-256: nettle's (which uses the CPU's SHA instructions) when built  */
/* with it, GLib's otherwise.                                          */

typedef struct
{
#ifdef HAVE_NETTLE
  struct sha256_ctx  ctx;
#else
  GChecksum         *checksum;
#endif
} Hasher;

static void
hasher_init (Hasher *hasher)
{
#ifdef HAVE_NETTLE
  sha256_init (&hasher->ctx);
#else
  hasher->checksum = g_checksum_new (G_CHECKSUM_SHA256);
#endif
}

static void
hasher_update (Hasher        *hasher,
               gconstpointer  data,
               gsize          length)
{
#ifdef HAVE_NETTLE
  sha256_update (&hasher->ctx, length, data);
#else
  g_checksum_update (hasher->checksum, data, length);
#endif
}

/* Appends the digest in hexadecimal to @line; the hasher is done. */
static void
hasher_finish (Hasher  *hasher,
               GString *line)
{
#ifdef HAVE_NETTLE
  guint8 digest[SHA256_DIGEST_SIZE];

  sha256_digest (&hasher->ctx, sizeof digest, digest);
  for (guint i = 0; i < sizeof digest; i++)
    g_string_append_printf (line, "%02x", digest[i]);
#else
  g_string_append (line, g_checksum_get_string (hasher->checksum));
  g_checksum_free (hasher->checksum);
#endif
}

static const char *
hasher_name (void)
{
#ifdef HAVE_NETTLE
  return "nettle";
#else
  return "GLib";
#endif
}

/* ------------------------------------------------------------------ */
/* Entries: what the walker hands to the workers                       */

/* One file of the tree: its contents, or why it cannot be read, or
 * neither for a big file the worker reads. */
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

static Entry *
error_entry (const char *path,
             int         saved_errno)
{
  Entry *entry = entry_new (path);

  set_error_from_errno (&entry->error, saved_errno);

  return entry;
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

/* ------------------------------------------------------------------ */
/* The walker: runs on the generator's thread                          */

/* One name of a directory, as readdir() gave it. */
typedef struct
{
  ino_t          d_ino;
  unsigned char  d_type;
  char           name[];
} Name;

/* find (GNU's, through gnulib's fts) reads a directory of more than this
 * many names in the order of their inodes, faster on most file systems;
 * the walk does the same, so that its order stays find's. */
#define INODE_SORT_THRESHOLD 10000

static int
compare_inodes (gconstpointer a,
                gconstpointer b)
{
  const Name *x = *(const Name * const *) a;
  const Name *y = *(const Name * const *) b;

  return (x->d_ino > y->d_ino) - (x->d_ino < y->d_ino);
}

/* Where fts does not sort: file systems whose inode order means nothing. */
static gboolean
inode_sort_useful (int fd)
{
  struct statfs sfs;

  if (fstatfs (fd, &sfs) < 0)
    return FALSE;
  switch ((unsigned long) sfs.f_type)
    {
    case 0x01021994:   /* tmpfs */
    case 0x6969:       /* nfs */
      return FALSE;
    default:
      return TRUE;
    }
}

/* A directory being walked: all its names (read first, as find does), and
 * the next to visit. */
typedef struct
{
  DIR       *dir;
  char      *path;
  GPtrArray *names;
  guint      next;
} Frame;

static void
frame_free (gpointer data)
{
  Frame *frame = data;

  if (frame->dir != NULL)
    closedir (frame->dir);
  g_free (frame->path);
  g_ptr_array_unref (frame->names);
  g_free (frame);
}

/* Opens and reads the directory @path. Below the root a directory is
 * never entered through a link, even one swapped in since readdir() said
 * it was a directory. Returns %NULL with errno set. */
static Frame *
frame_open (const char *path,
            gboolean    is_root,
            int        *read_errno)
{
  Frame *frame;
  struct dirent *dirent;
  DIR *dir;
  int fd;

  *read_errno = 0;
  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | (is_root ? 0 : O_NOFOLLOW));
  if (fd < 0)
    return NULL;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      int saved_errno = errno;

      close (fd);
      errno = saved_errno;
      return NULL;
    }

  frame = g_new0 (Frame, 1);
  frame->dir = dir;
  frame->path = g_strdup (path);
  frame->names = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      gsize length;
      Name *name;

      errno = 0;
      if ((dirent = readdir (dir)) == NULL)
        {
          /* The names read so far are walked, then the error reported. */
          *read_errno = errno;
          break;
        }
      if (strcmp (dirent->d_name, ".") == 0 || strcmp (dirent->d_name, "..") == 0)
        continue;

      length = strlen (dirent->d_name);
      name = g_malloc (sizeof (Name) + length + 1);
      name->d_ino = dirent->d_ino;
      name->d_type = dirent->d_type;
      memcpy (name->name, dirent->d_name, length + 1);
      g_ptr_array_add (frame->names, name);
    }

  if (frame->names->len > INODE_SORT_THRESHOLD && inode_sort_useful (dirfd (dir)))
    g_ptr_array_sort (frame->names, compare_inodes);

  return frame;
}

/* What to do with one name: a directory to enter (*@enter set), an entry
 * to yield, or nothing. As `find -xtype f`: regular files and links to
 * regular files; links to anything else (directories, special files, or
 * nothing: a dangling link, which Debian's packages ship) are skipped,
 * like fifos, sockets and devices, which are never opened. */
static Entry *
visit (int            dir_fd,
       const Name    *name,
       const char    *path,
       gboolean      *enter)
{
  unsigned char d_type = name->d_type;
  struct stat st;

  *enter = FALSE;

  if (d_type == DT_UNKNOWN)
    {
      /* Some file systems do not fill in d_type: ask lstat(). */
      if (fstatat (dir_fd, name->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
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
      *enter = TRUE;
      return NULL;

    case DT_REG:
      return read_file (dir_fd, name->name, path, FALSE);

    case DT_LNK:
      if (fstatat (dir_fd, name->name, &st, 0) < 0 || !S_ISREG (st.st_mode))
        return NULL;
      return read_file (dir_fd, name->name, path, TRUE);

    default:
      /* Fifos, sockets, devices. */
      return NULL;
    }
}

/* The generator function: walks @root depth first, each directory's names
 * in the order readdir() gives them, entering a directory where it is met:
 * the order of find. */
static gboolean
walk (FsGenerator  *generator,
      gpointer      user_data,
      GError      **error)
{
  const char *root = user_data;
  g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func (frame_free);
  struct stat st;
  Frame *frame;
  int read_errno;

  /* The root is followed if it is a link, as `find -H` does. A root that
   * cannot be read is an error, whatever it is. */
  if (stat (root, &st) < 0)
    return fs_generator_yield (generator, error_entry (root, errno), error);

  if (!S_ISDIR (st.st_mode))
    {
      Entry *entry = S_ISREG (st.st_mode) ? read_file (AT_FDCWD, root, root, TRUE)
                                          : error_entry (root, ENOTDIR);

      return entry == NULL || fs_generator_yield (generator, entry, error);
    }

  frame = frame_open (root, TRUE, &read_errno);
  if (frame == NULL)
    return fs_generator_yield (generator, error_entry (root, errno), error);
  if (read_errno != 0 && !fs_generator_yield (generator, error_entry (root, read_errno), error))
    {
      frame_free (frame);
      return FALSE;
    }
  g_ptr_array_add (stack, frame);

  while (stack->len > 0)
    {
      g_autofree char *child = NULL;
      gboolean enter;
      Entry *entry;
      Name *name;

      frame = g_ptr_array_index (stack, stack->len - 1);
      if (frame->next == frame->names->len)
        {
          g_ptr_array_remove_index (stack, stack->len - 1);
          continue;
        }
      name = g_ptr_array_index (frame->names, frame->next++);

      child = g_build_filename (frame->path, name->name, NULL);
      entry = visit (dirfd (frame->dir), name, child, &enter);

      if (enter)
        {
          Frame *sub = frame_open (child, FALSE, &read_errno);

          if (sub == NULL)
            entry = error_entry (child, errno);
          else
            {
              g_ptr_array_add (stack, sub);
              if (read_errno != 0)
                entry = error_entry (child, read_errno);
            }
        }

      if (entry != NULL && !fs_generator_yield (generator, entry, error))
        return FALSE;
    }

  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The workers: the map's function                                     */

/* What a worker hands back for one entry: the line to print, or the
 * error to report, or nothing (skipped). */
typedef struct
{
  char    *line;
  char    *error;
  guint64  n_bytes;
} Sum;

static void
sum_free (gpointer data)
{
  Sum *sum = data;

  g_free (sum->line);
  g_free (sum->error);
  g_free (sum);
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

/* Hashes a big file, read in chunks. Returns %FALSE with @error set when
 * it cannot be read or the map is stopping; sets *@skip when it is no
 * longer a regular file. */
static gboolean
hash_stream (Hasher        *hasher,
             Entry         *entry,
             guint64       *n_bytes,
             gboolean      *skip,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autofree guint8 *buffer = NULL;
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

  buffer = g_malloc (CHUNK_SIZE);
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

      hasher_update (hasher, buffer, n);
      *n_bytes += n;
    }

  close (fd);
  return ret;
}

static gboolean
hash_entry (gpointer   item,
            gpointer  *result,
            gpointer   user_data,
            GError   **error)
{
  Entry *entry = item;
  GCancellable *cancellable = fs_thread_get_cancellable (fs_thread_get_current ());
  g_autoptr(GError) read_error = NULL;
  Sum *sum = g_new0 (Sum, 1);
  GString *line;
  Hasher hasher;

  *result = sum;

  if (entry->error != NULL)
    {
      g_autofree char *display = g_filename_display_name (entry->path);

      sum->error = g_strdup_printf ("%s: %s", display, entry->error->message);
      return TRUE;
    }

  hasher_init (&hasher);
  if (entry->contents != NULL)
    {
      gsize length;
      gconstpointer data = g_bytes_get_data (entry->contents, &length);

      hasher_update (&hasher, data, length);
      sum->n_bytes = length;
    }
  else
    {
      gboolean skip;

      if (!hash_stream (&hasher, entry, &sum->n_bytes, &skip, cancellable, &read_error) || skip)
        {
          g_autofree char *display = g_filename_display_name (entry->path);

          /* Finish the hasher all the same: GLib's holds memory. */
          line = g_string_new (NULL);
          hasher_finish (&hasher, line);
          g_string_free (line, TRUE);
          if (read_error != NULL)
            sum->error = g_strdup_printf ("%s: %s", display, read_error->message);
          return TRUE;
        }
    }

  line = g_string_sized_new (80 + strlen (entry->path));
  hasher_finish (&hasher, line);
  g_string_append (line, "  ");
  if (append_escaped_path (line, entry->path))
    g_string_prepend_c (line, '\\');
  g_string_append_c (line, '\n');
  sum->line = g_string_free (line, FALSE);

  return TRUE;
}

/* ------------------------------------------------------------------ */
/* The main thread                                                     */

/* Set by the signal handler; its pipe ends the main thread's wait. */
static volatile sig_atomic_t stop_signal;
static int signal_pipe[2] = { -1, -1 };

static void
on_signal (int signal_number)
{
  int saved_errno = errno;
  char byte = (char) signal_number;

  stop_signal = signal_number;
  /* A second signal finds the default action: it ends the demo at once. */
  signal (SIGINT, SIG_DFL);
  signal (SIGTERM, SIG_DFL);
  if (write (signal_pipe[1], &byte, 1) < 0)
    {
      /* Full: a byte is there already. */
    }
  errno = saved_errno;
}

static gboolean
catch_signals (GError **error)
{
  struct sigaction action = { 0 };

  if (!g_unix_open_pipe (signal_pipe, FD_CLOEXEC, error) ||
      !g_unix_set_fd_nonblocking (signal_pipe[0], TRUE, error) ||
      !g_unix_set_fd_nonblocking (signal_pipe[1], TRUE, error))
    return FALSE;

  action.sa_handler = on_signal;
  sigemptyset (&action.sa_mask);
  /* Writes of sums restart; the wait for the next sum ends on the pipe. */
  action.sa_flags = SA_RESTART;
  sigaction (SIGINT, &action, NULL);
  sigaction (SIGTERM, &action, NULL);

  fs_wait_set_interrupt_fd (signal_pipe[0]);
  return TRUE;
}

/* A size as g_format_size() writes it, with a plain space when the locale
 * cannot show its no-break space (under LANG=C it would print as "?"). */
static char *
format_size (guint64 size)
{
  char *text = g_format_size (size);
  const char *nbsp = "\302\240";
  char *p;

  if (g_get_charset (NULL))
    return text;
  while ((p = strstr (text, nbsp)) != NULL)
    {
      *p = ' ';
      memmove (p + 1, p + 2, strlen (p + 2) + 1);
    }
  return text;
}

typedef struct
{
  gint64    start_time;
  guint     n_threads;
  guint64   n_files;
  guint64   n_bytes;
  guint     n_errors;
  gboolean  show_progress;
  gboolean  stdout_is_tty;
  gboolean  progress_visible;
} Demo;

static double
elapsed_seconds (Demo *demo)
{
  return (g_get_monotonic_time () - demo->start_time) / (double) G_USEC_PER_SEC;
}

static void
erase_progress (Demo *demo)
{
  if (demo->progress_visible)
    {
      fputs ("\r\033[K", stderr);
      demo->progress_visible = FALSE;
    }
}

static void
draw_progress (Demo *demo)
{
  g_autofree char *size = format_size (demo->n_bytes);
  g_autofree char *rate = NULL;
  double seconds = elapsed_seconds (demo);

  rate = format_size (seconds > 0 ? (guint64) (demo->n_bytes / seconds) : 0);
  fprintf (stderr, "\r%" G_GUINT64_FORMAT " files, %s, %s/s\033[K", demo->n_files, size, rate);
  demo->progress_visible = TRUE;
}

static void
print_summary (Demo *demo)
{
  g_autofree char *size = format_size (demo->n_bytes);
  g_autofree char *rate = NULL;
  double seconds = elapsed_seconds (demo);

  rate = format_size (seconds > 0 ? (guint64) (demo->n_bytes / seconds) : 0);
  g_printerr ("%" G_GUINT64_FORMAT " files, %" G_GUINT64_FORMAT " bytes (%s) "
              "in %.2f s (%s/s), %u error%s, %u thread%s (SHA-256 of %s)%s\n",
              demo->n_files, demo->n_bytes, size, seconds, rate,
              demo->n_errors, demo->n_errors == 1 ? "" : "s",
              demo->n_threads, demo->n_threads == 1 ? "" : "s", hasher_name (),
              stop_signal != 0 ? ", interrupted" : "");
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
  FsBackgroundGenerator *walker, *sums;
  gint threads = -1;
  gint prefetch = -1;
  const char *root;
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
    "sha256sum’s, in the order of the walk: the same as\n"
    "“find DIR -xtype f -print0 | xargs -0 sha256sum”. Check it with “sha256sum -c”.\n"
    "Links to files are followed; links to directories, to special files or to\n"
    "nothing are skipped, as find’s -xtype f does.");
  g_option_context_set_description (context,
    "Exit status: 0 when every file was hashed, 1 when some could not be (or DIR\n"
    "itself), 2 on bad usage, 128 + N when stopped by signal N (130 for Ctrl-C).");
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

  demo.n_threads = threads;
  demo.show_progress = isatty (STDERR_FILENO);
  demo.stdout_is_tty = isatty (STDOUT_FILENO);
  demo.start_time = g_get_monotonic_time ();

  if (!catch_signals (&error))
    {
      g_printerr ("%s: %s\n", g_get_prgname (), error->message);
      return EXIT_ENTRY_FAILED;
    }

  /* The walk starts at once, reading ahead; the map hashes on the
   * workers and hands the sums back in the order of the walk. */
  walker = fs_background_generator_new (prefetch, "walker", walk,
                                        g_strdup (root), g_free, entry_free);
  sums = fs_background_generator_map (walker, threads, RESULTS_PER_THREAD * threads,
                                      FS_MAP_NONE, hash_entry, NULL, NULL, sum_free);
  g_object_unref (walker);

  while (stop_signal == 0)
    {
      FsWaitStatus wait;
      gpointer item;
      Sum *sum;

      wait = fs_background_generator_next (sums, &item, demo.show_progress ? 250000 : -1,
                                           NULL, &error);
      if (wait == FS_WAIT_TIMED_OUT)
        {
          draw_progress (&demo);
          continue;
        }
      if (wait == FS_WAIT_FAILED)
        {
          /* The map itself failed (a thread could not be made). */
          erase_progress (&demo);
          g_printerr ("%s: %s\n", g_get_prgname (), error->message);
          status = EXIT_ENTRY_FAILED;
          break;
        }
      if (wait != FS_WAIT_OK)
        break;   /* the end, or interrupted: stop_signal says */

      sum = item;
      if (sum->line != NULL)
        {
          /* On a terminal, the progress line makes room for the sum. */
          if (demo.stdout_is_tty)
            erase_progress (&demo);
          fputs (sum->line, stdout);
          demo.n_files++;
        }
      else if (sum->error != NULL)
        {
          erase_progress (&demo);
          g_printerr ("%s: %s\n", g_get_prgname (), sum->error);
          demo.n_errors++;
        }
      demo.n_bytes += sum->n_bytes;
      sum_free (sum);
    }

  /* Stops the workers (after Ctrl-C), frees the sums and entries nobody
   * took, and waits for the walker. */
  fs_background_generator_close (sums, -1, NULL);
  g_object_unref (sums);
  fs_wait_set_interrupt_fd (-1);

  erase_progress (&demo);
  if (fflush (stdout) != 0 || ferror (stdout))
    {
      g_printerr ("%s: write error: %s\n", g_get_prgname (), g_strerror (errno));
      status = MAX (status, EXIT_ENTRY_FAILED);
    }

  print_summary (&demo);

  if (demo.n_errors > 0)
    status = MAX (status, EXIT_ENTRY_FAILED);
  if (stop_signal != 0)
    status = 128 + stop_signal;

  return status;
}
