/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of SMTP's grammar: commands, paths, reply lines and their grouping, dot-stuffing, SASL's base64. */

#include <string.h>

#include <glib.h>

#include "pl-explain.h"
#include "pl-smtp-grammar.h"

#define S(str) str, sizeof (str) - 1

typedef struct {
  const char *line;
  gsize       len;
  gboolean    ok;
  const char *verb;
  const char *args;
} CommandCase;

static const CommandCase command_cases[] = {
  { S ("HELO crepes.fr"), TRUE, "HELO", "crepes.fr" },
  { S ("mail FROM:<alice@crepes.fr>"), TRUE, "MAIL", "FROM:<alice@crepes.fr>" },
  { S ("MAIL FROM: <alice@crepes.fr>"), TRUE, "MAIL", "FROM: <alice@crepes.fr>" },
  { S ("data"), TRUE, "DATA", "" },
  { S ("DATA "), TRUE, "DATA", "" },
  { S ("NOOP  x"), TRUE, "NOOP", " x" },
  { S ("STARTTLS"), TRUE, "STARTTLS", "" },
  { S (""), FALSE, NULL, NULL },
  { S (" QUIT"), FALSE, NULL, NULL },
  { S ("QU\tIT"), FALSE, NULL, NULL },
  { S ("QU\0IT"), FALSE, NULL, NULL },
  { S ("RCPT TO:<b\0b@b.example>"), FALSE, NULL, NULL },
  { S ("\xc3\xa9"), FALSE, NULL, NULL },
  { S ("X-AN-EXTENSION-VERB-OF-FORTY-CHARACTERS1 x"), TRUE, "X-AN-EXTENSION-VERB-OF-FORTY-CHARACTERS1", "x" },
  { S ("X-AN-EXTENSION-VERB-OF-FORTY-ONE-CHARACTE"), FALSE, NULL, NULL },   /* 41 */
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
      ok = pl_smtp_parse_command ((const guint8 *) c->line, c->len, &verb, &args);
      g_assert_cmpint (ok, ==, c->ok);
      g_assert_cmpstr (verb, ==, c->verb);
      g_assert_cmpstr (args, ==, c->args);
    }
}

typedef struct {
  const char *args;
  const char *keyword;
  int         error;      /* -1: parses */
  const char *address;
  const char *local_part;
  const char *domain;
  const char *params;     /* "KEY=value KEY" */
} PathCase;

