/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Opening documents: scenarios run by the simulator, pcap and pcapng files read by the tracer. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pl-document-loader.h"
#include "pl-sim.h"
#include "pl-tracer.h"

/* How often a capture's loop looks at the cancellable and reports progress, in packets. */
#define PACKETS_PER_CHECK 512

typedef struct {
  const char *name;
  const char *title;
} Builtin;

static const Builtin builtins[] = {
  { "textbook",    N_("The textbook: push, push, pull") },
  { "two-devices", N_("Two devices, one POP3 mailbox") },
};

const char *
pl_document_builtin_title (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (builtins); i++)
    if (g_strcmp0 (builtins[i].name, name) == 0)
      return _(builtins[i].title);
  return name;
}

PlDocumentKind
pl_document_sniff (GFile *file)
{
  g_autoptr(GFileInputStream) stream = NULL;
  g_autofree char *name = NULL;
  guint8 magic[4] = { 0 };
  gsize got = 0;
  static const guint8 pcap_magics[][4] = {
    { 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },   /* microseconds, either byte order */
    { 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },   /* nanoseconds */
    { 0x0a, 0x0d, 0x0d, 0x0a },                               /* pcapng: a Section Header Block */
  };

  g_return_val_if_fail (G_IS_FILE (file), PL_DOCUMENT_SCENARIO);

  stream = g_file_read (file, NULL, NULL);
  if (stream != NULL
      && g_input_stream_read_all (G_INPUT_STREAM (stream), magic, sizeof magic, &got, NULL, NULL)
      && got == sizeof magic)
    for (guint i = 0; i < G_N_ELEMENTS (pcap_magics); i++)
      if (memcmp (magic, pcap_magics[i], sizeof magic) == 0)
        return PL_DOCUMENT_CAPTURE;

  /* A capture that cannot be read is still a capture: let the tracer say what is wrong. */
  name = g_file_get_basename (file);
  if (name != NULL && (g_str_has_suffix (name, ".pcap") || g_str_has_suffix (name, ".pcapng")
                       || g_str_has_suffix (name, ".cap")))
    return PL_DOCUMENT_CAPTURE;
  return PL_DOCUMENT_SCENARIO;
}

/* Scenarios --------------------------------------------------------------------- */

static void
on_segment (const PlSimSegment *segment,
            gpointer            user_data)
{
  GArray *segments = user_data;
  PlDocumentSegment copy = {
    .depart = pl_sim_time_to_seconds (segment->depart),
    .arrive = pl_sim_time_to_seconds (segment->arrive),
    .session = segment->session,
    .src = segment->src_host,
    .dst = segment->dst_host,
    .seq = segment->seq,
    .ack = segment->ack,
    .len = (guint32) segment->len,
    .flags = segment->flags,
  };

  g_array_append_val (segments, copy);
}

static int
compare_departure (gconstpointer a,
                   gconstpointer b)
{
  const PlDocumentSegment *x = a;
  const PlDocumentSegment *y = b;

  return (x->depart > y->depart) - (x->depart < y->depart);
}

static PlDocument *
run_scenario (PlSimScenario *scenario,
              const char    *title,
              GFile         *file)
{
  g_autoptr(PlSim) sim = pl_sim_new (scenario);
  g_autoptr(PlTrace) trace = pl_trace_new (TRUE);
  g_autoptr(PlTopology) topology = pl_topology_new_for_sim (sim);
  GArray *segments = g_array_new (FALSE, FALSE, sizeof (PlDocumentSegment));
  PlDocument *document;

  pl_sim_add_segment_func (sim, on_segment, segments);
  pl_topology_watch (topology, trace);
  pl_sim_run (sim, trace);
  pl_topology_unwatch (topology);

  /* The simulator tells of segments as they arrive; the animation looks them up by departure. */
  g_array_sort (segments, compare_departure);

  document = pl_document_new (PL_DOCUMENT_SCENARIO, title, file, trace, topology);
  pl_document_take_segments (document, segments);
  return document;
}

PlDocument *
pl_document_new_builtin (const char  *name,
                         GError     **error)
{
  g_autoptr(GBytes) text = NULL;
  g_autoptr(PlSimScenario) scenario = NULL;
  g_autofree char *source = NULL;
  gsize len;
  const char *data;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  text = pl_sim_scenario_get_builtin (name);
  if (text == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("There is no built-in scenario called “%s”"), name);
      return NULL;
    }
  source = g_strconcat (name, ".scenario", NULL);
  data = g_bytes_get_data (text, &len);
  scenario = pl_sim_scenario_new_from_data (data, (gssize) len, source, NULL, NULL, error);
  if (scenario == NULL)
    return NULL;
  return run_scenario (scenario, pl_document_builtin_title (name), NULL);
}

static PlDocument *
load_scenario (GFile   *file,
               GError **error)
{
  g_autoptr(PlSimScenario) scenario = NULL;
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *title = g_file_get_basename (file);

  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Only local files can be opened"));
      return NULL;
    }
  scenario = pl_sim_scenario_new_from_file (path, NULL, error);
  if (scenario == NULL)
    return NULL;
  return run_scenario (scenario, title, file);
}

/* Captures ---------------------------------------------------------------------- */

static void
on_tracer_warning (const GError *warning,
                   gpointer      user_data)
{
  guint *n_warnings = user_data;

  /* A damaged packet is skipped; the trace shows the gap as a note. */
  if ((*n_warnings)++ < 5)
    g_debug ("%s", warning->message);
}

