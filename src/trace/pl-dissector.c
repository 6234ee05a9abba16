/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlDissector: one TCP connection's two byte streams turned into the model's events, one per protocol unit. */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-dissector-private.h"

#include <string.h>

#include "pl-sanitizer.h"

/* No protocol line is this long; past it a unit is shown as it is and the line read on as a fragment. */
#define MAX_LINE (64 * 1024)
/*
 * A unit gathered in @pending is handed to its event with its buffer, not
 * copied; the stream starts its next unit in a new buffer of this much, so
 * a body of mail's usual size read segment by segment is copied once, not
 * once more each time its buffer doubles (a buffer sized after the last
 * unit, often a short one, doubled several times a body).
 */
#define PENDING_KEEP (64 * 1024)
/* A unit gathered this short is copied out of @pending, which keeps its buffer. */
#define PENDING_COPY_MAX (16 * 1024)

/*
 * The buffers of units gathered across chunks. When a stream's events do
 * not stay (pl_dissector_set_transient(): the trace keeps none), a
 * gathered unit's buffer comes back here when its event goes and is given
 * to the next unit of its size: a message body is a malloc of 64 KiB or
 * more, which glibc serves and takes back with a tidy of its free lists
 * each time (and often pages new from the kernel). A few are kept, a few
 * MiB in all, whatever the capture. Under AddressSanitizer none are, so
 * that a use after free is still caught.
 */
#define POOL_SLOTS 8
#define POOL_MAX_OCTETS ((gsize) 4 * 1024 * 1024)

/* In front of a buffer's octets: what it is, for whoever frees it (an event's GBytes, in any thread). */
typedef struct {
  gsize     size;       /* octets after the head */
  gboolean  recycle;    /* back to the pool when freed */
} BufferHead;           /* 16 octets: what follows is aligned as malloc's */

static GMutex      pool_lock;
static BufferHead *pool[POOL_SLOTS];
static guint       pool_len;
static gsize       pool_octets;

static inline BufferHead *
head_of (guint8 *data)
{
  return (BufferHead *) (gpointer) data - 1;
}

/* A buffer of @size octets; from the pool when one of that size is there and @recycle. */
static guint8 *
buffer_new (gsize    size,
            gboolean recycle)
{
  BufferHead *head = NULL;

  if (recycle && !PL_ADDRESS_SANITIZER)
    {
      g_mutex_lock (&pool_lock);
      for (guint i = 0; i < pool_len; i++)
        if (pool[i]->size == size)
          {
            head = pool[i];
            pool[i] = pool[--pool_len];
            pool_octets -= size;
            break;
          }
      g_mutex_unlock (&pool_lock);
    }
  if (head == NULL)
    head = g_malloc (sizeof (BufferHead) + size);
  head->size = size;
  head->recycle = recycle;
  return (guint8 *) (head + 1);
}

/* Frees a buffer of buffer_new() (NULL is none), or keeps it for the next unit of its size. */
static void
buffer_free (gpointer data)
{
  BufferHead *head;

  if (data == NULL)
    return;
  head = head_of (data);
  if (head->recycle && !PL_ADDRESS_SANITIZER)
    {
      g_mutex_lock (&pool_lock);
      if (pool_len < POOL_SLOTS && pool_octets + head->size <= POOL_MAX_OCTETS)
        {
          pool[pool_len++] = head;
          pool_octets += head->size;
          head = NULL;
        }
      g_mutex_unlock (&pool_lock);
    }
  g_free (head);
}

/* The room of the stream's unit buffer: what buffer_new() made it with. */
static inline gsize
pending_room (const PlStream *s)
{
  return s->pending != NULL ? head_of (s->pending)->size : 0;
}

/* The buffer cut to its first @len octets, for an event that stays (no copy when realloc() can cut it in place). */
static guint8 *
buffer_shrink (guint8 *data,
               gsize   len)
{
  BufferHead *head = g_realloc (head_of (data), sizeof (BufferHead) + len);

  head->size = len;
  head->recycle = FALSE;
  return (guint8 *) (head + 1);
}

/* The protocol nobody recognised: octets shown as they come. */
static void
unknown_parse (PlDissector *self,
               PlStream    *stream)
{
  pl_stream_take_all (stream);
  pl_dissector_emit (self, stream, pl_stream_take_event (stream, PL_EVENT_DATA, FALSE));
}

static const PlDissectorClass unknown_class = {
  .protocol = PL_PROTOCOL_UNKNOWN,
  .instance_size = sizeof (PlDissector),
  .parse = unknown_parse,
};

