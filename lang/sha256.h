/* sha256.h - SHA-256 (FIPS 180-4), for the model hash an executable's --version prints. */
#ifndef NNC_SHA256_H
#define NNC_SHA256_H

#include <stddef.h>

/* The digest of data[0, n) as 64 lowercase hex digits and a NUL, into hex[65]. */
void sha256_hex(const void *data, size_t n, char hex[65]);

#endif
