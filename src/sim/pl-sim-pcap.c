/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSimPcapWriter: writes simulated segments as a classic libpcap file, all or nothing. */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim-pcap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "pl-sim-error.h"

struct _PlSimPcapWriter
{
  char    *path;
  char    *tmp_path;
  FILE    *file;
  gint64   epoch;
  guint64  n_packets;
  guint8  *frame;
  gsize    frame_size;
  gboolean committed;
  gboolean failed;
};

static inline void
put_le16 (guint8  *p,
          guint16  value)
{
  p[0] = (guint8) value;
  p[1] = (guint8) (value >> 8);
}

static inline void
put_le32 (guint8  *p,
          guint32  value)
{
  p[0] = (guint8) value;
  p[1] = (guint8) (value >> 8);
  p[2] = (guint8) (value >> 16);
  p[3] = (guint8) (value >> 24);
}

static gboolean
write_all (PlSimPcapWriter  *self,
           const guint8     *data,
           gsize             len,
           GError          **error)
{
  if (self->failed)
    {
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "%s: an earlier write failed", self->path);
      return FALSE;
    }
  if (fwrite (data, 1, len, self->file) != len)
    {
      int saved = errno;

      self->failed = TRUE;
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "%s: %s", self->tmp_path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

PlSimPcapWriter *
pl_sim_pcap_writer_new (const char  *path,
                        gint64       epoch,
                        GError     **error)
{
  PlSimPcapWriter *self;
  guint8 header[PL_SIM_PCAP_GLOBAL_HEADER_SIZE];
  int fd;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_new0 (PlSimPcapWriter, 1);
  self->path = g_strdup (path);
  self->epoch = epoch;
  self->tmp_path = g_strconcat (path, ".XXXXXX", NULL);
  fd = g_mkstemp (self->tmp_path);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "cannot write %s: %s", path, g_strerror (saved));
      g_clear_pointer (&self->tmp_path, g_free);
      pl_sim_pcap_writer_free (self);
      return NULL;
    }
  self->file = fdopen (fd, "wb");
  if (self->file == NULL)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "cannot write %s: %s", path, g_strerror (saved));
      pl_sim_pcap_writer_free (self);
      return NULL;
    }
  /* g_mkstemp makes it 0600; a capture is no secret of ours. */
  fchmod (fd, 0644);

  put_le32 (header, PL_SIM_PCAP_MAGIC_NANO);
  put_le16 (header + 4, PL_SIM_PCAP_VERSION_MAJOR);
  put_le16 (header + 6, PL_SIM_PCAP_VERSION_MINOR);
  put_le32 (header + 8, 0);                       /* thiszone: times are UTC */
  put_le32 (header + 12, 0);                      /* sigfigs */
  put_le32 (header + 16, PL_SIM_PCAP_SNAPLEN);
  put_le32 (header + 20, PL_SIM_PCAP_LINKTYPE_ETHERNET);
  if (!write_all (self, header, sizeof header, error))
    {
      pl_sim_pcap_writer_free (self);
      return NULL;
    }
  return self;
}

gboolean
pl_sim_pcap_writer_add (PlSimPcapWriter     *self,
                        const PlSimSegment  *segment,
                        GError             **error)
{
  guint8 record[PL_SIM_PCAP_RECORD_HEADER_SIZE];
  gsize size;
  guint64 seconds;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (segment != NULL, FALSE);

  size = pl_sim_segment_frame_size (segment);
  if (size > self->frame_size)
    {
      self->frame_size = MAX (size, 2048);
      self->frame = g_realloc (self->frame, self->frame_size);
    }
  pl_sim_segment_encode (segment, self->frame);

  seconds = (guint64) self->epoch + segment->arrive / PL_SIM_NS_PER_S;
  put_le32 (record, (guint32) seconds);
  put_le32 (record + 4, (guint32) (segment->arrive % PL_SIM_NS_PER_S));
  put_le32 (record + 8, (guint32) size);   /* captured: all of it */
  put_le32 (record + 12, (guint32) size);  /* on the wire */
  if (!write_all (self, record, sizeof record, error) || !write_all (self, self->frame, size, error))
    return FALSE;
  self->n_packets++;
  return TRUE;
}

guint64
pl_sim_pcap_writer_get_n_packets (PlSimPcapWriter *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_packets;
}

gboolean
pl_sim_pcap_writer_commit (PlSimPcapWriter  *self,
                           GError          **error)
{
  int saved;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (!self->committed, FALSE);

  if (self->failed)
    {
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "%s: an earlier write failed", self->path);
      return FALSE;
    }
  if (fflush (self->file) != 0 || fsync (fileno (self->file)) != 0)
    {
      saved = errno;
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "%s: %s", self->tmp_path, g_strerror (saved));
      return FALSE;
    }
  saved = fclose (self->file) != 0 ? errno : 0;
  self->file = NULL;
  if (saved != 0)
    {
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "%s: %s", self->tmp_path, g_strerror (saved));
      return FALSE;
    }
  if (g_rename (self->tmp_path, self->path) != 0)
    {
      saved = errno;
      g_set_error (error, PL_SIM_ERROR, PL_SIM_ERROR_IO, "cannot rename %s to %s: %s",
                   self->tmp_path, self->path, g_strerror (saved));
      return FALSE;
    }
  self->committed = TRUE;
  return TRUE;
}

void
pl_sim_pcap_writer_free (PlSimPcapWriter *self)
{
  if (self == NULL)
    return;
  if (self->file != NULL)
    fclose (self->file);
  if (!self->committed && self->tmp_path != NULL)
    g_unlink (self->tmp_path);
  g_free (self->frame);
  g_free (self->path);
  g_free (self->tmp_path);
  g_free (self);
}
