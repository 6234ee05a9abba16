/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of PlSmtpServer: scripted dialogues per state and command, bad input, delivery, events. */

#include <string.h>

#include <glib.h>

#include "pl-explain.h"
#include "pl-smtp-grammar.h"
#include "pl-smtp-server.h"
#include "engine-test-util.h"
#include "smtp-test-util.h"

#define S(str) str, sizeof (str) - 1

#define GREETING    "220 mail.b.example ESMTP Postlab\r\n"
#define EHLO        "EHLO a.example\r\n"
#define EHLO_REPLY  "250-mail.b.example Hello a.example, pleased to meet you\r\n" \
                    "250-SIZE 10485760\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-AUTH PLAIN LOGIN\r\n250 HELP\r\n"
#define HELO        "HELO a.example\r\n"
#define HELO_REPLY  "250 mail.b.example Hello a.example, pleased to meet you\r\n"
#define MAIL        EHLO "MAIL FROM:<alice@a.example>\r\n"
#define RCPT        MAIL "RCPT TO:<bob@b.example>\r\n"
#define AUTHED      EHLO "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"   /* "" / "alice" / "secret" */
#define SENDER_OK   "250 alice@a.example ... Sender ok\r\n"
#define BOB_OK      "250 bob@b.example ... Recipient ok\r\n"
#define GO_AHEAD    "354 Enter mail, end with \".\" on a line by itself\r\n"
#define ACCEPTED    "250 Message accepted for delivery\r\n"
#define BYE         "221 mail.b.example closing connection\r\n"
#define AUTH_OK     "235 Authentication successful\r\n"
#define AUTH_BAD    "535 Authentication credentials invalid\r\n"
#define NOT_BASE64  "501 Cannot decode the response: it is not base64\r\n"
#define NEED_HELO   "503 Bad sequence of commands: send HELO or EHLO first\r\n"
#define NEED_MAIL   "503 Bad sequence of commands: need MAIL before RCPT\r\n"
#define NEED_RCPT   "503 Bad sequence of commands: need RCPT before DATA\r\n"
#define NESTED_MAIL "503 Bad sequence of commands: sender already given (send RSET to start over)\r\n"
#define NOW         PL_TEST_SMTP_NOW

/* The dialogue helper ---------------------------------------------------------------- */

/* A server engine on a test world, with everything fed to it and everything it said. */
typedef struct {
  PlTestDialogue talk;
  PlTestSmtpWorld *world;
} Dialogue;

static Dialogue *
dialogue_new_full (const PlSmtpServerConfig *config)
{
  Dialogue *d = g_new0 (Dialogue, 1);

  d->world = pl_test_smtp_world_new ();
  pl_test_dialogue_init (&d->talk, pl_test_smtp_server_new (d->world, config));
  return d;
}

static Dialogue *
dialogue_new (void)
{
  return dialogue_new_full (NULL);
}

static void
dialogue_free (Dialogue *d)
{
  pl_test_dialogue_clear (&d->talk);
  pl_test_smtp_world_free (d->world);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Dialogue, dialogue_free)

static PlTestSmtpDelivery *
delivery (Dialogue *d,
          guint     index)
{
  g_assert_cmpuint (index, <, d->world->deliveries->len);
  return g_ptr_array_index (d->world->deliveries, index);
}

static GPtrArray *
events_of (Dialogue    *d,
           PlEventKind  kind)
{
  return pl_test_recorder_filter (d->talk.recorder, kind);
}

/* An event's octets, exactly (the text of @expected holds no NUL). */
static void
assert_octets (PlEvent    *event,
               const char *expected)
{
  gsize len;
  const guint8 *data = pl_event_get_data (event, &len);

  g_assert_cmpmem (data, len, expected, strlen (expected));
}

/* Scripted exchanges: one test per state and command ------------------------------------- */

typedef struct {
  const char *path;
  const char *prelude;   /* sent first, its replies not checked */
  const char *input;
  gsize       input_len;
  const char *expected;
} Exchange;