static const PlDissectorClass *
class_for (PlProtocol protocol)
{
  switch (protocol)
    {
    case PL_PROTOCOL_SMTP: return &pl_smtp_dissector_class;
    case PL_PROTOCOL_POP3: return &pl_pop3_dissector_class;
    case PL_PROTOCOL_IMAP: return &pl_imap_dissector_class;
    case PL_PROTOCOL_HTTP: return &pl_http_dissector_class;
    case PL_PROTOCOL_UNKNOWN:
    default:               return &unknown_class;
    }
}

/*
 * Appends to the unit gathered in @pending. When it must grow and the
 * protocol said how long the unit is (pl_stream_expect()), room for all of
 * it is made at once: doubling as it grows would copy a big message about
 * once more (each move of the buffer copies what it holds), and this
 * copy is in the thread that reads the capture, the busier one. Room is
 * made only once the unit is really gathered past PENDING_KEEP, and never
 * more than max_unit, whatever the unit claimed.
 */
static void
pending_append (PlStream     *s,
                const guint8 *data,
                gsize         n)
{
  gsize need = s->pending_len + n;

  if (n == 0)
    return;
  if (need > pending_room (s))
    {
      gsize room = need;
      guint8 *grown;

      if (s->expect > need)
        room = (gsize) MIN (s->expect, (guint64) MAX (s->max_unit, need));
      else if (s->regrow)
        room = MAX (need, PENDING_KEEP);
      s->regrow = FALSE;
      /* A power of two (so a unit that says nothing still grows by doubling, and buffers come back in a few sizes). */
      room = (gsize) 1 << g_bit_storage (MAX (room, 64) - 1);
      /*
       * A new buffer and what the unit has so far copied into it: realloc()
       * would copy the whole of the old buffer (up to PENDING_KEEP), not
       * just the octets in use, when it cannot grow it where it is.
       */
      grown = buffer_new (room, s->recycle);
      if (s->pending_len > 0)
        memcpy (grown, s->pending, s->pending_len);
      buffer_free (s->pending);
      s->pending = grown;
    }
  memcpy (s->pending + s->pending_len, data, n);
  s->pending_len += n;
}

void
pl_stream_expect (PlStream *s,
                  guint64   unit_len)
{
  s->expect = unit_len;
}

static void
stream_init (PlStream    *stream,
             PlDirection  dir)
{
  memset (stream, 0, sizeof *stream);
  stream->dir = dir;
  stream->max_unit = PL_DISSECTOR_DEFAULT_MAX_UNIT;
}

PlDissector *
pl_dissector_new (PlProtocol             protocol,
                  const PlDissectorSink *sink,
                  gpointer               user_data)
{
  const PlDissectorClass *klass = class_for (protocol);
  PlDissector *self;

  g_return_val_if_fail (sink != NULL, NULL);

  self = g_malloc0 (klass->instance_size);
  self->klass = klass;
  self->protocol = protocol;
  self->sink = *sink;
  self->user_data = user_data;
  self->max_unit = PL_DISSECTOR_DEFAULT_MAX_UNIT;
  self->max_line = MAX_LINE;
  stream_init (&self->client, PL_DIR_CLIENT);
  stream_init (&self->server, PL_DIR_SERVER);
  if (klass->init != NULL)
    klass->init (self);
  return self;
}

void
pl_dissector_free (PlDissector *self)
{
  if (self == NULL)
    return;
  if (self->klass->finalize != NULL)
    self->klass->finalize (self);
  buffer_free (self->client.pending);
  buffer_free (self->server.pending);
  g_free (self);
}

PlProtocol
pl_dissector_get_protocol (PlDissector *self)
{
  g_return_val_if_fail (self != NULL, PL_PROTOCOL_UNKNOWN);
  return self->protocol;
}

void
pl_dissector_set_max_unit (PlDissector *self,
                           gsize        max_unit)
{
  g_return_if_fail (self != NULL);
  self->max_unit = MAX (max_unit, 64);
  self->client.max_unit = self->max_unit;
  self->server.max_unit = self->max_unit;
  self->max_line = MIN (MAX_LINE, self->max_unit);
}

PlStream *
pl_dissector_stream (PlDissector *self,
                     PlDirection  dir)
{
  return dir == PL_DIR_SERVER ? &self->server : &self->client;
}

