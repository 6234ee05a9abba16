/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PlSim: the whole mail path in virtual time, the same engines on simulated hosts, links and TCP. */
#define G_LOG_DOMAIN "postlab-sim"

#include "pl-sim.h"

#include <stdarg.h>
#include <string.h>

#include "pl-mail-policy.h"
#include "pl-memory-store.h"
#include "pl-pop3-client.h"
#include "pl-pop3-server.h"
#include "pl-sim-clock.h"
#include "pl-sim-tcp.h"
#include "pl-smtp-client.h"
#include "pl-smtp-server.h"
#include "pl-submission.h"
#include "pl-textbook.h"
#include "pl-writer.h"

/*
 * How it fits together. Each host is a box with an address; each server
 * has a PlMemoryStore. An action of the scenario opens a connection (Conn):
 * a PlSimTcp between two hosts over their link, with the real engine at
 * each end: PlSmtpClient and PlSmtpServer for submission and relay,
 * PlPop3Client and PlPop3Server for access. The TCP model hands each end
 * the octets that arrive; the end's engine answers; its output goes back
 * into the TCP model. Each unit enters the trace once, from the engine
 * that sent it, at the virtual time it was sent: commands and data from
 * the client's engine, replies from the server's. A server that accepts
 * mail for another domain queues it and relays it (after a DNS MX step)
 * over a new connection, as a sending server does.
 */

#define MAX_SIZES_SHOWN 6
#define TRUST_UNKNOWN 0xff

typedef struct _Conn Conn;

/*
 * The events an engine said and that are not in the trace yet, each with
 * a reference: every event passes through here, so it is a plain array
 * (a GPtrArray's add and truncate are a call each).
 */
typedef struct {
  PlEvent **events;
  guint     len;
  guint     size;
} Pending;

/* Adds @event (taken). */
static void
pending_add (Pending *pending,
             PlEvent *event)
{
  if (pending->len == pending->size)
    {
      pending->size = MAX (pending->size * 2, 8);
      pending->events = g_renew (PlEvent *, pending->events, pending->size);
    }
  pending->events[pending->len++] = event;
}

/* Drops every event (and its reference); the room stays. */
static void
pending_clear (Pending *pending)
{
  for (guint i = 0; i < pending->len; i++)
    pl_event_unref (pending->events[i]);
  pending->len = 0;
}

/* The engines a simulation runs, each kind with its pool (see take_engine()). */
typedef enum {
  ENGINE_SMTP_CLIENT,
  ENGINE_SMTP_SERVER,
  ENGINE_POP3_CLIENT,
  ENGINE_POP3_SERVER,
  N_ENGINE_KINDS
} EngineKind;

typedef struct {
  Conn        *conn;
  PlSimTcpEnd  end;
} Side;

/* A message a sending server holds for one next hop (RFC 5321 4.5.4.1). */
typedef struct {
  guint      host;         /* the sending server's index */
  char      *id;
  char      *sender;
  char      *domain;       /* where it goes next */
  GPtrArray *recipients;   /* of char*: those still to deliver */
  GBytes    *message;      /* with this hop's Received: */
  guint      attempts;
  char      *last_error;
} QueueEntry;

/* The TCP note of connections from a host to @server's @port: the same strings every time. */
typedef struct {
  guint    server;
  guint16  port;
  char    *args;
  char    *text;
} TcpNote;

static void
tcp_note_clear (gpointer data)
{
  TcpNote *note = data;

  g_free (note->args);
  g_free (note->text);
}

/* A host, and what only the simulation keeps of it. */
typedef struct {
  PlSimHost   public;
  guint16     next_port;
  guint16     ip_id;
  guint       n_ids;       /* message ids given (the Received: header's "id") */
  PlMailPolicy *policy;    /* a server's: what it accepts (src/store, as `serve` has it) */
  GPtrArray  *queue;       /* of QueueEntry*, a sending server's */
  GHashTable *noted;       /* store user -> 1 + the message count last shown */
  guint8     *trusted_by;  /* per host index: 0 or 1 once known (is this host on that server's networks) */
  GPtrArray  *spare_servers; /* a server's engines of closed connections (take_engine()), or NULL */
  GArray     *tcp_notes;   /* of TcpNote: what this host's connections say when they open */
} Host;

struct _Conn
{
  gint         ref_count;
  PlSim       *sim;
  PlHop        hop;
  PlSimTcp    *tcp;
  PlSession   *session;
  Host        *hosts[2];      /* by PlSimTcpEnd */
  guint16      port;          /* the server's */
  guint16      client_port;
  PlSimLink   *link;
  PlEngine    *engines[2];
  Side         sides[2];
  Pending      pending[2];    /* events of each engine not yet in the trace */
  PlSimTime    held_until[2]; /* an engine asked for its output to wait (pl_engine_take_delay()) */
  gboolean     commit_scheduled[2];
  gboolean     closing[2];
  gboolean     started[2];    /* the engine heard its connection is up */
  gboolean     done;
  gboolean     refused;
  gboolean     mailbox_noted; /* access: what the mailbox holds was said during this session */
  QueueEntry  *entry;         /* relay: the message it carries, owned by the queue */
};

struct _PlSim
{
  GObject        parent_instance;

  PlSimScenario *scenario;
  PlWorld       *world;
  PlSimClock    *clock;
  GPtrArray     *hosts;       /* of Host* */
  GPtrArray     *links;       /* of PlSimLink* */
  GArray        *segment_funcs;
  PlTrace       *trace;
  GPtrArray     *open_conns;  /* of Conn*, oldest first */
  guint          next_action;
  gboolean       ran;
  gboolean       start_noted;
  guint64        n_events;
  guint64        n_notes;
  guint64        n_segments;
  GPtrArray     *spare_engines[N_ENGINE_KINDS]; /* engines of closed connections, to be reset and used again */
  GPtrArray     *spare_conns;  /* of Conn*, freed ones, for the next */
  GArray        *domain_servers; /* of DomainServer, the answers of server_of_domain() */
  GPtrArray     *deliver_local;   /* smtp_deliver()'s arrays, empty between calls */
  GPtrArray     *deliver_remote;
  GPtrArray     *deliver_domains;
  gint64         date_second;  /* the virtual second date_text is for, or -1 */
  char          *date_text;    /* RFC 5322 date of that second (Received: lines) */
};

typedef struct {
  PlSimSegmentFunc func;
  gpointer         user_data;
} SegmentFunc;

/* A domain and the server that receives its mail, or NULL (server_of_domain()). */
typedef struct {
  char *domain;
  Host *server;
} DomainServer;

static void
domain_server_clear (gpointer data)
{
  g_free (((DomainServer *) data)->domain);
}

G_DEFINE_FINAL_TYPE (PlSim, pl_sim, G_TYPE_OBJECT)

static void conn_free (gpointer data);

static void
queue_entry_free (gpointer data)
{
  QueueEntry *entry = data;

  g_free (entry->id);
  g_free (entry->sender);
  g_free (entry->domain);
  g_ptr_array_unref (entry->recipients);
  g_bytes_unref (entry->message);
  g_free (entry->last_error);
  g_free (entry);
}

static void
host_free (gpointer data)
{
  Host *host = data;

  g_clear_pointer (&host->public.host, pl_host_unref);
  g_free (host->public.address);
  g_clear_pointer (&host->policy, pl_mail_policy_free);
  g_clear_object (&host->public.store);
  g_clear_pointer (&host->queue, g_ptr_array_unref);
  g_clear_pointer (&host->noted, g_hash_table_unref);
  g_free (host->trusted_by);
  g_clear_pointer (&host->spare_servers, g_ptr_array_unref);
  g_clear_pointer (&host->tcp_notes, g_array_unref);
  g_free (host);
}

static void
link_free (gpointer data)
{
  /* The hold taken in find_link(): the segments it kept go with it (its connections are gone). */
  pl_sim_tcp_release_link (data);
  g_free (data);
}

static void
pl_sim_finalize (GObject *object)
{
  PlSim *self = PL_SIM (object);

  /* Actions left in the clock hold connections: a run that was not finished drops them here. */
  g_clear_pointer (&self->clock, pl_sim_clock_free);
  g_ptr_array_unref (self->open_conns);
  g_ptr_array_unref (self->hosts);
  g_ptr_array_unref (self->links);
  g_array_unref (self->segment_funcs);
  for (guint k = 0; k < N_ENGINE_KINDS; k++)
    g_ptr_array_unref (self->spare_engines[k]);
  g_ptr_array_unref (self->spare_conns);
  g_array_unref (self->domain_servers);
  g_ptr_array_unref (self->deliver_local);
  g_ptr_array_unref (self->deliver_remote);
  g_ptr_array_unref (self->deliver_domains);
  g_clear_object (&self->trace);
  g_clear_object (&self->scenario);
  g_free (self->date_text);
  G_OBJECT_CLASS (pl_sim_parent_class)->finalize (object);
}

static void
pl_sim_class_init (PlSimClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pl_sim_finalize;
}

