/* SPDX-License-Identifier: GPL-3.0-or-later */
/* GUI tests of the main window under a display (Xvfb): default scenario, stepping, captures, export. */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "pl-console.h"
#include "pl-document-loader.h"
#include "pl-ladder-view.h"
#include "pl-live-capture.h"
#include "pl-ladder-export.h"
#include "pl-sim-pcap.h"
#include "pl-sim.h"
#include "pl-topology-view.h"
#include "pl-trace-error.h"
#include "pl-transcript-view.h"
#include "pl-window.h"

#define TIMEOUT_SECONDS 60

/* The environment's business, not ours: a session bus may be missing under a bare Xvfb. */
static gboolean
ignore_bus_warnings (const char     *log_domain,
                     GLogLevelFlags  log_level,
                     const char     *message,
                     gpointer        user_data)
{
  if (log_level & G_LOG_LEVEL_WARNING
      && (strstr (message, "session bus") != NULL || strstr (message, "accessibility bus") != NULL))
    return FALSE;
  return TRUE;
}

typedef struct {
  PlWindow *window;
  gboolean  finished;
  gboolean  success;
  char     *message;
} Fixture;

static void
on_load_finished (PlWindow   *window,
                  gboolean    success,
                  const char *message,
                  gpointer    user_data)
{
  Fixture *fixture = user_data;

  fixture->finished = TRUE;
  fixture->success = success;
  g_free (fixture->message);
  fixture->message = g_strdup (message);
}

static gboolean
on_timeout (gpointer user_data)
{
  g_error ("timed out waiting for the window");
  return G_SOURCE_REMOVE;
}

static void
wait_for_load (Fixture *fixture)
{
  guint timeout = g_timeout_add_seconds (TIMEOUT_SECONDS, on_timeout, NULL);

  while (!fixture->finished)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
}

/* Lets GTK lay out and draw: a few frames' worth of main loop. */
static void
run_frames (Fixture *fixture,
            guint    n)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (fixture->window));

  for (guint i = 0; i < n; i++)
    {
      gint64 counter = clock != NULL ? gdk_frame_clock_get_frame_counter (clock) : 0;
      gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

      gtk_widget_queue_draw (GTK_WIDGET (fixture->window));
      while (clock != NULL && gdk_frame_clock_get_frame_counter (clock) == counter
             && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, FALSE);
    }
  /* What is pending now, but not frame after frame while something animates. */
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->window = g_object_new (PL_TYPE_WINDOW, NULL);
  g_object_ref_sink (fixture->window);
  /* The test moves the cursor itself: nothing may move on its own. */
  pl_window_set_animations (fixture->window, FALSE);
  pl_window_set_interactive (fixture->window, FALSE);
  g_signal_connect (fixture->window, "load-finished", G_CALLBACK (on_load_finished), fixture);
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_clear_object (&fixture->window);
  g_clear_pointer (&fixture->message, g_free);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
open_default (Fixture *fixture)
{
  pl_window_open_builtin (fixture->window, "textbook");
  g_assert_true (pl_window_get_loading (fixture->window));
  wait_for_load (fixture);
  g_assert_true (fixture->success);
  g_assert_false (pl_window_get_loading (fixture->window));
  run_frames (fixture, 2);
}

