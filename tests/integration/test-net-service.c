/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Tests of src/net on loopback: PlService and PlConnection driving a small echo engine, and the client runner. */
#define G_LOG_DOMAIN "postlab-test"

#include <string.h>

#include "pl-connection.h"
#include "pl-line-reader.h"
#include "pl-net-client.h"
#include "pl-net-error.h"
#include "pl-service.h"

/*
 * The test engine. As a server it greets with "+hello" and then answers
 * each line: "delay MS" (held back MS ms, then "+delayed"), "big N" (N
 * octets of 'x' and CRLF), "bye" ("+bye", then finishes), "#..." (no answer), anything else is
 * echoed. As a client it answers the greeting with "ping", the echo with
 * "bye", and finishes after "+bye".
 */
#define PL_TYPE_TEST_ECHO (pl_test_echo_get_type ())
G_DECLARE_FINAL_TYPE (PlTestEcho, pl_test_echo, PL, TEST_ECHO, PlEngine)

struct _PlTestEcho
{
  PlEngine      parent_instance;
  gboolean      server;
  PlLineReader *reader;
  gsize         received;
  guint         lost;
  guint         lines;
};

G_DEFINE_FINAL_TYPE (PlTestEcho, pl_test_echo, PL_TYPE_ENGINE)

static void
echo_send (PlTestEcho *self,
           const char *text)
{
  g_autofree char *line = g_strconcat (text, "\r\n", NULL);
  g_autoptr(PlEvent) event = pl_engine_send (PL_ENGINE (self),
                                             self->server ? PL_EVENT_REPLY : PL_EVENT_COMMAND,
                                             (const guint8 *) line, strlen (line));

  pl_engine_emit (PL_ENGINE (self), event);
}

static void
echo_start (PlEngine *engine)
{
  PlTestEcho *self = PL_TEST_ECHO (engine);

  if (self->server)
    echo_send (self, "+hello");
}

static void
echo_server_line (PlTestEcho *self,
                  const char *text)
{
  if (g_str_has_prefix (text, "delay "))
    {
      pl_engine_request_delay (PL_ENGINE (self), (guint) g_ascii_strtoull (text + 6, NULL, 10));
      echo_send (self, "+delayed");
    }
  else if (g_str_has_prefix (text, "big "))
    {
      gsize n = g_ascii_strtoull (text + 4, NULL, 10);
      g_autofree char *big = g_malloc (n + 1);

      memset (big, 'x', n);
      big[n] = '\0';
      echo_send (self, big);
    }
  else if (text[0] == '#')
    ;  /* a comment: no answer */
  else if (g_str_equal (text, "bye"))
    {
      echo_send (self, "+bye");
      pl_engine_finish (PL_ENGINE (self), FALSE);
    }
  else
    echo_send (self, text);
}

static void
echo_client_line (PlTestEcho *self,
                  const char *text)
{
  if (g_str_equal (text, "+hello"))
    echo_send (self, "ping");
  else if (g_str_equal (text, "ping"))
    echo_send (self, "bye");
  else if (g_str_equal (text, "+bye"))
    pl_engine_finish (PL_ENGINE (self), FALSE);
}

static void
echo_receive (PlEngine     *engine,
              const guint8 *data,
              gsize         len)
{
  PlTestEcho *self = PL_TEST_ECHO (engine);
  PlLine line;

  self->received += len;
  pl_line_reader_feed (self->reader, data, len);
  while (!pl_engine_is_finished (engine) && pl_line_reader_next (self->reader, &line))
    {
      g_autoptr(PlEvent) event = pl_event_new (self->server ? PL_EVENT_COMMAND : PL_EVENT_REPLY,
                                               self->server ? PL_DIR_CLIENT : PL_DIR_SERVER,
                                               line.data, line.raw_len);
      g_autofree char *text = g_strndup ((const char *) line.data, line.len);

      pl_engine_emit (engine, event);
      self->lines++;
      if (self->server)
        echo_server_line (self, text);
      else
        echo_client_line (self, text);
    }
}