static const Exchange exchanges[] = {
  /* CONNECTED: after the greeting, before HELO/EHLO */
  { "/smtp/server/connected/helo", NULL, S (HELO), HELO_REPLY },
  { "/smtp/server/connected/helo-lower-case", NULL, S ("helo a.example\r\n"), HELO_REPLY },
  { "/smtp/server/connected/helo-missing-name", NULL, S ("HELO\r\n"), "501 Syntax: HELO hostname\r\n" },
  { "/smtp/server/connected/ehlo", NULL, S (EHLO), EHLO_REPLY },
  { "/smtp/server/connected/ehlo-missing-name", NULL, S ("EHLO \r\n"), "501 Syntax: EHLO hostname\r\n" },
  { "/smtp/server/connected/mail-before-helo", NULL, S ("MAIL FROM:<alice@a.example>\r\n"), NEED_HELO },
  { "/smtp/server/connected/rcpt-before-mail", NULL, S ("RCPT TO:<bob@b.example>\r\n"), NEED_MAIL },
  { "/smtp/server/connected/data", NULL, S ("DATA\r\n"), NEED_RCPT },
  { "/smtp/server/connected/auth-before-ehlo", NULL, S ("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), NEED_HELO },
  { "/smtp/server/connected/rset", NULL, S ("RSET\r\n"), "250 OK\r\n" },
  { "/smtp/server/connected/rset-args", NULL, S ("RSET x\r\n"), "501 Syntax: RSET takes no arguments\r\n" },
  { "/smtp/server/connected/noop", NULL, S ("NOOP\r\n"), "250 OK\r\n" },
  { "/smtp/server/connected/noop-with-string", NULL, S ("NOOP are you there\r\n"), "250 OK\r\n" },
  { "/smtp/server/connected/vrfy", NULL, S ("VRFY bob\r\n"),
    "252 Cannot VRFY user, but will accept message and attempt delivery\r\n" },
  { "/smtp/server/connected/vrfy-missing", NULL, S ("VRFY\r\n"), "501 Syntax: VRFY address\r\n" },
  { "/smtp/server/connected/help", NULL, S ("HELP\r\n"),
    "214-This is Postlab; the commands are in RFC 5321\r\n"
    "214 HELO EHLO MAIL RCPT DATA RSET NOOP VRFY HELP QUIT AUTH\r\n" },
  { "/smtp/server/connected/quit", NULL, S ("QUIT\r\n"), BYE },
  { "/smtp/server/connected/quit-args", NULL, S ("QUIT now\r\n"), "501 Syntax: QUIT takes no arguments\r\n" },
  { "/smtp/server/connected/expn", NULL, S ("EXPN staff\r\n"), "502 Command not implemented\r\n" },
  { "/smtp/server/connected/starttls", NULL, S ("STARTTLS\r\n"), "502 Command not implemented\r\n" },
  { "/smtp/server/connected/bare-lf", NULL, S ("EHLO a.example\nMAIL FROM:<alice@a.example>\n"),
    EHLO_REPLY SENDER_OK },

  /* READY: greeted, no transaction */
  { "/smtp/server/ready/mail", EHLO, S ("MAIL FROM:<alice@a.example>\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-lower-case", EHLO, S ("mail from:<alice@a.example>\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-after-helo", HELO, S ("MAIL FROM:<alice@a.example>\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-textbook-space", HELO, S ("MAIL FROM: <alice@crepes.fr>\r\n"),
    "250 alice@crepes.fr ... Sender ok\r\n" },
  { "/smtp/server/ready/mail-null-sender", EHLO, S ("MAIL FROM:<>\r\n"), "250 <> ... Sender ok\r\n" },
  { "/smtp/server/ready/mail-no-brackets", EHLO, S ("MAIL FROM:alice@a.example\r\n"),
    "501 Syntax: MAIL FROM:<address> (the address must be enclosed in <>)\r\n" },
  { "/smtp/server/ready/mail-missing-from", EHLO, S ("MAIL <alice@a.example>\r\n"),
    "501 Syntax: MAIL FROM:<address> (expected FROM: before the address)\r\n" },
  { "/smtp/server/ready/mail-missing-address", EHLO, S ("MAIL\r\n"),
    "501 Syntax: MAIL FROM:<address> (expected FROM: before the address)\r\n" },
  { "/smtp/server/ready/mail-bad-domain", EHLO, S ("MAIL FROM:<alice@>\r\n"),
    "501 Syntax: MAIL FROM:<address> (bad domain after the @)\r\n" },
  { "/smtp/server/ready/mail-no-domain", EHLO, S ("MAIL FROM:<alice>\r\n"),
    "501 Syntax: MAIL FROM:<address> (the address has no @domain)\r\n" },
  { "/smtp/server/ready/mail-postmaster-no-domain", EHLO, S ("MAIL FROM:<postmaster>\r\n"),
    "501 Syntax: MAIL FROM:<address> (the address has no @domain)\r\n" },
  { "/smtp/server/ready/mail-size", EHLO, S ("MAIL FROM:<alice@a.example> SIZE=1000\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-size-at-limit", EHLO, S ("MAIL FROM:<alice@a.example> SIZE=10485760\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-size-over-limit", EHLO, S ("MAIL FROM:<alice@a.example> SIZE=10485761\r\n"),
    "552 Message size exceeds fixed maximum message size (10485760 octets)\r\n" },
  { "/smtp/server/ready/mail-size-huge", EHLO, S ("MAIL FROM:<alice@a.example> SIZE=99999999999999999999\r\n"),
    "552 Message size exceeds fixed maximum message size (10485760 octets)\r\n" },
  { "/smtp/server/ready/mail-size-too-many-digits", EHLO,
    S ("MAIL FROM:<alice@a.example> SIZE=123456789012345678901\r\n"), "501 Syntax: SIZE=<number of octets>\r\n" },
  { "/smtp/server/ready/mail-size-not-a-number", EHLO, S ("MAIL FROM:<alice@a.example> SIZE=ten\r\n"),
    "501 Syntax: SIZE=<number of octets>\r\n" },
  { "/smtp/server/ready/mail-size-bare", EHLO, S ("MAIL FROM:<alice@a.example> SIZE\r\n"),
    "501 Syntax: SIZE=<number of octets>\r\n" },
  { "/smtp/server/ready/mail-body-8bitmime", EHLO, S ("MAIL FROM:<alice@a.example> BODY=8BITMIME\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-body-7bit", EHLO, S ("MAIL FROM:<alice@a.example> body=7bit\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-body-other", EHLO, S ("MAIL FROM:<alice@a.example> BODY=BINARYMIME\r\n"),
    "501 Syntax: BODY=7BIT or BODY=8BITMIME\r\n" },
  { "/smtp/server/ready/mail-unknown-param", EHLO, S ("MAIL FROM:<alice@a.example> RET=HDRS\r\n"),
    "555 MAIL FROM parameter RET not recognized or not implemented\r\n" },
  { "/smtp/server/ready/mail-auth-param", EHLO, S ("MAIL FROM:<alice@a.example> AUTH=<>\r\n"), SENDER_OK },
  { "/smtp/server/ready/mail-sender-refused", EHLO,
    S ("MAIL FROM:<spammer@bad.example>\r\nRCPT TO:<bob@b.example>\r\n"),
    "550 Sender address rejected: go away\r\n" NEED_MAIL },
  { "/smtp/server/ready/rcpt-before-mail", EHLO, S ("RCPT TO:<bob@b.example>\r\n"), NEED_MAIL },
  { "/smtp/server/ready/data-before-mail", EHLO, S ("DATA\r\n"), NEED_RCPT },
  { "/smtp/server/ready/helo-again", EHLO, S (HELO), HELO_REPLY },
  { "/smtp/server/ready/quit", EHLO, S ("QUIT\r\n"), BYE },

  /* MAIL: a sender, no recipient yet */
  { "/smtp/server/mail/mail-twice", MAIL, S ("MAIL FROM:<alice@a.example>\r\n"), NESTED_MAIL },
  { "/smtp/server/mail/rcpt", MAIL, S ("RCPT TO:<bob@b.example>\r\n"), BOB_OK },
  { "/smtp/server/mail/rcpt-lower-case", MAIL, S ("rcpt to:<Bob@B.Example>\r\n"),
    "250 Bob@B.Example ... Recipient ok\r\n" },
  { "/smtp/server/mail/rcpt-textbook-space", MAIL, S ("RCPT TO: <bob@b.example>\r\n"), BOB_OK },
  { "/smtp/server/mail/rcpt-unknown-user", MAIL, S ("RCPT TO:<carol@b.example>\r\n"),
    "550 carol@b.example ... No such user here\r\n" },
  { "/smtp/server/mail/rcpt-relay-denied", MAIL, S ("RCPT TO:<carol@c.example>\r\n"),
    "550 carol@c.example ... Relay access denied\r\n" },
  { "/smtp/server/mail/rcpt-mailbox-full", MAIL, S ("RCPT TO:<full@b.example>\r\n"),
    "452 full@b.example ... Mailbox full, try again later\r\n" },
  { "/smtp/server/mail/rcpt-postmaster", MAIL, S ("RCPT TO:<Postmaster>\r\n"), "250 Postmaster ... Recipient ok\r\n" },
  { "/smtp/server/mail/rcpt-null", MAIL, S ("RCPT TO:<>\r\n"),
    "501 Syntax: RCPT TO:<address> (the null path is only for senders)\r\n" },
  { "/smtp/server/mail/rcpt-param", MAIL, S ("RCPT TO:<bob@b.example> NOTIFY=NEVER\r\n"),
    "555 RCPT TO parameter NOTIFY not recognized or not implemented\r\n" },
  { "/smtp/server/mail/rcpt-no-brackets", MAIL, S ("RCPT TO:bob@b.example\r\n"),
    "501 Syntax: RCPT TO:<address> (the address must be enclosed in <>)\r\n" },
  { "/smtp/server/mail/rcpt-from-keyword", MAIL, S ("RCPT FROM:<bob@b.example>\r\n"),
    "501 Syntax: RCPT TO:<address> (expected TO: before the address)\r\n" },
  { "/smtp/server/mail/data-without-rcpt", MAIL, S ("DATA\r\n"), NEED_RCPT },
  { "/smtp/server/mail/data-after-refused-rcpt", MAIL, S ("RCPT TO:<carol@b.example>\r\nDATA\r\n"),
    "550 carol@b.example ... No such user here\r\n" NEED_RCPT },
  { "/smtp/server/mail/rset", MAIL, S ("RSET\r\nRCPT TO:<bob@b.example>\r\n"), "250 OK\r\n" NEED_MAIL },
  { "/smtp/server/mail/ehlo-resets", MAIL, S (EHLO "RCPT TO:<bob@b.example>\r\n"), EHLO_REPLY NEED_MAIL },
  { "/smtp/server/mail/auth-during-transaction", MAIL, S ("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
    "503 Bad sequence of commands: AUTH is not allowed during a mail transaction\r\n" },
  { "/smtp/server/mail/noop", MAIL, S ("NOOP\r\nRCPT TO:<bob@b.example>\r\n"), "250 OK\r\n" BOB_OK },

  /* RCPT: at least one recipient */
  { "/smtp/server/rcpt/data", RCPT, S ("DATA\r\n"), GO_AHEAD },
  { "/smtp/server/rcpt/data-args", RCPT, S ("DATA now\r\n"), "501 Syntax: DATA takes no arguments\r\n" },
  { "/smtp/server/rcpt/rcpt-second", RCPT, S ("RCPT TO:<postmaster@b.example>\r\n"),
    "250 postmaster@b.example ... Recipient ok\r\n" },
  { "/smtp/server/rcpt/rcpt-refused-then-data", RCPT, S ("RCPT TO:<carol@b.example>\r\nDATA\r\n"),
    "550 carol@b.example ... No such user here\r\n" GO_AHEAD },
  { "/smtp/server/rcpt/mail", RCPT, S ("MAIL FROM:<alice@a.example>\r\n"), NESTED_MAIL },
  { "/smtp/server/rcpt/vrfy", RCPT, S ("VRFY bob\r\n"),
    "252 Cannot VRFY user, but will accept message and attempt delivery\r\n" },
  { "/smtp/server/rcpt/rset", RCPT, S ("RSET\r\nDATA\r\n"), "250 OK\r\n" NEED_RCPT },
  { "/smtp/server/rcpt/quit", RCPT, S ("QUIT\r\n"), BYE },

  /* DATA: the message, then the transaction is over */
  { "/smtp/server/data/message", RCPT "DATA\r\n", S ("Subject: hi\r\n\r\nhello\r\n.\r\n"), ACCEPTED },
  { "/smtp/server/data/empty-message", RCPT "DATA\r\n", S (".\r\n"), ACCEPTED },
  { "/smtp/server/data/commands-are-content", RCPT "DATA\r\n", S ("QUIT\r\nRSET\r\n.\r\nNOOP\r\n"),
    ACCEPTED "250 OK\r\n" },
  { "/smtp/server/data/then-new-transaction", RCPT "DATA\r\n",
    S ("x\r\n.\r\nRCPT TO:<bob@b.example>\r\nMAIL FROM:<>\r\n"), ACCEPTED NEED_MAIL "250 <> ... Sender ok\r\n" },
  { "/smtp/server/data/nul", RCPT "DATA\r\n", S ("a\0b\r\n.\r\nNOOP\r\n"),
    "554 Transaction failed: the message contains a NUL octet\r\n250 OK\r\n" },
  { "/smtp/server/data/dot-space-is-content", RCPT "DATA\r\n", S (". \r\n.x\r\n.\r\n"), ACCEPTED },

  /* AUTH (RFC 4954), after EHLO */
  { "/smtp/server/auth/plain", EHLO, S ("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), AUTH_OK },
  { "/smtp/server/auth/plain-lower-case", EHLO, S ("auth plain AGFsaWNlAHNlY3JldA==\r\n"), AUTH_OK },
  /* "alice" / "alice" / "secret" */
  { "/smtp/server/auth/plain-same-authzid", EHLO, S ("AUTH PLAIN YWxpY2UAYWxpY2UAc2VjcmV0\r\n"), AUTH_OK },
  /* "bob" / "alice" / "secret" */
  { "/smtp/server/auth/plain-other-authzid", EHLO, S ("AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==\r\n"),
    "535 Authentication credentials invalid: cannot act on behalf of another user\r\n" },
  { "/smtp/server/auth/plain-continue", EHLO, S ("AUTH PLAIN\r\nAGFsaWNlAHNlY3JldA==\r\n"), "334 \r\n" AUTH_OK },
  /* "" / "alice" / "wrong" */
  { "/smtp/server/auth/plain-wrong", EHLO, S ("AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), AUTH_BAD },
  { "/smtp/server/auth/plain-unknown-user", EHLO, S ("AUTH PLAIN AGNhcm9sAHNlY3JldA==\r\n"), AUTH_BAD },
  { "/smtp/server/auth/plain-cancel", EHLO, S ("AUTH PLAIN\r\n*\r\nNOOP\r\n"),
    "334 \r\n501 Authentication cancelled\r\n250 OK\r\n" },
  { "/smtp/server/auth/plain-bad-base64", EHLO, S ("AUTH PLAIN !!!!\r\n"), NOT_BASE64 },
  { "/smtp/server/auth/plain-bad-base64-continue", EHLO, S ("AUTH PLAIN\r\n!!!!\r\nNOOP\r\n"),
    "334 \r\n" NOT_BASE64 "250 OK\r\n" },
  { "/smtp/server/auth/plain-malformed", EHLO, S ("AUTH PLAIN YWxpY2U=\r\n"),
    "501 Malformed PLAIN response: expected authzid, user and password separated by NUL\r\n" },
  { "/smtp/server/auth/plain-empty", EHLO, S ("AUTH PLAIN =\r\n"),
    "501 Malformed PLAIN response: expected authzid, user and password separated by NUL\r\n" },
  { "/smtp/server/auth/login", EHLO, S ("AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n"),
    "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" AUTH_OK },
  { "/smtp/server/auth/login-initial-response", EHLO, S ("AUTH LOGIN YWxpY2U=\r\nc2VjcmV0\r\n"),
    "334 UGFzc3dvcmQ6\r\n" AUTH_OK },
  { "/smtp/server/auth/login-wrong", EHLO, S ("AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\n"),
    "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" AUTH_BAD },
  { "/smtp/server/auth/login-cancel", EHLO, S ("AUTH LOGIN\r\nYWxpY2U=\r\n*\r\n"),
    "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n501 Authentication cancelled\r\n" },
  { "/smtp/server/auth/login-bad-base64", EHLO, S ("AUTH LOGIN\r\nalice\r\n"), "334 VXNlcm5hbWU6\r\n" NOT_BASE64 },
  { "/smtp/server/auth/login-nul-in-user", EHLO, S ("AUTH LOGIN\r\nYQBi\r\n"),
    "334 VXNlcm5hbWU6\r\n501 Malformed user name\r\n" },
  { "/smtp/server/auth/unknown-mechanism", EHLO, S ("AUTH CRAM-MD5\r\n"), "504 Unrecognized authentication type\r\n" },
  { "/smtp/server/auth/no-mechanism", EHLO, S ("AUTH\r\n"), "501 Syntax: AUTH mechanism [initial-response]\r\n" },
  { "/smtp/server/auth/too-many-arguments", EHLO, S ("AUTH PLAIN a b\r\n"),
    "501 Syntax: AUTH mechanism [initial-response]\r\n" },
  { "/smtp/server/auth/twice", AUTHED, S ("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
    "503 Bad sequence of commands: already authenticated\r\n" },
  { "/smtp/server/auth/after-helo", HELO, S ("AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
    "503 Bad sequence of commands: send EHLO first\r\n" },
  { "/smtp/server/auth/then-relay", AUTHED, S ("MAIL FROM:<alice@a.example>\r\nRCPT TO:<carol@c.example>\r\n"),
    SENDER_OK "250 carol@c.example ... Recipient ok (will relay)\r\n" },

  /* Bad input, in any state: answered, and the session goes on (the command after each). */
  { "/smtp/server/bad/unknown-command", NULL, S ("XYZZY\r\nNOOP\r\n"),
    "500 Syntax error, command unrecognized: XYZZY\r\n250 OK\r\n" },
  { "/smtp/server/bad/empty-line", EHLO, S ("\r\nNOOP\r\n"), "500 Syntax error: empty command\r\n250 OK\r\n" },
  { "/smtp/server/bad/nul", EHLO, S ("NO\0OP\r\nNOOP\r\n"), "500 Syntax error: NUL octet in command\r\n250 OK\r\n" },
  { "/smtp/server/bad/nul-in-address", EHLO, S ("MAIL FROM:<a\0@a.example>\r\nMAIL FROM:<>\r\n"),
    "500 Syntax error: NUL octet in command\r\n250 <> ... Sender ok\r\n" },
  { "/smtp/server/bad/lone-cr", EHLO, S ("NO\rOP\r\nNOOP\r\n"), "500 Syntax error: stray CR in command\r\n250 OK\r\n" },
  { "/smtp/server/bad/leading-space", EHLO, S (" NOOP\r\nNOOP\r\n"),
    "500 Syntax error, command unrecognized\r\n250 OK\r\n" },
  { "/smtp/server/bad/control-in-verb", EHLO, S ("NO\x1bOP\r\nNOOP\r\n"),
    "500 Syntax error, command unrecognized\r\n250 OK\r\n" },
  { "/smtp/server/bad/eight-bit-verb", NULL, S ("\xc3\xa9\r\nQUIT\r\n"),
    "500 Syntax error, command unrecognized\r\n" BYE },
  { "/smtp/server/bad/after-quit-ignored", EHLO, S ("QUIT\r\nNOOP\r\nRSET\r\n"), BYE },
  { "/smtp/server/bad/http-request", NULL, S ("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
    "500 Syntax error, command unrecognized: GET\r\n500 Syntax error, command unrecognized: HOST:\r\n"
    "500 Syntax error: empty command\r\n" },
};

static void
test_exchange (gconstpointer data)
{
  const Exchange *ex = data;
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *got = NULL;
  g_autoptr(GByteArray) s_stream = NULL;

  if (ex->prelude != NULL)
    g_free (pl_test_dialogue_say (&d->talk, ex->prelude));
  got = pl_test_dialogue_say_len (&d->talk, ex->input, ex->input_len);
  g_assert_cmpstr (got, ==, ex->expected);
  /* Only a complete DATA, answered 250, stores anything. */
  g_assert_cmpuint (d->world->deliveries->len, ==,
                    g_strstr_len (got, -1, ACCEPTED) != NULL ? 1 : 0);
  s_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_SERVER);
  g_assert_cmpmem (s_stream->data, s_stream->len, d->talk.output->data, d->talk.output->len);
}

/* The textbook's session, end to end ---------------------------------------------------- */

typedef struct {
  const char *say;
  const char *reply;
} Step;

/* Kurose & Ross's figure, with hamburger.edu as b.example. */
static const Step textbook_steps[] = {
  { "HELO crepes.fr\r\n", "250 mail.b.example Hello crepes.fr, pleased to meet you\r\n" },
  { "MAIL FROM: <alice@crepes.fr>\r\n", "250 alice@crepes.fr ... Sender ok\r\n" },
  { "RCPT TO: <bob@b.example>\r\n", BOB_OK },
  { "DATA\r\n", GO_AHEAD },
  { "Do you like ketchup?\r\n", "" },
  { "How about pickles?\r\n", "" },
  { ".\r\n", ACCEPTED },
  { "QUIT\r\n", BYE },
};

static void
test_textbook_session (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *greeting = g_strndup ((const char *) d->talk.output->data, d->talk.output->len);
  g_autofree char *message = NULL;
  PlTestSmtpDelivery *got;

  g_assert_cmpstr (greeting, ==, GREETING);
  for (gsize i = 0; i < G_N_ELEMENTS (textbook_steps); i++)
    {
      pl_test_dialogue_expect (&d->talk, textbook_steps[i].say, textbook_steps[i].reply);
      g_assert_cmpint (pl_engine_is_finished (d->talk.server), ==, i + 1 == G_N_ELEMENTS (textbook_steps));
    }
  g_assert_false (pl_engine_is_failed (d->talk.server));
  g_assert_cmpstr (d->talk.recorder->states->str, ==,
                   "CONNECTED>READY;READY>MAIL;MAIL>RCPT;RCPT>DATA;DATA>READY;READY>CLOSED;");
  g_assert_cmpint (pl_smtp_server_get_state (PL_SMTP_SERVER (d->talk.server)), ==, PL_SMTP_SERVER_CLOSED);
  g_assert_cmpuint (pl_smtp_server_get_n_delivered (PL_SMTP_SERVER (d->talk.server)), ==, 1);
  g_assert_cmpstr (pl_smtp_server_get_helo (PL_SMTP_SERVER (d->talk.server)), ==, "crepes.fr");
  g_assert_null (pl_smtp_server_get_auth_user (PL_SMTP_SERVER (d->talk.server)));

  got = delivery (d, 0);
  g_assert_cmpstr (got->mail_from, ==, "alice@crepes.fr");
  g_assert_cmpstrv (got->recipients, ((const char *const[]) { "bob@b.example", NULL }));
  g_assert_cmpstr (got->helo, ==, "crepes.fr");
  g_assert_cmpstr (got->client_address, ==, "127.0.0.1");
  g_assert_cmpstr (got->id, ==, "1");
  g_assert_null (got->auth_user);
  g_assert_false (got->trusted);
  message = pl_test_smtp_delivered_text (d->world, 0);
  g_assert_cmpstr (message, ==,
                   "Received: from crepes.fr (127.0.0.1)\r\n"
                   "\tby mail.b.example (Postlab) with SMTP id 1\r\n"
                   "\tfor <bob@b.example>; " NOW "\r\n"
                   "Do you like ketchup?\r\nHow about pickles?\r\n");
}

/* The Received: header, exactly (RFC 5321 4.4) --------------------------------------------- */

typedef struct {
  const char *path;
  gboolean    no_address;
  guint       next_id;
  const char *input;      /* after the greeting; one message */
  const char *received;
} ReceivedCase;

static const ReceivedCase received_cases[] = {
  { "/smtp/server/received/esmtp-one-recipient", FALSE, 0,
    RCPT "DATA\r\nx\r\n.\r\n",
    "Received: from a.example (127.0.0.1)\r\n\tby mail.b.example (Postlab) with ESMTP id 1\r\n"
    "\tfor <bob@b.example>; " NOW "\r\n" },
  { "/smtp/server/received/two-recipients-no-for", FALSE, 0,
    RCPT "RCPT TO:<postmaster@b.example>\r\nDATA\r\nx\r\n.\r\n",
    "Received: from a.example (127.0.0.1)\r\n\tby mail.b.example (Postlab) with ESMTP id 1;\r\n"
    "\t" NOW "\r\n" },
  { "/smtp/server/received/esmtpa-and-driver-id", FALSE, 7,
    AUTHED "MAIL FROM:<alice@a.example>\r\nRCPT TO:<carol@c.example>\r\nDATA\r\nx\r\n.\r\n",
    "Received: from a.example (127.0.0.1)\r\n\tby mail.b.example (Postlab) with ESMTPA id Q7\r\n"
    "\tfor <carol@c.example>; " NOW "\r\n" },
  { "/smtp/server/received/helo-smtp", FALSE, 0,
    HELO "MAIL FROM:<>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nx\r\n.\r\n",
    "Received: from a.example (127.0.0.1)\r\n\tby mail.b.example (Postlab) with SMTP id 1\r\n"
    "\tfor <bob@b.example>; " NOW "\r\n" },
  { "/smtp/server/received/no-client-address", TRUE, 0,
    RCPT "DATA\r\nx\r\n.\r\n",
    "Received: from a.example (unknown)\r\n\tby mail.b.example (Postlab) with ESMTP id 1\r\n"
    "\tfor <bob@b.example>; " NOW "\r\n" },
  { "/smtp/server/received/second-message-counts", FALSE, 0,
    RCPT "DATA\r\nfirst\r\n.\r\nMAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nx\r\n.\r\n",
    "Received: from a.example (127.0.0.1)\r\n\tby mail.b.example (Postlab) with ESMTP id 2\r\n"
    "\tfor <bob@b.example>; " NOW "\r\n" },
};

static void
test_received (gconstpointer data)
{
  const ReceivedCase *rc = data;
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Dialogue) d = NULL;
  g_autofree char *message = NULL;
  g_autofree char *expected = g_strconcat (rc->received, "x\r\n", NULL);

  if (rc->no_address)
    config.client_address = NULL;
  d = dialogue_new_full (&config);
  d->world->next_id = rc->next_id;
  g_free (pl_test_dialogue_say (&d->talk, rc->input));
  g_assert_cmpuint (d->world->deliveries->len, >=, 1);
  message = pl_test_smtp_delivered_text (d->world, d->world->deliveries->len - 1);
  g_assert_cmpstr (message, ==, expected);
}

/* The message as stored: dot-unstuffed, CRLF line ends whatever the client sent. */
static void
test_unstuffing (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *message = NULL;
  g_autoptr(GPtrArray) data = NULL;
  PlEvent *event;
  static const char content[] = "..\r\n...x\r\n.y\r\nbare\nlf\nend\r\n";

  g_free (pl_test_dialogue_say (&d->talk, RCPT "DATA\r\n"));
  pl_test_dialogue_expect (&d->talk, content, "");
  pl_test_dialogue_expect (&d->talk, ".\r\n", ACCEPTED);
  message = pl_test_smtp_delivered_text (d->world, 0);
  g_assert_true (g_str_has_suffix (message, "\r\n.\r\n..x\r\ny\r\nbare\r\nlf\r\nend\r\n"));

  /* One DATA event: the octets as sent, the text un-stuffed. */
  data = events_of (d, PL_EVENT_DATA);
  g_assert_cmpuint (data->len, ==, 1);
  event = data->pdata[0];
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpmem (g_bytes_get_data (event->octets, NULL), g_bytes_get_size (event->octets),
                   "..\r\n...x\r\n.y\r\nbare\nlf\nend\r\n.\r\n", sizeof content - 1 + 3);
  g_assert_cmpstr (event->text, ==, ".\n..x\n.y\nbare\nlf\nend\n.");
  g_assert_null (event->verb);
}

/* Limits ------------------------------------------------------------------------------------- */

/* 101 recipients: 100 accepted, 452 for the extra (RFC 5321 4.5.3.1.8 and .10), the message goes to 100. */
static void
test_too_many_recipients (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) rcpts = g_string_new (NULL);
  g_autoptr(GString) expected = g_string_new (NULL);
  g_autofree char *got = NULL;

  g_free (pl_test_dialogue_say (&d->talk, MAIL));
  for (guint i = 0; i < 101; i++)
    {
      g_string_append (rcpts, "RCPT TO:<bob@b.example>\r\n");
      g_string_append (expected, i < 100 ? BOB_OK : "452 Too many recipients (at most 100 per message)\r\n");
    }
  got = pl_test_dialogue_say (&d->talk, rcpts->str);
  g_assert_cmpstr (got, ==, expected->str);
  /* The extra never reached the policy. */
  g_assert_cmpuint (d->world->n_recipient_checks, ==, 100);
  pl_test_dialogue_expect (&d->talk, "DATA\r\nx\r\n.\r\n", GO_AHEAD ACCEPTED);
  g_assert_cmpuint (g_strv_length (delivery (d, 0)->recipients), ==, 100);
}

static void
test_max_recipients_config (void)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Dialogue) d = NULL;

  config.max_recipients = 2;
  d = dialogue_new_full (&config);
  g_free (pl_test_dialogue_say (&d->talk, MAIL));
  pl_test_dialogue_expect (&d->talk, "RCPT TO:<bob@b.example>\r\nRCPT TO:<carol@b.example>\r\nRCPT TO:<bob@b.example>\r\n"
                   "RCPT TO:<bob@b.example>\r\n",
                   BOB_OK "550 carol@b.example ... No such user here\r\n" BOB_OK
                   "452 Too many recipients (at most 2 per message)\r\n");
}

/*
 * A message over SIZE: read to its end without keeping more than the
 * limit, then 552; nothing is stored and the session goes on.
 */
static void
test_message_too_big (void)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Dialogue) d = NULL;
  g_autoptr(GString) body = g_string_new (NULL);
  g_autoptr(GPtrArray) data = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GByteArray) c_stream = NULL;
  g_autofree char *ehlo = NULL;
  gsize kept;

  config.max_message_size = 1000;
  d = dialogue_new_full (&config);
  ehlo = pl_test_dialogue_say (&d->talk, EHLO);
  g_assert_nonnull (strstr (ehlo, "250-SIZE 1000\r\n"));
  pl_test_dialogue_expect (&d->talk, "MAIL FROM:<alice@a.example> SIZE=1001\r\n",
                   "552 Message size exceeds fixed maximum message size (1000 octets)\r\n");
  pl_test_dialogue_expect (&d->talk, "MAIL FROM:<alice@a.example> SIZE=1000\r\nRCPT TO:<bob@b.example>\r\nDATA\r\n",
                   SENDER_OK BOB_OK GO_AHEAD);
  /* 50 lines of 98 octets and CRLF: 5000 octets, in pieces. */
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *line = g_strnfill (98, (char) ('a' + i % 26));
      g_string_append_printf (body, "%s\r\n", line);
    }
  for (gsize pos = 0; pos < body->len; pos += 333)
    {
      g_autofree char *got = pl_test_dialogue_say_len (&d->talk, body->str + pos, MIN (333, body->len - pos));
      g_assert_cmpstr (got, ==, "");
    }
  pl_test_dialogue_expect (&d->talk, ".\r\n", "552 Message size exceeds fixed maximum message size (1000 octets)\r\n");
  g_assert_cmpuint (d->world->deliveries->len, ==, 0);
  g_assert_cmpint (pl_smtp_server_get_state (PL_SMTP_SERVER (d->talk.server)), ==, PL_SMTP_SERVER_READY);

  /* The event holds what was kept (10 whole lines) and ".", a note what was not. */
  data = events_of (d, PL_EVENT_DATA);
  g_assert_cmpuint (data->len, ==, 1);
  kept = g_bytes_get_size (((PlEvent *) data->pdata[0])->octets);
  g_assert_cmpuint (kept, ==, 1000 + 3);
  notes = events_of (d, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "message over the 1000-octet limit: 4000 octets read and not kept");
  c_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_CLIENT);
  g_assert_cmpuint (c_stream->len + 4000, ==, d->talk.input->len);

  /* The session goes on. */
  pl_test_dialogue_expect (&d->talk, "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nsmall\r\n.\r\n",
                   SENDER_OK BOB_OK GO_AHEAD ACCEPTED);
}

/* A 2,000-octet command line: 500, the rest discarded, the session goes on; the event holds the kept part. */
static void
test_command_line_too_long (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) line = g_string_new ("MAIL FROM:<");
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  PlEvent *command;

  while (line->len < 1998)
    g_string_append_c (line, 'x');
  g_string_append (line, "\r\n");
  g_free (pl_test_dialogue_say (&d->talk, EHLO));
  pl_test_dialogue_expect (&d->talk, line->str, "500 Line too long\r\n");
  pl_test_dialogue_expect (&d->talk, "MAIL FROM:<alice@a.example>\r\n", SENDER_OK);

  commands = events_of (d, PL_EVENT_COMMAND);
  command = commands->pdata[1];
  g_assert_cmpmem (g_bytes_get_data (command->octets, NULL), g_bytes_get_size (command->octets), line->str, 1000);
  g_assert_cmpstr (command->verb, ==, "MAIL");
  notes = events_of (d, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "client line longer than 1000 octets: 1000 more octets discarded");
}

/* The same line arriving in small pieces: nothing is said until its end. */
static void
test_command_line_too_long_in_pieces (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();

  for (guint i = 0; i < 500; i++)
    pl_test_dialogue_expect (&d->talk, "0123456789", "");
  pl_test_dialogue_expect (&d->talk, "\r\nQUIT\r\n", "500 Line too long\r\n" BYE);
}

/* A message line over 1000 octets (RFC 5321 4.5.3.1.6): read to ".", then 500, nothing stored. */
static void
test_data_line_too_long (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *line = g_strnfill (2000, 'x');
  g_autoptr(GPtrArray) notes = NULL;

  g_free (pl_test_dialogue_say (&d->talk, RCPT "DATA\r\nSubject: long\r\n\r\n"));
  pl_test_dialogue_expect (&d->talk, line, "");
  pl_test_dialogue_expect (&d->talk, "\r\nshort\r\n.\r\n", "500 Line too long: message lines are limited to 1000 octets\r\n");
  g_assert_cmpuint (d->world->deliveries->len, ==, 0);
  notes = events_of (d, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "1 message line longer than 1000 octets: 1002 octets discarded");
  pl_test_dialogue_expect (&d->talk, "NOOP\r\n", "250 OK\r\n");
}

/* Pipelining (RFC 2920) ------------------------------------------------------------------------ */

static const char pipelined_input[] =
  "EHLO a.example\r\nMAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\n"
  "RCPT TO:<carol@b.example>\r\nDATA\r\nSubject: hi\r\n\r\n..dots\r\n.\r\nQUIT\r\n";
static const char pipelined_output[] =
  GREETING EHLO_REPLY SENDER_OK BOB_OK "550 carol@b.example ... No such user here\r\n"
  GO_AHEAD ACCEPTED BYE;

/* A whole transaction in one write gets every reply, in order; and the same cut in two anywhere. */
static void
test_pipelined_transaction (void)
{
  for (gsize split = 0; split < sizeof pipelined_input; split++)
    {
      g_autoptr(Dialogue) d = dialogue_new ();
      g_autofree char *message = NULL;

      g_free (pl_test_dialogue_say_len (&d->talk, pipelined_input, split));
      g_free (pl_test_dialogue_say_len (&d->talk, pipelined_input + split, sizeof pipelined_input - 1 - split));
      g_assert_cmpmem (d->talk.output->data, d->talk.output->len, pipelined_output, sizeof pipelined_output - 1);
      g_assert_true (pl_engine_is_finished (d->talk.server));
      g_assert_false (pl_engine_is_failed (d->talk.server));
      message = pl_test_smtp_delivered_text (d->world, 0);
      g_assert_true (g_str_has_suffix (message, "Subject: hi\r\n\r\n.dots\r\n"));
    }
  /* And octet by octet. */
  {
    g_autoptr(Dialogue) d = dialogue_new ();

    for (gsize i = 0; i + 1 < sizeof pipelined_input; i++)
      g_free (pl_test_dialogue_say_len (&d->talk, pipelined_input + i, 1));
    g_assert_cmpmem (d->talk.output->data, d->talk.output->len, pipelined_output, sizeof pipelined_output - 1);
  }
}

/* Bare LF line ends throughout: accepted, noted once, stored with CRLF. */
static void
test_bare_lf (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) notes = NULL;
  g_autofree char *message = NULL;

  pl_test_dialogue_expect (&d->talk, "EHLO a.example\nMAIL FROM:<alice@a.example>\nRCPT TO:<bob@b.example>\nDATA\n"
                   "line one\n..two\n.\nQUIT\n",
                   EHLO_REPLY SENDER_OK BOB_OK GO_AHEAD ACCEPTED BYE);
  notes = events_of (d, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "client ends its lines with a bare LF, not CRLF (RFC 5321 2.3.8); accepted");
  message = pl_test_smtp_delivered_text (d->world, 0);
  g_assert_true (g_str_has_suffix (message, NOW "\r\nline one\r\n.two\r\n"));
}

/* Thousands of pipelined commands: the pending output stops growing near 64 KiB until it is sent. */
static void
test_pipelined_flood (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) input = g_string_new (NULL);
  gsize pending;
  g_autoptr(GPtrArray) replies = NULL;

  for (guint i = 0; i < 20000; i++)
    g_string_append (input, "NOOP\r\n");
  pl_engine_feed (d->talk.server, (const guint8 *) input->str, input->len);
  pl_engine_get_output (d->talk.server, &pending);
  g_assert_cmpuint (pending, >=, 64 * 1024);
  g_assert_cmpuint (pending, <, 64 * 1024 + 100);
  pl_test_take_output (d->talk.server, NULL);
  replies = events_of (d, PL_EVENT_REPLY);
  g_assert_cmpuint (replies->len, ==, 1 + 20000);
}

/* Lost connections ------------------------------------------------------------------------------- */

/* A disconnect in the middle of DATA: nothing delivered, the partial content shown. */
static void
test_disconnect_in_data (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) data = NULL;
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GByteArray) c_stream = NULL;
  PlEvent *event;

  g_free (pl_test_dialogue_say (&d->talk, RCPT "DATA\r\nSubject: x\r\n\r\npartial li"));
  pl_engine_connection_lost (d->talk.server);

  g_assert_cmpuint (d->world->deliveries->len, ==, 0);
  g_assert_true (pl_engine_is_finished (d->talk.server));
  g_assert_true (pl_engine_is_failed (d->talk.server));
  g_assert_cmpint (pl_smtp_server_get_state (PL_SMTP_SERVER (d->talk.server)), ==, PL_SMTP_SERVER_CLOSED);
  data = events_of (d, PL_EVENT_DATA);
  g_assert_cmpuint (data->len, ==, 1);
  event = data->pdata[0];
  g_assert_cmpmem (g_bytes_get_data (event->octets, NULL), g_bytes_get_size (event->octets),
                   "Subject: x\r\n\r\npartial li", 24);
  notes = events_of (d, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 1);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "connection lost in the middle of DATA after 24 octets of message: nothing delivered");
  c_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_CLIENT);
  g_assert_cmpmem (c_stream->data, c_stream->len, d->talk.input->data, d->talk.input->len);

  /* Lost again, or fed after: nothing more happens. */
  pl_engine_connection_lost (d->talk.server);
  pl_engine_feed (d->talk.server, (const guint8 *) ".\r\n", 3);
  g_assert_cmpuint (pl_test_take_output (d->talk.server, NULL), ==, 0);
  g_assert_cmpuint (d->world->deliveries->len, ==, 0);
}