static gpointer
find_child (GtkWidget *widget,
            GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gpointer found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        return child;
      found = find_child (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
test_default_scenario (Fixture       *fixture,
                       gconstpointer  data)
{
  PlDocument *document;
  PlTopology *topology;
  PlCursor *cursor;
  PlTranscriptView *transcript;

  open_default (fixture);
  document = pl_window_get_document (fixture->window);
  g_assert_nonnull (document);
  g_assert_cmpint (pl_document_get_kind (document), ==, PL_DOCUMENT_SCENARIO);

  /* The textbook's path: Alice's user agent, both servers, Bob's. */
  topology = pl_document_get_topology (document);
  g_assert_cmpuint (pl_topology_get_n_hosts (topology), ==, 4);
  g_assert_cmpuint (pl_topology_get_column_size (topology, PL_TOPOLOGY_COLUMN_SENDERS), ==, 1);
  g_assert_cmpuint (pl_topology_get_column_size (topology, PL_TOPOLOGY_COLUMN_SENDING), ==, 1);
  g_assert_cmpuint (pl_topology_get_column_size (topology, PL_TOPOLOGY_COLUMN_RECEIVING), ==, 1);
  g_assert_cmpuint (pl_topology_get_column_size (topology, PL_TOPOLOGY_COLUMN_READERS), ==, 1);

  /* It opens at the start, every event a step, nothing selected yet. */
  cursor = pl_window_get_cursor (fixture->window);
  g_assert_cmpuint (pl_cursor_get_position (cursor), ==, 0);
  g_assert_cmpuint (pl_cursor_get_n_steps (cursor), ==, pl_trace_get_n_events (pl_document_get_trace (document)));
  g_assert_cmpuint (pl_cursor_get_n_steps (cursor), >, 40);
  transcript = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TRANSCRIPT_VIEW);
  g_assert_nonnull (transcript);
  g_assert_cmpuint (pl_transcript_view_get_selected (transcript), ==, GTK_INVALID_LIST_POSITION);
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (fixture->window)), ==,
                   pl_document_builtin_title ("textbook"));
}

/* Where the picture draws the current unit, at the step's end (progress 1) and halfway. */
typedef struct {
  guint    position;
  guint    selected;
  gboolean travelling;
  double   x;
  double   y;
  double   mid_x;
  double   mid_y;
  char    *caption;
} State;

static void
state_clear (State *state)
{
  g_clear_pointer (&state->caption, g_free);
}

static void
read_state (Fixture *fixture,
            State   *state)
{
  PlCursor *cursor = pl_window_get_cursor (fixture->window);
  PlTopologyView *topology = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TOPOLOGY_VIEW);
  PlTranscriptView *transcript = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TRANSCRIPT_VIEW);
  guint position = pl_cursor_get_position (cursor);

  state_clear (state);
  state->position = position;
  state->selected = pl_transcript_view_get_selected (transcript);
  pl_cursor_set_position_full (cursor, position, 0.5);
  if (!pl_topology_view_get_token (topology, &state->mid_x, &state->mid_y, NULL))
    state->mid_x = state->mid_y = -1;
  pl_cursor_set_position_full (cursor, position, 1.0);
  state->travelling = pl_topology_view_get_token (topology, &state->x, &state->y, &state->caption);
  if (!state->travelling)
    state->x = state->y = -1;
}

static void
test_step_forward (Fixture       *fixture,
                   gconstpointer  data)
{
  PlCursor *cursor;
  PlTrace *trace;
  guint moved = 0;
  State before = { 0, };
  State after = { 0, };

  open_default (fixture);
  cursor = pl_window_get_cursor (fixture->window);
  trace = pl_document_get_trace (pl_window_get_document (fixture->window));
  read_state (fixture, &before);
  g_assert_false (before.travelling);

  for (guint n = 1; n <= 20; n++)
    {
      PlEvent *event;

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.step-forward", NULL));
      /* Stepping forward starts the step's unit at the beginning of its way. */
      g_assert_cmpfloat (pl_cursor_get_progress (cursor), ==, 0.0);
      run_frames (fixture, 1);
      read_state (fixture, &after);

      /* The transcript is at row n (the n-th event, index n - 1). */
      g_assert_cmpuint (after.position, ==, n);
      g_assert_cmpuint (after.selected, ==, n - 1);

      event = pl_trace_get_event (trace, n - 1);
      if (event->kind == PL_EVENT_NOTE)
        {
          g_assert_false (after.travelling);
          continue;
        }
      /* A command or reply travels: it is somewhere else halfway than at its end. */
      g_assert_true (after.travelling);
      g_assert_cmpfloat (fabs (after.x - after.mid_x) + fabs (after.y - after.mid_y), >, 10);
      g_assert_nonnull (strstr (after.caption, event->dir == PL_DIR_CLIENT ? "C: " : "S: "));
      if (before.travelling && (after.x != before.x || after.y != before.y))
        moved++;
      state_clear (&before);
      before = after;
      after = (State) { 0, };
    }
  /* The envelope moves from link to link and end to end as the steps go. */
  g_assert_cmpuint (moved, >=, 8);
  state_clear (&before);
  state_clear (&after);
}

