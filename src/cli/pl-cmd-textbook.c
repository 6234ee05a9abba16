/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli textbook: types the POP3 session of the textbook's figure against a server. */
#define G_LOG_DOMAIN "postlab-cli"

#include <stdio.h>
#include <string.h>

#include "pl-cli.h"
#include "pl-net-client.h"
#include "pl-pop3-client.h"
#include "pl-textbook.h"
#include "pl-writer.h"

#define TEXTBOOK_DEFAULT_HOST "127.0.0.1"
#define TEXTBOOK_DEFAULT_PORT 1110

/*
 * The session of Kurose & Ross's POP3 figure, as a person types it at telnet:
 * lower case, download-and-delete, the deletions done at QUIT (RFC 1939
 * section 6).
 */
static const char *const textbook_script[] = {
  "user " PL_TEXTBOOK_USER,
  "pass " PL_TEXTBOOK_PASSWORD,
  "list",
  "retr 1",
  "dele 1",
  "retr 2",
  "dele 2",
  "quit",
  NULL
};

static gboolean
parse_host_port (const char  *text,
                 char       **host,
                 guint16     *port,
                 char       **problem)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  gint parsed_port = -1;

  /* "HOST", "HOST:PORT", "[::1]:PORT": parse as the authority of a URL. */
  {
    g_autofree char *url = g_strconcat ("pop3://", text, NULL);
    g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, &error);

    if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
        || (g_uri_get_path (uri) != NULL && *g_uri_get_path (uri) != '\0')
        || g_uri_get_userinfo (uri) != NULL)
      {
        *problem = g_strdup_printf ("'%s' is not HOST or HOST:PORT", text);
        return FALSE;
      }
    name = g_strdup (g_uri_get_host (uri));
    parsed_port = g_uri_get_port (uri);
  }
  *host = g_steal_pointer (&name);
  *port = parsed_port > 0 ? (guint16) parsed_port : TEXTBOOK_DEFAULT_PORT;
  return TRUE;
}

int
pl_cmd_textbook (int    argc,
                 char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      "Print the session as JSON Lines instead of text", NULL },
    { NULL }
  };
  g_autofree char *host = NULL;
  g_autofree char *problem = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlWriter) writer = NULL;
  g_autoptr(PlEngine) engine = NULL;
  g_autoptr(GError) error = NULL;
  PlPop3ClientConfig config = { 0 };
  PlCliDialoguePrinter printer = { stdout, NULL };
  gulong listener_id = 0;
  guint16 port = TEXTBOOK_DEFAULT_PORT;
  int exit_code = PL_EXIT_OK;
  gboolean ran;

  if (!pl_cli_parse_options ("textbook", "[HOST[:PORT]]",
                             "Types the POP3 session of the textbook's figure against a server, as a\n"
                             "person at telnet would: user bob, pass hungry, list, retr 1, dele 1,\n"
                             "retr 2, dele 2, quit. HOST:PORT defaults to 127.0.0.1:1110, where\n"
                             "'postlab-cli serve' listens.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 2)
    return pl_cli_usage_error ("textbook", "unexpected argument '%s'", argv[2]);
  if (argc == 2)
    {
      if (!parse_host_port (argv[1], &host, &port, &problem))
        return pl_cli_usage_error ("textbook", "%s", problem);
    }
  else
    host = g_strdup (TEXTBOOK_DEFAULT_HOST);

  config.script = textbook_script;
  engine = pl_pop3_client_new (&config);

  trace = pl_trace_new (FALSE);
  if (json)
    {
      writer = pl_writer_new (stdout, PL_WRITER_JSONL, PL_WRITER_FLAGS_NONE);
      pl_writer_attach (writer, trace);
    }
  else
    {
      printer.host = host;
      listener_id = pl_cli_print_dialogue (trace, &printer);
    }

  ran = pl_net_client_run (engine, host, port, trace, NULL, &error);

  if (writer != NULL)
    pl_writer_detach (writer);
  if (listener_id != 0)
    pl_trace_remove_listener (trace, listener_id);

  if (!ran)
    {
      pl_cli_error ("textbook", "%s", error->message);
      return PL_EXIT_USAGE;
    }
  /* In a script every reply is shown; an -ERR along the way is part of the lesson. */
  return pl_engine_is_failed (engine) ? PL_EXIT_REFUSED : PL_EXIT_OK;
}