/* Lines read but never answered (the output was full) are shown, not acted on: no delivery. */
static void
test_disconnect_with_unanswered (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GByteArray) c_stream = NULL;

  for (guint i = 0; i < 12000; i++)
    g_string_append (input, "NOOP\r\n");
  g_string_append (input, "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nx\r\n.\r\nQU");
  g_free (pl_test_dialogue_say (&d->talk, EHLO));
  /* Fed, but nothing sent: the server stops reading once its output is full. */
  g_byte_array_append (d->talk.input, (const guint8 *) input->str, (guint) input->len);
  pl_engine_feed (d->talk.server, (const guint8 *) input->str, input->len);
  pl_engine_connection_lost (d->talk.server);

  g_assert_cmpuint (d->world->deliveries->len, ==, 0);
  c_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_CLIENT);
  g_assert_cmpmem (c_stream->data, c_stream->len, d->talk.input->data, d->talk.input->len);
  notes = events_of (d, PL_EVENT_NOTE);
  g_assert_cmpuint (notes->len, ==, 2);
  g_assert_cmpstr (((PlEvent *) notes->pdata[0])->text, ==,
                   "connection lost in the middle of a line; the last 2 octets were not a command");
  g_assert_true (g_str_has_prefix (((PlEvent *) notes->pdata[1])->text, "connection lost: "));
  g_assert_true (g_str_has_suffix (((PlEvent *) notes->pdata[1])->text, " commands never answered"));
}