static void
pl_sim_init (PlSim *self)
{
  self->clock = pl_sim_clock_new ();
  self->hosts = g_ptr_array_new_with_free_func (host_free);
  self->links = g_ptr_array_new_with_free_func (link_free);
  self->segment_funcs = g_array_new (FALSE, FALSE, sizeof (SegmentFunc));
  self->open_conns = g_ptr_array_new ();
  for (guint k = 0; k < N_ENGINE_KINDS; k++)
    self->spare_engines[k] = g_ptr_array_new_with_free_func (g_object_unref);
  self->spare_conns = g_ptr_array_new_with_free_func (conn_free);
  self->domain_servers = g_array_new (FALSE, FALSE, sizeof (DomainServer));
  g_array_set_clear_func (self->domain_servers, domain_server_clear);
  self->deliver_local = g_ptr_array_new_with_free_func (g_free);
  self->deliver_remote = g_ptr_array_new ();
  self->deliver_domains = g_ptr_array_new_with_free_func (g_free);
  self->date_second = -1;
}

/* Small helpers ------------------------------------------------------------------------- */

static inline double
now_seconds (PlSim *self)
{
  return pl_sim_time_to_seconds (pl_sim_clock_now (self->clock));
}

/* The wall time virtual now stands for, in whole seconds, UTC: what Date: and Received: say. */
static GDateTime *
now_date_time (PlSim *self)
{
  gint64 seconds = pl_sim_scenario_get_epoch (self->scenario)
                   + (gint64) (pl_sim_clock_now (self->clock) / PL_SIM_NS_PER_S);

  return g_date_time_new_from_unix_utc (seconds);
}

static guint64
splitmix64 (guint64 x)
{
  x += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return x ^ (x >> 31);
}

/*
 * @value in decimal, in @buf. A message through the whole path makes some
 * thirty notes, endpoints and ids with numbers in them: g_strconcat() with
 * this costs a fraction of printf, which showed in the benchmark.
 */
#define DECIMAL_SIZE 21

static const char *
decimal (char    *buf,
         guint64  value)
{
  char *p = buf + DECIMAL_SIZE - 1;

  *p = '\0';
  do
    {
      *--p = (char) ('0' + value % 10);
      value /= 10;
    }
  while (value > 0);
  return p;
}

static Host *
host_at (PlSim *self,
         guint  index)
{
  return g_ptr_array_index (self->hosts, index);
}

/* The server that receives mail for @domain, or NULL (the world's MX, RFC 5321 5.1). */
static Host *
lookup_server_of_domain (PlSim      *self,
                         const char *domain)
{
  const PlWorldDomain *known = pl_world_lookup_domain (self->world, domain);

  if (known == NULL)
    return NULL;
  for (guint i = 0; i < self->hosts->len; i++)
    {
      Host *host = host_at (self, i);

      if (host->public.spec->server != NULL && g_ascii_strcasecmp (host->public.spec->name, known->server) == 0)
        return host;
    }
  return NULL;
}

/* As lookup_server_of_domain(), asked five times a message of a world that does not change: the answers are kept. */
static Host *
server_of_domain (PlSim      *self,
                  const char *domain)
{
  DomainServer found;

  if (domain == NULL)
    return NULL;
  for (guint i = 0; i < self->domain_servers->len; i++)
    {
      const DomainServer *known = &g_array_index (self->domain_servers, DomainServer, i);

      if (g_ascii_strcasecmp (known->domain, domain) == 0)
        return known->server;
    }
  found.domain = g_strdup (domain);
  found.server = lookup_server_of_domain (self, domain);
  g_array_append_val (self->domain_servers, found);
  return found.server;
}

static PlSimLink *
find_link (PlSim *self,
           guint  a,
           guint  b)
{
  const PlSimLinkSpec *spec;
  PlSimLink *link;

  for (guint i = 0; i < self->links->len; i++)
    {
      link = g_ptr_array_index (self->links, i);
      if ((link->a == a && link->b == b) || (link->a == b && link->b == a))
        return link;
    }
  spec = pl_sim_scenario_get_link (self->scenario, host_at (self, a)->public.spec->name,
                                   host_at (self, b)->public.spec->name);
  link = g_new0 (PlSimLink, 1);
  link->a = a;
  link->b = b;
  link->latency = spec->latency;
  link->bandwidth = spec->bandwidth;
  /* Held for the whole run: the segments it keeps serve every connection between these hosts. */
  pl_sim_tcp_hold_link (link);
  g_ptr_array_add (self->links, link);
  return link;
}

/* Notes --------------------------------------------------------------------------------- */

/*
 * A note's text, put together in place: on the stack, or on the heap once
 * it outgrows that. A run makes nine notes for every message; each would
 * otherwise be a g_strconcat() or two, copied into the note and freed.
 */
typedef struct {
  char  *str;
  gsize  len;
  gsize  size;
  char   inline_buf[256];
} Text;

static void
text_init (Text *t)
{
  t->str = t->inline_buf;
  t->len = 0;
  t->size = sizeof t->inline_buf;
  t->str[0] = '\0';
}

static void
text_clear (Text *t)
{
  if (t->str != t->inline_buf)
    g_free (t->str);
  text_init (t);
}

static void
text_add (Text       *t,
          const char *s)
{
  gsize n = strlen (s);

  if (t->len + n + 1 > t->size)
    {
      gsize size = MAX (t->size * 2, t->len + n + 1);

      if (t->str == t->inline_buf)
        t->str = memcpy (g_malloc (size), t->inline_buf, t->len + 1);
      else
        t->str = g_realloc (t->str, size);
      t->size = size;
    }
  memcpy (t->str + t->len, s, n + 1);
  t->len += n;
}

static void text_concat (Text       *t,
                         const char *first,
                         ...) G_GNUC_NULL_TERMINATED;

/* Adds the strings given, up to a NULL. */
static void
text_concat (Text       *t,
             const char *first,
             ...)
{
  va_list args;

  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    text_add (t, part);
  va_end (args);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Text, text_clear)

/* A note now, its strings copied: @text, and a @verb with @args (both may be NULL). */
static PlEvent *
make_note_copy (PlSim      *self,
                const char *verb,
                const char *args,
                const char *text)
{
  /* One allocation for the note and its strings. */
  PlEvent *event = pl_event_new_note_copy (text, verb, args);

  event->time = now_seconds (self);
  return event;
}

static PlEvent *
make_note (PlSim      *self,
           const char *verb,
           char       *args,
           char       *text)
{
  PlEvent *event = make_note_copy (self, verb, args, text);

  g_free (args);
  g_free (text);
  return event;
}

static void
count_event (PlSim   *self,
             PlEvent *event)
{
  if (event->kind == PL_EVENT_NOTE)
    self->n_notes++;
  else
    self->n_events++;
}

static void
add_to_trace (PlSim     *self,
              PlSession *session,
              PlEvent   *event)
{
  count_event (self, event);
  pl_trace_add_event (self->trace, session, event);
}

static void
add_note (PlSim      *self,
          PlSession  *session,
          const char *verb,
          char       *args,
          char       *text)
{
  g_autoptr(PlEvent) event = make_note (self, verb, args, text);

  add_to_trace (self, session, event);
}

/* add_note() with the strings borrowed. */
static void
add_note_copy (PlSim      *self,
               PlSession  *session,
               const char *verb,
               const char *args,
               const char *text)
{
  g_autoptr(PlEvent) event = make_note_copy (self, verb, args, text);

  add_to_trace (self, session, event);
}

/* What a mailbox holds: "mailbox bob@b.example on mail.b.example holds 2 messages (498 + 912 = 1410 octets)". */
static PlEvent *
make_mailbox_note (PlSim      *self,
                   Host       *server,
                   const char *user)
{
  g_autoptr(GArray) sizes = pl_memory_store_dup_sizes (PL_MEMORY_STORE (server->public.store), user);
  const char *name = server->public.spec->name;
  g_auto(Text) text;
  g_auto(Text) args;
  char n_buf[DECIMAL_SIZE];
  char total_buf[DECIMAL_SIZE];
  const char *count;
  const char *octets;
  gsize total = 0;

  text_init (&text);
  text_init (&args);
  for (guint i = 0; i < sizes->len; i++)
    total += g_array_index (sizes, gsize, i);
  g_hash_table_insert (server->noted, g_strdup (user), GUINT_TO_POINTER (sizes->len + 1));
  count = decimal (n_buf, sizes->len);
  octets = decimal (total_buf, total);

  text_concat (&text, "mailbox ", user, "@", server->public.spec->domain, " on ", name, NULL);
  if (sizes->len == 0)
    text_add (&text, " is empty");
  else
    {
      text_concat (&text, " holds ", count, sizes->len == 1 ? " message (" : " messages (", NULL);
      if (sizes->len > 1 && sizes->len <= MAX_SIZES_SHOWN)
        {
          for (guint i = 0; i < sizes->len; i++)
            {
              char size[DECIMAL_SIZE];

              if (i > 0)
                text_add (&text, " + ");
              text_add (&text, decimal (size, g_array_index (sizes, gsize, i)));
            }
          text_add (&text, " = ");
        }
      text_concat (&text, octets, " octets)", NULL);
    }
  text_concat (&args, name, " ", user, "@", server->public.spec->domain, " ", count, " ", octets, NULL);
  return make_note_copy (self, "MAILBOX", args.str, text.str);
}

