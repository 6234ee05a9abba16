/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Transcript writers: the text transcript and the JSON Lines machine format. */
#define G_LOG_DOMAIN "postlab-core"

#include "pl-writer.h"

#include <math.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#include <tmmintrin.h>
#endif

#include "pl-explain.h"

/*
 * Room for @extra more octets (and the NUL) at the end of @out; returns
 * where they go. The caller writes there and sets the length with
 * set_end(): one check for a whole field instead of one call per piece,
 * which is what a transcript of a big capture spends its time on.
 */
static inline char *
reserve (GString *out,
         gsize    extra)
{
  if (out->len + extra >= out->allocated_len)
    {
      gsize len = out->len;

      g_string_set_size (out, len + extra);
      g_string_truncate (out, len);
    }
  return out->str + out->len;
}

static inline void
set_end (GString *out,
         char    *end)
{
  out->len = (gsize) (end - out->str);
  out->str[out->len] = '\0';
}

/* Appends a string literal: put (out, "..."). */
#define put(out, literal) put_len ((out), (literal), sizeof (literal) - 1)

static inline void
put_len (GString    *out,
         const char *text,
         gsize       n)
{
  char *o = reserve (out, n);

  memcpy (o, text, n);
  set_end (out, o + n);
}

/* @v in decimal, two digits a division (a time's ten-digit seconds, on every line of a transcript). */
static void
put_uint (GString *out,
          guint64  v)
{
  static const char pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
  char digits[20];
  gsize n = sizeof digits;
  char *o;

  while (v >= 100)
    {
      n -= 2;
      memcpy (digits + n, pairs + (v % 100) * 2, 2);
      v /= 100;
    }
  if (v >= 10)
    {
      n -= 2;
      memcpy (digits + n, pairs + v * 2, 2);
    }
  else
    digits[--n] = (char) ('0' + v);
  o = reserve (out, sizeof digits - n);
  memcpy (o, digits + n, sizeof digits - n);
  set_end (out, o + (sizeof digits - n));
}

/*
 * @t times @scale (10^3 or 10^6) as a whole number, rounded as printf's
 * "%.3f" or "%.6f" rounds (the exact binary value to the nearest, a tie to
 * even), in integers: @t is m * 2^e, so t * scale is (m * scale) / 2^-e,
 * an integer quotient and a remainder to round by. FALSE where it would
 * not fit (negative, 10^13 or more, no 128-bit integers): printf then does
 * it, slowly (simulated times, whose nanoseconds are never whole
 * microseconds, and every relative time of the text transcript would take
 * that road on every event otherwise).
 */
static gboolean
round_scaled (double   t,
              guint32  scale,
              guint64 *result)
{
#if defined(__SIZEOF_INT128__)
  guint64 bits, m;
  int e;
  unsigned __int128 x;

  if (!(t >= 0 && t < 1e13))
    return FALSE;
  memcpy (&bits, &t, sizeof bits);
  m = bits & ((G_GUINT64_CONSTANT (1) << 52) - 1);
  e = (int) ((bits >> 52) & 0x7ff);
  if (e == 0)
    e = 1 - 1075;     /* subnormal */
  else
    {
      m |= G_GUINT64_CONSTANT (1) << 52;
      e -= 1075;
    }
  x = (unsigned __int128) m * scale;
  if (e >= 0)
    *result = (guint64) (x << e);   /* t < 10^13 keeps this in 64 bits */
  else if (-e >= 128)
    *result = 0;                    /* far below half a unit: x < 2^73 */
  else
    {
      int shift = -e;
      unsigned __int128 q = x >> shift;
      unsigned __int128 rem = x - (q << shift);
      unsigned __int128 half = (unsigned __int128) 1 << (shift - 1);

      if (rem > half || (rem == half && (q & 1)))
        q++;
      *result = (guint64) q;
    }
  return TRUE;
#else
  return FALSE;
#endif
}

static gboolean
time_to_microseconds (double   t,
                      guint64 *us)
{
  return round_scaled (t, 1000000, us);
}

static void
append_time (GString *out,
             double   t)
{
  /* JSON numbers: no exponent form, no trailing noise, always finite. */
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  guint64 n;

  if (!isfinite (t))
    t = 0;
  if (time_to_microseconds (t, &n))
    {
      guint64 frac = n % 1000000;
      char *o;

      put_uint (out, n / 1000000);
      o = reserve (out, 8);
      *o++ = '.';
      /* Six digits with the trailing zeros trimmed, but one kept. */
      if (frac == 0)
        *o++ = '0';
      else
        {
          int digits = 6;

          while (frac % 10 == 0)
            {
              frac /= 10;
              digits--;
            }
          for (int k = digits - 1; k >= 0; k--)
            {
              o[k] = (char) ('0' + frac % 10);
              frac /= 10;
            }
          o += digits;
        }
      set_end (out, o);
      return;
    }
  g_ascii_formatd (buf, sizeof buf, "%.6f", t);
  {
    /* trim trailing zeros but keep one decimal */
    gsize len = strlen (buf);
    while (len > 2 && buf[len - 1] == '0' && buf[len - 2] != '.')
      buf[--len] = '\0';
  }
  g_string_append (out, buf);
}