/* Policy and delivery through the callbacks ------------------------------------------------------ */

typedef struct {
  const char *path;
  gboolean    trusted;
  gboolean    set_peer;
  gboolean    login;
  const char *expected;
} RelayCase;

#define RELAY_DENIED "550 carol@c.example ... Relay access denied\r\n"
#define RELAY_OK     "250 carol@c.example ... Recipient ok (will relay)\r\n"

static const RelayCase relay_cases[] = {
  { "/smtp/server/relay/denied-from-outside", FALSE, FALSE, FALSE, RELAY_DENIED },
  { "/smtp/server/relay/trusted-peer", TRUE, FALSE, FALSE, RELAY_OK },
  { "/smtp/server/relay/trusted-by-set-peer", FALSE, TRUE, FALSE, RELAY_OK },
  { "/smtp/server/relay/authenticated", FALSE, FALSE, TRUE, RELAY_OK },
};

/* The relay policy, read off the replies. */
static void
test_relay_replies (gconstpointer data)
{
  const RelayCase *rc = data;
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Dialogue) d = NULL;
  g_autofree char *got = NULL;

  config.peer_trusted = rc->trusted;
  d = dialogue_new_full (&config);
  if (rc->set_peer)
    pl_smtp_server_set_peer (PL_SMTP_SERVER (d->talk.server), "[::1]:40000", TRUE);
  g_free (pl_test_dialogue_say (&d->talk, rc->login ? AUTHED "MAIL FROM:<alice@a.example>\r\n" : MAIL));
  got = pl_test_dialogue_say (&d->talk, "RCPT TO:<carol@c.example>\r\n");
  g_assert_cmpstr (got, ==, rc->expected);
  if (g_str_has_prefix (got, "250"))
    {
      PlTestSmtpDelivery *got_delivery;
      g_autofree char *message = NULL;

      pl_test_dialogue_expect (&d->talk, "DATA\r\nx\r\n.\r\n", GO_AHEAD ACCEPTED);
      got_delivery = delivery (d, 0);
      g_assert_cmpint (got_delivery->trusted, ==, rc->trusted || rc->set_peer);
      g_assert_cmpstr (got_delivery->auth_user, ==, rc->login ? "alice" : NULL);
      message = pl_test_smtp_delivered_text (d->world, 0);
      g_assert_true (g_str_has_prefix (message, rc->set_peer ? "Received: from a.example ([::1]:40000)\r\n"
                                                             : "Received: from a.example (127.0.0.1)\r\n"));
    }
}

