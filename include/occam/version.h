/* occam/version.h */
#ifndef OCCAM_VERSION_H
#define OCCAM_VERSION_H
#define OCCAM_VERSION "0.1.0"
#endif