static const PathCase path_cases[] = {
  { "FROM:<alice@crepes.fr>", "FROM", -1, "alice@crepes.fr", "alice", "crepes.fr", "" },
  { "from:<alice@crepes.fr>", "FROM", -1, "alice@crepes.fr", "alice", "crepes.fr", "" },
  { "FROM: <alice@crepes.fr>", "FROM", -1, "alice@crepes.fr", "alice", "crepes.fr", "" },
  { "FROM:<>", "FROM", -1, "", "", NULL, "" },
  { "FROM:<> SIZE=0", "FROM", -1, "", "", NULL, "SIZE=0" },
  { "FROM:<a@b.example> SIZE=1000 BODY=8BITMIME", "FROM", -1, "a@b.example", "a", "b.example",
    "SIZE=1000 BODY=8BITMIME" },
  { "FROM:<a@b.example>  size=10  ", "FROM", -1, "a@b.example", "a", "b.example", "SIZE=10" },
  { "FROM:<a@b.example> X-FLAG", "FROM", -1, "a@b.example", "a", "b.example", "X-FLAG" },
  { "TO:<bob@b.example>", "TO", -1, "bob@b.example", "bob", "b.example", "" },
  { "TO:<Postmaster>", "TO", -1, "Postmaster", "Postmaster", NULL, "" },
  { "TO:<postmaster@b.example>", "TO", -1, "postmaster@b.example", "postmaster", "b.example", "" },
  { "TO:<\"john doe\"@b.example>", "TO", -1, "\"john doe\"@b.example", "\"john doe\"", "b.example", "" },
  { "TO:<\"a>b\"@b.example>", "TO", -1, "\"a>b\"@b.example", "\"a>b\"", "b.example", "" },
  { "TO:<\"a\\\"b\"@b.example>", "TO", -1, "\"a\\\"b\"@b.example", "\"a\\\"b\"", "b.example", "" },
  { "TO:<bob@[192.0.2.1]>", "TO", -1, "bob@[192.0.2.1]", "bob", "[192.0.2.1]", "" },
  { "TO:<bob@[IPv6:::1]>", "TO", -1, "bob@[IPv6:::1]", "bob", "[IPv6:::1]", "" },
  { "TO:<@a.example,@c.example:bob@b.example>", "TO", -1, "bob@b.example", "bob", "b.example", "" },
  { "TO:<first.last+tag@sub-1.b.example>", "TO", -1, "first.last+tag@sub-1.b.example", "first.last+tag",
    "sub-1.b.example", "" },

  { "TO:<bob@b.example>", "FROM", PL_SMTP_SYNTAX_ERROR_KEYWORD, NULL, NULL, NULL, NULL },
  { "FROM<a@b.example>", "FROM", PL_SMTP_SYNTAX_ERROR_KEYWORD, NULL, NULL, NULL, NULL },
  { "", "FROM", PL_SMTP_SYNTAX_ERROR_KEYWORD, NULL, NULL, NULL, NULL },
  { "FROM:alice@crepes.fr", "FROM", PL_SMTP_SYNTAX_ERROR_BRACKETS, NULL, NULL, NULL, NULL },
  { "FROM:", "FROM", PL_SMTP_SYNTAX_ERROR_BRACKETS, NULL, NULL, NULL, NULL },
  { "FROM:<alice@crepes.fr", "FROM", PL_SMTP_SYNTAX_ERROR_BRACKETS, NULL, NULL, NULL, NULL },
  { "TO:<\"bob@b.example>", "TO", PL_SMTP_SYNTAX_ERROR_BRACKETS, NULL, NULL, NULL, NULL },
  { "TO:<bob>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<@b.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@b..example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@-b.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@b-.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@b_example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@b.example@c.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<.bob@b.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bo..b@b.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bo b@b.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<b\xc3\xb6@b.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<bob@[1.2.3.4>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<@a.example:>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "TO:<@a.example>", "TO", PL_SMTP_SYNTAX_ERROR_ADDRESS, NULL, NULL, NULL, NULL },
  { "FROM:<a@b.example>SIZE=1", "FROM", PL_SMTP_SYNTAX_ERROR_PARAMETER, NULL, NULL, NULL, NULL },
  { "FROM:<a@b.example> SIZE=", "FROM", PL_SMTP_SYNTAX_ERROR_PARAMETER, NULL, NULL, NULL, NULL },
  { "FROM:<a@b.example> =1", "FROM", PL_SMTP_SYNTAX_ERROR_PARAMETER, NULL, NULL, NULL, NULL },
  { "FROM:<a@b.example> -X=1", "FROM", PL_SMTP_SYNTAX_ERROR_PARAMETER, NULL, NULL, NULL, NULL },
  { "FROM:<a@b.example> A=b=c", "FROM", PL_SMTP_SYNTAX_ERROR_PARAMETER, NULL, NULL, NULL, NULL },
  { "FROM:<a@b.example> A=\x01", "FROM", PL_SMTP_SYNTAX_ERROR_PARAMETER, NULL, NULL, NULL, NULL },
};

static void
test_parse_path (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (path_cases); i++)
    {
      const PathCase *c = &path_cases[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(PlSmtpPath) path = NULL;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, c->args);
      path = pl_smtp_parse_path (c->args, c->keyword, &error);
      if (c->error >= 0)
        {
          g_assert_error (error, PL_SMTP_SYNTAX_ERROR, c->error);
          g_assert_null (path);
          continue;
        }
      g_assert_no_error (error);
      g_assert_nonnull (path);
      g_assert_cmpstr (path->address, ==, c->address);
      g_assert_cmpstr (path->local_part, ==, c->local_part);
      g_assert_cmpstr (path->domain, ==, c->domain);
      {
        g_autoptr(GString) params = g_string_new (NULL);

        for (guint p = 0; p < path->params->len; p++)
          {
            PlSmtpParam *param = g_ptr_array_index (path->params, p);
            g_string_append_printf (params, "%s%s%s%s", p > 0 ? " " : "", param->keyword,
                                    param->value != NULL ? "=" : "", param->value != NULL ? param->value : "");
          }
        g_assert_cmpstr (params->str, ==, c->params);
      }
    }
}