PlStream *
pl_dissector_peer (PlDissector *self,
                   PlStream    *stream)
{
  return stream == &self->client ? &self->server : &self->client;
}

const char *
pl_direction_describe (PlDirection dir)
{
  return dir == PL_DIR_SERVER ? "server to client" : "client to server";
}

/* Streams ------------------------------------------------------------------------------ */

guint8
pl_stream_unit_byte (const PlStream *s,
                     gsize           index)
{
  if (index < s->pending_len)
    return s->pending[index];
  return s->chunk[s->unit_start + (index - s->pending_len)];
}

gboolean
pl_stream_at_chunk_end (const PlStream *s)
{
  return s->pos >= s->chunk_len;
}

PlLineResult
pl_stream_next_line (PlDissector   *self,
                     PlStream      *s,
                     const guint8 **line,
                     gsize         *len)
{
  const guint8 *lf;
  gsize end;

  if (s->pos >= s->chunk_len)
    return PL_LINE_WAIT;
  lf = memchr (s->chunk + s->pos, '\n', s->chunk_len - s->pos);
  if (lf == NULL)
    {
      s->pos = s->chunk_len;
      if (pl_stream_unit_len (s) - s->line_start > self->max_line)
        return PL_LINE_LONG;
      return PL_LINE_WAIT;
    }
  end = (gsize) (lf - s->chunk) + 1;
  s->last_line_start = s->line_start;
  if (s->line_start < s->pending_len)
    {
      /* The line began in an earlier chunk: gather the unit so the line is in one piece. */
      pending_append (s, s->chunk + s->unit_start, end - s->unit_start);
      s->unit_start = end;
      s->pos = end;
      *line = s->pending + s->line_start;
      *len = s->pending_len - s->line_start;
    }
  else
    {
      gsize at = s->unit_start + (s->line_start - s->pending_len);

      *line = s->chunk + at;
      *len = end - at;
      s->pos = end;
    }
  s->line_start = pl_stream_unit_len (s);
  s->first_after_gap = s->gap_pending;
  s->gap_pending = FALSE;
  return PL_LINE_OK;
}

void
pl_stream_skip_body_lines (PlDissector *self,
                           PlStream    *s)
{
  const guint8 *base = s->chunk;
  gsize from = s->pos;
  gsize stop = s->chunk_len;
  gsize room, at, e;
  const guint8 *lf;

  /* The first line after a gap is the caller's to look at (it may begin the next reply). */
  if (from >= stop || s->gap_pending || s->line_start != pl_stream_unit_len (s) || s->pending_len >= self->max_unit)
    return;
  /* A line ending at e (past its LF) leaves the unit at pending + (e - unit_start) octets: that must stay below max_unit. */
  room = s->unit_start + (self->max_unit - s->pending_len) - 1;
  stop = MIN (stop, room);
  if (stop <= from)
    return;
  /* The first line that begins with '.' ("." itself, or a stuffed one) is left to the caller, and all after it. */
  for (at = from; ; )
    {
      const guint8 *dot = memchr (base + at, '.', stop - at);

      if (dot == NULL)
        break;
      at = (gsize) (dot - base);
      if (at == from || base[at - 1] == '\n')
        {
          stop = at;
          break;
        }
      at++;
    }
  if (stop <= from)
    return;
  lf = memrchr (base + from, '\n', stop - from);
  if (lf == NULL)
    return;
  e = (gsize) (lf - base) + 1;
  /* Where the last line passed over begins, as pl_stream_next_line() would have left it. */
  {
    const guint8 *before = lf > base + from ? memrchr (base + from, '\n', (gsize) (lf - (base + from))) : NULL;
    gsize line_at = before != NULL ? (gsize) (before - base) + 1 : from;

    s->last_line_start = s->pending_len + (line_at - s->unit_start);
  }
  s->pos = e;
  s->line_start = pl_stream_unit_len (s);
}

gsize
pl_stream_take (PlStream *s,
                guint64   want)
{
  gsize avail = s->chunk_len - s->pos;
  gsize k = want < avail ? (gsize) want : avail;

  /* Counted octets (a literal, a Content-Length, BDAT) that go on past this chunk: the unit's length is known. */
  if (want > avail)
    pl_stream_expect (s, pl_stream_unit_len (s) + want);
  s->pos += k;
  s->line_start = pl_stream_unit_len (s);
  return k;
}

void
pl_stream_take_all (PlStream *s)
{
  pl_stream_take (s, G_MAXUINT64);
}