/* deliver() says no: the client hears it, never 250, and nothing counts as delivered. */
static void
test_deliver_refuses (void)
{
  static const struct {
    guint       code;
    gboolean    null;
    const char *reply;
  } cases[] = {
    { 451, FALSE, "451 Requested action aborted: local error in processing (disk full)\r\n" },
    { 554, FALSE, "554 Transaction failed (quarantined)\r\n" },
    { 0, TRUE, "451 Requested action aborted: local error in processing\r\n" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(Dialogue) d = dialogue_new ();
      g_autofree char *got = NULL;

      if (cases[i].null)
        d->world->deliver_null = TRUE;
      else
        d->world->deliver_reply = pl_smtp_reply_new (cases[i].code, "%s", cases[i].code == 451
                                                     ? "Requested action aborted: local error in processing (disk full)"
                                                     : "Transaction failed (quarantined)");
      g_free (pl_test_dialogue_say (&d->talk, RCPT "DATA\r\n"));
      got = pl_test_dialogue_say (&d->talk, "x\r\n.\r\n");
      g_assert_cmpstr (got, ==, cases[i].reply);
      g_assert_null (g_strstr_len ((const char *) d->talk.output->data, d->talk.output->len, ACCEPTED));
      g_assert_cmpuint (pl_smtp_server_get_n_delivered (PL_SMTP_SERVER (d->talk.server)), ==, 0);
      /* The transaction is over; a new one may start. */
      pl_test_dialogue_expect (&d->talk, "MAIL FROM:<alice@a.example>\r\n", SENDER_OK);
    }
}

/* A callback that answers nonsense is not believed. */
static void
test_deliver_bad_code (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();

  d->world->deliver_reply = pl_smtp_reply_new (354, "go on");
  g_free (pl_test_dialogue_say (&d->talk, RCPT "DATA\r\n"));
  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_WARNING, "*deliver gave reply code 354*");
  pl_test_dialogue_expect (&d->talk, "x\r\n.\r\n", "451 Requested action aborted: local error in processing\r\n");
  g_test_assert_expected_messages ();
}

