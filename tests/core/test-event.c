/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlEvent: exact octets kept, display text made readable. */
#include "pl-event.h"
#include "pl-explain.h"
#include "pl-test-event.h"
#include "pl-writer.h"

#include <string.h>

typedef struct {
  const char *name;
  const char *octets;
  gssize      len;        /* -1: strlen */
  gboolean    unstuff;
  const char *text;
} DisplayCase;

static const DisplayCase display_cases[] = {
  { "crlf",          "+OK POP3 server ready\r\n", -1, FALSE, "+OK POP3 server ready" },
  { "bare-lf",       "user bob\n", -1, FALSE, "user bob" },
  { "multi-line",    "+OK\r\n1 498\r\n2 912\r\n.\r\n", -1, FALSE, "+OK\n1 498\n2 912\n." },
  { "no-line-end",   "partial", -1, FALSE, "partial" },
  { "nul",           "a\0b\r\n", 5, FALSE, "a\xe2\x90\x80" "b" },
  { "control",       "a\x01z", -1, FALSE, "a\xef\xbf\xbdz" },
  { "tab-kept",      "a\tb", -1, FALSE, "a\tb" },
  { "utf8-kept",     "caf\xc3\xa9\r\n", -1, FALSE, "caf\xc3\xa9" },
  { "latin1-fixed",  "caf\xe9!", -1, FALSE, "caf\xef\xbf\xbd!" },
  { "cut-utf8",      "x\xc3", -1, FALSE, "x\xef\xbf\xbd" },
  { "unstuffed",     "+OK\r\n..sig\r\n.\r\n", -1, TRUE, "+OK\n.sig\n." },
  { "stuffed-kept",  "+OK\r\n..sig\r\n.\r\n", -1, FALSE, "+OK\n..sig\n." },
  { "dot-alone",     "..\r\n", -1, TRUE, "." },
  { "empty",         "", -1, FALSE, "" },
};

static void
test_display_text (gconstpointer data)
{
  const DisplayCase *c = data;
  gsize len = c->len < 0 ? strlen (c->octets) : (gsize) c->len;
  g_autofree char *text = pl_display_text_from_octets ((const guint8 *) c->octets, len, c->unstuff);

  g_assert_cmpstr (text, ==, c->text);
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static void
test_event_octets_exact (void)
{
  static const guint8 raw[] = "USER bob\r\n\0tail";
  g_autoptr(PlEvent) event = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, raw, sizeof raw);
  gsize len;
  const guint8 *data = pl_event_get_data (event, &len);

  g_assert_cmpmem (data, len, raw, sizeof raw);
  pl_event_set_verb (event, "user", "bob");
  g_assert_cmpstr (event->verb, ==, "USER");
  g_assert_cmpstr (event->args, ==, "bob");
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
}