/*
 * The whole of @pending as GBytes. A short unit (a reply that came in two
 * segments) is copied out and the buffer stays for the next; a long one
 * takes the buffer with it, cut to its length (in place: no copy), and the
 * stream's next gathered unit gets a new one (pending_append()). Either
 * way no buffer is allocated here: a new PENDING_KEEP buffer for every
 * unit, most of them never gathered, was a large allocation a unit in the
 * reading thread (and glibc tidies its small free lists before each).
 */
static GBytes *
steal_pending (PlStream *s)
{
  gsize len = s->pending_len;
  guint8 *data;

  s->expect = 0;
  s->pending_len = 0;
  if (len <= PENDING_COPY_MAX)
    return g_bytes_new (s->pending, len);
  data = g_steal_pointer (&s->pending);
  s->regrow = TRUE;
  /* An event that stays keeps only its octets; one that goes soon gives the whole buffer back (buffer_free()). */
  if (!s->recycle)
    data = buffer_shrink (data, len);
  return g_bytes_new_with_free_func (data, len, buffer_free, data);
}

/* The first @upto octets of the unit as GBytes; what follows them becomes the unit. */
static GBytes *
take_unit_bytes (PlStream *s,
                 gsize     upto)
{
  GBytes *bytes;

  if (s->pending_len == 0)
    {
      bytes = g_bytes_new (s->chunk + s->unit_start, upto);
      s->unit_start += upto;
    }
  else if (upto == s->pending_len)
    bytes = steal_pending (s);
  else if (upto <= s->pending_len)
    {
      bytes = g_bytes_new (s->pending, upto);
      memmove (s->pending, s->pending + upto, s->pending_len - upto);
      s->pending_len -= upto;
    }
  else
    {
      gsize from_chunk = upto - s->pending_len;

      pending_append (s, s->chunk + s->unit_start, from_chunk);
      s->unit_start += from_chunk;
      bytes = steal_pending (s);
    }
  s->expect = 0;
  return bytes;
}

static PlEvent *
event_from_bytes (PlStream    *s,
                  GBytes      *bytes,
                  PlEventKind  kind,
                  gboolean     unstuff_dots)
{
  char *text = NULL;

  if (s->defer_text)
    {
      /* The text is made where the event is printed (pl_dissector_emit() hands it on as such). */
      PlEvent *event = pl_event_new_take (kind, s->dir, bytes, g_strdup (""));

      s->untexted = event;
      s->placeholder = event->text;
      s->untexted_unstuff = unstuff_dots;
      return event;
    }
  if (unstuff_dots)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      text = pl_display_text_from_octets (data, len, TRUE);
    }
  return pl_event_new_take (kind, s->dir, bytes, text);
}

/* TRUE when @event is the one whose text @s left to make, and nobody has set one since. */
static gboolean
is_untexted (const PlStream *s,
             const PlEvent  *event)
{
  return s->untexted == event && event->text == s->placeholder;
}

void
pl_stream_make_text (PlStream *s,
                     PlEvent  *event)
{
  if (is_untexted (s, event))
    {
      gsize len = 0;
      const guint8 *data = pl_event_get_data (event, &len);

      pl_event_take_text (event, pl_display_text_from_octets (data, len, s->untexted_unstuff));
    }
  s->untexted = NULL;
  s->placeholder = NULL;
}

PlEvent *
pl_stream_take_event (PlStream    *s,
                      PlEventKind  kind,
                      gboolean     unstuff_dots)
{
  return pl_stream_take_unit_event (s, kind, unstuff_dots, NULL, NULL, NULL);
}

static PlEvent *
take_unit_event (PlStream    *s,
                 PlEventKind  kind,
                 gboolean     unstuff_dots,
                 const char  *tag,
                 const char  *status,
                 const char  *verb,
                 const char  *args)
{
  gsize len = pl_stream_unit_len (s);
  PlEvent *event;

  s->line_start = 0;
  s->last_line_start = 0;
  if (s->pending_len > 0)
    {
      /* Gathered across chunks: its buffer goes to the event as it is. */
      event = event_from_bytes (s, take_unit_bytes (s, len), kind, unstuff_dots);
      if (tag != NULL)
        pl_event_set_tag (event, tag);
      if (status != NULL)
        pl_event_set_status (event, status);
      if (verb != NULL)
        pl_event_set_verb (event, verb, args);
      return event;
    }
  /*
   * The unit lies in the chunk (a command, a reply, most units): its
   * octets and strings are copied into one allocation with the event
   * (pl_event_new_unit()), not five or six.
   */
  {
    const guint8 *octets = s->chunk + s->unit_start;

    if (s->defer_text)
      event = pl_event_new_unit_full (kind, s->dir, octets, len, "", tag, status, verb, verb != NULL ? args : NULL);
    else
      {
        event = pl_event_new_unit (kind, s->dir, octets, len, pl_display_text_from_octets (octets, len, unstuff_dots),
                                   status, verb, verb != NULL ? args : NULL);
        if (tag != NULL)
          pl_event_set_tag (event, tag);
      }
    s->unit_start += len;
    s->expect = 0;
    if (s->defer_text)
      {
        s->untexted = event;
        s->placeholder = event->text;
        s->untexted_unstuff = unstuff_dots;
      }
  }
  return event;
}