/* AUTH: the delay, events, configuration ------------------------------------------------------- */

static void
test_auth_delay (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();

  g_free (pl_test_dialogue_say (&d->talk, EHLO));
  pl_test_dialogue_expect (&d->talk, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n", AUTH_BAD);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 250);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 0);
  g_assert_null (pl_smtp_server_get_auth_user (PL_SMTP_SERVER (d->talk.server)));
  pl_test_dialogue_expect (&d->talk, "AUTH LOGIN\r\nYWxpY2U=\r\nd3Jvbmc=\r\n", "334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n" AUTH_BAD);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 250);
  pl_test_dialogue_expect (&d->talk, "AUTH PLAIN AGJvYgBodW5ncnk=\r\n", AUTH_OK);
  g_assert_cmpuint (pl_engine_take_delay (d->talk.server), ==, 0);
  g_assert_cmpstr (pl_smtp_server_get_auth_user (PL_SMTP_SERVER (d->talk.server)), ==, "bob");
  g_assert_cmpuint (d->world->n_password_checks, ==, 3);
  g_assert_cmpstr (d->talk.recorder->states->str, ==,
                   "CONNECTED>READY;READY>AUTH;AUTH>READY;READY>AUTH;AUTH>READY;READY>AUTH;AUTH>READY;");
}

/* AUTH not offered: not in EHLO's list, and 502. */
static void
test_auth_not_offered (void)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Dialogue) d = NULL;

  config.offer_auth = FALSE;
  d = dialogue_new_full (&config);
  pl_test_dialogue_expect (&d->talk, EHLO, "250-mail.b.example Hello a.example, pleased to meet you\r\n"
                   "250-SIZE 10485760\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 HELP\r\n");
  pl_test_dialogue_expect (&d->talk, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n", "502 Command not implemented: AUTH is not offered here\r\n");
  pl_test_dialogue_expect (&d->talk, "MAIL FROM:<alice@a.example> AUTH=<>\r\n",
                   "555 MAIL FROM parameter AUTH not recognized or not implemented\r\n");
  g_assert_cmpuint (d->world->n_password_checks, ==, 0);
}

/* The transcript shows the base64 decoded; the octets stay exact. */
static void
test_auth_events (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  PlEvent *event;

  g_free (pl_test_dialogue_say (&d->talk, EHLO "AUTH PLAIN AGFsaWNlAHdyb25n\r\nAUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n"));
  commands = events_of (d, PL_EVENT_COMMAND);
  replies = events_of (d, PL_EVENT_REPLY);
  g_assert_cmpuint (commands->len, ==, 5);

  event = commands->pdata[1];
  g_assert_cmpstr (event->verb, ==, "AUTH");
  g_assert_cmpstr (event->args, ==, "PLAIN AGFsaWNlAHdyb25n");
  g_assert_cmpstr (event->text, ==, "AUTH PLAIN AGFsaWNlAHdyb25n  (decodes to: \"\" / \"alice\" / \"wrong\")");
  assert_octets (event, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n");
  event = commands->pdata[2];
  g_assert_cmpstr (event->text, ==, "AUTH LOGIN");
  event = commands->pdata[3];
  g_assert_null (event->verb);
  g_assert_cmpstr (event->text, ==, "YWxpY2U=  (decodes to: \"alice\")");
  event = commands->pdata[4];
  g_assert_cmpstr (event->text, ==, "c2VjcmV0  (decodes to: \"secret\")");

  event = replies->pdata[3];
  g_assert_cmpstr (event->status, ==, "334");
  g_assert_cmpstr (event->text, ==, "334 VXNlcm5hbWU6  (decodes to: \"Username:\")");
  event = replies->pdata[4];
  g_assert_cmpstr (event->text, ==, "334 UGFzc3dvcmQ6  (decodes to: \"Password:\")");
  assert_octets (event, "334 UGFzc3dvcmQ6\r\n");
  event = replies->pdata[5];
  g_assert_cmpstr (event->status, ==, "235");
}

/* Events ----------------------------------------------------------------------------------------- */

/* Each direction's events, concatenated, are that direction's bytes (less a long line's discarded tail). */
static void
test_event_octets (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(GByteArray) c_stream = NULL;
  g_autoptr(GByteArray) s_stream = NULL;
  g_autoptr(GByteArray) c_expected = g_byte_array_new ();
  gsize long_start;

  g_string_append (input, "EHLO a.example\n\r\nxyzzy\r\n");
  g_string_append_len (input, "no\0op\r\n", 7);
  long_start = input->len;
  for (guint i = 0; i < 2000; i++)
    g_string_append_c (input, 'z');
  g_string_append (input, "\r\n");
  g_string_append (input, "AUTH LOGIN\r\nYWxpY2U=\r\nc2VjcmV0\r\n");
  g_string_append (input, pipelined_input);
  g_free (pl_test_dialogue_say_len (&d->talk, input->str, input->len));

  s_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_SERVER);
  g_assert_cmpmem (s_stream->data, s_stream->len, d->talk.output->data, d->talk.output->len);
  g_byte_array_append (c_expected, (const guint8 *) input->str, (guint) (long_start + 1000));
  g_byte_array_append (c_expected, (const guint8 *) input->str + long_start + 2002,
                       (guint) (input->len - long_start - 2002));
  c_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_CLIENT);
  g_assert_cmpmem (c_stream->data, c_stream->len, c_expected->data, c_expected->len);

  /* Wire order: the greeting, then each command (or message) followed by what it gets. */
  {
    PlDirection last = PL_DIR_CLIENT;

    for (guint i = 0; i < d->talk.recorder->events->len; i++)
      {
        PlEvent *event = d->talk.recorder->events->pdata[i];

        if (event->kind == PL_EVENT_NOTE)
          continue;
        g_assert_cmpint (event->dir, !=, last);
        last = event->dir;
      }
    g_assert_cmpint (last, ==, PL_DIR_SERVER);
  }
}