static PlEvent *
make_queue_note (PlSim      *self,
                 Host       *server,
                 const char *what)
{
  guint n = server->queue->len;
  const char *name = server->public.spec->name;
  char count_buf[DECIMAL_SIZE];
  const char *count = decimal (count_buf, n);
  g_auto(Text) text;
  g_auto(Text) args;

  text_init (&text);
  text_init (&args);
  text_concat (&args, name, " ", count, NULL);
  if (n == 0)
    text_concat (&text, what, ": the queue of ", name, " is empty", NULL);
  else
    text_concat (&text, what, ": the queue of ", name, " holds ", count, n == 1 ? " message" : " messages", NULL);
  return make_note_copy (self, "QUEUE", args.str, text.str);
}

/* At the start of the first session: what every mailbox holds before anything happens. */
static void
note_start (PlSim     *self,
            PlSession *session)
{
  if (self->start_noted)
    return;
  self->start_noted = TRUE;
  for (guint i = 0; i < self->hosts->len; i++)
    {
      Host *host = host_at (self, i);
      const PlWorldDomain *domain;

      if (host->public.store == NULL)
        continue;
      domain = pl_world_lookup_domain (self->world, host->public.spec->domain);
      for (guint u = 0; domain != NULL && u < domain->users->len; u++)
        {
          const PlWorldUser *user = g_ptr_array_index (domain->users, u);
          g_autoptr(PlEvent) note = make_mailbox_note (self, host, user->name);

          add_to_trace (self, session, note);
        }
    }
}

/* Connections --------------------------------------------------------------------------- */

static Conn *
conn_ref (Conn *conn)
{
  conn->ref_count++;
  return conn;
}

/*
 * Engines ---------------------------------------------------------------------------
 *
 * A message through the whole path opens three connections, each with two
 * engines: making and finalizing six GObjects with their buffers, every
 * message, cost more than a fifth of the run. An engine whose connection
 * is gone goes to its kind's pool instead, and the next connection resets
 * it (pl_smtp_client_reset(), ...): the same engine as a new one, whose
 * buffers already have room.
 */

static EngineKind
engine_kind (PlEngine *engine)
{
  if (PL_IS_SMTP_CLIENT (engine))
    return ENGINE_SMTP_CLIENT;
  if (PL_IS_SMTP_SERVER (engine))
    return ENGINE_SMTP_SERVER;
  if (PL_IS_POP3_CLIENT (engine))
    return ENGINE_POP3_CLIENT;
  return ENGINE_POP3_SERVER;
}

/*
 * Where the spare engines of @kind wait: a client's in the simulation's
 * pool, a server's in its host's, so that a server's engine serves the
 * same server again (its greeting and EHLO lines are then still right).
 */
static GPtrArray *
engine_pool (PlSim      *self,
             Host       *server,
             EngineKind  kind)
{
  if (kind == ENGINE_SMTP_SERVER || kind == ENGINE_POP3_SERVER)
    {
      if (server->spare_servers == NULL)
        server->spare_servers = g_ptr_array_new_with_free_func (g_object_unref);
      return server->spare_servers;
    }
  return self->spare_engines[kind];
}

/* An engine of @kind from the pool, to be reset by the caller, or NULL. */
static gpointer
take_spare_engine (PlSim      *self,
                   Host       *server,
                   EngineKind  kind)
{
  GPtrArray *spares = engine_pool (self, server, kind);

  for (guint i = spares->len; i > 0; i--)
    if (engine_kind (g_ptr_array_index (spares, i - 1)) == kind)
      return g_ptr_array_steal_index_fast (spares, i - 1);
  return NULL;
}

/* @engine (taken; only a connection ever holds one) of @server's connection is done with it: into its pool. */
static void
give_back_engine (PlSim    *self,
                  Host     *server,
                  PlEngine *engine)
{
  pl_engine_set_event_func (engine, NULL, NULL);
  g_ptr_array_add (engine_pool (self, server, engine_kind (engine)), engine);
}

static PlEngine *
new_smtp_client (PlSim                    *self,
                 const PlSmtpClientConfig *config)
{
  PlSmtpClient *engine = take_spare_engine (self, NULL, ENGINE_SMTP_CLIENT);

  if (engine == NULL)
    return pl_smtp_client_new (config);
  pl_smtp_client_reset (engine, config);
  return PL_ENGINE (engine);
}

static PlEngine *
new_smtp_server (PlSim                       *self,
                 Host                        *server,
                 const PlSmtpServerConfig    *config,
                 const PlSmtpServerCallbacks *callbacks,
                 gpointer                     user_data)
{
  PlSmtpServer *engine = take_spare_engine (self, server, ENGINE_SMTP_SERVER);

  if (engine == NULL)
    return pl_smtp_server_new (config, callbacks, user_data, NULL);
  pl_smtp_server_reset (engine, config, callbacks, user_data, NULL);
  return PL_ENGINE (engine);
}

static PlEngine *
new_pop3_client (PlSim                    *self,
                 const PlPop3ClientConfig *config)
{
  PlPop3Client *engine = take_spare_engine (self, NULL, ENGINE_POP3_CLIENT);

  if (engine == NULL)
    return pl_pop3_client_new (config);
  pl_pop3_client_reset (engine, config);
  return PL_ENGINE (engine);
}

static PlEngine *
new_pop3_server (PlSim *self,
                 Host  *server)
{
  PlPop3Server *engine = take_spare_engine (self, server, ENGINE_POP3_SERVER);

  if (engine == NULL)
    return pl_pop3_server_new (server->public.store, NULL);
  pl_pop3_server_reset (engine, server->public.store, NULL);
  return PL_ENGINE (engine);
}

static void
conn_unref (Conn *conn)
{
  if (--conn->ref_count > 0)
    return;
  for (guint e = 0; e < 2; e++)
    {
      if (conn->engines[e] != NULL)
        give_back_engine (conn->sim, conn->hosts[PL_SIM_TCP_SERVER], g_steal_pointer (&conn->engines[e]));
      pending_clear (&conn->pending[e]);
    }
  g_clear_pointer (&conn->tcp, pl_sim_tcp_unref);
  g_clear_pointer (&conn->session, pl_session_unref);
  /* As its engines, a connection's struct and event arrays serve the next one (conn_new()). */
  g_ptr_array_add (conn->sim->spare_conns, conn);
}

static void
conn_free (gpointer data)
{
  Conn *conn = data;

  for (guint e = 0; e < 2; e++)
    {
      pending_clear (&conn->pending[e]);
      g_free (conn->pending[e].events);
    }
  g_free (conn);
}

static void
on_engine_event (PlEngine *engine,
                 PlEvent  *event,
                 gpointer  user_data)
{
  Side *side = user_data;
  PlDirection own = side->end == PL_SIM_TCP_CLIENT ? PL_DIR_CLIENT : PL_DIR_SERVER;

  /* Each unit once, from its sender: the receiving engine's copy of it is left out. */
  if (event->kind != PL_EVENT_NOTE && event->dir != own)
    return;
  pending_add (&side->conn->pending[side->end], pl_event_ref (event));
}

/* "192.0.2.10:49152", in @buf (ENDPOINT_SIZE octets): the session copies it. */
#define ENDPOINT_SIZE 64

static const char *
endpoint (char    *buf,
          Host    *host,
          guint16  port)
{
  char digits[DECIMAL_SIZE];
  const char *n = decimal (digits, port);
  gsize address_len = strlen (host->public.address);
  gsize n_len = strlen (n);

  /* A host's address is IPv4 dotted quad (the scenario checks it): it fits. */
  g_return_val_if_fail (address_len + 1 + n_len < ENDPOINT_SIZE, host->public.address);
  memcpy (buf, host->public.address, address_len);
  buf[address_len] = ':';
  memcpy (buf + address_len + 1, n, n_len + 1);
  return buf;
}

/*
 * A connection from @client to @server's @port, its session opened in the
 * trace now. The engines are set with conn_set_engine(); nothing is sent
 * until conn_connect().
 */
