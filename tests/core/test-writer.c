/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of the writers: the text transcript's layout and the JSON Lines fields of DESIGN.md. */
#include "pl-writer.h"

#include <json-glib/json-glib.h>
#include <string.h>

static PlEvent *
make_event (PlEventKind  kind,
            PlDirection  dir,
            const char  *octets,
            double       t)
{
  PlEvent *event = pl_event_new (kind, dir, (const guint8 *) octets, strlen (octets));
  event->time = t;
  event->session = 1;
  return event;
}

static JsonObject *
parse_line (const char *line,
            JsonParser *parser)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_str_has_suffix (line, "\n"));
  g_assert_null (strchr (line, '\n') + 1 == line + strlen (line) ? NULL : "more than one line");
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_jsonl_session (void)
{
  g_autoptr(PlSession) session = pl_session_new (PL_PROTOCOL_POP3, "127.0.0.1:40312", "127.0.0.1:1110", 0.0);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  session->id = 1;
  pl_jsonl_append_session (out, session);
  obj = parse_line (out->str, parser);
  g_assert_cmpstr (json_object_get_string_member (obj, "type"), ==, "session");
  g_assert_cmpint (json_object_get_int_member (obj, "session"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (obj, "protocol"), ==, "pop3");
  g_assert_cmpstr (json_object_get_string_member (obj, "client"), ==, "127.0.0.1:40312");
  g_assert_cmpstr (json_object_get_string_member (obj, "server"), ==, "127.0.0.1:1110");
  g_assert_cmpfloat (json_object_get_double_member (obj, "t"), ==, 0.0);

  g_string_truncate (out, 0);
  session->close_time = 0.9;
  pl_jsonl_append_end (out, session);
  g_assert_cmpstr (out->str, ==, "{\"type\":\"end\",\"session\":1,\"t\":0.9}\n");
}

static void
test_jsonl_event (void)
{
  g_autoptr(PlEvent) event = make_event (PL_EVENT_REPLY, PL_DIR_SERVER, "+OK POP3 server ready\r\n", 0.0004);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree guchar *decoded = NULL;
  gsize decoded_len;
  JsonObject *obj;

  pl_event_set_status (event, "+OK");
  pl_jsonl_append_event (out, event);
  obj = parse_line (out->str, parser);
  g_assert_cmpstr (json_object_get_string_member (obj, "type"), ==, "event");
  g_assert_cmpint (json_object_get_int_member (obj, "session"), ==, 1);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (obj, "t"), 0.0004, 1e-9);
  g_assert_cmpstr (json_object_get_string_member (obj, "dir"), ==, "S");
  g_assert_cmpstr (json_object_get_string_member (obj, "kind"), ==, "reply");
  g_assert_cmpstr (json_object_get_string_member (obj, "status"), ==, "+OK");
  g_assert_cmpstr (json_object_get_string_member (obj, "text"), ==, "+OK POP3 server ready");
  g_assert_cmpstr (json_object_get_string_member (obj, "b64"), ==, "K09LIFBPUDMgc2VydmVyIHJlYWR5DQo=");
  decoded = g_base64_decode (json_object_get_string_member (obj, "b64"), &decoded_len);
  g_assert_cmpmem (decoded, decoded_len, "+OK POP3 server ready\r\n", 23);
  g_assert_false (json_object_has_member (obj, "verb"));
}

static void
test_jsonl_command_and_note (void)
{
  g_autoptr(PlEvent) event = make_event (PL_EVENT_COMMAND, PL_DIR_CLIENT, "USER bob\r\n", 0.0011);
  g_autoptr(PlEvent) note = pl_event_new_note ("missing 1448 bytes (server to client)");
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  pl_event_set_verb (event, "USER", "bob");
  pl_jsonl_append_event (out, event);
  obj = parse_line (out->str, parser);
  g_assert_cmpstr (json_object_get_string_member (obj, "kind"), ==, "command");
  g_assert_cmpstr (json_object_get_string_member (obj, "verb"), ==, "USER");
  g_assert_cmpstr (json_object_get_string_member (obj, "args"), ==, "bob");
  g_assert_cmpstr (json_object_get_string_member (obj, "text"), ==, "USER bob");

  g_string_truncate (out, 0);
  note->session = 1;
  note->time = 0.5;
  pl_jsonl_append_event (out, note);
  g_assert_cmpstr (out->str, ==,
                   "{\"type\":\"note\",\"session\":1,\"t\":0.5,\"text\":\"missing 1448 bytes (server to client)\"}\n");
}