/* What each event says: verb and args as sent, status, a multi-line reply as one unit. */
static void
test_event_fields (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autoptr(GPtrArray) commands = NULL;
  g_autoptr(GPtrArray) replies = NULL;
  g_autoptr(GPtrArray) data = NULL;
  PlEvent *event;

  g_free (pl_test_dialogue_say_len (&d->talk, pipelined_input, sizeof pipelined_input - 1));
  commands = events_of (d, PL_EVENT_COMMAND);
  replies = events_of (d, PL_EVENT_REPLY);
  data = events_of (d, PL_EVENT_DATA);
  g_assert_cmpuint (commands->len, ==, 6);
  g_assert_cmpuint (replies->len, ==, 8);
  g_assert_cmpuint (data->len, ==, 1);

  event = commands->pdata[1];
  g_assert_cmpint (event->kind, ==, PL_EVENT_COMMAND);
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpstr (event->verb, ==, "MAIL");
  g_assert_cmpstr (event->args, ==, "FROM:<alice@a.example>");
  g_assert_cmpstr (event->text, ==, "MAIL FROM:<alice@a.example>");

  event = replies->pdata[0];
  g_assert_cmpstr (event->status, ==, "220");
  event = replies->pdata[1];
  g_assert_cmpstr (event->status, ==, "250");
  g_assert_cmpstr (event->text, ==, "250-mail.b.example Hello a.example, pleased to meet you\n250-SIZE 10485760\n"
                   "250-PIPELINING\n250-8BITMIME\n250-AUTH PLAIN LOGIN\n250 HELP");
  event = replies->pdata[4];
  g_assert_cmpstr (event->status, ==, "550");
  event = replies->pdata[5];
  g_assert_cmpstr (event->status, ==, "354");

  event = data->pdata[0];
  g_assert_cmpint (event->kind, ==, PL_EVENT_DATA);
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpstr (event->text, ==, "Subject: hi\n\n.dots\n.");
  /* DATA's event comes after the 354 and before the 250. */
  g_assert_true (d->talk.recorder->events->pdata[11] == (gpointer) event);

  /* The inspector can explain every command and reply of the session. */
  for (guint i = 0; i < d->talk.recorder->events->len; i++)
    {
      PlEvent *any = d->talk.recorder->events->pdata[i];

      if (any->kind == PL_EVENT_COMMAND || any->kind == PL_EVENT_REPLY)
        g_assert_nonnull (pl_explain_event (PL_PROTOCOL_SMTP, any));
    }
}

/* Greeting and configuration ------------------------------------------------------------------------ */

static void
test_greeting_config (void)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  g_autoptr(Dialogue) d = NULL;
  static const char expected[] = "220 hamburger.edu\r\n";

  config.greeting = "hamburger.edu";
  d = dialogue_new_full (&config);
  g_assert_cmpmem (d->talk.output->data, d->talk.output->len, expected, sizeof expected - 1);
  g_assert_cmpint (pl_engine_get_protocol (d->talk.server), ==, PL_PROTOCOL_SMTP);
  g_assert_cmpstr (pl_engine_get_state_name (d->talk.server), ==, "CONNECTED");
}

/* The null sender (a bounce) is delivered with an empty reverse-path. */
static void
test_null_sender (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();

  pl_test_dialogue_expect (&d->talk, EHLO "MAIL FROM:<>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\nbounce\r\n.\r\n",
                   EHLO_REPLY "250 <> ... Sender ok\r\n" BOB_OK GO_AHEAD ACCEPTED);
  g_assert_cmpstr (delivery (d, 0)->mail_from, ==, "");
}

static void
test_8bitmime_envelope (void)
{
  g_autoptr(Dialogue) d = dialogue_new ();
  g_autofree char *message = NULL;

  g_free (pl_test_dialogue_say (&d->talk, EHLO "MAIL FROM:<alice@a.example> BODY=8BITMIME\r\nRCPT TO:<bob@b.example>\r\n"
                        "DATA\r\nSubject: caf\xc3\xa9\r\n\r\n\xc3\xa9\r\n.\r\n"));
  g_assert_true (delivery (d, 0)->body_8bitmime);
  message = pl_test_smtp_delivered_text (d->world, 0);
  g_assert_true (g_str_has_suffix (message, "\r\nSubject: caf\xc3\xa9\r\n\r\n\xc3\xa9\r\n"));
}

/*
 * Random input, run as an ordinary test (a fuzz target without a fuzzer):
 * whatever arrives, every reply is a well-formed SMTP reply, the events add
 * up to the output, and a message is stored only where 250 followed a ".".
 */
static void
test_random_input (void)
{
  static const char *const pieces[] = {
    "EHLO a.example", "HELO x", "MAIL FROM:<alice@a.example>", "MAIL FROM:<>", "RCPT TO:<bob@b.example>",
    "RCPT TO:<carol@c.example>", "DATA", "RSET", "NOOP", "VRFY bob", "QUIT", "AUTH PLAIN", "AUTH LOGIN",
    "AGFsaWNlAHNlY3JldA==", "YWxpY2U=", "*", " SIZE=99", " BODY=8BITMIME", "\r\n", "\r\n", "\r\n", "\n",
    "\r", ".", "..", "\t", "\x01", "\xff", "<", ">", "@", ":", "x", "\r\n.\r\n", "\r\n.\r\n",
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5321);
  guint n_delivered = 0;

  for (guint round = 0; round < 300; round++)
    {
      g_autoptr(Dialogue) d = dialogue_new ();
      g_autoptr(GByteArray) input = g_byte_array_new ();
      g_autoptr(GByteArray) s_stream = NULL;
      g_autoptr(GPtrArray) replies = NULL;
      guint n_pieces = (guint) g_rand_int_range (rand, 1, 150);
      guint accepted = 0;

      if (round % 2 == 1)
        g_byte_array_append (input, (const guint8 *) RCPT "DATA\r\n", sizeof (RCPT "DATA\r\n") - 1);
      for (guint i = 0; i < n_pieces; i++)
        {
          const char *piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];

          if (g_rand_int_range (rand, 0, 200) == 0)
            g_byte_array_append (input, (const guint8 *) "\0", 1);
          else if (g_rand_int_range (rand, 0, 300) == 0)
            for (guint k = 0; k < 1100; k++)
              g_byte_array_append (input, (const guint8 *) "L", 1);
          else
            g_byte_array_append (input, (const guint8 *) piece, (guint) strlen (piece));
        }
      pl_test_dialogue_feed_randomly (&d->talk, input->data, input->len, rand);
      if (g_rand_boolean (rand))
        pl_engine_connection_lost (d->talk.server);

      s_stream = pl_test_recorder_concat (d->talk.recorder, PL_DIR_SERVER);
      g_assert_cmpmem (s_stream->data, s_stream->len, d->talk.output->data, d->talk.output->len);
      replies = events_of (d, PL_EVENT_REPLY);
      for (guint i = 0; i < replies->len; i++)
        {
          PlEvent *event = replies->pdata[i];
          gsize len;
          const guint8 *octets = pl_event_get_data (event, &len);
          g_autoptr(PlSmtpReplyAccumulator) acc = pl_smtp_reply_accumulator_new ();
          gsize start = 0;
          gboolean complete = FALSE;

          g_assert_nonnull (event->status);
          /* Each reply event is one whole, well-formed reply. */
          while (start < len)
            {
              const guint8 *lf = memchr (octets + start, '\n', len - start);
              gsize end = (gsize) (lf - octets) + 1;

              g_assert_nonnull (lf);
              g_assert_false (complete);
              complete = pl_smtp_reply_accumulator_add_line (acc, octets + start, end - start, end - start - 2);
              start = end;
            }
          g_assert_true (complete);
          g_assert_false (pl_smtp_reply_accumulator_is_malformed (acc));
          if (i > 0 && strcmp (event->text, "250 Message accepted for delivery") == 0)
            accepted++;
        }
      g_assert_cmpuint (d->world->deliveries->len, ==, accepted);
      n_delivered += accepted;
    }
  /* The noise did reach delivery now and then. */
  g_assert_cmpuint (n_delivered, >, 10);
}

/* A message read in one go and octet by octet ------------------------------------------- */

/*
 * The server takes the ordinary lines of a message many at once when they
 * have arrived together, and any line that needs a look of its own (the
 * "." line, a NUL, a bare LF, a line over the limit, the size limit) one
 * by one: whichever way the octets come, the replies, the events and the
 * message delivered must be the same.
 */
typedef struct {
  const char *path;
  const char *message;   /* after DATA, up to and including its "." line */
  gsize       message_len;
  gsize       max_size;  /* 0: the default */
} DataCase;

#define LINE_100 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
#define LINE_1000 LINE_100 LINE_100 LINE_100 LINE_100 LINE_100 LINE_100 LINE_100 LINE_100 LINE_100 LINE_100