static Conn *
conn_new (PlSim      *self,
          PlHop       hop,
          PlProtocol  protocol,
          Host       *client,
          Host       *server,
          guint16     port)
{
  Conn *conn;
  char client_end[ENDPOINT_SIZE];
  char server_end[ENDPOINT_SIZE];
  guint16 client_port;
  Pending pending[2] = { { NULL, 0, 0 }, { NULL, 0, 0 } };

  if (self->spare_conns->len > 0)
    {
      conn = g_ptr_array_steal_index_fast (self->spare_conns, self->spare_conns->len - 1);
      pending[0] = conn->pending[0];
      pending[1] = conn->pending[1];
      memset (conn, 0, sizeof *conn);
    }
  else
    conn = g_new0 (Conn, 1);
  conn->ref_count = 1;
  conn->sim = self;
  conn->hop = hop;
  conn->hosts[PL_SIM_TCP_CLIENT] = client;
  conn->hosts[PL_SIM_TCP_SERVER] = server;
  conn->port = port;
  conn->link = find_link (self, client->public.index, server->public.index);
  for (guint e = 0; e < 2; e++)
    {
      conn->sides[e].conn = conn;
      conn->sides[e].end = e;
      conn->pending[e] = pending[e];
    }

  /* RFC 6335 6: each client port from the dynamic range, in turn. */
  client_port = client->next_port;
  client->next_port = client->next_port == G_MAXUINT16 ? PL_SIM_FIRST_EPHEMERAL_PORT : client->next_port + 1;

  conn->client_port = client_port;
  conn->session = pl_session_new (protocol, endpoint (client_end, client, client_port),
                                   endpoint (server_end, server, port), now_seconds (self));
  conn->session->hop = hop;
  conn->session->client_host = pl_host_ref (client->public.host);
  conn->session->server_host = pl_host_ref (server->public.host);
  pl_trace_add_session (self->trace, conn->session);
  note_start (self, conn->session);

  g_ptr_array_add (self->open_conns, conn);
  return conn;
}

static void
conn_set_engine (Conn        *conn,
                 PlSimTcpEnd  end,
                 PlEngine    *engine)
{
  conn->engines[end] = engine;
  pl_engine_set_event_func (engine, on_engine_event, &conn->sides[end]);
  /* Each unit enters the trace from its sender: the receiving engine need not make it an event too. */
  pl_engine_set_received_events (engine, FALSE);
}

static void engine_done (Conn *conn, PlSimTcpEnd end);
static void check_mailbox (Conn *conn);

/* What an engine said goes into the trace, stamped now. */
static void
flush_pending (Conn        *conn,
               PlSimTcpEnd  end)
{
  PlSim *self = conn->sim;
  Pending *pending = &conn->pending[end];
  double now;

  if (pending->len == 0)
    return;
  now = now_seconds (self);
  /* Each pending reference goes to the trace as it is. */
  for (guint i = 0; i < pending->len; i++)
    {
      PlEvent *event = pending->events[i];

      event->time = now;
      count_event (self, event);
      pl_trace_add_event_take (self->trace, conn->session, event);
    }
  pending->len = 0;
}

/* pl_engine_drain_output()'s function: each part of the output after the events that came before it. */
static void
send_output (const guint8 *data,
             gsize         len,
             gpointer      user_data)
{
  Side *side = user_data;

  flush_pending (side->conn, side->end);
  pl_sim_tcp_send (side->conn->tcp, side->end, data, len);
}

/*
 * Moves what an engine said into the trace and what it wrote into TCP,
 * stamped now. Returns 0, or the delay (ms) the engine asked for before
 * its output may go (pl_engine_take_delay()): then nothing moved.
 */
static guint
commit (Conn        *conn,
        PlSimTcpEnd  end)
{
  gboolean finished;
  guint delay = 0;

  /* Sending may let an engine that held back input carry on: the drain goes round until it is done. */
  finished = pl_engine_drain_output (conn->engines[end], &delay, send_output, &conn->sides[end]);
  if (delay > 0)
    return delay;
  flush_pending (conn, end);

  if (conn->hop == PL_HOP_ACCESS && end == PL_SIM_TCP_SERVER)
    check_mailbox (conn);
  if (finished && !conn->closing[end])
    {
      conn->closing[end] = TRUE;
      pl_sim_tcp_close (conn->tcp, end);
    }
  return 0;
}

static void
on_commit_due (gpointer data)
{
  Side *side = data;
  Conn *conn = side->conn;

  conn->commit_scheduled[side->end] = FALSE;
  if (!conn->done)
    engine_done (conn, side->end);
  conn_unref (conn);
}

/* After each call into an engine: its output leaves now, or when the engine asked it to wait. */
static void
engine_done (Conn        *conn,
             PlSimTcpEnd  end)
{
  PlSim *self = conn->sim;
  PlSimTime now = pl_sim_clock_now (self->clock);
  guint delay;

  /* Most of the time nothing is held: the output goes now (commit() takes the engine's delay first). */
  if (conn->held_until[end] <= now)
    delay = commit (conn, end);
  else
    delay = pl_engine_take_delay (conn->engines[end]);
  if (delay > 0)
    conn->held_until[end] = MAX (conn->held_until[end], now + delay * PL_SIM_NS_PER_MS);
  if (conn->held_until[end] > now && !conn->commit_scheduled[end])
    {
      conn->commit_scheduled[end] = TRUE;
      pl_sim_clock_schedule (self->clock, conn->held_until[end], on_commit_due, &conn_ref (conn)->sides[end]);
    }
}

/* An access session changed a mailbox (POP3's UPDATE state, RFC 1939 section 6): say what it holds now. */
static void
check_mailbox (Conn *conn)
{
  PlSim *self = conn->sim;
  Host *server = conn->hosts[PL_SIM_TCP_SERVER];
  const char *user = NULL;
  gpointer noted;

  if (server->public.store == NULL || !PL_IS_POP3_SERVER (conn->engines[PL_SIM_TCP_SERVER]))
    return;
  user = pl_pop3_server_get_user (PL_POP3_SERVER (conn->engines[PL_SIM_TCP_SERVER]));
  if (user == NULL)
    return;
  noted = g_hash_table_lookup (server->noted, user);
  /* When it changed, and at the end of the session in any case: the phone that finds nothing shows it too. */
  if (noted == NULL
      || GPOINTER_TO_UINT (noted) - 1 != pl_memory_store_count (PL_MEMORY_STORE (server->public.store), user)
      || (!conn->mailbox_noted && pl_engine_is_finished (conn->engines[PL_SIM_TCP_SERVER])))
    {
      g_autoptr(PlEvent) note = make_mailbox_note (self, server, user);

      conn->mailbox_noted = TRUE;
      add_to_trace (self, conn->session, note);
    }
}

static void conn_finish (Conn *conn);

static void
on_tcp_established (PlSimTcp    *tcp,
                    PlSimTcpEnd  end,
                    gpointer     user_data)
{
  Conn *conn = user_data;

  /* RFC 5321 3.1, RFC 1939 section 4: the server speaks first, once the connection is up. */
  conn->started[end] = TRUE;
  pl_engine_start (conn->engines[end]);
  engine_done (conn, end);
}

static void
on_tcp_receive (PlSimTcp     *tcp,
                PlSimTcpEnd   end,
                const guint8 *data,
                gsize         len,
                gpointer      user_data)
{
  Conn *conn = user_data;

  pl_engine_feed (conn->engines[end], data, len);
  engine_done (conn, end);
}

static void
on_tcp_peer_closed (PlSimTcp    *tcp,
                    PlSimTcpEnd  end,
                    gboolean     reset,
                    gpointer     user_data)
{
  Conn *conn = user_data;

  if (reset && !pl_sim_tcp_is_established (tcp, end))
    conn->refused = TRUE;
  /* The peer will send nothing more: an engine still waiting learns it (POP3 then deletes nothing). */
  if (!pl_engine_is_finished (conn->engines[end]))
    {
      pl_engine_connection_lost (conn->engines[end]);
      engine_done (conn, end);
    }
}

static void
on_tcp_closed (PlSimTcp *tcp,
               gpointer  user_data)
{
  conn_finish (user_data);
}

static void
on_tcp_segment (PlSimTcp           *tcp,
                const PlSimSegment *segment,
                gpointer            user_data)
{
  Conn *conn = user_data;
  PlSim *self = conn->sim;

  self->n_segments++;
  for (guint i = 0; i < self->segment_funcs->len; i++)
    {
      SegmentFunc *f = &g_array_index (self->segment_funcs, SegmentFunc, i);

      f->func (segment, f->user_data);
    }
}

static const PlSimTcpCallbacks tcp_callbacks = {
  .established = on_tcp_established,
  .receive = on_tcp_receive,
  .peer_closed = on_tcp_peer_closed,
  .closed = on_tcp_closed,
  .segment = on_tcp_segment,
};

static gboolean
host_listens (Host    *server,
              guint16  port)
{
  const PlWorldServer *world_server = server->public.spec->server;

  if (world_server == NULL)
    return FALSE;
  switch (port)
    {
    case PL_SIM_PORT_SMTP:
    case PL_SIM_PORT_SUBMISSION:
      return pl_world_server_get_port (world_server, PL_PROTOCOL_SMTP) >= 0;
    case PL_SIM_PORT_POP3:
      return pl_world_server_get_port (world_server, PL_PROTOCOL_POP3) >= 0;
    default:
      return FALSE;
    }
}

static const char *
service_name (guint16 port)
{
  switch (port)
    {
    case PL_SIM_PORT_SMTP:       return "SMTP";
    case PL_SIM_PORT_SUBMISSION: return "submission";
    case PL_SIM_PORT_POP3:       return "POP3";
    default:                     return "?";
    }
}

