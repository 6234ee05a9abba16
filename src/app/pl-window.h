/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlWindow: the main window of `postlab`, built from pl-window.ui. */
#pragma once

#include <gtk/gtk.h>

#include "pl-application.h"
#include "pl-cursor.h"
#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_WINDOW (pl_window_get_type ())
G_DECLARE_FINAL_TYPE (PlWindow, pl_window, PL, WINDOW, GtkApplicationWindow)

/* Creates a main window belonging to @application (not yet shown), showing nothing yet. */
PlWindow   *pl_window_new              (PlApplication *application);

/*
 * Opens @file in the background (a scenario is simulated, a capture
 * traced; pl_document_sniff() tells which), showing progress and a Cancel
 * button; the window keeps what it shows until the new document is there.
 * "loading" is TRUE meanwhile; "load-finished" says how it went.
 */
void        pl_window_open_file        (PlWindow      *self,
                                        GFile         *file);
/* Opens the built-in scenario @name ("textbook", "two-devices"), as pl_window_open_file() does. */
void        pl_window_open_builtin     (PlWindow      *self,
                                        const char    *name);
/* Shows @document at once, from its start. */
void        pl_window_set_document     (PlWindow      *self,
                                        PlDocument    *document);
PlDocument *pl_window_get_document     (PlWindow      *self);
gboolean    pl_window_get_loading      (PlWindow      *self);
/* The cursor every view of the window follows. */
PlCursor   *pl_window_get_cursor       (PlWindow      *self);

/*
 * With animations off the window never moves anything by itself: each
 * step is drawn where the cursor says (--screenshot uses this for pictures
 * that come out the same every time).
 */
void        pl_window_set_animations   (PlWindow      *self,
                                        gboolean       enabled);
/* Presentation mode: large text, high contrast, full screen. */
void        pl_window_set_presenting   (PlWindow      *self,
                                        gboolean       presenting);
/* When FALSE, a failed load is reported only through "load-finished", with no dialog (--screenshot). */
void        pl_window_set_interactive  (PlWindow      *self,
                                        gboolean       interactive);

G_END_DECLS
