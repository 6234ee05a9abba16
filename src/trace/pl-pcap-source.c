/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlPcapSource: packets from a pcap or pcapng file, standard input, memory, or a live interface (libpcap). */
#define G_LOG_DOMAIN "postlab-trace"

#include "pl-pcap-source.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "pl-packet.h"
#include "pl-trace-error.h"

/* libpcap's own cap on a record (MAXIMUM_SNAPLEN): 256 KiB. */
#define MAX_SNAPLEN   262144
#define PCAP_HEADER   24
#define HEAD_LEN      64
#define READ_BUFFER   (256 * 1024)
#define LIVE_SNAPLEN  (65536 + 128)
#define LIVE_BUFFER   (16 * 1024 * 1024)

/*
 * What stdio reads through: a file descriptor (a file, a pipe) or octets in
 * memory. It remembers the first octets, so a bad file can be described
 * (empty, text, which link type) even when it came through a pipe, and it
 * counts what it hands out, so ftell() names record offsets on a pipe too.
 */
typedef struct {
  int           fd;
  gboolean      close_fd;
  const guint8 *mem;
  gsize         mem_len;
  gsize         mem_pos;
  guint8        head[HEAD_LEN];
  gsize         head_len;
  gsize         head_served;
  guint64       pos;
} Input;

/*
 * The direct reader of a pcap file (not pcapng, not a pipe): its records
 * are read with pread() into a few buffers, reused from start to end, and
 * handed out from there: no stdio buffer, no copy into libpcap's packet
 * buffer, and only the buffers count in the memory used, whatever the
 * file's size. A thread of its own reads the next buffer while this one
 * hands out the records of the last: copying the file from the page cache
 * was a quarter of the time of the thread that reads, reassembles and
 * dissects, the busier of the tracer's two. Not mmap(): a file cut short
 * while it is read (a capture being rotated, a full disk) would kill the
 * process with SIGBUS on the pages past its new end; pread() just returns
 * less. It takes only records libpcap would hand out as they are (the
 * file's byte order, caplen within snaplen, len and 256 KiB); at the first
 * other record, and at the end of the file (whole or cut short), libpcap
 * takes over at that record's offset (a new pcap_t reads the file header,
 * then the rest), so every message about a damaged record, and the end, is
 * libpcap's as before.
 */
#define DIRECT_BUFFER   (1024 * 1024)
/* Room before a buffer's octets for the start of a record the one before it holds: a record of the largest. */
#define DIRECT_HEADROOM (MAX_SNAPLEN + 16)
#define DIRECT_SLOTS    3

typedef enum {
  SLOT_FREE,         /* the read-ahead thread may fill it */
  SLOT_FILLED,       /* read, not yet handed out */
  SLOT_IN_USE,       /* its records are being handed out */
} SlotState;

typedef struct {
  guint8    *mem;    /* DIRECT_HEADROOM, then DIRECT_BUFFER octets of the file */
  gsize      len;    /* octets read after the headroom */
  gboolean   end;    /* nothing follows: the read met the end of the file (or failed) */
  SlotState  state;
} Slot;

typedef struct {
  int        fd;
  guint32    snapshot;
  gboolean   nsec;
  guint8     header[PCAP_HEADER];

  /* What the read-ahead thread shares with this one, under @lock. */
  GThread   *thread;
  GMutex     lock;
  GCond      cond;
  Slot       slots[DIRECT_SLOTS];
  gboolean   quit;

  /* This thread's: the records being handed out. */
  guint      take;           /* the slot to take next */
  Slot      *cur;            /* the slot in use, or NULL */
  gboolean   eof;            /* the slot in use is the last */
  const guint8 *buf;
  gsize      start;          /* the next record, in @buf */
  gsize      end;            /* how much of @buf holds the file */
  guint64    buf_offset;     /* file offset of buf[0] */
} Direct;

struct _PlPcapSource
{
  char            *name;
  pcap_t          *pcap;
  pcap_dumper_t   *dumper;
  FILE            *file;        /* offline: what libpcap reads; NULL when live */
  Input           *input;
  gboolean         live;
  int              link_type;
  guint64          number;
  volatile sig_atomic_t stop;
  gboolean         started;     /* a record was asked for */
  gboolean         filtered;
  Direct          *direct;      /* records read directly (see Direct), or NULL */
};

