/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlLineReader, the bounded line framing every engine reads through. */

#include <string.h>

#include <glib.h>

#include "pl-line-reader.h"

/* What one line handed out by the reader must look like. */
typedef struct {
  const char  *content;    /* the octets kept, before the terminator */
  gsize        len;        /* of content (it may hold a NUL) */
  gsize        raw_len;
  gsize        discarded;
  PlLineFlags  flags;
} ExpectedLine;

#define MAX_EXPECTED 4

typedef struct {
  const char   *name;
  gsize         max_line;
  const char   *input;
  gsize         input_len;
  gsize         leftover;  /* octets still buffered after the last complete line */
  guint         n_lines;
  ExpectedLine  lines[MAX_EXPECTED];
} FramingCase;

#define S(str) str, sizeof (str) - 1

static const FramingCase framing_cases[] = {
  { "crlf-lines", 512, S ("USER bob\r\nPASS hungry\r\n"), 0, 2, {
      { S ("USER bob"), 10, 0, PL_LINE_NONE },
      { S ("PASS hungry"), 13, 0, PL_LINE_NONE } } },
  { "empty-line", 512, S ("\r\nNOOP\r\n"), 0, 2, {
      { S (""), 2, 0, PL_LINE_NONE },
      { S ("NOOP"), 6, 0, PL_LINE_NONE } } },
  { "bare-lf", 512, S ("user bob\nlist\r\n"), 0, 2, {
      { S ("user bob"), 9, 0, PL_LINE_BARE_LF },
      { S ("list"), 6, 0, PL_LINE_NONE } } },
  { "nul", 512, S ("us\0er\r\nnoop\r\n"), 0, 2, {
      { S ("us\0er"), 7, 0, PL_LINE_HAS_NUL },
      { S ("noop"), 6, 0, PL_LINE_NONE } } },
  { "lone-cr-inside", 512, S ("us\rer\r\n"), 0, 1, {
      { S ("us\rer"), 7, 0, PL_LINE_LONE_CR } } },
  { "lone-cr-before-crlf", 512, S ("user\r\r\n"), 0, 1, {
      { S ("user\r"), 7, 0, PL_LINE_LONE_CR } } },
  { "lone-cr-bare-lf", 512, S ("a\rb\n"), 0, 1, {
      { S ("a\rb"), 4, 0, PL_LINE_LONE_CR | PL_LINE_BARE_LF } } },
  { "cr-at-end-waits", 512, S ("quit\r"), 5, 0, { { NULL } } },
  { "no-line-end-waits", 512, S ("retr 1"), 6, 0, { { NULL } } },
  { "partial-after-line", 512, S ("stat\r\nli"), 2, 1, {
      { S ("stat"), 6, 0, PL_LINE_NONE } } },
  { "exactly-max", 10, S ("12345678\r\nok\r\n"), 0, 2, {
      { S ("12345678"), 10, 0, PL_LINE_NONE },
      { S ("ok"), 4, 0, PL_LINE_NONE } } },
  /* One octet over: the CR is kept, its LF discarded; the CR is not a lone one. */
  { "one-over-max", 10, S ("123456789\r\nok\r\n"), 0, 2, {
      { S ("123456789\r"), 10, 1, PL_LINE_TOO_LONG },
      { S ("ok"), 4, 0, PL_LINE_NONE } } },
  { "over-max-bare-lf", 10, S ("1234567890abc\nok\n"), 0, 2, {
      { S ("1234567890"), 10, 4, PL_LINE_TOO_LONG },
      { S ("ok"), 3, 0, PL_LINE_BARE_LF } } },
  /* (strings split after "\0" so that it is not read as an octal escape) */
  { "over-max-nul-in-prefix", 10, S ("12\0" "456789012345\r\n"), 0, 1, {
      { S ("12\0" "4567890"), 10, 7, PL_LINE_TOO_LONG | PL_LINE_HAS_NUL } } },
  { "two-over-long", 4, S ("abcdefgh\r\nijklmnop\r\nq\r\n"), 0, 3, {
      { S ("abcd"), 4, 6, PL_LINE_TOO_LONG },
      { S ("ijkl"), 4, 6, PL_LINE_TOO_LONG },
      { S ("q"), 3, 0, PL_LINE_NONE } } },
};

typedef enum {
  FEED_WHOLE,
  FEED_BYTES,
  FEED_SPLIT,   /* two feeds, split at a given position */
} FeedMode;