PlEvent *
pl_stream_take_unit_event (PlStream    *s,
                           PlEventKind  kind,
                           gboolean     unstuff_dots,
                           const char  *status,
                           const char  *verb,
                           const char  *args)
{
  return take_unit_event (s, kind, unstuff_dots, NULL, status, verb, args);
}

PlEvent *
pl_stream_take_tagged_event (PlStream    *s,
                             PlEventKind  kind,
                             const char  *tag,
                             const char  *status,
                             const char  *verb,
                             const char  *args)
{
  return take_unit_event (s, kind, FALSE, tag, status, verb, args);
}

PlEvent *
pl_stream_take_event_with_text (PlStream    *s,
                                PlEventKind  kind,
                                char        *text)
{
  GBytes *bytes = take_unit_bytes (s, pl_stream_unit_len (s));

  s->line_start = 0;
  s->last_line_start = 0;
  s->untexted = NULL;
  s->placeholder = NULL;
  return pl_event_new_take (kind, s->dir, bytes, text != NULL ? text : g_strdup (""));
}

gboolean
pl_stream_unit_contiguous (const PlStream  *s,
                           const guint8   **data,
                           gsize           *len)
{
  if (s->pending_len == 0)
    {
      /* Between feeds (a gap or the end) there is no chunk: the unit is empty. */
      *data = s->chunk != NULL ? s->chunk + s->unit_start : NULL;
      *len = s->chunk != NULL ? s->pos - s->unit_start : 0;
      return TRUE;
    }
  if (s->pos == s->unit_start)
    {
      *data = s->pending;
      *len = s->pending_len;
      return TRUE;
    }
  return FALSE;
}

PlEvent *
pl_stream_take_event_before_line (PlStream    *s,
                                  PlEventKind  kind,
                                  gboolean     unstuff_dots)
{
  gsize cut = s->last_line_start;
  GBytes *bytes = take_unit_bytes (s, cut);

  s->line_start -= cut;
  s->last_line_start = 0;
  return event_from_bytes (s, bytes, kind, unstuff_dots);
}

static void
stream_save (PlStream *s)
{
  if (s->chunk != NULL && s->unit_start < s->chunk_len)
    pending_append (s, s->chunk + s->unit_start, s->chunk_len - s->unit_start);
  s->chunk = NULL;
  s->chunk_len = 0;
  s->unit_start = 0;
  s->pos = 0;
}

/* Output ----------------------------------------------------------------------------- */

void
pl_dissector_emit (PlDissector *self,
                   PlStream    *stream,
                   PlEvent     *event)
{
  PlStream *owner = NULL;

  event->time = stream->time;
  /* An event whose text is still to make is handed on as such; it may have been taken from either side. */
  if (is_untexted (&self->client, event))
    owner = &self->client;
  else if (is_untexted (&self->server, event))
    owner = &self->server;
  if (owner != NULL)
    {
      gboolean unstuff = owner->untexted_unstuff;

      owner->untexted = NULL;
      owner->placeholder = NULL;
      self->emit_untexted (event, unstuff, self->user_data);
    }
  else if (self->sink.emit != NULL)
    self->sink.emit (event, self->user_data);
  pl_event_unref (event);
}

void
pl_dissector_note (PlDissector *self,
                   double       time,
                   const char  *format,
                   ...)
{
  PlEvent *event;
  va_list args;
  char *text;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  event = pl_event_new_take (PL_EVENT_NOTE, PL_DIR_NONE, NULL, text);
  event->time = time;
  if (self->sink.emit != NULL)
    self->sink.emit (event, self->user_data);
  pl_event_unref (event);
}

