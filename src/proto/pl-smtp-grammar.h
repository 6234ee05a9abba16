/* SPDX-License-Identifier: GPL-3.0-or-later */
/* SMTP's grammar (RFC 5321, RFC 4954, RFC 1870): stateless parsers on raw octets shared by the server, client and tracer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 5321 4.5.3.1: the size limits, each counting the CRLF where there is one. */
#define PL_SMTP_MAX_COMMAND_LINE 512   /* 4.5.3.1.4 */
#define PL_SMTP_MAX_REPLY_LINE   512   /* 4.5.3.1.5 */
#define PL_SMTP_MAX_TEXT_LINE    1000  /* 4.5.3.1.6: a line of message content */
#define PL_SMTP_MAX_LOCAL_PART   64    /* 4.5.3.1.1 */
#define PL_SMTP_MAX_DOMAIN       255   /* 4.5.3.1.2 */
#define PL_SMTP_MAX_PATH         256   /* 4.5.3.1.3, the angle brackets included */
/* A command verb: RFC 5321's own have four letters; extension verbs may be longer. */
#define PL_SMTP_MAX_VERB_LEN     40

#define PL_SMTP_SYNTAX_ERROR (pl_smtp_syntax_error_quark ())

/* Why a MAIL FROM / RCPT TO argument could not be read; the message says it for a person. */
typedef enum {
  PL_SMTP_SYNTAX_ERROR_KEYWORD,    /* not "FROM:" (MAIL) or "TO:" (RCPT) */
  PL_SMTP_SYNTAX_ERROR_BRACKETS,   /* the path is not enclosed in <> */
  PL_SMTP_SYNTAX_ERROR_ADDRESS,    /* the mailbox is not local-part@domain */
  PL_SMTP_SYNTAX_ERROR_TOO_LONG,   /* over a limit of RFC 5321 4.5.3.1 */
  PL_SMTP_SYNTAX_ERROR_PARAMETER,  /* a parameter that is not keyword[=value] */
} PlSmtpSyntaxError;

GQuark pl_smtp_syntax_error_quark (void);

/*
 * Splits a command line (without its line end) into a verb and its
 * arguments: "mail FROM:<a@b>" gives "MAIL" and "FROM:<a@b>". Returns FALSE
 * for an empty line, a verb that is not 1-40 printable characters, or a NUL
 * anywhere. Both outputs are newly allocated; @args is "" when there are none.
 */
gboolean      pl_smtp_parse_command        (const guint8  *line,
                                            gsize          len,
                                            char         **verb,
                                            char         **args);
/*
 * The same, without copying: the verb is @line[0 .. *@verb_len) (any case),
 * the arguments @line[*@args_start .. @len). For whoever parses every line
 * and needs strings only now and then.
 */
gboolean      pl_smtp_split_command        (const guint8  *line,
                                            gsize          len,
                                            gsize         *verb_len,
                                            gsize         *args_start);

/* One ESMTP parameter of MAIL or RCPT (RFC 5321 4.1.2 esmtp-param): "SIZE=1000", "BODY=8BITMIME". */
typedef struct {
  char *keyword;   /* upper case */
  char *value;     /* as sent, or NULL for a bare keyword */
} PlSmtpParam;

/* A reverse-path or forward-path with its parameters (RFC 5321 4.1.2). */
typedef struct {
  char      *address;     /* the mailbox as sent, without <> and source route; "" for the null path */
  char      *local_part;  /* "" for the null path */
  char      *domain;      /* NULL for the null path and for a bare <postmaster> */
  GPtrArray *params;      /* of PlSmtpParam*, in the order sent */
} PlSmtpPath;

/*
 * Reads the argument of MAIL (@keyword "FROM") or RCPT ("TO"): the keyword
 * and a colon, the path in angle brackets, then parameters. A space after
 * the colon is tolerated (the textbook writes "MAIL FROM: <alice@crepes.fr>").
 * The null path "<>" and the bare "<postmaster>" (RFC 5321 4.1.1.3) parse;
 * whether they are acceptable is the caller's business.
 */
PlSmtpPath   *pl_smtp_parse_path           (const char    *args,
                                            const char    *keyword,
                                            GError       **error);
void          pl_smtp_path_free            (PlSmtpPath    *path);
/* The parameter @keyword (any case), or NULL; a bare keyword gives a param whose value is NULL. */
const PlSmtpParam *pl_smtp_path_get_param  (const PlSmtpPath *path,
                                            const char    *keyword);

/*
 * Reads one reply line (RFC 5321 4.2), without its line end: three digits,
 * then a space (or nothing) for the last line of a reply, or "-" for a line
 * that more follow. @text_start is where the text after the separator
 * begins (@len when there is none). Returns FALSE for anything else.
 */
gboolean      pl_smtp_parse_reply_line     (const guint8  *line,
                                            gsize          len,
                                            guint         *code,
                                            gboolean      *continues,
                                            gsize         *text_start);