static void
check_line (const FramingCase  *fc,
            guint               n,
            const PlLine       *line,
            const char         *how)
{
  const ExpectedLine *want;

  g_assert_cmpuint (n, <, fc->n_lines);
  want = &fc->lines[n];
  g_test_message ("%s, %s, line %u", fc->name, how, n);
  g_assert_cmpmem (line->data, line->len, want->content, want->len);
  g_assert_cmpuint (line->raw_len, ==, want->raw_len);
  g_assert_cmpuint (line->discarded, ==, want->discarded);
  g_assert_cmphex (line->flags, ==, want->flags);
  if (!(line->flags & PL_LINE_TOO_LONG))
    {
      /* An ordinary line's raw octets are exactly what arrived. */
      g_assert_nonnull (memchr (line->data, '\n', line->raw_len));
      g_assert_cmpint (line->data[line->raw_len - 1], ==, '\n');
    }
}

static guint
drain (PlLineReader      *reader,
       const FramingCase *fc,
       guint              n,
       const char        *how)
{
  PlLine line;

  while (pl_line_reader_next (reader, &line))
    check_line (fc, n++, &line, how);
  return n;
}

/*
 * One feed, then every line it completes. Borrowed: the octets are lent
 * (pl_line_reader_feed_borrowed()) from a copy that is scribbled over and
 * freed once the reader has kept the rest, as an engine's input goes away
 * after its receive(): nothing may still point into it.
 */
static guint
feed_and_drain (PlLineReader      *reader,
                const guint8      *data,
                gsize              len,
                gboolean           borrowed,
                const FramingCase *fc,
                guint              n,
                const char        *how)
{
  guint8 *lent;

  if (!borrowed)
    {
      pl_line_reader_feed (reader, data, len);
      return drain (reader, fc, n, how);
    }
  lent = g_memdup2 (data, len);
  pl_line_reader_feed_borrowed (reader, lent, len);
  n = drain (reader, fc, n, how);
  pl_line_reader_keep (reader);
  if (len > 0)
    memset (lent, 'X', len);
  g_free (lent);
  return n;
}

static void
run_framing (const FramingCase *fc,
             FeedMode           mode,
             gsize              split,
             gboolean           borrowed)
{
  g_autoptr(PlLineReader) reader = pl_line_reader_new (fc->max_line);
  const guint8 *input = (const guint8 *) fc->input;
  g_autofree char *how = g_strdup_printf ("mode %d split %" G_GSIZE_FORMAT "%s", mode, split,
                                          borrowed ? " borrowed" : "");
  guint n = 0;

  switch (mode)
    {
    case FEED_WHOLE:
      n = feed_and_drain (reader, input, fc->input_len, borrowed, fc, n, how);
      break;
    case FEED_BYTES:
      for (gsize i = 0; i < fc->input_len; i++)
        {
          n = feed_and_drain (reader, input + i, 1, borrowed, fc, n, how);
          /* Memory stays bounded: never more than a line's worth waits. */
          g_assert_cmpuint (pl_line_reader_get_buffered (reader), <=, fc->max_line);
        }
      break;
    case FEED_SPLIT:
      n = feed_and_drain (reader, input, split, borrowed, fc, n, how);
      n = feed_and_drain (reader, input + split, fc->input_len - split, borrowed, fc, n, how);
      break;
    default:
      g_assert_not_reached ();
    }
  g_assert_cmpuint (n, ==, fc->n_lines);
  g_assert_cmpuint (pl_line_reader_get_buffered (reader), ==, fc->leftover);
  g_assert_cmpint (pl_line_reader_is_mid_line (reader), ==, fc->leftover > 0);
}

/* Each case, fed whole, one octet at a time, and split in two at every position; copied and lent. */
static void
test_framing (gconstpointer data)
{
  const FramingCase *fc = data;

  for (guint borrowed = 0; borrowed < 2; borrowed++)
    {
      run_framing (fc, FEED_WHOLE, 0, borrowed);
      run_framing (fc, FEED_BYTES, 0, borrowed);
      for (gsize split = 0; split <= fc->input_len; split++)
        run_framing (fc, FEED_SPLIT, split, borrowed);
    }
}

/*
 * The 10,000-octet line of the issue: one TOO_LONG line holding the first
 * max octets, the right count discarded, the next line intact; fed whole
 * and in many small feeds of several sizes.
 */