void
pl_dissector_flush_plain (PlDissector *self,
                          PlStream    *stream,
                          PlEventKind  kind,
                          gboolean     unstuff_dots)
{
  if (pl_stream_unit_len (stream) == 0)
    return;
  pl_dissector_emit (self, stream, pl_stream_take_event (stream, kind, unstuff_dots));
}

static PlEventKind
plain_kind (const PlStream *stream)
{
  return stream->dir == PL_DIR_SERVER ? PL_EVENT_REPLY : PL_EVENT_COMMAND;
}

static void
flush_stream (PlDissector *self,
              PlStream    *stream)
{
  if (stream->tls && !stream->opaque)
    pl_tls_flush (self, stream);
  else if (stream->opaque || stream->resync || self->klass->flush == NULL)
    pl_dissector_flush_plain (self, stream, stream->opaque ? PL_EVENT_DATA : plain_kind (stream), FALSE);
  else
    self->klass->flush (self, stream);
}

void
pl_dissector_mark_encrypted (PlDissector *self,
                             const char  *how)
{
  if (self->encrypted)
    return;
  self->encrypted = TRUE;
  if (self->sink.encrypted != NULL)
    self->sink.encrypted (how, self->user_data);
}

void
pl_dissector_set_transient (PlDissector *self,
                            gboolean     transient)
{
  g_return_if_fail (self != NULL);
  self->client.recycle = transient;
  self->server.recycle = transient;
}

void
pl_dissector_defer_text (PlDissector             *self,
                         PlDissectorUntextedFunc  func)
{
  g_return_if_fail (self != NULL);
  self->emit_untexted = func;
  self->client.defer_text = func != NULL;
  self->server.defer_text = func != NULL;
}

void
pl_dissector_start_tls (PlDissector *self,
                        const char  *how)
{
  g_return_if_fail (self != NULL);
  self->client.tls_check = TRUE;
  self->server.tls_check = TRUE;
  pl_dissector_mark_encrypted (self, how);
}

/* Feeding ----------------------------------------------------------------------------- */

/* After a gap: the rest of the line that was cut is shown as a fragment, then reading goes on as usual. */
static void
resync_step (PlDissector *self,
             PlStream    *s)
{
  const guint8 *line;
  gsize len;

  switch (pl_stream_next_line (self, s, &line, &len))
    {
    case PL_LINE_OK:
      s->resync = FALSE;
      /* What the gap left may be a whole new unit, not the end of the one it cut. */
      if (s->first_after_gap && pl_stream_unit_len (s) == len && self->klass->resume != NULL
          && self->klass->resume (self, s, line, len))
        break;
      pl_dissector_emit (self, s, pl_stream_take_event (s, plain_kind (s), FALSE));
      break;
    case PL_LINE_LONG:
      pl_dissector_emit (self, s, pl_stream_take_event (s, plain_kind (s), FALSE));
      break;
    case PL_LINE_WAIT:
    default:
      break;
    }
}

static void
opaque_step (PlDissector *self,
             PlStream    *s)
{
  PlEvent *event;
  gsize len;

  pl_stream_take_all (s);
  len = pl_stream_unit_len (s);
  if (self->encrypted)
    event = pl_stream_take_event_with_text (s, PL_EVENT_DATA,
                                            g_strdup_printf ("%" G_GSIZE_FORMAT " octet%s of TLS that cannot be "
                                                             "followed after the gap", len, len == 1 ? "" : "s"));
  else
    event = pl_stream_take_event (s, PL_EVENT_DATA, FALSE);
  pl_dissector_emit (self, s, event);
}

typedef struct {
  gboolean resync, tls_check, tls, opaque;
} Modes;

static Modes
modes_of (const PlStream *s)
{
  Modes m = { s->resync, s->tls_check, s->tls, s->opaque };
  return m;
}