/* RFC 8259 section 7: the octets a JSON string cannot hold as they are (control characters, '"', '\\'), and DEL. */
static const guint8 needs_escape[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

/*
 * RFC 4648 section 4, padded, on one line: what g_base64_encode() gives,
 * written out here because the octets of every event pass through it.
 * @out has room for 4 * ((@len + 2) / 3) characters. Returns how many.
 */
static const char base64_alphabet[65] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static gsize
base64_encode_scalar (const guint8 *in,
                      gsize         len,
                      char         *out)
{
  const char *alphabet = base64_alphabet;
  /* Two characters per 12 bits: half the lookups of one per 6 bits. */
  static char pairs[4096][2];
  static gsize pairs_ready = 0;
  gsize i = 0, o = 0;

  if (g_once_init_enter (&pairs_ready))
    {
      for (guint k = 0; k < 4096; k++)
        {
          pairs[k][0] = alphabet[k >> 6];
          pairs[k][1] = alphabet[k & 63];
        }
      g_once_init_leave (&pairs_ready, 1);
    }
  /* Six octets (eight characters) a turn, read as one word: 48 of its 64 bits are used. */
  for (; i + 8 <= len; i += 6)
    {
      guint64 v;

      memcpy (&v, in + i, 8);
      v = GUINT64_FROM_BE (v);
      memcpy (out + o, pairs[v >> 52], 2);
      memcpy (out + o + 2, pairs[(v >> 40) & 4095], 2);
      memcpy (out + o + 4, pairs[(v >> 28) & 4095], 2);
      memcpy (out + o + 6, pairs[(v >> 16) & 4095], 2);
      o += 8;
    }
  for (; i + 3 <= len; i += 3)
    {
      guint32 v = ((guint32) in[i] << 16) | ((guint32) in[i + 1] << 8) | in[i + 2];

      memcpy (out + o, pairs[v >> 12], 2);
      memcpy (out + o + 2, pairs[v & 4095], 2);
      o += 4;
    }
  if (len - i == 1)
    {
      guint32 v = (guint32) in[i] << 16;

      out[o++] = alphabet[v >> 18];
      out[o++] = alphabet[(v >> 12) & 63];
      out[o++] = '=';
      out[o++] = '=';
    }
  else if (len - i == 2)
    {
      guint32 v = ((guint32) in[i] << 16) | ((guint32) in[i + 1] << 8);

      out[o++] = alphabet[v >> 18];
      out[o++] = alphabet[(v >> 12) & 63];
      out[o++] = alphabet[(v >> 6) & 63];
      out[o++] = '=';
    }
  return o;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_BASE64_SSSE3 1
/*
 * The same, twelve octets to sixteen characters a turn with SSSE3's byte
 * shuffle (W. Mula and D. Lemire, "Faster Base64 Encoding and Decoding
 * using AVX2 Instructions", ACM TOW 2018, section 3, its SSE form): the
 * octets are spread into 32-bit lanes, the four 6-bit indices of each lane
 * moved into bytes by two multiplications, and each index turned into its
 * character by adding an offset looked up by range. Every x86-64 since
 * 2006 has SSSE3; base64_encode() asks the CPU before coming here.
 */
__attribute__ ((target ("ssse3"))) static gsize
base64_encode_ssse3 (const guint8 *in,
                     gsize         len,
                     char         *out)
{
  const __m128i spread = _mm_setr_epi8 (1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const __m128i offsets = _mm_setr_epi8 ('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                         '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62,
                                         '/' - 63, 'A', 0, 0);
  gsize i = 0, o = 0;

  /* Sixteen octets read, twelve used: the last turn leaves at least four behind. */
  for (; i + 16 <= len; i += 12, o += 16)
    {
      __m128i x = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (in + i)), spread);
      __m128i hi = _mm_mulhi_epu16 (_mm_and_si128 (x, _mm_set1_epi32 (0x0fc0fc00)), _mm_set1_epi32 (0x04000040));
      __m128i lo = _mm_mullo_epi16 (_mm_and_si128 (x, _mm_set1_epi32 (0x003f03f0)), _mm_set1_epi32 (0x01000010));
      __m128i indices = _mm_or_si128 (hi, lo);
      /* 0..51 to 0, 52..61 to 1..10, 62 to 11, 63 to 12; then 0..25 to 13 ('A'), 26..51 stay 0 ('a'). */
      __m128i range = _mm_subs_epu8 (indices, _mm_set1_epi8 (51));

      range = _mm_or_si128 (range, _mm_and_si128 (_mm_cmpgt_epi8 (_mm_set1_epi8 (26), indices), _mm_set1_epi8 (13)));
      _mm_storeu_si128 ((__m128i *) (out + o), _mm_add_epi8 (_mm_shuffle_epi8 (offsets, range), indices));
    }
  return o + base64_encode_scalar (in + i, len - i, out + o);
}
#endif

#if defined(HAVE_BASE64_SSSE3)
/*
 * The same twice as wide (AVX2): twenty-four octets to thirty-two
 * characters a turn, each 128-bit lane doing what a turn of the SSSE3 loop
 * does on its twelve octets. The rest goes to the SSSE3 loop and then the
 * scalar one. base64_encode() asks the CPU first.
 */
__attribute__ ((target ("avx2"))) static gsize
base64_encode_avx2 (const guint8 *in,
                    gsize         len,
                    char         *out)
{
  const __m256i spread = _mm256_setr_epi8 (1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                           1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const __m256i offsets = _mm256_setr_epi8 ('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                            '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62,
                                            '/' - 63, 'A', 0, 0,
                                            'a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
                                            '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '+' - 62,
                                            '/' - 63, 'A', 0, 0);
  gsize i = 0, o = 0;

  /* The upper lane reads sixteen octets from twelve on: the last turn leaves at least four behind. */
  for (; i + 28 <= len; i += 24, o += 32)
    {
      __m256i x = _mm256_inserti128_si256 (_mm256_castsi128_si256 (_mm_loadu_si128 ((const __m128i *) (in + i))),
                                           _mm_loadu_si128 ((const __m128i *) (in + i + 12)), 1);
      __m256i hi, lo, indices, range;

      x = _mm256_shuffle_epi8 (x, spread);
      hi = _mm256_mulhi_epu16 (_mm256_and_si256 (x, _mm256_set1_epi32 (0x0fc0fc00)), _mm256_set1_epi32 (0x04000040));
      lo = _mm256_mullo_epi16 (_mm256_and_si256 (x, _mm256_set1_epi32 (0x003f03f0)), _mm256_set1_epi32 (0x01000010));
      indices = _mm256_or_si256 (hi, lo);
      range = _mm256_subs_epu8 (indices, _mm256_set1_epi8 (51));
      range = _mm256_or_si256 (range, _mm256_and_si256 (_mm256_cmpgt_epi8 (_mm256_set1_epi8 (26), indices),
                                                        _mm256_set1_epi8 (13)));
      _mm256_storeu_si256 ((__m256i *) (out + o), _mm256_add_epi8 (_mm256_shuffle_epi8 (offsets, range), indices));
    }
  if (len - i >= 16)
    return o + base64_encode_ssse3 (in + i, len - i, out + o);
  return o + base64_encode_scalar (in + i, len - i, out + o);
}
#endif

/*
 * The same with AVX-512 VBMI, forty-eight octets to sixty-four characters
 * a turn (W. Mula and D. Lemire, "Base64 encoding and decoding at almost
 * the speed of a memory copy", Software: Practice and Experience 50(2),
 * 2020, section 3.2): a byte permutation spreads each three octets over
 * the four bytes of a 32-bit lane (as the AVX2 loop does), one multishift
 * takes the four 6-bit indices out of each lane at once, and a second
 * permutation looks each up in the 64 characters of the alphabet (it
 * reads only an index's low six bits). The rest (under 48 octets) goes to
 * the AVX2 loop. base64_encode() asks the CPU first.
 */
__attribute__ ((target ("avx2,avx512f,avx512bw,avx512vbmi"))) static gsize
base64_encode_vbmi (const guint8 *in,
                    gsize         len,
                    char         *out)
{
  const __m512i spread = _mm512_setr_epi32 (0x01020001, 0x04050304, 0x07080607, 0x0a0b090a,
                                            0x0d0e0c0d, 0x10110f10, 0x13141213, 0x16171516,
                                            0x191a1819, 0x1c1d1b1c, 0x1f201e1f, 0x22232122,
                                            0x25262425, 0x28292728, 0x2b2c2a2b, 0x2e2f2d2e);
  /* Per 64-bit lane, the bit each output byte starts at: 10, 4, 22, 16 in the low 32-bit lane, +32 in the high. */
  const __m512i shifts = _mm512_set1_epi64 ((long long) 0x3036242a1016040aULL);
  const __m512i alphabet = _mm512_loadu_si512 ((const void *) base64_alphabet);
  gsize i = 0, o = 0;

  for (; i + 48 <= len; i += 48, o += 64)
    {
      /* Only the 48 octets are read. */
      __m512i x = _mm512_maskz_loadu_epi8 ((__mmask64) 0xffffffffffffULL, in + i);

      x = _mm512_multishift_epi64_epi8 (shifts, _mm512_permutexvar_epi8 (spread, x));
      _mm512_storeu_si512 ((void *) (out + o), _mm512_permutexvar_epi8 (x, alphabet));
    }
  if (len - i >= 28)
    return o + base64_encode_avx2 (in + i, len - i, out + o);
  if (len - i >= 16)
    return o + base64_encode_ssse3 (in + i, len - i, out + o);
  return o + base64_encode_scalar (in + i, len - i, out + o);
}

static gsize
base64_encode (const guint8 *in,
               gsize         len,
               char         *out)
{
#if defined(HAVE_BASE64_SSSE3)
  if (len >= 48 && __builtin_cpu_supports ("avx512vbmi") && __builtin_cpu_supports ("avx512bw"))
    return base64_encode_vbmi (in, len, out);
  if (len >= 28 && __builtin_cpu_supports ("avx2"))
    return base64_encode_avx2 (in, len, out);
  if (len >= 16 && __builtin_cpu_supports ("ssse3"))
    return base64_encode_ssse3 (in, len, out);
#endif
  return base64_encode_scalar (in, len, out);
}

/* The octets JSON escapes with a backslash and one character (RFC 8259 section 7). */
static const char short_escape[256] = {
  ['"'] = '"', ['\\'] = '\\', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

/* Octets a reservation asks beyond the worst case, so a run can be copied sixteen at a time. */
#define RUN_SLACK 16

/*
 * Copies to @o the run of octets of @p a JSON string holds as they are
 * (all but control characters, '"', '\\' and DEL; UTF-8 passes), from
 * *@i, and returns the end of what it wrote. Sixteen octets a turn (SSE2;
 * eight in a 64-bit word elsewhere), each sixteen stored before it is known
 * how many belong to the run: @o needs RUN_SLACK octets of room beyond it.
 */
static inline char *
copy_json_run (char         *o,
               const guint8 *p,
               gsize        *i,
               gsize         n)
{
  gsize k = *i;

#if defined(__SSE2__)
  const __m128i control = _mm_set1_epi8 (0x1f);
  const __m128i quote = _mm_set1_epi8 ('"');
  const __m128i backslash = _mm_set1_epi8 ('\\');
  const __m128i del = _mm_set1_epi8 (0x7f);
  const __m128i zero = _mm_setzero_si128 ();

  while (k + 16 <= n)
    {
      __m128i x = _mm_loadu_si128 ((const __m128i *) (p + k));
      /* x - 0x1f saturates to 0 exactly for the control characters. */
      __m128i hit = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (_mm_subs_epu8 (x, control), zero),
                                                _mm_cmpeq_epi8 (x, quote)),
                                  _mm_or_si128 (_mm_cmpeq_epi8 (x, backslash), _mm_cmpeq_epi8 (x, del)));
      unsigned mask = (unsigned) _mm_movemask_epi8 (hit);

      _mm_storeu_si128 ((__m128i *) o, x);
      if (mask != 0)
        {
          char e;

          mask = (unsigned) __builtin_ctz (mask);
          k += mask;
          o += mask;
          /* The two-character escapes ("\n" ends every line of a text) are written here and the run goes on. */
          e = short_escape[p[k]];
          if (e == 0)
            {
              *i = k;
              return o;
            }
          o[0] = '\\';
          o[1] = e;
          o += 2;
          k++;
          continue;
        }
      k += 16;
      o += 16;
    }
#else
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);

  while (k + 8 <= n)
    {
      guint64 x, q, b, d;

      memcpy (&x, p + k, 8);
      q = x ^ (ones * '"');
      b = x ^ (ones * '\\');
      d = x ^ (ones * 0x7f);
      if ((((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) | ((d - ones) & ~d)) & highs)
        break;
      memcpy (o, &x, 8);
      k += 8;
      o += 8;
    }
#endif
  while (k < n && !needs_escape[p[k]])
    *o++ = (char) p[k++];
  *i = k;
  return o;
}

/*
 * pl_json_append_string:
 * Appends @text as a JSON string (RFC 8259 7), quotes included. @text must
 * be UTF-8 (the model's display texts are); control characters are escaped.
 */
void
pl_json_append_string (GString    *out,
                       const char *text,
                       gssize      len)
{
  static const char hex[] = "0123456789abcdef";
  const guint8 *p = (const guint8 *) text;
  gsize n = len < 0 ? strlen (text) : (gsize) len;
  gsize i = 0;
  char *o;

  /* Room for the usual worst: every octet a two-character escape; "\u00XX" asks for more. */
  o = reserve (out, 2 * n + 2 + RUN_SLACK);
  *o++ = '"';
  while (i < n)
    {
      guchar c;

      o = copy_json_run (o, p, &i, n);
      if (i == n)
        break;
      c = p[i++];
      *o++ = '\\';
      switch (c)
        {
        case '"':  *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
          /* A control character or DEL: six characters for one octet. */
          set_end (out, o);
          o = reserve (out, 5 + 2 * (n - i) + 1 + RUN_SLACK);
          *o++ = 'u';
          *o++ = '0';
          *o++ = '0';
          *o++ = hex[c >> 4];
          *o++ = hex[c & 0xf];
          break;
        }
    }
  *o++ = '"';
  set_end (out, o);
}

/*
 * The escape for @data[*@i] inside a run, when it has one there: TAB,
 * '"' and '\\' (plain in the display text, escaped in JSON), and a line
 * end that is not the last and begins no line to unstuff (shown as '\n',
 * written "\n"). Moves *@i past what it took and returns the second
 * character of the escape, or 0 when the run ends here (the caller then
 * applies the display text's other rules).
 */
static inline char
display_run_escape (const guint8 *data,
                    gsize        *i,
                    gsize         len,
                    gboolean      unstuff_dots)
{
  gsize k = *i;

  switch (data[k])
    {
    case '\t': *i = k + 1; return 't';
    case '"':  *i = k + 1; return '"';
    case '\\': *i = k + 1; return '\\';
    case '\n':
      if (k + 1 < len && !(unstuff_dots && data[k + 1] == '.'))
        {
          *i = k + 1;
          return 'n';
        }
      return 0;
    case '\r':
      if (k + 2 < len && data[k + 1] == '\n' && !(unstuff_dots && data[k + 2] == '.'))
        {
          *i = k + 2;
          return 'n';
        }
      return 0;
    default:
      return 0;
    }
}

/*
 * Writes to @o the run of @data from *@i that the display text shows as
 * it is, JSON-escaped, and returns the end of what it wrote: sixteen
 * octets a turn (SSE2), each sixteen stored before it is known how many
 * belong to the run, so @o needs RUN_SLACK octets of room beyond the worst
 * case (two characters an octet).
 */
static inline char *
copy_display_json_run (char         *o,
                       const guint8 *data,
                       gsize        *i,
                       gsize         len,
                       gboolean      unstuff_dots)
{
  gsize k = *i;
  char e;

#if defined(__SSE2__)
  const __m128i below = _mm_set1_epi8 (0x20);
  const __m128i del = _mm_set1_epi8 (0x7f);
  const __m128i quote = _mm_set1_epi8 ('"');
  const __m128i backslash = _mm_set1_epi8 ('\\');

  while (k + 16 <= len)
    {
      __m128i x = _mm_loadu_si128 ((const __m128i *) (data + k));
      /* Signed: octets 0x80 and above are negative, so "below 0x20" takes them in too. */
      __m128i hit = _mm_or_si128 (_mm_or_si128 (_mm_cmplt_epi8 (x, below), _mm_cmpeq_epi8 (x, del)),
                                  _mm_or_si128 (_mm_cmpeq_epi8 (x, quote), _mm_cmpeq_epi8 (x, backslash)));
      unsigned mask = (unsigned) _mm_movemask_epi8 (hit);

      _mm_storeu_si128 ((__m128i *) o, x);
      if (mask == 0)
        {
          k += 16;
          o += 16;
          continue;
        }
      mask = (unsigned) __builtin_ctz (mask);
      k += mask;
      o += mask;
      e = display_run_escape (data, &k, len, unstuff_dots);
      if (e == 0)
        {
          *i = k;
          return o;
        }
      o[0] = '\\';
      o[1] = e;
      o += 2;
    }
#endif
  while (k < len)
    {
      guint8 c = data[k];

      if (pl_display_plain[c] && c != '\t' && c != '"' && c != '\\')
        {
          *o++ = (char) c;
          k++;
          continue;
        }
      e = display_run_escape (data, &k, len, unstuff_dots);
      if (e == 0)
        break;
      o[0] = '\\';
      o[1] = e;
      o += 2;
    }
  *i = k;
  return o;
}

#if defined(HAVE_BASE64_SSSE3)
/*
 * copy_display_json_run() thirty-two octets a turn (AVX2), the rest (under
 * thirty-two) by it: a text's runs are its lines, forty octets or so in
 * mail, two or three turns of sixteen each otherwise. Its stores stay
 * within the room the caller reserved: at least thirty-two octets are left
 * to read at each, and two characters an octet were reserved for them.
 * pl_json_append_display_text() asks the CPU first.
 */
__attribute__ ((target ("avx2"))) static char *
copy_display_json_run_avx2 (char         *o,
                            const guint8 *data,
                            gsize        *i,
                            gsize         len,
                            gboolean      unstuff_dots)
{
  const __m256i below = _mm256_set1_epi8 (0x20);
  const __m256i del = _mm256_set1_epi8 (0x7f);
  const __m256i quote = _mm256_set1_epi8 ('"');
  const __m256i backslash = _mm256_set1_epi8 ('\\');
  const __m256i cr = _mm256_set1_epi8 ('\r');
  const __m256i lf = _mm256_set1_epi8 ('\n');
  gsize k = *i;

  while (k + 32 <= len)
    {
      __m256i x = _mm256_loadu_si256 ((const __m256i *) (data + k));
      /* Signed: octets 0x80 and above are negative, so "below 0x20" takes them in too. */
      __m256i hit = _mm256_or_si256 (_mm256_or_si256 (_mm256_cmpgt_epi8 (below, x), _mm256_cmpeq_epi8 (x, del)),
                                     _mm256_or_si256 (_mm256_cmpeq_epi8 (x, quote), _mm256_cmpeq_epi8 (x, backslash)));
      guint32 mask = (guint32) _mm256_movemask_epi8 (hit);
      char e;

      _mm256_storeu_si256 ((__m256i *) o, x);
      if (mask == 0)
        {
          k += 32;
          o += 32;
          continue;
        }
      /*
       * A line of mail is shorter than two turns: most turns that hold
       * something hold line ends, CRLF. A CRLF's JSON, "\n", is two
       * characters too, so a turn whose only such octets are CRLFs is
       * written at once, each CR a backslash and each LF an 'n': unless a
       * CRLF is cut by the turn's end, is the text's last (which is not
       * shown: the octets after it are looked at), or is followed by a
       * '.' that @unstuff_dots takes away.
       */
      if (k + 34 <= len)
        {
          __m256i next = _mm256_loadu_si256 ((const __m256i *) (data + k + 1));
          __m256i is_cr = _mm256_cmpeq_epi8 (x, cr);
          guint32 crlf = (guint32) _mm256_movemask_epi8 (_mm256_and_si256 (is_cr, _mm256_cmpeq_epi8 (next, lf)));

          if (crlf != 0 && !(crlf & 0x80000000u) && mask == (crlf | (crlf << 1)))
            {
              guint32 dots = 0;

              if (unstuff_dots)
                dots = crlf & (guint32) _mm256_movemask_epi8 (
                  _mm256_cmpeq_epi8 (_mm256_loadu_si256 ((const __m256i *) (data + k + 2)), _mm256_set1_epi8 ('.')));
              if (dots == 0)
                {
                  x = _mm256_blendv_epi8 (x, backslash, is_cr);
                  x = _mm256_blendv_epi8 (x, _mm256_set1_epi8 ('n'), _mm256_cmpeq_epi8 (x, lf));
                  _mm256_storeu_si256 ((__m256i *) o, x);
                  k += 32;
                  o += 32;
                  continue;
                }
            }
        }
      mask = (guint32) __builtin_ctz (mask);
      k += mask;
      o += mask;
      e = display_run_escape (data, &k, len, unstuff_dots);
      if (e == 0)
        {
          *i = k;
          return o;
        }
      o[0] = '\\';
      o[1] = e;
      o += 2;
    }
  *i = k;
  return copy_display_json_run (o, data, i, len, unstuff_dots);
}
#endif

/*
 * pl_json_append_display_text:
 * Appends what pl_json_append_string (@out, pl_display_text_from_octets
 * (@data, @len, @unstuff_dots), -1) appends, octet for octet, in one pass
 * over the octets and without the text being made: the display text's
 * rules (CRLF and bare LF end lines, joined by '\n', the last dropped; a
 * NUL shown as U+2400, other control characters but TAB and octets that
 * are not UTF-8 as U+FFFD; with @unstuff_dots, a leading '.' doubled for
 * transparency, RFC 5321 4.5.2 and RFC 1939 3, shown once) with JSON's
 * escapes (RFC 8259 section 7) applied as it goes. Such a text holds no
 * control character but '\n' and TAB, so no "\u00XX" is ever written.
 */
void
pl_json_append_display_text (GString      *out,
                             const guint8 *data,
                             gsize         len,
                             gboolean      unstuff_dots)
{
  gboolean at_line_start = TRUE;
  gsize i = 0;
  char *o;
#if defined(HAVE_BASE64_SSSE3)
  gboolean avx2 = len >= 64 && __builtin_cpu_supports ("avx2");
#endif

  g_return_if_fail (out != NULL);
  g_return_if_fail (data != NULL || len == 0);

  /* Two characters an octet at most, but for the three-octet replacements, which reserve again. */
  o = reserve (out, 2 * len + 2 + RUN_SLACK);
  *o++ = '"';
  while (i < len)
    {
      guint8 c = data[i];

      if (at_line_start && unstuff_dots && c == '.' && i + 1 < len && data[i + 1] == '.')
        {
          i++;
          c = data[i];
        }
      at_line_start = FALSE;
      if (pl_display_plain[c])
        {
#if defined(HAVE_BASE64_SSSE3)
          if (avx2)
            o = copy_display_json_run_avx2 (o, data, &i, len, unstuff_dots);
          else
#endif
            o = copy_display_json_run (o, data, &i, len, unstuff_dots);
          /* The run stopped at an octet display_run_escape() did not take: a line end, a control, not ASCII. */
          if (i == len)
            break;
          c = data[i];
          if (pl_display_plain[c])
            continue;
        }
      if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
        {
          i += 2;
          if (i < len)
            {
              *o++ = '\\';
              *o++ = 'n';
            }
          at_line_start = TRUE;
          continue;
        }
      if (c == '\n')
        {
          i++;
          if (i < len)
            {
              *o++ = '\\';
              *o++ = 'n';
            }
          at_line_start = TRUE;
          continue;
        }
      if (c < 0x80)
        {
          /* NUL as U+2400 SYMBOL FOR NULL; every other control character (a lone CR too) and DEL as U+FFFD. */
          set_end (out, o);
          o = reserve (out, 3 + 2 * (len - i) + 1 + RUN_SLACK);
          memcpy (o, c == 0 ? "\xe2\x90\x80" : "\xef\xbf\xbd", 3);
          o += 3;
          i++;
          continue;
        }
      {
        /* A run of non-ASCII octets: the valid UTF-8 as it is, each other octet as U+FFFD. */
        const char *start = (const char *) data + i;
        gsize run = 0;
        const char *end;

        while (i + run < len && data[i + run] >= 0x80)
          run++;
        i += run;
        while (run > 0)
          {
            gsize good;

            if (g_utf8_validate_len (start, run, &end))
              end = start + run;
            good = (gsize) (end - start);
            memcpy (o, start, good);
            o += good;
            start += good;
            run -= good;
            if (run == 0)
              break;
            set_end (out, o);
            o = reserve (out, 3 + 2 * (len - i + run) + 1 + RUN_SLACK);
            memcpy (o, "\xef\xbf\xbd", 3);
            o += 3;
            start++;
            run--;
          }
      }
    }
  *o++ = '"';
  set_end (out, o);
}

/* ,"NAME":"VALUE" when there is a value; @name is a literal. */
#define append_field(out, name, value) append_field_len ((out), ",\"" name "\":", sizeof (",\"" name "\":") - 1, (value))

static inline void
append_field_len (GString    *out,
                  const char *key,
                  gsize       key_len,
                  const char *value)
{
  if (value == NULL)
    return;
  put_len (out, key, key_len);
  pl_json_append_string (out, value, -1);
}

void
pl_jsonl_append_session (GString         *out,
                         const PlSession *session)
{
  const char *protocol = pl_protocol_to_string (session->protocol);

  put (out, "{\"type\":\"session\",\"session\":");
  put_uint (out, session->id);
  put (out, ",\"protocol\":\"");
  put_len (out, protocol, strlen (protocol));
  put (out, "\"");
  append_field (out, "client", session->client);
  append_field (out, "server", session->server);
  if (session->hop != PL_HOP_UNKNOWN)
    append_field (out, "hop", pl_hop_to_string (session->hop));
  put (out, ",\"t\":");
  append_time (out, session->open_time);
  put (out, "}\n");
}

/* No text is made from the octets: the event's own is written. */
#define TEXT_AS_IS (-1)

/* pl_jsonl_append_event(), its "text" the event's own or (@text_from_octets 0 or 1: unstuffed) made from its octets. */
static void
append_event (GString       *out,
              const PlEvent *event,
              int            text_from_octets)
{
  const char *kind;
  char *o;

  if (event->kind == PL_EVENT_NOTE)
    {
      put (out, "{\"type\":\"note\",\"session\":");
      put_uint (out, event->session);
      put (out, ",\"t\":");
      append_time (out, event->time);
      /* A note with a verb says what it is about for a machine too ("MAILBOX", "DNS"). */
      append_field (out, "verb", event->verb);
      append_field (out, "args", event->args);
      append_field (out, "text", event->text);
      put (out, "}\n");
      return;
    }

  kind = pl_event_kind_to_string (event->kind);
  put (out, "{\"type\":\"event\",\"session\":");
  put_uint (out, event->session);
  put (out, ",\"t\":");
  append_time (out, event->time);
  put (out, ",\"dir\":\"");
  o = reserve (out, 1);
  *o++ = (char) event->dir;
  set_end (out, o);
  put (out, "\",\"kind\":\"");
  put_len (out, kind, strlen (kind));
  put (out, "\"");
  append_field (out, "tag", event->tag);
  append_field (out, "verb", event->verb);
  append_field (out, "args", event->args);
  append_field (out, "status", event->status);
  if (text_from_octets != TEXT_AS_IS)
    {
      gsize len = 0;
      const guint8 *data = pl_event_get_data (event, &len);

      put (out, ",\"text\":");
      pl_json_append_display_text (out, data, len, text_from_octets != 0);
    }
  else
    append_field (out, "text", event->text);
  if (event->octets != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (event->octets, &len);

      put (out, ",\"b64\":\"");
      o = reserve (out, (len + 2) / 3 * 4 + 3);
      o += base64_encode (data, len, o);
      memcpy (o, "\"}\n", 3);
      set_end (out, o + 3);
      return;
    }
  put (out, "}\n");
}

void
pl_jsonl_append_event (GString       *out,
                       const PlEvent *event)
{
  append_event (out, event, TEXT_AS_IS);
}

/*
 * pl_jsonl_append_event_text_from_octets:
 * As pl_jsonl_append_event(), but its "text" is the display text of its
 * octets (pl_display_text_from_octets(), dots unstuffed with
 * @unstuff_dots), whatever event->text holds: for an event whose text was
 * left to make, written straight from the octets, never made.
 */
void
pl_jsonl_append_event_text_from_octets (GString       *out,
                                        const PlEvent *event,
                                        gboolean       unstuff_dots)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (event != NULL);

  if (event->kind == PL_EVENT_NOTE)
    {
      append_event (out, event, TEXT_AS_IS);
      return;
    }
  append_event (out, event, unstuff_dots ? 1 : 0);
}