/* RFC 5321 4.5.3.1: 64 octets of local part, 255 of domain, 256 of path. */
static void
test_path_limits (void)
{
  g_autofree char *local64 = g_strnfill (64, 'l');
  g_autofree char *local65 = g_strnfill (65, 'l');
  g_autofree char *label = g_strnfill (60, 'd');
  g_autofree char *ok = g_strdup_printf ("TO:<%s@b.example>", local64);
  g_autofree char *long_local = g_strdup_printf ("TO:<%s@b.example>", local65);
  g_autofree char *long_domain = g_strdup_printf ("TO:<a@%s.%s.%s.%s.%s>", label, label, label, label, label);
  g_autofree char *long_label = g_strdup_printf ("TO:<a@%s%s.example>", label, label);
  g_autofree char *long_path = g_strdup_printf ("TO:<%s@%s.%s.%s.%s>", local64, label, label, label, label);
  g_autoptr(GError) error = NULL;
  g_autoptr(PlSmtpPath) path = pl_smtp_parse_path (ok, "TO", &error);
  const PlSmtpParam *param;

  g_assert_no_error (error);
  g_assert_nonnull (path);
  g_assert_null (pl_smtp_parse_path (long_local, "TO", &error));
  g_assert_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_TOO_LONG);
  g_clear_error (&error);
  g_assert_null (pl_smtp_parse_path (long_domain, "TO", &error));
  g_assert_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_TOO_LONG);
  g_clear_error (&error);
  g_assert_null (pl_smtp_parse_path (long_label, "TO", &error));
  g_assert_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_ADDRESS);
  g_clear_error (&error);
  g_assert_null (pl_smtp_parse_path (long_path, "TO", &error));
  g_assert_error (error, PL_SMTP_SYNTAX_ERROR, PL_SMTP_SYNTAX_ERROR_TOO_LONG);
  g_clear_error (&error);

  g_clear_pointer (&path, pl_smtp_path_free);
  path = pl_smtp_parse_path ("FROM:<a@b.example> size=12 BODY=8BITMIME X", "FROM", &error);
  g_assert_no_error (error);
  param = pl_smtp_path_get_param (path, "Size");
  g_assert_nonnull (param);
  g_assert_cmpstr (param->value, ==, "12");
  param = pl_smtp_path_get_param (path, "x");
  g_assert_nonnull (param);
  g_assert_null (param->value);
  g_assert_null (pl_smtp_path_get_param (path, "AUTH"));
}

typedef struct {
  const char *line;
  gsize       len;
  gboolean    ok;
  guint       code;
  gboolean    continues;
  const char *text;
} ReplyLineCase;

