/* Reading a whole input file (a scenario, a vectors file, a snapshot) into memory,
 * with a size limit, for the parsers of the harness.  One reader, so every caller
 * gets the same limits, the same refusal of directories and the same errors. */
#ifndef FLEETSIM_TEXTFILE_H
#define FLEETSIM_TEXTFILE_H

#include <stddef.h>

/* Read path into a NUL-terminated buffer (*out, freed by the caller; *len bytes
 * before the NUL).
 * @return 0, or an errno: what fopen or fread said, EISDIR for a directory, EFBIG
 *         when the file holds more than max bytes, ENOMEM. */
int textfile_read(const char *path, size_t max, char **out, size_t *len);

#endif