void
pl_jsonl_append_end (GString         *out,
                     const PlSession *session)
{
  put (out, "{\"type\":\"end\",\"session\":");
  put_uint (out, session->id);
  put (out, ",\"t\":");
  append_time (out, session->close_time >= 0 ? session->close_time : session->open_time);
  put (out, "}\n");
}

/* What "%9.3f " gives, without printf when round_scaled() can say it. */
static void
append_relative_time (GString *out,
                      double   t)
{
  gboolean negative = signbit (t) != 0;
  guint64 ms;
  char digits[32];
  gsize n = 0;
  char *o;

  if (!isfinite (t) || !round_scaled (fabs (t), 1000, &ms))
    {
      g_string_append_printf (out, "%9.3f ", t);
      return;
    }
  /* Right to left: three decimals, the point, at least one digit, the sign. */
  for (int k = 0; k < 3; k++)
    {
      digits[n++] = (char) ('0' + ms % 10);
      ms /= 10;
    }
  digits[n++] = '.';
  do
    {
      digits[n++] = (char) ('0' + ms % 10);
      ms /= 10;
    }
  while (ms > 0);
  if (negative)
    digits[n++] = '-';
  o = reserve (out, MAX (n, 9) + 1);
  for (gsize pad = n; pad < 9; pad++)
    *o++ = ' ';
  while (n > 0)
    *o++ = digits[--n];
  *o++ = ' ';
  set_end (out, o);
}