static const ReplyLineCase reply_line_cases[] = {
  { S ("220 hamburger.edu"), TRUE, 220, FALSE, "hamburger.edu" },
  { S ("250-SIZE 10485760"), TRUE, 250, TRUE, "SIZE 10485760" },
  { S ("250 HELP"), TRUE, 250, FALSE, "HELP" },
  { S ("354"), TRUE, 354, FALSE, "" },
  { S ("334 "), TRUE, 334, FALSE, "" },
  { S ("250-"), TRUE, 250, TRUE, "" },
  { S ("199 old"), TRUE, 199, FALSE, "old" },
  { S ("600 no"), FALSE, 0, FALSE, NULL },
  { S ("099 no"), FALSE, 0, FALSE, NULL },
  { S ("25 short"), FALSE, 0, FALSE, NULL },
  { S ("2500 long"), FALSE, 0, FALSE, NULL },
  { S ("250_x"), FALSE, 0, FALSE, NULL },
  { S ("+OK POP3 server ready"), FALSE, 0, FALSE, NULL },
  { S (""), FALSE, 0, FALSE, NULL },
};

static void
test_parse_reply_line (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (reply_line_cases); i++)
    {
      const ReplyLineCase *c = &reply_line_cases[i];
      guint code = 0;
      gboolean continues = FALSE;
      gsize text_start = 0;
      gboolean ok;

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, c->line);
      ok = pl_smtp_parse_reply_line ((const guint8 *) c->line, c->len, &code, &continues, &text_start);
      g_assert_cmpint (ok, ==, c->ok);
      if (!ok)
        continue;
      g_assert_cmpuint (code, ==, c->code);
      g_assert_cmpint (continues, ==, c->continues);
      g_assert_cmpmem (c->line + text_start, c->len - text_start, c->text, strlen (c->text));
    }
}