static void
test_huge_line (void)
{
  const gsize max = 512;
  const gsize huge = 10000;
  static const gsize chunk_sizes[] = { 0 /* whole */, 1, 7, 100, 511, 512, 513, 4096 };
  g_autoptr(GByteArray) input = g_byte_array_new ();

  for (gsize i = 0; i < huge; i++)
    {
      guint8 c = (guint8) ('a' + i % 26);
      g_byte_array_append (input, &c, 1);
    }
  g_byte_array_append (input, (const guint8 *) "\r\nNOOP\r\n", 8);

  for (gsize k = 0; k < G_N_ELEMENTS (chunk_sizes); k++)
    {
      g_autoptr(PlLineReader) reader = pl_line_reader_new (max);
      gsize chunk = chunk_sizes[k] == 0 ? input->len : chunk_sizes[k];
      guint n = 0;

      for (gsize pos = 0; pos < input->len; pos += chunk)
        {
          PlLine line;

          pl_line_reader_feed (reader, input->data + pos, MIN (chunk, input->len - pos));
          g_assert_cmpuint (pl_line_reader_get_buffered (reader), <, max + chunk);
          while (pl_line_reader_next (reader, &line))
            {
              if (n == 0)
                {
                  g_assert_cmphex (line.flags, ==, PL_LINE_TOO_LONG);
                  g_assert_cmpuint (line.len, ==, max);
                  g_assert_cmpuint (line.raw_len, ==, max);
                  g_assert_cmpmem (line.data, line.len, input->data, max);
                  g_assert_cmpuint (line.discarded, ==, huge + 2 - max);
                }
              else
                {
                  g_assert_cmpuint (n, ==, 1);
                  g_assert_cmphex (line.flags, ==, PL_LINE_NONE);
                  g_assert_cmpmem (line.data, line.len, "NOOP", 4);
                  g_assert_cmpuint (line.raw_len, ==, 6);
                }
              n++;
            }
        }
      g_assert_cmpuint (n, ==, 2);
      g_assert_false (pl_line_reader_is_mid_line (reader));
    }
}

/* An over-long line with no end yet: nothing is handed out, nothing piles up. */
static void
test_endless_line (void)
{
  g_autoptr(PlLineReader) reader = pl_line_reader_new (16);
  guint8 chunk[1000];
  PlLine line;

  memset (chunk, 'x', sizeof chunk);
  for (guint i = 0; i < 100; i++)
    {
      pl_line_reader_feed (reader, chunk, sizeof chunk);
      g_assert_false (pl_line_reader_next (reader, &line));
      g_assert_cmpuint (pl_line_reader_get_buffered (reader), ==, 0);
      g_assert_true (pl_line_reader_is_mid_line (reader));
    }
  pl_line_reader_feed (reader, (const guint8 *) "\n", 1);
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmphex (line.flags, ==, PL_LINE_TOO_LONG);
  g_assert_cmpuint (line.discarded, ==, 100 * sizeof chunk + 1 - 16);
  g_assert_false (pl_line_reader_next (reader, &line));
  g_assert_false (pl_line_reader_is_mid_line (reader));
}

typedef struct {
  const char *name;
  const char *input;
  gsize       input_len;
  gsize       raw_max;       /* asked of read_raw after the first line */
  const char *raw;           /* what read_raw gives */
  gsize       raw_len;
  const char *after;         /* the next line, or NULL for none */
  gsize       after_len;
} RawCase;

static const RawCase raw_cases[] = {
  { "literal", S ("A1 APPEND x {5}\r\nhello WORLD\r\n"), 5, S ("hello"), S (" WORLD") },
  { "whole-buffer", S ("x\r\nab"), 10, S ("ab"), NULL, 0 },
  { "nothing-buffered", S ("x\r\n"), 10, S (""), NULL, 0 },
  { "raw-holds-lf", S ("x\r\nab\ncd\r\n"), 3, S ("ab\n"), S ("cd") },
  { "zero", S ("x\r\nab\r\n"), 0, S (""), S ("ab") },
};

/* read_raw: octets handed out as they are, then framing resumes where it stopped. */
static void
test_read_raw (gconstpointer data)
{
  const RawCase *rc = data;
  g_autoptr(PlLineReader) reader = pl_line_reader_new (512);
  const guint8 *raw;
  gsize len = 12345;
  PlLine line;

  pl_line_reader_feed (reader, (const guint8 *) rc->input, rc->input_len);
  g_assert_true (pl_line_reader_next (reader, &line));
  raw = pl_line_reader_read_raw (reader, rc->raw_max, &len);
  g_assert_cmpmem (raw, len, rc->raw, rc->raw_len);
  if (rc->after != NULL)
    {
      g_assert_true (pl_line_reader_next (reader, &line));
      g_assert_cmpmem (line.data, line.len, rc->after, rc->after_len);
    }
  g_assert_false (pl_line_reader_next (reader, &line));
}

/* A read_raw in the middle of a scanned, unfinished line keeps the framing right. */
static void
test_read_raw_mid_scan (void)
{
  g_autoptr(PlLineReader) reader = pl_line_reader_new (512);
  PlLine line;
  gsize len;

  pl_line_reader_feed (reader, (const guint8 *) "abcdef", 6);
  g_assert_false (pl_line_reader_next (reader, &line));   /* scans 6 octets */
  pl_line_reader_read_raw (reader, 4, &len);
  g_assert_cmpuint (len, ==, 4);
  pl_line_reader_feed (reader, (const guint8 *) "g\nh\n", 4);
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmpmem (line.data, line.len, "efg", 3);
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmpmem (line.data, line.len, "h", 1);
}