void
pl_dissector_feed (PlDissector  *self,
                   PlDirection   dir,
                   const guint8 *data,
                   gsize         len,
                   double        time)
{
  PlStream *s;

  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  s = pl_dissector_stream (self, dir);
  if (self->klass->settle != NULL)
    self->klass->settle (self, pl_dissector_peer (self, s));

  s->chunk = data;
  s->chunk_len = len;
  s->unit_start = 0;
  s->pos = 0;
  s->time = time;

  while (s->pos < s->chunk_len)
    {
      gsize before = s->pos;
      Modes m = modes_of (s);

      if (s->opaque)
        opaque_step (self, s);
      else if (s->tls)
        pl_tls_parse (self, s);
      else if (s->resync && s->tls_check && s->gap_pending && pl_stream_unit_len (s) == 0
               && pl_tls_looks_like_record (s))
        s->resync = FALSE;   /* the gap took the rest of the cut line: TLS begins right after it */
      else if (s->resync)
        resync_step (self, s);
      else if (s->tls_check && pl_stream_unit_len (s) == 0)
        {
          s->tls_check = FALSE;
          if (pl_tls_looks_like_record (s))
            {
              s->tls = TRUE;
              pl_dissector_mark_encrypted (self, self->protocol == PL_PROTOCOL_POP3 ? "TLS after STLS"
                                                 : "TLS after STARTTLS");
            }
        }
      else
        self->klass->parse (self, s);

      /* Every step reads something or changes mode; should one not, the chunk joins the unit. */
      if (s->pos == before && memcmp (&m, &(Modes) { s->resync, s->tls_check, s->tls, s->opaque }, sizeof m) == 0)
        {
          g_warn_if_reached ();
          pl_stream_take_all (s);
        }
    }
  stream_save (s);
}

void
pl_dissector_gap (PlDissector *self,
                  PlDirection  dir,
                  guint64      missing,
                  double       time)
{
  PlStream *s;

  g_return_if_fail (self != NULL);

  if (missing == 0)
    return;
  s = pl_dissector_stream (self, dir);
  if (self->klass->settle != NULL)
    self->klass->settle (self, pl_dissector_peer (self, s));
  s->time = time;
  {
    const guint8 *data;
    gsize len;

    /*
     * What came between the last gap and this one, no line end in it, may
     * begin a new unit all the same ("220 Ready to st", cut by a small
     * snaplen): then it is read as one, and this gap cuts that.
     */
    if (s->resync && !s->opaque && !s->tls && s->gap_pending && self->klass->resume != NULL
        && pl_stream_unit_contiguous (s, &data, &len) && len > 0 && len == pl_stream_unit_len (s)
        && self->klass->resume (self, s, data, len))
      s->resync = FALSE;
  }
  s->gap_pending = TRUE;
  if (s->tls && !s->opaque)
    {
      pl_tls_gap (self, s, missing);
      return;
    }
  if (!s->opaque && !s->resync && self->klass->gap != NULL)
    {
      self->klass->gap (self, s, missing);
      return;
    }
  flush_stream (self, s);
  pl_dissector_note (self, time, "missing %" G_GUINT64_FORMAT " byte%s (%s)", missing,
                     missing == 1 ? "" : "s", pl_direction_describe (dir));
  if (!s->opaque)
    s->resync = TRUE;
}

void
pl_dissector_finish (PlDissector *self,
                     double       time)
{
  g_return_if_fail (self != NULL);

  if (self->klass->settle != NULL)
    {
      self->klass->settle (self, &self->client);
      self->klass->settle (self, &self->server);
    }
  self->client.time = time;
  self->server.time = time;
  flush_stream (self, &self->client);
  flush_stream (self, &self->server);
}

/* Detection by content ------------------------------------------------------------------ */

static gboolean
starts_with_ci (const guint8 *data,
                gsize         len,
                const char   *prefix)
{
  gsize n = strlen (prefix);

  return len >= n && g_ascii_strncasecmp ((const char *) data, prefix, n) == 0;
}

static gboolean
contains_ci (const guint8 *data,
             gsize         len,
             const char   *word)
{
  gsize n = strlen (word);

  for (gsize i = 0; i + n <= len; i++)
    if (g_ascii_strncasecmp ((const char *) data + i, word, n) == 0)
      return TRUE;
  return FALSE;
}