/* Feeds @stream line by line; returns "code:n_lines:malformed|..." for each complete reply. */
static char *
accumulate (const char *stream)
{
  g_autoptr(PlSmtpReplyAccumulator) acc = pl_smtp_reply_accumulator_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  const char *p = stream;

  while (*p != '\0')
    {
      const char *lf = strchr (p, '\n');
      gsize raw_len = lf != NULL ? (gsize) (lf - p) + 1 : strlen (p);
      gsize len = raw_len;

      if (len > 0 && p[len - 1] == '\n')
        len--;
      if (len > 0 && p[len - 1] == '\r')
        len--;
      if (pl_smtp_reply_accumulator_add_line (acc, (const guint8 *) p, raw_len, len))
        {
          gsize octets_len;
          const guint8 *octets = pl_smtp_reply_accumulator_get_octets (acc, &octets_len);

          g_string_append_printf (out, "%u:%u:%d|", pl_smtp_reply_accumulator_get_code (acc),
                                  pl_smtp_reply_accumulator_get_n_lines (acc),
                                  pl_smtp_reply_accumulator_is_malformed (acc));
          /* The octets of a reply are exactly its lines, the one just added last. */
          g_assert_cmpint (memcmp (octets, p - (octets_len - raw_len), octets_len), ==, 0);
        }
      p += raw_len;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_reply_accumulator (void)
{
  static const struct {
    const char *stream;
    const char *replies;
  } cases[] = {
    { "220 hi\r\n", "220:1:0|" },
    { "250-a\r\n250-b\r\n250 c\r\n", "250:3:0|" },
    { "250-a\r\n250-b\r\n250 c\r\n221 bye\r\n", "250:3:0|221:1:0|" },
    { "220-first\r\n220 second\r\n250 x\n", "220:2:0|250:1:0|" },
    { "250-a\r\ngarbage\r\n250 ok\r\n", "0:2:1|250:1:0|" },
    { "HTTP/1.1 200 OK\r\n", "0:1:1|" },
    { "250-a\r\n550 differ\r\n", "550:2:0|" },
    { "250-incomplete\r\n", "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = accumulate (cases[i].stream);

      g_test_message ("case %" G_GSIZE_FORMAT, i);
      g_assert_cmpstr (got, ==, cases[i].replies);
    }

  /* Lines' text comes back printable, each without its code. */
  {
    g_autoptr(PlSmtpReplyAccumulator) acc = pl_smtp_reply_accumulator_new ();

    g_assert_false (pl_smtp_reply_accumulator_add_line (acc, (const guint8 *) "250-mail.b.example\r\n", 20, 18));
    g_assert_false (pl_smtp_reply_accumulator_add_line (acc, (const guint8 *) "250-SIZE 10\x01\r\n", 14, 12));
    g_assert_true (pl_smtp_reply_accumulator_add_line (acc, (const guint8 *) "250 \xff\r\n", 7, 5));
    g_assert_cmpuint (pl_smtp_reply_accumulator_get_n_lines (acc), ==, 3);
    g_assert_cmpstr (pl_smtp_reply_accumulator_get_line (acc, 0), ==, "mail.b.example");
    g_assert_cmpstr (pl_smtp_reply_accumulator_get_line (acc, 1), ==, "SIZE 10?");
    g_assert_cmpstr (pl_smtp_reply_accumulator_get_line (acc, 2), ==, "\xef\xbf\xbd");
    g_assert_null (pl_smtp_reply_accumulator_get_line (acc, 3));
    pl_smtp_reply_accumulator_reset (acc);
    g_assert_cmpuint (pl_smtp_reply_accumulator_get_n_lines (acc), ==, 0);
  }
}

static void
test_reply_format (void)
{
  static const struct {
    guint       code;
    const char *text;
    const char *wire;
  } cases[] = {
    { 250, "OK", "250 OK\r\n" },
    { 354, "", "354\r\n" },
    { 250, "mail.b.example Hello a\nSIZE 10\nHELP", "250-mail.b.example Hello a\r\n250-SIZE 10\r\n250 HELP\r\n" },
    { 550, "bad\r\nthing", "550-bad?\r\n550 thing\r\n" },
    { 550, "tab\there \x01", "550 tab?here ?\r\n" },
    { 214, "a\n", "214-a\r\n214\r\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GByteArray) wire = pl_smtp_reply_format (cases[i].code, cases[i].text);

      g_assert_cmpmem (wire->data, wire->len, cases[i].wire, strlen (cases[i].wire));
    }
  {
    g_autoptr(PlSmtpReply) r = pl_smtp_reply_new (451, "local error %d", 7);
    g_autoptr(PlSmtpReply) copy = pl_smtp_reply_copy (r);

    g_assert_cmpuint (copy->code, ==, 451);
    g_assert_cmpstr (copy->text, ==, "local error 7");
  }
}

typedef struct {
  const char *message;
  const char *stuffed;
  gsize       size;
} StuffCase;

static const StuffCase stuff_cases[] = {
  { "", "", 0 },
  { "a\r\n", "a\r\n", 3 },
  { "a", "a\r\n", 3 },
  { ".\r\n", "..\r\n", 3 },
  { "..x\r\n.\r\nb\r\n", "...x\r\n..\r\nb\r\n", 11 },
  { "a\n.\nb", "a\r\n..\r\nb\r\n", 9 },           /* bare LF: no "\n.\n" may reach the wire */
  { "x\r\n\r\n.y", "x\r\n\r\n..y\r\n", 9 },
  { "a\r", "a\r\n", 3 },
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
      pl_smtp_dot_stuff (out, (const guint8 *) c->message, strlen (c->message));
      g_assert_cmpmem (out->data, out->len, c->stuffed, strlen (c->stuffed));
      g_assert_cmpuint (pl_smtp_message_size ((const guint8 *) c->message, strlen (c->message)), ==, c->size);

      /* Unstuffing what was stuffed gives the message with CRLF line ends, its size as SIZE= says. */
      back = pl_smtp_dot_unstuff (out->data, out->len);
      g_assert_cmpuint (g_bytes_get_size (back), ==, c->size);
    }
  {
    static const char stuffed[] = "..\r\n...x\r\n.y\r\nz";
    static const char plain[] = ".\r\n..x\r\ny\r\nz";
    g_autoptr(GBytes) un = pl_smtp_dot_unstuff ((const guint8 *) stuffed, sizeof stuffed - 1);

    g_assert_cmpmem (g_bytes_get_data (un, NULL), g_bytes_get_size (un), plain, sizeof plain - 1);
  }
}

typedef struct {
  const char *b64;
  gboolean    ok;
  const char *decoded;
  gsize       len;
} Base64Case;

static const Base64Case base64_cases[] = {
  { "AGFsaWNlAHNlY3JldA==", TRUE, S ("\0alice\0secret") },
  { "YWxpY2U=", TRUE, S ("alice") },
  { "VXNlcm5hbWU6", TRUE, S ("Username:") },
  { "", TRUE, S ("") },
  { "YQ==", TRUE, S ("a") },
  { "YWI=", TRUE, S ("ab") },
  { "!!!!", FALSE, NULL, 0 },
  { "YWxpY2U", FALSE, NULL, 0 },
  { "YW=I", FALSE, NULL, 0 },
  { "Y===", FALSE, NULL, 0 },
  { "====", FALSE, NULL, 0 },
  { "YWxp Y2U=", FALSE, NULL, 0 },
  { "=", FALSE, NULL, 0 },
  { "*", FALSE, NULL, 0 },
};

static void
test_base64 (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (base64_cases); i++)
    {
      const Base64Case *c = &base64_cases[i];
      gsize len = 99;
      g_autofree guint8 *decoded = pl_smtp_base64_decode (c->b64, &len);

      g_test_message ("case %" G_GSIZE_FORMAT ": %s", i, c->b64);
      if (!c->ok)
        {
          g_assert_null (decoded);
          continue;
        }
      g_assert_nonnull (decoded);
      g_assert_cmpmem (decoded, len, c->decoded, c->len);
    }
}

static void
test_annotate (void)
{
  static const struct {
    const char *shown;
    const char *b64;
    const char *want;
  } cases[] = {
    { "AUTH PLAIN AGFsaWNlAHNlY3JldA==", "AGFsaWNlAHNlY3JldA==",
      "AUTH PLAIN AGFsaWNlAHNlY3JldA==  (decodes to: \"\" / \"alice\" / \"secret\")" },
    { "334 VXNlcm5hbWU6", "VXNlcm5hbWU6", "334 VXNlcm5hbWU6  (decodes to: \"Username:\")" },
    { "YWxpY2U=", "YWxpY2U=", "YWxpY2U=  (decodes to: \"alice\")" },
    /* quotes, backslashes, controls and UTF-8 in a password */
    { "x", "ImFcYgEKw6k=", "x  (decodes to: \"\\\"a\\\\b\\x01\\x0aé\")" },
    /* a lone octet that is not UTF-8 */
    { "x", "/w==", "x  (decodes to: \"\\xff\")" },
    { "334 ", "", "334 " },
    { "*", "*", "*" },
    { "AUTH PLAIN !!!", "!!!", "AUTH PLAIN !!!" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = pl_smtp_annotate_base64 (cases[i].shown, cases[i].b64);

      g_assert_cmpstr (got, ==, cases[i].want);
      g_assert_true (g_utf8_validate (got, -1, NULL));
    }
}

/* Every verb and reply code the engines use has its explanation and RFC section. */
static void
test_explained (void)
{
  static const char *const verbs[] = {
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "VRFY", "EXPN", "HELP", "NOOP", "QUIT", "AUTH",
    "BDAT", "STARTTLS", "ehlo",
  };
  static const char *const codes[] = {
    "214", "220", "221", "235", "250", "251", "252", "334", "354", "421", "450", "451", "452", "454",
    "500", "501", "502", "503", "504", "530", "535", "550", "551", "552", "553", "554", "555",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (verbs); i++)
    {
      const PlExplanation *ex = pl_explain (PL_PROTOCOL_SMTP, PL_DIR_CLIENT, verbs[i]);

      g_assert_nonnull (ex);
      g_assert_true (g_str_has_prefix (ex->reference, "RFC "));
    }
  for (gsize i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      const PlExplanation *ex = pl_explain (PL_PROTOCOL_SMTP, PL_DIR_SERVER, codes[i]);

      g_assert_nonnull (ex);
      g_assert_cmpstr (ex->key, ==, codes[i]);
      g_assert_true (g_str_has_prefix (ex->reference, "RFC "));
    }
  /* A code without its own row falls back to its class. */
  g_assert_cmpstr (pl_explain (PL_PROTOCOL_SMTP, PL_DIR_SERVER, "458")->key, ==, "4");
  g_assert_null (pl_explain (PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "XYZZY"));
  /* POP3's rows are not SMTP's. */
  g_assert_null (pl_explain (PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "RETR"));
}

/*
 * Random octets into every parser, as an ordinary test (a fuzz target
 * without a fuzzer): nothing crashes, and what parses is self-consistent.
 */
static void
test_random_input (void)
{
  static const char *const pieces[] = {
    "FROM:", "TO:", "<", ">", "@", "\"", "\\", ".", " ", "a", "b.example", "SIZE=", "=", "1",
    "[", "]", ":", ",", "\xff", "\x01", "250", "-", "\r\n", "\n", "=", "+", "/", "YWxp",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5321);

  for (guint round = 0; round < 3000; round++)
    {
      g_autoptr(GString) s = g_string_new (NULL);
      guint n = (guint) g_rand_int_range (rand, 0, 24);
      g_autoptr(GError) error = NULL;
      g_autoptr(PlSmtpPath) path = NULL;
      g_autofree guint8 *decoded = NULL;
      g_autofree char *shown = NULL;
      g_autofree char *verb = NULL;
      g_autofree char *args = NULL;
      g_autoptr(GByteArray) stuffed = g_byte_array_new ();
      g_autoptr(GBytes) back = NULL;
      gsize len;

      for (guint i = 0; i < n; i++)
        g_string_append (s, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);

      path = pl_smtp_parse_path (s->str, round % 2 ? "FROM" : "TO", &error);
      g_assert_true ((path == NULL) != (error == NULL));
      if (path != NULL)
        {
          g_assert_cmpuint (strlen (path->address), <=, PL_SMTP_MAX_PATH);
          g_assert_nonnull (path->local_part);
        }
      decoded = pl_smtp_base64_decode (s->str, &len);
      shown = pl_smtp_annotate_base64 ("x", s->str);
      g_assert_true (g_utf8_validate (shown, -1, NULL));
      if (pl_smtp_parse_command ((const guint8 *) s->str, s->len, &verb, &args))
        g_assert_cmpuint (strlen (verb), <=, 40);
      pl_smtp_dot_stuff (stuffed, (const guint8 *) s->str, s->len);
      g_assert_cmpuint (stuffed->len, >=, pl_smtp_message_size ((const guint8 *) s->str, s->len));
      back = pl_smtp_dot_unstuff (stuffed->data, stuffed->len);
      g_assert_cmpuint (g_bytes_get_size (back), ==, pl_smtp_message_size ((const guint8 *) s->str, s->len));
      {
        g_autofree char *text = accumulate (s->str);
        (void) text;
      }
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/smtp/grammar/parse-command", test_parse_command);
  g_test_add_func ("/smtp/grammar/parse-path", test_parse_path);
  g_test_add_func ("/smtp/grammar/path-limits", test_path_limits);
  g_test_add_func ("/smtp/grammar/parse-reply-line", test_parse_reply_line);
  g_test_add_func ("/smtp/grammar/reply-accumulator", test_reply_accumulator);
  g_test_add_func ("/smtp/grammar/reply-format", test_reply_format);
  g_test_add_func ("/smtp/grammar/dot-stuff", test_dot_stuff);
  g_test_add_func ("/smtp/grammar/base64", test_base64);
  g_test_add_func ("/smtp/grammar/annotate-base64", test_annotate);
  g_test_add_func ("/smtp/grammar/explained", test_explained);
  g_test_add_func ("/smtp/grammar/random-input", test_random_input);

  return g_test_run ();
}
