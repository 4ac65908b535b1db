/* fs-version.c: run-time version of fsthread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "fs-version.h"
#include "fs-version-macros.h"

/**
 * fs_get_major_version:
 *
 * The major version of the fsthread library in use at run time, which may
 * differ from [const@Fs.MAJOR_VERSION], the one the code was compiled
 * against. Bindings have no macros and use these functions.
 *
 * Returns: the major version
 *
 * Since: 0.1
 */
guint
fs_get_major_version (void)
{
  return FS_MAJOR_VERSION;
}

/**
 * fs_get_minor_version:
 *
 * The minor version of the fsthread library in use at run time.
 *
 * Returns: the minor version
 *
 * Since: 0.1
 */
guint
fs_get_minor_version (void)
{
  return FS_MINOR_VERSION;
}

/**
 * fs_get_micro_version:
 *
 * The micro version of the fsthread library in use at run time.
 *
 * Returns: the micro version
 *
 * Since: 0.1
 */
guint
fs_get_micro_version (void)
{
  return FS_MICRO_VERSION;
}

/**
 * fs_check_version:
 * @major: required major version
 * @minor: required minor version
 * @micro: required micro version
 *
 * Checks at run time that the fsthread library in use is at least the given
 * version.
 *
 * Returns: %TRUE when the library is at least @major.@minor.@micro
 *
 * Since: 0.1
 */
gboolean
fs_check_version (guint major,
                  guint minor,
                  guint micro)
{
  return FS_ENCODE_VERSION (FS_MAJOR_VERSION, FS_MINOR_VERSION, FS_MICRO_VERSION) >=
         FS_ENCODE_VERSION (major, minor, micro);
}
