/* SPDX-License-Identifier: GPL-3.0-or-later */
/* postlab-cli serve: the world's mail servers (SMTP push, POP3 pull) on real sockets, loopback by default. */
#define G_LOG_DOMAIN "postlab-cli"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>

#include "pl-cli.h"
#include "pl-mail-server.h"
#include "pl-net-error.h"
#include "pl-pop3-server.h"
#include "pl-service.h"
#include "pl-world.h"
#include "pl-writer.h"

/* How long a stop waits for relay sessions under way to finish, so that nothing is sent twice. */
#define DRAIN_MS 3000

typedef struct {
  GMainLoop *loop;
} ServeContext;

static gboolean
on_signal (gpointer user_data)
{
  ServeContext *ctx = user_data;

  g_main_loop_quit (ctx->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_log (gboolean    warning,
        const char *line,
        gpointer    user_data)
{
  if (warning)
    {
      fprintf (stderr, "postlab-cli serve: warning: %s\n", line);
      fflush (stderr);
    }
  else
    printf ("%s\n", line);
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
host_for_hint (const char *endpoint,
               const char **port)
{
  const char *colon = strrchr (endpoint, ':');
  g_autofree char *address = g_strndup (endpoint, (gsize) (colon - endpoint));
  g_autoptr(GInetAddress) inet = parse_ip (address);

  *port = colon + 1;
  if (inet == NULL)
    return g_strdup (address);
  if (g_inet_address_get_is_any (inet))
    return g_strdup (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? "::1" : "127.0.0.1");
  return g_inet_address_to_string (inet);
}

/* Reads --world FILE: the core reads no files, so the bytes come from here. */
static PlWorld *
load_world (const char  *path,
            GError     **error)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (path == NULL)
    return pl_world_new_default (error);
  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  return pl_world_new_from_data (contents, (gssize) len, path, error);
}

/* "--port a.example:smtp=2525": which server, which service, which port. */
static gboolean
apply_port (PlWorld     *world,
            const char  *spec,
            GError     **error)
{
  const char *colon = strrchr (spec, ':');
  const char *equals = strchr (spec, '=');
  g_autofree char *server = NULL;
  g_autofree char *service = NULL;
  PlProtocol protocol;
  char *end = NULL;
  gint64 port;

  if (colon == NULL || equals == NULL || equals < colon || colon == spec)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                   "--port %s: write it as SERVER:SERVICE=PORT, e.g. a.example:smtp=2525", spec);
      return FALSE;
    }
  server = g_strndup (spec, (gsize) (colon - spec));
  service = g_ascii_strdown (colon + 1, equals - colon - 1);
  protocol = pl_protocol_from_string (service);
  if (protocol != PL_PROTOCOL_SMTP && protocol != PL_PROTOCOL_POP3)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                   "--port %s: the service is smtp or pop3, not %s", spec, service);
      return FALSE;
    }
  errno = 0;
  port = g_ascii_strtoll (equals + 1, &end, 10);
  if (equals[1] == '\0' || *end != '\0' || errno != 0 || port < 0 || port > 65535)
    {
      g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                   "--port %s: %s is not a port number (0-65535)", spec, equals + 1);
      return FALSE;
    }
  return pl_world_set_port (world, server, protocol, (int) port, error);
}

/* "1,2,5" or "1;2;5": seconds. */
static gboolean
apply_intervals (PlWorld     *world,
                 const char  *text,
                 GError     **error)
{
  g_auto(GStrv) items = g_strsplit_set (text, ",;", -1);
  g_autoptr(GArray) intervals = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint i = 0; items[i] != NULL; i++)
    {
      char *item = g_strstrip (items[i]);
      char *end = NULL;
      double seconds;

      if (*item == '\0')
        continue;
      seconds = g_ascii_strtod (item, &end);
      if (*end != '\0' || !(seconds > 0))
        {
          g_set_error (error, PL_WORLD_ERROR, PL_WORLD_ERROR_INVALID,
                       "--retry-intervals %s: %s is not a number of seconds above 0", text, item);
          return FALSE;
        }
      g_array_append_val (intervals, seconds);
    }
  return pl_world_set_retry_intervals (world, (const double *) (gconstpointer) intervals->data,
                                       intervals->len, error);
}