/*
 * Copies @p up to its next LF (or @end) to @o and returns where the LF is:
 * a transcript's lines are short, so the search and the copy are one loop,
 * sixteen octets a turn (SSE2), each stored before it is known how many of
 * them the line has: @o needs RUN_SLACK octets of room beyond the line.
 */
static inline const char *
copy_line (char       *o,
           const char *p,
           const char *end)
{
#if defined(__SSE2__)
  const __m128i lf = _mm_set1_epi8 ('\n');

  while (end - p >= 16)
    {
      __m128i x = _mm_loadu_si128 ((const __m128i *) p);
      unsigned mask = (unsigned) _mm_movemask_epi8 (_mm_cmpeq_epi8 (x, lf));

      _mm_storeu_si128 ((__m128i *) o, x);
      if (mask != 0)
        return p + __builtin_ctz (mask);
      p += 16;
      o += 16;
    }
#endif
  {
    const char *nl = memchr (p, '\n', (gsize) (end - p));

    if (nl == NULL)
      nl = end;
    memcpy (o, p, (gsize) (nl - p));
    return nl;
  }
}

void
pl_text_append_session (GString         *out,
                        const PlSession *session,
                        gboolean         closing)
{
  if (closing)
    g_string_append_printf (out, "* session %u closed\n", session->id);
  else
    g_string_append_printf (out, "* session %u: %s, client %s, server %s%s%s\n",
                            session->id, pl_protocol_to_string (session->protocol),
                            session->client, session->server,
                            session->hop != PL_HOP_UNKNOWN ? ", " : "",
                            session->hop != PL_HOP_UNKNOWN ? pl_hop_to_string (session->hop) : "");
}

