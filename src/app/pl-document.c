/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlDocument: what a window shows: a trace, its topology, and for simulations the TCP segments. */

#define G_LOG_DOMAIN "postlab-app"

#include "config.h"

#include "pl-document.h"

struct _PlDocument
{
  GObject         parent_instance;

  PlDocumentKind  kind;
  char           *title;
  GFile          *file;
  PlTrace        *trace;
  PlTopology     *topology;
  GArray         *segments;  /* of PlDocumentSegment, or NULL */
};

G_DEFINE_FINAL_TYPE (PlDocument, pl_document, G_TYPE_OBJECT)

static void
pl_document_finalize (GObject *object)
{
  PlDocument *self = PL_DOCUMENT (object);

  g_free (self->title);
  g_clear_object (&self->file);
  g_clear_object (&self->trace);
  g_clear_object (&self->topology);
  g_clear_pointer (&self->segments, g_array_unref);

  G_OBJECT_CLASS (pl_document_parent_class)->finalize (object);
}

static void
pl_document_class_init (PlDocumentClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_document_finalize;
}

static void
pl_document_init (PlDocument *self)
{
}

PlDocument *
pl_document_new (PlDocumentKind  kind,
                 const char     *title,
                 GFile          *file,
                 PlTrace        *trace,
                 PlTopology     *topology)
{
  PlDocument *self;

  g_return_val_if_fail (title != NULL, NULL);
  g_return_val_if_fail (file == NULL || G_IS_FILE (file), NULL);
  g_return_val_if_fail (PL_IS_TRACE (trace), NULL);
  g_return_val_if_fail (PL_IS_TOPOLOGY (topology), NULL);

  self = g_object_new (PL_TYPE_DOCUMENT, NULL);
  self->kind = kind;
  self->title = g_strdup (title);
  self->file = file != NULL ? g_object_ref (file) : NULL;
  self->trace = g_object_ref (trace);
  self->topology = g_object_ref (topology);
  return self;
}

PlDocumentKind
pl_document_get_kind (PlDocument *self)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), PL_DOCUMENT_SCENARIO);

  return self->kind;
}

const char *
pl_document_get_title (PlDocument *self)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), NULL);

  return self->title;
}

GFile *
pl_document_get_file (PlDocument *self)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), NULL);

  return self->file;
}

PlTrace *
pl_document_get_trace (PlDocument *self)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), NULL);

  return self->trace;
}

PlTopology *
pl_document_get_topology (PlDocument *self)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), NULL);

  return self->topology;
}

double
pl_document_get_time_origin (PlDocument *self)
{
  PlSession *first;

  g_return_val_if_fail (PL_IS_DOCUMENT (self), 0);

  /* Simulations start at virtual 0; a capture's times are since 1970. */
  if (self->kind == PL_DOCUMENT_SCENARIO)
    return 0;
  first = pl_trace_get_session (self->trace, 1);
  if (first != NULL)
    return first->open_time;
  if (pl_trace_get_n_events (self->trace) > 0)
    return pl_trace_get_event (self->trace, 0)->time;
  return 0;
}

void
pl_document_take_segments (PlDocument *self,
                           GArray     *segments)
{
  g_return_if_fail (PL_IS_DOCUMENT (self));

  g_clear_pointer (&self->segments, g_array_unref);
  self->segments = segments;
}

guint
pl_document_get_n_segments (PlDocument *self)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), 0);

  return self->segments != NULL ? self->segments->len : 0;
}

const PlDocumentSegment *
pl_document_get_segment (PlDocument *self,
                         guint       index)
{
  g_return_val_if_fail (PL_IS_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < pl_document_get_n_segments (self), NULL);

  return &g_array_index (self->segments, PlDocumentSegment, index);
}

guint
pl_document_find_segment (PlDocument *self,
                          double      time)
{
  guint lo = 0;
  guint hi;

  g_return_val_if_fail (PL_IS_DOCUMENT (self), 0);

  hi = pl_document_get_n_segments (self);
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (self->segments, PlDocumentSegment, mid).depart < time)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}