static void
test_step_back (Fixture       *fixture,
                gconstpointer  data)
{
  PlCursor *cursor;
  State at_12 = { 0, };
  State again = { 0, };

  open_default (fixture);
  cursor = pl_window_get_cursor (fixture->window);
  for (guint i = 0; i < 12; i++)
    gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.step-forward", NULL);
  pl_cursor_finish_step (cursor);
  run_frames (fixture, 1);
  read_state (fixture, &at_12);
  g_assert_cmpuint (at_12.position, ==, 12);

  for (guint i = 0; i < 5; i++)
    gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.step-forward", NULL);
  for (guint i = 0; i < 5; i++)
    gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.step-back", NULL);
  run_frames (fixture, 1);
  read_state (fixture, &again);

  /* The same step looks the same, however it was reached. */
  g_assert_cmpuint (again.position, ==, 12);
  g_assert_cmpuint (again.selected, ==, 11);
  g_assert_cmpint (again.travelling, ==, at_12.travelling);
  g_assert_cmpfloat (again.x, ==, at_12.x);
  g_assert_cmpfloat (again.y, ==, at_12.y);
  g_assert_cmpstr (again.caption, ==, at_12.caption);

  /* Back to the start, and nothing is selected. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.first", NULL);
  run_frames (fixture, 1);
  read_state (fixture, &again);
  g_assert_cmpuint (again.position, ==, 0);
  g_assert_cmpuint (again.selected, ==, GTK_INVALID_LIST_POSITION);
  g_assert_false (again.travelling);
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.step-back", NULL)
                  && pl_cursor_get_position (cursor) != 0);

  state_clear (&at_12);
  state_clear (&again);
}

/* The transcript keeps the current row in sight: at the last step it has scrolled. */
static void
test_transcript_follows (Fixture       *fixture,
                         gconstpointer  data)
{
  PlTranscriptView *transcript;
  GtkScrolledWindow *scrolled;
  GtkAdjustment *adjustment;

  open_default (fixture);
  transcript = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TRANSCRIPT_VIEW);
  scrolled = find_child (GTK_WIDGET (transcript), GTK_TYPE_SCROLLED_WINDOW);
  adjustment = gtk_scrolled_window_get_vadjustment (scrolled);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), ==, 0);

  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.last", NULL);
  run_frames (fixture, 3);
  g_assert_cmpuint (pl_transcript_view_get_selected (transcript), ==,
                    pl_cursor_get_n_steps (pl_window_get_cursor (fixture->window)) - 1);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), >, 0);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment) + gtk_adjustment_get_page_size (adjustment), >=,
                     gtk_adjustment_get_upper (adjustment) - 1);
}

static void
jump_on_load (PlWindow   *window,
              gboolean    success,
              const char *message,
              gpointer    user_data)
{
  pl_cursor_set_position (pl_window_get_cursor (window), GPOINTER_TO_UINT (user_data));
}

/* As --step does: the step is set the moment the document is there, before anything was drawn of it. */
static void
test_transcript_follows_at_once (Fixture       *fixture,
                                 gconstpointer  data)
{
  PlTranscriptView *transcript = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TRANSCRIPT_VIEW);
  GtkScrolledWindow *scrolled = find_child (GTK_WIDGET (transcript), GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (scrolled);

  g_signal_connect (fixture->window, "load-finished", G_CALLBACK (jump_on_load), GUINT_TO_POINTER (50));
  open_default (fixture);
  run_frames (fixture, 2);
  g_assert_cmpuint (pl_transcript_view_get_selected (transcript), ==, 49);
  g_assert_cmpfloat (gtk_adjustment_get_value (adjustment), >, 0);
}

/* Simulated segments written as a pcap: a capture with distinct hosts that the tests can make anywhere. */
static void
on_segment (const PlSimSegment *segment,
            gpointer            user_data)
{
  g_assert_true (pl_sim_pcap_writer_add (user_data, segment, NULL));
}

