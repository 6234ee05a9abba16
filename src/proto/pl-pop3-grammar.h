/* SPDX-License-Identifier: GPL-3.0-or-later */
/* POP3's grammar (RFC 1939, RFC 2449): command and reply parsers shared by the server, client and tracer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 2449 section 4: commands up to 255 octets, first reply lines up to 512, both with CRLF. */
#define PL_POP3_MAX_COMMAND_LINE 255
#define PL_POP3_MAX_REPLY_LINE   512
/* RFC 2449 section 4: extension keywords may run to 40 characters. */
#define PL_POP3_MAX_VERB_LEN     40

typedef enum {
  PL_POP3_STATUS_INVALID = 0,
  PL_POP3_STATUS_OK,            /* "+OK" */
  PL_POP3_STATUS_ERR,           /* "-ERR" */
  PL_POP3_STATUS_CONTINUE,      /* "+ " SASL continuation (RFC 5034) */
} PlPop3Status;

/*
 * Splits a command line (without its line end) into a verb and its
 * arguments: "retr 1" gives "RETR" and "1". Returns FALSE for an empty line
 * or a verb that is not 1-40 printable characters. Both outputs are newly
 * allocated; @args is "" when there are none.
 */
gboolean      pl_pop3_parse_command        (const guint8  *line,
                                            gsize          len,
                                            char         **verb,
                                            char         **args);
/*
 * The same, without copying: the verb is @line[0 .. *@verb_len) (any case),
 * the arguments @line[*@args_start .. @len).
 */
gboolean      pl_pop3_split_command        (const guint8  *line,
                                            gsize          len,
                                            gsize         *verb_len,
                                            gsize         *args_start);

/* Parses the status indicator at the start of a reply's first line. */
PlPop3Status  pl_pop3_parse_status         (const guint8  *line,
                                            gsize          len);
const char   *pl_pop3_status_to_string     (PlPop3Status   status);

/*
 * TRUE when a positive reply to this command carries a dot-terminated
 * multi-line body (RFC 1939: LIST and UIDL without an argument, RETR, TOP;
 * RFC 2449: CAPA).
 */
gboolean      pl_pop3_reply_is_multiline   (const char    *verb,
                                            const char    *args);

/* Appends @data to @out with every line that starts with '.' given another '.' (RFC 1939 section 3). */
void          pl_pop3_dot_stuff            (GByteArray    *out,
                                            const guint8  *data,
                                            gsize          len);
/* The reverse: removes the extra '.' of each stuffed line; the terminating line is not expected in @data. */
GBytes       *pl_pop3_dot_unstuff          (const guint8  *data,
                                            gsize          len);

G_END_DECLS
