/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli fetch: Postlab's POP3 client on a real socket, showing the dialogue like curl -v. */
#define G_LOG_DOMAIN "postlab-cli"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "pl-cli.h"
#include "pl-net-client.h"
#include "pl-net-error.h"
#include "pl-pop3-client.h"
#include "pl-writer.h"

/* RFC 1939 section 3: the POP3 port (RFC 2384: the default port of a pop:// URL). */
#define POP3_DEFAULT_PORT 110

typedef struct {
  char    *user;
  char    *password;
  char    *host;
  guint16  port;
} FetchTarget;

static void
fetch_target_clear (FetchTarget *target)
{
  g_free (target->user);
  if (target->password != NULL)
    memset (target->password, 0, strlen (target->password));
  g_free (target->password);
  g_free (target->host);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FetchTarget, fetch_target_clear)

static gboolean
has_control_characters (const char *text)
{
  for (const char *p = text; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

/*
 * pop3://USER:PASS@HOST[:PORT][/], the form curl takes (RFC 2384 names the
 * scheme "pop"; both are accepted). User and password are percent-decoded,
 * so a password with '@' or ':' is written %40 or %3A.
 */
static gboolean
parse_target (const char   *url,
              FetchTarget  *target,
              char        **problem)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GError) error = NULL;
  const char *scheme;
  const char *path;
  gint port;

  uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD, &error);
  if (uri == NULL)
    {
      *problem = g_strdup_printf ("'%s' is not a URL like pop3://USER:PASS@HOST:PORT (%s)", url, error->message);
      return FALSE;
    }
  scheme = g_uri_get_scheme (uri);
  if (g_ascii_strcasecmp (scheme, "pop3s") == 0)
    {
      *problem = g_strdup ("pop3s:// (POP3 over TLS) is not supported yet; use pop3://");
      return FALSE;
    }
  if (g_ascii_strcasecmp (scheme, "pop3") != 0 && g_ascii_strcasecmp (scheme, "pop") != 0)
    {
      *problem = g_strdup_printf ("the URL must start with pop3://, not %s://", scheme);
      return FALSE;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      *problem = g_strdup ("the URL names no host: pop3://USER:PASS@HOST:PORT");
      return FALSE;
    }
  if (g_uri_get_user (uri) == NULL || *g_uri_get_user (uri) == '\0')
    {
      *problem = g_strdup ("the URL names no user: pop3://USER:PASS@HOST:PORT");
      return FALSE;
    }
  if (g_uri_get_password (uri) == NULL)
    {
      *problem = g_strdup ("the URL gives no password: pop3://USER:PASS@HOST:PORT");
      return FALSE;
    }
  /* A CR or LF would end the USER or PASS line early and smuggle in a command. */
  if (has_control_characters (g_uri_get_user (uri)) || has_control_characters (g_uri_get_password (uri)))
    {
      *problem = g_strdup ("the user or password holds control characters (CR, LF, ...), "
                           "which cannot be sent in a POP3 command");
      return FALSE;
    }
  if (strchr (g_uri_get_user (uri), ' ') != NULL)
    {
      *problem = g_strdup ("the user name holds a space, which POP3's USER command cannot carry");
      return FALSE;
    }
  path = g_uri_get_path (uri);
  if (path != NULL && *path != '\0' && !g_str_equal (path, "/"))
    {
      *problem = g_strdup_printf ("fetch retrieves every message; the URL takes no path (got '%s')", path);
      return FALSE;
    }

  port = g_uri_get_port (uri);
  target->user = g_strdup (g_uri_get_user (uri));
  target->password = g_strdup (g_uri_get_password (uri));
  target->host = g_strdup (g_uri_get_host (uri));
  target->port = port > 0 ? (guint16) port : POP3_DEFAULT_PORT;
  return TRUE;
}