/*
 * PlSmtpReplyAccumulator: groups the lines of one reply ("250-" ... "250 ")
 * into a unit. Feed it lines as they are framed; it says when the reply is
 * whole. It holds no state beyond the reply being read, so the server
 * tests, the client and the tracer can each keep one per direction.
 */
typedef struct _PlSmtpReplyAccumulator PlSmtpReplyAccumulator;

PlSmtpReplyAccumulator *pl_smtp_reply_accumulator_new        (void);
void                    pl_smtp_reply_accumulator_free       (PlSmtpReplyAccumulator *self);
/*
 * Adds one line: @raw_len octets at @raw, terminator included, of which the
 * first @len are its content. Returns TRUE when this line ends the reply:
 * a final line, or a line that is not a reply line at all (the reply is
 * then malformed: a line that cannot continue a reply cannot be waited on).
 */
gboolean                pl_smtp_reply_accumulator_add_line   (PlSmtpReplyAccumulator *self,
                                                              const guint8           *raw,
                                                              gsize                   raw_len,
                                                              gsize                   len);
/* The code of the final line (RFC 5321 4.2.1: clients look for it), or 0 when malformed. */
guint                   pl_smtp_reply_accumulator_get_code   (PlSmtpReplyAccumulator *self);
gboolean                pl_smtp_reply_accumulator_is_malformed (PlSmtpReplyAccumulator *self);
/* The exact octets of the lines so far, borrowed. */
const guint8           *pl_smtp_reply_accumulator_get_octets (PlSmtpReplyAccumulator *self,
                                                              gsize                  *len);
guint                   pl_smtp_reply_accumulator_get_n_lines (PlSmtpReplyAccumulator *self);
/*
 * The text of line @index after its code and separator, as valid UTF-8 with
 * control characters shown as '?'; borrowed. EHLO's keywords are read from here.
 */
const char             *pl_smtp_reply_accumulator_get_line   (PlSmtpReplyAccumulator *self,
                                                              guint                   index);
/* Forgets the reply, ready for the next one. */
void                    pl_smtp_reply_accumulator_reset      (PlSmtpReplyAccumulator *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSmtpReplyAccumulator, pl_smtp_reply_accumulator_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSmtpPath, pl_smtp_path_free)

/*
 * A reply to send (server) or that a policy callback gives: @code and @text,
 * where '\n' in @text separates the lines of a multi-line reply.
 */
typedef struct {
  guint  code;
  char  *text;
} PlSmtpReply;

PlSmtpReply  *pl_smtp_reply_new            (guint          code,
                                            const char    *format,
                                            ...) G_GNUC_PRINTF (2, 3);
/* A reply with @text taken as it is (a policy's words, no format string). */
PlSmtpReply  *pl_smtp_reply_new_take       (guint          code,
                                            char          *text);
PlSmtpReply  *pl_smtp_reply_copy           (const PlSmtpReply *reply);
void          pl_smtp_reply_free           (PlSmtpReply   *reply);
/*
 * The wire form of a reply (RFC 5321 4.2): "250-first\r\n250 last\r\n" for
 * "first\nlast"; an empty text gives "250\r\n". CR and LF never reach the
 * wire inside a line, and control characters become '?'.
 */
GByteArray   *pl_smtp_reply_format         (guint          code,
                                            const char    *text);
/* The same, appended to @out. */
void          pl_smtp_reply_append         (GByteArray    *out,
                                            guint          code,
                                            const char    *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PlSmtpReply, pl_smtp_reply_free)

/*
 * RFC 5321 4.5.2: appends @data to @out as message content on the wire:
 * every line that starts with '.' gets one more, bare LF line ends become
 * CRLF, and a last line without a line end gets CRLF. The "." line that
 * ends the data is the caller's to add.
 */
void          pl_smtp_dot_stuff            (GByteArray    *out,
                                            const guint8  *data,
                                            gsize          len);
/* The reverse: the leading '.' of each line is removed; @data holds no "." end line. */
GBytes       *pl_smtp_dot_unstuff          (const guint8  *data,
                                            gsize          len);
/*
 * RFC 1870 section 3: a message's size for SIZE=, in octets with CRLF line
 * ends (as pl_smtp_dot_stuff() sends it, before the stuffing).
 */
gsize         pl_smtp_message_size         (const guint8  *data,
                                            gsize          len);

/*
 * RFC 4954 section 4: a SASL response or challenge is base64 (RFC 4648
 * section 4, padding required). Returns the decoded octets (which may be
 * empty; not NUL-terminated beyond @len), or NULL when @text is not base64.
 */
guint8       *pl_smtp_base64_decode        (const char    *text,
                                            gsize         *len);
/*
 * What a student should see next to base64 on the wire: @shown followed by
 * `  (decodes to: "" / "alice" / "secret")`, the decoded octets split at
 * NUL (AUTH PLAIN's separator, RFC 4616) and quoted. @shown alone when
 * @b64 is empty or not base64.
 */
char         *pl_smtp_annotate_base64      (const char    *shown,
                                            const char    *b64);

G_END_DECLS