/* The first word, up to a space or the line's end, is one of @words (a NULL-terminated list). */
static gboolean
first_word_is (const guint8       *line,
               gsize               len,
               const char * const *words)
{
  gsize n = 0;

  while (n < len && line[n] != ' ')
    n++;
  for (gsize i = 0; words[i] != NULL; i++)
    if (strlen (words[i]) == n && g_ascii_strncasecmp ((const char *) line, words[i], n) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
is_smtp_reply_line (const guint8 *line,
                    gsize         len)
{
  return len >= 4 && line[0] >= '2' && line[0] <= '5' && g_ascii_isdigit (line[1])
         && g_ascii_isdigit (line[2]) && (line[3] == ' ' || line[3] == '-');
}

static gboolean
is_http_request_line (const guint8 *line,
                      gsize         len)
{
  static const char * const methods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE", NULL
  };
  gsize n = len;

  if (!first_word_is (line, len, methods))
    return FALSE;
  /* ... SP request-target SP "HTTP/1.x" (RFC 9112 section 3) */
  return n >= 9 && memcmp (line + n - 8, "HTTP/1.", 7) == 0 && g_ascii_isdigit (line[n - 1]);
}

/* RFC 3501 section 9: tag SP command, for the commands a session starts with or is caught in. */
static gboolean
is_imap_command_line (const guint8 *line,
                      gsize         len)
{
  static const char * const commands[] = {
    "CAPABILITY", "LOGIN", "AUTHENTICATE", "STARTTLS", "SELECT", "EXAMINE", "LIST", "LSUB",
    "FETCH", "UID", "NOOP", "LOGOUT", "STATUS", "APPEND", "IDLE", "ID", "ENABLE", "NAMESPACE",
    "SEARCH", "STORE", "COPY", "MOVE", "CLOSE", "EXPUNGE", "CREATE", "DELETE", "RENAME",
    "SUBSCRIBE", "UNSUBSCRIBE", "CHECK", NULL
  };
  gsize tag = 0;

  while (tag < len && line[tag] > ' ' && line[tag] < 0x7f && strchr ("(){%*\"\\]+", line[tag]) == NULL)
    tag++;
  if (tag == 0 || tag >= len || line[tag] != ' ')
    return FALSE;
  return first_word_is (line + tag + 1, len - tag - 1, commands);
}

PlProtocol
pl_protocol_sniff (const guint8 *data,
                   gsize         len,
                   PlProtocol    port_hint,
                   gboolean     *from_server,
                   gboolean     *need_more,
                   gboolean     *tls)
{
  static const char * const pop3_commands[] = {
    "USER", "PASS", "APOP", "CAPA", "STLS", "STAT", "RETR", "UIDL", "TOP", "LIST", "DELE", NULL
  };
  static const char * const smtp_commands[] = { "EHLO", "HELO", NULL };
  const guint8 *lf;
  gsize n;

  g_return_val_if_fail (data != NULL || len == 0, PL_PROTOCOL_UNKNOWN);
  g_return_val_if_fail (from_server != NULL && need_more != NULL && tls != NULL, PL_PROTOCOL_UNKNOWN);

  *from_server = FALSE;
  *need_more = FALSE;
  *tls = FALSE;

  /* RFC 8446 section 5.1: a handshake record, version 3.x. */
  if (len >= 1 && data[0] == 22 && (len < 2 || data[1] == 3))
    {
      if (len < 6)
        {
          *need_more = TRUE;
          return PL_PROTOCOL_UNKNOWN;
        }
      *tls = TRUE;
      *from_server = data[5] != 1;  /* ClientHello is handshake type 1 */
      return port_hint;
    }

  lf = memchr (data, '\n', len);
  if (lf == NULL)
    {
      *need_more = len < 512;
      return PL_PROTOCOL_UNKNOWN;
    }
  n = pl_line_content_len (data, (gsize) (lf - data) + 1);

  /* What servers say first. */
  if (starts_with_ci (data, n, "+OK") || starts_with_ci (data, n, "-ERR"))
    {
      *from_server = TRUE;
      return PL_PROTOCOL_POP3;
    }
  if (n >= 3 && data[0] == '*' && data[1] == ' '
      && (g_ascii_isdigit (data[2]) || g_ascii_isupper (data[2])))
    {
      *from_server = TRUE;
      return PL_PROTOCOL_IMAP;
    }
  if (starts_with_ci (data, n, "HTTP/1."))
    {
      *from_server = TRUE;
      return PL_PROTOCOL_HTTP;
    }
  if (is_smtp_reply_line (data, n) && (port_hint == PL_PROTOCOL_SMTP || contains_ci (data, n, "SMTP")))
    {
      *from_server = TRUE;
      return PL_PROTOCOL_SMTP;
    }

  /* What clients say. */
  if (is_http_request_line (data, n))
    return PL_PROTOCOL_HTTP;
  if (first_word_is (data, n, smtp_commands) || starts_with_ci (data, n, "MAIL FROM:")
      || starts_with_ci (data, n, "RCPT TO:"))
    return PL_PROTOCOL_SMTP;
  if (first_word_is (data, n, pop3_commands))
    return PL_PROTOCOL_POP3;
  if (is_imap_command_line (data, n))
    return PL_PROTOCOL_IMAP;
  return PL_PROTOCOL_UNKNOWN;
}