static void
test_json_escapes (void)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *text = "q\"b\\s\nn\tt\x01" "caf\xc3\xa9";

  pl_json_append_string (out, text, -1);
  g_assert_cmpstr (out->str, ==, "\"q\\\"b\\\\s\\nn\\tt\\u0001caf\xc3\xa9\"");
  json_parser_load_from_data (parser, out->str, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==, text);
}

/* The "t" of an end line: what the writer made of @t. */
static char *
written_time (double t)
{
  g_autoptr(PlSession) session = pl_session_new (PL_PROTOCOL_POP3, "c", "s", t);
  g_autoptr(GString) out = g_string_new (NULL);
  const char *start;

  session->id = 1;
  pl_jsonl_append_end (out, session);
  start = strstr (out->str, "\"t\":") + 4;
  return g_strndup (start, strlen (start) - 2);
}

/* "%.6f" with the trailing zeros trimmed (one decimal kept): what the writer promises. */
static char *
printf_time (double t)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gsize n;

  g_ascii_formatd (buf, sizeof buf, "%.6f", t);
  n = strlen (buf);
  while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
    buf[--n] = '\0';
  return g_strdup (buf);
}

/* Times are written without printf when that is sure to give the same: it must, for any time. */
static void
test_jsonl_times (void)
{
  static const double fixed[] = {
    0.0, 0.0004, 0.9, 1.0, 2.5, 1e-7, 4.9999995e-7, 5e-7, 0.0000015, 123456.999999, 123456.9999995,
    1744630000.0, 1744630000.000001, 1744630000.123456, 1744630000.1234565, 1744630000.999999,
    1700000000.0 + 0.1, 4503599627.370496, 9007199254.740993, 1e15, -1.5, 1e300,
    /* Exact ties of "%.6f" (k / 2^7 has a 5 in its seventh decimal): to even. */
    0.0078125, 0.0234375, 1.0078125, 12345.0078125, 1744630000.0078125, 4.9406564584124654e-324,
    9999999999999.998, 10000000000000.0,
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    {
      g_autofree char *got = written_time (fixed[i]);
      g_autofree char *want = printf_time (fixed[i]);

      g_assert_cmpstr (got, ==, want);
    }
  for (guint i = 0; i < 200000; i++)
    {
      /* Capture times in whole microseconds and in nanoseconds, simulated times, anything. */
      guint32 sec = g_rand_int_range (rand, 0, G_MAXINT32);
      double t;
      g_autofree char *got = NULL;
      g_autofree char *want = NULL;

      switch (i % 6)
        {
        case 0: t = sec + g_rand_int_range (rand, 0, 1000000) / 1e6; break;
        case 1: t = sec + g_rand_int_range (rand, 0, 1000000000) / 1e9; break;
        case 2: t = g_rand_int_range (rand, 0, 100000000) / 1e6; break;
        case 3: t = sec + g_rand_int_range (rand, 0, 1 << 20) / (double) (1 << 20); break;   /* ties too */
        case 4: t = g_rand_double_range (rand, 0, 1e-3); break;
        default: t = g_rand_double_range (rand, 0, 1e10); break;
        }
      got = written_time (t);
      want = printf_time (t);
      g_assert_cmpstr (got, ==, want);
    }
}

/* The text transcript's times ("%9.3f " of the time since the origin) without printf: the same, always. */
static void
test_text_times (void)
{
  static const double fixed[] = {
    0.0, 0.0004, 0.0005, 0.0015, 0.0025, 0.125, 0.9995, 1.0005, 999999.9995, 12345678.5, 123456789.125,
    -0.0004, -0.0005, -0.25, -1.5, -1744630000.125, 1e15, -1e15, 0.0078125,
  };
  g_autoptr(PlSession) session = pl_session_new (PL_PROTOCOL_POP3, "c", "s", 0.0);
  g_autoptr(PlEvent) event = make_event (PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n", 0.0);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (fixed) + 100000; i++)
    {
      double origin = 1744630000.0 + (i % 3) * 0.001;
      double t;
      g_autofree char *want = NULL;

      if (i < G_N_ELEMENTS (fixed))
        t = origin + fixed[i];
      else if (i % 2)
        t = origin + g_rand_int_range (rand, -1000000, 100000000) / 1e6;
      else
        t = g_rand_double_range (rand, 0, 2e9);
      event->time = t;
      event->session = i % 1500;
      g_string_truncate (out, 0);
      pl_text_append_event (out, session, event, origin, PL_WRITER_FLAGS_SESSION_IDS);
      want = g_strdup_printf ("%9.3f #%-3u S: +OK\n", t - origin, event->session);
      g_assert_cmpstr (out->str, ==, want);
    }
}

/* An event of @len octets at @octets, as a JSON line: its "b64" is what g_base64_encode() gives. */
static void
assert_b64 (GString      *out,
            JsonParser   *parser,
            const guint8 *octets,
            gsize         len)
{
  g_autoptr(PlEvent) event = make_event (PL_EVENT_DATA, PL_DIR_CLIENT, "x", 1.0);
  g_autofree char *b64 = g_base64_encode (octets, len);
  JsonObject *obj;

  g_bytes_unref (event->octets);
  event->octets = g_bytes_new (octets, len);
  g_string_truncate (out, 0);
  pl_jsonl_append_event (out, event);
  obj = parse_line (out->str, parser);
  g_assert_cmpstr (json_object_get_string_member (obj, "b64"), ==, b64);
}

/* Long strings and big octets take the word-at-a-time roads of the writer: the same result. */
static void
test_jsonl_long_fields (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 3000; i++)
    g_string_append_c (text, i % 7 == 0 ? "\"\\\n\t\x01\x7f"[i % 6] : (char) (0x20 + (i * 31) % 95));
  g_string_append (text, "caf\xc3\xa9 and the end");
  pl_json_append_string (out, text->str, -1);
  json_parser_load_from_data (parser, out->str, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_node_get_string (json_parser_get_root (parser)), ==, text->str);

  for (guint len = 0; len < 40; len++)
    assert_b64 (out, parser, (const guint8 *) text->str, len * 97);
  /* Every length up to a few turns of the widest loop (48 octets with AVX-512 VBMI) and its tails, any octets. */
  for (guint len = 0; len < 520; len++)
    {
      g_autofree guint8 *octets = g_malloc (len + 1);

      for (guint k = 0; k < len; k++)
        octets[k] = (guint8) g_test_rand_int_range (0, 256);
      assert_b64 (out, parser, octets, len);
    }
  /* Every length up to a few turns of the AVX2 loop (24 octets) and its tails. */
  for (guint len = 0; len < 200; len++)
    assert_b64 (out, parser, (const guint8 *) text->str + len % 7, len);
}

static void
test_text_multiline (void)
{
  g_autoptr(PlSession) session = pl_session_new (PL_PROTOCOL_POP3, "c", "s", 10.0);
  g_autoptr(PlEvent) event = make_event (PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n1 498\r\n2 912\r\n.\r\n", 10.25);
  g_autoptr(PlEvent) cmd = make_event (PL_EVENT_COMMAND, PL_DIR_CLIENT, "list\r\n", 10.125);
  g_autoptr(GString) out = g_string_new (NULL);

  pl_event_set_verb (cmd, "list", "");
  pl_text_append_event (out, session, cmd, 10.0, PL_WRITER_FLAGS_NONE);
  pl_text_append_event (out, session, event, 10.0, PL_WRITER_FLAGS_NONE);
  g_assert_cmpstr (out->str, ==,
                   "    0.125 C: list\n"
                   "    0.250 S: +OK\n"
                   "             1 498\n"
                   "             2 912\n"
                   "             .\n");

  g_string_truncate (out, 0);
  pl_text_append_event (out, session, cmd, 10.0, PL_WRITER_FLAGS_EXPLAIN | PL_WRITER_FLAGS_SESSION_IDS);
  g_assert_true (g_str_has_prefix (out->str, "    0.125 #1   C: list\n"));
  g_assert_nonnull (strstr (out->str, "RFC 1939"));
}

static void
test_writer_streams (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (FALSE);
  char *buf = NULL;
  size_t size = 0;
  FILE *stream = open_memstream (&buf, &size);
  PlWriter *writer = pl_writer_new (stream, PL_WRITER_JSONL, PL_WRITER_FLAGS_NONE);
  g_autoptr(PlEvent) event = make_event (PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n", 1.0);
  g_auto(GStrv) lines = NULL;
  PlSession *s;

  pl_writer_attach (writer, trace);
  s = pl_trace_open_session (trace, PL_PROTOCOL_POP3, "a:1", "b:2", 1.0);
  pl_trace_add_event (trace, s, event);
  pl_trace_close_session (trace, s, 2.0);
  pl_writer_free (writer);
  fclose (stream);

  lines = g_strsplit (buf, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  g_assert_true (g_str_has_prefix (lines[0], "{\"type\":\"session\""));
  g_assert_true (g_str_has_prefix (lines[1], "{\"type\":\"event\""));
  g_assert_cmpstr (lines[2], ==, "{\"type\":\"end\",\"session\":1,\"t\":2.0}");
  g_assert_cmpstr (lines[3], ==, "");
  free (buf);
}

/* What pl_json_append_display_text() must equal: the display text made, then escaped. */
static char *
reference_display_json (const guint8 *data,
                        gsize         len,
                        gboolean      unstuff_dots)
{
  g_autofree char *text = pl_display_text_from_octets (data, len, unstuff_dots);
  GString *out = g_string_new (NULL);

  pl_json_append_string (out, text, -1);
  return g_string_free (out, FALSE);
}

static void
assert_display_json (const guint8 *data,
                     gsize         len,
                     gboolean      unstuff_dots)
{
  g_autofree char *want = reference_display_json (data, len, unstuff_dots);
  g_autoptr(GString) out = g_string_new ("x");

  /* Appended after what is there, as in a line of JSON. */
  pl_json_append_display_text (out, data, len, unstuff_dots);
  g_assert_cmpuint (out->len, ==, 1 + strlen (want));
  g_assert_cmpstr (out->str + 1, ==, want);
  g_assert_cmpint (out->str[0], ==, 'x');
}

typedef struct {
  const char *name;
  const char *octets;
  gsize       len;       /* 0: strlen */
  gboolean    unstuff;
  const char *json;
} DisplayJsonCase;

static const DisplayJsonCase display_json_cases[] = {
  { "empty", "", 0, FALSE, "\"\"" },
  { "crlf-ends", "EHLO a\r\n", 0, FALSE, "\"EHLO a\"" },
  { "crlf-joins", "250-a\r\n250 b\r\n", 0, FALSE, "\"250-a\\n250 b\"" },
  { "bare-lf", "a\nb\n", 0, FALSE, "\"a\\nb\"" },
  { "lone-cr", "a\rb\r", 0, FALSE, "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"" },
  { "cr-cr-lf", "a\r\r\nb", 0, FALSE, "\"a\xef\xbf\xbd\\nb\"" },
  { "lf-lf", "\n\n\n", 0, FALSE, "\"\\n\\n\"" },
  { "dot-stuffed", "..a\r\n..\r\n.b\r\n.\r\n", 0, TRUE, "\".a\\n.\\n.b\\n.\"" },
  { "dot-stuffed-kept", "..a\r\n..\r\n", 0, FALSE, "\"..a\\n..\"" },
  { "dot-after-bare-lf", "x\n..y", 0, TRUE, "\"x\\n.y\"" },
  { "dot-pair-alone", "..", 0, TRUE, "\".\"" },
  { "dots-mid-line", "a..b\r\n", 0, TRUE, "\"a..b\"" },
  { "quote-backslash-tab", "say \"hi\"\t\\o/\r\n", 0, FALSE, "\"say \\\"hi\\\"\\t\\\\o/\"" },
  { "nul", "a\0b", 3, FALSE, "\"a\xe2\x90\x80" "b\"" },
  { "controls-and-del", "\x01\x1b\x7f", 0, FALSE, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
  { "utf8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, FALSE, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"" },
  { "invalid-utf8", "\xff\xc3\xa9\xc3", 0, FALSE, "\"\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd\"" },
  { "surrogate", "\xed\xa0\x80", 0, FALSE, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
  { "long-plain-run", "0123456789abcdef0123456789abcdef\"0123456789abcdef\r\n0123456789abcdef\r\n", 0, TRUE,
    "\"0123456789abcdef0123456789abcdef\\\"0123456789abcdef\\n0123456789abcdef\"" },
};

static void
test_display_json_cases (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (display_json_cases); i++)
    {
      const DisplayJsonCase *dc = &display_json_cases[i];
      gsize len = dc->len > 0 ? dc->len : strlen (dc->octets);
      g_autoptr(GString) out = g_string_new (NULL);

      g_test_message ("case %s", dc->name);
      pl_json_append_display_text (out, (const guint8 *) dc->octets, len, dc->unstuff);
      g_assert_cmpstr (out->str, ==, dc->json);
      assert_display_json ((const guint8 *) dc->octets, len, dc->unstuff);
    }
}

/* Pieces random inputs are made of: what mail has, and what the rules treat apart. */
static const char *const display_pieces[] = {
  "\r\n", "\r\n", "\n", "\r", ".", "..", "\r\n..", "\r\n.\r\n", "\n..", "\0", "\t", "\"", "\\", "\x7f",
  "\x01", "\x1f", " ", "a", "Subject: hello", "0123456789abcdefghij", "\xc3\xa9", "\xe2\x82\xac",
  "\xf0\x9f\x98\x80", "\xc3", "\xe2\x82", "\x80", "\xbf", "\xff", "\xfe", "\xc0\x80", "\xed\xa0\x80",
  "\xf4\x90\x80\x80", "=?UTF-8?B?w6k=?=",
};

static void
test_display_json_random (void)
{
  g_autoptr(GByteArray) data = g_byte_array_new ();

  for (guint round = 0; round < 20000; round++)
    {
      guint pieces = (guint) g_test_rand_int_range (0, 40);

      g_byte_array_set_size (data, 0);
      for (guint k = 0; k < pieces; k++)
        {
          guint which = (guint) g_test_rand_int_range (0, G_N_ELEMENTS (display_pieces) + 1);

          if (which == G_N_ELEMENTS (display_pieces))
            {
              /* Any octet at all. */
              guint8 octet = (guint8) g_test_rand_int_range (0, 256);

              g_byte_array_append (data, &octet, 1);
            }
          else
            {
              const char *piece = display_pieces[which];
              /* "\0" is one octet, not none. */
              gsize len = piece[0] == '\0' ? 1 : strlen (piece);

              g_byte_array_append (data, (const guint8 *) piece, (guint) len);
            }
        }
      assert_display_json (data->data, data->len, round % 2 == 0);
      assert_display_json (data->data, data->len, round % 2 != 0);
    }
}

/*
 * Mail as it mostly is, lines of words and CRLF, now and then a line that
 * begins with a dot (stuffed or not), a quote, a tab, a bare LF or a lone
 * CR: the JSON writer writes a turn whose only escapes are whole CRLFs at
 * once, and must stop where one is cut by the turn's end, is the text's
 * last, or comes before a dot it takes away. Lines of every length put the
 * CRLFs at every place of a turn.
 */
static void
test_display_json_mail_lines (void)
{
  static const char *const odd[] = { ".", "..", "...", "\"", "\t", "\n", "\r", "\\", "\xc3\xa9" };
  g_autoptr(GString) body = g_string_new (NULL);

  for (guint round = 0; round < 3000; round++)
    {
      guint lines = (guint) g_test_rand_int_range (1, 60);

      g_string_truncate (body, 0);
      for (guint l = 0; l < lines; l++)
        {
          guint n = (guint) g_test_rand_int_range (0, 90);

          if (g_test_rand_int_range (0, 8) == 0)
            g_string_append (body, odd[g_test_rand_int_range (0, G_N_ELEMENTS (odd))]);
          for (guint c = 0; c < n; c++)
            g_string_append_c (body, (char) ('a' + (c * 7 + l) % 26));
          if (g_test_rand_int_range (0, 20) == 0)
            g_string_append (body, odd[g_test_rand_int_range (0, G_N_ELEMENTS (odd))]);
          if (l + 1 < lines || g_test_rand_bit ())
            g_string_append (body, "\r\n");
        }
      assert_display_json ((const guint8 *) body->str, body->len, TRUE);
      assert_display_json ((const guint8 *) body->str, body->len, FALSE);
      /* From every start within a turn. */
      if (body->len > 40)
        assert_display_json ((const guint8 *) body->str + round % 32, body->len - round % 32, round % 2 == 0);
    }
}

/* Every start and end of a mixed text, so each piece meets each edge of a sixteen-octet turn. */
static void
test_display_json_every_slice (void)
{
  static const char text[] =
    "..Dear Bob,\r\n..\r\nsay \"hi\" to\tC:\\mail\x01\r\n\xc3\xa9t\xc3\xa9 \xff\xe2\x82\r\n.\r\n"
    "a bare\nline\rand the end\r\n..\r\n.\r\n";
  gsize n = sizeof text - 1;

  for (gsize from = 0; from <= n; from++)
    for (gsize to = from; to <= n; to++)
      {
        assert_display_json ((const guint8 *) text + from, to - from, TRUE);
        assert_display_json ((const guint8 *) text + from, to - from, FALSE);
      }
}

/* An event whose text was left to make is written as if it had been made. */
static void
test_jsonl_event_text_from_octets (void)
{
  static const char body[] = "From: a\r\n\r\n..dot \"q\"\r\n\xff\r\n.\r\n";

  for (int unstuff = 0; unstuff <= 1; unstuff++)
    {
      g_autoptr(PlEvent) event = make_event (PL_EVENT_DATA, PL_DIR_CLIENT, body, 1.5);
      g_autoptr(GString) want = g_string_new (NULL);
      g_autoptr(GString) got = g_string_new (NULL);

      pl_event_take_text (event, g_strdup (""));
      pl_jsonl_append_event_text_from_octets (got, event, unstuff);
      pl_event_take_text (event, pl_display_text_from_octets ((const guint8 *) body, strlen (body), unstuff));
      pl_jsonl_append_event (want, event);
      g_assert_cmpstr (got->str, ==, want->str);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/core/writer/jsonl/session", test_jsonl_session);
  g_test_add_func ("/core/writer/jsonl/event", test_jsonl_event);
  g_test_add_func ("/core/writer/jsonl/command-and-note", test_jsonl_command_and_note);
  g_test_add_func ("/core/writer/json/escapes", test_json_escapes);
  g_test_add_func ("/core/writer/jsonl/times", test_jsonl_times);
  g_test_add_func ("/core/writer/jsonl/long-fields", test_jsonl_long_fields);
  g_test_add_func ("/core/writer/text/multi-line", test_text_multiline);
  g_test_add_func ("/core/writer/text/times", test_text_times);
  g_test_add_func ("/core/writer/streams", test_writer_streams);
  g_test_add_func ("/core/writer/json/display-text/cases", test_display_json_cases);
  g_test_add_func ("/core/writer/json/display-text/random", test_display_json_random);
  g_test_add_func ("/core/writer/json/display-text/mail-lines", test_display_json_mail_lines);
  g_test_add_func ("/core/writer/json/display-text/every-slice", test_display_json_every_slice);
  g_test_add_func ("/core/writer/jsonl/event-text-from-octets", test_jsonl_event_text_from_octets);
  return g_test_run ();
}
