/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Transcript writers: the text transcript and the JSON Lines machine format. */
#pragma once

#include <stdio.h>

#include "pl-trace.h"

G_BEGIN_DECLS

typedef enum {
  PL_WRITER_TEXT  = 0,
  PL_WRITER_JSONL = 1,
} PlWriterFormat;

typedef enum {
  PL_WRITER_FLAGS_NONE          = 0,
  PL_WRITER_FLAGS_EXPLAIN       = 1 << 0, /* text: a line saying what each unit means */
  PL_WRITER_FLAGS_SESSION_LINES = 1 << 1, /* text: a header line as each session opens and closes */
  PL_WRITER_FLAGS_SESSION_IDS   = 1 << 2, /* text: prefix each event with its session id */
  PL_WRITER_FLAGS_ABSOLUTE_TIME = 1 << 3, /* text: times as given, not from the first one */
} PlWriterFlags;

/*
 * Formatting, appended to @out. The text form is one line per event: time,
 * "C:" or "S:", the display text; further lines of a multi-line unit are
 * indented under the first. The JSON Lines form is DESIGN.md's, one object
 * per line, '\n' terminated.
 */
void pl_text_append_event    (GString         *out,
                              const PlSession *session,
                              const PlEvent   *event,
                              double           time_origin,
                              PlWriterFlags    flags);
void pl_text_append_session  (GString         *out,
                              const PlSession *session,
                              gboolean         closing);
void pl_jsonl_append_session (GString         *out,
                              const PlSession *session);
void pl_jsonl_append_event   (GString         *out,
                              const PlEvent   *event);
void pl_jsonl_append_end     (GString         *out,
                              const PlSession *session);
void pl_json_append_string   (GString         *out,
                              const char      *text,
                              gssize           len);
/*
 * What pl_json_append_string() appends for pl_display_text_from_octets
 * (@data, @len, @unstuff_dots), in one pass, the text never made (RFC 8259
 * section 7; RFC 5321 4.5.2 and RFC 1939 3 for the dots).
 */
void pl_json_append_display_text (GString      *out,
                                  const guint8 *data,
                                  gsize         len,
                                  gboolean      unstuff_dots);
/* pl_jsonl_append_event() with the event's "text" made from its octets as above (not a note's). */
void pl_jsonl_append_event_text_from_octets (GString       *out,
                                             const PlEvent *event,
                                             gboolean       unstuff_dots);

/*
 * A writer attached to a trace prints each session and event as it is added,
 * to @stream (flushed after each unit so `serve --verbose` and `capture`
 * show things as they happen). It does not own @stream.
 */
typedef struct _PlWriter PlWriter;

PlWriter *pl_writer_new    (FILE           *stream,
                            PlWriterFormat  format,
                            PlWriterFlags   flags);
void      pl_writer_attach (PlWriter       *self,
                            PlTrace        *trace);
void      pl_writer_detach (PlWriter       *self);
void      pl_writer_free   (PlWriter       *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlWriter, pl_writer_free)

G_END_DECLS
