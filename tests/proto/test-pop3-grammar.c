/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of POP3's grammar: command and status parsing, reply shapes, dot-stuffing. */

#include <string.h>

#include <glib.h>

#include "pl-pop3-grammar.h"

#define S(str) str, sizeof (str) - 1

typedef struct {
  const char *line;
  gsize       len;
  gboolean    ok;
  const char *verb;
  const char *args;
} CommandCase;

static const CommandCase command_cases[] = {
  { S ("USER bob"), TRUE, "USER", "bob" },
  { S ("user bob"), TRUE, "USER", "bob" },          /* the textbook types lower case */
  { S ("rEtR 1"), TRUE, "RETR", "1" },
  { S ("list"), TRUE, "LIST", "" },
  { S ("list "), TRUE, "LIST", "" },
  { S ("TOP 1 10"), TRUE, "TOP", "1 10" },
  { S ("PASS my secret"), TRUE, "PASS", "my secret" }, /* RFC 1939: spaces in a password */
  { S ("PASS  lead"), TRUE, "PASS", " lead" },       /* arguments kept as sent */
  { S ("X-EXTENSION-VERB-OF-FORTY-CHARACTERS-XXX"), TRUE, "X-EXTENSION-VERB-OF-FORTY-CHARACTERS-XXX", "" },
  { S ("X-EXTENSION-VERB-OF-FORTY-ONE-CHARACTERSX"), FALSE, NULL, NULL },  /* 41 */
  { S (""), FALSE, NULL, NULL },
  { S (" user bob"), FALSE, NULL, NULL },
  { S ("us\ter bob"), FALSE, NULL, NULL },
  { S ("us\0er"), FALSE, NULL, NULL },
  { S ("user b\0b"), FALSE, NULL, NULL },
  { S ("\xc3\xa9t\xc3\xa9"), FALSE, NULL, NULL },
  { S ("user \xc3\xa9"), TRUE, "USER", "\xc3\xa9" },
};

static void
test_parse_command (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (command_cases); i++)
    {
      const CommandCase *c = &command_cases[i];
      g_autofree char *verb = NULL;
      g_autofree char *args = NULL;
      gboolean ok;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, c->line);
      ok = pl_pop3_parse_command ((const guint8 *) c->line, c->len, &verb, &args);
      g_assert_cmpint (ok, ==, c->ok);
      g_assert_cmpstr (verb, ==, c->verb);
      g_assert_cmpstr (args, ==, c->args);
    }
}

typedef struct {
  const char   *line;
  gsize         len;
  PlPop3Status  status;
} StatusCase;

static const StatusCase status_cases[] = {
  { S ("+OK POP3 server ready"), PL_POP3_STATUS_OK },
  { S ("+OK"), PL_POP3_STATUS_OK },
  { S ("+OK\r\n"), PL_POP3_STATUS_OK },
  { S ("+OK\n"), PL_POP3_STATUS_OK },
  { S ("+Ok fine"), PL_POP3_STATUS_OK },
  { S ("-ERR"), PL_POP3_STATUS_ERR },
  { S ("-ERR [IN-USE] maildrop locked"), PL_POP3_STATUS_ERR },
  { S ("-err no"), PL_POP3_STATUS_ERR },
  { S ("+ "), PL_POP3_STATUS_CONTINUE },
  { S ("+ dGVzdA=="), PL_POP3_STATUS_CONTINUE },
  { S ("+\r\n"), PL_POP3_STATUS_CONTINUE },
  { S ("+"), PL_POP3_STATUS_CONTINUE },
  { S ("+OKAY"), PL_POP3_STATUS_INVALID },
  { S ("-ERROR"), PL_POP3_STATUS_INVALID },
  { S ("+O"), PL_POP3_STATUS_INVALID },
  { S ("-ER"), PL_POP3_STATUS_INVALID },
  { S ("OK"), PL_POP3_STATUS_INVALID },
  { S (""), PL_POP3_STATUS_INVALID },
  { S ("220 smtp.example ESMTP"), PL_POP3_STATUS_INVALID },
  { S ("* OK IMAP4rev1"), PL_POP3_STATUS_INVALID },
};

static void
test_parse_status (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (status_cases); i++)
    {
      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, status_cases[i].line);
      g_assert_cmpint (pl_pop3_parse_status ((const guint8 *) status_cases[i].line,
                                             status_cases[i].len),
                       ==, status_cases[i].status);
    }
  g_assert_cmpint (pl_pop3_parse_status (NULL, 0), ==, PL_POP3_STATUS_INVALID);
}

static void
test_status_to_string (void)
{
  g_assert_cmpstr (pl_pop3_status_to_string (PL_POP3_STATUS_OK), ==, "+OK");
  g_assert_cmpstr (pl_pop3_status_to_string (PL_POP3_STATUS_ERR), ==, "-ERR");
  g_assert_cmpstr (pl_pop3_status_to_string (PL_POP3_STATUS_CONTINUE), ==, "+");
  g_assert_null (pl_pop3_status_to_string (PL_POP3_STATUS_INVALID));
}

typedef struct {
  const char *verb;
  const char *args;
  gboolean    multiline;
} ShapeCase;

static const ShapeCase shape_cases[] = {
  { "LIST", "", TRUE },
  { "list", NULL, TRUE },
  { "LIST", "  ", TRUE },
  { "LIST", "1", FALSE },
  { "UIDL", "", TRUE },
  { "uidl", "2", FALSE },
  { "RETR", "1", TRUE },
  { "retr", "1", TRUE },
  { "TOP", "1 0", TRUE },
  { "CAPA", "", TRUE },
  { "AUTH", "", TRUE },
  { "AUTH", "PLAIN", FALSE },
  { "USER", "bob", FALSE },
  { "PASS", "hungry", FALSE },
  { "STAT", "", FALSE },
  { "DELE", "1", FALSE },
  { "NOOP", "", FALSE },
  { "RSET", "", FALSE },
  { "QUIT", "", FALSE },
  { "XYZZY", "", FALSE },
};

