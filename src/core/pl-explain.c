/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What each command and reply means, with the RFC section that says so. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-explain.h"

#include <string.h>

/* One row per verb or status. Adding a protocol's explanations is adding rows. */
static const PlExplanation explanations[] = {
  /* POP3, RFC 1939 (and RFC 2449 for CAPA) */
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "USER", "names the mailbox (maildrop) to open; the password follows with PASS", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "PASS", "gives the password in the clear; on success the server locks the maildrop and the session enters the TRANSACTION state", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "APOP", "logs in with a digest of the greeting's timestamp and a shared secret, so the password never crosses the wire", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "CAPA", "asks which optional features the server supports", "RFC 2449 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "STAT", "asks how many messages the maildrop holds and their total size in octets", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "LIST", "asks for the size in octets of each message (or of one)", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "RETR", "downloads one whole message; the reply ends with a line holding a single dot", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "DELE", "marks a message as deleted; it is removed only when the session ends with QUIT", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "NOOP", "does nothing but check that the server is still there", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "RSET", "unmarks every message marked deleted in this session", "RFC 1939 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "TOP",  "downloads a message's headers and its first lines of body", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "UIDL", "asks for each message's unique id, so a client that keeps mail on the server knows what it has already seen", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "QUIT", "ends the session; in TRANSACTION the server now removes the messages marked deleted (the UPDATE state)", "RFC 1939 section 6" },
  { PL_PROTOCOL_POP3, PL_DIR_SERVER, "+OK",  "positive status: the command worked", "RFC 1939 section 3" },
  { PL_PROTOCOL_POP3, PL_DIR_SERVER, "-ERR", "negative status: the command failed, the text says why", "RFC 1939 section 3" },

  /* SMTP, RFC 5321 (and RFC 4954 AUTH, RFC 1870 SIZE, RFC 3030 CHUNKING, RFC 3207 STARTTLS) */
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "HELO", "the client names itself and opens the session (plain SMTP, no extensions)", "RFC 5321 section 4.1.1.1" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "EHLO", "the client names itself and asks which extensions the server offers (SIZE, PIPELINING, AUTH, ...)", "RFC 5321 section 4.1.1.1" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "MAIL", "starts a mail transaction and gives the envelope sender, where bounces go (<> for a bounce itself)", "RFC 5321 section 4.1.1.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "RCPT", "gives one envelope recipient; the server accepts or refuses each one on its own", "RFC 5321 section 4.1.1.3" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "DATA", "asks to send the message itself; after 354 it follows, ending with a line holding a single dot", "RFC 5321 section 4.1.1.4" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "RSET", "abandons the current mail transaction: sender, recipients and content are forgotten", "RFC 5321 section 4.1.1.5" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "VRFY", "asks whether an address exists; servers rarely tell, since spammers would ask too", "RFC 5321 section 4.1.1.6" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "EXPN", "asks for the members of a mailing list; usually refused for the same reason as VRFY", "RFC 5321 section 4.1.1.7" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "HELP", "asks the server for help text", "RFC 5321 section 4.1.1.8" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "NOOP", "does nothing but check that the server is still there", "RFC 5321 section 4.1.1.9" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "QUIT", "ends the session; the server answers 221 and closes the connection", "RFC 5321 section 4.1.1.10" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "AUTH", "logs in with a SASL mechanism; PLAIN and LOGIN send the password in base64, which anyone can decode", "RFC 4954 section 4" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "BDAT", "sends a chunk of the message of a stated size, instead of DATA and its dot (CHUNKING)", "RFC 3030 section 2" },
  { PL_PROTOCOL_SMTP, PL_DIR_CLIENT, "STARTTLS", "asks to switch the connection to TLS; what follows is encrypted", "RFC 3207 section 4" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "2", "positive completion: the command worked", "RFC 5321 section 4.2.1" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "3", "positive intermediate: go on and send the rest (the message after DATA, the next step of AUTH)", "RFC 5321 section 4.2.1" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "4", "transient failure: not now, try again later (a mail server keeps the message in its queue)", "RFC 5321 section 4.2.1" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "5", "permanent failure: do not try again as it is (a mail server bounces the message to its sender)", "RFC 5321 section 4.2.1" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "214", "help text", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "220", "the greeting: the service is ready", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "221", "the server says goodbye and closes the connection", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "235", "authentication succeeded", "RFC 4954 section 6" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "250", "requested action okay, completed; after the final dot it means the server has stored the message and taken responsibility for it", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "251", "user not local; the server will forward the message", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "252", "the server will not say whether the address exists, but will accept the message and try", "RFC 5321 section 3.5.3" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "334", "an AUTH challenge in base64; the client answers with the next step, also in base64", "RFC 4954 section 4" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "354", "start the message; end it with a line holding a single dot", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "421", "service not available: the server is closing the connection; try again later", "RFC 5321 section 3.8" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "450", "mailbox unavailable for now (busy or blocked); try again later", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "451", "local error in processing: the server could not store the message; try again later", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "452", "insufficient storage, or too many recipients in one message; try the rest later", "RFC 5321 section 4.5.3.1.10" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "454", "authentication is not possible right now; try again later", "RFC 4954 section 6" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "500", "syntax error: the command was not recognized, or the line was too long", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "501", "syntax error in the arguments (an address without <>, bad base64, ...)", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "502", "the server knows this command but does not implement it", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "503", "bad sequence of commands: this command makes no sense yet (RCPT before MAIL, DATA before RCPT)", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "504", "a parameter of the command is not implemented (an unknown AUTH mechanism)", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "530", "authentication is required before this command", "RFC 4954 section 6" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "535", "authentication failed: wrong user name or password", "RFC 4954 section 6" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "550", "mailbox unavailable: no such user, or relaying refused (the server is not an open relay)", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "551", "user not local; the text may say where to send instead", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "552", "exceeded storage allocation: the message is bigger than the server accepts (its SIZE)", "RFC 1870 section 6" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "553", "mailbox name not allowed", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "554", "transaction failed (or, as a greeting, no service here)", "RFC 5321 section 4.2.2" },
  { PL_PROTOCOL_SMTP, PL_DIR_SERVER, "555", "a MAIL FROM or RCPT TO parameter is not recognized or not implemented", "RFC 5321 section 4.2.2" },
};

/*
 * pl_explain:
 * Looks up what @key means. For replies a status is tried whole ("250"),
 * then by its first digit ("2"), so classes of codes can be explained once.
 * Returns a static row, or NULL when nothing is known.
 */
const PlExplanation *
pl_explain (PlProtocol  protocol,
            PlDirection dir,
            const char *key)
{
  if (key == NULL || key[0] == '\0')
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (explanations); i++)
    {
      const PlExplanation *row = &explanations[i];
      if (row->protocol == protocol && row->dir == dir && g_ascii_strcasecmp (row->key, key) == 0)
        return row;
    }
  if (dir == PL_DIR_SERVER && g_ascii_isdigit (key[0]) && key[1] != '\0')
    {
      char first[2] = { key[0], '\0' };
      return pl_explain (protocol, dir, first);
    }
  return NULL;
}

const PlExplanation *
pl_explain_event (PlProtocol     protocol,
                  const PlEvent *event)
{
  g_return_val_if_fail (event != NULL, NULL);

  switch (event->kind)
    {
    case PL_EVENT_COMMAND:
      return pl_explain (protocol, PL_DIR_CLIENT, event->verb);
    case PL_EVENT_REPLY:
      return pl_explain (protocol, PL_DIR_SERVER, event->status);
    case PL_EVENT_DATA:
    case PL_EVENT_NOTE:
    default:
      return NULL;
    }
}