/* pl_event_new_unit() gives what pl_event_new() and the setters give, and its fields can still be replaced. */
static void
test_event_unit (void)
{
  const char *wire = "mail FROM:<alice@a.example>\r\n";
  g_autoptr(PlEvent) made = pl_event_new (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) wire, strlen (wire));
  g_autoptr(PlEvent) unit = pl_event_new_unit (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) wire,
                                               strlen (wire), NULL, "250", "mail", "FROM:<alice@a.example>");
  g_autoptr(PlEvent) shown = pl_event_new_unit (PL_EVENT_REPLY, PL_DIR_SERVER, (const guint8 *) "334 \r\n", 6,
                                                g_strdup ("334  (decodes to: \"\")"), NULL, NULL, NULL);

  pl_event_set_verb (made, "mail", "FROM:<alice@a.example>");
  pl_event_set_status (made, "250");
  g_assert_true (g_bytes_equal (unit->octets, made->octets));
  g_assert_cmpstr (unit->text, ==, made->text);
  g_assert_cmpstr (unit->verb, ==, "MAIL");
  g_assert_cmpstr (unit->args, ==, made->args);
  g_assert_cmpstr (unit->status, ==, made->status);
  g_assert_null (unit->tag);
  g_assert_cmpint (unit->kind, ==, PL_EVENT_COMMAND);
  g_assert_cmpint (unit->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpstr (shown->text, ==, "334  (decodes to: \"\")");
  g_assert_null (shown->verb);
  g_assert_null (shown->args);

  /* The strings it keeps in its own allocation are replaced like any other (ASan sees a bad free). */
  pl_event_set_verb (unit, "rcpt", "TO:<bob@b.example>");
  pl_event_set_status (unit, NULL);
  pl_event_set_tag (unit, "a1");
  pl_event_take_text (unit, g_strdup ("RCPT TO:<bob@b.example>"));
  g_assert_cmpstr (unit->verb, ==, "RCPT");
  g_assert_cmpstr (unit->args, ==, "TO:<bob@b.example>");
  g_assert_null (unit->status);
  g_assert_cmpstr (unit->tag, ==, "a1");

  /* A note: no octets at all, its text and verb kept as given (the verb in upper case). */
  {
    g_autoptr(PlEvent) note = pl_event_new_unit (PL_EVENT_NOTE, PL_DIR_NONE, NULL, 0,
                                                 g_strdup ("mailbox bob@b.example on mail.b.example is empty"),
                                                 NULL, "mailbox", "mail.b.example bob@b.example 0 0");

    g_assert_null (note->octets);
    g_assert_cmpint (note->kind, ==, PL_EVENT_NOTE);
    g_assert_cmpstr (note->text, ==, "mailbox bob@b.example on mail.b.example is empty");
    g_assert_cmpstr (note->verb, ==, "MAILBOX");
    g_assert_cmpstr (note->args, ==, "mail.b.example bob@b.example 0 0");
    pl_event_take_text (note, g_strdup ("replaced"));
    g_assert_cmpstr (note->text, ==, "replaced");
  }

  /* Its octets live in its memory, and a ref on them keeps them after the event is gone. */
  {
    GBytes *octets = g_bytes_ref (unit->octets);

    g_clear_pointer (&unit, pl_event_unref);
    g_assert_cmpmem (g_bytes_get_data (octets, NULL), g_bytes_get_size (octets), wire, strlen (wire));
    g_bytes_unref (octets);
  }
}

/* pl_event_new_unit_full(): the text copied (a literal will do), the tag kept with the other strings; all replaceable. */
static void
test_event_unit_full (void)
{
  const char *wire = "a2 OK [READ-WRITE] SELECT completed\r\n";
  g_autoptr(PlEvent) made = pl_event_new (PL_EVENT_REPLY, PL_DIR_SERVER, (const guint8 *) wire, strlen (wire));
  g_autoptr(PlEvent) unit = pl_event_new_unit_full (PL_EVENT_REPLY, PL_DIR_SERVER, (const guint8 *) wire, strlen (wire),
                                                    NULL, "a2", "OK", NULL, NULL);
  g_autoptr(PlEvent) untexted = pl_event_new_unit_full (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) "a1 NOOP\r\n", 9,
                                                        "", "a1", NULL, "noop", "");

  pl_event_set_tag (made, "a2");
  pl_event_set_status (made, "OK");
  g_assert_true (g_bytes_equal (unit->octets, made->octets));
  g_assert_cmpstr (unit->text, ==, made->text);
  g_assert_cmpstr (unit->tag, ==, made->tag);
  g_assert_cmpstr (unit->status, ==, made->status);
  g_assert_null (unit->verb);
  g_assert_null (unit->args);
  g_assert_cmpstr (untexted->text, ==, "");
  g_assert_cmpstr (untexted->tag, ==, "a1");
  g_assert_cmpstr (untexted->verb, ==, "NOOP");
  g_assert_cmpstr (untexted->args, ==, "");
  /* The same JSON as the event made field by field. */
  {
    g_autoptr(GString) a = g_string_new (NULL);
    g_autoptr(GString) b = g_string_new (NULL);

    pl_jsonl_append_event (a, unit);
    pl_jsonl_append_event (b, made);
    g_assert_cmpstr (a->str, ==, b->str);
    g_assert_nonnull (strstr (a->str, "\"tag\":\"a2\""));
  }
  /* Its inline strings are replaced like any other (ASan sees a bad free). */
  pl_event_set_tag (unit, "a3");
  pl_event_take_text (untexted, g_strdup ("a1 NOOP"));
  pl_event_set_tag (untexted, NULL);
  g_assert_cmpstr (unit->tag, ==, "a3");
  g_assert_cmpstr (untexted->text, ==, "a1 NOOP");
  g_assert_null (untexted->tag);
}

