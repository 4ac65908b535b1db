/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* thumbnails.c: a grid of the images of a folder, decoded on worker threads
 *
 *   thumbnails [--threads N] [--screenshot FILE] [DIR]
 *
 * The main thread lists DIR; a map (fs_background_generator_new_map_for_array)
 * decodes and scales each image on its workers; the main loop takes the
 * thumbnails with next_async(), in the order of the names, and appends them
 * to the GListStore behind a GtkGridView. The window stays responsive: no
 * decoding happens on its thread. Cancel closes the map, which stops the
 * workers.
 *
 * With --screenshot, once every thumbnail is shown the window draws itself
 * into FILE (PNG) and the program exits: 0 when every image was decoded.
 */

#include <gtk/gtk.h>
#include <fsthread.h>

#define THUMBNAIL_SIZE 96

typedef struct
{
  GtkWindow             *window;
  GtkProgressBar        *progress;
  GtkLabel              *status;
  GtkButton             *cancel;
  GListStore            *store;
  FsBackgroundGenerator *thumbnails;
  guint                  n_files;
  guint                  n_done;
  guint                  n_failed;
  char                  *screenshot;
  gint                   cancel_after;  /* for the test: press Cancel then */
  const char            *outcome;
  int                    exit_status;
  guint                  ticks_left;
} App;

/* On a worker thread: one file in, its thumbnail out. */
static gboolean
decode_thumbnail (const GValue  *item,
                  FsMapResult   *result,
                  gpointer       user_data,
                  GError       **error)
{
  GFile *file = g_value_get_object (item);
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  pixbuf = gdk_pixbuf_new_from_file_at_scale (path, THUMBNAIL_SIZE, THUMBNAIL_SIZE, TRUE, error);
  if (pixbuf == NULL)
    return FALSE;

  texture = gdk_texture_new_for_pixbuf (pixbuf);
  g_object_set_data_full (G_OBJECT (texture), "name", g_file_get_basename (file), g_free);
  g_value_init (&value, GDK_TYPE_TEXTURE);
  g_value_set_object (&value, texture);
  fs_map_result_set_value (result, &value);
  return TRUE;
}

/* The folder's images, sorted by name. */
static GPtrArray *
list_images (const char  *dir,
             GError     **error)
{
  g_autoptr(GFile) folder = g_file_new_for_path (dir);
  g_autoptr(GFileEnumerator) children = NULL;
  GPtrArray *files = g_ptr_array_new_with_free_func (g_object_unref);
  GFileInfo *info;

  children = g_file_enumerate_children (folder,
                                        G_FILE_ATTRIBUTE_STANDARD_NAME ","
                                        G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE,
                                        G_FILE_QUERY_INFO_NONE, NULL, error);
  if (children == NULL)
    {
      g_ptr_array_unref (files);
      return NULL;
    }
  while ((info = g_file_enumerator_next_file (children, NULL, NULL)) != NULL)
    {
      const char *type = g_file_info_get_content_type (info);

      if (type != NULL && g_content_type_is_mime_type (type, "image/*"))
        g_ptr_array_add (files, g_file_get_child (folder, g_file_info_get_name (info)));
      g_object_unref (info);
    }
  return files;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  g_autofree char *x = g_file_get_basename (*(GFile * const *) a);
  g_autofree char *y = g_file_get_basename (*(GFile * const *) b);

  return g_utf8_collate (x, y);
}

/* The window draws itself into the screenshot file, then the app quits. */
static void
save_screenshot (App *app)
{
  GtkWidget *widget = GTK_WIDGET (app->window);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node != NULL)
    texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (widget)),
                                           node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (texture == NULL || !gdk_texture_save_to_png (texture, app->screenshot))
    {
      g_printerr ("thumbnails: cannot save %s\n", app->screenshot);
      app->exit_status = 1;
    }
  gtk_window_destroy (app->window);
}