void
pl_text_append_event (GString         *out,
                      const PlSession *session,
                      const PlEvent   *event,
                      double           time_origin,
                      PlWriterFlags    flags)
{
  gsize line_start = out->len;
  gsize indent;
  const char *tag;
  const char *p;
  const char *end;

  append_relative_time (out, event->time - time_origin);
  if (flags & PL_WRITER_FLAGS_SESSION_IDS)
    {
      /* "#%-3u " */
      gsize at = out->len;

      put (out, "#");
      put_uint (out, event->session);
      while (out->len - at < 4)
        put (out, " ");
      put (out, " ");
    }

  switch (event->dir)
    {
    case PL_DIR_CLIENT: tag = "C: "; break;
    case PL_DIR_SERVER: tag = "S: "; break;
    case PL_DIR_NONE:
    default:            tag = "-- "; break;
    }
  g_string_append (out, tag);
  indent = out->len - line_start;

  end = event->text + strlen (event->text);
  for (p = event->text; ; )
    {
      /* Room for the rest as one line, its LF and the next line's indent, and the turn's slack. */
      char *o = reserve (out, (gsize) (end - p) + 1 + indent + RUN_SLACK);
      const char *nl = copy_line (o, p, end);
      gsize n = (gsize) (nl - p);

      o[n] = '\n';
      if (nl == end)
        {
          set_end (out, o + n + 1);
          break;
        }
      /* Further lines of the unit stand under the first. */
      memset (o + n + 1, ' ', indent);
      set_end (out, o + n + 1 + indent);
      p = nl + 1;
    }

  if ((flags & PL_WRITER_FLAGS_EXPLAIN) && session != NULL)
    {
      const PlExplanation *ex = pl_explain_event (session->protocol, event);
      if (ex != NULL)
        {
          for (gsize i = 0; i < indent; i++)
            g_string_append_c (out, ' ');
          g_string_append_printf (out, "  (%s; %s)\n", ex->summary, ex->reference);
        }
    }
}

