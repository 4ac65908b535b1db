/* fs-loaded-file.c: a file and its contents, as the file loader yields it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-loaded-file-private.h"

/**
 * FsLoadedFile:
 *
 * One item of [ctor@Fs.BackgroundGenerator.new_for_files]: a file, and
 * either its contents or the error reading it gave.
 *
 * A file that cannot be read does not end the stream: its item comes in
 * its place, and [method@Fs.LoadedFile.get_contents] raises the read error
 * there, so errors arrive in order with the files.
 *
 * Since: 0.1
 */

struct _FsLoadedFile
{
  GObject  parent_instance;

  GFile   *file;
  GBytes  *contents;
  GError  *error;
};

enum {
  PROP_0,
  PROP_FILE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (FsLoadedFile, fs_loaded_file, G_TYPE_OBJECT)

static void
fs_loaded_file_finalize (GObject *object)
{
  FsLoadedFile *self = (FsLoadedFile *)object;

  g_clear_object (&self->file);
  g_clear_pointer (&self->contents, g_bytes_unref);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (fs_loaded_file_parent_class)->finalize (object);
}

static void
fs_loaded_file_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  FsLoadedFile *self = FS_LOADED_FILE (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
fs_loaded_file_class_init (FsLoadedFileClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = fs_loaded_file_finalize;
  object_class->get_property = fs_loaded_file_get_property;

  /**
   * FsLoadedFile:file:
   *
   * The file that was read.
   *
   * Since: 0.1
   */
  properties[PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL,
                         G_TYPE_FILE,
                         (G_PARAM_READABLE |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
fs_loaded_file_init (FsLoadedFile *self)
{
}

FsLoadedFile *
_fs_loaded_file_new (GFile        *file,
                     GBytes       *contents,
                     const GError *error)
{
  FsLoadedFile *self = g_object_new (FS_TYPE_LOADED_FILE, NULL);

  g_assert ((contents == NULL) != (error == NULL));

  self->file = g_object_ref (file);
  self->contents = contents != NULL ? g_bytes_ref (contents) : NULL;
  self->error = error != NULL ? g_error_copy (error) : NULL;

  return self;
}

/**
 * fs_loaded_file_get_file: (get-property file)
 * @self: a [class@Fs.LoadedFile]
 *
 * The file that was read.
 *
 * Returns: (transfer none): the [iface@Gio.File]
 *
 * Since: 0.1
 */
GFile *
fs_loaded_file_get_file (FsLoadedFile *self)
{
  g_return_val_if_fail (FS_IS_LOADED_FILE (self), NULL);

  return self->file;
}

/**
 * fs_loaded_file_get_contents:
 * @self: a [class@Fs.LoadedFile]
 * @error: return location for the read error
 *
 * The contents of the file, or the error reading it gave (its domain and
 * code kept, usually %G_IO_ERROR).
 *
 * Returns: (transfer full): the contents, or %NULL with @error set when the
 *   file could not be read
 *
 * Since: 0.1
 */
GBytes *
fs_loaded_file_get_contents (FsLoadedFile  *self,
                             GError       **error)
{
  g_return_val_if_fail (FS_IS_LOADED_FILE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      return NULL;
    }

  return g_bytes_ref (self->contents);
}