static void
test_reply_is_multiline (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (shape_cases); i++)
    {
      g_test_message ("case %s %s", shape_cases[i].verb, shape_cases[i].args);
      g_assert_cmpint (pl_pop3_reply_is_multiline (shape_cases[i].verb, shape_cases[i].args),
                       ==, shape_cases[i].multiline);
    }
}

typedef struct {
  const char *plain;
  gsize       plain_len;
  const char *stuffed;
  gsize       stuffed_len;
} StuffCase;

static const StuffCase stuff_cases[] = {
  { S (""), S ("") },
  { S ("hello\r\n"), S ("hello\r\n") },
  { S (".\r\n"), S ("..\r\n") },
  { S ("a\r\n.\r\nb\r\n"), S ("a\r\n..\r\nb\r\n") },
  { S (".hidden\r\n..two\r\n"), S ("..hidden\r\n...two\r\n") },
  { S ("a.b\r\n x.\r\n"), S ("a.b\r\n x.\r\n") },
  { S ("end\r\n."), S ("end\r\n..") },            /* last line without its line end */
  { S (".\n.\n"), S ("..\n..\n") },               /* bare LF lines too */
  { S ("\r\n.\r\n\r\n"), S ("\r\n..\r\n\r\n") },
};

static void
test_dot_stuff (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (stuff_cases); i++)
    {
      const StuffCase *c = &stuff_cases[i];
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autoptr(GBytes) back = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_byte_array_append (out, (const guint8 *) "X", 1);   /* appends, keeps what was there */
      pl_pop3_dot_stuff (out, (const guint8 *) c->plain, c->plain_len);
      g_assert_cmpmem (out->data + 1, out->len - 1, c->stuffed, c->stuffed_len);

      back = pl_pop3_dot_unstuff ((const guint8 *) c->stuffed, c->stuffed_len);
      g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back),
                       c->plain, c->plain_len);
    }
}

/* Every byte string survives stuffing and unstuffing, and a stuffed body never holds a lone "." line. */
static void
test_dot_stuff_roundtrip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1939);
  static const guint8 alphabet[] = { '.', '.', '\r', '\n', 'a', ' ' };

  for (guint round = 0; round < 2000; round++)
    {
      guint8 plain[24];
      gsize len = (gsize) g_rand_int_range (rand, 0, sizeof plain + 1);
      g_autoptr(GByteArray) stuffed = g_byte_array_new ();
      g_autoptr(GBytes) back = NULL;

      for (gsize i = 0; i < len; i++)
        plain[i] = alphabet[g_rand_int_range (rand, 0, G_N_ELEMENTS (alphabet))];
      pl_pop3_dot_stuff (stuffed, plain, len);
      for (gsize i = 0; i < stuffed->len; i++)
        if ((i == 0 || stuffed->data[i - 1] == '\n') && stuffed->data[i] == '.')
          g_assert_true (i + 1 < stuffed->len && stuffed->data[i + 1] == '.');
      back = pl_pop3_dot_unstuff (stuffed->data, stuffed->len);
      g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), plain, len);
    }
}

/* Any octets at all: the parsers answer, and what they return keeps its promises. */
static void
test_random_lines (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5034);

  for (guint round = 0; round < 5000; round++)
    {
      guint8 line[64];
      gsize len = (gsize) g_rand_int_range (rand, 0, sizeof line + 1);
      g_autofree char *verb = NULL;
      g_autofree char *args = NULL;
      PlPop3Status status;

      for (gsize i = 0; i < len; i++)
        line[i] = (guint8) (g_rand_boolean (rand) ? "+-OKERRretr 1\r\n\0"[g_rand_int_range (rand, 0, 16)]
                                                  : g_rand_int_range (rand, 0, 256));
      if (pl_pop3_parse_command (line, len, &verb, &args))
        {
          gsize verb_len = strlen (verb);

          g_assert_cmpuint (verb_len, >=, 1);
          g_assert_cmpuint (verb_len, <=, 40);
          for (const char *p = verb; *p != '\0'; p++)
            {
              g_assert_cmpint (*p, >, 0x20);
              g_assert_cmpint (*p, <, 0x7f);
              g_assert_false (g_ascii_islower (*p));
            }
          g_assert_cmpuint (verb_len + (len > verb_len ? 1 : 0) + strlen (args), ==, len);
        }
      else
        {
          g_assert_null (verb);
          g_assert_null (args);
        }
      status = pl_pop3_parse_status (line, len);
      if (status == PL_POP3_STATUS_OK || status == PL_POP3_STATUS_ERR)
        g_assert_true (pl_pop3_status_to_string (status)[0] == (char) line[0]);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pop3/grammar/parse-command", test_parse_command);
  g_test_add_func ("/pop3/grammar/parse-status", test_parse_status);
  g_test_add_func ("/pop3/grammar/status-to-string", test_status_to_string);
  g_test_add_func ("/pop3/grammar/reply-is-multiline", test_reply_is_multiline);
  g_test_add_func ("/pop3/grammar/dot-stuff", test_dot_stuff);
  g_test_add_func ("/pop3/grammar/dot-stuff-roundtrip", test_dot_stuff_roundtrip);
  g_test_add_func ("/pop3/grammar/random-lines", test_random_lines);

  return g_test_run ();
}