static gboolean
save_messages (PlPop3Client  *client,
               const char    *dir,
               GError       **error)
{
  guint n = pl_pop3_client_get_n_messages (client);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   "cannot create %s: %s", dir, g_strerror (saved_errno));
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    {
      GBytes *message = pl_pop3_client_get_message (client, i);
      g_autofree char *name = g_strdup_printf ("%u.eml", i + 1);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      gsize len = 0;
      const char *data = message != NULL ? g_bytes_get_data (message, &len) : "";

      if (!g_file_set_contents (path, data, (gssize) len, error))
        return FALSE;
    }
  return TRUE;
}

int
pl_cmd_fetch (int    argc,
              char **argv)
{
  gboolean delete = FALSE;
  gboolean json = FALSE;
  g_autofree char *save_dir = NULL;
  const GOptionEntry entries[] = {
    { "delete", 0, 0, G_OPTION_ARG_NONE, &delete,
      "Delete each message on the server once retrieved (download-and-delete)", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print the session as JSON Lines (DESIGN.md's machine format) instead of text", NULL },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save_dir,
      "Also save message N as DIR/N.eml, exactly as received (CRLF line ends)", "DIR" },
    { NULL }
  };
  g_auto(FetchTarget) target = { 0 };
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlWriter) writer = NULL;
  g_autoptr(PlEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *problem = NULL;
  PlPop3ClientConfig config = { 0 };
  PlCliDialoguePrinter printer = { stdout, NULL };
  gulong listener_id = 0;
  gboolean ran;
  const char *refusal;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("fetch", "pop3://USER:PASS@HOST[:PORT]",
                             "Logs in with Postlab's own POP3 client, lists the maildrop, retrieves\n"
                             "every message (and deletes it with --delete) and quits, printing the\n"
                             "dialogue as it goes. The port defaults to 110.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc < 2)
    return pl_cli_usage_error ("fetch", "give the mailbox as pop3://USER:PASS@HOST:PORT");
  if (argc > 2)
    return pl_cli_usage_error ("fetch", "unexpected argument '%s'", argv[2]);
  if (!parse_target (argv[1], &target, &problem))
    return pl_cli_usage_error ("fetch", "%s", problem);

  config.user = target.user;
  config.password = target.password;
  config.delete_after_retrieve = delete;
  engine = pl_pop3_client_new (&config);

  trace = pl_trace_new (FALSE);
  if (json)
    {
      writer = pl_writer_new (stdout, PL_WRITER_JSONL, PL_WRITER_FLAGS_NONE);
      pl_writer_attach (writer, trace);
    }
  else
    {
      printer.host = target.host;
      listener_id = pl_cli_print_dialogue (trace, &printer);
    }

  ran = pl_net_client_run (engine, target.host, target.port, trace, NULL, &error);

  if (writer != NULL)
    pl_writer_detach (writer);
  if (listener_id != 0)
    pl_trace_remove_listener (trace, listener_id);

  refusal = pl_pop3_client_get_error (PL_POP3_CLIENT (engine));
  if (!ran && refusal == NULL)
    {
      pl_cli_error ("fetch", "%s", error->message);
      return PL_EXIT_USAGE;
    }
  if (pl_engine_is_failed (engine) || refusal != NULL)
    {
      pl_cli_error ("fetch", "the server refused: %s", refusal != NULL ? refusal : "(no reason given)");
      return PL_EXIT_REFUSED;
    }

  if (save_dir != NULL && !save_messages (PL_POP3_CLIENT (engine), save_dir, &error))
    {
      pl_cli_error ("fetch", "%s", error->message);
      return PL_EXIT_USAGE;
    }
  if (!json)
    {
      guint n = pl_pop3_client_get_n_messages (PL_POP3_CLIENT (engine));
      gsize total = 0;

      for (guint i = 0; i < n; i++)
        {
          GBytes *message = pl_pop3_client_get_message (PL_POP3_CLIENT (engine), i);

          total += message != NULL ? g_bytes_get_size (message) : 0;
        }
      printf ("* %u message%s retrieved (%" G_GSIZE_FORMAT " octets)%s\n", n, n == 1 ? "" : "s", total,
              n == 0 ? "" : delete ? ", deleted on the server" : ", left on the server");
    }
  return PL_EXIT_OK;
}
