/* The version `fleetsim --version` prints: this is the only place it is written. */
#ifndef FLEETSIM_VERSION_H
#define FLEETSIM_VERSION_H

#define FLEETSIM_VERSION "0.1.0"

#endif
