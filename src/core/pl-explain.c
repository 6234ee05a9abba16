/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What each command and reply means, with the RFC section that says so. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-explain.h"

#include <string.h>

/* One row per verb or status. Adding a protocol's explanations is adding rows. */
static const PlExplanation explanations[] = {
  /* POP3, RFC 1939 (and RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH) */
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "USER", "names the mailbox (maildrop) to open; the password follows with PASS", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "PASS", "gives the password in the clear; on success the server locks the maildrop and the session enters the TRANSACTION state", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "APOP", "logs in with a digest of the greeting's timestamp and a shared secret, so the password never crosses the wire", "RFC 1939 section 7" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "CAPA", "asks which optional features the server supports", "RFC 2449 section 5" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "STLS", "asks to switch the connection to TLS; what follows is encrypted", "RFC 2595 section 4" },
  { PL_PROTOCOL_POP3, PL_DIR_CLIENT, "AUTH", "logs in with a SASL mechanism (alone, asks which mechanisms the server offers); the exchange goes on in base64 lines", "RFC 5034 section 4" },
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
  { PL_PROTOCOL_POP3, PL_DIR_SERVER, "+", "an AUTH challenge in base64; the client answers with the next step, also in base64", "RFC 5034 section 4" },

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

  /* IMAP, RFC 3501 (and RFC 2177 IDLE, RFC 6851 MOVE, RFC 7888 LITERAL+, and what mail clients send first: ID, ENABLE, NAMESPACE) */
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "CAPABILITY", "asks which capabilities (extensions, login methods) the server has", "RFC 3501 section 6.1.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "NOOP", "does nothing, but lets the server report news (new messages) in untagged responses", "RFC 3501 section 6.1.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "LOGOUT", "ends the session; the server says BYE, then completes the command", "RFC 3501 section 6.1.3" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "STARTTLS", "asks to switch the connection to TLS; what follows is encrypted", "RFC 3501 section 6.2.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "AUTHENTICATE", "logs in with a SASL mechanism; the exchange goes on in base64 lines after each + continuation", "RFC 3501 section 6.2.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "LOGIN", "logs in with a user name and a password sent in the clear", "RFC 3501 section 6.2.3" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "SELECT", "opens a mailbox (folder) to work in; the server says how many messages it holds", "RFC 3501 section 6.3.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "EXAMINE", "opens a mailbox read-only: nothing in it changes, not even the \\Seen flags", "RFC 3501 section 6.3.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "CREATE", "creates a mailbox on the server: unlike POP3, IMAP keeps folders there", "RFC 3501 section 6.3.3" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "DELETE", "deletes a mailbox", "RFC 3501 section 6.3.4" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "RENAME", "renames a mailbox", "RFC 3501 section 6.3.5" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "SUBSCRIBE", "adds a mailbox to the ones the client shows", "RFC 3501 section 6.3.6" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "UNSUBSCRIBE", "removes a mailbox from the ones the client shows", "RFC 3501 section 6.3.7" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "LIST", "asks which mailboxes there are", "RFC 3501 section 6.3.8" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "LSUB", "asks which mailboxes the user subscribed to", "RFC 3501 section 6.3.9" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "STATUS", "asks how many messages (and unseen ones) a mailbox holds without opening it", "RFC 3501 section 6.3.10" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "APPEND", "stores a whole message in a mailbox (a sent copy, a draft); the message follows as a literal", "RFC 3501 section 6.3.11" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "CHECK", "asks the server to save the mailbox's state", "RFC 3501 section 6.4.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "CLOSE", "closes the mailbox, removing the messages flagged \\Deleted", "RFC 3501 section 6.4.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "EXPUNGE", "removes the messages flagged \\Deleted from the mailbox for good", "RFC 3501 section 6.4.3" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "SEARCH", "asks the server which messages match (from, subject, unseen, ...): the mail stays on the server", "RFC 3501 section 6.4.4" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "FETCH", "downloads parts of messages: flags, size, headers, the body or a part of it", "RFC 3501 section 6.4.5" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "STORE", "changes a message's flags (\\Seen, \\Deleted, ...) on the server, where every device sees them", "RFC 3501 section 6.4.6" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "COPY", "copies messages to another mailbox on the server", "RFC 3501 section 6.4.7" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "MOVE", "moves messages to another mailbox on the server", "RFC 6851 section 3.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "UID", "the command that follows names messages by their unique ids, which do not change as others are removed", "RFC 3501 section 6.4.8" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "IDLE", "waits for news: the server pushes EXISTS as soon as mail arrives, until the client says DONE", "RFC 2177 section 3" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "DONE", "ends IDLE", "RFC 2177 section 3" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "ID", "client and server tell each other their names and versions", "RFC 2971 section 3.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "ENABLE", "turns on extensions the client knows how to use (CONDSTORE, UTF8=ACCEPT, ...)", "RFC 5161 section 3.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "NAMESPACE", "asks where the user's own, other users' and shared mailboxes are", "RFC 2342 section 5" },
  { PL_PROTOCOL_IMAP, PL_DIR_CLIENT, "UNSELECT", "closes the mailbox, keeping the messages flagged \\Deleted (unlike CLOSE)", "RFC 3691 section 2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "OK", "success: with the command's tag it completes that command; untagged it is information", "RFC 3501 section 7.1.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "NO", "the command failed (a wrong password, a mailbox that does not exist)", "RFC 3501 section 7.1.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "BAD", "the command was not understood: a syntax error or an unknown command", "RFC 3501 section 7.1.3" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "PREAUTH", "the greeting of a session that is already logged in", "RFC 3501 section 7.1.4" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "BYE", "the server is closing the connection (after LOGOUT, or going down)", "RFC 3501 section 7.1.5" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "+", "a continuation request: the server is ready for the rest of the command (a literal, a SASL step)", "RFC 3501 section 7.5" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "CAPABILITY", "the list of the server's capabilities", "RFC 3501 section 7.2.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "LIST", "one mailbox, with its hierarchy separator and attributes", "RFC 3501 section 7.2.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "LSUB", "one subscribed mailbox", "RFC 3501 section 7.2.3" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "STATUS", "a mailbox's counts, answering STATUS", "RFC 3501 section 7.2.4" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "SEARCH", "the numbers of the messages that matched", "RFC 3501 section 7.2.5" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "FLAGS", "the flags that can be set in this mailbox", "RFC 3501 section 7.2.6" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "EXISTS", "how many messages the mailbox holds now; unasked, it means new mail arrived", "RFC 3501 section 7.3.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "RECENT", "how many messages arrived since the mailbox was last opened", "RFC 3501 section 7.3.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "EXPUNGE", "a message was removed; the ones after it move up by one", "RFC 3501 section 7.4.1" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "FETCH", "data of one message: its flags, size, headers or body, as asked", "RFC 3501 section 7.4.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "ID", "the server's name and version", "RFC 2971 section 3.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "ENABLED", "the extensions now turned on", "RFC 5161 section 3.2" },
  { PL_PROTOCOL_IMAP, PL_DIR_SERVER, "NAMESPACE", "where the mailboxes are: the user's own, other users', shared", "RFC 2342 section 5" },

  /* HTTP, RFC 9110 (webmail: the user agent is a browser, mail still moves by SMTP between servers) */
  { PL_PROTOCOL_HTTP, PL_DIR_CLIENT, "GET", "asks for a page or a resource (a message list, one message)", "RFC 9110 section 9.3.1" },
  { PL_PROTOCOL_HTTP, PL_DIR_CLIENT, "HEAD", "asks for the header fields a GET would give, without the body", "RFC 9110 section 9.3.2" },
  { PL_PROTOCOL_HTTP, PL_DIR_CLIENT, "POST", "sends data to be processed (a login form, a message to send)", "RFC 9110 section 9.3.3" },
  { PL_PROTOCOL_HTTP, PL_DIR_CLIENT, "PUT", "stores the body at the given address", "RFC 9110 section 9.3.4" },
  { PL_PROTOCOL_HTTP, PL_DIR_CLIENT, "DELETE", "asks to remove a resource (a message)", "RFC 9110 section 9.3.5" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "1", "informational: an interim response, the final one follows", "RFC 9110 section 15.2" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "2", "success", "RFC 9110 section 15.3" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "3", "redirection: the resource is elsewhere, or unchanged", "RFC 9110 section 15.4" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "4", "client error: the request was wrong or not allowed", "RFC 9110 section 15.5" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "5", "server error: the server failed to answer a valid request", "RFC 9110 section 15.6" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "200", "OK: the body holds what was asked for", "RFC 9110 section 15.3.1" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "204", "no content: it worked, and there is nothing to show", "RFC 9110 section 15.3.5" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "302", "found elsewhere: the browser follows the Location field", "RFC 9110 section 15.4.3" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "304", "not modified: the copy the browser has is still good", "RFC 9110 section 15.4.5" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "400", "bad request: the server could not read it", "RFC 9110 section 15.5.1" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "401", "unauthorized: log in first", "RFC 9110 section 15.5.2" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "403", "forbidden: logged in or not, this is not allowed", "RFC 9110 section 15.5.4" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "404", "not found", "RFC 9110 section 15.5.5" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "405", "method not allowed on this resource", "RFC 9110 section 15.5.6" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "413", "content too large (a message over the size limit)", "RFC 9110 section 15.5.14" },
  { PL_PROTOCOL_HTTP, PL_DIR_SERVER, "500", "internal server error", "RFC 9110 section 15.6.1" },
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