static ssize_t
input_read (void   *cookie,
            char   *buf,
            size_t  size)
{
  Input *in = cookie;
  size_t done = 0;

  if (in->head_served < in->head_len && size > 0)
    {
      done = MIN (size, in->head_len - in->head_served);
      memcpy (buf, in->head + in->head_served, done);
      in->head_served += done;
      in->pos += done;
      return (ssize_t) done;
    }
  if (in->mem != NULL)
    {
      done = MIN (size, in->mem_len - in->mem_pos);
      memcpy (buf, in->mem + in->mem_pos, done);
      in->mem_pos += done;
      in->pos += done;
      return (ssize_t) done;
    }
  for (;;)
    {
      ssize_t n = read (in->fd, buf, size);

      if (n < 0 && errno == EINTR)
        continue;
      if (n > 0)
        in->pos += (guint64) n;
      return n;
    }
}

/* Only ftell()'s question is answered: where are we. Captures are read once, front to back. */
static int
input_seek (void    *cookie,
            off64_t *offset,
            int      whence)
{
  Input *in = cookie;

  if (whence == SEEK_CUR && *offset == 0)
    {
      *offset = (off64_t) in->pos;
      return 0;
    }
  errno = ESPIPE;
  return -1;
}

static int
input_close (void *cookie)
{
  Input *in = cookie;

  if (in->close_fd && in->fd >= 0)
    close (in->fd);
  g_free (in);
  return 0;
}

/* Reads the first octets ahead, so the format can be judged before libpcap sees them. */
static void
input_fill_head (Input *in)
{
  while (in->head_len < HEAD_LEN)
    {
      ssize_t n;

      if (in->mem != NULL)
        {
          gsize k = MIN (HEAD_LEN - in->head_len, in->mem_len - in->mem_pos);
          memcpy (in->head + in->head_len, in->mem + in->mem_pos, k);
          in->head_len += k;
          in->mem_pos += k;
          return;
        }
      n = read (in->fd, in->head + in->head_len, HEAD_LEN - in->head_len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      in->head_len += (gsize) n;
    }
}

static guint32
head_u32 (const Input *in,
          gsize        at,
          gboolean     big_endian)
{
  const guint8 *p = in->head + at;

  if (big_endian)
    return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) | ((guint32) p[2] << 8) | p[3];
  return ((guint32) p[3] << 24) | ((guint32) p[2] << 16) | ((guint32) p[1] << 8) | p[0];
}

typedef enum {
  HEAD_UNKNOWN,
  HEAD_PCAP,
  HEAD_PCAPNG,
} HeadKind;

static HeadKind
head_kind (const Input *in,
           gboolean    *big_endian)
{
  guint32 magic;

  if (in->head_len < 4)
    return HEAD_UNKNOWN;
  magic = head_u32 (in, 0, TRUE);
  *big_endian = TRUE;
  switch (magic)
    {
    case 0xa1b2c3d4: case 0xa1b23c4d: case 0xa1b2cd34:
      return HEAD_PCAP;
    case 0xd4c3b2a1: case 0x4d3cb2a1: case 0x34cdb2a1:
      *big_endian = FALSE;
      return HEAD_PCAP;
    case 0x0a0d0d0a:
      if (in->head_len >= 12)
        *big_endian = head_u32 (in, 8, TRUE) == 0x1a2b3c4d;
      return HEAD_PCAPNG;
    default:
      return HEAD_UNKNOWN;
    }
}

static gboolean
head_is_text (const Input *in)
{
  for (gsize i = 0; i < in->head_len; i++)
    {
      guint8 c = in->head[i];
      if (c < 0x20 && c != '\t' && c != '\r' && c != '\n')
        return FALSE;
      if (c == 0x7f)
        return FALSE;
    }
  return TRUE;
}

/* Where the link type of the first interface is written: in the pcap file header, or in pcapng's first IDB. */
static guint64
link_type_offset (const Input *in)
{
  gboolean big_endian = FALSE;

  switch (head_kind (in, &big_endian))
    {
    case HEAD_PCAP:
      return 20;
    case HEAD_PCAPNG:
      if (in->head_len >= 12)
        return (guint64) head_u32 (in, 4, big_endian) + 8;
      return 0;
    case HEAD_UNKNOWN:
    default:
      return 0;
    }
}

