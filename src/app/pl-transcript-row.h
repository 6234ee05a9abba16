/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTranscriptRow: one line of the transcript: step, time, session and hop, C:/S:, and the text. */
#pragma once

#include <gtk/gtk.h>

#include "pl-trace.h"

G_BEGIN_DECLS

#define PL_TYPE_TRANSCRIPT_ROW (pl_transcript_row_get_type ())
G_DECLARE_FINAL_TYPE (PlTranscriptRow, pl_transcript_row, PL, TRANSCRIPT_ROW, GtkWidget)

GtkWidget *pl_transcript_row_new        (void);
/* Shows the column titles instead of an event. */
void       pl_transcript_row_set_header (PlTranscriptRow *self);
/*
 * Shows @event of @session as step @position + 1, its time counted from
 * @time_origin. Only the first line of a multi-line unit is shown, with how
 * many follow: every row has the same height, which keeps a list of a
 * million rows fast. NULL @event clears the row.
 */
void       pl_transcript_row_set_event  (PlTranscriptRow *self,
                                         PlEvent         *event,
                                         PlSession       *session,
                                         guint            position,
                                         double           time_origin);

/* Without the time and session columns (presentation mode): more room for the text. */
void       pl_transcript_row_set_compact (PlTranscriptRow *self,
                                          gboolean         compact);

/* The text the row shows for @event, as one line (also the ladder's and the topology's captions). */
char      *pl_transcript_row_summarize  (PlEvent         *event,
                                         gsize            max_chars);

G_END_DECLS