/*
 * "alice (192.0.2.10) opens a TCP connection to mail.a.example (192.0.2.25)
 * port 587, submission: ...": made once for each client, server and port,
 * as every message opens the same few connections again.
 */
static const TcpNote *
tcp_note (Host    *client,
          Host    *server,
          guint16  port)
{
  char port_buf[DECIMAL_SIZE];
  const char *digits;
  TcpNote note;

  if (client->tcp_notes == NULL)
    {
      client->tcp_notes = g_array_new (FALSE, FALSE, sizeof (TcpNote));
      g_array_set_clear_func (client->tcp_notes, tcp_note_clear);
    }
  for (guint i = 0; i < client->tcp_notes->len; i++)
    {
      const TcpNote *known = &g_array_index (client->tcp_notes, TcpNote, i);

      if (known->server == server->public.index && known->port == port)
        return known;
    }
  digits = decimal (port_buf, port);
  note.server = server->public.index;
  note.port = port;
  note.args = g_strconcat (client->public.spec->name, " ", server->public.spec->name, " ", digits, NULL);
  note.text = g_strconcat (client->public.spec->name, " (", client->public.address, ") opens a TCP connection to ",
                           server->public.spec->name, " (", server->public.address, ") port ", digits, ", ",
                           service_name (port), ": SYN, SYN-ACK, ACK", NULL);
  g_array_append_val (client->tcp_notes, note);
  return &g_array_index (client->tcp_notes, TcpNote, client->tcp_notes->len - 1);
}

/* The client sends SYN now: RFC 9293 3.5's three-way handshake starts. */
static void
conn_connect (Conn *conn)
{
  PlSim *self = conn->sim;
  Host *client = conn->hosts[PL_SIM_TCP_CLIENT];
  Host *server = conn->hosts[PL_SIM_TCP_SERVER];
  PlSimTcpConfig config = { 0 };
  guint64 seed = pl_sim_scenario_get_seed (self->scenario);
  const TcpNote *note;

  for (guint e = 0; e < 2; e++)
    {
      Host *host = conn->hosts[e];

      memcpy (config.ends[e].mac, host->public.mac, 6);
      config.ends[e].address = host->public.spec->address;
      config.hosts[e] = host->public.index;
      config.ip_ids[e] = &host->ip_id;
      /* RFC 9293 3.4.1 wants unpredictable ISNs; a simulation wants repeatable ones: from the seed. */
      config.isn[e] = (guint32) splitmix64 (seed * 2654435761u + conn->session->id * 2 + e);
    }
  config.ends[PL_SIM_TCP_CLIENT].port = conn->client_port;
  config.ends[PL_SIM_TCP_SERVER].port = conn->port;
  config.mss = (guint16) pl_sim_scenario_get_mss (self->scenario);
  config.refuse = !host_listens (server, conn->port);
  config.session = conn->session->id;

  note = tcp_note (client, server, conn->port);
  add_note_copy (self, conn->session, "TCP", note->args, note->text);
  conn->tcp = pl_sim_tcp_new (self->clock, conn->link, &config, &tcp_callbacks, conn);
  pl_sim_tcp_connect (conn->tcp);
}

static void
on_conn_reap (gpointer data)
{
  conn_unref (data);
}

static void relay_outcome (Conn *conn);

/* TCP is done (both FINs acknowledged, or a RST): what is left of the engines goes into the trace. */
static void
conn_finish (Conn *conn)
{
  PlSim *self = conn->sim;

  if (conn->done)
    return;
  for (guint e = 0; e < 2; e++)
    {
      PlEngine *engine = conn->engines[e];

      /* A server whose connection never came up has nothing to say; a client that tried does. */
      if (engine == NULL || (e == PL_SIM_TCP_SERVER && !conn->started[e]))
        continue;
      if (!pl_engine_is_finished (engine))
        pl_engine_connection_lost (engine);
      pl_engine_take_delay (engine);
      /* What an engine still says can no longer be sent: only its notes are kept. */
      for (guint i = 0; i < conn->pending[e].len; i++)
        {
          PlEvent *event = conn->pending[e].events[i];

          if (event->kind != PL_EVENT_NOTE)
            continue;
          event->time = now_seconds (self);
          add_to_trace (self, conn->session, event);
        }
      pending_clear (&conn->pending[e]);
    }
  conn->done = TRUE;
  if (conn->refused)
    add_note (self, conn->session, "TCP", g_strdup_printf ("%s %s %u refused", conn->hosts[0]->public.spec->name,
                                                         conn->hosts[1]->public.spec->name, conn->port),
              g_strdup_printf ("%s refuses the connection (RST): nothing listens on port %u",
                               conn->hosts[1]->public.spec->name, conn->port));
  if (conn->hop == PL_HOP_RELAY)
    relay_outcome (conn);
  pl_trace_close_session (self->trace, conn->session, now_seconds (self));
  g_ptr_array_remove (self->open_conns, conn);
  /* Freed once the TCP model has unwound from the call that got us here. */
  pl_sim_clock_schedule (self->clock, pl_sim_clock_now (self->clock), on_conn_reap, conn);
}

/* The servers' policy (src/store/pl-mail-policy.c, as `serve` has it) ------------------------ */

static Host *
conn_server (Conn *conn)
{
  return conn->hosts[PL_SIM_TCP_SERVER];
}

static gboolean
smtp_check_password (PlSmtpServer *engine,
                     const char   *user,
                     const char   *password,
                     gpointer      user_data)
{
  return pl_mail_policy_check_password (conn_server (user_data)->policy, user, password);
}

static PlSmtpReply *
smtp_check_recipient (PlSmtpServer *engine,
                      const char   *address,
                      const char   *auth_user,
                      gboolean      trusted,
                      gpointer      user_data)
{
  char *text = NULL;
  guint code = pl_mail_policy_check_recipient (conn_server (user_data)->policy, address,
                                               auth_user != NULL || trusted, &text);

  return pl_smtp_reply_new_take (code, text);
}

/* The date of the Received: lines: virtual time moves in small steps, so one per virtual second is made. */
static char *
smtp_now (PlSmtpServer *engine,
          gpointer      user_data)
{
  Conn *conn = user_data;
  PlSim *self = conn->sim;
  gint64 second = (gint64) (pl_sim_clock_now (self->clock) / PL_SIM_NS_PER_S);

  if (second != self->date_second)
    {
      g_autoptr(GDateTime) now = now_date_time (self);

      g_free (self->date_text);
      self->date_text = pl_rfc5322_date (now);
      self->date_second = second;
    }
  return g_strdup (self->date_text);
}

/* Ids count per server, so a run gives the same ones every time: "A00001", the domain's initial and five digits. */
static char *
smtp_new_id (PlSmtpServer *engine,
             gpointer      user_data)
{
  Host *server = conn_server (user_data);
  char digits[DECIMAL_SIZE];
  const char *n;
  gsize len;
  gsize zeros;
  char *id;

  server->n_ids++;
  n = decimal (digits, server->n_ids);
  len = strlen (n);
  zeros = len < 5 ? 5 - len : 0;
  id = g_malloc (1 + zeros + len + 1);
  id[0] = g_ascii_toupper (server->public.spec->domain[0]);
  memset (id + 1, '0', zeros);
  memcpy (id + 1 + zeros, n, len + 1);
  return id;
}

static void relay_start (PlSim *self, QueueEntry *entry);

typedef struct {
  PlSim      *sim;
  QueueEntry *entry;
} RelayRef;

static void
on_relay_ref_due (gpointer data)
{
  RelayRef *ref = data;

  relay_start (ref->sim, ref->entry);
  g_free (ref);
}

static void
schedule_relay (PlSim      *self,
                QueueEntry *entry,
                PlSimTime   at)
{
  RelayRef *ref = g_new0 (RelayRef, 1);

  ref->sim = self;
  ref->entry = entry;
  pl_sim_clock_schedule (self->clock, at, on_relay_ref_due, ref);
}

