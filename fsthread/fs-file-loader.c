/* fs-file-loader.c: a background generator that reads files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-background-generator.h"
#include "fs-loaded-file-private.h"

typedef struct
{
  GPtrArray *files;
} Loader;

static void
loader_free (gpointer data)
{
  Loader *loader = data;

  g_ptr_array_unref (loader->files);
  g_free (loader);
}

/* Reads what @fd holds, in chunks, looking at @cancellable between them. */
static GBytes *
read_all (int            fd,
          gsize          size_hint,
          const char    *name,
          GCancellable  *cancellable,
          GError       **error)
{
  GByteArray *buffer = g_byte_array_sized_new (MIN (size_hint, 64 * 1024 * 1024) + 1);
  guint8 chunk[64 * 1024];

  for (;;)
    {
      gssize n = read (fd, chunk, sizeof chunk);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Error reading %s: %s", name, g_strerror (saved_errno));
          g_byte_array_unref (buffer);
          return NULL;
        }
      if (n == 0)
        break;
      g_byte_array_append (buffer, chunk, (guint) n);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_byte_array_unref (buffer);
          return NULL;
        }
    }

  return g_byte_array_free_to_bytes (buffer);
}

/* A local file: opened once, non-blocking, so that a fifo or a device (or
 * a link switched to one after any check) cannot block the open; what the
 * descriptor is, fstat() says, and only a regular file is read. Links are
 * followed. */
static GBytes *
load_local (GFile         *file,
            const char    *path,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autofree char *name = g_file_get_parse_name (file);
  struct stat st;
  GBytes *contents;
  int fd;

  do
    fd = open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Error opening %s: %s", name, g_strerror (saved_errno));
      return NULL;
    }

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", name);
      return NULL;
    }

  contents = read_all (fd, (gsize) st.st_size, name, cancellable, error);
  close (fd);
  return contents;
}

/* Any other file (a resource, a remote one): GIO says what it is. */
static GBytes *
load_other (GFile         *file,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;
  char *bytes = NULL;
  gsize length = 0;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL)
    return NULL;
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_autofree char *name = g_file_get_parse_name (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", name);
      return NULL;
    }
  if (!g_file_load_contents (file, cancellable, &bytes, &length, NULL, error))
    return NULL;
  return g_bytes_new_take (bytes, length);
}

FsLoadedFile *
_fs_file_load (GFile        *file,
               GCancellable *cancellable)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autofree char *path = g_file_get_path (file);

  if (!g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      if (path != NULL)
        contents = load_local (file, path, cancellable, &error);
      else
        contents = load_other (file, cancellable, &error);
    }

  return _fs_loaded_file_new (file, contents, error);
}

static gboolean
load_files (FsGenerator  *generator,
            gpointer      data,
            GError      **error)
{
  Loader *loader = data;
  GCancellable *cancellable = fs_generator_get_cancellable (generator);

  for (guint i = 0; i < loader->files->len; i++)
    {
      g_autoptr(FsLoadedFile) loaded = NULL;
      g_auto(GValue) value = G_VALUE_INIT;

      loaded = _fs_file_load (g_ptr_array_index (loader->files, i), cancellable);
      /* Closed while reading: stop quietly, the consumer is gone. */
      if (fs_generator_is_closed (generator))
        return TRUE;

      g_value_init (&value, FS_TYPE_LOADED_FILE);
      g_value_set_object (&value, loaded);
      if (!fs_generator_yield_value (generator, &value, error))
        return FALSE;
    }

  return TRUE;
}

/**
 * fs_background_generator_new_for_files:
 * @files: (array length=n_files): the files to read, in order
 * @n_files: the number of files
 * @prefetch: the most files read ahead of the consumer, at least 1
 *
 * A background generator that reads @files, in order, on its own thread:
 * a stream of values, each an [class@Fs.LoadedFile] holding the file and
 * its contents as [struct@GLib.Bytes].
 *
 * A file that cannot be read does not end the stream: its item carries the
 * error, raised by [method@Fs.LoadedFile.get_contents], so errors arrive in
 * order with the files. Only regular files (or links to them) are read:
 * a fifo, socket or device gives %G_IO_ERROR_NOT_REGULAR_FILE. A local file
 * is opened once, without blocking, and its type read from the open
 * descriptor, so a link switched to a fifo meanwhile cannot block the
 * loader either.
 *
 * The producer is written in C, so JavaScript and Python code can consume it
 * from their main loop with [method@Fs.BackgroundGenerator.next_async].
 *
 * Returns: (transfer full): a new [class@Fs.BackgroundGenerator]
 *
 * Since: 0.1
 */
FsBackgroundGenerator *
fs_background_generator_new_for_files (GFile * const *files,
                                       guint          n_files,
                                       guint          prefetch)
{
  Loader *loader;

  g_return_val_if_fail (files != NULL || n_files == 0, NULL);
  g_return_val_if_fail (prefetch >= 1, NULL);
  for (guint i = 0; i < n_files; i++)
    g_return_val_if_fail (G_IS_FILE (files[i]), NULL);

  loader = g_new0 (Loader, 1);
  loader->files = g_ptr_array_new_full (n_files, g_object_unref);
  for (guint i = 0; i < n_files; i++)
    g_ptr_array_add (loader->files, g_object_ref (files[i]));

  return fs_background_generator_new_for_values (prefetch, "file-loader",
                                                 load_files, loader, loader_free);
}