static void
echo_connection_lost (PlEngine *engine)
{
  PL_TEST_ECHO (engine)->lost++;
}

static void
pl_test_echo_finalize (GObject *object)
{
  pl_line_reader_free (PL_TEST_ECHO (object)->reader);
  G_OBJECT_CLASS (pl_test_echo_parent_class)->finalize (object);
}

static void
pl_test_echo_class_init (PlTestEchoClass *klass)
{
  PlEngineClass *engine_class = PL_ENGINE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = pl_test_echo_finalize;
  engine_class->start = echo_start;
  engine_class->receive = echo_receive;
  engine_class->connection_lost = echo_connection_lost;
}

static void
pl_test_echo_init (PlTestEcho *self)
{
  self->reader = pl_line_reader_new (1024 * 1024);
  pl_engine_set_protocol (PL_ENGINE (self), PL_PROTOCOL_POP3);
}

static PlEngine *
pl_test_echo_new (gboolean server)
{
  PlTestEcho *self = g_object_new (PL_TYPE_TEST_ECHO, NULL);

  self->server = server;
  return PL_ENGINE (self);
}

static PlEngine *
make_echo_server (PlService *service,
                  gpointer   user_data)
{
  return pl_test_echo_new (TRUE);
}

/* The fixture: a service on 127.0.0.1, port chosen by the kernel, remembering its engines. */
typedef struct {
  PlTrace   *trace;
  PlService *service;
  GPtrArray *engines;    /* of PlTestEcho, one per accepted connection */
  guint16    port;
  GArray    *closed;     /* of guint, session ids as they close */
  GPtrArray *notes;      /* of char*, every note's text */
  gulong     listener;
} Fixture;

static PlEngine *
make_echo (PlService *service,
           gpointer   user_data)
{
  Fixture *fixture = user_data;
  PlEngine *engine = pl_test_echo_new (TRUE);

  g_ptr_array_add (fixture->engines, g_object_ref (engine));
  return engine;
}

static void
on_event_added (PlSession *session,
                PlEvent   *event,
                gpointer   user_data)
{
  Fixture *fixture = user_data;

  if (event->kind == PL_EVENT_NOTE)
    g_ptr_array_add (fixture->notes, g_strdup (event->text));
}

static void
on_session_closed (PlSession *session,
                   gpointer   user_data)
{
  Fixture *fixture = user_data;

  g_array_append_val (fixture->closed, session->id);
}

static const PlTraceListener fixture_listener = { NULL, on_event_added, on_session_closed };

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->trace = pl_trace_new (TRUE);
  fixture->engines = g_ptr_array_new_with_free_func (g_object_unref);
  fixture->closed = g_array_new (FALSE, FALSE, sizeof (guint));
  fixture->notes = g_ptr_array_new_with_free_func (g_free);
  fixture->listener = pl_trace_add_listener (fixture->trace, &fixture_listener, fixture);
  fixture->service = pl_service_new (PL_PROTOCOL_POP3, fixture->trace, make_echo, fixture, NULL);
  pl_service_set_refusal (fixture->service, "-ERR [SYS/TEMP] too many connections\r\n");
  g_assert_true (pl_service_listen (fixture->service, "127.0.0.1", 0, &fixture->port, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->port, >, 0);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  pl_service_stop (fixture->service);
  g_clear_object (&fixture->service);
  pl_trace_remove_listener (fixture->trace, fixture->listener);
  g_clear_object (&fixture->trace);
  g_ptr_array_unref (fixture->engines);
  g_array_unref (fixture->closed);
  g_ptr_array_unref (fixture->notes);
}

static void
iterate_until (gboolean (*done) (gpointer), gpointer data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  /* Polls rather than blocks: another thread may be what makes @done true. */
  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (500);
    }
}

static gboolean
have_one_closed (gpointer data)
{
  return ((Fixture *) data)->closed->len >= 1;
}

static void
iterate_for (guint milliseconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) milliseconds * 1000;

  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
}