static PlSmtpReply *
smtp_deliver (PlSmtpServer         *engine,
              const PlSmtpEnvelope *envelope,
              GBytes               *message,
              gpointer              user_data)
{
  Conn *conn = user_data;
  PlSim *self = conn->sim;
  Host *server = conn_server (conn);
  g_autoptr(GBytes) stored = NULL;
  /* The simulation's own arrays, emptied again before returning: a message each. */
  GPtrArray *local_users = self->deliver_local;
  GPtrArray *remote = self->deliver_remote;
  GPtrArray *domains = self->deliver_domains;
  PlSmtpReply *answer;
  g_autoptr(GDateTime) now = now_date_time (self);
  guint queued = 0;
  char *text = NULL;
  guint refusal;

  refusal = pl_mail_policy_sort_recipients (server->policy, envelope->recipients, local_users, remote, &text);
  if (refusal != 0)
    {
      answer = pl_smtp_reply_new_take (refusal, text);
      goto out;
    }
  stored = pl_mail_policy_complete_message (server->policy, message, envelope->auth_user != NULL || envelope->trusted,
                                            now, envelope->id, NULL);

  /* The next hops, each once. */
  for (guint i = 0; i < remote->len; i++)
    {
      g_autofree char *local = NULL;
      const char *domain;
      g_autofree char *lower = NULL;

      pl_mail_split_address (g_ptr_array_index (remote, i), &local, &domain);
      lower = g_ascii_strdown (domain, -1);
      if (!g_ptr_array_find_with_equal_func (domains, lower, g_str_equal, NULL))
        g_ptr_array_add (domains, g_steal_pointer (&lower));
    }

  /* One queue entry per next hop: the relay makes one transaction with each (RFC 5321 3.3). */
  for (guint d = 0; d < domains->len; d++)
    {
      const char *domain = g_ptr_array_index (domains, d);
      QueueEntry *entry = g_new0 (QueueEntry, 1);

      entry->host = server->public.index;
      entry->id = domains->len == 1 ? g_strdup (envelope->id) : g_strdup_printf ("%s.%u", envelope->id, d + 1);
      entry->sender = g_strdup (envelope->mail_from);
      entry->domain = g_strdup (domain);
      entry->recipients = g_ptr_array_new_with_free_func (g_free);
      entry->message = g_bytes_ref (stored);
      for (guint i = 0; i < envelope->n_recipients; i++)
        {
          g_autofree char *local = NULL;
          const char *rcpt_domain;

          pl_mail_split_address (envelope->recipients[i], &local, &rcpt_domain);
          if (rcpt_domain != NULL && g_ascii_strcasecmp (rcpt_domain, domain) == 0)
            g_ptr_array_add (entry->recipients, g_strdup (envelope->recipients[i]));
        }
      g_ptr_array_add (server->queue, entry);
      queued++;
      /* The relay starts as soon as the client has its 250 (RFC 5321 4.5.4.1: store, then forward). */
      schedule_relay (self, entry, pl_sim_clock_now (self->clock));
    }
  if (queued > 0)
    {
      g_autofree char *what = g_strconcat (envelope->id, " queued for ",
                                           domains->len == 1 ? (const char *) g_ptr_array_index (domains, 0)
                                                             : "several domains", NULL);

      pending_add (&conn->pending[PL_SIM_TCP_SERVER], make_queue_note (self, server, what));
    }

  for (guint i = 0; i < local_users->len; i++)
    {
      const char *user = g_ptr_array_index (local_users, i);
      g_autoptr(GError) error = NULL;
      gsize len;
      const guint8 *data = g_bytes_get_data (stored, &len);

      if (!pl_mail_store_deliver (server->public.store, user, data, len, &error))
        {
          answer = pl_smtp_reply_new_take (451, g_strdup (PL_MAIL_POLICY_NOT_STORED_TEXT));
          goto out;
        }
      /* In the engine's order: the note lands before the 250 that follows it. */
      pending_add (&conn->pending[PL_SIM_TCP_SERVER], make_mailbox_note (self, server, user));
    }

  answer = pl_smtp_reply_new_take (250, pl_mail_policy_accepted_text (envelope->id, queued > 0));
out:
  g_ptr_array_set_size (local_users, 0);
  g_ptr_array_set_size (remote, 0);
  g_ptr_array_set_size (domains, 0);
  return answer;
}

static const PlSmtpServerCallbacks smtp_callbacks = {
  .check_password = smtp_check_password,
  .check_sender = NULL,
  .check_recipient = smtp_check_recipient,
  .deliver = smtp_deliver,
  .now = smtp_now,
  .new_id = smtp_new_id,
};

/* Whether @client is on @server's trusted networks: asked once per pair, not for every connection. */
static gboolean
is_trusted (Host *client,
            Host *server)
{
  guint8 *known = &client->trusted_by[server->public.index];

  if (*known == TRUST_UNKNOWN)
    {
      g_autoptr(GInetAddress) peer = g_inet_address_new_from_string (client->public.address);

      *known = pl_world_server_trusts (server->public.spec->server, peer) ? 1 : 0;
    }
  return *known == 1;
}

/* The server end of a connection: SMTP on 25 and 587, POP3 on 110. */
static PlEngine *
make_server_engine (Conn *conn)
{
  Host *client = conn->hosts[PL_SIM_TCP_CLIENT];
  Host *server = conn_server (conn);
  const PlWorldServer *world_server = server->public.spec->server;

  if (conn->port == PL_SIM_PORT_POP3)
    return new_pop3_server (conn->sim, server);
  {
    PlSmtpServerConfig config = {
      .hostname = world_server->hostname,
      .max_message_size = world_server->max_message_size,
      /* RFC 6409 4.5: submission asks who you are; server to server, nobody logs in. */
      .offer_auth = conn->port == PL_SIM_PORT_SUBMISSION,
      .client_address = client->public.address,
      .peer_trusted = is_trusted (client, server),
    };

    return new_smtp_server (conn->sim, server, &config, &smtp_callbacks, conn);
  }
}

static void
start_submission (PlSim             *self,
                  const PlSimAction *action,
                  Host              *device)
{
  const PlSimDevice *spec = device->public.spec->device;
  const PlWorldUser *user;
  Host *server;
  Conn *conn;
  g_autofree char *helo = NULL;
  g_autofree char *local = NULL;
  const char *domain;
  PlSmtpClientConfig config = { 0 };

  pl_mail_split_address (spec->user, &local, &domain);
  user = pl_world_lookup_user (self->world, domain, local);
  server = server_of_domain (self, domain);

  /* RFC 5321 4.1.4: a host without a name of its own greets with its address literal. */
  helo = g_strconcat ("[", device->public.address, "]", NULL);
  config.helo_name = helo;
  config.mail_from = user->address;
  config.recipients = (const char *const *) action->recipients;
  config.message = action->message;
  if (spec->auth)
    {
      config.auth_user = user->address;
      config.auth_password = user->password;
    }

  conn = conn_new (self, PL_HOP_SUBMISSION, PL_PROTOCOL_SMTP, device, server, PL_SIM_PORT_SUBMISSION);
  conn_set_engine (conn, PL_SIM_TCP_CLIENT, new_smtp_client (self, &config));
  conn_set_engine (conn, PL_SIM_TCP_SERVER, make_server_engine (conn));
  conn_connect (conn);
}

static void
start_pull (PlSim             *self,
            const PlSimAction *action,
            Host              *device)
{
  const PlSimDevice *spec = device->public.spec->device;
  const PlWorldUser *user;
  Host *server;
  Conn *conn;
  g_autofree char *local = NULL;
  const char *domain;
  PlPop3ClientConfig config = { 0 };

  pl_mail_split_address (spec->user, &local, &domain);
  user = pl_world_lookup_user (self->world, domain, local);
  server = server_of_domain (self, domain);

  /* The scenario checked that the device pulls; POP3 is the one protocol simulated so far. */
  g_assert (spec->protocol == PL_PROTOCOL_POP3);
  config.user = user->name;
  config.password = user->password;
  config.delete_after_retrieve = spec->pop3_delete;
  config.script = (const char *const *) action->script;

  conn = conn_new (self, PL_HOP_ACCESS, PL_PROTOCOL_POP3, device, server, PL_SIM_PORT_POP3);
  conn_set_engine (conn, PL_SIM_TCP_CLIENT, new_pop3_client (self, &config));
  conn_set_engine (conn, PL_SIM_TCP_SERVER, make_server_engine (conn));
  conn_connect (conn);
}

/*
 * The scenario's actions, one at a time: each schedules the next, so the
 * clock holds one of them however long the scenario (they are sorted).
 */