/* Feeding no octets changes nothing (and passes no NULL to memchr). */
static void
test_empty_feed (void)
{
  g_autoptr(PlLineReader) reader = pl_line_reader_new (8);
  PlLine line;

  pl_line_reader_feed (reader, NULL, 0);
  g_assert_false (pl_line_reader_next (reader, &line));
  pl_line_reader_feed (reader, (const guint8 *) "123456789", 9);
  g_assert_false (pl_line_reader_next (reader, &line));
  pl_line_reader_feed (reader, NULL, 0);
  pl_line_reader_feed (reader, (const guint8 *) "\n", 1);
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmpuint (line.discarded, ==, 2);
  g_assert_cmpuint (pl_line_reader_get_max_line (reader), ==, 8);
}

/* pl_line_reader_peek(): what is unread, as it is, until read_raw() takes it; nothing while a long line is dropped. */
static void
test_peek (void)
{
  g_autoptr(PlLineReader) reader = pl_line_reader_new (8);
  PlLine line;
  gsize len = 99;
  const guint8 *data;

  data = pl_line_reader_peek (reader, &len);
  g_assert_cmpuint (len, ==, 0);
  pl_line_reader_feed (reader, (const guint8 *) "ab\r\ncd\r\nef", 10);
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmpmem (line.data, line.len, "ab", 2);
  data = pl_line_reader_peek (reader, &len);
  g_assert_cmpmem (data, len, "cd\r\nef", 6);
  /* Peeking takes nothing... */
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmpmem (line.data, line.len, "cd", 2);
  /* ...read_raw() does. */
  data = pl_line_reader_peek (reader, &len);
  g_assert_cmpmem (data, len, "ef", 2);
  pl_line_reader_read_raw (reader, 2, &len);
  data = pl_line_reader_peek (reader, &len);
  g_assert_cmpuint (len, ==, 0);

  /* Borrowed octets are peeked at where they are. */
  {
    static const guint8 lent[] = "gh\r\nij";

    pl_line_reader_feed_borrowed (reader, lent, 6);
    data = pl_line_reader_peek (reader, &len);
    g_assert_true (data == lent);
    g_assert_cmpuint (len, ==, 6);
    pl_line_reader_keep (reader);
  }

  /* Over the limit: the rest of the line is being dropped, there is nothing to peek at. */
  pl_line_reader_reset (reader);
  pl_line_reader_feed (reader, (const guint8 *) "0123456789", 10);
  g_assert_true (pl_line_reader_next (reader, &line) == FALSE || (line.flags & PL_LINE_TOO_LONG));
  data = pl_line_reader_peek (reader, &len);
  g_assert_null (data);
  g_assert_cmpuint (len, ==, 0);
}

/* pl_line_reader_reset(): as a new reader with the same limit, whatever was going on. */
static void
test_reset (void)
{
  g_autoptr(PlLineReader) reader = pl_line_reader_new (6);
  PlLine line;

  /* Half a line, then an over-long one being dropped. */
  pl_line_reader_feed (reader, (const guint8 *) "abc", 3);
  pl_line_reader_reset (reader);
  g_assert_false (pl_line_reader_is_mid_line (reader));
  g_assert_cmpuint (pl_line_reader_get_buffered (reader), ==, 0);
  pl_line_reader_feed (reader, (const guint8 *) "0123456789", 10);
  pl_line_reader_next (reader, &line);
  pl_line_reader_reset (reader);
  g_assert_false (pl_line_reader_is_mid_line (reader));
  g_assert_cmpuint (pl_line_reader_get_max_line (reader), ==, 6);

  /* Then lines frame as in a new reader: the rest of the long line is not dropped any more. */
  pl_line_reader_feed (reader, (const guint8 *) "xy\r\n", 4);
  g_assert_true (pl_line_reader_next (reader, &line));
  g_assert_cmpmem (line.data, line.raw_len, "xy\r\n", 4);
  g_assert_cmpint (line.flags, ==, PL_LINE_NONE);
  g_assert_cmpuint (line.discarded, ==, 0);
  g_assert_false (pl_line_reader_next (reader, &line));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (framing_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/line-reader/framing/%s", framing_cases[i].name);
      g_test_add_data_func (path, &framing_cases[i], test_framing);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (raw_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/line-reader/read-raw/%s", raw_cases[i].name);
      g_test_add_data_func (path, &raw_cases[i], test_read_raw);
    }
  g_test_add_func ("/line-reader/huge-line", test_huge_line);
  g_test_add_func ("/line-reader/endless-line", test_endless_line);
  g_test_add_func ("/line-reader/read-raw/mid-scan", test_read_raw_mid_scan);
  g_test_add_func ("/line-reader/empty-feed", test_empty_feed);
  g_test_add_func ("/line-reader/peek", test_peek);
  g_test_add_func ("/line-reader/reset", test_reset);

  return g_test_run ();
}