static gboolean
check_head (PlPcapSource  *self,
            GError       **error)
{
  Input *in = self->input;
  gboolean big_endian = FALSE;
  HeadKind kind = head_kind (in, &big_endian);

  if (in->head_len == 0)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_FORMAT,
                   "%s: offset 0: the file is empty; a pcap or pcapng capture starts with a header of at least 24 octets",
                   self->name);
      return FALSE;
    }
  if (kind == HEAD_UNKNOWN)
    {
      if (head_is_text (in))
        {
          g_autofree char *start = g_strndup ((const char *) in->head, MIN (in->head_len, 16));

          g_strdelimit (start, "\r\n\t", ' ');
          g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_FORMAT,
                       "%s: offset 0: this is a text file (it starts \"%s\"), not a pcap or pcapng capture",
                       self->name, start);
        }
      else
        g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_FORMAT,
                     "%s: offset 0: not a pcap or pcapng capture (it starts with the octets %02x %02x %02x %02x)",
                     self->name, in->head[0], in->head_len > 1 ? in->head[1] : 0,
                     in->head_len > 2 ? in->head[2] : 0, in->head_len > 3 ? in->head[3] : 0);
      return FALSE;
    }
  if (kind == HEAD_PCAP && in->head_len < PCAP_HEADER)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_TRUNCATED,
                   "%s: offset %" G_GSIZE_FORMAT ": the file ends inside the pcap file header (%" G_GSIZE_FORMAT
                   " of its 24 octets)", self->name, in->head_len, in->head_len);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_link_type (PlPcapSource  *self,
                 guint64        offset,
                 GError       **error)
{
  const char *name;

  if (pl_packet_link_type_is_supported (self->link_type))
    return TRUE;
  name = pcap_datalink_val_to_name (self->link_type);
  g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_LINK_TYPE,
               "%s: offset %" G_GUINT64_FORMAT ": link type %d (%s) is not one Postlab reads; it reads "
               "Ethernet (with 802.1Q VLAN tags), Linux cooked (SLL, SLL2), BSD loopback and raw IPv4/IPv6",
               self->name, offset, self->link_type, name != NULL ? name : "unknown");
  return FALSE;
}

static PlPcapSource *
open_input (Input       *in,
            const char  *name,
            GError     **error)
{
  g_autoptr(PlPcapSource) self = g_new0 (PlPcapSource, 1);
  cookie_io_functions_t io = { input_read, NULL, input_seek, input_close };
  char errbuf[PCAP_ERRBUF_SIZE] = "";

  self->name = g_strdup (name);
  input_fill_head (in);
  self->input = in;
  self->file = fopencookie (in, "r", io);
  if (self->file == NULL)
    {
      int saved_errno = errno;

      input_close (in);
      self->input = NULL;
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_OPEN, "%s: %s", name, g_strerror (saved_errno));
      return NULL;
    }
  setvbuf (self->file, NULL, _IOFBF, READ_BUFFER);

  if (!check_head (self, error))
    return NULL;

  self->pcap = pcap_fopen_offline_with_tstamp_precision (self->file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (self->pcap == NULL)
    {
      g_set_error (error, PL_TRACE_ERROR,
                   strstr (errbuf, "truncated") != NULL ? PL_TRACE_ERROR_TRUNCATED : PL_TRACE_ERROR_FORMAT,
                   "%s: offset 0: not a capture Postlab can read: %s", name, errbuf);
      return NULL;
    }
  /* libpcap owns the FILE now and closes it in pcap_close(). */
  self->link_type = pcap_datalink (self->pcap);
  if (!check_link_type (self, link_type_offset (in), error))
    return NULL;
  return g_steal_pointer (&self);
}

PlPcapSource *
pl_pcap_source_open_file (const char  *path,
                          GError     **error)
{
  Input *in;

  g_return_val_if_fail (path != NULL, NULL);

  in = g_new0 (Input, 1);
  if (g_str_equal (path, "-"))
    {
      in->fd = STDIN_FILENO;
      return open_input (in, "standard input", error);
    }
  in->fd = open (path, O_RDONLY | O_CLOEXEC);
  if (in->fd < 0)
    {
      int saved_errno = errno;

      g_free (in);
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_OPEN, "%s: %s", path, g_strerror (saved_errno));
      return NULL;
    }
  in->close_fd = TRUE;
  return open_input (in, path, error);
}

