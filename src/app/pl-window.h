/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlWindow: the main window of `postlab`, built from pl-window.ui. */
#pragma once

#include <gtk/gtk.h>

#include "pl-application.h"

G_BEGIN_DECLS

#define PL_TYPE_WINDOW (pl_window_get_type ())
G_DECLARE_FINAL_TYPE (PlWindow, pl_window, PL, WINDOW, GtkApplicationWindow)

/* Creates a main window belonging to @application (not yet shown). */
PlWindow *pl_window_new (PlApplication *application);

G_END_DECLS
