/*
 * sim/version.h: the program version, "<project version>-<git describe>"
 * ("-dirty" with uncommitted changes), generated at every build
 * (sim/version.cmake), so that a rebuilt binary never reports an old one.
 */
#ifndef SNN_VERSION_H
#define SNN_VERSION_H

extern const char snn_version[];

#endif
