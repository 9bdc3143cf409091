/* encoding.h: base64, hex and percent-encoding, into a builder or an arena.
 * Decoders are strict and return false on malformed input. */
#ifndef MOAT_ENCODING_H
#define MOAT_ENCODING_H

#include "core/buf.h"

void moat_base64_encode(struct moat_buf *out, struct moat_slice in);
/* Standard alphabet with '=' padding; whitespace is not accepted. */
bool moat_base64_decode(struct moat_arena *a, struct moat_slice in, struct moat_slice *out);
bool moat_base64url_decode(struct moat_arena *a, struct moat_slice in, struct moat_slice *out);
void moat_base64url_encode(struct moat_buf *out, struct moat_slice in); /* no padding */
bool moat_hex_decode(struct moat_arena *a, struct moat_slice in, struct moat_slice *out);

/* RFC 3986 percent-decoding. plus_is_space: form encoding. False on a bad escape. */
bool moat_url_decode(struct moat_arena *a, struct moat_slice in, bool plus_is_space,
                     struct moat_slice *out);
/* Percent-encodes every byte but A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash). */
void moat_url_encode(struct moat_buf *out, struct moat_slice in, bool keep_slash);

/* True when s is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool moat_utf8_valid(struct moat_slice s);
/* s itself when it is valid UTF-8 without NUL; otherwise a copy in the arena
 * with each invalid byte and each NUL replaced by U+FFFD. */
struct moat_slice moat_utf8_sanitize(struct moat_arena *a, struct moat_slice s);
/* Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are invalid. */
size_t moat_utf8_seq_len(struct moat_slice s, size_t i);
/* Number of code points in valid UTF-8 (what AWS length constraints count). */
size_t moat_utf8_count(struct moat_slice s);

#endif