static char *
write_capture (const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) text = pl_sim_scenario_get_builtin ("two-devices");
  g_autoptr(PlSimScenario) scenario = NULL;
  g_autoptr(PlSim) sim = NULL;
  g_autoptr(PlTrace) trace = pl_trace_new (FALSE);
  g_autoptr(PlSimPcapWriter) writer = NULL;
  char *path = g_build_filename (dir, "two-devices.pcap", NULL);
  gsize len;
  const char *data = g_bytes_get_data (text, &len);

  scenario = pl_sim_scenario_new_from_data (data, (gssize) len, "two-devices.scenario", NULL, NULL, &error);
  g_assert_no_error (error);
  sim = pl_sim_new (scenario);
  writer = pl_sim_pcap_writer_new (path, pl_sim_scenario_get_epoch (scenario), &error);
  g_assert_no_error (error);
  pl_sim_add_segment_func (sim, on_segment, writer);
  pl_sim_run (sim, trace);
  g_assert_true (pl_sim_pcap_writer_commit (writer, &error));
  g_assert_no_error (error);
  return path;
}

static void
check_capture (Fixture    *fixture,
               const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  PlTranscriptView *transcript = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TRANSCRIPT_VIEW);
  PlDocument *document;
  guint n;

  fixture->finished = FALSE;
  pl_window_open_file (fixture->window, file);
  wait_for_load (fixture);
  g_assert_true (fixture->success);
  run_frames (fixture, 2);

  document = pl_window_get_document (fixture->window);
  g_assert_cmpint (pl_document_get_kind (document), ==, PL_DOCUMENT_CAPTURE);
  n = pl_trace_get_n_events (pl_document_get_trace (document));
  g_assert_cmpuint (n, >, 0);
  /* The transcript shows the capture's events, from the start. */
  g_assert_cmpuint (pl_cursor_get_n_steps (pl_window_get_cursor (fixture->window)), ==, n);
  g_assert_cmpuint (pl_transcript_view_get_selected (transcript), ==, GTK_INVALID_LIST_POSITION);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.step-forward", NULL));
  run_frames (fixture, 1);
  g_assert_cmpuint (pl_transcript_view_get_selected (transcript), ==, 0);
  /* Hosts laid out from the addresses seen. */
  g_assert_cmpuint (pl_topology_get_n_hosts (pl_document_get_topology (document)), >=, 2);
}

static void
test_open_capture (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("postlab-gui-XXXXXX", &error);
  g_autofree char *path = NULL;
  PlTopology *topology;
  gboolean pulls_from_b = FALSE;

  g_assert_no_error (error);
  open_default (fixture);
  path = write_capture (dir);
  check_capture (fixture, path);

  /* The capture of the two-devices scenario: Bob's laptop and phone both pull from the receiving server. */
  topology = pl_document_get_topology (pl_window_get_document (fixture->window));
  g_assert_cmpuint (pl_topology_get_n_hosts (topology), ==, 5);
  g_assert_cmpuint (pl_topology_get_column_size (topology, PL_TOPOLOGY_COLUMN_READERS), ==, 2);
  for (guint i = 0; i < pl_topology_get_n_hosts (topology); i++)
    if (g_str_equal (pl_topology_get_host (topology, i)->name, "mail.b.example"))
      pulls_from_b = pl_topology_get_host (topology, i)->role == PL_ROLE_RECEIVING_SERVER;
  g_assert_true (pulls_from_b);

  g_unlink (path);
  g_rmdir (dir);
}

/* Every capture shipped in captures/ opens and fills the transcript. */
static void
test_shipped_captures (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "..", "captures", NULL);
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_suffix (name, ".pcap") || g_str_has_suffix (name, ".pcapng"))
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);

        g_test_message ("opening %s", name);
        check_capture (fixture, path);
        n++;
      }
  if (n == 0)
    g_test_skip ("captures/ holds no capture yet");
}

