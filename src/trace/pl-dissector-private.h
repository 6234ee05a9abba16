/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the protocol dissectors share: the per-direction stream of units and the class each one fills in. */
#pragma once

#include "pl-dissector.h"

G_BEGIN_DECLS

/*
 * One direction of a connection, read unit by unit. The octets of the unit
 * being read are @pending (from earlier chunks) followed by
 * @chunk[@unit_start .. @pos); a unit is emitted as one event and the next
 * begins. Parsers read lines or counted octets through the functions
 * below, never @chunk directly, so units may span any number of chunks.
 */
typedef struct {
  PlDirection    dir;
  guint8        *pending;          /* @pending_len octets, in a buffer of pl-dissector.c's that knows its room (NULL when none) */
  gsize          pending_len;
  const guint8  *chunk;
  gsize          chunk_len;
  gsize          unit_start;
  gsize          pos;
  gsize          line_start;       /* unit offset where the next line begins */
  gsize          last_line_start;  /* unit offset of the line last returned */
  double         time;

  /* Modes every protocol shares, looked after by pl-dissector.c. */
  gboolean       resync;       /* after a gap: the rest of the cut line is a fragment */
  gboolean       tls_check;    /* TLS may begin with the next unit: look at its first octets */
  gboolean       tls;          /* TLS records from here on */
  gboolean       tls_cipher;   /* this side sent ChangeCipherSpec: handshake records are encrypted */
  guint64        tls_tail;     /* octets still to come of a record a gap cut */
  gboolean       opaque;       /* nothing can be read any more: octets are shown as they come */
  gboolean       gap_pending;  /* a gap came and no whole line has been read since */
  gboolean       first_after_gap; /* the line pl_stream_next_line() returned last began right after a gap */

  /* How long the unit being gathered says it is (pl_stream_expect()). */
  guint64        expect;
  gboolean       regrow;       /* a long unit took the buffer: the next starts at PENDING_KEEP */
  gboolean       recycle;      /* pl_dissector_set_transient(): a long unit's buffer comes back for the next */
  gsize          max_unit;     /* the dissector's: no more room than this is made on a unit's word */

  /* pl_dissector_defer_text(): the last event taken, if its text is still to make, and how. */
  gboolean       defer_text;
  PlEvent       *untexted;
  const char    *placeholder;  /* its text as made: set again by the dissector, it is no longer deferred */
  gboolean       untexted_unstuff;
} PlStream;

typedef enum {
  PL_LINE_WAIT = 0,   /* no line end yet: the chunk is used up */
  PL_LINE_OK,         /* a whole line */
  PL_LINE_LONG,       /* no line end within the limit: give up on lines here */
} PlLineResult;

typedef struct {
  PlProtocol  protocol;
  gsize       instance_size;
  void      (*init)        (PlDissector *self);
  void      (*finalize)    (PlDissector *self);
  /* Reads one step (a line, or counted octets) of @stream; returns to let pl-dissector.c look at the modes. */
  void      (*parse)       (PlDissector *self,
                            PlStream    *stream);
  /* @missing octets are lost in @stream (a counted unit may keep its place); NULL for the default. */
  void      (*gap)         (PlDissector *self,
                            PlStream    *stream,
                            guint64      missing);
  /* The unit open in @stream is emitted as far as it goes (a gap, the end); NULL for the default. */
  void      (*flush)       (PlDissector *self,
                            PlStream    *stream);
  /*
   * After a gap, in resync mode: @line, the first whole line after it (or,
   * when another gap comes first, the octets before that one, no line end in
   * them), would be shown as the rest of the line the gap cut. Returns TRUE
   * when it rather begins a new unit (a reply's status line: the gap took the
   * end of the reply before it) and has been read as such; NULL: always a
   * fragment.
   */
  gboolean  (*resume)      (PlDissector  *self,
                            PlStream     *stream,
                            const guint8 *line,
                            gsize         len);
  /* The other direction is about to be fed: a unit that waited to see what follows must be settled. */
  void      (*settle)      (PlDissector *self,
                            PlStream    *stream);
} PlDissectorClass;

struct _PlDissector {
  const PlDissectorClass *klass;
  PlProtocol              protocol;
  PlDissectorSink         sink;
  gpointer                user_data;
  PlStream                client;
  PlStream                server;
  gsize                   max_unit;
  gsize                   max_line;
  gboolean                encrypted;
  PlDissectorUntextedFunc emit_untexted;
};

extern const PlDissectorClass pl_smtp_dissector_class;
extern const PlDissectorClass pl_pop3_dissector_class;
extern const PlDissectorClass pl_imap_dissector_class;
extern const PlDissectorClass pl_http_dissector_class;

/* Streams. */
PlStream     *pl_dissector_stream          (PlDissector  *self,
                                            PlDirection   dir);
PlStream     *pl_dissector_peer            (PlDissector  *self,
                                            PlStream     *stream);
/* How long the unit read so far is (asked after every line: inline). */
static inline gsize
pl_stream_unit_len (const PlStream *stream)
{
  return stream->pending_len + (stream->pos - stream->unit_start);
}
guint8        pl_stream_unit_byte          (const PlStream *stream,
                                            gsize         index);