/* A blocking client socket to the fixture's port. */
static GSocket *
connect_client (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, fixture->port);
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 10);
  return socket;
}

static void
client_send (GSocket    *socket,
             const char *text)
{
  g_autoptr(GError) error = NULL;
  gssize n = g_socket_send (socket, text, strlen (text), NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (n, ==, (gssize) strlen (text));
}

/*
 * Reads one line, running the main loop meanwhile (the server lives in this
 * thread): returns it without CRLF, or NULL at end of stream.
 */
static char *
client_read_line (GSocket *socket)
{
  GString *line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      char c;
      gssize n;

      g_main_context_iteration (NULL, FALSE);
      if (!g_socket_condition_check (socket, G_IO_IN | G_IO_HUP))
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_usleep (500);
          continue;
        }
      n = g_socket_receive (socket, &c, 1, NULL, &error);
      g_assert_no_error (error);
      if (n == 0)
        {
          g_string_free (line, TRUE);
          return NULL;
        }
      if (c == '\n')
        {
          if (line->len > 0 && line->str[line->len - 1] == '\r')
            g_string_truncate (line, line->len - 1);
          return g_string_free (line, FALSE);
        }
      g_string_append_c (line, c);
    }
}

static void
assert_read_line (GSocket    *socket,
                  const char *expected)
{
  g_autofree char *line = client_read_line (socket);

  g_assert_cmpstr (line, ==, expected);
}

static gboolean
notes_contain (Fixture    *fixture,
               const char *part)
{
  for (guint i = 0; i < fixture->notes->len; i++)
    if (strstr (g_ptr_array_index (fixture->notes, i), part) != NULL)
      return TRUE;
  return FALSE;
}