typedef struct {
  PlEventKind  kind;
  PlDirection  dir;
  const char  *octets;
  gboolean     body;    /* pl_event_new_body(): dots unstuffed in the text */
  const char  *text;    /* given; NULL: made from the octets */
  const char  *status;
  const char  *verb;
  const char  *args;
} UnitSpec;

typedef struct {
  const char *name;
  UnitSpec    first;
  UnitSpec    second;
  gboolean    shared;  /* the second shares the first's octets and strings */
} ShareCase;

#define MAIL_CMD PL_EVENT_COMMAND, PL_DIR_CLIENT, "MAIL FROM:<alice@a.example>\r\n"
#define OK_REPLY PL_EVENT_REPLY, PL_DIR_SERVER, "250 OK\r\n"

static const ShareCase share_cases[] = {
  { "same-command",     { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<alice@a.example>" },
                        { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<alice@a.example>" }, TRUE },
  { "verb-case",        { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<alice@a.example>" },
                        { MAIL_CMD, FALSE, NULL, NULL, "mail", "FROM:<alice@a.example>" }, TRUE },
  { "same-reply",       { OK_REPLY, FALSE, NULL, "250", NULL, NULL },
                        { OK_REPLY, FALSE, NULL, "250", NULL, NULL }, TRUE },
  { "same-given-text",  { OK_REPLY, FALSE, "shown", "250", NULL, NULL },
                        { OK_REPLY, FALSE, "shown", "250", NULL, NULL }, TRUE },
  { "same-body",        { PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n..a\r\n.\r\n", TRUE, NULL, "+OK", NULL, NULL },
                        { PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n..a\r\n.\r\n", TRUE, NULL, "+OK", NULL, NULL }, TRUE },
  { "other-args",       { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<alice@a.example>" },
                        { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<carol@a.example>" }, FALSE },
  { "other-verb",       { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<alice@a.example>" },
                        { MAIL_CMD, FALSE, NULL, NULL, "MAILX", "FROM:<alice@a.example>" }, FALSE },
  { "no-verb",          { MAIL_CMD, FALSE, NULL, NULL, "MAIL", "FROM:<alice@a.example>" },
                        { MAIL_CMD, FALSE, NULL, NULL, NULL, NULL }, FALSE },
  { "other-status",     { OK_REPLY, FALSE, NULL, "250", NULL, NULL },
                        { OK_REPLY, FALSE, NULL, "251", NULL, NULL }, FALSE },
  { "no-status",        { OK_REPLY, FALSE, NULL, "250", NULL, NULL },
                        { OK_REPLY, FALSE, NULL, NULL, NULL, NULL }, FALSE },
  { "given-vs-made",    { OK_REPLY, FALSE, NULL, "250", NULL, NULL },
                        { OK_REPLY, FALSE, "250 OK", "250", NULL, NULL }, FALSE },
  { "other-given-text", { OK_REPLY, FALSE, "shown", "250", NULL, NULL },
                        { OK_REPLY, FALSE, "other", "250", NULL, NULL }, FALSE },
  { "other-octets",     { OK_REPLY, FALSE, NULL, "250", NULL, NULL },
                        { PL_EVENT_REPLY, PL_DIR_SERVER, "250 Ok\r\n", FALSE, NULL, "250", NULL, NULL }, FALSE },
  { "other-kind",       { OK_REPLY, FALSE, NULL, NULL, NULL, NULL },
                        { PL_EVENT_COMMAND, PL_DIR_SERVER, "250 OK\r\n", FALSE, NULL, NULL, NULL, NULL }, FALSE },
  { "other-dir",        { OK_REPLY, FALSE, NULL, NULL, NULL, NULL },
                        { PL_EVENT_REPLY, PL_DIR_CLIENT, "250 OK\r\n", FALSE, NULL, NULL, NULL, NULL }, FALSE },
  { "same-note",        { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, "queue", "mail.a.example 1" },
                        { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, "QUEUE", "mail.a.example 1" }, TRUE },
  { "note-no-verb",     { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, NULL, NULL },
                        { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, NULL, NULL }, TRUE },
  { "note-other-args",  { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, "QUEUE", "mail.a.example 1" },
                        { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, "QUEUE", "mail.a.example 2" }, FALSE },
  { "note-other-text",  { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 1", NULL, "QUEUE", "mail.a.example 1" },
                        { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "queue: 2", NULL, "QUEUE", "mail.a.example 1" }, FALSE },
  { "note-vs-unit",     { PL_EVENT_NOTE, PL_DIR_NONE, NULL, FALSE, "250 OK", NULL, NULL, NULL },
                        { OK_REPLY, FALSE, "250 OK", NULL, NULL, NULL }, FALSE },
  { "body-vs-unit",     { PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n..a\r\n.\r\n", TRUE, NULL, "+OK", NULL, NULL },
                        { PL_EVENT_REPLY, PL_DIR_SERVER, "+OK\r\n..a\r\n.\r\n", FALSE, NULL, "+OK", NULL, NULL }, FALSE },
};

static PlEvent *
make_spec (const UnitSpec *spec)
{
  const guint8 *octets = (const guint8 *) spec->octets;
  gsize len = spec->octets != NULL ? strlen (spec->octets) : 0;

  if (spec->body)
    return pl_event_new_body (spec->kind, spec->dir, octets, len, spec->status);
  return pl_event_new_unit (spec->kind, spec->dir, octets, len, g_strdup (spec->text),
                            spec->status, spec->verb, spec->args);
}

/*
 * While a thread shares, a unit made again (same octets, text, status,
 * verb and args) shares the first one's memory: its fields are what it
 * would have been made with, it outlives the first, and its setters free
 * only what they put in (ASan sees a bad free or a use after free).
 */
static void
test_event_share (void)
{
  for (guint order = 0; order < 2; order++)
    for (gsize i = 0; i < G_N_ELEMENTS (share_cases); i++)
      {
        const ShareCase *c = &share_cases[i];
        g_autoptr(PlEvent) first = NULL;
        g_autoptr(PlEvent) second = NULL;
        g_autoptr(PlEvent) alone = make_spec (&c->second);
        g_autoptr(PlEvent) kept = NULL;

        g_test_message ("case %s, %s first", c->name, order == 0 ? "first" : "second");
        pl_event_share_begin ();
        first = make_spec (&c->first);
        second = make_spec (&c->second);
        pl_event_share_end ();

        /* Shared: the same text, and for a unit the same GBytes. */
        g_assert_cmpint (first->text == second->text, ==, c->shared);
        if (first->octets != NULL)
          g_assert_cmpint (first->octets == second->octets, ==, c->shared);
        pl_test_assert_same_event (second, alone);
        kept = pl_event_ref (order == 0 ? second : first);
        /* Either may go first; the other keeps what it shows. */
        if (order == 0)
          g_clear_pointer (&first, pl_event_unref);
        else
          g_clear_pointer (&second, pl_event_unref);
        if (second != NULL)
          pl_test_assert_same_event (second, alone);
        if (first != NULL)
          {
            g_autoptr(PlEvent) again = make_spec (&c->first);

            pl_test_assert_same_event (first, again);
          }
        g_clear_pointer (&first, pl_event_unref);
        g_clear_pointer (&second, pl_event_unref);
        /* The last reference, on either, frees what they shared (ASan sees a leak or a double free). */
        g_assert_nonnull (kept->text);
      }
}

/* Setters on an event that shares, or on the one shared from, change only that event; after the end, nothing shares. */
static void
test_event_share_setters (void)
{
  const UnitSpec spec = { MAIL_CMD, FALSE, NULL, "250", "MAIL", "FROM:<alice@a.example>" };
  g_autoptr(PlEvent) alone = make_spec (&spec);
  g_autoptr(PlEvent) first = NULL;
  g_autoptr(PlEvent) second = NULL;
  g_autoptr(PlEvent) third = NULL;
  g_autoptr(PlEvent) after = NULL;

  pl_event_share_begin ();
  pl_event_share_begin ();
  first = make_spec (&spec);
  second = make_spec (&spec);
  g_assert_true (first->octets == second->octets);

  pl_event_set_verb (second, "rcpt", "TO:<bob@b.example>");
  pl_event_set_status (second, NULL);
  pl_event_set_tag (second, "a1");
  pl_event_take_text (second, g_strdup ("RCPT TO:<bob@b.example>"));
  g_assert_cmpstr (second->verb, ==, "RCPT");
  g_assert_cmpstr (second->args, ==, "TO:<bob@b.example>");
  g_assert_null (second->status);
  g_assert_cmpstr (second->tag, ==, "a1");
  g_assert_cmpstr (second->text, ==, "RCPT TO:<bob@b.example>");
  pl_test_assert_same_event (first, alone);

  /* The first's strings replaced: what is made next is not taken from it, and is still right. */
  pl_event_set_verb (first, "mail", "FROM:<alice@a.example>");
  third = make_spec (&spec);
  g_assert_true (third->octets != first->octets);
  pl_test_assert_same_event (third, alone);
  g_clear_pointer (&first, pl_event_unref);
  pl_test_assert_same_event (third, alone);

  /* Nested: the inner end keeps sharing, the outer one stops it. */
  pl_event_share_end ();
  {
    g_autoptr(PlEvent) fourth = make_spec (&spec);

    g_assert_true (fourth->octets == third->octets);
  }
  pl_event_share_end ();
  after = make_spec (&spec);
  g_assert_true (after->octets != third->octets);
  pl_test_assert_same_event (after, alone);
}

static void
test_event_note (void)
{
  g_autoptr(PlEvent) note = pl_event_new_note ("missing %u bytes (%s)", 1448u, "server to client");
  gsize len = 99;

  g_assert_cmpint (note->kind, ==, PL_EVENT_NOTE);
  g_assert_cmpstr (note->text, ==, "missing 1448 bytes (server to client)");
  g_assert_null (pl_event_get_data (note, &len));
  g_assert_cmpuint (len, ==, 0);
}

static void
test_explain (void)
{
  const PlExplanation *ex = pl_explain (PL_PROTOCOL_POP3, PL_DIR_CLIENT, "retr");

  g_assert_nonnull (ex);
  g_assert_true (g_str_has_prefix (ex->reference, "RFC 1939"));
  g_assert_nonnull (pl_explain (PL_PROTOCOL_POP3, PL_DIR_SERVER, "-ERR"));
  g_assert_null (pl_explain (PL_PROTOCOL_POP3, PL_DIR_CLIENT, "XYZZY"));
  g_assert_null (pl_explain (PL_PROTOCOL_POP3, PL_DIR_CLIENT, NULL));

  /* What the public captures hold beyond the textbook (a SASL login over POP3, STLS; a mail client's first IMAP commands), each with its RFC. */
  {
    static const struct {
      PlProtocol   protocol;
      PlDirection  dir;
      const char  *key;
      const char  *rfc;
    } seen[] = {
      { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "AUTH", "RFC 5034 " },
      { PL_PROTOCOL_POP3, PL_DIR_SERVER, "+", "RFC 5034 " },
      { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "STLS", "RFC 2595 " },
      { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "ID", "RFC 2971 " },
      { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "ID", "RFC 2971 " },
      { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "ENABLE", "RFC 5161 " },
      { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "ENABLED", "RFC 5161 " },
      { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "NAMESPACE", "RFC 2342 " },
      { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "NAMESPACE", "RFC 2342 " },
      { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "UNSELECT", "RFC 3691 " },
    };

    for (guint i = 0; i < G_N_ELEMENTS (seen); i++)
      {
        const PlExplanation *row = pl_explain (seen[i].protocol, seen[i].dir, seen[i].key);

        g_assert_nonnull (row);
        g_assert_true (g_str_has_prefix (row->reference, seen[i].rfc));
      }
  }
}

static void
test_protocol_names (void)
{
  g_assert_cmpstr (pl_protocol_to_string (PL_PROTOCOL_POP3), ==, "pop3");
  g_assert_cmpint (pl_protocol_from_string ("SMTP"), ==, PL_PROTOCOL_SMTP);
  g_assert_cmpint (pl_protocol_from_string ("gopher"), ==, PL_PROTOCOL_UNKNOWN);
  g_assert_cmpstr (pl_protocol_to_string ((PlProtocol) 99), ==, "unknown");
}

/* pl_event_new_body() shows its octets as pl_display_text_from_octets (..., TRUE) does, whatever they hold. */
static void
test_event_body (void)
{
  static const struct {
    const char *octets;
    gsize       len;
  } cases[] = {
#define BODY(str) { str, sizeof (str) - 1 }
    BODY ("+OK 12 octets\r\n..dot\r\nline\r\n.\r\n"),
    BODY ("Subject: x\r\n\r\n\xc3\xa9t\xe9\r\n\0nul\r\n\x01\r\n.\r\n"),
    BODY (""),
    BODY ("\r\n"),
#undef BODY
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PlEvent) body = pl_event_new_body (PL_EVENT_REPLY, PL_DIR_SERVER, (const guint8 *) cases[i].octets,
                                                   cases[i].len, "+OK");
      g_autofree char *expected = pl_display_text_from_octets ((const guint8 *) cases[i].octets, cases[i].len, TRUE);
      gsize len = 0;
      const guint8 *data = pl_event_get_data (body, &len);

      g_assert_cmpmem (data, len, cases[i].octets, cases[i].len);
      g_assert_cmpstr (body->text, ==, expected);
      g_assert_cmpstr (body->status, ==, "+OK");
      g_assert_null (body->verb);
      g_assert_cmpint (body->kind, ==, PL_EVENT_REPLY);
    }
  /* A long one (past what an event keeps in place) is shown the same way. */
  {
    g_autoptr(GString) big = g_string_new (NULL);
    g_autoptr(PlEvent) body = NULL;
    g_autofree char *expected = NULL;

    for (guint i = 0; i < 4000; i++)
      g_string_append (big, i % 7 == 0 ? "..stuffed line\r\n" : "plain line \xe2\x82\xac\r\n");
    body = pl_event_new_body (PL_EVENT_DATA, PL_DIR_CLIENT, (const guint8 *) big->str, big->len, NULL);
    expected = pl_display_text_from_octets ((const guint8 *) big->str, big->len, TRUE);
    g_assert_cmpstr (body->text, ==, expected);
    g_assert_cmpuint (g_bytes_get_size (body->octets), ==, big->len);
  }
}

/* pl_event_new_note_copy() copies what it is given; the verb in upper case, args only with a verb. */
static void
test_event_note_copy (void)
{
  char text[] = "mailbox bob@b.example on mail.b.example is empty";
  char args[] = "mail.b.example bob@b.example 0 0";
  g_autoptr(PlEvent) note = pl_event_new_note_copy (text, "mailbox", args);
  g_autoptr(PlEvent) bare = pl_event_new_note_copy ("the queue is empty", NULL, "ignored");

  text[0] = 'X';
  args[0] = 'X';
  g_assert_cmpint (note->kind, ==, PL_EVENT_NOTE);
  g_assert_cmpint (note->dir, ==, PL_DIR_NONE);
  g_assert_null (note->octets);
  g_assert_cmpstr (note->text, ==, "mailbox bob@b.example on mail.b.example is empty");
  g_assert_cmpstr (note->verb, ==, "MAILBOX");
  g_assert_cmpstr (note->args, ==, "mail.b.example bob@b.example 0 0");
  g_assert_cmpstr (bare->text, ==, "the queue is empty");
  g_assert_null (bare->verb);
  g_assert_null (bare->args);
  pl_event_set_verb (note, "queue", "x 1");
  g_assert_cmpstr (note->verb, ==, "QUEUE");
}

static gpointer
make_events (gpointer data)
{
  GPtrArray *events = data;

  for (guint i = 0; i < 5000; i++)
    {
      char line[64];

      g_snprintf (line, sizeof line, "RCPT TO:<user%u@b.example>\r\n", i);
      g_ptr_array_add (events, pl_event_new_unit (PL_EVENT_COMMAND, PL_DIR_CLIENT, (const guint8 *) line,
                                                  strlen (line), NULL, NULL, "rcpt", line + 5));
    }
  return NULL;
}

/*
 * Events made by one thread (engines run in a server's threads) may be
 * kept, looked at and let go by another, in any order, and their octets may
 * outlive them: under ASan, a mistake in how their memory is shared shows.
 */
static void
test_event_threads (void)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new ();
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GThread *thread = g_thread_new ("events", make_events, events);

  g_thread_join (thread);
  g_assert_cmpuint (events->len, ==, 5000);
  for (guint i = 0; i < events->len; i += 2)
    {
      PlEvent *event = events->pdata[i];
      g_autofree char *expected = g_strdup_printf ("RCPT TO:<user%u@b.example>", i);

      g_assert_cmpstr (event->text, ==, expected);
      g_assert_cmpstr (event->verb, ==, "RCPT");
      if (i % 10 == 0)
        g_ptr_array_add (kept, g_bytes_ref (event->octets));
      pl_event_unref (event);
    }
  for (guint i = 1; i < events->len; i += 2)
    pl_event_unref (events->pdata[i]);
  for (guint i = 0; i < kept->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("RCPT TO:<user%u@b.example>\r\n", i * 10);

      g_assert_cmpmem (g_bytes_get_data (kept->pdata[i], NULL), g_bytes_get_size (kept->pdata[i]),
                       expected, strlen (expected));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (display_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/core/event/display/%s", display_cases[i].name);
      g_test_add_data_func (path, &display_cases[i], test_display_text);
    }
  g_test_add_func ("/core/event/octets-exact", test_event_octets_exact);
  g_test_add_func ("/core/event/unit", test_event_unit);
  g_test_add_func ("/core/event/unit-full", test_event_unit_full);
  g_test_add_func ("/core/event/share", test_event_share);
  g_test_add_func ("/core/event/share-setters", test_event_share_setters);
  g_test_add_func ("/core/event/note", test_event_note);
  g_test_add_func ("/core/event/body", test_event_body);
  g_test_add_func ("/core/event/note-copy", test_event_note_copy);
  g_test_add_func ("/core/event/threads", test_event_threads);
  g_test_add_func ("/core/explain/pop3", test_explain);
  g_test_add_func ("/core/types/protocol-names", test_protocol_names);
  return g_test_run ();
}
