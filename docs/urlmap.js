// SPDX-License-Identifier: LGPL-2.1-or-later
// Where the reference links to the documentation of its dependencies.
baseURLs = [
  [ 'GLib', 'https://docs.gtk.org/glib/' ],
  [ 'GObject', 'https://docs.gtk.org/gobject/' ],
  [ 'Gio', 'https://docs.gtk.org/gio/' ],
]