static void
test_echo_session (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_client (fixture);
  g_autofree char *server_endpoint = g_strdup_printf ("127.0.0.1:%u", fixture->port);
  PlSession *session;
  PlEvent *event;

  assert_read_line (socket, "+hello");
  client_send (socket, "one\r\n");
  assert_read_line (socket, "one");
  client_send (socket, "bye\r\n");
  assert_read_line (socket, "+bye");
  assert_read_line (socket, NULL);
  iterate_until (have_one_closed, fixture);

  /* The session: endpoints as DESIGN.md writes them, events in wire order, stamped. */
  g_assert_cmpuint (pl_trace_get_n_sessions (fixture->trace), ==, 1);
  session = pl_trace_get_session (fixture->trace, 1);
  g_assert_nonnull (session);
  g_assert_cmpstr (session->server, ==, server_endpoint);
  g_assert_true (g_str_has_prefix (session->client, "127.0.0.1:"));
  g_assert_false (pl_session_is_open (session));
  g_assert_cmpuint (pl_trace_get_n_events (fixture->trace), ==, 5);
  event = pl_trace_get_event (fixture->trace, 0);
  g_assert_cmpint (event->dir, ==, PL_DIR_SERVER);
  g_assert_cmpstr (event->text, ==, "+hello");
  g_assert_cmpfloat (event->time, >, 1e9);  /* wall-clock seconds */
  event = pl_trace_get_event (fixture->trace, 1);
  g_assert_cmpint (event->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpstr (event->text, ==, "one");
  g_assert_cmpuint (PL_TEST_ECHO (g_ptr_array_index (fixture->engines, 0))->lost, ==, 0);
  g_assert_cmpuint (pl_service_get_n_connections (fixture->service), ==, 0);
}

static void
test_ipv6_endpoint (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(PlService) service = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autofree char *expected = NULL;
  guint16 port = 0;
  PlSession *session;

  service = pl_service_new (PL_PROTOCOL_POP3, trace, make_echo_server, NULL, NULL);
  if (!pl_service_listen (service, "::1", 0, &port, &error))
    {
      g_test_skip_printf ("no IPv6 loopback here: %s", error->message);
      return;
    }
  expected = g_strdup_printf ("[::1]:%u", port);
  g_assert_cmpstr (pl_service_get_endpoints (service)[0], ==, expected);
  g_assert_null (pl_service_get_endpoints (service)[1]);

  connection = g_socket_client_connect_to_host (client, expected, 0, NULL, &error);
  g_assert_no_error (error);
  while (pl_trace_get_n_sessions (trace) == 0)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (500);
  session = pl_trace_get_session (trace, 1);
  g_assert_cmpstr (session->server, ==, expected);
  g_assert_true (g_str_has_prefix (session->client, "[::1]:"));
  pl_service_stop (service);
}

static void
test_refusal (Fixture       *fixture,
              gconstpointer  data)
{
  g_autoptr(GSocket) first = NULL;
  g_autoptr(GSocket) second = NULL;
  g_autoptr(GSocket) third = NULL;

  pl_service_set_max_connections (fixture->service, 2);
  first = connect_client (fixture);
  assert_read_line (first, "+hello");
  second = connect_client (fixture);
  assert_read_line (second, "+hello");

  /* One too many: the refusal line, then the end of the stream; no engine made. */
  third = connect_client (fixture);
  assert_read_line (third, "-ERR [SYS/TEMP] too many connections");
  assert_read_line (third, NULL);
  g_assert_cmpuint (fixture->engines->len, ==, 2);
  g_assert_cmpuint (pl_service_get_n_refused (fixture->service), ==, 1);
  g_assert_true (notes_contain (fixture, "connection refused"));

  /* The first two go on; once one leaves, a newcomer is served again. */
  client_send (first, "still here\r\n");
  assert_read_line (first, "still here");
  client_send (second, "bye\r\n");
  assert_read_line (second, "+bye");
  assert_read_line (second, NULL);
  g_clear_object (&third);
  third = connect_client (fixture);
  assert_read_line (third, "+hello");
}

static void
test_delay (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_client (fixture);
  gint64 start;
  gint64 elapsed;
  PlEvent *command;
  PlEvent *reply;

  assert_read_line (socket, "+hello");
  start = g_get_monotonic_time ();
  client_send (socket, "delay 300\r\n");
  assert_read_line (socket, "+delayed");
  elapsed = g_get_monotonic_time () - start;
  g_assert_cmpint (elapsed, >=, 300 * 1000);
  g_assert_cmpint (elapsed, <, 5000 * 1000);

  /* The reply's event is stamped when it went out, not when the engine made it. */
  command = pl_trace_get_event (fixture->trace, 1);
  reply = pl_trace_get_event (fixture->trace, 2);
  g_assert_cmpstr (command->text, ==, "delay 300");
  g_assert_cmpstr (reply->text, ==, "+delayed");
  g_assert_cmpfloat (reply->time - command->time, >=, 0.29);

  /* Reading resumes after the delay. */
  client_send (socket, "again\r\n");
  assert_read_line (socket, "again");
}

static void
test_idle_timeout (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GSocket) socket = NULL;
  gint64 start = g_get_monotonic_time ();

  pl_service_set_idle_timeout (fixture->service, 200);
  socket = connect_client (fixture);
  assert_read_line (socket, "+hello");
  assert_read_line (socket, NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 200 * 1000);
  iterate_until (have_one_closed, fixture);
  /* The engine's connection-lost path ran (a POP3 server deletes nothing there). */
  g_assert_cmpuint (PL_TEST_ECHO (g_ptr_array_index (fixture->engines, 0))->lost, ==, 1);
  g_assert_true (notes_contain (fixture, "idle timeout"));
}

static void
test_peer_closed (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_client (fixture);

  assert_read_line (socket, "+hello");
  client_send (socket, "one\r\n");
  assert_read_line (socket, "one");
  g_socket_close (socket, NULL);
  iterate_until (have_one_closed, fixture);
  g_assert_cmpuint (PL_TEST_ECHO (g_ptr_array_index (fixture->engines, 0))->lost, ==, 1);
  g_assert_true (notes_contain (fixture, "the client closed the connection"));
  g_assert_cmpuint (pl_service_get_n_connections (fixture->service), ==, 0);
}

