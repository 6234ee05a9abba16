/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlLiveCapture: packets read from an interface in a thread, traced on the main thread into a growing document. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "pl-live-capture.h"
#include "pl-tracer.h"

/* How often the main thread takes the packets that came, and at most how many each time. */
#define DRAIN_INTERVAL_MS  100
#define DRAIN_MAX_PACKETS  2000

typedef struct {
  double   time;
  guint32  len;
  guint32  caplen;
  guint64  number;
  guint8   data[];
} QueuedPacket;

struct _PlLiveCapture
{
  GObject        parent_instance;

  char          *interface;
  PlPcapSource  *source;       /* read by the thread only, once started */
  int            link_type;
  GThread       *thread;
  GAsyncQueue   *queue;        /* of QueuedPacket*, from the thread */
  guint          drain_source;

  PlTrace       *trace;
  PlTopology    *topology;
  PlDocument    *document;
  PlTracer      *tracer;
  guint64        n_packets;
  gboolean       running;
};

G_DEFINE_FINAL_TYPE (PlLiveCapture, pl_live_capture, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_N_PACKETS,
  PROP_RUNNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gpointer
read_packets (gpointer data)
{
  PlLiveCapture *self = data;
  PlPacket packet;
  g_autoptr(GError) error = NULL;

  /* Ends at pl_pcap_source_break() (from stop) or on an error of the interface. */
  while (pl_pcap_source_next (self->source, &packet, &error))
    {
      QueuedPacket *copy = g_malloc (sizeof (QueuedPacket) + packet.caplen);

      copy->time = packet.time;
      copy->len = packet.len;
      copy->caplen = packet.caplen;
      copy->number = packet.number;
      memcpy (copy->data, packet.data, packet.caplen);
      g_async_queue_push (self->queue, copy);
    }
  if (error != NULL)
    g_message ("%s", error->message);
  return NULL;
}

static void
trace_queued (PlLiveCapture *self,
              guint          max)
{
  QueuedPacket *queued;
  guint n = 0;

  while (n < max && (queued = g_async_queue_try_pop (self->queue)) != NULL)
    {
      PlPacket packet = {
        .time = queued->time,
        .data = queued->data,
        .caplen = queued->caplen,
        .len = queued->len,
        .offset = G_MAXUINT64,
        .number = queued->number,
      };

      pl_tracer_add_packet (self->tracer, self->link_type, &packet);
      g_free (queued);
      self->n_packets++;
      n++;
    }
  if (n > 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PACKETS]);
}

static gboolean
on_drain (gpointer user_data)
{
  trace_queued (user_data, DRAIN_MAX_PACKETS);
  return G_SOURCE_CONTINUE;
}

static void
pl_live_capture_dispose (GObject *object)
{
  pl_live_capture_stop (PL_LIVE_CAPTURE (object));

  G_OBJECT_CLASS (pl_live_capture_parent_class)->dispose (object);
}

static void
pl_live_capture_finalize (GObject *object)
{
  PlLiveCapture *self = PL_LIVE_CAPTURE (object);

  g_free (self->interface);
  g_clear_pointer (&self->source, pl_pcap_source_free);
  g_clear_pointer (&self->tracer, pl_tracer_free);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_object (&self->document);
  g_clear_object (&self->topology);
  g_clear_object (&self->trace);

  G_OBJECT_CLASS (pl_live_capture_parent_class)->finalize (object);
}

static void
pl_live_capture_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PlLiveCapture *self = PL_LIVE_CAPTURE (object);

  switch (prop_id)
    {
    case PROP_N_PACKETS:
      g_value_set_uint64 (value, self->n_packets);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pl_live_capture_class_init (PlLiveCaptureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pl_live_capture_dispose;
  object_class->finalize = pl_live_capture_finalize;
  object_class->get_property = pl_live_capture_get_property;

  properties[PROP_N_PACKETS] =
    g_param_spec_uint64 ("n-packets", NULL, NULL, 0, G_MAXUINT64, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pl_live_capture_init (PlLiveCapture *self)
{
  self->queue = g_async_queue_new_full (g_free);
}

PlLiveCapture *
pl_live_capture_new (const char  *interface,
                     const char  *filter,
                     GError     **error)
{
  g_autoptr(PlLiveCapture) self = NULL;
  g_autoptr(PlWorld) world = NULL;
  g_autofree char *title = NULL;
  PlLiveOptions options = { 0, };

  g_return_val_if_fail (interface != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (PL_TYPE_LIVE_CAPTURE, NULL);
  self->interface = g_strdup (interface);
  self->source = pl_pcap_source_open_live (interface, &options, error);
  if (self->source == NULL)
    return NULL;
  if (filter != NULL && filter[0] != '\0' && !pl_pcap_source_set_filter (self->source, filter, error))
    return NULL;
  self->link_type = pl_pcap_source_get_link_type (self->source);

  self->trace = pl_trace_new (TRUE);
  /* On loopback, `postlab-cli serve`'s servers are named by the default world's ports. */
  world = pl_world_new_default (NULL);
  self->topology = pl_topology_new (world);
  pl_topology_watch (self->topology, self->trace);
  self->tracer = pl_tracer_new (self->trace);
  pl_tracer_set_name (self->tracer, interface);
  /* Translators: the title of a live capture's window; %s is an interface ("lo"). */
  title = g_strdup_printf (_("Live on %s"), interface);
  self->document = pl_document_new (PL_DOCUMENT_LIVE, title, NULL, self->trace, self->topology);
  return g_steal_pointer (&self);
}

PlDocument *
pl_live_capture_get_document (PlLiveCapture *self)
{
  g_return_val_if_fail (PL_IS_LIVE_CAPTURE (self), NULL);

  return self->document;
}

const char *
pl_live_capture_get_interface (PlLiveCapture *self)
{
  g_return_val_if_fail (PL_IS_LIVE_CAPTURE (self), NULL);

  return self->interface;
}

void
pl_live_capture_start (PlLiveCapture *self)
{
  g_return_if_fail (PL_IS_LIVE_CAPTURE (self));

  if (self->running || self->source == NULL)
    return;
  self->running = TRUE;
  self->thread = g_thread_new ("postlab-capture", read_packets, self);
  self->drain_source = g_timeout_add (DRAIN_INTERVAL_MS, on_drain, self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

void
pl_live_capture_stop (PlLiveCapture *self)
{
  g_return_if_fail (PL_IS_LIVE_CAPTURE (self));

  if (!self->running)
    return;
  self->running = FALSE;
  pl_pcap_source_break (self->source);
  g_thread_join (self->thread);
  self->thread = NULL;
  g_clear_handle_id (&self->drain_source, g_source_remove);

  /* What came before the break is traced, and sessions still open are shown as far as they went. */
  trace_queued (self, G_MAXUINT);
  pl_tracer_finish (self->tracer);
  pl_topology_unwatch (self->topology);
  g_clear_pointer (&self->source, pl_pcap_source_free);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

gboolean
pl_live_capture_get_running (PlLiveCapture *self)
{
  g_return_val_if_fail (PL_IS_LIVE_CAPTURE (self), FALSE);

  return self->running;
}

guint64
pl_live_capture_get_n_packets (PlLiveCapture *self)
{
  g_return_val_if_fail (PL_IS_LIVE_CAPTURE (self), 0);

  return self->n_packets;
}