/* Two frames after the last thumbnail, the grid has laid it out. */
static gboolean
on_tick (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  App *app = data;

  if (--app->ticks_left > 0)
    return G_SOURCE_CONTINUE;
  save_screenshot (app);
  return G_SOURCE_REMOVE;
}

static void
finished (App        *app,
          const char *message)
{
  gtk_label_set_text (app->status, message);
  gtk_widget_set_sensitive (GTK_WIDGET (app->cancel), FALSE);
  if (app->screenshot != NULL)
    {
      app->ticks_left = 3;
      gtk_widget_add_tick_callback (GTK_WIDGET (app->window), on_tick, app, NULL);
      gtk_widget_queue_draw (GTK_WIDGET (app->window));
    }
}

static void
on_thumbnail (GObject      *object,
              GAsyncResult *result,
              gpointer      data)
{
  App *app = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  FsWaitStatus status;
  GValue *value;

  value = fs_background_generator_next_finish_full (FS_BACKGROUND_GENERATOR (object), result,
                                                    &status, &error);
  if (value == NULL)
    {
      if (status == FS_WAIT_FAILED)
        {
          /* A file that is no image: the map stops there, after every
           * thumbnail before it. */
          g_autofree char *message = g_strdup_printf ("Stopped: %s", error->message);

          app->n_failed++;
          app->exit_status = 1;
          app->outcome = "failed";
          finished (app, message);
        }
      else if (status == FS_WAIT_CLOSED)
        {
          app->outcome = "cancelled";
          finished (app, "Cancelled");
        }
      else
        {
          text = g_strdup_printf ("%u images", app->n_done);
          app->outcome = "done";
          finished (app, text);
        }
      return;
    }

  g_list_store_append (app->store, g_value_get_object (value));
  g_value_unset (value);
  g_free (value);

  app->n_done++;
  gtk_progress_bar_set_fraction (app->progress, (double) app->n_done / MAX (app->n_files, 1));
  text = g_strdup_printf ("%u of %u", app->n_done, app->n_files);
  gtk_label_set_text (app->status, text);

  if (app->cancel_after > 0 && app->n_done == (guint) app->cancel_after)
    g_signal_emit_by_name (app->cancel, "clicked");

  fs_background_generator_next_async (app->thumbnails, NULL, on_thumbnail, app);
}

static void
on_cancel (GtkButton *button,
           gpointer   data)
{
  App *app = data;

  /* Never waits: the workers stop on their own; the pending next_async()
   * completes with FS_WAIT_CLOSED. */
  fs_background_generator_close (app->thumbnails, 0, NULL);
}

