/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The fast roads of display text and JSON strings (sixteen octets a turn) against plain octet-by-octet ones, on random octets. */
#include <string.h>

#include "pl-event.h"
#include "pl-writer.h"

/*
 * pl_display_text_from_octets() as it was first written, one octet at a
 * time: the reference the fast one must always agree with.
 */
static char *
reference_display_text (const guint8 *data,
                        gsize         len,
                        gboolean      unstuff_dots)
{
  GString *out = g_string_new (NULL);
  gboolean at_line_start = TRUE;
  gsize i = 0;

  while (i < len)
    {
      guint8 c = data[i];

      if (at_line_start && unstuff_dots && c == '.' && i + 1 < len && data[i + 1] == '.')
        c = data[++i];
      at_line_start = FALSE;
      if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
        {
          i += 2;
          if (i < len)
            g_string_append_c (out, '\n');
          at_line_start = TRUE;
        }
      else if (c == '\n')
        {
          i++;
          if (i < len)
            g_string_append_c (out, '\n');
          at_line_start = TRUE;
        }
      else if (c == 0)
        {
          g_string_append (out, "\xe2\x90\x80");
          i++;
        }
      else if (c == '\t' || (c >= 0x20 && c < 0x7f))
        {
          g_string_append_c (out, (char) c);
          i++;
        }
      else if (c < 0x80)
        {
          g_string_append (out, "\xef\xbf\xbd");
          i++;
        }
      else
        {
          /* The longest valid UTF-8 character here, or one replacement for one octet. */
          gsize run = 0;
          const char *end;

          while (i + run < len && data[i + run] >= 0x80)
            run++;
          g_utf8_validate_len ((const char *) data + i, run, &end);
          if (end > (const char *) data + i)
            {
              gsize valid = (gsize) (end - (const char *) data) - i;

              g_string_append_len (out, (const char *) data + i, (gssize) valid);
              i += valid;
            }
          else
            {
              g_string_append (out, "\xef\xbf\xbd");
              i++;
            }
        }
    }
  return g_string_free (out, FALSE);
}

static char *
reference_json (const char *text)
{
  GString *out = g_string_new ("\"");

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':  g_string_append (out, "\\\""); break;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        case '\t': g_string_append (out, "\\t"); break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\u%04x", *p);
          else
            g_string_append_c (out, (char) *p);
        }
    }
  g_string_append_c (out, '"');
  return g_string_free (out, FALSE);
}

/* Octets as mail has them, and as it should not: text, line ends, dots, controls, UTF-8 whole and broken. */
static void
random_octets (GRand      *rand,
               GByteArray *out,
               gsize       len)
{
  static const char * const pieces[] = {
    "a", "b", "z", " ", "Hello", "0123456789abcdef", ".", "..", "\r\n", "\r\n.", "\r\n..", "\n", "\n.",
    "\r", "\t", "\"", "\\", "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x93\xa7", "\xe2\x82",
    "\xff", "\x80", "\xc0\xaf", "\xed\xa0\x80",
  };

  g_byte_array_set_size (out, 0);
  while (out->len < len)
    {
      const char *piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];

      if (g_rand_int_range (rand, 0, 4) == 0)
        piece = "The quick brown fox jumps over the lazy dog, ";
      g_byte_array_append (out, (const guint8 *) piece, (guint) strlen (piece));
    }
  if (g_rand_boolean (rand))
    g_byte_array_append (out, (const guint8 *) "\0", 1);
}

static void
test_display_text_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autoptr(GByteArray) octets = g_byte_array_new ();

  for (guint round = 0; round < 20000; round++)
    {
      gsize len = round % 100 == 0 ? 5000 : (gsize) g_rand_int_range (rand, 0, 200);

      random_octets (rand, octets, len);
      for (int unstuff = 0; unstuff <= 1; unstuff++)
        {
          /* Every start and end, so that the sixteen-octet turns meet each position. */
          gsize from = round % 17;
          gsize n = octets->len > from ? octets->len - from : 0;
          g_autofree char *want = reference_display_text (octets->data + from, n, unstuff);
          g_autofree char *got = pl_display_text_from_octets (octets->data + from, n, unstuff);

          g_assert_cmpstr (got, ==, want);
          g_assert_true (g_utf8_validate (got, -1, NULL));
        }
    }
}

static void
test_json_string_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(GByteArray) octets = g_byte_array_new ();
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint round = 0; round < 20000; round++)
    {
      gsize len = round % 100 == 0 ? 5000 : (gsize) g_rand_int_range (rand, 0, 200);
      g_autofree char *text = NULL;
      g_autofree char *want = NULL;

      random_octets (rand, octets, len);
      text = g_strndup ((const char *) octets->data, octets->len);
      want = reference_json (text);
      /* A string already in the buffer: the fast road must not care where it starts. */
      g_string_assign (out, "x");
      g_string_append_len (out, "yyyyyyyyyyyyyyy", round % 16);
      {
        gsize at = out->len;

        pl_json_append_string (out, text, -1);
        g_assert_cmpstr (out->str + at, ==, want);
      }
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/event/display-text/random", test_display_text_random);
  g_test_add_func ("/core/writer/json/string-random", test_json_string_random);
  return g_test_run ();
}
