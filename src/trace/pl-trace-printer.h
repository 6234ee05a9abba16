/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlTracePrinter: a trace listener that prints a transcript (text or JSON Lines), buffered or live. */
#pragma once

#include <stdio.h>

#include "pl-writer.h"

G_BEGIN_DECLS

typedef struct _PlTracePrinter PlTracePrinter;

/*
 * Prints what a trace gets as it gets it: for text, a header line per
 * session (protocol, endpoints), one line per event (continuation lines
 * indented, "--" for notes), and a closing line that sums up the session's
 * notes (encrypted, gaps); for JSON Lines, DESIGN.md's objects. With @live
 * every unit is flushed at once (a capture shows lines as they happen);
 * otherwise output is written in large blocks. It does not own @out.
 */
PlTracePrinter *pl_trace_printer_new         (FILE            *out,
                                              PlWriterFormat   format,
                                              gboolean         explain,
                                              gboolean         live);
/* Only session @id is printed (0: all). */
void            pl_trace_printer_set_session (PlTracePrinter  *self,
                                              guint            id);
void            pl_trace_printer_attach      (PlTracePrinter  *self,
                                              PlTrace         *trace);
/* Writes out what is buffered; FALSE when the output failed (a closed pipe, a full disk). */
gboolean        pl_trace_printer_flush       (PlTracePrinter  *self);
/*
 * A PlTracerUntextedFunc (pl_tracer_set_untexted_func(), @printer the
 * printer): @event, added next, has its display text still to make; JSON
 * Lines writes it straight from the octets (pl_jsonl_append_event_text_from_octets()),
 * the text form makes it first. Only when the printer is the trace's only
 * listener: nobody else sees the text.
 */
void            pl_trace_printer_expect_untexted (PlEvent     *event,
                                                  gboolean     unstuff_dots,
                                                  gpointer     printer);
guint           pl_trace_printer_get_n_printed_sessions (PlTracePrinter *self);
void            pl_trace_printer_free        (PlTracePrinter  *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlTracePrinter, pl_trace_printer_free)

G_END_DECLS