static void
on_action_due (gpointer data)
{
  PlSim *self = data;
  const PlSimAction *action = pl_sim_scenario_get_action (self->scenario, self->next_action++);
  const PlSimHost *device = pl_sim_lookup_host (self, action->device);

  if (self->next_action < pl_sim_scenario_get_n_actions (self->scenario))
    pl_sim_clock_schedule (self->clock, pl_sim_scenario_get_action (self->scenario, self->next_action)->at,
                           on_action_due, self);
  switch (action->kind)
    {
    case PL_SIM_ACTION_SEND:
      start_submission (self, action, (Host *) device);
      break;
    case PL_SIM_ACTION_PULL:
      start_pull (self, action, (Host *) device);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Relay: store and forward ------------------------------------------------------------- */

static void
on_dns_answer (gpointer data)
{
  Conn *conn = data;
  PlSim *self = conn->sim;
  Host *mx = conn_server (conn);
  g_auto(Text) args;
  g_auto(Text) text;

  text_init (&args);
  text_init (&text);
  text_concat (&args, "MX ", conn->entry->domain, " ", mx->public.spec->name, " ", mx->public.address, NULL);
  text_concat (&text, "DNS answers: ", conn->entry->domain, " MX 10 ", mx->public.spec->name, ", ",
               mx->public.spec->name, " A ", mx->public.address, NULL);
  add_note_copy (self, conn->session, "DNS", args.str, text.str);
  conn_connect (conn);
  conn_unref (conn);
}

/*
 * A try at passing @entry on (RFC 5321 5.1): look up the MX of its domain,
 * connect to port 25 there, send it with the same client engine a user
 * agent uses.
 */
static void
relay_start (PlSim      *self,
             QueueEntry *entry)
{
  Host *server = host_at (self, entry->host);
  Host *mx = server_of_domain (self, entry->domain);
  Conn *conn;
  PlSmtpClientConfig config = { 0 };

  /* The server took the recipient only because the world knows the domain (smtp_check_recipient). */
  g_assert (mx != NULL);
  g_ptr_array_add (entry->recipients, NULL);
  config.helo_name = server->public.spec->name;
  config.mail_from = entry->sender;
  config.recipients = (const char *const *) entry->recipients->pdata;
  config.message = entry->message;

  conn = conn_new (self, PL_HOP_RELAY, PL_PROTOCOL_SMTP, server, mx, PL_SIM_PORT_SMTP);
  conn->entry = entry;
  conn_set_engine (conn, PL_SIM_TCP_CLIENT, new_smtp_client (self, &config));
  g_ptr_array_remove_index (entry->recipients, entry->recipients->len - 1);
  conn_set_engine (conn, PL_SIM_TCP_SERVER, make_server_engine (conn));

  {
    g_auto(Text) args;
    g_auto(Text) text;

    text_init (&args);
    text_init (&text);
    text_concat (&args, "MX ", entry->domain, NULL);
    text_concat (&text, server->public.spec->name, " asks DNS for the mail server (MX) of ", entry->domain, NULL);
    add_note_copy (self, conn->session, "DNS", args.str, text.str);
  }
  pl_sim_clock_schedule (self->clock, pl_sim_clock_now (self->clock) + pl_sim_scenario_get_dns_delay (self->scenario),
                         on_dns_answer, conn_ref (conn));
}

/* RFC 5321 6.2 (and 4.5.5): the sender hears of what could not be delivered, in a message of its own. */
static void
bounce (Conn                    *conn,
        QueueEntry              *entry,
        const PlBounceRecipient *failed,
        guint                    n_failed,
        const char              *explanation)
{
  PlSim *self = conn->sim;
  Host *server = host_at (self, entry->host);
  g_autoptr(GDateTime) now = now_date_time (self);
  g_autoptr(GBytes) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *local = NULL;
  g_autofree char *user = NULL;
  g_autofree char *id = NULL;
  const char *domain;
  gsize len;
  const guint8 *data;

  /* A bounce is never bounced (RFC 5321 6.2): mail from the null sender goes nowhere. */
  if (entry->sender[0] == '\0')
    {
      add_note (self, conn->session, NULL, NULL, g_strdup ("the message came from the null sender: no bounce"));
      return;
    }
  pl_mail_split_address (entry->sender, &local, &domain);
  if (!pl_mail_policy_is_own_domain (server->policy, domain)
      || (user = pl_mail_policy_resolve_user (server->policy, local)) == NULL)
    {
      add_note (self, conn->session, NULL, NULL,
                g_strdup_printf ("the sender %s has no mailbox on %s: the bounce is dropped", entry->sender,
                                 server->public.spec->name));
      return;
    }
  server->n_ids++;
  id = g_strdup_printf ("%s.bounce%u", entry->id, server->n_ids);
  report = pl_bounce_compose (server->public.spec->name, entry->sender, failed, n_failed, explanation,
                              entry->message, entry->id, now, id);
  data = g_bytes_get_data (report, &len);
  if (!pl_mail_store_deliver (server->public.store, user, data, len, &error))
    {
      add_note (self, conn->session, NULL, NULL, g_strdup_printf ("the bounce could not be stored: %s", error->message));
      return;
    }
  add_note (self, conn->session, NULL, NULL,
            g_strdup_printf ("%s sends %s a bounce: %u recipient%s could not be reached", server->public.spec->name,
                             entry->sender, n_failed, n_failed == 1 ? "" : "s"));
  {
    g_autoptr(PlEvent) note = make_mailbox_note (self, server, user);

    add_to_trace (self, conn->session, note);
  }
}

/* After a try: drop who got it, bounce who never will, try again later for the rest (RFC 5321 4.5.4.1). */
static void
relay_outcome (Conn *conn)
{
  PlSim *self = conn->sim;
  QueueEntry *entry = conn->entry;
  Host *server = host_at (self, entry->host);
  Host *mx = conn_server (conn);
  const PlSmtpClientResult *result = pl_smtp_client_get_result (PL_SMTP_CLIENT (conn->engines[PL_SIM_TCP_CLIENT]));
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) failed = g_array_new (FALSE, FALSE, sizeof (PlBounceRecipient));
  g_autoptr(GPtrArray) waiting = g_ptr_array_new_with_free_func (g_free);
  guint n_intervals = 0;
  const double *intervals = pl_world_get_retry_intervals (self->world, &n_intervals);
  g_autofree char *what = NULL;

  for (guint i = 0; i < entry->recipients->len; i++)
    {
      const char *address = g_ptr_array_index (entry->recipients, i);
      const PlSmtpRecipientResult *r = NULL;
      const char *reply;

      for (guint k = 0; k < result->n_recipients; k++)
        if (g_str_equal (result->recipients[k].address, address))
          r = &result->recipients[k];
      if (r != NULL && r->verdict == PL_SMTP_VERDICT_DELIVERED)
        continue;
      reply = conn->refused ? "connection refused: nothing listens on port 25"
              : r != NULL && r->reply != NULL ? r->reply : result->reply != NULL ? result->reply : "no answer";
      if (r != NULL && r->verdict == PL_SMTP_VERDICT_PERMANENT)
        {
          PlBounceRecipient b;
          char *reason = g_strdup_printf ("%s (%s) said: %s", mx->public.spec->name, mx->public.address, reply);

          g_ptr_array_add (reasons, reason);
          b.address = address;
          b.reason = reason;
          g_array_append_val (failed, b);
          continue;
        }
      g_ptr_array_add (waiting, g_strdup (address));
      g_free (entry->last_error);
      entry->last_error = g_strdup_printf ("%s (%s): %s", mx->public.spec->name, mx->public.address, reply);
    }

  if (waiting->len > 0)
    {
      entry->attempts++;
      if (entry->attempts > n_intervals)
        {
          /* The last try failed too: give up on them (RFC 5321 4.5.4.1). */
          for (guint i = 0; i < waiting->len; i++)
            {
              PlBounceRecipient b;

              b.address = g_ptr_array_index (waiting, i);
              b.reason = entry->last_error;
              g_array_append_val (failed, b);
            }
        }
    }
  if (failed->len > 0)
    bounce (conn, entry, (const PlBounceRecipient *) (gpointer) failed->data, failed->len,
            entry->attempts > n_intervals ? "The mail system tried again and again, and gave up."
                                          : "The next server refused the message for good.");

  if (waiting->len > 0 && entry->attempts <= n_intervals)
    {
      double wait = intervals[entry->attempts - 1];

      g_ptr_array_set_size (entry->recipients, 0);
      for (guint i = 0; i < waiting->len; i++)
        g_ptr_array_add (entry->recipients, g_strdup (g_ptr_array_index (waiting, i)));
      schedule_relay (self, entry, pl_sim_clock_now (self->clock) + (PlSimTime) (wait * PL_SIM_NS_PER_S));
      what = g_strdup_printf ("%s stays queued; try %u in %g s", entry->id, entry->attempts + 1, wait);
      {
        g_autoptr(PlEvent) note = make_queue_note (self, server, what);

        add_to_trace (self, conn->session, note);
      }
      return;
    }

  what = g_strconcat (entry->id, failed->len == 0 ? " delivered" : " done", NULL);
  g_ptr_array_remove (server->queue, entry);
  {
    g_autoptr(PlEvent) note = make_queue_note (self, server, what);

    add_to_trace (self, conn->session, note);
  }
}

/* The world ---------------------------------------------------------------------------- */

static void
seed_mailboxes (PlSim *self,
                Host  *host)
{
  const PlWorldDomain *domain = pl_world_lookup_domain (self->world, host->public.spec->domain);

  for (guint u = 0; domain != NULL && u < domain->users->len; u++)
    {
      const PlWorldUser *user = g_ptr_array_index (domain->users, u);
      const PlSimMailboxSpec *spec = pl_sim_scenario_get_mailbox (self->scenario, user->address);

      pl_memory_store_add_user (PL_MEMORY_STORE (host->public.store), user->name, user->password);
      if (spec != NULL)
        for (guint m = 0; m < spec->messages->len; m++)
          {
            gsize len;
            const guint8 *data = g_bytes_get_data (g_ptr_array_index (spec->messages, m), &len);

            pl_mail_store_deliver (host->public.store, user->name, data, len, NULL);
          }
      else if (g_strcmp0 (user->mailbox, "textbook") == 0)
        for (guint m = 0; m < PL_TEXTBOOK_N_MESSAGES; m++)
          {
            g_autoptr(GBytes) message = pl_textbook_message (m);
            gsize len;
            const guint8 *data = g_bytes_get_data (message, &len);

            pl_mail_store_deliver (host->public.store, user->name, data, len, NULL);
          }
    }
}

PlSim *
pl_sim_new (PlSimScenario *scenario)
{
  PlSim *self;

  g_return_val_if_fail (PL_IS_SIM_SCENARIO (scenario), NULL);

  self = g_object_new (PL_TYPE_SIM, NULL);
  self->scenario = g_object_ref (scenario);
  self->world = pl_sim_scenario_get_world (scenario);

  for (guint i = 0; i < pl_sim_scenario_get_n_hosts (scenario); i++)
    {
      const PlSimHostSpec *spec = pl_sim_scenario_get_host (scenario, i);
      Host *host = g_new0 (Host, 1);
      guint32 a = spec->address;

      host->public.index = i;
      host->public.spec = spec;
      host->public.address = g_strdup_printf ("%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
      host->public.host = pl_host_new (spec->name, spec->role, spec->owner, host->public.address);
      host->public.mac[0] = 0x02;
      host->public.mac[1] = 0x00;
      host->public.mac[2] = (guint8) (a >> 24);
      host->public.mac[3] = (guint8) (a >> 16);
      host->public.mac[4] = (guint8) (a >> 8);
      host->public.mac[5] = (guint8) a;
      host->next_port = PL_SIM_FIRST_EPHEMERAL_PORT;
      host->noted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      host->trusted_by = g_malloc (pl_sim_scenario_get_n_hosts (scenario));
      memset (host->trusted_by, TRUST_UNKNOWN, pl_sim_scenario_get_n_hosts (scenario));
      if (spec->server != NULL)
        {
          host->public.store = pl_memory_store_new ();
          host->policy = pl_mail_policy_new (self->world, spec->server, host->public.store);
          if (pl_world_server_relays (spec->server))
            host->queue = g_ptr_array_new_with_free_func (queue_entry_free);
        }
      g_ptr_array_add (self->hosts, host);
      if (host->public.store != NULL)
        seed_mailboxes (self, host);
    }

  /* The picture's lines: each device to its server, then the servers to each other. */
  for (guint i = 0; i < self->hosts->len; i++)
    {
      Host *host = host_at (self, i);
      Host *server;

      if (host->public.spec->device == NULL)
        continue;
      server = server_of_domain (self, host->public.spec->domain);
      if (server != NULL)
        find_link (self, host->public.index, server->public.index);
    }
  for (guint i = 0; i < self->hosts->len; i++)
    for (guint j = i + 1; j < self->hosts->len; j++)
      if (host_at (self, i)->public.spec->server != NULL && host_at (self, j)->public.spec->server != NULL)
        find_link (self, i, j);
  return self;
}

PlSimScenario *
pl_sim_get_scenario (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), NULL);
  return self->scenario;
}