struct _PlWriter
{
  FILE           *stream;
  PlWriterFormat  format;
  PlWriterFlags   flags;
  PlTrace        *trace;
  gulong          listener_id;
  gboolean        have_origin;
  double          origin;
  GString        *buffer;
};

static void
writer_flush (PlWriter *self)
{
  if (self->buffer->len > 0)
    {
      fwrite (self->buffer->str, 1, self->buffer->len, self->stream);
      fflush (self->stream);
      g_string_truncate (self->buffer, 0);
    }
}

static void
set_origin (PlWriter *self,
            double    t)
{
  if (!self->have_origin)
    {
      self->have_origin = TRUE;
      self->origin = (self->flags & PL_WRITER_FLAGS_ABSOLUTE_TIME) ? 0 : t;
    }
}

static void
on_session_opened (PlSession *session,
                   gpointer   user_data)
{
  PlWriter *self = user_data;

  set_origin (self, session->open_time);
  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_session (self->buffer, session);
  else if (self->flags & PL_WRITER_FLAGS_SESSION_LINES)
    pl_text_append_session (self->buffer, session, FALSE);
  writer_flush (self);
}

static void
on_event_added (PlSession *session,
                PlEvent   *event,
                gpointer   user_data)
{
  PlWriter *self = user_data;

  set_origin (self, event->time);
  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_event (self->buffer, event);
  else
    pl_text_append_event (self->buffer, session, event, self->origin, self->flags);
  writer_flush (self);
}