PlPcapSource *
pl_pcap_source_open_bytes (const guint8  *data,
                           gsize          len,
                           const char    *name,
                           GError       **error)
{
  Input *in;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  in = g_new0 (Input, 1);
  in->fd = -1;
  in->mem = data != NULL ? data : (const guint8 *) "";
  in->mem_len = len;
  return open_input (in, name != NULL ? name : "(memory)", error);
}

PlPcapSource *
pl_pcap_source_open_live (const char           *interface,
                          const PlLiveOptions  *options,
                          GError              **error)
{
  g_autoptr(PlPcapSource) self = NULL;
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  PlLiveOptions defaults = { 0 };
  int rc;

  g_return_val_if_fail (interface != NULL, NULL);

  if (options == NULL)
    options = &defaults;
  self = g_new0 (PlPcapSource, 1);
  self->name = g_strdup (interface);
  self->live = TRUE;
  self->pcap = pcap_create (interface, errbuf);
  if (self->pcap == NULL)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_CAPTURE, "%s: %s", interface, errbuf);
      return NULL;
    }
  /*
   * Each packet takes a frame of the kernel's ring as big as the snaplen: a
   * loopback packet (MTU 65536) fits LIVE_SNAPLEN, and the ring holds a few
   * hundred, so a burst on "any" is not dropped before it can be read.
   */
  pcap_set_snaplen (self->pcap, options->snaplen > 0 ? options->snaplen : LIVE_SNAPLEN);
  pcap_set_buffer_size (self->pcap, LIVE_BUFFER);
  pcap_set_promisc (self->pcap, options->promiscuous ? 1 : 0);
  /* A short timeout so that Ctrl-C and the end of -c are seen promptly even on a quiet link. */
  pcap_set_timeout (self->pcap, 200);
  if (!options->buffered)
    pcap_set_immediate_mode (self->pcap, 1);

  rc = pcap_activate (self->pcap);
  if (rc < 0)
    {
      const char *why = pcap_geterr (self->pcap);

      if (why == NULL || *why == '\0')
        why = pcap_statustostr (rc);
      switch (rc)
        {
        case PCAP_ERROR_PERM_DENIED:
        case PCAP_ERROR_PROMISC_PERM_DENIED:
          g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_PERMISSION,
                       "no permission to capture on %s (%s)", interface, why);
          break;
        case PCAP_ERROR_NO_SUCH_DEVICE:
          g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_NO_DEVICE,
                       "there is no interface %s (%s)", interface, why);
          break;
        default:
          g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_CAPTURE,
                       "cannot capture on %s: %s", interface, why);
          break;
        }
      return NULL;
    }
  if (rc > 0)
    g_debug ("capture on %s: %s", interface, pcap_statustostr (rc));

  self->link_type = pcap_datalink (self->pcap);
  if (!pl_packet_link_type_is_supported (self->link_type))
    {
      const char *name = pcap_datalink_val_to_name (self->link_type);

      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_LINK_TYPE,
                   "%s: link type %d (%s) is not one Postlab reads", interface, self->link_type,
                   name != NULL ? name : "unknown");
      return NULL;
    }
  return g_steal_pointer (&self);
}

/* The read-ahead thread: fills the slots in turn, from the first record on, until the end of the file. */
static gpointer
direct_read_ahead (gpointer data)
{
  Direct *d = data;
  guint64 offset = PCAP_HEADER;

  for (guint i = 0; ; i = (i + 1) % DIRECT_SLOTS)
    {
      Slot *slot = &d->slots[i];
      gsize got = 0;
      gboolean end = FALSE;

      gboolean quit;

      g_mutex_lock (&d->lock);
      while (slot->state != SLOT_FREE && !d->quit)
        g_cond_wait (&d->cond, &d->lock);
      quit = d->quit;
      g_mutex_unlock (&d->lock);
      if (quit)
        return NULL;
      /* Unlocked: nobody else touches a free slot. */
      while (got < DIRECT_BUFFER)
        {
          ssize_t n = pread (d->fd, slot->mem + DIRECT_HEADROOM + got, DIRECT_BUFFER - got, (off_t) (offset + got));

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              /* The end of the file, or an error libpcap will meet and name at the record's offset. */
              end = TRUE;
              break;
            }
          got += (gsize) n;
        }
      offset += got;
      g_mutex_lock (&d->lock);
      slot->len = got;
      slot->end = end;
      slot->state = SLOT_FILLED;
      g_cond_broadcast (&d->cond);
      g_mutex_unlock (&d->lock);
      if (end)
        return NULL;
    }
}