static void
test_back_pressure (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_client (fixture);
  g_autofree char *flood = NULL;
  PlTestEcho *engine;
  gsize received_while_blocked;
  gsize total_read = 0;
  gsize flood_len = 4 * 1024 * 1024;
  gsize sent = 0;

  assert_read_line (socket, "+hello");
  engine = g_ptr_array_index (fixture->engines, 0);

  /* Ask for 8 MiB and do not read it: the server must stop reading from us. */
  client_send (socket, "big 8388608\r\n");
  flood = g_malloc (flood_len);
  memset (flood, 'y', flood_len);
  for (gsize i = 0; i < flood_len; i += 1024)
    {
      flood[i] = '#';
      flood[i + 1023] = '\n';
    }
  g_socket_set_blocking (socket, FALSE);
  for (guint round = 0; round < 200 && sent < flood_len; round++)
    {
      gssize n = g_socket_send (socket, flood + sent, flood_len - sent, NULL, NULL);

      if (n > 0)
        sent += (gsize) n;
      iterate_for (5);
    }
  received_while_blocked = engine->received;
  /* The rest waits in the kernel's buffers or in ours: the engine saw a bounded amount. */
  g_assert_cmpuint (sent, >, 0);
  g_assert_cmpuint (received_while_blocked, <, 64 * 1024);

  /* Drain the reply: the server reads again and the connection lives on. */
  g_socket_set_blocking (socket, TRUE);
  while (total_read < 8388608 + 2)
    {
      char buffer[65536];
      gssize n;

      g_main_context_iteration (NULL, FALSE);
      if (!g_socket_condition_check (socket, G_IO_IN))
        {
          g_usleep (200);
          continue;
        }
      n = g_socket_receive (socket, buffer, sizeof buffer, NULL, NULL);
      g_assert_cmpint (n, >, 0);
      total_read += (gsize) n;
    }
  g_assert_cmpuint (total_read, ==, 8388608 + 2);
  iterate_for (50);
  g_assert_cmpuint (engine->received, >, received_while_blocked);
}

static void
test_stop_closes_connections (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(GSocket) socket = connect_client (fixture);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) late = NULL;
  g_autofree char *endpoint = g_strdup_printf ("127.0.0.1:%u", fixture->port);

  assert_read_line (socket, "+hello");
  pl_service_stop (fixture->service);
  assert_read_line (socket, NULL);
  g_assert_cmpuint (PL_TEST_ECHO (g_ptr_array_index (fixture->engines, 0))->lost, ==, 1);
  g_assert_true (notes_contain (fixture, "shutting down"));

  late = g_socket_client_connect_to_host (client, endpoint, 0, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
}

static const struct {
  const char *address;
  PlNetError  code;
} bad_addresses[] = {
  { "localhost", PL_NET_ERROR_ADDRESS },
  { "127.0.0.1:1110", PL_NET_ERROR_ADDRESS },
  { "", PL_NET_ERROR_ADDRESS },
  { "[::1", PL_NET_ERROR_ADDRESS },
  { "192.0.2.77", PL_NET_ERROR_UNAVAILABLE },   /* TEST-NET-1: on no machine's interface */
};

static void
test_listen_errors (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(PlTrace) trace = pl_trace_new (FALSE);
  g_autoptr(PlService) other = pl_service_new (PL_PROTOCOL_POP3, trace, make_echo, fixture, NULL);
  g_autofree char *shown = g_strdup_printf ("127.0.0.1:%u", fixture->port);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_addresses); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("address '%s'", bad_addresses[i].address);
      g_assert_false (pl_service_listen (other, bad_addresses[i].address, 0, NULL, &error));
      g_assert_error (error, PL_NET_ERROR, (gint) bad_addresses[i].code);
    }
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (pl_service_listen (other, "127.0.0.1", fixture->port, NULL, &error));
    g_assert_error (error, PL_NET_ERROR, PL_NET_ERROR_IN_USE);
    g_assert_nonnull (strstr (error->message, shown));
  }
  g_assert_null (pl_service_get_endpoints (other)[0]);
}