/* The grid's cells: a picture and the file's name. */
static void
setup_cell (GtkSignalListItemFactory *factory,
            GtkListItem              *item,
            gpointer                  data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *picture = gtk_picture_new ();
  GtkWidget *label = gtk_label_new (NULL);

  gtk_widget_set_size_request (picture, THUMBNAIL_SIZE, THUMBNAIL_SIZE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_box_append (GTK_BOX (box), picture);
  gtk_box_append (GTK_BOX (box), label);
  gtk_list_item_set_child (item, box);
}

static void
bind_cell (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  data)
{
  GtkWidget *box = gtk_list_item_get_child (item);
  GdkTexture *texture = gtk_list_item_get_item (item);

  gtk_picture_set_paintable (GTK_PICTURE (gtk_widget_get_first_child (box)), GDK_PAINTABLE (texture));
  gtk_label_set_text (GTK_LABEL (gtk_widget_get_last_child (box)),
                      g_object_get_data (G_OBJECT (texture), "name"));
}

typedef struct
{
  const char *dir;
  guint       n_threads;
  App        *app;
} Start;

static void
on_activate (GtkApplication *application,
             gpointer        data)
{
  Start *start = data;
  App *app = start->app;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree GValue *values = NULL;
  GtkWidget *box, *bar, *scrolled, *grid;
  GtkListItemFactory *factory;

  files = list_images (start->dir, &error);
  if (files == NULL)
    {
      g_printerr ("thumbnails: %s\n", error->message);
      app->exit_status = 1;
      return;
    }
  g_ptr_array_sort (files, compare_names);
  app->n_files = files->len;

  app->window = GTK_WINDOW (gtk_application_window_new (application));
  gtk_window_set_title (app->window, "Thumbnails");
  gtk_window_set_default_size (app->window, 820, 640);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_start (bar, 6);
  gtk_widget_set_margin_end (bar, 6);
  gtk_widget_set_margin_top (bar, 6);
  app->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (app->progress), TRUE);
  gtk_widget_set_valign (GTK_WIDGET (app->progress), GTK_ALIGN_CENTER);
  app->status = GTK_LABEL (gtk_label_new ("Starting"));
  app->cancel = GTK_BUTTON (gtk_button_new_with_label ("Cancel"));
  g_signal_connect (app->cancel, "clicked", G_CALLBACK (on_cancel), app);
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (app->progress));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (app->status));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (app->cancel));

  app->store = g_list_store_new (GDK_TYPE_TEXTURE);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cell), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cell), NULL);
  grid = gtk_grid_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (g_object_ref (app->store)))),
                            factory);
  gtk_grid_view_set_max_columns (GTK_GRID_VIEW (grid), 16);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), grid);
  gtk_widget_set_vexpand (scrolled, TRUE);

  gtk_box_append (GTK_BOX (box), bar);
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_window_set_child (app->window, box);
  gtk_window_present (app->window);

  /* The map: one item per file, decoded on the workers, in order. */
  values = g_new0 (GValue, MAX (files->len, 1));
  for (guint i = 0; i < files->len; i++)
    {
      g_value_init (&values[i], G_TYPE_FILE);
      g_value_set_object (&values[i], files->pdata[i]);
    }
  app->thumbnails = fs_background_generator_new_map_for_array (values, files->len, start->n_threads, 0,
                                                               FS_MAP_NONE, decode_thumbnail,
                                                               NULL, NULL);
  for (guint i = 0; i < files->len; i++)
    g_value_unset (&values[i]);

  fs_background_generator_next_async (app->thumbnails, NULL, on_thumbnail, app);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GtkApplication) application = NULL;
  g_autoptr(GError) error = NULL;
  App app = { 0, };
  Start start = { 0, };
  gint threads = 0;
  char *one_arg[] = { argv[0], NULL };
  const GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Decode on N threads (default: the CPUs)", "N" },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &app.screenshot,
      "Once done, save the window as a PNG to FILE and exit", "FILE" },
    { "cancel-after", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT, &app.cancel_after, NULL, NULL },
    G_OPTION_ENTRY_NULL
  };

  context = g_option_context_new ("[DIR] — thumbnails of the images in DIR");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || threads < 0 || argc > 2)
    {
      g_printerr ("thumbnails: %s\n", error != NULL ? error->message : "bad arguments");
      return 2;
    }

  start.dir = argc == 2 ? argv[1] : g_get_user_special_dir (G_USER_DIRECTORY_PICTURES);
  if (start.dir == NULL)
    start.dir = ".";
  start.n_threads = (guint) threads;
  start.app = &app;

  application = gtk_application_new ("org.example.FsThumbnails", G_APPLICATION_NON_UNIQUE);
  g_signal_connect (application, "activate", G_CALLBACK (on_activate), &start);
  g_application_run (G_APPLICATION (application), 1, one_arg);
  if (app.outcome != NULL)
    g_print ("%u of %u shown, %s\n", app.n_done, app.n_files, app.outcome);

  /* Dropping the map never waits: workers still decoding stop on their
   * own. */
  g_clear_object (&app.thumbnails);
  g_clear_object (&app.store);
  g_free (app.screenshot);
  return app.exit_status;
}