/* The read-ahead thread ends (if it has not yet): nothing reads @d->fd but this thread from here on. */
static void
direct_stop (Direct *d)
{
  if (d->thread == NULL)
    return;
  g_mutex_lock (&d->lock);
  d->quit = TRUE;
  g_cond_broadcast (&d->cond);
  g_mutex_unlock (&d->lock);
  g_thread_join (g_steal_pointer (&d->thread));
}

static void
direct_free (Direct *d)
{
  if (d == NULL)
    return;
  direct_stop (d);
  g_mutex_clear (&d->lock);
  g_cond_clear (&d->cond);
  for (guint i = 0; i < DIRECT_SLOTS; i++)
    g_free (d->slots[i].mem);
  if (d->fd >= 0)
    close (d->fd);
  g_free (d);
}

/*
 * The next buffer of the file, the @tail octets left at the end of the one
 * in use (the start of a record) moved in front of it: FALSE when there is
 * none (the one in use met the end).
 */
static gboolean
direct_next_buffer (Direct *d,
                    gsize   tail)
{
  Slot *next;

  if (d->eof)
    return FALSE;
  next = &d->slots[d->take];
  g_mutex_lock (&d->lock);
  while (next->state != SLOT_FILLED)
    g_cond_wait (&d->cond, &d->lock);
  g_mutex_unlock (&d->lock);
  /* Both slots are this thread's until the one in use is given back. */
  if (tail > 0)
    memcpy (next->mem + DIRECT_HEADROOM - tail, d->buf + d->start, tail);
  g_mutex_lock (&d->lock);
  if (d->cur != NULL)
    {
      d->cur->state = SLOT_FREE;
      g_cond_broadcast (&d->cond);
    }
  next->state = SLOT_IN_USE;
  g_mutex_unlock (&d->lock);
  d->cur = next;
  d->take = (d->take + 1) % DIRECT_SLOTS;
  d->eof = next->end;
  d->buf_offset += d->start;
  d->buf = next->mem + DIRECT_HEADROOM - tail;
  d->start = 0;
  d->end = tail + next->len;
  return TRUE;
}

/*
 * When the file can be read directly (a pcap file of this machine's byte
 * order, with the 16-octet record header, named by a path, regular, no
 * filter, not copied to -w): sets self->direct up to start after the file
 * header. libpcap has checked that header already.
 */
