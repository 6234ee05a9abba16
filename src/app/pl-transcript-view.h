/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTranscriptView: the trace as a list of C:/S: lines, coloured by protocol, following the cursor. */
#pragma once

#include <gtk/gtk.h>

#include "pl-cursor.h"
#include "pl-document.h"

G_BEGIN_DECLS

#define PL_TYPE_TRANSCRIPT_VIEW (pl_transcript_view_get_type ())
G_DECLARE_FINAL_TYPE (PlTranscriptView, pl_transcript_view, PL, TRANSCRIPT_VIEW, GtkWidget)

/*
 * A virtualised list over the document's trace (only the rows in sight
 * exist, so a million events scroll smoothly). The current step's row is
 * selected and kept in sight; selecting a row (click, arrows) moves the
 * cursor there.
 */
PlCursor   *pl_transcript_view_get_cursor   (PlTranscriptView *self);
void        pl_transcript_view_set_cursor   (PlTranscriptView *self,
                                             PlCursor         *cursor);
PlDocument *pl_transcript_view_get_document (PlTranscriptView *self);
void        pl_transcript_view_set_document (PlTranscriptView *self,
                                             PlDocument       *document);
/* Rows without time and session (presentation mode). */
void        pl_transcript_view_set_compact  (PlTranscriptView *self,
                                             gboolean          compact);
/* The selected row (the current step's event index), or GTK_INVALID_LIST_POSITION: for tests. */
guint       pl_transcript_view_get_selected (PlTranscriptView *self);

G_END_DECLS