guint
pl_sim_get_n_hosts (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), 0);
  return self->hosts->len;
}

const PlSimHost *
pl_sim_get_host (PlSim *self,
                 guint  index)
{
  g_return_val_if_fail (PL_IS_SIM (self), NULL);
  g_return_val_if_fail (index < self->hosts->len, NULL);
  return &host_at (self, index)->public;
}

const PlSimHost *
pl_sim_lookup_host (PlSim      *self,
                    const char *name)
{
  const PlSimHostSpec *spec;

  g_return_val_if_fail (PL_IS_SIM (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  spec = pl_sim_scenario_lookup_host (self->scenario, name);
  if (spec == NULL)
    return NULL;
  for (guint i = 0; i < self->hosts->len; i++)
    if (host_at (self, i)->public.spec == spec)
      return &host_at (self, i)->public;
  return NULL;
}

guint
pl_sim_get_n_links (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), 0);
  return self->links->len;
}

const PlSimLink *
pl_sim_get_link (PlSim *self,
                 guint  index)
{
  g_return_val_if_fail (PL_IS_SIM (self), NULL);
  g_return_val_if_fail (index < self->links->len, NULL);
  return g_ptr_array_index (self->links, index);
}

void
pl_sim_add_segment_func (PlSim            *self,
                         PlSimSegmentFunc  func,
                         gpointer          user_data)
{
  SegmentFunc f = { func, user_data };

  g_return_if_fail (PL_IS_SIM (self));
  g_return_if_fail (func != NULL);
  g_array_append_val (self->segment_funcs, f);
}

void
pl_sim_run (PlSim   *self,
            PlTrace *trace)
{
  gboolean sharing;

  g_return_if_fail (PL_IS_SIM (self));
  g_return_if_fail (PL_IS_TRACE (trace));
  g_return_if_fail (!self->ran);

  self->ran = TRUE;
  self->trace = g_object_ref (trace);
  /*
   * A trace that keeps every event keeps a run's many identical units
   * ("QUIT", "+OK", "250 OK", each EHLO line) once each, their events
   * sharing the memory (pl_event_share_begin()); one that streams keeps
   * none, and reuses the same few pages for them instead.
   */
  sharing = pl_trace_get_retain (trace);
  if (sharing)
    pl_event_share_begin ();

  if (pl_sim_scenario_get_n_actions (self->scenario) > 0)
    pl_sim_clock_schedule (self->clock, pl_sim_scenario_get_action (self->scenario, 0)->at, on_action_due, self);

  while (pl_sim_clock_step (self->clock))
    ;

  /*
   * Every engine here finishes its session, so nothing should be left
   * open; should a session hang all the same, it is reset, not forgotten.
   */
  while (self->open_conns->len > 0)
    {
      Conn *conn = g_ptr_array_index (self->open_conns, 0);

      add_note (self, conn->session, NULL, NULL,
                g_strdup ("the simulation ends with this connection still open: it is reset"));
      if (conn->tcp != NULL)
        pl_sim_tcp_abort (conn->tcp, PL_SIM_TCP_CLIENT);
      else
        conn_finish (conn);
      while (pl_sim_clock_step (self->clock))
        ;
    }
  if (sharing)
    pl_event_share_end ();
}

PlSimTime
pl_sim_get_time (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), 0);
  return pl_sim_clock_now (self->clock);
}

guint64
pl_sim_get_n_events (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), 0);
  return self->n_events;
}

guint64
pl_sim_get_n_notes (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), 0);
  return self->n_notes;
}

guint64
pl_sim_get_n_segments (PlSim *self)
{
  g_return_val_if_fail (PL_IS_SIM (self), 0);
  return self->n_segments;
}

guint
pl_sim_count_mailbox (PlSim      *self,
                      const char *user)
{
  g_autofree char *local = NULL;
  const char *domain;
  Host *server;

  g_return_val_if_fail (PL_IS_SIM (self), 0);
  g_return_val_if_fail (user != NULL, 0);
  pl_mail_split_address (user, &local, &domain);
  server = server_of_domain (self, domain);
  if (server == NULL || server->public.store == NULL)
    return 0;
  return pl_memory_store_count (PL_MEMORY_STORE (server->public.store), local);
}

static void
append_json_field (GString    *out,
                   const char *name,
                   const char *value)
{
  if (value == NULL)
    return;
  g_string_append_printf (out, ",\"%s\":", name);
  pl_json_append_string (out, value, -1);
}

static void
append_seconds (GString   *out,
                PlSimTime  time)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_formatd (buf, sizeof buf, "%.9g", pl_sim_time_to_seconds (time));
  g_string_append (out, buf);
}

void
pl_sim_append_topology_jsonl (PlSim   *self,
                              GString *out)
{
  g_return_if_fail (PL_IS_SIM (self));
  g_return_if_fail (out != NULL);

  for (guint i = 0; i < self->hosts->len; i++)
    {
      const PlSimHost *host = &host_at (self, i)->public;
      const PlSimDevice *device = host->spec->device;

      g_string_append_printf (out, "{\"type\":\"host\",\"host\":%u", i + 1);
      append_json_field (out, "name", host->spec->name);
      append_json_field (out, "role", pl_host_role_to_string (host->spec->role));
      append_json_field (out, "owner", host->spec->owner);
      append_json_field (out, "domain", host->spec->domain);
      append_json_field (out, "address", host->address);
      if (device != NULL && device->protocol != PL_PROTOCOL_UNKNOWN)
        {
          append_json_field (out, "pull", pl_protocol_to_string (device->protocol));
          g_string_append (out, ",\"options\":[");
          for (guint o = 0; device->options[o] != NULL; o++)
            {
              if (o > 0)
                g_string_append_c (out, ',');
              pl_json_append_string (out, device->options[o], -1);
            }
          g_string_append_c (out, ']');
        }
      g_string_append (out, "}\n");
    }
  for (guint i = 0; i < self->links->len; i++)
    {
      const PlSimLink *link = g_ptr_array_index (self->links, i);

      g_string_append (out, "{\"type\":\"link\"");
      append_json_field (out, "a", host_at (self, link->a)->public.spec->name);
      append_json_field (out, "b", host_at (self, link->b)->public.spec->name);
      g_string_append (out, ",\"latency\":");
      append_seconds (out, link->latency);
      g_string_append_printf (out, ",\"bandwidth\":%" G_GUINT64_FORMAT "}\n", link->bandwidth);
    }
}
