/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlApplication: the GtkApplication of `postlab` (actions, style, --screenshot). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PL_TYPE_APPLICATION (pl_application_get_type ())
G_DECLARE_FINAL_TYPE (PlApplication, pl_application, PL, APPLICATION, GtkApplication)

/*
 * Creates the application with the id PL_APP_ID. Its command line:
 *   postlab [--step N] [--present] [SCENARIO|CAPTURE]
 * opens the file (a scenario is simulated, a pcap or pcapng capture
 * traced; the default scenario when none is given) at step N, in
 * presentation mode with --present;
 *   postlab --screenshot FILE.png [--step N] [--present] [SCENARIO|CAPTURE]
 * renders the main window at that step (the current unit halfway along
 * its link) to FILE and quits, with no user interaction; and --version.
 */
PlApplication *pl_application_new             (void);

/*
 * The status `postlab` should exit with once g_application_run() has
 * returned 0: non-zero when a requested screenshot was not written.
 */
int            pl_application_get_exit_status (PlApplication *self);

G_END_DECLS
