/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlLineReader: the bounded line framing shared by every line-based protocol engine. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PL_LINE_NONE     = 0,
  PL_LINE_BARE_LF  = 1 << 0, /* ended by LF alone, not CRLF */
  PL_LINE_TOO_LONG = 1 << 1, /* longer than the limit: only the first octets are kept */
  PL_LINE_HAS_NUL  = 1 << 2, /* holds a NUL octet */
  PL_LINE_LONE_CR  = 1 << 3, /* holds a CR not followed by LF */
} PlLineFlags;

/*
 * A line handed out by the reader. @data points into the reader's buffer and
 * is valid until the next call on the reader.
 *
 * For an ordinary line, @data[0 .. @raw_len) are the exact octets received,
 * terminator included, and @len of them are the content before the
 * terminator. For a line over the limit, @data holds its first octets
 * (@len == @raw_len == the limit) and @discarded counts the octets that were
 * dropped after them, terminator included.
 */
typedef struct {
  const guint8 *data;
  gsize         len;
  gsize         raw_len;
  gsize         discarded;
  PlLineFlags   flags;
} PlLine;

typedef struct _PlLineReader PlLineReader;

PlLineReader *pl_line_reader_new          (gsize          max_line);
void          pl_line_reader_free         (PlLineReader  *self);
void          pl_line_reader_reset        (PlLineReader  *self);
void          pl_line_reader_set_max_line (PlLineReader  *self,
                                           gsize          max_line);
gsize         pl_line_reader_get_max_line (PlLineReader  *self);
void          pl_line_reader_feed         (PlLineReader  *self,
                                           const guint8  *data,
                                           gsize          len);
void          pl_line_reader_feed_borrowed (PlLineReader *self,
                                           const guint8  *data,
                                           gsize          len);
void          pl_line_reader_keep         (PlLineReader  *self);
gboolean      pl_line_reader_next         (PlLineReader  *self,
                                           PlLine        *line);
gsize         pl_line_reader_get_buffered (PlLineReader  *self);
const guint8 *pl_line_reader_read_raw     (PlLineReader  *self,
                                           gsize          max,
                                           gsize         *len);
gboolean      pl_line_reader_is_mid_line  (PlLineReader  *self);
const guint8 *pl_line_reader_peek         (PlLineReader  *self,
                                           gsize         *len);

/*
 * The shape of a command line in the text protocols here (RFC 1939 section
 * 3, RFC 5321 section 4.1.1): a verb of 1 to @max_verb printable ASCII
 * characters up to the first space, then, after that one space, the
 * arguments as sent. Says where the parts are (@line[0 .. *@verb_len),
 * @line[*@args_start .. @len)); FALSE for a verb that is not so, or for
 * arguments that hold a NUL (they could not be shown as a C string).
 */
gboolean      pl_line_split_command       (const guint8  *line,
                                           gsize          len,
                                           gsize          max_verb,
                                           gsize         *verb_len,
                                           gsize         *args_start);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlLineReader, pl_line_reader_free)

G_END_DECLS
