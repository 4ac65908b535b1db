/* fs-file-loader.c: a background generator that reads files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

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

/* Only regular files are opened: opening a fifo or a device can block
 * for ever, where no cancellable reaches. Links are followed. */
static gboolean
check_regular (GFile         *file,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL)
    return FALSE;

  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_autofree char *name = g_file_get_parse_name (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "%s is not a regular file", name);
      return FALSE;
    }

  return TRUE;
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
      GFile *file = g_ptr_array_index (loader->files, i);
      g_autoptr(FsLoadedFile) loaded = NULL;
      g_autoptr(GError) read_error = NULL;
      g_autoptr(GBytes) contents = NULL;
      g_auto(GValue) value = G_VALUE_INIT;
      char *bytes = NULL;
      gsize length = 0;

      if (!check_regular (file, cancellable, &read_error) ||
          !g_file_load_contents (file, cancellable, &bytes, &length, NULL, &read_error))
        {
          /* Closed while reading: stop quietly, the consumer is gone. */
          if (fs_generator_is_closed (generator))
            return TRUE;
          loaded = _fs_loaded_file_new (file, NULL, read_error);
        }
      else
        {
          contents = g_bytes_new_take (bytes, length);
          loaded = _fs_loaded_file_new (file, contents, NULL);
        }

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
 * order with the files. Only regular files (or links to them) are opened:
 * a fifo, socket or device gives %G_IO_ERROR_NOT_REGULAR_FILE, since opening
 * one could block where no cancellable reaches.
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
