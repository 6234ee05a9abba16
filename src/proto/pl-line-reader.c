/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlLineReader: the bounded line framing shared by every line-based protocol engine. */
#define G_LOG_DOMAIN "postlab-proto"

#include "pl-line-reader.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * The buffer holds at most the unread octets of one feed plus one line's
 * worth: a line that runs past the limit keeps only its first octets while
 * the rest is counted and dropped as it arrives, so a client that never
 * sends a line end costs no more memory than one that does.
 */
struct _PlLineReader
{
  GByteArray *buffer;
  const guint8 *borrowed; /* the caller's octets, read in place until pl_line_reader_keep(), or NULL */
  gsize       borrowed_len;
  gsize       start;      /* first unread octet in buffer (or in borrowed) */
  gsize       scanned;    /* octets after start already known to hold no LF */
  gsize       max_line;   /* longest line accepted, terminator included */

  gboolean    discarding; /* inside an over-long line, after its kept prefix */
  gsize       discarded;  /* octets dropped so far from that line */
  guint8     *prefix;     /* the kept first octets of that line */
  gsize       prefix_len;
  gboolean    prefix_ready; /* the over-long line has ended: hand it out */
};

/*
 * pl_line_reader_new:
 * @max_line: the longest line accepted, terminator included (RFC 5321
 * 4.5.3.1.6: 1000 for SMTP; RFC 2449 section 4: 512 for POP3 replies).
 */
PlLineReader *
pl_line_reader_new (gsize max_line)
{
  PlLineReader *self;

  g_return_val_if_fail (max_line >= 3, NULL);

  self = g_new0 (PlLineReader, 1);
  /* It grows to what arrives at once: most sessions never need a whole max_line. */
  self->buffer = g_byte_array_new ();
  self->max_line = max_line;
  return self;
}

void
pl_line_reader_free (PlLineReader *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->buffer);
  g_free (self->prefix);
  g_free (self);
}

/*
 * pl_line_reader_reset:
 * Forgets every octet fed (and any over-long line being dropped), as a new
 * reader with the same limit: for an engine that starts another session.
 * The buffer keeps its room.
 */
void
pl_line_reader_reset (PlLineReader *self)
{
  g_return_if_fail (self != NULL);

  g_byte_array_set_size (self->buffer, 0);
  self->borrowed = NULL;
  self->borrowed_len = 0;
  self->start = 0;
  self->scanned = 0;
  self->discarding = FALSE;
  self->discarded = 0;
  g_clear_pointer (&self->prefix, g_free);
  self->prefix_len = 0;
  self->prefix_ready = FALSE;
}

void
pl_line_reader_set_max_line (PlLineReader *self,
                             gsize         max_line)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_line >= 3);
  self->max_line = max_line;
}

gsize
pl_line_reader_get_max_line (PlLineReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_line;
}

/* The octets being read: the caller's, lent by pl_line_reader_feed_borrowed(), or the reader's own. */
static inline const guint8 *
unread_base (PlLineReader *self)
{
  return self->borrowed != NULL ? self->borrowed : self->buffer->data;
}

static inline gsize
unread_end (PlLineReader *self)
{
  return self->borrowed != NULL ? self->borrowed_len : self->buffer->len;
}

/*
 * pl_line_reader_keep:
 * Copies what is left of octets lent by pl_line_reader_feed_borrowed() into
 * the reader, which then no longer points into them. Call it before those
 * octets go away; it does nothing when none are lent.
 */
void
pl_line_reader_keep (PlLineReader *self)
{
  g_return_if_fail (self != NULL);

  if (self->borrowed == NULL)
    return;
  /* The buffer is empty while octets are lent (see pl_line_reader_feed_borrowed()). */
  if (self->start < self->borrowed_len)
    g_byte_array_append (self->buffer, self->borrowed + self->start, (guint) (self->borrowed_len - self->start));
  self->start = 0;
  self->borrowed = NULL;
  self->borrowed_len = 0;
}

/*
 * pl_line_reader_feed_borrowed:
 * As pl_line_reader_feed(), but when nothing is waiting in the reader the
 * octets are read where they are: the lines handed out point into @data,
 * which must stay as it is until pl_line_reader_keep(). An engine feeds
 * its input so, reads the lines, and keeps the rest before it returns:
 * most input is whole lines, which then cost no copy at all.
 */