static void
direct_start (PlPcapSource *self)
{
  Input *in = self->input;
  struct stat st;
  guint32 magic;
  Direct *d;
  int fd;

  if (self->live || self->filtered || self->dumper != NULL || in == NULL || !in->close_fd || in->fd < 0
      || in->head_len < PCAP_HEADER)
    return;
  memcpy (&magic, in->head, 4);
  if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d)
    return;
  if (fstat (in->fd, &st) != 0 || !S_ISREG (st.st_mode))
    return;
  fd = fcntl (in->fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return;
  d = g_new0 (Direct, 1);
  d->fd = fd;
  d->buf = NULL;
  d->start = d->end = 0;
  d->buf_offset = PCAP_HEADER;
  d->snapshot = (guint32) pcap_snapshot (self->pcap);
  d->nsec = magic == 0xa1b23c4d;
  memcpy (d->header, in->head, PCAP_HEADER);
  g_mutex_init (&d->lock);
  g_cond_init (&d->cond);
  for (guint i = 0; i < DIRECT_SLOTS; i++)
    d->slots[i].mem = g_malloc (DIRECT_HEADROOM + DIRECT_BUFFER);
#if defined(POSIX_FADV_SEQUENTIAL)
  /* Read front to back once: the kernel may read ahead further. */
  posix_fadvise (fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  d->thread = g_thread_new ("pl-pcap-read", direct_read_ahead, d);
  self->direct = d;
}

/*
 * libpcap goes on from file offset @at: a new pcap_t reads the file header
 * (the copy kept) and then the file from @at on, through an Input whose
 * count starts so that offsets in messages are the file's. FALSE (with
 * @error set) if it cannot.
 */
static gboolean
direct_hand_over (PlPcapSource  *self,
                  guint64        at,
                  GError       **error)
{
  Direct *d = g_steal_pointer (&self->direct);
  cookie_io_functions_t io = { input_read, NULL, input_seek, input_close };
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  Input *in = g_new0 (Input, 1);
  pcap_t *pcap;
  FILE *file;

  direct_stop (d);
  in->fd = d->fd;
  in->close_fd = TRUE;
  d->fd = -1;
  memcpy (in->head, d->header, PCAP_HEADER);
  in->head_len = PCAP_HEADER;
  in->pos = at - PCAP_HEADER;
  direct_free (d);
  if (lseek (in->fd, (off_t) at, SEEK_SET) < 0 || (file = fopencookie (in, "r", io)) == NULL)
    {
      int saved_errno = errno;

      input_close (in);
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_RECORD, "%s: offset %" G_GUINT64_FORMAT ": %s",
                   self->name, at, g_strerror (saved_errno));
      return FALSE;
    }
  setvbuf (file, NULL, _IOFBF, READ_BUFFER);
  pcap = pcap_fopen_offline_with_tstamp_precision (file, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (pcap == NULL)
    {
      fclose (file);
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_RECORD, "%s: offset %" G_GUINT64_FORMAT ": %s",
                   self->name, at, errbuf);
      return FALSE;
    }
  pcap_close (self->pcap);
  self->pcap = pcap;
  self->file = file;
  self->input = in;
  return TRUE;
}

/*
 * The next record read directly: TRUE with @packet filled in; FALSE with
 * self->direct left NULL when libpcap is to go on (the end of the file, or
 * a record it should judge), or with @error set.
 */
static gboolean
direct_next (PlPcapSource  *self,
             PlPacket      *packet,
             GError       **error)
{
  Direct *d = self->direct;
  guint32 h[4];
  gsize avail = d->end - d->start;
  guint64 offset = d->buf_offset + d->start;
  gint64 frac;

  if (avail >= 16)
    memcpy (h, d->buf + d->start, 16);
  if (avail < 16 || avail - 16 < h[2])
    {
      /*
       * The record is not all in the buffer: it goes on in the next, unless
       * it is one libpcap must judge anyway (then at most a record of the
       * largest is left here, which the next buffer's headroom holds).
       */
      if ((avail >= 16 && (h[2] > h[3] || h[2] > d->snapshot || h[2] > MAX_SNAPLEN))
          || !direct_next_buffer (d, avail))
        {
          /* A record to judge, the end of the file, whole or cut short: libpcap says which. */
          direct_hand_over (self, offset, error);
          return FALSE;
        }
      avail = d->end;
      if (avail >= 16)
        memcpy (h, d->buf, 16);
      if (avail < 16 || avail - 16 < h[2])
        {
          /* The end of the file, whole or cut short: libpcap says which. */
          direct_hand_over (self, offset, error);
          return FALSE;
        }
    }
  /* h: seconds, fraction, caplen, len; libpcap hands out exactly these records unchanged. */
  if (h[2] > h[3] || h[2] > d->snapshot || h[2] > MAX_SNAPLEN)
    {
      direct_hand_over (self, offset, error);
      return FALSE;
    }
  self->number++;
  /* As libpcap gives it (signed 32-bit fields, microseconds scaled to nanoseconds), then as pl_pcap_source_next() does. */
  frac = (gint32) h[1];
  if (!d->nsec)
    frac *= 1000;
  packet->time = (double) (gint32) h[0] + (double) frac / 1e9;
  packet->data = d->buf + d->start + 16;
  packet->caplen = h[2];
  packet->len = h[3];
  packet->offset = offset;
  packet->number = self->number;
  d->start += 16 + (gsize) h[2];
  return TRUE;
}

void
pl_pcap_source_free (PlPcapSource *self)
{
  if (self == NULL)
    return;
  direct_free (self->direct);
  if (self->dumper != NULL)
    {
      pcap_dump_flush (self->dumper);
      pcap_dump_close (self->dumper);
    }
  if (self->pcap != NULL)
    pcap_close (self->pcap);      /* closes self->file too */
  else if (self->file != NULL)
    fclose (self->file);          /* and the Input with it */
  else if (self->input != NULL)
    input_close (self->input);
  g_free (self->name);
  g_free (self);
}