/* The receiving server whose POP3 port --pop3-port sets (b.example's, in the default world). */
static const PlWorldServer *
pop3_port_server (PlWorld *world)
{
  for (guint i = 0; i < pl_world_get_n_servers (world); i++)
    {
      const PlWorldServer *server = pl_world_get_server (world, i);

      if (server->role == PL_ROLE_RECEIVING_SERVER && server->pop3_port >= 0)
        return server;
    }
  for (guint i = 0; i < pl_world_get_n_servers (world); i++)
    if (pl_world_get_server (world, i)->pop3_port >= 0)
      return pl_world_get_server (world, i);
  return NULL;
}

static void
print_listeners (PlMailServer *server)
{
  const PlWorldServer *ws = pl_mail_server_get_world_server (server);
  PlService *smtp = pl_mail_server_get_service (server, PL_PROTOCOL_SMTP);
  PlService *pop3 = pl_mail_server_get_service (server, PL_PROTOCOL_POP3);

  if (smtp != NULL)
    {
      const char *const *endpoints = pl_service_get_endpoints (smtp);
      g_autofree char *what = pl_world_server_relays (ws)
        ? g_strdup_printf ("sending, relays for %s", ws->domain)
        : g_strdup_printf ("receiving, delivers to %s", ws->domain);

      for (gsize i = 0; endpoints[i] != NULL; i++)
        printf ("SMTP server %s (%s) listening on %s\n", ws->hostname, what, endpoints[i]);
    }
  if (pop3 != NULL)
    {
      const char *const *endpoints = pl_service_get_endpoints (pop3);

      for (gsize i = 0; endpoints[i] != NULL; i++)
        printf ("POP3 server for %s listening on %s\n", ws->domain, endpoints[i]);
    }
}

/* "try: ..." lines: a POP3 login of the textbook (or of the first user), and a submission. */
static void
print_hints (PlWorld   *world,
             GPtrArray *servers)
{
  PlMailServer *pop3_server = NULL;
  const PlWorldUser *pop3_user = NULL;
  PlMailServer *sender = NULL;

  for (guint i = 0; i < servers->len; i++)
    {
      PlMailServer *server = g_ptr_array_index (servers, i);
      const PlWorldDomain *domain = pl_world_lookup_domain (world, pl_mail_server_get_domain (server));

      if (pl_mail_server_get_service (server, PL_PROTOCOL_POP3) != NULL)
        for (guint u = 0; u < domain->users->len; u++)
          {
            const PlWorldUser *user = g_ptr_array_index (domain->users, u);

            if (pop3_user == NULL || (user->mailbox != NULL && pop3_user->mailbox == NULL))
              {
                pop3_user = user;
                pop3_server = server;
              }
          }
      if (sender == NULL && pl_mail_server_get_relay (server) != NULL
          && pl_mail_server_get_service (server, PL_PROTOCOL_SMTP) != NULL)
        sender = server;
    }
  if (pop3_user != NULL)
    {
      const char *port;
      g_autofree char *host = host_for_hint (pl_service_get_endpoints (
        pl_mail_server_get_service (pop3_server, PL_PROTOCOL_POP3))[0], &port);

      printf ("try: telnet %s %s, then: user %s / pass %s / list / retr 1 / quit\n",
              host, port, pop3_user->name, pop3_user->password);
    }
  if (sender != NULL)
    {
      const PlWorldDomain *domain = pl_world_lookup_domain (world, pl_mail_server_get_domain (sender));
      const PlWorldUser *from = domain->users->len > 0 ? g_ptr_array_index (domain->users, 0) : NULL;
      const PlWorldUser *to = NULL;
      const char *port;
      g_autofree char *host = host_for_hint (pl_service_get_endpoints (
        pl_mail_server_get_service (sender, PL_PROTOCOL_SMTP))[0], &port);

      for (guint d = 0; d < pl_world_get_n_domains (world) && to == NULL; d++)
        {
          const PlWorldDomain *other = pl_world_get_domain (world, d);

          if (other != domain && other->users->len > 0)
            to = g_ptr_array_index (other->users, 0);
        }
      if (from != NULL && to != NULL)
        printf ("try: swaks --server %s:%s --from %s --to %s (AUTH: %s / %s)\n",
                host, port, from->address, to->address, from->name, from->password);
    }
}

