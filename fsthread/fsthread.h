/* fsthread.h: umbrella header
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#define FSTHREAD_INSIDE

#include "fs-version.h"
#include "fs-version-macros.h"
#include "fs-enums.h"
#include "fs-error.h"
#include "fs-wait.h"
#include "fs-error-state.h"
#include "fs-cpus.h"
#include "fs-thread.h"
#include "fs-multi-thread.h"
#include "fs-generator.h"
#include "fs-background-generator.h"
#include "fs-loaded-file.h"
#include "fs-map.h"

#undef FSTHREAD_INSIDE
