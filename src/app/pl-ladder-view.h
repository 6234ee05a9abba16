/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlLadderView: the sequence (ladder) diagram: a lifeline per host, an arrow per command or reply. */
#pragma once

#include <gtk/gtk.h>

#include "pl-cursor.h"
#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_LADDER_VIEW (pl_ladder_view_get_type ())
G_DECLARE_FINAL_TYPE (PlLadderView, pl_ladder_view, PL, LADDER_VIEW, GtkWidget)

/*
 * A GtkScrollable (put it in a GtkScrolledWindow): only the rows in sight
 * are drawn, so a million events scroll as fast as ten. It scrolls to keep
 * the cursor's step in sight, animates the current arrow with the
 * cursor's progress, and a click on a row moves the cursor there.
 */
GtkWidget *pl_ladder_view_new            (void);
void       pl_ladder_view_set_cursor     (PlLadderView *self,
                                          PlCursor     *cursor);
void       pl_ladder_view_set_document   (PlLadderView *self,
                                          PlDocument   *document);
void       pl_ladder_view_set_presenting (PlLadderView *self,
                                          gboolean      presenting);

/*
 * Renders the diagram (all of it, or the rows around the current step
 * that fit in a texture) with the widget's renderer and writes a PNG.
 */
gboolean   pl_ladder_view_save_png       (PlLadderView *self,
                                          GFile        *file,
                                          GError      **error);

G_END_DECLS
