/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Benchmark of the GUI on a trace of a million events: first rows, frame times scrolling and animating, idle CPU. */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <gtk/gtk.h>

#include "pl-transcript-view.h"
#include "pl-window.h"

/*
 * Not a test: tests/bench/run-bench-gui.sh runs it under Xvfb and prints
 * what it measures. The trace is made in memory (POP3 sessions of the
 * textbook's shape, 100 events each), so what is timed is the GUI and not
 * a simulator or a capture file:
 *
 *   first_rows_ms   from handing the window the document to the end of the
 *                   first frame that shows its rows;
 *   scroll_*        GdkFrameClock frame intervals while the transcript scrolls
 *                   a page each frame, as a student holding Page Down would
 *                   (BENCH_JUMP=1: a 150th of the list, 6,700 rows, a frame);
 *   animate_*       the same while the window plays at 8×;
 *   paint_*         how long each frame took to lay out and draw (the CPU
 *                   work, free of the 60 Hz pacing of the frame clock);
 *   idle_cpu_ms     process CPU time used in 3 s of paused window (once GTK's
 *                   overlay scrollbars have faded out), and idle_frames.
 */

#define DEFAULT_EVENTS 1000000

static const char *const dialogue[][2] = {
  { "S", "+OK POP3 server ready" },
  { "C", "USER bob" },
  { "S", "+OK" },
  { "C", "PASS hungry" },
  { "S", "+OK user successfully logged on" },
  { "C", "LIST" },
  { "S", "+OK 2 messages (1410 octets)\r\n1 498\r\n2 912\r\n." },
  { "C", "QUIT" },
  { "S", "+OK POP3 server signing off" },
  { "C", "NOOP" },
};

static PlDocument *
make_document (guint n_events)
{
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(PlTopology) topology = pl_topology_new (NULL);
  PlSession *session = NULL;
  double t = 0;

  pl_topology_watch (topology, trace);
  for (guint i = 0; i < n_events; i++)
    {
      guint k = i % 100;
      const char *const *line = dialogue[k % G_N_ELEMENTS (dialogue)];
      g_autofree char *wire = g_strconcat (line[1], "\r\n", NULL);
      g_autoptr(PlEvent) event = NULL;

      if (k == 0)
        {
          g_autofree char *client = g_strdup_printf ("192.0.2.%u:%u", 10 + (i / 100) % 4, 40000 + (i / 100) % 20000);

          if (session != NULL)
            pl_trace_close_session (trace, session, t);
          session = pl_trace_open_session (trace, PL_PROTOCOL_POP3, client, "198.51.100.25:110", t);
          session->hop = PL_HOP_ACCESS;
        }
      event = pl_event_new (line[0][0] == 'C' ? PL_EVENT_COMMAND : PL_EVENT_REPLY,
                            line[0][0] == 'C' ? PL_DIR_CLIENT : PL_DIR_SERVER,
                            (const guint8 *) wire, strlen (wire));
      if (line[0][0] == 'C')
        pl_event_set_verb (event, line[1], "");
      else
        pl_event_set_status (event, g_str_has_prefix (line[1], "+OK") ? "+OK" : "-ERR");
      event->time = t;
      t += 0.001;
      pl_trace_add_event (trace, session, event);
    }
  pl_topology_unwatch (topology);
  return pl_document_new (PL_DOCUMENT_CAPTURE, "bench", NULL, trace, topology);
}

typedef struct {
  GArray *intervals;  /* of double, ms between frames */
  GArray *paints;     /* of double, ms from a frame's start to its end */
  gint64  last;
  gint64  frame_start;
  gboolean recording;
} Frames;

static void
on_before (GdkFrameClock *clock,
           gpointer       user_data)
{
  Frames *frames = user_data;

  frames->frame_start = g_get_monotonic_time ();
}

