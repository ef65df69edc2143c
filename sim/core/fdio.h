/* Whole writes to a descriptor. */
#ifndef FLEETSIM_FDIO_H
#define FLEETSIM_FDIO_H

#include <stddef.h>

/* Write all n bytes (a short write goes on, EINTR is retried): 0, or -1 with
 * errno (a write of 0 bytes counts as an error: EIO). */
int fd_write_all(int fd, const void *p, size_t n);

#endif