/* The next line of the unit, line end included, contiguous in memory until the next call. */
PlLineResult  pl_stream_next_line          (PlDissector  *self,
                                            PlStream     *stream,
                                            const guint8 **line,
                                            gsize        *len);
/*
 * Inside a dot-terminated body (RFC 5321 4.5.2, RFC 1939 3): passes over at
 * once the whole lines of the chunk, from the start of the line being read,
 * that begin with no '.' and after which the unit is still shorter than
 * max_unit: what reading them one by one with pl_stream_next_line() would
 * do, for a caller that only looks for the "." line and max_unit. Mail
 * bodies are mostly such lines; a search for '.' passes over them faster
 * than a turn each.
 */
void          pl_stream_skip_body_lines    (PlDissector  *self,
                                            PlStream     *stream);
/* Takes up to @want octets of the chunk into the unit; returns how many. */
/*
 * The unit being read is said to be @unit_len octets long in all (by a
 * count: SMTP's SIZE=, RFC 1870; POP3's "+OK n octets"): a hint, so that
 * room for it is made at once when it is gathered (never past max_unit).
 * pl_stream_take() gives it itself.
 */
void          pl_stream_expect             (PlStream     *stream,
                                            guint64       unit_len);
gsize         pl_stream_take               (PlStream     *stream,
                                            guint64       want);
/* Takes the rest of the chunk into the unit. */
void          pl_stream_take_all           (PlStream     *stream);
gboolean      pl_stream_at_chunk_end       (const PlStream *stream);
/* The unit's octets when they lie in one piece (after a line was read that began in an earlier chunk, they do). */
gboolean      pl_stream_unit_contiguous    (const PlStream *stream,
                                            const guint8 **data,
                                            gsize        *len);
/* The unit so far, as an event of @kind with text made from its octets (or @text when not NULL); resets the unit. */
PlEvent      *pl_stream_take_event         (PlStream     *stream,
                                            PlEventKind   kind,
                                            gboolean      unstuff_dots);
/*
 * The same with its status, verb (upper-cased) and arguments set (each may
 * be NULL; @args only with @verb), as pl_event_set_status() and
 * pl_event_set_verb() would set them, in the event's own allocation where
 * the unit lies in one chunk.
 */
PlEvent      *pl_stream_take_unit_event    (PlStream     *stream,
                                            PlEventKind   kind,
                                            gboolean      unstuff_dots,
                                            const char   *status,
                                            const char   *verb,
                                            const char   *args);
/* The same for an IMAP unit, with its @tag (RFC 3501 section 2.2.1; may be NULL); its text as it is. */
PlEvent      *pl_stream_take_tagged_event  (PlStream     *stream,
                                            PlEventKind   kind,
                                            const char   *tag,
                                            const char   *status,
                                            const char   *verb,
                                            const char   *args);
/*
 * The same with @text (taken) as its display text: for a unit whose octets
 * are not what is shown (a TLS record, a summarised body), no text is made
 * from them only to be thrown away.
 */
PlEvent      *pl_stream_take_event_with_text (PlStream   *stream,
                                            PlEventKind   kind,
                                            char         *text);
/*
 * Makes the display text of @event, taken from @stream, now if it was left
 * to make (pl_dissector_defer_text()): for a dissector that reads or
 * replaces the text before emitting the event.
 */
void          pl_stream_make_text          (PlStream     *stream,
                                            PlEvent      *event);
/* The same, but only the octets before the line last returned: that line begins the next unit. */
PlEvent      *pl_stream_take_event_before_line (PlStream *stream,
                                            PlEventKind   kind,
                                            gboolean      unstuff_dots);

/* Output. @event is stamped with the stream's time and handed to the sink; the dissector keeps no ref. */
void          pl_dissector_emit            (PlDissector  *self,
                                            PlStream     *stream,
                                            PlEvent      *event);
void          pl_dissector_note            (PlDissector  *self,
                                            double        time,
                                            const char   *format,
                                            ...) G_GNUC_PRINTF (3, 4);
/* The unit open in @stream as it is: a command (client) or reply (server) whose end is not known. */
void          pl_dissector_flush_plain     (PlDissector  *self,
                                            PlStream     *stream,
                                            PlEventKind   kind,
                                            gboolean      unstuff_dots);
/* Marks the connection encrypted (once) and tells the sink. */
void          pl_dissector_mark_encrypted  (PlDissector  *self,
                                            const char   *how);
/* Line content without its CRLF or LF. */
static inline gsize
pl_line_content_len (const guint8 *line,
                     gsize         len)
{
  if (len > 0 && line[len - 1] == '\n')
    len--;
  if (len > 0 && line[len - 1] == '\r')
    len--;
  return len;
}
/* "client to server" or "server to client". */
const char   *pl_direction_describe        (PlDirection   dir);

/* TLS records (pl-tls-records.c): one step of a stream in TLS mode, and its gaps and end. */
gboolean      pl_tls_looks_like_record     (const PlStream *stream);
void          pl_tls_parse                 (PlDissector  *self,
                                            PlStream     *stream);
void          pl_tls_gap                   (PlDissector  *self,
                                            PlStream     *stream,
                                            guint64       missing);
void          pl_tls_flush                 (PlDissector  *self,
                                            PlStream     *stream);

G_END_DECLS