static void
on_after (GdkFrameClock *clock,
          gpointer       user_data)
{
  Frames *frames = user_data;
  gint64 now = g_get_monotonic_time ();

  if (frames->recording)
    {
      double paint = (now - frames->frame_start) / 1000.0;

      g_array_append_val (frames->paints, paint);
      if (frames->last > 0)
        {
          double interval = (now - frames->last) / 1000.0;

          g_array_append_val (frames->intervals, interval);
        }
    }
  frames->last = now;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
report (const char *what,
        GArray     *values)
{
  double sum = 0;

  if (values->len == 0)
    {
      printf (" %s_n=0", what);
      return;
    }
  g_array_sort (values, compare_doubles);
  for (guint i = 0; i < values->len; i++)
    sum += g_array_index (values, double, i);
  printf (" %s_n=%u %s_mean_ms=%.2f %s_median_ms=%.2f %s_p95_ms=%.2f %s_max_ms=%.2f",
          what, values->len, what, sum / values->len,
          what, g_array_index (values, double, values->len / 2),
          what, g_array_index (values, double, (guint) (values->len * 0.95)),
          what, g_array_index (values, double, values->len - 1));
}

static void
reset (Frames *frames)
{
  g_array_set_size (frames->intervals, 0);
  g_array_set_size (frames->paints, 0);
  frames->last = 0;
}

static gboolean
on_time_up (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @seconds, sleeping when there is nothing to do (so idle CPU is measurable). */
static void
run_for (double seconds)
{
  gboolean done = FALSE;

  g_timeout_add ((guint) (seconds * 1000), on_time_up, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
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
      if ((found = find_child (child, type)) != NULL)
        return found;
    }
  return NULL;
}

typedef struct {
  GtkAdjustment *adjustment;
  double         step;
} Scroller;

/* As kinetic scrolling does it: the frame clock's update phase moves the list before each layout. */
static gboolean
scroll_a_step (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  Scroller *scroller = user_data;
  double top = gtk_adjustment_get_upper (scroller->adjustment) - gtk_adjustment_get_page_size (scroller->adjustment);
  double value = gtk_adjustment_get_value (scroller->adjustment) + scroller->step;

  if (value > top || value < 0)
    {
      scroller->step = -scroller->step;
      value = gtk_adjustment_get_value (scroller->adjustment) + scroller->step;
    }
  gtk_adjustment_set_value (scroller->adjustment, value);
  return G_SOURCE_CONTINUE;
}

static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1000.0 + usage.ru_utime.tv_usec / 1000.0
         + usage.ru_stime.tv_sec * 1000.0 + usage.ru_stime.tv_usec / 1000.0;
}

int
main (int   argc,
      char *argv[])
{
  guint n_events = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : DEFAULT_EVENTS;
  g_autoptr(PlDocument) document = NULL;
  PlWindow *window;
  PlCursor *cursor;
  PlTranscriptView *transcript;
  GtkAdjustment *adjustment;
  GdkFrameClock *clock;
  Frames frames = { 0, };
  gint64 start;
  double build_ms;
  double first_rows_ms;
  double cpu_before;
  double idle_cpu;

  if (!gtk_init_check ())
    {
      fprintf (stderr, "bench-gui: no display (run it under xvfb-run)\n");
      return 77;
    }

  start = g_get_monotonic_time ();
  document = make_document (n_events);
  build_ms = (g_get_monotonic_time () - start) / 1000.0;

  window = g_object_new (PL_TYPE_WINDOW, NULL);
  pl_window_set_interactive (window, FALSE);
  gtk_window_present (GTK_WINDOW (window));
  run_for (1.0);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  frames.intervals = g_array_new (FALSE, FALSE, sizeof (double));
  frames.paints = g_array_new (FALSE, FALSE, sizeof (double));
  g_signal_connect (clock, "before-paint", G_CALLBACK (on_before), &frames);
  g_signal_connect (clock, "after-paint", G_CALLBACK (on_after), &frames);

  /* First rows: the document is handed over, then one frame shows it. */
  start = g_get_monotonic_time ();
  frames.recording = TRUE;
  pl_window_set_document (window, document);
  cursor = pl_window_get_cursor (window);
  pl_cursor_set_position (cursor, 1);
  gtk_widget_queue_draw (GTK_WIDGET (window));
  while (frames.paints->len == 0)
    g_main_context_iteration (NULL, TRUE);
  first_rows_ms = (g_get_monotonic_time () - start) / 1000.0;
  run_for (0.5);

  /* Scrolling: a page a frame (or a 150th of the list), down and back up, for five seconds. */
  transcript = find_child (GTK_WIDGET (window), PL_TYPE_TRANSCRIPT_VIEW);
  adjustment = gtk_scrolled_window_get_vadjustment (find_child (GTK_WIDGET (transcript), GTK_TYPE_SCROLLED_WINDOW));
  reset (&frames);
  {
    Scroller scroller = {
      adjustment,
      g_getenv ("BENCH_JUMP") != NULL
        ? (gtk_adjustment_get_upper (adjustment) - gtk_adjustment_get_page_size (adjustment)) / 150
        : gtk_adjustment_get_page_size (adjustment),
    };
    guint tick = gtk_widget_add_tick_callback (GTK_WIDGET (transcript), scroll_a_step, &scroller, NULL);

    run_for (5.0);
    gtk_widget_remove_tick_callback (GTK_WIDGET (transcript), tick);
  }
  printf ("events=%u build_ms=%.0f first_rows_ms=%.1f", n_events, build_ms, first_rows_ms);
  report ("scroll", frames.intervals);
  report ("scroll_paint", frames.paints);

  /* Animating: playing at 8× from the middle of the trace for five seconds. */
  pl_window_set_animations (window, TRUE);
  pl_cursor_set_position (cursor, n_events / 2);
  pl_cursor_set_speed (cursor, 8);
  run_for (0.3);
  reset (&frames);
  pl_cursor_set_playing (cursor, TRUE);
  run_for (5.0);
  pl_cursor_set_playing (cursor, FALSE);
  report ("animate", frames.intervals);
  report ("animate_paint", frames.paints);
  printf (" animate_steps=%u", pl_cursor_get_position (cursor) - n_events / 2);

  /*
   * Paused: nothing of ours should run at all. GTK fades the overlay
   * scrollbars out for about three seconds after the last scroll: that
   * is waited for first.
   */
  pl_cursor_finish_step (cursor);
  run_for (4.0);
  reset (&frames);
  cpu_before = cpu_ms ();
  run_for (3.0);
  idle_cpu = cpu_ms () - cpu_before;
  printf (" idle_frames=%u idle_cpu_ms=%.1f\n", frames.paints->len, idle_cpu);

  g_signal_handlers_disconnect_by_data (clock, &frames);
  gtk_window_destroy (GTK_WINDOW (window));
  g_array_unref (frames.intervals);
  g_array_unref (frames.paints);
  return 0;
}