/* The client runner blocks its thread, so it runs in one while this thread serves. */
typedef struct {
  guint16   port;
  PlEngine *engine;
  PlTrace  *trace;
  gboolean  ok;
  GError   *error;
  gint      done;
} ClientRun;

static gpointer
client_thread (gpointer data)
{
  ClientRun *run = data;
  PlNetClientConfig config = { 2000, 500 };

  run->ok = pl_net_client_run (run->engine, "127.0.0.1", run->port, run->trace, &config, &run->error);
  g_atomic_int_set (&run->done, 1);
  return NULL;
}

static gboolean
client_done (gpointer data)
{
  return g_atomic_int_get (&((ClientRun *) data)->done) == 1;
}

static void
run_client (ClientRun *run)
{
  GThread *thread = g_thread_new ("client", client_thread, run);

  iterate_until (client_done, run);
  g_thread_join (thread);
}

static void
test_client_run (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  ClientRun run = { fixture->port, engine, trace, FALSE, NULL, 0 };
  PlSession *session;
  g_autofree char *server_endpoint = g_strdup_printf ("127.0.0.1:%u", fixture->port);

  run_client (&run);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_true (pl_engine_is_finished (engine));
  g_assert_false (pl_engine_is_failed (engine));

  /* The client's session: its own endpoint first, then the server's. */
  session = pl_trace_get_session (trace, 1);
  g_assert_cmpstr (session->server, ==, server_endpoint);
  g_assert_false (pl_session_is_open (session));
  g_assert_cmpuint (pl_trace_get_n_events (trace), ==, 5);
  g_assert_cmpstr (pl_trace_get_event (trace, 0)->text, ==, "+hello");
  g_assert_cmpstr (pl_trace_get_event (trace, 1)->text, ==, "ping");
  g_assert_cmpint (pl_trace_get_event (trace, 1)->dir, ==, PL_DIR_CLIENT);
  g_assert_cmpstr (pl_trace_get_event (trace, 4)->text, ==, "+bye");
}

static void
test_client_refused (void)
{
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;

  /* A port that was just free: bind it, learn it, close it. */
  probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_true (g_socket_bind (probe, any, TRUE, &error));
  bound = g_socket_get_local_address (probe, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (probe, NULL);

  g_assert_false (pl_net_client_run (engine, "127.0.0.1", port, trace, NULL, &error));
  g_assert_error (error, PL_NET_ERROR, PL_NET_ERROR_CONNECT);
  g_assert_cmpuint (pl_trace_get_n_sessions (trace), ==, 0);
}

static PlEngine *make_silent (PlService *service,
                              gpointer   user_data);

/* The asynchronous runner, on this thread's main context (the relay's way). */
typedef struct {
  gboolean  done;
  gboolean  ok;
  GError   *error;
} AsyncOutcome;

static void
on_async_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  AsyncOutcome *outcome = user_data;

  outcome->ok = pl_net_client_run_finish (result, &outcome->error);
  outcome->done = TRUE;
}

static gboolean
async_done (gpointer data)
{
  return ((AsyncOutcome *) data)->done;
}

static void
test_client_run_async (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  PlNetClientConfig config = { 2000, 2000, PL_HOP_RELAY };
  AsyncOutcome outcome = { 0 };
  PlSession *session;

  pl_net_client_run_async (engine, "127.0.0.1", fixture->port, trace, &config, NULL, on_async_done, &outcome);
  g_assert_false (outcome.done);
  iterate_until (async_done, &outcome);
  g_assert_no_error (outcome.error);
  g_assert_true (outcome.ok);
  g_assert_true (pl_engine_is_finished (engine));
  session = pl_trace_get_session (trace, 1);
  g_assert_cmpint (session->hop, ==, PL_HOP_RELAY);
  g_assert_false (pl_session_is_open (session));
  g_assert_cmpuint (pl_trace_get_n_events (trace), ==, 5);
  g_assert_cmpstr (pl_trace_get_event (trace, 4)->text, ==, "+bye");
}

