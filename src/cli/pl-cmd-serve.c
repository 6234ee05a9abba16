/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli serve: the textbook's receiving mail server on real sockets, loopback by default. */
#define G_LOG_DOMAIN "postlab-cli"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "pl-cli.h"
#include "pl-maildir-store.h"
#include "pl-net-error.h"
#include "pl-pop3-server.h"
#include "pl-service.h"
#include "pl-textbook.h"
#include "pl-writer.h"

/* The textbook's receiving server is Bob's: mail.b.example (DESIGN.md, "The mail path"). */
#define SERVE_DOMAIN "b.example"
#define SERVE_DEFAULT_POP3_PORT 1110
/* RFC 3206 section 4: SYS/TEMP says the trouble is passing and the client may retry. */
#define POP3_REFUSAL "-ERR [SYS/TEMP] too many connections, try again later\r\n"

typedef struct {
  PlMailStore        *store;
  PlPop3ServerConfig  pop3_config;
  GMainLoop          *loop;
} ServeContext;

static PlEngine *
make_pop3_engine (PlService *service,
                  gpointer   user_data)
{
  ServeContext *ctx = user_data;

  return pl_pop3_server_new (ctx->store, &ctx->pop3_config);
}

static gboolean
on_signal (gpointer user_data)
{
  ServeContext *ctx = user_data;

  g_main_loop_quit (ctx->loop);
  return G_SOURCE_CONTINUE;
}

static GInetAddress *
parse_ip (const char *address)
{
  gsize len = strlen (address);

  if (len >= 2 && address[0] == '[' && address[len - 1] == ']')
    {
      g_autofree char *inner = g_strndup (address + 1, len - 2);

      return g_inet_address_new_from_string (inner);
    }
  return g_inet_address_new_from_string (address);
}

/* "telnet ADDR PORT" for the hint: an any-address is reached through loopback. */
static char *
telnet_host_for (const char *address)
{
  g_autoptr(GInetAddress) inet = parse_ip (address);

  if (inet == NULL)
    return g_strdup (address);
  if (g_inet_address_get_is_any (inet))
    return g_strdup (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? "::1" : "127.0.0.1");
  return g_inet_address_to_string (inet);
}

static gboolean
open_store (const char    *data_dir,
            PlMailStore  **out_store,
            GError       **error)
{
  g_autoptr(PlMailStore) store = NULL;

  store = pl_maildir_store_new (data_dir, error);
  if (store == NULL)
    return FALSE;
  if (pl_maildir_store_is_empty (PL_MAILDIR_STORE (store)))
    {
      if (!pl_textbook_seed (store, error))
        return FALSE;
      printf ("New data folder %s: added the textbook's mailbox "
              "(user %s, password %s, %u messages)\n",
              data_dir, PL_TEXTBOOK_USER, PL_TEXTBOOK_PASSWORD, PL_TEXTBOOK_N_MESSAGES);
    }
  *out_store = g_steal_pointer (&store);
  return TRUE;
}

/*
 * Listens on each address in turn. With port 0 the kernel picks a port for
 * the first address and the others reuse it, so one port number names the
 * server. The default ::1 is optional: a machine with IPv6 switched off
 * still serves on 127.0.0.1.
 */
static gboolean
listen_all (PlService          *service,
            const char *const  *addresses,
            gboolean            defaults,
            guint16             port,
            GError            **error)
{
  guint16 bound = port;
  guint n_listening = 0;

  for (gsize i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GInetAddress) inet = parse_ip (addresses[i]);
      guint16 got = 0;

      if (!pl_service_listen (service, addresses[i], bound, &got, &local_error))
        {
          if (defaults && inet != NULL && g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6
              && g_error_matches (local_error, PL_NET_ERROR, PL_NET_ERROR_UNAVAILABLE)
              && n_listening > 0)
            {
              fprintf (stderr, "postlab-cli serve: warning: %s; going on without IPv6\n",
                       local_error->message);
              continue;
            }
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      n_listening++;
      bound = got;

      if (inet != NULL && !g_inet_address_get_is_loopback (inet))
        fprintf (stderr,
                 "postlab-cli serve: warning: listening on %s, not on loopback: anyone who can reach "
                 "this machine over the network (the whole class) can now connect, and POP3 sends "
                 "user names and passwords in clear text.\n", addresses[i]);
    }
  return TRUE;
}