static void
on_session_closed (PlSession *session,
                   gpointer   user_data)
{
  PlWriter *self = user_data;

  if (self->format == PL_WRITER_JSONL)
    pl_jsonl_append_end (self->buffer, session);
  else if (self->flags & PL_WRITER_FLAGS_SESSION_LINES)
    pl_text_append_session (self->buffer, session, TRUE);
  writer_flush (self);
}

static const PlTraceListener writer_listener = {
  on_session_opened,
  on_event_added,
  on_session_closed,
};

PlWriter *
pl_writer_new (FILE           *stream,
               PlWriterFormat  format,
               PlWriterFlags   flags)
{
  PlWriter *self;

  g_return_val_if_fail (stream != NULL, NULL);

  self = g_new0 (PlWriter, 1);
  self->stream = stream;
  self->format = format;
  self->flags = flags;
  self->buffer = g_string_sized_new (4096);
  return self;
}

void
pl_writer_attach (PlWriter *self,
                  PlTrace  *trace)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (PL_IS_TRACE (trace));
  g_return_if_fail (self->trace == NULL);

  self->trace = g_object_ref (trace);
  self->listener_id = pl_trace_add_listener (trace, &writer_listener, self);
}

void
pl_writer_detach (PlWriter *self)
{
  g_return_if_fail (self != NULL);

  if (self->trace == NULL)
    return;
  pl_trace_remove_listener (self->trace, self->listener_id);
  g_clear_object (&self->trace);
}

void
pl_writer_free (PlWriter *self)
{
  if (self == NULL)
    return;
  pl_writer_detach (self);
  writer_flush (self);
  g_string_free (self->buffer, TRUE);
  g_free (self);
}