gboolean
pl_pcap_source_set_filter (PlPcapSource  *self,
                           const char    *expression,
                           GError       **error)
{
  struct bpf_program program;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (expression != NULL, FALSE);

  /* Filtered records are libpcap's to choose. */
  self->filtered = TRUE;
  if (self->direct != NULL
      && !direct_hand_over (self, self->direct->buf_offset + self->direct->start, error))
    return FALSE;
  if (pcap_compile (self->pcap, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_FILTER,
                   "the filter \"%s\" does not compile: %s", expression, pcap_geterr (self->pcap));
      return FALSE;
    }
  if (pcap_setfilter (self->pcap, &program) != 0)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_FILTER,
                   "the filter \"%s\" cannot be set: %s", expression, pcap_geterr (self->pcap));
      pcap_freecode (&program);
      return FALSE;
    }
  pcap_freecode (&program);
  return TRUE;
}

gboolean
pl_pcap_source_dump_to (PlPcapSource  *self,
                        const char    *path,
                        GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (self->dumper == NULL, FALSE);

  /* Every record must pass through libpcap to be copied. */
  if (self->direct != NULL
      && !direct_hand_over (self, self->direct->buf_offset + self->direct->start, error))
    return FALSE;
  self->dumper = pcap_dump_open (self->pcap, path);
  if (self->dumper == NULL)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_WRITE, "cannot write %s: %s", path, pcap_geterr (self->pcap));
      return FALSE;
    }
  return TRUE;
}

static guint64
current_offset (PlPcapSource *self)
{
  long at;

  if (self->file == NULL)
    return G_MAXUINT64;
  at = ftell (self->file);
  return at >= 0 ? (guint64) at : G_MAXUINT64;
}

gboolean
pl_pcap_source_next (PlPcapSource  *self,
                     PlPacket      *packet,
                     GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (packet != NULL, FALSE);

  if (!self->started)
    {
      self->started = TRUE;
      direct_start (self);
    }
  if (self->direct != NULL)
    {
      if (self->stop)
        return FALSE;
      if (direct_next (self, packet, error))
        return TRUE;
      if (self->direct != NULL || (error != NULL && *error != NULL))
        return FALSE;
      /* libpcap goes on from here. */
    }

  for (;;)
    {
      struct pcap_pkthdr *header = NULL;
      const u_char *data = NULL;
      guint64 offset;
      int rc;

      if (self->stop)
        return FALSE;
      offset = current_offset (self);
      rc = pcap_next_ex (self->pcap, &header, &data);
      if (rc == 0)
        continue;                 /* live: the timeout passed with nothing */
      if (rc == PCAP_ERROR_BREAK)
        return FALSE;             /* the end of the file, or pl_pcap_source_break() */
      /* A read cut short by the signal that asked for the stop is the stop, not damage. */
      if (rc < 0 && self->stop)
        return FALSE;
      if (rc < 0)
        {
          const char *why = pcap_geterr (self->pcap);
          gboolean truncated = strstr (why, "truncated") != NULL;

          if (self->live)
            g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_CAPTURE, "%s: %s", self->name, why);
          else if (truncated)
            g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_TRUNCATED,
                         "%s: offset %" G_GUINT64_FORMAT ": the file ends inside a record (record %" G_GUINT64_FORMAT
                         "): %s", self->name, offset, self->number + 1, why);
          else
            g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_RECORD,
                         "%s: offset %" G_GUINT64_FORMAT ": record %" G_GUINT64_FORMAT " cannot be read: %s",
                         self->name, offset, self->number + 1, why);
          return FALSE;
        }
      if (header->caplen > header->len)
        {
          g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_RECORD,
                       "%s: offset %" G_GUINT64_FORMAT ": record %" G_GUINT64_FORMAT " says it holds %u octets "
                       "of a packet of %u: a capture cannot hold more than the packet",
                       self->name, offset, self->number + 1, header->caplen, header->len);
          return FALSE;
        }
      if (header->caplen > MAX_SNAPLEN)
        {
          g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_RECORD,
                       "%s: offset %" G_GUINT64_FORMAT ": record %" G_GUINT64_FORMAT " is %u octets long, over "
                       "the 256 KiB a capture record can hold", self->name, offset, self->number + 1, header->caplen);
          return FALSE;
        }

      self->number++;
      packet->time = (double) header->ts.tv_sec
                     + (double) header->ts.tv_usec / (self->live ? 1e6 : 1e9);
      packet->data = data;
      packet->caplen = header->caplen;
      packet->len = header->len;
      packet->offset = offset;
      packet->number = self->number;
      if (self->dumper != NULL)
        {
          pcap_dump ((u_char *) self->dumper, header, data);
          if (self->live)
            pcap_dump_flush (self->dumper);
        }
      return TRUE;
    }
}