static guint16
closed_port (void)
{
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  guint16 port;

  probe = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_bind (probe, any, TRUE, NULL));
  bound = g_socket_get_local_address (probe, NULL);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (probe, NULL);
  return port;
}

static void
test_client_run_async_refused (void)
{
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  PlNetClientConfig config = { 2000, 2000, PL_HOP_RELAY };
  AsyncOutcome outcome = { 0 };
  guint16 port = closed_port ();
  g_autofree char *server = g_strdup_printf ("127.0.0.1:%u", port);
  PlSession *session;

  pl_net_client_run_async (engine, "127.0.0.1", port, trace, &config, NULL, on_async_done, &outcome);
  iterate_until (async_done, &outcome);
  g_assert_false (outcome.ok);
  g_assert_error (outcome.error, PL_NET_ERROR, PL_NET_ERROR_CONNECT);
  g_clear_error (&outcome.error);
  /* The attempt is a session of the trace, with a note saying why: a transcript shows it. */
  g_assert_cmpuint (pl_trace_get_n_sessions (trace), ==, 1);
  session = pl_trace_get_session (trace, 1);
  g_assert_cmpstr (session->client, ==, "?");
  g_assert_cmpstr (session->server, ==, server);
  g_assert_cmpint (session->hop, ==, PL_HOP_RELAY);
  g_assert_false (pl_session_is_open (session));
  g_assert_cmpuint (pl_trace_get_n_events (trace), ==, 1);
  g_assert_nonnull (strstr (pl_trace_get_event (trace, 0)->text, "connection refused"));
}

static void
test_client_run_async_cancel (void)
{
  g_autoptr(PlTrace) server_trace = pl_trace_new (FALSE);
  g_autoptr(PlService) service = pl_service_new (PL_PROTOCOL_POP3, server_trace, make_silent, NULL, NULL);
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  AsyncOutcome outcome = { 0 };
  guint16 port = 0;

  g_assert_true (pl_service_listen (service, "127.0.0.1", 0, &port, &error));
  pl_net_client_run_async (engine, "127.0.0.1", port, trace, NULL, cancellable, on_async_done, &outcome);
  iterate_for (100);
  g_assert_false (outcome.done);
  g_assert_cmpuint (pl_service_get_n_connections (service), ==, 1);
  g_cancellable_cancel (cancellable);
  iterate_until (async_done, &outcome);
  g_assert_error (outcome.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&outcome.error);
  /* The engine went the connection-lost way; the session is closed with a note. */
  g_assert_true (pl_engine_is_finished (engine));
  g_assert_false (pl_session_is_open (pl_trace_get_session (trace, 1)));
  pl_service_stop (service);
}

/* A service that is told who connects, and labels its sessions with a hop. */
typedef struct {
  char  *peer;
  PlHop  hop_at_open;
} PeerSeen;

static PlEngine *
make_echo_for_peer (PlService      *service,
                    GSocketAddress *remote,
                    gpointer        user_data)
{
  PeerSeen *seen = user_data;

  g_free (seen->peer);
  seen->peer = remote != NULL ? pl_endpoint_from_socket_address (remote) : NULL;
  return pl_test_echo_new (TRUE);
}

static void
record_hop (PlSession *session,
            gpointer   user_data)
{
  ((PeerSeen *) user_data)->hop_at_open = session->hop;
}

static void
test_service_peer_and_hop (void)
{
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  PeerSeen seen = { NULL, PL_HOP_UNKNOWN };
  const PlTraceListener listener = { record_hop, NULL, NULL };
  g_autoptr(PlService) service = pl_service_new_with_peer (PL_PROTOCOL_SMTP, trace, make_echo_for_peer,
                                                           &seen, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) client = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) target = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autofree char *local_endpoint = NULL;
  guint16 port = 0;

  pl_trace_add_listener (trace, &listener, &seen);
  pl_service_set_hop (service, PL_HOP_SUBMISSION);
  g_assert_true (pl_service_listen (service, "127.0.0.1", 0, &port, &error));
  target = g_inet_socket_address_new (loopback, port);
  client = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_true (g_socket_connect (client, target, NULL, &error));
  local = g_socket_get_local_address (client, &error);
  local_endpoint = pl_endpoint_from_socket_address (local);
  while (pl_service_get_n_accepted (service) == 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpstr (seen.peer, ==, local_endpoint);
  /* The hop is there when the listeners first hear of the session (a writer prints it then). */
  g_assert_cmpint (seen.hop_at_open, ==, PL_HOP_SUBMISSION);
  g_assert_cmpint (pl_trace_get_session (trace, 1)->hop, ==, PL_HOP_SUBMISSION);
  g_socket_close (client, NULL);
  pl_service_stop (service);
  g_free (seen.peer);
}

