/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTimeline: play, pause, step, a scrubber and the speed, over the window's cursor. */
#pragma once

#include <gtk/gtk.h>

#include "pl-cursor.h"
#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_TIMELINE (pl_timeline_get_type ())
G_DECLARE_FINAL_TYPE (PlTimeline, pl_timeline, PL, TIMELINE, GtkWidget)

/*
 * The buttons activate the window's actions (win.first, win.step-back,
 * win.play, win.step-forward, win.last), so they do what the keys do; the
 * scrubber and the speed act on @cursor directly.
 */
PlCursor *pl_timeline_get_cursor   (PlTimeline *self);
void      pl_timeline_set_cursor   (PlTimeline *self,
                                    PlCursor   *cursor);
void      pl_timeline_set_document (PlTimeline *self,
                                    PlDocument *document);

/* The speeds offered, slowest first. */
extern const double pl_timeline_speeds[];
extern const guint  pl_timeline_n_speeds;

G_END_DECLS