static void
test_open_bad_file (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("postlab-gui-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "broken.pcap", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);

  g_assert_true (g_file_set_contents (path, "this is no capture\n", -1, NULL));
  open_default (fixture);
  fixture->finished = FALSE;
  pl_window_open_file (fixture->window, file);
  wait_for_load (fixture);
  /* The error is reported and the window keeps what it showed. */
  g_assert_false (fixture->success);
  g_assert_nonnull (fixture->message);
  g_assert_cmpint (pl_document_get_kind (pl_window_get_document (fixture->window)), ==, PL_DOCUMENT_SCENARIO);

  g_unlink (path);
  g_rmdir (dir);
}

/* Cancel (or Escape) while a capture loads: the window keeps what it showed and is free again. */
static void
test_cancel_loading (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("postlab-gui-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  PlDocument *before;

  g_assert_no_error (error);
  open_default (fixture);
  before = pl_window_get_document (fixture->window);
  path = write_capture (dir);
  file = g_file_new_for_path (path);

  fixture->finished = FALSE;
  pl_window_open_file (fixture->window, file);
  g_assert_true (pl_window_get_loading (fixture->window));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.escape", NULL));
  g_assert_true (fixture->finished);
  g_assert_false (fixture->success);
  g_assert_false (pl_window_get_loading (fixture->window));
  /* The late result of the cancelled load changes nothing. */
  run_frames (fixture, 3);
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_true (pl_window_get_document (fixture->window) == before);

  g_unlink (path);
  g_rmdir (dir);
}

static void
test_play (Fixture       *fixture,
           gconstpointer  data)
{
  PlCursor *cursor;
  gint64 deadline;

  open_default (fixture);
  cursor = pl_window_get_cursor (fixture->window);
  pl_window_set_animations (fixture->window, TRUE);
  pl_cursor_set_speed (cursor, 4);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.play", NULL));
  g_assert_true (pl_cursor_get_playing (cursor));

  /* Driven by the frame clock: steps go by without anyone stepping. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (pl_cursor_get_position (cursor) < 3 && g_get_monotonic_time () < deadline)
    run_frames (fixture, 1);
  g_assert_cmpuint (pl_cursor_get_position (cursor), >=, 3);
  g_assert_cmpuint (pl_cursor_get_position (cursor), <, pl_cursor_get_n_steps (cursor));
  g_assert_true (pl_cursor_get_playing (cursor));

  /* Space again: paused, and nothing moves any more. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.play", NULL));
  g_assert_false (pl_cursor_get_playing (cursor));
  pl_cursor_finish_step (cursor);
  g_assert_false (pl_cursor_get_animating (cursor));
}

/* A POP3 exchange on loopback, each side by hand: something for a live capture to see. */
static void
talk_pop3 (GSocket *listener,
           guint16  port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocket) accepted = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *where = g_strdup_printf ("127.0.0.1:%u", port);
  GOutputStream *out;
  GInputStream *in;
  char buffer[256];

  connection = g_socket_client_connect_to_host (client, where, port, NULL, &error);
  g_assert_no_error (error);
  accepted = g_socket_accept (listener, NULL, &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));

  g_assert_cmpint (g_socket_send (accepted, "+OK POP3 server ready\r\n", 23, NULL, &error), ==, 23);
  g_assert_cmpint (g_input_stream_read (in, buffer, sizeof buffer, NULL, &error), >, 0);
  g_assert_true (g_output_stream_write_all (out, "QUIT\r\n", 6, NULL, NULL, &error));
  g_assert_cmpint (g_socket_receive (accepted, buffer, sizeof buffer, NULL, &error), ==, 6);
  g_assert_cmpint (g_socket_send (accepted, "+OK POP3 server signing off\r\n", 29, NULL, &error), ==, 29);
  g_assert_cmpint (g_input_stream_read (in, buffer, sizeof buffer, NULL, &error), >, 0);
  g_socket_close (accepted, NULL);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
}

static void
test_live_capture (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(PlLiveCapture) live = NULL;
  g_autofree char *filter = NULL;
  PlDocument *document;
  gint64 deadline;
  guint16 port;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (listener, any_port, TRUE, &error));
  g_assert_true (g_socket_listen (listener, &error));
  bound = g_socket_get_local_address (listener, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  filter = g_strdup_printf ("tcp port %u", port);

  live = pl_live_capture_new ("lo", filter, &error);
  if (live == NULL && (g_error_matches (error, PL_TRACE_ERROR, PL_TRACE_ERROR_PERMISSION)
                       || g_error_matches (error, PL_TRACE_ERROR, PL_TRACE_ERROR_NO_DEVICE)))
    {
      g_test_skip_printf ("cannot capture on lo here: %s", error->message);
      return;
    }
  g_assert_no_error (error);
  document = pl_live_capture_get_document (live);
  pl_window_set_document (fixture->window, document);
  pl_live_capture_start (live);
  g_assert_true (pl_live_capture_get_running (live));

  talk_pop3 (listener, port);

  /* The events come on the main loop as they are captured, before the capture stops. */
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (pl_trace_get_n_events (pl_document_get_trace (document)) < 3 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (pl_trace_get_n_events (pl_document_get_trace (document)), >=, 3);
  g_assert_cmpuint (pl_cursor_get_n_steps (pl_window_get_cursor (fixture->window)), >=, 2);

  pl_live_capture_stop (live);
  g_assert_false (pl_live_capture_get_running (live));
  g_assert_cmpuint (pl_live_capture_get_n_packets (live), >=, 6);
  /* POP3 found by what it says, on a port of no mail protocol; two hosts on loopback. */
  g_assert_cmpint (pl_trace_get_session (pl_document_get_trace (document), 1)->protocol, ==, PL_PROTOCOL_POP3);
  for (guint i = 0; i < pl_trace_get_n_events (pl_document_get_trace (document)); i++)
    g_test_message ("%s", pl_trace_get_event (pl_document_get_trace (document), i)->text);
  g_assert_cmpuint (pl_trace_get_n_events (pl_document_get_trace (document)), >=, 3);
  g_assert_cmpuint (pl_topology_get_n_hosts (pl_document_get_topology (document)), ==, 2);
}

static guint
bob_count (PlDocument *document,
           guint       position)
{
  PlTopology *topology = pl_document_get_topology (document);
  guint count = G_MAXUINT;

  for (guint i = 0; i < pl_topology_get_n_mailboxes (topology); i++)
    if (g_strcmp0 (pl_topology_get_mailbox (topology, i)->user, "bob@b.example") == 0)
      g_assert_true (pl_topology_get_mailbox_at (topology, i, position, &count, NULL));
  return count;
}

/* Try it yourself: the student's lines reach the real engines, the transcript and the picture. */
static void
test_console (Fixture       *fixture,
              gconstpointer  data)
{
  static const char *pop3[] = { "user bob", "pass hungry", "list", "retr 1", "dele 1", "quit" };
  static const char *smtp[] = {
    "HELO you", "MAIL FROM:<alice@a.example>", "RCPT TO:<bob@b.example>", "DATA",
    "Subject: typed by hand", "", "Hello Bob.", ".", "QUIT",
  };
  PlConsole *console = find_child (GTK_WIDGET (fixture->window), PL_TYPE_CONSOLE);
  PlDocument *document;
  PlTrace *trace;
  g_autofree char *text = NULL;
  PlTopologyView *topology_view = find_child (GTK_WIDGET (fixture->window), PL_TYPE_TOPOLOGY_VIEW);
  guint n;

  open_default (fixture);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.console", NULL));
  pl_console_connect (console, PL_PROTOCOL_POP3);
  document = pl_window_get_document (fixture->window);
  g_assert_true (document == pl_console_get_document (console));
  g_assert_cmpint (pl_document_get_kind (document), ==, PL_DOCUMENT_CONSOLE);
  trace = pl_document_get_trace (document);
  /* The greeting is there, and the picture plays into what comes. */
  g_assert_cmpuint (pl_trace_get_n_events (trace), >=, 3);
  g_assert_cmpuint (bob_count (document, 0), ==, 2);

  for (guint i = 0; i < G_N_ELEMENTS (pop3); i++)
    {
      n = pl_trace_get_n_events (trace);
      g_assert_true (pl_console_type_line (console, pop3[i]));
      /* Each line is a command and its reply in the transcript. */
      g_assert_cmpuint (pl_trace_get_n_events (trace), >=, n + 2);
      g_assert_true (pl_cursor_get_playing (pl_window_get_cursor (fixture->window)));
    }
  text = pl_console_dup_text (console);
  g_assert_nonnull (strstr (text, "+OK user successfully logged on"));
  g_assert_nonnull (strstr (text, "+OK 2 messages"));
  /* QUIT ran POP3's UPDATE: one message left. */
  g_assert_cmpuint (bob_count (document, pl_trace_get_n_events (trace)), ==, 1);
  g_assert_false (pl_console_type_line (console, "noop"));

  /* The last step shows the last reply travelling from the server to the student. */
  pl_cursor_set_position_full (pl_window_get_cursor (fixture->window), pl_trace_get_n_events (trace) - 1, 0.5);
  run_frames (fixture, 1);
  g_assert_true (pl_topology_view_get_token (topology_view, NULL, NULL, NULL));

  /* SMTP puts a message back in. */
  pl_console_connect (console, PL_PROTOCOL_SMTP);
  for (guint i = 0; i < G_N_ELEMENTS (smtp); i++)
    g_assert_true (pl_console_type_line (console, smtp[i]));
  g_clear_pointer (&text, g_free);
  text = pl_console_dup_text (console);
  g_assert_nonnull (strstr (text, "250 2.0.0 Ok: delivered"));
  g_assert_cmpuint (bob_count (document, pl_trace_get_n_events (trace)), ==, 2);
  g_assert_cmpuint (pl_trace_get_n_sessions (trace), ==, 2);
}

static void
test_export (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("postlab-gui-XXXXXX", &error);
  g_autofree char *svg_path = g_build_filename (dir, "ladder.svg", NULL);
  g_autofree char *png_path = g_build_filename (dir, "ladder.png", NULL);
  g_autoptr(GFile) svg = g_file_new_for_path (svg_path);
  g_autoptr(GFile) png = g_file_new_for_path (png_path);
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *contents = NULL;
  PlLadderView *ladder;

  open_default (fixture);
  ladder = find_child (GTK_WIDGET (fixture->window), PL_TYPE_LADDER_VIEW);
  g_assert_true (pl_ladder_save_svg (pl_window_get_document (fixture->window), G_MAXUINT, svg, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (svg_path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "<?xml"));
  g_assert_nonnull (strstr (contents, "mail.b.example"));

  g_assert_true (pl_ladder_view_save_png (ladder, png, &error));
  g_assert_no_error (error);
  texture = gdk_texture_new_from_file (png, &error);
  g_assert_no_error (error);
  /* A row per step, under the host names. */
  g_assert_cmpint (gdk_texture_get_height (texture), >=,
                   (int) (pl_cursor_get_n_steps (pl_window_get_cursor (fixture->window)) * PL_LADDER_ROW_HEIGHT));

  g_unlink (svg_path);
  g_unlink (png_path);
  g_rmdir (dir);
}

/* The shortcuts window (Ctrl+?) is built from its resource and lists the stepping keys. */
static void
test_shortcuts_window (void)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/org/postlab/Postlab/pl-shortcuts-window.ui");
  GObject *window = gtk_builder_get_object (builder, "shortcuts_window");
  g_autoptr(GBytes) ui = g_resources_lookup_data ("/org/postlab/Postlab/pl-shortcuts-window.ui", 0, NULL);
  const char *text = g_bytes_get_data (ui, NULL);

  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (window));
  for (guint i = 0; i < 5; i++)
    g_assert_nonnull (strstr (text, (const char *[]) { "space", "Right", "Left", "Home", "End" }[i]));
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_log_set_fatal_handler (ignore_bus_warnings, NULL);
  if (!gtk_init_check ())
    {
      g_print ("1..0 # SKIP no display to open a window on (run under xvfb-run)\n");
      return 77;
    }
  g_object_set (gtk_settings_get_default (), "gtk-enable-animations", TRUE, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/gui/window/default-scenario", test_default_scenario);
  ADD ("/gui/window/step-forward", test_step_forward);
  ADD ("/gui/window/step-back", test_step_back);
  ADD ("/gui/window/transcript-follows", test_transcript_follows);
  ADD ("/gui/window/transcript-follows-at-once", test_transcript_follows_at_once);
  ADD ("/gui/window/play", test_play);
  ADD ("/gui/window/open-capture", test_open_capture);
  ADD ("/gui/window/shipped-captures", test_shipped_captures);
  ADD ("/gui/window/open-bad-file", test_open_bad_file);
  ADD ("/gui/window/cancel-loading", test_cancel_loading);
  ADD ("/gui/window/export", test_export);
  ADD ("/gui/window/live-capture", test_live_capture);
  ADD ("/gui/window/console", test_console);
#undef ADD
  g_test_add_func ("/gui/shortcuts-window", test_shortcuts_window);

  return g_test_run ();
}
