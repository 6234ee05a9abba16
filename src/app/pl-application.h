/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlApplication: the GtkApplication of `postlab` (actions, style, --screenshot). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PL_TYPE_APPLICATION (pl_application_get_type ())
G_DECLARE_FINAL_TYPE (PlApplication, pl_application, PL, APPLICATION, GtkApplication)

/*
 * Creates the application with the id PL_APP_ID. Its command line takes
 * `--screenshot FILE.png` (render the main window to FILE and quit, with no
 * user interaction) and `--version`.
 */
PlApplication *pl_application_new             (void);

/*
 * The status `postlab` should exit with once g_application_run() has
 * returned 0: non-zero when a requested screenshot was not written.
 */
int            pl_application_get_exit_status (PlApplication *self);

G_END_DECLS