/* Lets the main loop run until @done says so or @ms pass. */
static void
run_until (gboolean (*done) (GPtrArray *servers),
           GPtrArray *servers,
           guint      ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) ms * 1000;

  while (!done (servers) && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

static gboolean
relays_idle (GPtrArray *servers)
{
  for (guint i = 0; i < servers->len; i++)
    {
      PlRelay *relay = pl_mail_server_get_relay (g_ptr_array_index (servers, i));

      if (relay != NULL && pl_relay_get_n_sessions (relay) > 0)
        return FALSE;
    }
  return TRUE;
}

int
pl_cmd_serve (int    argc,
              char **argv)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *world_path = NULL;
  g_autofree char *retry_intervals = NULL;
  g_auto(GStrv) listen = NULL;
  g_auto(GStrv) ports = NULL;
  g_auto(GStrv) only = NULL;
  int pop3_port = -1;
  gboolean verbose = FALSE;
  int max_connections = PL_SERVICE_DEFAULT_MAX_CONNECTIONS;
  int auth_delay = PL_POP3_SERVER_DEFAULT_AUTH_DELAY_MS;
  int idle_timeout = -1;
  const GOptionEntry entries[] = {
    { "world", 0, 0, G_OPTION_ARG_FILENAME, &world_path,
      "The world to run: domains, servers, users, ports (default: the built-in world.ini)", "FILE" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir,
      "The data folder: one folder per domain with its users, Maildirs and queue "
      "(default: the user data folder's postlab/)", "DIR" },
    { "listen", 0, 0, G_OPTION_ARG_STRING_ARRAY, &listen,
      "Listen on this IP address (repeatable; default: the world's, 127.0.0.1 and ::1)", "ADDR" },
    { "port", 0, 0, G_OPTION_ARG_STRING_ARRAY, &ports,
      "Change a port of the world: SERVER is a domain or host name, SERVICE smtp or pop3, "
      "0 lets the system choose (repeatable; e.g. --port b.example:smtp=2626)", "SERVER:SERVICE=PORT" },
    { "pop3-port", 0, 0, G_OPTION_ARG_INT, &pop3_port,
      "POP3 port of the receiving server, b.example (default 1110); the same as --port b.example:pop3=N", "N" },
    { "server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &only,
      "Run only this server of the world (a domain or host name; repeatable; default: all)", "NAME" },
    { "retry-intervals", 0, 0, G_OPTION_ARG_STRING, &retry_intervals,
      "Seconds between a relay's tries, e.g. 60,300,900,3600 (default: the world's); after the last, bounce",
      "LIST" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      "Print each session's transcript as it happens, relay sessions included", NULL },
    { "max-connections", 0, 0, G_OPTION_ARG_INT, &max_connections,
      "Connections each service serves at once; more are refused (default 200)", "N" },
    { "auth-delay", 0, 0, G_OPTION_ARG_INT, &auth_delay,
      "Wait this long before answering a wrong password (default 1000)", "MS" },
    { "idle-timeout", 0, 0, G_OPTION_ARG_INT, &idle_timeout,
      "Close a connection idle this long (default: SMTP 300, POP3 600, as the RFCs say)", "SECONDS" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(PlWorld) world = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlWriter) writer = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func (g_object_unref);
  PlMailServerConfig config = { 0 };
  ServeContext ctx = { 0 };
  guint sigint_id, sigterm_id;
  guint n_open = 0, n_queued = 0;
  int exit_code = PL_EXIT_OK;

  if (!pl_cli_parse_options ("serve", NULL,
                             "Runs the world's mail servers on real sockets, loopback only unless --listen\n"
                             "says otherwise. The default world is the textbook's: mail.a.example (SMTP 2525,\n"
                             "POP3 1111) sends Alice's mail and relays it to mail.b.example (SMTP 2526, POP3\n"
                             "1110), where Bob (password hungry) reads it. A new data folder gets the world's\n"
                             "users and the textbook's mailbox for Bob.",
                             entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc > 1)
    return pl_cli_usage_error ("serve", "unexpected argument '%s'", argv[1]);
  if (pop3_port != -1 && (pop3_port < 0 || pop3_port > 65535))
    return pl_cli_usage_error ("serve", "--pop3-port %d is not a port number (0-65535)", pop3_port);
  if (max_connections < 1)
    return pl_cli_usage_error ("serve", "--max-connections must be at least 1, not %d", max_connections);
  if (auth_delay < 0)
    return pl_cli_usage_error ("serve", "--auth-delay must be 0 or more milliseconds, not %d", auth_delay);
  if (idle_timeout == 0 || idle_timeout < -1 || idle_timeout > 24 * 3600)
    return pl_cli_usage_error ("serve", "--idle-timeout must be 1 to 86400 seconds, not %d", idle_timeout);

  world = load_world (world_path, &error);
  if (world == NULL)
    {
      pl_cli_error ("serve", "%s", error->message);
      return PL_EXIT_USAGE;
    }
  if (listen != NULL && !pl_world_set_listen (world, (const char *const *) listen, &error))
    return pl_cli_usage_error ("serve", "%s", error->message);
  for (guint i = 0; ports != NULL && ports[i] != NULL; i++)
    if (!apply_port (world, ports[i], &error))
      return pl_cli_usage_error ("serve", "%s", error->message);
  if (pop3_port != -1)
    {
      const PlWorldServer *server = pop3_port_server (world);

      if (server == NULL)
        return pl_cli_usage_error ("serve", "--pop3-port: the world (%s) has no POP3 server",
                                   pl_world_get_source (world));
      if (!pl_world_set_port (world, server->hostname, PL_PROTOCOL_POP3, pop3_port, &error))
        return pl_cli_usage_error ("serve", "%s", error->message);
    }
  if (retry_intervals != NULL && !apply_intervals (world, retry_intervals, &error))
    return pl_cli_usage_error ("serve", "%s", error->message);
  for (guint i = 0; only != NULL && only[i] != NULL; i++)
    if (pl_world_lookup_server (world, only[i]) == NULL)
      return pl_cli_usage_error ("serve", "--server %s: the world (%s) has no such server or domain",
                                 only[i], pl_world_get_source (world));

  /* Print each line as it happens, also into a pipe (tests, `| tee`). */
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (data_dir == NULL)
    data_dir = g_build_filename (g_get_user_data_dir (), "postlab", NULL);

  trace = pl_trace_new (FALSE);
  if (verbose)
    {
      writer = pl_writer_new (stdout, PL_WRITER_TEXT,
                              PL_WRITER_FLAGS_SESSION_LINES | PL_WRITER_FLAGS_SESSION_IDS);
      pl_writer_attach (writer, trace);
    }

  config.auth_delay_ms = (guint) auth_delay;
  config.max_connections = (guint) max_connections;
  config.idle_timeout_ms = idle_timeout > 0 ? (guint) idle_timeout * 1000 : 0;
  /* The world's own loopback pair: a machine with IPv6 switched off still serves on 127.0.0.1. */
  config.ipv6_optional = listen == NULL;

  for (guint i = 0; i < pl_world_get_n_servers (world); i++)
    {
      const PlWorldServer *ws = pl_world_get_server (world, i);
      gboolean wanted = only == NULL;
      PlMailServer *server;

      for (guint j = 0; only != NULL && only[j] != NULL && !wanted; j++)
        wanted = pl_world_lookup_server (world, only[j]) == ws;
      if (!wanted)
        continue;
      server = pl_mail_server_new (world, ws->hostname, data_dir, trace, &config, &error);
      if (server == NULL)
        {
          if (g_error_matches (error, PL_STORE_ERROR, PL_STORE_ERROR_LOCKED))
            pl_cli_error ("serve", "%s", error->message);
          else
            pl_cli_error ("serve", "cannot use the data folder %s: %s", data_dir, error->message);
          return PL_EXIT_USAGE;
        }
      pl_mail_server_set_log_func (server, on_log, NULL);
      g_ptr_array_add (servers, server);
      if (pl_mail_server_get_setup_report (server) != NULL)
        printf ("%s\n", pl_mail_server_get_setup_report (server));
    }

  for (guint i = 0; i < servers->len; i++)
    {
      PlMailServer *server = g_ptr_array_index (servers, i);

      if (!pl_mail_server_listen (server, &error))
        {
          if (g_error_matches (error, PL_NET_ERROR, PL_NET_ERROR_IN_USE))
            pl_cli_error ("serve", "%s (is another 'postlab-cli serve' running? choose other ports with "
                          "--port SERVER:SERVICE=N, or --pop3-port)", error->message);
          else
            pl_cli_error ("serve", "%s", error->message);
          for (guint j = 0; j < servers->len; j++)
            pl_mail_server_stop (g_ptr_array_index (servers, j));
          return PL_EXIT_USAGE;
        }
    }
  /* Servers of this process trace their own side of a relay session: one connection, one session. */
  for (guint i = 0; i < servers->len; i++)
    {
      PlRelay *relay = pl_mail_server_get_relay (g_ptr_array_index (servers, i));

      for (guint j = 0; relay != NULL && j < servers->len; j++)
        pl_relay_add_local_server (relay, pl_mail_server_get_hostname (g_ptr_array_index (servers, j)));
    }
  for (guint i = 0; i < servers->len; i++)
    print_listeners (g_ptr_array_index (servers, i));
  for (guint i = 0; listen != NULL && listen[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) inet = parse_ip (listen[i]);

      if (inet != NULL && !g_inet_address_get_is_loopback (inet))
        fprintf (stderr,
                 "postlab-cli serve: warning: listening on %s, not on loopback: anyone who can reach "
                 "this machine over the network (the whole class) can now connect, and POP3 and SMTP "
                 "AUTH send user names and passwords in clear text.\n", listen[i]);
    }
  print_hints (world, servers);
  printf ("World: %s. Data folder: %s. Stop with Ctrl-C.\n", pl_world_get_source (world), data_dir);

  /* Only now, with every server listening, may the relays pick up what is queued. */
  for (guint i = 0; i < servers->len; i++)
    if (!pl_mail_server_start_relay (g_ptr_array_index (servers, i), &error))
      {
        pl_cli_error ("serve", "%s", error->message);
        g_clear_error (&error);
      }

  loop = g_main_loop_new (NULL, FALSE);
  ctx.loop = loop;
  sigint_id = g_unix_signal_add (SIGINT, on_signal, &ctx);
  sigterm_id = g_unix_signal_add (SIGTERM, on_signal, &ctx);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  /*
   * A relay session under way is let finish (the receiving server is
   * still up), so that a message the next hop took is not left queued and
   * sent again; new tries wait for the next start.
   */
  for (guint i = 0; i < servers->len; i++)
    {
      PlMailServer *server = g_ptr_array_index (servers, i);

      if (pl_mail_server_get_relay (server) != NULL)
        pl_relay_pause (pl_mail_server_get_relay (server));
    }
  run_until (relays_idle, servers, DRAIN_MS);

  for (guint i = 0; i < servers->len; i++)
    {
      PlMailServer *server = g_ptr_array_index (servers, i);
      PlService *smtp = pl_mail_server_get_service (server, PL_PROTOCOL_SMTP);
      PlService *pop3 = pl_mail_server_get_service (server, PL_PROTOCOL_POP3);

      n_open += (smtp != NULL ? pl_service_get_n_connections (smtp) : 0)
                + (pop3 != NULL ? pl_service_get_n_connections (pop3) : 0);
      if (pl_mail_server_get_relay (server) != NULL)
        n_queued += pl_relay_get_n_queued (pl_mail_server_get_relay (server));
    }
  printf ("Stopping: %u connection(s) open; sessions without QUIT delete nothing; "
          "%u message(s) stay queued for the next start.\n", n_open, n_queued);
  for (guint i = 0; i < servers->len; i++)
    pl_mail_server_stop (g_ptr_array_index (servers, i));
  /* Let cancelled sessions run down before the objects go. */
  run_until (relays_idle, servers, 1000);
  if (writer != NULL)
    pl_writer_detach (writer);
  return PL_EXIT_OK;
}