int
pl_cmd_serve (int    argc,
              char **argv)
{
  static const char *const default_addresses[] = { "127.0.0.1", "::1", NULL };
  g_autofree char *data_dir = NULL;
  g_auto(GStrv) listen = NULL;
  int pop3_port = SERVE_DEFAULT_POP3_PORT;
  gboolean verbose = FALSE;
  int max_connections = PL_SERVICE_DEFAULT_MAX_CONNECTIONS;
  int auth_delay = PL_POP3_SERVER_DEFAULT_AUTH_DELAY_MS;
  int idle_timeout = -1;
  const GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      "The data folder: users file and Maildirs (default: the user data folder's postlab/)", "DIR" },
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &listen,
      "Listen on this IP address (repeatable; default 127.0.0.1 and ::1)", "ADDR" },
    { "pop3-port", 0, 0, G_OPTION_ARG_INT, &pop3_port,
      "POP3 port (default 1110; 0 lets the system choose)", "N" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Print each session's transcript as it happens", NULL },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
      "Connections served at once; more are refused (default 200)", "N" },
    { "auth-delay", 0, 0, G_OPTION_ARG_INT, &auth_delay,
      "Wait this long before answering a wrong password (default 1000)", "MS" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      "Close a POP3 connection idle this long (default 600, RFC 1939)", "SECONDS" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlMailStore) store = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlWriter) writer = NULL;
  g_autoptr(PlService) pop3 = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *telnet_host = NULL;
  const char *const *addresses;
  const char *const *endpoints;
  ServeContext ctx = { 0 };
  guint sigint_id, sigterm_id;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("serve", NULL,
                             "Runs the textbook's receiving mail server for " SERVE_DOMAIN " on real\n"
                             "sockets, loopback only unless --listen says otherwise. A new data folder\n"
                             "gets the textbook's mailbox: user bob, password hungry, two messages.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 1)
    return pl_cli_usage_error ("serve", "unexpected argument '%s'", argv[1]);
  if (pop3_port < 0 || pop3_port > 65535)
    return pl_cli_usage_error ("serve", "--pop3-port %d is not a port number (0-65535)", pop3_port);
  if (max_connections < 1)
    return pl_cli_usage_error ("serve", "--max-connections must be at least 1, not %d", max_connections);
  if (auth_delay < 0)
    return pl_cli_usage_error ("serve", "--auth-delay must be 0 or more milliseconds, not %d", auth_delay);
  if (idle_timeout == 0 || idle_timeout < -1 || idle_timeout > 24 * 3600)
    return pl_cli_usage_error ("serve", "--idle-timeout must be 1 to 86400 seconds, not %d", idle_timeout);

  /* Print each line as it happens, also into a pipe (tests, `| tee`). */
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (data_dir == NULL)
    data_dir = g_build_filename (g_get_user_data_dir (), "postlab", NULL);
  if (!open_store (data_dir, &store, &error))
    {
      pl_cli_error ("serve", "cannot use the data folder %s: %s", data_dir, error->message);
      return PL_EXIT_USAGE;
    }

  trace = pl_trace_new (FALSE);
  if (verbose)
    {
      writer = pl_writer_new (stdout, PL_WRITER_TEXT,
                              PL_WRITER_FLAGS_SESSION_LINES | PL_WRITER_FLAGS_SESSION_IDS);
      pl_writer_attach (writer, trace);
    }

  ctx.store = store;
  ctx.pop3_config.greeting = NULL;
  ctx.pop3_config.auth_failure_delay_ms = (guint) auth_delay;
  ctx.pop3_config.max_auth_failures = PL_POP3_SERVER_DEFAULT_MAX_AUTH_FAILURES;

  pop3 = pl_service_new (PL_PROTOCOL_POP3, trace, make_pop3_engine, &ctx, NULL);
  pl_service_set_refusal (pop3, POP3_REFUSAL);
  pl_service_set_max_connections (pop3, (guint) max_connections);
  if (idle_timeout > 0)
    pl_service_set_idle_timeout (pop3, (guint) idle_timeout * 1000);

  addresses = listen != NULL ? (const char *const *) listen : default_addresses;
  if (!listen_all (pop3, addresses, listen == NULL, (guint16) pop3_port, &error))
    {
      if (g_error_matches (error, PL_NET_ERROR, PL_NET_ERROR_IN_USE))
        pl_cli_error ("serve", "%s (is another 'postlab-cli serve' running? choose another port with "
                      "--pop3-port)", error->message);
      else
        pl_cli_error ("serve", "%s", error->message);
      return PL_EXIT_USAGE;
    }

  endpoints = pl_service_get_endpoints (pop3);
  for (gsize i = 0; endpoints[i] != NULL; i++)
    printf ("POP3 server for %s listening on %s\n", SERVE_DOMAIN, endpoints[i]);
  {
    const char *endpoint = endpoints[0];
    const char *colon = strrchr (endpoint, ':');
    g_autofree char *address = g_strndup (endpoint, colon - endpoint);

    telnet_host = telnet_host_for (address);
    printf ("try: telnet %s %s, then: user bob / pass hungry / list / retr 1 / quit\n",
            telnet_host, colon + 1);
  }
  printf ("Data folder: %s. Stop with Ctrl-C.\n", data_dir);

  loop = g_main_loop_new (NULL, FALSE);
  ctx.loop = loop;
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &ctx);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &ctx);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  printf ("Stopping: %u connection(s) open; sessions without QUIT delete nothing.\n",
          pl_service_get_n_connections (pop3));
  pl_service_stop (pop3);
  if (writer != NULL)
    pl_writer_detach (writer);
  return PL_EXIT_OK;
}