void
pl_line_reader_feed_borrowed (PlLineReader *self,
                              const guint8 *data,
                              gsize         len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  pl_line_reader_keep (self);
  if (len == 0 || self->discarding || self->start < self->buffer->len)
    {
      pl_line_reader_feed (self, data, len);
      return;
    }
  if (self->buffer->len > 0)
    g_byte_array_set_size (self->buffer, 0);
  self->start = 0;
  self->borrowed = data;
  self->borrowed_len = len;
}

static void
compact (PlLineReader *self)
{
  if (self->start == 0)
    return;
  if (self->start == self->buffer->len)
    g_byte_array_set_size (self->buffer, 0);
  else
    g_byte_array_remove_range (self->buffer, 0, self->start);
  self->start = 0;
}

/*
 * pl_line_reader_feed:
 * Adds received octets. Octets of an over-long line past its kept prefix are
 * dropped here, up to and including its LF.
 */
void
pl_line_reader_feed (PlLineReader *self,
                     const guint8 *data,
                     gsize         len)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (data != NULL || len == 0);

  /* memchr() and memcpy() must not see a NULL pointer, even for 0 octets. */
  if (len == 0)
    return;
  pl_line_reader_keep (self);

  if (self->discarding && !self->prefix_ready)
    {
      const guint8 *lf = memchr (data, '\n', len);
      if (lf == NULL)
        {
          self->discarded += len;
          return;
        }
      self->discarded += (gsize) (lf - data) + 1;
      self->prefix_ready = TRUE;
      len -= (gsize) (lf - data) + 1;
      data = lf + 1;
    }

  compact (self);
  g_byte_array_append (self->buffer, data, len);
}

/*
 * A line's content (before its terminator) holds no LF, so every CR in it is
 * a lone one ("a\rb", and the first CR of "a\r\r\n"). The one exception is
 * the last octet of an over-long line's kept prefix, whose LF may simply
 * have been cut off: @trailing_cr_ok says so.
 */
static PlLineFlags
flags_for (const guint8 *data,
           gsize         len,
           gboolean      trailing_cr_ok)
{
  PlLineFlags flags = PL_LINE_NONE;
  gsize scan_len = len;
  gboolean nul = FALSE;
  gboolean cr = FALSE;
  gsize i = 0;

  /* A trailing CR that may stay is no NUL either: both are looked for in the same octets, in one pass. */
  if (trailing_cr_ok && scan_len > 0 && data[scan_len - 1] == '\r')
    scan_len--;
#if defined(__SSE2__)
  {
    /* Every line passes here, most of them short: sixteen octets a turn, no call. */
    const __m128i zero = _mm_setzero_si128 ();
    const __m128i crs = _mm_set1_epi8 ('\r');
    __m128i seen_nul = zero;
    __m128i seen_cr = zero;

    for (; i + 16 <= scan_len; i += 16)
      {
        __m128i x = _mm_loadu_si128 ((const __m128i *) (data + i));

        seen_nul = _mm_or_si128 (seen_nul, _mm_cmpeq_epi8 (x, zero));
        seen_cr = _mm_or_si128 (seen_cr, _mm_cmpeq_epi8 (x, crs));
      }
    if (i < scan_len && scan_len >= 16)
      {
        /* The last sixteen, some of them looked at already. */
        __m128i x = _mm_loadu_si128 ((const __m128i *) (data + scan_len - 16));

        seen_nul = _mm_or_si128 (seen_nul, _mm_cmpeq_epi8 (x, zero));
        seen_cr = _mm_or_si128 (seen_cr, _mm_cmpeq_epi8 (x, crs));
        i = scan_len;
      }
    nul = _mm_movemask_epi8 (seen_nul) != 0;
    cr = _mm_movemask_epi8 (seen_cr) != 0;
  }
#endif
  for (; i < scan_len; i++)
    {
      nul = nul || data[i] == '\0';
      cr = cr || data[i] == '\r';
    }
  if (nul)
    flags |= PL_LINE_HAS_NUL;
  if (cr)
    flags |= PL_LINE_LONE_CR;
  return flags;
}

/*
 * pl_line_reader_next:
 * Hands out the next complete line, if there is one. Returns FALSE when more
 * octets are needed. Call it until it returns FALSE after each feed.
 */