static PlDocument *
load_capture (GFile                   *file,
              GCancellable            *cancellable,
              PlDocumentProgressFunc   progress,
              gpointer                 progress_data,
              GError                 **error)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *title = g_file_get_basename (file);
  g_autoptr(PlPcapSource) source = NULL;
  g_autoptr(PlTrace) trace = NULL;
  g_autoptr(PlTopology) topology = NULL;
  g_autoptr(PlWorld) world = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) read_error = NULL;
  PlTracer *tracer;
  PlPacket packet;
  guint64 size = 0;
  guint64 n = 0;
  guint n_warnings = 0;
  int link_type;

  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, _("Only local files can be opened"));
      return NULL;
    }
  source = pl_pcap_source_open_file (path, error);
  if (source == NULL)
    return NULL;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL)
    size = (guint64) g_file_info_get_size (info);

  trace = pl_trace_new (TRUE);
  /* Loopback captures of `postlab-cli serve` name their servers by the default world's ports. */
  world = pl_world_new_default (NULL);
  topology = pl_topology_new (world);
  pl_topology_watch (topology, trace);
  tracer = pl_tracer_new (trace);
  pl_tracer_set_name (tracer, title);
  pl_tracer_set_warning_func (tracer, on_tracer_warning, &n_warnings);
  link_type = pl_pcap_source_get_link_type (source);

  while (pl_pcap_source_next (source, &packet, &read_error))
    {
      pl_tracer_add_packet (tracer, link_type, &packet);
      if (++n % PACKETS_PER_CHECK != 0)
        continue;
      if (g_cancellable_is_cancelled (cancellable))
        break;
      if (progress != NULL && size > 0 && packet.offset != G_MAXUINT64)
        progress ((double) packet.offset / (double) size, progress_data);
    }
  pl_tracer_finish (tracer);
  pl_tracer_free (tracer);
  pl_topology_unwatch (topology);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  /* A damaged file shows what could be read before the damage. */
  if (read_error != NULL)
    {
      if (pl_trace_get_n_events (trace) == 0)
        {
          g_propagate_error (error, g_steal_pointer (&read_error));
          return NULL;
        }
      g_message ("%s", read_error->message);
    }
  if (n_warnings > 0)
    g_debug ("%s: %u packets skipped", title, n_warnings);

  return pl_document_new (PL_DOCUMENT_CAPTURE, title, file, trace, topology);
}

PlDocument *
pl_document_load (GFile                   *file,
                  GCancellable            *cancellable,
                  PlDocumentProgressFunc   progress,
                  gpointer                 progress_data,
                  GError                 **error)
{
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (pl_document_sniff (file) == PL_DOCUMENT_CAPTURE)
    return load_capture (file, cancellable, progress, progress_data, error);
  return load_scenario (file, error);
}

/* In a thread ---------------------------------------------------------------------- */

typedef struct {
  GFile                  *file;
  char                   *builtin;
  PlDocumentProgressFunc  progress;
  gpointer                progress_data;
  double                  reported;
} LoadData;

static void
load_data_free (gpointer data)
{
  LoadData *load = data;

  g_clear_object (&load->file);
  g_free (load->builtin);
  g_free (load);
}

typedef struct {
  GTask  *task;
  double  fraction;
} ProgressReport;

static gboolean
report_progress (gpointer data)
{
  ProgressReport *report = data;
  LoadData *load = g_task_get_task_data (report->task);

  /* Whoever asked may be gone once they cancelled: tell them nothing more. */
  if (!g_cancellable_is_cancelled (g_task_get_cancellable (report->task)))
    load->progress (report->fraction, load->progress_data);
  return G_SOURCE_REMOVE;
}

static void
progress_report_free (gpointer data)
{
  ProgressReport *report = data;

  g_object_unref (report->task);
  g_free (report);
}

static void
on_thread_progress (double   fraction,
                    gpointer user_data)
{
  GTask *task = user_data;
  LoadData *load = g_task_get_task_data (task);
  ProgressReport *report;

  /* A hundred reports are plenty for a progress bar. */
  if (fraction - load->reported < 0.01)
    return;
  load->reported = fraction;

  report = g_new0 (ProgressReport, 1);
  report->task = g_object_ref (task);
  report->fraction = fraction;
  g_main_context_invoke_full (g_task_get_context (task), G_PRIORITY_DEFAULT,
                              report_progress, report, progress_report_free);
}

static void
load_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  LoadData *load = task_data;
  GError *error = NULL;
  PlDocument *document;

  if (load->file != NULL)
    document = pl_document_load (load->file, cancellable,
                                 load->progress != NULL ? on_thread_progress : NULL, task, &error);
  else
    document = pl_document_new_builtin (load->builtin, &error);

  if (document == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, document, g_object_unref);
}

void
pl_document_load_async (GFile                   *file,
                        const char              *builtin,
                        GCancellable            *cancellable,
                        PlDocumentProgressFunc   progress,
                        gpointer                 progress_data,
                        GAsyncReadyCallback      callback,
                        gpointer                 user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadData *load;

  g_return_if_fail (file == NULL || G_IS_FILE (file));
  g_return_if_fail (file != NULL || builtin != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pl_document_load_async);
  g_task_set_name (task, "[postlab] load document");
  /* A cancelled load must not return a document that arrived too late. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_set_check_cancellable (task, TRUE);

  load = g_new0 (LoadData, 1);
  load->file = file != NULL ? g_object_ref (file) : NULL;
  load->builtin = g_strdup (builtin);
  load->progress = progress;
  load->progress_data = progress_data;
  g_task_set_task_data (task, load, load_data_free);

  g_task_run_in_thread (task, load_in_thread);
}

PlDocument *
pl_document_load_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pl_document_load_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