static const DataCase data_cases[] = {
  { "/smtp/server/data/in-one-go/plain", S ("Subject: hi\r\n\r\nHello\r\nBob\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/dots", S ("..leading\r\n...\r\n.x\r\n. \r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/nul", S ("a\r\nb\0c\r\nd\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/bare-lf", S ("a\r\nb\nc\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/lone-cr", S ("a\rb\r\nc\r\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/empty-lines", S ("\r\n\r\n\r\nx\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/line-too-long", S ("a\r\n" LINE_1000 "\r\nb\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/line-at-limit", S ("a\r\n" LINE_100 LINE_100 LINE_100 LINE_100 LINE_100
                                                    LINE_100 LINE_100 LINE_100 LINE_100 "0123456789"
                                                    "0123456789012345678901234567890123456789012345678901"
                                                    "23456789012345678901234567890123456789012345678"
                                                    "\r\nb\r\n.\r\n"), 0 },
  { "/smtp/server/data/in-one-go/over-size", S ("line one\r\nline two\r\n..three\r\nline four\r\n.\r\n"), 24 },
  { "/smtp/server/data/in-one-go/at-size", S ("line one\r\n..line two\r\n.\r\n"), 20 },
  { "/smtp/server/data/in-one-go/bare-lf-end", S ("a\r\nb\r\n.\n"), 0 },
  { "/smtp/server/data/in-one-go/next-command", S ("a\r\n.\r\nQUIT\r\n"), 0 },
};

/* One session: the prelude, DATA, then the case's message fed whole or octet by octet. */
static PlTestSmtpWorld *
run_data_case (const DataCase *c,
               gboolean        octet_by_octet,
               PlTestDialogue *talk)
{
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  PlTestSmtpWorld *world = pl_test_smtp_world_new ();

  if (c->max_size > 0)
    config.max_message_size = c->max_size;
  pl_test_dialogue_init (talk, pl_test_smtp_server_new (world, &config));
  g_free (pl_test_dialogue_say (talk, RCPT "DATA\r\n"));
  if (octet_by_octet)
    for (gsize i = 0; i < c->message_len; i++)
      g_free (pl_test_dialogue_say_len (talk, c->message + i, 1));
  else
    g_free (pl_test_dialogue_say_len (talk, c->message, c->message_len));
  return world;
}

static void
assert_same_events (GPtrArray *events,
                    GPtrArray *others)
{
  g_assert_cmpuint (events->len, ==, others->len);
  for (guint i = 0; i < events->len; i++)
    {
      PlEvent *a = events->pdata[i];
      PlEvent *b = others->pdata[i];
      gsize a_len = 0;
      gsize b_len = 0;
      const guint8 *a_data = pl_event_get_data (a, &a_len);
      const guint8 *b_data = pl_event_get_data (b, &b_len);

      g_assert_cmpint (a->kind, ==, b->kind);
      g_assert_cmpint (a->dir, ==, b->dir);
      g_assert_cmpmem (a_data, a_len, b_data, b_len);
      g_assert_cmpstr (a->text, ==, b->text);
      g_assert_cmpstr (a->status, ==, b->status);
      g_assert_cmpstr (a->verb, ==, b->verb);
      g_assert_cmpstr (a->args, ==, b->args);
    }
}

static void
assert_same_deliveries (PlTestSmtpWorld *world,
                        PlTestSmtpWorld *other)
{
  g_assert_cmpuint (world->deliveries->len, ==, other->deliveries->len);
  for (guint i = 0; i < world->deliveries->len; i++)
    {
      g_autofree char *a = pl_test_smtp_delivered_text (world, i);
      g_autofree char *b = pl_test_smtp_delivered_text (other, i);

      g_assert_cmpstr (a, ==, b);
    }
}

static void
test_data_in_one_go (gconstpointer data)
{
  const DataCase *c = data;
  PlTestDialogue whole;
  PlTestDialogue pieces;
  g_autoptr(PlTestSmtpWorld) whole_world = run_data_case (c, FALSE, &whole);
  g_autoptr(PlTestSmtpWorld) pieces_world = run_data_case (c, TRUE, &pieces);

  /* The same replies, the same events in the same order, the same message delivered (if any). */
  g_assert_cmpmem (whole.output->data, whole.output->len, pieces.output->data, pieces.output->len);
  assert_same_events (whole.recorder->events, pieces.recorder->events);
  assert_same_deliveries (whole_world, pieces_world);
  pl_test_dialogue_clear (&whole);
  pl_test_dialogue_clear (&pieces);
}

/* pl_smtp_server_reset() ---------------------------------------------------------------- */

/*
 * A server reset after a session (with AUTH, a transaction, and half a
 * line left unread) answers the next session exactly as a new one does:
 * the simulator runs the connections of a server on one engine this way.
 */
static void
test_reset_as_new (void)
{
  static const char session[] = AUTHED "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nDATA\r\n"
                                "Subject: one\r\n\r\nbody\r\n..dot\r\n.\r\nNOOP\r\nQUIT\r\n";
  PlSmtpServerConfig config = pl_test_smtp_default_config ();
  PlSmtpServerCallbacks none = { 0 };
  g_autoptr(PlTestSmtpWorld) world = pl_test_smtp_world_new ();
  g_autoptr(PlTestSmtpWorld) fresh_world = pl_test_smtp_world_new ();
  PlTestDialogue reused;
  PlTestDialogue fresh;
  g_autofree char *again = NULL;
  g_autofree char *expected = NULL;
  PlEngine *engine;

  /* A first session, cut off in the middle of a line and of a transaction. */
  pl_test_dialogue_init (&reused, pl_test_smtp_server_new (world, &config));
  g_free (pl_test_dialogue_say (&reused, AUTHED "MAIL FROM:<alice@a.example>\r\nRCPT TO:<bob@b.example>\r\nNOO"));
  engine = g_object_ref (reused.server);
  pl_test_dialogue_clear (&reused);
  g_assert_nonnull (pl_smtp_server_get_auth_user (PL_SMTP_SERVER (engine)));

  /* What would not do for a new engine does not do for a reset one either. */
  g_test_expect_message ("postlab-proto", G_LOG_LEVEL_CRITICAL, "*check_recipient*");
  g_assert_false (pl_smtp_server_reset (PL_SMTP_SERVER (engine), &config, &none, NULL, NULL));
  g_test_assert_expected_messages ();

  /* Reset for another peer, against a new engine for it. */
  config.client_address = "192.0.2.10";
  config.peer_trusted = TRUE;
  g_assert_true (pl_smtp_server_reset (PL_SMTP_SERVER (engine), &config, pl_test_smtp_world_callbacks (),
                                       world, NULL));
  g_assert_false (pl_engine_is_finished (engine));
  g_assert_cmpint (pl_smtp_server_get_state (PL_SMTP_SERVER (engine)), ==, PL_SMTP_SERVER_CONNECTED);
  g_assert_null (pl_smtp_server_get_auth_user (PL_SMTP_SERVER (engine)));
  g_assert_null (pl_smtp_server_get_helo (PL_SMTP_SERVER (engine)));
  g_assert_cmpuint (pl_smtp_server_get_n_delivered (PL_SMTP_SERVER (engine)), ==, 0);
  pl_test_dialogue_init (&reused, engine);
  pl_test_dialogue_init (&fresh, pl_test_smtp_server_new (fresh_world, &config));
  again = pl_test_dialogue_say (&reused, session);
  expected = pl_test_dialogue_say (&fresh, session);
  g_assert_cmpstr (again, ==, expected);
  g_assert_cmpmem (reused.output->data, reused.output->len, fresh.output->data, fresh.output->len);
  assert_same_events (reused.recorder->events, fresh.recorder->events);
  g_assert_cmpuint (world->deliveries->len, ==, 1);
  assert_same_deliveries (world, fresh_world);
  pl_test_dialogue_clear (&reused);
  pl_test_dialogue_clear (&fresh);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (exchanges); i++)
    g_test_add_data_func (exchanges[i].path, &exchanges[i], test_exchange);
  for (gsize i = 0; i < G_N_ELEMENTS (received_cases); i++)
    g_test_add_data_func (received_cases[i].path, &received_cases[i], test_received);
  for (gsize i = 0; i < G_N_ELEMENTS (relay_cases); i++)
    g_test_add_data_func (relay_cases[i].path, &relay_cases[i], test_relay_replies);
  g_test_add_func ("/smtp/server/greeting-config", test_greeting_config);
  g_test_add_func ("/smtp/server/textbook-session", test_textbook_session);
  g_test_add_func ("/smtp/server/data/unstuffing", test_unstuffing);
  g_test_add_func ("/smtp/server/data/null-sender", test_null_sender);
  g_test_add_func ("/smtp/server/data/8bitmime", test_8bitmime_envelope);
  g_test_add_func ("/smtp/server/limits/too-many-recipients", test_too_many_recipients);
  g_test_add_func ("/smtp/server/limits/max-recipients-config", test_max_recipients_config);
  g_test_add_func ("/smtp/server/limits/message-too-big", test_message_too_big);
  g_test_add_func ("/smtp/server/bad/line-too-long", test_command_line_too_long);
  g_test_add_func ("/smtp/server/bad/line-too-long-in-pieces", test_command_line_too_long_in_pieces);
  g_test_add_func ("/smtp/server/bad/data-line-too-long", test_data_line_too_long);
  g_test_add_func ("/smtp/server/bad/bare-lf", test_bare_lf);
  g_test_add_func ("/smtp/server/pipelined-transaction", test_pipelined_transaction);
  g_test_add_func ("/smtp/server/pipelined-flood", test_pipelined_flood);
  g_test_add_func ("/smtp/server/disconnect-in-data", test_disconnect_in_data);
  g_test_add_func ("/smtp/server/disconnect-with-unanswered", test_disconnect_with_unanswered);
  g_test_add_func ("/smtp/server/deliver-refuses", test_deliver_refuses);
  g_test_add_func ("/smtp/server/deliver-bad-code", test_deliver_bad_code);
  g_test_add_func ("/smtp/server/auth/delay", test_auth_delay);
  g_test_add_func ("/smtp/server/auth/not-offered", test_auth_not_offered);
  g_test_add_func ("/smtp/server/auth/events", test_auth_events);
  g_test_add_func ("/smtp/server/event-octets", test_event_octets);
  g_test_add_func ("/smtp/server/event-fields", test_event_fields);
  g_test_add_func ("/smtp/server/random-input", test_random_input);
  for (gsize i = 0; i < G_N_ELEMENTS (data_cases); i++)
    g_test_add_data_func (data_cases[i].path, &data_cases[i], test_data_in_one_go);
  g_test_add_func ("/smtp/server/reset-as-new", test_reset_as_new);

  return g_test_run ();
}