gboolean
pl_line_reader_next (PlLineReader *self,
                     PlLine       *line)
{
  const guint8 *base;
  gsize avail;
  const guint8 *lf;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (line != NULL, FALSE);

  memset (line, 0, sizeof *line);

  if (self->discarding)
    {
      if (!self->prefix_ready)
        return FALSE;
      line->data = self->prefix;
      line->len = self->prefix_len;
      line->raw_len = self->prefix_len;
      line->discarded = self->discarded;
      line->flags = PL_LINE_TOO_LONG | flags_for (self->prefix, self->prefix_len, TRUE);
      self->discarding = FALSE;
      self->prefix_ready = FALSE;
      self->discarded = 0;
      /* prefix stays allocated until the next over-long line or free, so
       * line->data remains valid until the next call */
      return TRUE;
    }

  base = unread_base (self) + self->start;
  avail = unread_end (self) - self->start;
  lf = avail > self->scanned ? memchr (base + self->scanned, '\n', avail - self->scanned) : NULL;

  if (lf == NULL || (gsize) (lf - base) + 1 > self->max_line)
    {
      if (lf == NULL)
        self->scanned = avail;
      if (avail < self->max_line && lf == NULL)
        return FALSE;

      /* Over the limit: keep the first max_line octets, drop the rest of the line. */
      g_free (self->prefix);
      self->prefix = g_memdup2 (base, self->max_line);
      self->prefix_len = self->max_line;
      self->discarding = TRUE;
      self->scanned = 0;
      if (lf != NULL)
        {
          gsize consumed = (gsize) (lf - base) + 1;
          self->discarded = consumed - self->max_line;
          self->prefix_ready = TRUE;
          self->start += consumed;
        }
      else
        {
          self->discarded = avail - self->max_line;
          self->prefix_ready = FALSE;
          self->start += avail;
        }
      return pl_line_reader_next (self, line);
    }

  line->data = base;
  line->raw_len = (gsize) (lf - base) + 1;
  if (lf > base && lf[-1] == '\r')
    line->len = line->raw_len - 2;
  else
    {
      line->len = line->raw_len - 1;
      line->flags |= PL_LINE_BARE_LF;
    }
  line->flags |= flags_for (base, line->len, FALSE);
  self->start += line->raw_len;
  self->scanned = 0;
  return TRUE;
}

/* Octets received but not yet handed out. */
gsize
pl_line_reader_get_buffered (PlLineReader *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return unread_end (self) - self->start;
}

/* TRUE when part of a line has arrived and its end has not. */
gboolean
pl_line_reader_is_mid_line (PlLineReader *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->discarding || pl_line_reader_get_buffered (self) > 0;
}

/*
 * pl_line_reader_read_raw:
 * Hands out up to @max buffered octets as they are, without framing (an IMAP
 * literal, a BDAT chunk). The pointer is valid until the next call.
 */
const guint8 *
pl_line_reader_read_raw (PlLineReader *self,
                         gsize         max,
                         gsize        *len)
{
  gsize avail;
  const guint8 *p;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  avail = unread_end (self) - self->start;
  *len = MIN (avail, max);
  p = unread_base (self) + self->start;
  self->start += *len;
  self->scanned = self->scanned > *len ? self->scanned - *len : 0;
  return p;
}

/*
 * pl_line_reader_peek:
 * The octets received and not yet handed out, as they are, without taking
 * them: for an engine that reads a run of lines in one go (an SMTP server
 * taking a message's lines up to the one it must look at by itself). It
 * takes them with pl_line_reader_read_raw(), whole lines only. While the
 * rest of an over-long line is being dropped there is nothing to peek at:
 * NULL, and 0 in @len. Valid until the next call.
 */
const guint8 *
pl_line_reader_peek (PlLineReader *self,
                     gsize        *len)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (len != NULL, NULL);

  if (self->discarding)
    {
      *len = 0;
      return NULL;
    }
  *len = unread_end (self) - self->start;
  return unread_base (self) + self->start;
}

gboolean
pl_line_split_command (const guint8 *line,
                       gsize         len,
                       gsize         max_verb,
                       gsize        *verb_len,
                       gsize        *args_start)
{
  gsize n = 0;
  gsize start;

  g_return_val_if_fail (line != NULL || len == 0, FALSE);
  g_return_val_if_fail (verb_len != NULL, FALSE);
  g_return_val_if_fail (args_start != NULL, FALSE);

  while (n < len && line[n] != ' ')
    {
      if (line[n] < 0x21 || line[n] > 0x7e)
        return FALSE;
      n++;
    }
  if (n == 0 || n > max_verb)
    return FALSE;

  start = n < len ? n + 1 : len;
  if (len > start && memchr (line + start, '\0', len - start) != NULL)
    return FALSE;

  *verb_len = n;
  *args_start = start;
  return TRUE;
}