static PlEngine *
make_silent (PlService *service,
             gpointer   user_data)
{
  /* An engine in client mode says nothing until spoken to. */
  return pl_test_echo_new (FALSE);
}

static void
test_client_idle (void)
{
  g_autoptr(PlTrace) server_trace = pl_trace_new (FALSE);
  g_autoptr(PlService) service = pl_service_new (PL_PROTOCOL_POP3, server_trace, make_silent, NULL, NULL);
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(GError) error = NULL;
  ClientRun run = { 0, engine, trace, FALSE, NULL, 0 };
  gint64 start = g_get_monotonic_time ();

  g_assert_true (pl_service_listen (service, "127.0.0.1", 0, &run.port, &error));
  g_assert_no_error (error);
  run_client (&run);
  g_assert_false (run.ok);
  g_assert_error (run.error, PL_NET_ERROR, PL_NET_ERROR_TIMEOUT);
  g_clear_error (&run.error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 500 * 1000);
  pl_service_stop (service);
}

static void
test_client_server_hangs_up (Fixture       *fixture,
                             gconstpointer  data)
{
  g_autoptr(PlEngine) engine = pl_test_echo_new (FALSE);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  ClientRun run = { fixture->port, engine, trace, FALSE, NULL, 0 };

  /* The server turns every connection away: the client sees the refusal line, then the end. */
  pl_service_set_max_connections (fixture->service, 1);
  {
    g_autoptr(GSocket) holder = connect_client (fixture);

    assert_read_line (holder, "+hello");
    run_client (&run);
  }
  g_assert_false (run.ok);
  g_assert_error (run.error, PL_NET_ERROR, PL_NET_ERROR_CLOSED);
  g_clear_error (&run.error);
  g_assert_cmpstr (pl_trace_get_event (trace, 0)->text, ==, "-ERR [SYS/TEMP] too many connections");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define FIXTURE_TEST(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  FIXTURE_TEST ("/net/service/echo-session", test_echo_session);
  g_test_add_func ("/net/service/ipv6-endpoint", test_ipv6_endpoint);
  FIXTURE_TEST ("/net/service/refusal-beyond-max", test_refusal);
  FIXTURE_TEST ("/net/service/delay-holds-output", test_delay);
  FIXTURE_TEST ("/net/service/idle-timeout", test_idle_timeout);
  FIXTURE_TEST ("/net/service/peer-closed", test_peer_closed);
  FIXTURE_TEST ("/net/service/back-pressure", test_back_pressure);
  FIXTURE_TEST ("/net/service/stop-closes-connections", test_stop_closes_connections);
  FIXTURE_TEST ("/net/service/listen-errors", test_listen_errors);
  FIXTURE_TEST ("/net/client/run", test_client_run);
  g_test_add_func ("/net/client/connection-refused", test_client_refused);
  FIXTURE_TEST ("/net/client/server-hangs-up", test_client_server_hangs_up);
  g_test_add_func ("/net/client/idle-timeout", test_client_idle);
  FIXTURE_TEST ("/net/client/run-async", test_client_run_async);
  g_test_add_func ("/net/client/run-async-refused", test_client_run_async_refused);
  g_test_add_func ("/net/client/run-async-cancel", test_client_run_async_cancel);
  g_test_add_func ("/net/service/peer-and-hop", test_service_peer_and_hop);

  return g_test_run ();
}