void
pl_pcap_source_break (PlPcapSource *self)
{
  if (self == NULL)
    return;
  self->stop = 1;
  if (self->pcap != NULL)
    pcap_breakloop (self->pcap);
}

gboolean
pl_pcap_source_was_stopped (PlPcapSource *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->stop != 0;
}

int
pl_pcap_source_get_link_type (PlPcapSource *self)
{
  g_return_val_if_fail (self != NULL, -1);
  return self->link_type;
}

const char *
pl_pcap_source_get_name (PlPcapSource *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->name;
}

gboolean
pl_pcap_source_is_live (PlPcapSource *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->live;
}

gboolean
pl_pcap_source_get_stats (PlPcapSource *self,
                          guint        *received,
                          guint        *dropped)
{
  struct pcap_stat stats;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->live || pcap_stats (self->pcap, &stats) != 0)
    return FALSE;
  if (received != NULL)
    *received = stats.ps_recv;
  if (dropped != NULL)
    *dropped = stats.ps_drop;
  return TRUE;
}

void
pl_capture_interface_free (PlCaptureInterface *interface)
{
  if (interface == NULL)
    return;
  g_free (interface->name);
  g_free (interface->description);
  g_free (interface->addresses);
  g_free (interface);
}

static char *
address_to_string (const struct sockaddr *sa)
{
  g_autoptr(GInetAddress) address = NULL;

  if (sa == NULL)
    return NULL;
  if (sa->sa_family == AF_INET)
    address = g_inet_address_new_from_bytes ((const guint8 *) &((const struct sockaddr_in *) (const void *) sa)->sin_addr,
                                             G_SOCKET_FAMILY_IPV4);
  else if (sa->sa_family == AF_INET6)
    address = g_inet_address_new_from_bytes ((const guint8 *) &((const struct sockaddr_in6 *) (const void *) sa)->sin6_addr,
                                             G_SOCKET_FAMILY_IPV6);
  return address != NULL ? g_inet_address_to_string (address) : NULL;
}

GPtrArray *
pl_capture_list_interfaces (GError **error)
{
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t *all = NULL;
  GPtrArray *list;

  if (pcap_findalldevs (&all, errbuf) != 0)
    {
      g_set_error (error, PL_TRACE_ERROR, PL_TRACE_ERROR_CAPTURE, "cannot list interfaces: %s", errbuf);
      return NULL;
    }
  list = g_ptr_array_new_with_free_func ((GDestroyNotify) pl_capture_interface_free);
  for (pcap_if_t *dev = all; dev != NULL; dev = dev->next)
    {
      PlCaptureInterface *item = g_new0 (PlCaptureInterface, 1);
      GString *addresses = g_string_new (NULL);

      item->name = g_strdup (dev->name);
      item->description = g_strdup (dev->description);
      item->loopback = (dev->flags & PCAP_IF_LOOPBACK) != 0;
      item->up = (dev->flags & PCAP_IF_UP) != 0;
      item->running = (dev->flags & PCAP_IF_RUNNING) != 0;
      for (pcap_addr_t *a = dev->addresses; a != NULL; a = a->next)
        {
          g_autofree char *text = address_to_string (a->addr);

          if (text == NULL)
            continue;
          if (addresses->len > 0)
            g_string_append (addresses, ", ");
          g_string_append (addresses, text);
        }
      item->addresses = g_string_free (addresses, FALSE);
      g_ptr_array_add (list, item);
    }
  pcap_freealldevs (all);
  return list;
}
